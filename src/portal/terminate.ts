/**
 * Terminating a session from the portal: the same domain call as `DELETE /v1/sessions/:id`
 * (owner or admin; 404 when it does not exist or is not yours, 409 when the node cannot end it).
 */
import type { Identity } from "../auth/identity.ts";
import { BrokerError } from "../core/errors.ts";
import type { Env } from "../env.ts";

export async function terminateFromPortal(_env: Env, _identity: Identity, sessionId: string): Promise<void> {
  throw new BrokerError("CONFLICT", `session ${sessionId} cannot be terminated from here: this broker's nodes do not end sessions on request yet`);
}
