/**
 * A launching node for the launcher suites, in this test process: the real node gateway (on an
 * ephemeral loopback port, assertions as the broker signs them) and the real session manager on
 * agent/launchers, with launcher processes spawned as the suite chooses (as `edge-agent`).
 */
import { appendFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createEndpointRegistry, staticEndpoints } from "../../agent/gateway/endpoint-resolver.ts";
import { type RunningGateway, startGateway } from "../../agent/gateway/gateway.ts";
import { launchersConfigSchema, type LaunchersConfig } from "../../agent/launch/config.ts";
import { nodeLauncherFiles, readProcessIdentity, signalProcess } from "../../agent/launch/node-launch-deps.ts";
import type { SpawnLauncher } from "../../agent/launch/run-launcher.ts";
import { type SessionEvent, type SessionManager, startSessionManager } from "../../agent/launch/session-manager.ts";
import { SESSIONS_FILE, type LaunchedSession } from "../../agent/launch/session-store.ts";
import { nodeFileAccess } from "../../agent/node-deps.ts";
import { ASSERTION_KEY, SERVER_ID } from "../node/agent/gateway/helpers.ts";
import { LAUNCHERS_DIR } from "./node-accounts.ts";

export interface LaunchNode {
  gateway: RunningGateway;
  manager: SessionManager;
  events: SessionEvent[];
  /** ws://127.0.0.1:PORT/ of the gateway. */
  url: string;
  /** What the manager keeps for `sessionId` (pid, endpoint, handle), as written to its state file. */
  record(sessionId: string): Promise<LaunchedSession>;
  /** Stops every session still launched, then the manager and the gateway. */
  stop(): Promise<void>;
}

export async function startLaunchNode(options: { stateDir: string; logFile: string; spawn: SpawnLauncher; config?: Partial<LaunchersConfig> }): Promise<LaunchNode> {
  const log = (line: string) => appendFileSync(options.logFile, `${new Date().toISOString()} ${line}\n`);
  const timers = { setTimer: (callback: () => void, delayMs: number) => setTimeout(callback, delayMs), clearTimer: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>) };
  const endpoints = createEndpointRegistry(staticEndpoints({}));
  const gateway = await startGateway(
    { listen: { host: "127.0.0.1", port: 0 }, maxConnections: 50, maxMessageBytes: 1024 * 1024, connectTimeoutMs: 5_000, serverId: SERVER_ID, assertionKey: ASSERTION_KEY, resolver: endpoints },
    { ...timers, now: () => Date.now(), log },
  );
  const events: SessionEvent[] = [];
  const manager = await startSessionManager(
    {
      config: { ...launchersConfigSchema.parse({ dir: LAUNCHERS_DIR }), ...options.config },
      stateDir: options.stateDir,
      node: { serverId: SERVER_ID, hostname: "e2e-node" },
      gateway: { endpoints, connections: gateway.connections },
      onEvent: (event) => {
        log(`event ${JSON.stringify(event)}`);
        events.push(event);
      },
    },
    {
      ...timers,
      spawn: options.spawn,
      signal: signalProcess,
      files: nodeLauncherFiles,
      fs: nodeFileAccess,
      processIdentity: (pid) => readProcessIdentity(pid),
      selfPids: [process.pid],
      nodePath: process.execPath,
      now: () => Date.now(),
      log,
    },
  );
  return {
    gateway,
    manager,
    events,
    url: `ws://127.0.0.1:${gateway.address.port}/`,
    async record(sessionId) {
      const file = JSON.parse(await readFile(join(options.stateDir, SESSIONS_FILE), "utf8")) as { sessions: LaunchedSession[] };
      const found = file.sessions.find((session) => session.sessionId === sessionId);
      if (!found) throw new Error(`no launched session ${sessionId} in the state file`);
      return found;
    },
    async stop() {
      for (const session of manager.sessions()) {
        const stopped = await manager.stop(session.id, "the test suite ends");
        if (!stopped.ok) log(`could not stop ${session.id}: ${stopped.error.message}`);
      }
      await manager.close();
      await gateway.stop();
    },
  };
}
