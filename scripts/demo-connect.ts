/**
 * `npm run demo:connect -- --broker URL --login USER --password PASSWORD [--profile demo]`: what
 * a desktop client does against `npm start`'s broker, in one go: sign in, start (or resume) a
 * session of the profile, open the relay WebSocket with the fresh single-use ticket, and print
 * what the desktop behind it says first (the demo desktops greet, then echo). Exits 1 on any
 * refusal or when nothing arrives within 10 s.
 */
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { signIn, startSession, withTicket } from "../test/harness/client.ts";

const GREETING_TIMEOUT_MS = 10_000;

function firstMessage(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => finish(new Error(`nothing from the desktop within ${GREETING_TIMEOUT_MS / 1000} s`)), GREETING_TIMEOUT_MS);
    function finish(error: Error | null, text = "") {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(text);
    }
    socket.once("message", (data) => finish(null, String(data)));
    socket.once("unexpected-response", (_request, response) => finish(new Error(`the relay refused the upgrade: HTTP ${response.statusCode}`)));
    socket.once("error", (error) => finish(error));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      broker: { type: "string", default: "http://127.0.0.1:8787" },
      login: { type: "string" },
      password: { type: "string" },
      profile: { type: "string", default: "demo" },
    },
  });
  if (!values.login || !values.password) throw new Error("usage: npm run demo:connect -- --broker URL --login USER --password PASSWORD [--profile demo]");
  const broker = { url: values.broker.replace(/\/$/, "") };
  const token = await signIn(broker, values.login, values.password);
  console.log(`signed in as ${values.login}`);
  const answer = await startSession(broker, token, values.profile);
  console.log(`session ${answer.sessionId} on ${answer.serverId}; relay ${answer.relay.url} (ticket valid until ${new Date(answer.relay.expiresAt).toISOString()})`);
  console.log(`the desktop says: ${await firstMessage(withTicket(answer.relay.url, answer.relay.ticket))}`);
}

main().catch((error: unknown) => {
  console.error(`demo:connect: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
