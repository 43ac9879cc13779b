/**
 * capacity: drop servers that are full (HAProxy `maxconn`, FastX "All GPU servers are in use"):
 * - `sessionCount >= staticData.maxSessions`, when that is a positive number (sessionCount
 *   includes placements not yet confirmed by a heartbeat, so concurrent starts see each other);
 * - one-minute load per CPU above params `maxLoadPerCpu` (off by default);
 * - available memory under params `minMemAvailableBytes` (off by default).
 * A server that has not reported CPU or memory data is not judged on it. Always filters; an
 * empty result ends the chain with "no server available".
 */
import { z } from "zod";
import { loadPerCpu } from "../load-factor.ts";
import type { Step } from "../step.ts";
import type { ServerView } from "../types.ts";

export const capacityParamsSchema = z.strictObject({
  maxLoadPerCpu: z.number().positive().finite().optional(),
  minMemAvailableBytes: z.number().int().nonnegative().optional(),
});
export type CapacityParams = z.infer<typeof capacityParamsSchema>;

export function createCapacityStep(params: CapacityParams): Step {
  return (input) => input.servers.filter((server) => hasRoom(server, params));
}

function hasRoom(server: ServerView, params: CapacityParams): boolean {
  const maxSessions = server.staticData?.["maxSessions"];
  if (typeof maxSessions === "number" && Number.isFinite(maxSessions) && maxSessions > 0) {
    if ((server.sessionCount ?? 0) >= maxSessions) return false;
  }
  if (params.maxLoadPerCpu !== undefined) {
    const perCpu = loadPerCpu(server);
    if (perCpu !== null && perCpu > params.maxLoadPerCpu) return false;
  }
  if (params.minMemAvailableBytes !== undefined && (server.memTotalBytes ?? 0) > 0) {
    if ((server.memAvailableBytes ?? 0) < params.minMemAvailableBytes) return false;
  }
  return true;
}
