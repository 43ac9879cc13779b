/**
 * The local broker with real agents, for the e2e suites: built on the test harness
 * (`startBroker`, `enrolAgent`), plus a raw WebSocket upgrade probe that reports the HTTP status
 * of a refused upgrade. Loopback only.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, startBroker } from "../harness/broker.ts";
import { adminCall, listServers } from "../harness/client.ts";
import { freePort } from "../harness/ports.ts";
import { waitFor } from "../harness/wait.ts";

export interface ClusterNode {
  hostname: string;
  /** The node's desktop endpoint, e.g. `${desktop.websockifyUrl}/websockify`. */
  originUrl: string;
  staticData?: Record<string, unknown>;
  /** Sessions the node reports (the agent's `command` session source). */
  sessions?: unknown[];
  /** The agent config's `gateway` section: the node gateway is then the node's origin. */
  gateway?: Record<string, unknown>;
}

export interface E2eCluster {
  broker: LocalBroker;
  /** The broker's SIGNING_KEY (for tests that must forge or inspect broker-signed tokens). */
  signingKey: string;
  agents: AgentHandle[];
  /** serverId → the node it was enrolled for. */
  nodeOf(serverId: string): ClusterNode & { agent: AgentHandle };
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Logs (`broker.log`, `agent-<hostname>.log`) and state go here. */
  dir: string;
  nodes: ClusterNode[];
  /** The pool's heartbeat interval (short, so agents are up quickly). */
  intervalMs?: number;
}

/** Starts the broker, enrols and starts one agent per node, and waits until every server is up. */
export async function startCluster(options: ClusterOptions): Promise<E2eCluster> {
  const signingKey = `e2e-signing-${randomBytes(24).toString("hex")}`;
  const broker = await startBroker({
    port: await freePort(),
    persistTo: join(options.dir, "broker-state"),
    adminToken: `e2e-admin-${randomBytes(16).toString("hex")}`,
    signingKey,
    logFile: join(options.dir, "broker.log"),
  });
  const agents: AgentHandle[] = [];
  const nodes = new Map<string, ClusterNode & { agent: AgentHandle }>();
  const stop = async () => {
    await Promise.allSettled(agents.map((agent) => agent.stop("SIGTERM")));
    await broker.stop();
  };
  try {
    await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: options.intervalMs ?? 1000 });
    for (const node of options.nodes) {
      const agent = await enrolAgent(broker, {
        hostname: node.hostname,
        dir: join(options.dir, `agent-${node.hostname}`),
        staticData: node.staticData ?? {},
        originUrl: node.originUrl,
        logFile: join(options.dir, `agent-${node.hostname}.log`),
        ...(node.sessions ? { sessions: node.sessions } : {}),
        ...(node.gateway ? { gateway: node.gateway } : {}),
      });
      agents.push(agent);
      nodes.set(agent.serverId, { ...node, agent });
      agent.start();
    }
    await waitFor(
      async () => {
        const servers = await listServers(broker);
        return agents.every((agent) => servers.find((server) => server.serverId === agent.serverId)?.status === "up");
      },
      30_000,
      `${agents.length} agents up`,
      250,
    );
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return {
    broker,
    signingKey,
    agents,
    nodeOf(serverId) {
      const node = nodes.get(serverId);
      if (!node) throw new Error(`no enrolled node has serverId ${serverId} (known: ${[...nodes.keys()].join(", ")})`);
      return node;
    },
    stop,
  };
}

export interface UpgradeOutcome {
  /** 101 when the upgrade was accepted, else the refusal's HTTP status. */
  status: number;
  upgraded: boolean;
  /** The refusal's body (the broker's error envelope), "" when upgraded. */
  body: string;
  /** The subprotocol the server chose, when upgraded. */
  protocol: string | null;
}

/**
 * Sends a WebSocket upgrade request for `wsUrl` and reports what came back, without speaking
 * WebSocket afterwards: a 101 (socket closed at once) or the HTTP status and body of a refusal.
 */
export function upgradeStatus(wsUrl: string, protocols: string[] = ["binary"], timeoutMs = 10_000): Promise<UpgradeOutcome> {
  const url = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      timeout: timeoutMs,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        ...(protocols.length > 0 ? { "Sec-WebSocket-Protocol": protocols.join(", ") } : {}),
      },
    });
    outgoing.once("upgrade", (response, socket) => {
      socket.destroy();
      const protocol = response.headers["sec-websocket-protocol"];
      resolve({ status: response.statusCode ?? 101, upgraded: true, body: "", protocol: typeof protocol === "string" ? protocol : null });
    });
    outgoing.once("response", (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.once("end", () => resolve({ status: response.statusCode ?? 0, upgraded: false, body, protocol: null }));
      response.once("error", reject);
    });
    outgoing.once("timeout", () => outgoing.destroy(new Error(`no answer to the upgrade of ${wsUrl} within ${timeoutMs} ms`)));
    outgoing.once("error", reject);
    outgoing.end();
  });
}
