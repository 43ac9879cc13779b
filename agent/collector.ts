/**
 * Gathers one heartbeat body: /proc metrics, sessions, static data and a few agent metrics.
 * If the session source fails, the last good session list is sent with `sessionsStale: true`:
 * an empty list would make a busy node look free to the balancer.
 */
import { encodeHeartbeatBody, type EncodedBody, type Metrics } from "./body.ts";
import { readProcMetrics } from "./collect/proc.ts";
import type { NodeSession } from "../src/protocol.ts";
import type { AgentConfig } from "./config.ts";
import { type AgentDeps, errorMessage } from "./deps.ts";
import type { CommandSessions } from "./sessions/command.ts";
import { createSessionSource } from "./sessions/source.ts";
import { createStaticDataReader } from "./static-data.ts";

export type CollectBody = (signal: AbortSignal) => Promise<EncodedBody>;

export type CollectorConfig = Pick<AgentConfig, "procRoot" | "sessionSource" | "staticDataFile" | "requestTimeoutMs">;

/**
 * `launched` lists the sessions this agent's launchers started (reported with the session
 * source's, which wins on an id both report).
 */
export function createCollector(config: CollectorConfig, deps: Pick<AgentDeps, "exec" | "fs" | "now" | "log">, launched: () => NodeSession[] = () => []): CollectBody {
  const readStaticData = createStaticDataReader(config.staticDataFile, deps);
  const listSessions = createSessionSource(config.sessionSource, deps, config.requestTimeoutMs);
  let lastGood: CommandSessions = { sessions: [], parseErrors: 0 };
  let sourceProblem: string | null = null;
  let reportedParseErrors = 0;

  const collectSessions = async (signal: AbortSignal): Promise<{ result: CommandSessions; problem: string | null }> => {
    try {
      const result = await listSessions(signal);
      if (sourceProblem !== null) deps.log("session source works again");
      if (result.parseErrors !== reportedParseErrors && result.parseErrors > 0) {
        deps.log(`session source: skipped malformed entries: ${result.parseErrors}`);
      }
      reportedParseErrors = result.parseErrors;
      sourceProblem = null;
      lastGood = result;
      return { result, problem: null };
    } catch (error) {
      const problem = errorMessage(error).slice(0, 256);
      if (problem !== sourceProblem) deps.log(`session source failed: ${problem}; reporting the last good sessions`);
      sourceProblem = problem;
      return { result: lastGood, problem };
    }
  };

  return async (signal) => {
    const startedAt = deps.now();
    const [proc, staticData, sessions] = await Promise.all([
      readProcMetrics(config.procRoot, deps.fs.readText),
      readStaticData(),
      collectSessions(signal),
    ]);
    const metrics: Metrics = {
      collectMs: Math.max(0, deps.now() - startedAt),
      sessionParseErrors: sessions.result.parseErrors,
      ...(sessions.problem !== null ? { sessionsStale: true, sessionSourceError: sessions.problem } : {}),
    };
    const reported = sessions.result.sessions;
    const reportedIds = new Set(reported.map((session) => session.id));
    return encodeHeartbeatBody({
      proc,
      sessions: [...reported, ...launched().filter((session) => !reportedIds.has(session.id))],
      ...(sessions.result.users ? { users: sessions.result.users } : {}),
      staticData,
      metrics,
    });
  };
}
