/**
 * Terminating a session from the portal: the same domain call as `DELETE /v1/sessions/:id`,
 * over the user's own sessions only (admins end others' from the dashboard or the API): 404 when
 * it does not exist or is not yours, 409 when its node cannot end it.
 */
import type { Identity } from "../auth/identity.ts";
import type { Env } from "../env.ts";
import { terminateSession } from "../sessions/launch.ts";
import { listSessions } from "../sessions/user-sessions.ts";

export async function terminateFromPortal(env: Env, identity: Identity, sessionId: string): Promise<void> {
  await terminateSession(env, { ...identity, isAdmin: false }, await listSessions(env, identity.login), sessionId);
}
