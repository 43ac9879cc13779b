/**
 * `agent rekey`: the node replaces its own key, signed with the current one (`POST
 * /v1/agent/rekey`, audience `broker:rekey`), and may move its origin to what the config says
 * now. It keeps its serverId and approval; the broker hands out a new assertion key. A running
 * agent keeps the old key in memory: restart it afterwards (the old key stops working at once).
 */
import { AGENT_PATHS, type RekeyRequest, rekeyRequestSchema } from "../src/protocol.ts";
import type { AgentConfig } from "./config.ts";
import { brokerEndpoint } from "./heartbeat-client.ts";
import { type EnrollDeps, EnrollError, postEnrolment, replaceKey } from "./enroll.ts";
import { loadEnrolment, type NodeState } from "./state.ts";
import { SeqCounter, signRekeyToken } from "./token.ts";

/** @throws EnrollError (or StateError when not enrolled); nothing in the state directory changes then. */
export async function rekeyNode(config: AgentConfig, deps: EnrollDeps): Promise<NodeState> {
  const { identity } = await loadEnrolment(deps.fs, config.stateDir, config.configPath);
  return replaceKey(config, deps, async (publicKey) => {
    const parsed = rekeyRequestSchema.safeParse({ publicKey, originUrl: config.originUrl, ...(config.clientAddress ? { clientAddress: config.clientAddress } : {}) });
    if (!parsed.success) throw new EnrollError(`${parsed.error.issues[0]?.path.join(".") || "request"}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    const body = JSON.stringify(parsed.data satisfies RekeyRequest);
    const nowMs = deps.now();
    // A sequence number from the clock: above the running agent's heartbeats so far.
    const token = await signRekeyToken(identity, body, new SeqCounter().next(nowMs), nowMs);
    return postEnrolment(brokerEndpoint(config.brokerUrl, AGENT_PATHS.rekey), { body, authorization: `Bearer ${token}` }, config.requestTimeoutMs, deps);
  });
}
