/**
 * The set-up the native-client suites share (issue 17): the local broker behind the edge
 * stand-in, a user who is both a broker user and a Unix account with the same password, our own
 * sshd for that user with x2goserver behind it, nodes whose agents serve `ssh` through their
 * gateways (only they know the sshd port), an X2Go profile offering `ssh`, an Xvfb for the
 * clients, and the `edge-desktop` helper signed in. Everything it starts is stopped by the suite.
 */
import { randomBytes } from "node:crypto";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import type { AgentHandle } from "../harness/agents.ts";
import { type LocalBroker, startBroker } from "../harness/broker.ts";
import { adminCall, callOk, listServers, signIn } from "../harness/client.ts";
import { helperLogin } from "../harness/edge-desktop.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";
import { type EdgeStandIn, startEdgeStandIn } from "./edge-stand-in.ts";
import { ensurePasswordUser, type Sshd, startSshd, startX2goNode, startXvfb, terminateX2goSessions } from "./native-node.ts";
import { requireRoot } from "./node-accounts.ts";
import type { E2eSuite } from "./suite.ts";

export const PROFILE = "x2go-xterm";

export interface NativeCluster {
  broker: LocalBroker;
  edge: EdgeStandIn;
  sshd: Sshd;
  /** By hostname. */
  nodes: Map<string, AgentHandle>;
  login: string;
  password: string;
  display: string;
  /** The helper's config directory, signed in as `login` through the edge. */
  configDir: string;
  /** The user's sessions as the broker lists them. */
  brokerSessions(): Promise<Array<{ id: string; state: string; hostname: string; serverId: string }>>;
}

export interface ClusterOptions {
  login: string;
  /** The first node's agent reads the machine's X2Go sessions; the others report none (same sshd, one session database). */
  hostnames: string[];
  /** Further X2Go client keys of the profile. */
  x2goOptions?: Record<string, unknown>;
  /** sshd's LogLevel (VERBOSE: one line per connection; DEBUG1 also names the client's SSH software). */
  sshdLogLevel?: string;
}

export async function startNativeCluster(suite: E2eSuite, options: ClusterOptions): Promise<NativeCluster> {
  requireRoot();
  const { login } = options;
  const password = `Nat-${randomBytes(6).toString("hex")}-1`;
  await ensurePasswordUser(login, password);
  await terminateX2goSessions(login);
  suite.defer(() => terminateX2goSessions(login));
  const broker = await startBroker({ port: await freePort(), logFile: join(suite.dir, "broker.log") });
  suite.defer(() => broker.stop());
  const edge = await startEdgeStandIn(broker.url, join(suite.dir, "edge.log"));
  suite.defer(() => edge.stop());
  await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: 1000 });
  // sshd reads the user's authorized keys as the user: the suite's (0700) directory must let them through.
  chmodSync(suite.dir, 0o711);
  const sshd = await startSshd(join(suite.dir, "sshd"), [login], options.sshdLogLevel);
  suite.defer(() => sshd.proc.stop());
  const nodes = new Map<string, AgentHandle>();
  for (const [index, hostname] of options.hostnames.entries()) {
    const agent = await startX2goNode(broker, { hostname, dir: join(suite.dir, hostname), sshdPort: sshd.port, ...(index === 0 ? {} : { sessionCommand: "true" }) });
    suite.defer(() => agent.stop());
    nodes.set(hostname, agent);
  }
  await waitFor(async () => (await listServers(broker)).filter((server) => server.status === "up").length === nodes.size, 30_000, "the nodes up");
  await adminCall(broker, "/v1/admin/users", "POST", { login, password });
  await adminCall(broker, "/v1/admin/profiles", "POST", { id: PROFILE, name: "X2Go xterm", pool: "default", mode: "relay", service: "ssh", command: "xterm", maxSessionsPerUser: 10, x2goOptions: options.x2goOptions ?? {} });
  const xvfb = await startXvfb(join(suite.dir, "xvfb.log"));
  suite.defer(() => xvfb.proc.stop());
  const configDir = join(suite.dir, "edge-desktop");
  await helperLogin(edge.url, login, password, configDir);
  return {
    broker,
    edge,
    sshd,
    nodes,
    login,
    password,
    display: xvfb.display,
    configDir,
    async brokerSessions() {
      const token = await signIn({ url: edge.url }, login, password);
      return (await callOk<{ sessions: Array<{ id: string; state: string; hostname: string; serverId: string }> }>(edge.url, "/v1/sessions", { token })).sessions;
    },
  };
}
