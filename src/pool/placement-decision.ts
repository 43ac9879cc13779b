/**
 * One placement decision, without storage: runs the chain over the candidate servers and says
 * what to record (a reservation for a new session, the decision log entry, the next
 * round-robin counter). The pool object applies those effects; this module decides.
 */
import { type ChainResult, runChain, type ScriptRunner, type TraceEntry } from "../balancer/chain.ts";
import type { Policy } from "../balancer/policy.ts";
import type { Random } from "../balancer/random.ts";
import type { ServerView } from "../balancer/types.ts";
import { countUserSessions, RESERVATION_TTL_MS, type Reservation, sessionsOfUser } from "./placement.ts";
import type { Decision } from "./placement-store.ts";
import { err, ok } from "../core/result.ts";
import type { SelectOutcome, SelectRequest } from "./select-request.ts";

/**
 * Wall time all script steps of one selection may take together. A pool's live selections run one
 * at a time, so this also caps how long one selection holds up the users queued behind it. It
 * equals the sandbox's default per-call timeout: a policy with one script keeps what it had, and
 * a chain of several shares it instead of taking up to 16 × 1 s. Scripts on a warm isolate answer
 * in milliseconds; a policy that needs more is broken, and a user at sign-in should not wait on it.
 */
export const SELECTION_SCRIPT_BUDGET_MS = 1000;

export interface SelectionContext {
  /** Every server of the pool, pending placements counted; `channelConnected` where known. */
  servers: Array<ServerView & { channelConnected?: boolean }>;
  /** The pool's live reservations (pending starts), to count what one user holds. */
  reservations: readonly Reservation[];
  roundRobinCounter: number;
  nowMs: number;
  /** Monotonic ms (`performance.now`): times the steps and spends the script budget. */
  clock: () => number;
  random: Random;
  newReservationId: () => string;
  runScript: ScriptRunner;
  /** Logon-storm admission: a server with this many sessions starting takes no new one (null: no cap). */
  maxStartingPerNode?: number | null;
}

/** The chain's answer, or the per-user limit's refusal of the new session it chose. */
type PlacementResult = ChainResult | { ok: false; code: "SESSION_LIMIT_REACHED"; message: string; trace: TraceEntry[] };

export interface SelectionEffects {
  reservation?: Reservation;
  decision?: Omit<Decision, "id">;
  nextRoundRobinCounter?: number;
}

export async function decidePlacement(
  policy: Policy,
  request: SelectRequest,
  ctx: SelectionContext,
): Promise<{ outcome: SelectOutcome; effects: SelectionEffects }> {
  const allowed = request.hostnames && request.hostnames.length > 0 ? new Set(request.hostnames) : null;
  // Nodes waiting for approval are invisible to placement: no sessions, and nothing they report is resumed.
  const approved = ctx.servers.filter((server) => server.status !== "pending");
  const servers = approved.filter((server) => (allowed === null || allowed.has(server.hostname)) && (!request.needsChannel || server.channelConnected === true));
  const login = request.user.login;
  const run = (candidates: ServerView[]) =>
    runChain(
      policy,
      {
        action: request.action,
        user: { ...request.user, sessions: sessionsOfUser(candidates, login) },
        local: request.local,
        servers: candidates,
        data: { ...request.data, roundRobinCounter: ctx.roundRobinCounter },
      },
      { nowMs: ctx.nowMs, random: ctx.random, clock: ctx.clock, scriptBudgetMs: SELECTION_SCRIPT_BUDGET_MS },
      ctx.runScript,
    );
  const chain = await admitStarting(await run(servers), request, servers, ctx.maxStartingPerNode ?? null, run);
  const result = withinUserLimit(chain, request, heldBy(login, approved, ctx.reservations));
  const chosen = result.ok ? servers.find((server) => server.serverId === result.serverId) : undefined;
  const effects: SelectionEffects = request.dryRun ? {} : recordedEffects(request, result, chosen, ctx);
  if (!result.ok) return { outcome: err({ code: result.code, message: result.message, trace: result.trace }), effects };
  if (!chosen) {
    return { outcome: err({ code: "POLICY_INVALID_RESULT", message: "the chosen server is not in the pool", trace: result.trace }), effects };
  }
  const reservationId = effects.reservation?.id;
  return {
    outcome: ok({
      serverId: chosen.serverId,
      hostname: chosen.hostname,
      clientAddress: chosen.clientAddress,
      reason: result.reason,
      trace: result.trace,
      ...(result.resumeSessionId ? { resumeSessionId: result.resumeSessionId } : {}),
      ...(reservationId ? { reservationId } : {}),
    }),
    effects,
  };
}

function recordedEffects(request: SelectRequest, result: PlacementResult, chosen: ServerView | undefined, ctx: SelectionContext): SelectionEffects {
  const login = request.user.login;
  const effects: SelectionEffects = {
    nextRoundRobinCounter: ctx.roundRobinCounter + 1,
    decision: {
      at: ctx.nowMs,
      action: request.action,
      user: login,
      ok: result.ok,
      serverId: result.ok ? result.serverId : null,
      reason: result.ok ? result.reason : `${result.code}: ${result.message}`,
      resumeSessionId: result.ok ? (result.resumeSessionId ?? null) : null,
      trace: result.trace,
    },
  };
  const isNewSession = request.action === "session/start" && result.ok && !result.resumeSessionId;
  if (chosen && isNewSession) {
    effects.reservation = {
      id: ctx.newReservationId(),
      serverId: chosen.serverId,
      user: login,
      createdAt: ctx.nowMs,
      expiresAt: ctx.nowMs + RESERVATION_TTL_MS,
      baselineSessions: countUserSessions(chosen.sessions, login),
    };
  }
  return effects;
}

/** Sessions a server has starting: placements not yet reported, and sessions not yet running. */
export function startingOn(server: ServerView): number {
  return server.pendingSessions + server.sessions.filter((session) => session.state === "starting").length;
}

/**
 * Logon-storm admission (Horizon's connectingSessionThreshold): a new session the chain put on a
 * server already starting `cap` sessions is placed by the chain again over the servers below the
 * cap; with none left it is NO_SERVER_AVAILABLE (a queueing profile waits in line). Resumes are exempt.
 */
async function admitStarting(
  chain: ChainResult,
  request: SelectRequest,
  servers: ServerView[],
  cap: number | null,
  run: (candidates: ServerView[]) => Promise<ChainResult>,
): Promise<ChainResult> {
  if (cap === null || !chain.ok || chain.resumeSessionId !== undefined || request.action !== "session/start") return chain;
  const open = servers.filter((server) => startingOn(server) < cap);
  if (open.some((server) => server.serverId === chain.serverId)) return chain;
  const again = open.length > 0 ? await run(open) : null;
  if (again && (again.ok || again.code !== "NO_SERVER_AVAILABLE")) return again;
  return { ok: false, code: "NO_SERVER_AVAILABLE", message: `every server that could take this session has ${cap} or more sessions starting; try again in a moment`, trace: again?.trace ?? chain.trace };
}

/** Sessions plus pending starts `login` holds in the pool (approved servers only; a launched start is one of the sessions). */
function heldBy(login: string, servers: readonly ServerView[], reservations: readonly Reservation[]): number {
  return sessionsOfUser(servers, login).length + reservations.filter((reservation) => reservation.user === login && !reservation.launch).length;
}

/**
 * A new session beyond the request's per-user limit is refused (Guacamole's
 * `max_connections_per_user`, DCV's per-owner limits); resuming one the user holds never is.
 */
function withinUserLimit(result: ChainResult, request: SelectRequest, held: number): PlacementResult {
  const limit = request.maxUserSessions;
  const isNewSession = request.action === "session/start" && result.ok && result.resumeSessionId === undefined;
  if (limit === undefined || !isNewSession || held < limit) return result;
  return {
    ok: false,
    code: "SESSION_LIMIT_REACHED",
    message: `you hold ${held} session${held === 1 ? "" : "s"} or pending starts in this pool; the limit is ${limit}`,
    trace: result.trace,
  };
}
