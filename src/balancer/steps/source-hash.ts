/**
 * source-hash: HAProxy `balance source` with the default map-based hash (src/backend.c
 * `get_server_sh`, src/lb_map.c `map_get_server_hash`): the client address is hashed and taken
 * modulo the total integer weight of the servers sorted by serverId, so the same address
 * reaches the same server while the list is unchanged. Known weaknesses, shown by
 * `bench/balance-sim.ts`: users behind one NAT address all land together, a user whose address
 * changes loses their server, and any change to the list remaps most addresses. Passes when the
 * request carries no client address.
 */
import { z } from "zod";
import { hash32 } from "../hash.ts";
import type { Step } from "../step.ts";
import { integerWeightOf, sortedById } from "../weight.ts";

export const sourceHashParamsSchema = z.strictObject({});

export function createSourceHashStep(): Step {
  return (input) => {
    const clientIp = input.local?.clientIp;
    if (typeof clientIp !== "string" || clientIp === "" || input.servers.length === 0) return null;
    const servers = sortedById(input.servers);
    const total = servers.reduce((sum, server) => sum + integerWeightOf(server), 0);
    let slot = hash32(clientIp) % total;
    for (const server of servers) {
      slot -= integerWeightOf(server);
      if (slot < 0) return { serverId: server.serverId, reason: `source-hash chose ${server.serverId} for ${clientIp}` };
    }
    return null;
  };
}
