/**
 * user-hash: weighted rendezvous (highest random weight) hashing on the login (Thaler & Ravishankar
 * 1998; weighted by the logarithmic method of Schindelhauer & Schomaker 2005): each server scores
 * weight / -ln(h), with h = hash(login, serverId) in (0, 1), and the highest wins. The same user
 * reaches the same server whatever their address, and adding or removing a server moves only
 * the users whose winner it is or becomes (1/n of them). Passes when the login is empty.
 */
import { z } from "zod";
import { unitHash } from "../hash.ts";
import type { Step } from "../step.ts";
import type { ServerView } from "../types.ts";
import { weightOf } from "../weight.ts";

export const userHashParamsSchema = z.strictObject({});

export function createUserHashStep(): Step {
  return (input) => {
    const login = input.user?.login;
    if (typeof login !== "string" || login === "") return null;
    let best: ServerView | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const server of input.servers) {
      const score = weightOf(server) / -Math.log(unitHash(`${login}\u0000${server.serverId}`));
      // Equal scores are astronomically rare; the serverId comparison keeps the answer order-free.
      if (score > bestScore || (score === bestScore && best !== undefined && server.serverId < best.serverId)) {
        best = server;
        bestScore = score;
      }
    }
    if (best === undefined) return null;
    return { serverId: best.serverId, reason: `user-hash chose ${best.serverId} for ${login}` };
  };
}
