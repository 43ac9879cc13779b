/**
 * `edge-desktop`: native desktop clients (OpenSSH, X2Go's x2goclient and pyhoca-cli, any TCP
 * client) through the broker's relay to nodes that are never exposed. The composition root: the
 * only module that touches `process` (argv, environment, stdio, signals, exit code).
 */
import { userInfo } from "node:os";
import { parseCommandLine, type CommandLine, USAGE, UsageError } from "./cli.ts";
import { type CredentialStore, credentialStore, defaultConfigDir, normalizeBrokerUrl, StoreError } from "./credential-store.ts";
import { EdgeError } from "./edge-http.ts";
import { connectStdio, type ForwardDeps, forwardPort } from "./forward.ts";
import { formatAddress } from "./local-listener.ts";
import { readLine, readPassword, runCommand } from "./prompt.ts";
import { MAX_SIGN_IN_AGE_DAYS, signInWithOidc, signInWithPassword } from "./session.ts";
import { serveX2go } from "./x2go-endpoint.ts";

const log = (line: string) => process.stderr.write(`${line}\n`);

async function brokerOf(line: CommandLine, store: CredentialStore): Promise<string> {
  const named = line.broker ?? process.env["EDGE_DESKTOP_BROKER"];
  if (named) return normalizeBrokerUrl(named);
  const known = await store.brokers();
  if (known.length === 1 && known[0]) return known[0];
  throw new UsageError(known.length === 0 ? "name the broker with --broker URL" : `signed in to several brokers (${known.join(", ")}): name one with --broker URL`);
}

/** Resolves once SIGINT or SIGTERM arrives. */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
}

async function login(line: Extract<CommandLine, { command: "login" }>, broker: string, deps: ForwardDeps): Promise<number> {
  if (line.oidcCommand) {
    const signIn = await signInWithOidc(broker, line.oidcCommand, deps);
    log(`signed in to ${broker}${signIn.login ? ` as ${signIn.login}` : ""} with the identity provider's tokens`);
    return 0;
  }
  const user = line.user ?? userInfo().username;
  let password: string;
  if (line.passwordStdin) password = await readLine(process.stdin);
  else if (process.stdin.isTTY) password = await readPassword(`password for ${user} at ${broker}: `, process.stdin, process.stderr);
  else throw new UsageError("no terminal to ask the password on: pass it on stdin with --password-stdin");
  const signIn = await signInWithPassword(broker, user, password, deps);
  log(`signed in to ${broker} as ${signIn.login}; the sign-in is refreshed for up to ${MAX_SIGN_IN_AGE_DAYS} days (kept in ${deps.store.path})`);
  return 0;
}

async function status(broker: string, store: CredentialStore): Promise<number> {
  const signIn = await store.get(broker);
  if (!signIn) {
    log(`not signed in to ${broker}`);
    return 1;
  }
  const until = signIn.expiresAt ? `, token valid until ${new Date(signIn.expiresAt).toISOString()}` : "";
  process.stdout.write(`${broker}: ${signIn.login ?? "(unknown login)"} (${signIn.source}${until})\n`);
  return signIn.source === "password" && signIn.expiresAt <= Date.now() ? 1 : 0;
}

async function run(line: CommandLine): Promise<number> {
  const store = credentialStore(line.configDir ?? defaultConfigDir(process.env));
  const deps: ForwardDeps = { store, sourceAddress: line.sourceAddress, now: Date.now, runCommand, warn: log, log };
  const broker = await brokerOf(line, store);
  switch (line.command) {
    case "login":
      return login(line, broker, deps);
    case "logout":
      log((await store.remove(broker)) ? `signed out of ${broker}` : `not signed in to ${broker}`);
      return 0;
    case "status":
      return status(broker, store);
    case "connect":
      return connectStdio({ broker, profileId: line.profileId, server: line.server }, deps, { input: process.stdin, output: process.stdout });
    case "forward": {
      const listener = await forwardPort(line.listen, { broker, profileId: line.profileId, server: line.server }, deps);
      log(`forwarding ${formatAddress(listener.address)} to ${line.server} (profile ${line.profileId}) through ${broker}; Ctrl-C to stop`);
      await stopSignal();
      await listener.close();
      return 0;
    }
    case "x2go": {
      const endpoint = await serveX2go(line.listen, broker, deps);
      const base = `http://${formatAddress(endpoint.address)}`;
      log(`X2Go broker for ${broker} on ${base}/plain/ (x2goclient) and ${base}/json/ (pyhoca-cli); Ctrl-C to stop`);
      await stopSignal();
      await endpoint.close();
      return 0;
    }
  }
}

async function main(): Promise<number> {
  try {
    return await run(parseCommandLine(process.argv.slice(2)));
  } catch (error) {
    if (error instanceof UsageError) {
      if (error.message === "") {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      log(`edge-desktop: ${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof EdgeError || error instanceof StoreError) {
      log(`edge-desktop: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main();
