/**
 * Where a heartbeat goes: on the control channel while it is open (docs/decisions.md, "Heartbeats
 * on the control channel": half the broker's CPU per beat, no Worker request, no signature per
 * beat; the channel was opened with the node's key and closes when the key changes), else as a
 * signed `POST /v1/agent/heartbeat`. A beat the channel did not take (closed meanwhile, timeout,
 * refused) goes over HTTP at once, so a channel problem never costs a beat.
 */
import type { ChannelClient } from "./channel/client.ts";
import type { EncodedBody } from "./body.ts";
import type { AgentDeps } from "./deps.ts";
import type { BeatOutcome, SendHeartbeat } from "./heartbeat-client.ts";

export type SendBeat = (encoded: EncodedBody, signal: AbortSignal) => Promise<BeatOutcome>;

export function createBeatSender(channel: Pick<ChannelClient, "connected" | "request">, http: SendHeartbeat, deps: Pick<AgentDeps, "log">): SendBeat {
  let lastProblem: string | null = null;
  return async (encoded, signal) => {
    if (channel.connected) {
      const answer = await channel.request("heartbeat", encoded.body);
      if (answer.ok) {
        lastProblem = null;
        return { kind: "accepted", reply: answer.value };
      }
      const problem = `${answer.error.code}: ${answer.error.message}`;
      if (problem !== lastProblem) deps.log(`heartbeat on the channel failed (${problem}); sending it over HTTP`);
      lastProblem = problem;
    }
    return http(encoded.text, signal);
  };
}
