/**
 * The credentials the authorisation suite presents to every protected route, each in the slot
 * that route reads (bearer header, relay ticket, dashboard cookie): none, garbage, genuine ones
 * of the wrong kind (a node key where a user is needed, a user where an admin is), and forgeries
 * (expired, not yet valid, wrong audience or algorithm, foreign or confused keys, tampered).
 */
import { CHANNEL_AUDIENCE, HEARTBEAT_AUDIENCE, REKEY_AUDIENCE } from "../../../src/protocol.ts";
import { RELAY_AUDIENCE } from "../../../src/tokens/relay-ticket.ts";
import { SESSION_AUDIENCE } from "../../../src/tokens/user-session.ts";
import { ADMIN_UI_AUDIENCE } from "../../../src/tokens/admin-ui-session.ts";
import { PORTAL_AUDIENCE } from "../../../src/tokens/portal-session.ts";
import { ADMIN_TOKEN } from "../helpers.ts";
import type { Fixture } from "./fixture.ts";
import type { Role } from "./routes.ts";
import {
  beatToken,
  FOREIGN_KEY,
  foreignEd25519,
  forgedTicket,
  genuineServiceTicket,
  genuineTicket,
  publicKeyAsHmacSecret,
  resigned,
  sessionToken,
  uiSessionCookie,
  unsigned,
  withClaims,
} from "./tokens.ts";

/** Everything a credential may be built from: the fixture and the exact body it is sent with. */
export interface CredentialContext {
  fx: Fixture;
  body: Uint8Array;
}

export interface Credential {
  name: string;
  /** The token to present, or null to present nothing. */
  make(context: CredentialContext): Promise<string | null>;
  /** The roles for which this credential is genuine: not tried there (it would be let in). */
  validFor: Role[];
  /** The answer where it is not 401 (a genuine identity without the right, a ticket for another server). */
  status?: Partial<Record<Role, number>>;
}

const now = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;
const foreign = foreignEd25519();
const uiToken = (cookie: string) => cookie.slice(cookie.indexOf("=") + 1);

export const CREDENTIALS: Credential[] = [
  { name: "no credential", make: async () => null, validFor: [] },
  { name: "garbage", make: async () => "not-a-credential", validFor: [] },
  { name: "a JWT-shaped garbage", make: async () => "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb290In0.AAAA", validFor: [] },
  { name: "the admin token", make: async () => ADMIN_TOKEN, validFor: ["admin", "adminToken", "user"] },
  { name: "a plain user's session", make: async ({ fx }) => fx.alice, validFor: ["user", "session"], status: { admin: 403, adminToken: 403 } },
  { name: "an admin user's session", make: async ({ fx }) => fx.root, validFor: ["admin", "user", "adminToken", "session"] },
  {
    name: "a plain user's session re-signed claiming admin rights",
    make: async () => sessionToken("alice", { adm: true, groups: ["admins"] }),
    validFor: ["user", "session"],
    status: { admin: 403, adminToken: 403 },
  },
  { name: "a plain user's session with its subject changed to an admin", make: async ({ fx }) => withClaims(fx.alice, { sub: "root", adm: true }), validFor: [] },
  { name: "a node's heartbeat key", make: async ({ fx, body }) => beatToken(fx.nodeA, body), validFor: ["node"] },
  { name: "a node's re-key token", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { aud: REKEY_AUDIENCE }), validFor: ["nodeRekey"] },
  { name: "a node's channel token", make: async ({ fx }) => beatToken(fx.nodeA, "", { aud: CHANNEL_AUDIENCE }), validFor: ["nodeChannel"] },
  { name: "another node's key claiming to open this node's channel", make: async ({ fx }) => beatToken(fx.nodeA, "", { aud: CHANNEL_AUDIENCE, key: fx.nodeB.privateKey }), validFor: [] },
  { name: "a channel token over a body (bh of other bytes)", make: async ({ fx }) => beatToken(fx.nodeA, "{}", { aud: CHANNEL_AUDIENCE }), validFor: [] },
  { name: "another node's key claiming to re-key this node", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { aud: REKEY_AUDIENCE, key: fx.nodeB.privateKey }), validFor: [] },
  { name: "another node's key claiming to be this node", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { key: fx.nodeB.privateKey }), validFor: [] },
  { name: "a heartbeat signed with an unenrolled key", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { key: (await foreign).privateKey }), validFor: [] },
  { name: "an unsigned heartbeat (alg none)", make: async ({ fx, body }) => unsigned(await beatToken(fx.nodeA, body)), validFor: [] },
  {
    name: "a heartbeat HMAC-signed with the node's public key (alg confusion)",
    make: async ({ fx, body }) => beatToken(fx.nodeA, body, { alg: "HS256", key: publicKeyAsHmacSecret(fx.nodeA) }),
    validFor: [],
  },
  { name: "an expired heartbeat", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { iat: now() - 600, exp: now() - 570 }), validFor: [] },
  { name: "a heartbeat issued an hour ahead", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { iat: now() + HOUR, exp: now() + HOUR + 30 }), validFor: [] },
  { name: "a heartbeat not valid before an hour from now", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { nbf: now() + HOUR }), validFor: [] },
  { name: "a heartbeat for another audience", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { aud: SESSION_AUDIENCE }), validFor: [] },
  { name: "a heartbeat naming another pool", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { pool: "default" }), validFor: [] },
  { name: "a heartbeat living an hour", make: async ({ fx, body }) => beatToken(fx.nodeA, body, { exp: now() + HOUR }), validFor: [] },
  { name: "a heartbeat for another body", make: async ({ fx }) => beatToken(fx.nodeA, "{}"), validFor: [] },
  { name: "a relay ticket", make: async ({ fx }) => genuineTicket(fx.nodeB.serverId), validFor: ["ticket"] },
  { name: "a relay ticket for another server", make: async ({ fx }) => genuineTicket(fx.nodeA.serverId), validFor: [], status: { ticket: 403 } },
  { name: "an expired relay ticket", make: async ({ fx }) => forgedTicket({ serverId: fx.nodeB.serverId, iat: now() - 600, exp: now() - 570 }), validFor: [] },
  { name: "a relay ticket issued an hour ahead", make: async ({ fx }) => forgedTicket({ serverId: fx.nodeB.serverId, iat: now() + HOUR, exp: now() + HOUR + 30 }), validFor: [] },
  { name: "a relay ticket not valid before an hour from now", make: async ({ fx }) => forgedTicket({ serverId: fx.nodeB.serverId, nbf: now() + HOUR }), validFor: [] },
  { name: "a relay ticket for another audience", make: async ({ fx }) => forgedTicket({ serverId: fx.nodeB.serverId, aud: SESSION_AUDIENCE }), validFor: [] },
  { name: "a relay ticket signed HS512", make: async ({ fx }) => forgedTicket({ serverId: fx.nodeB.serverId, alg: "HS512" }), validFor: [] },
  { name: "a relay ticket re-signed with a foreign key", make: async ({ fx }) => forgedTicket({ serverId: fx.nodeB.serverId, key: FOREIGN_KEY }), validFor: [] },
  { name: "an unsigned relay ticket (alg none)", make: async ({ fx }) => unsigned(await genuineTicket(fx.nodeB.serverId)), validFor: [] },
  { name: "a service ticket", make: async ({ fx }) => genuineServiceTicket(fx.nodeB.serverId), validFor: ["serviceTicket"] },
  { name: "a service ticket for another server", make: async ({ fx }) => genuineServiceTicket(fx.nodeA.serverId), validFor: [], status: { serviceTicket: 403 } },
  { name: "an expired service ticket", make: async ({ fx }) => genuineServiceTicket(fx.nodeB.serverId, "alice", Date.now() - 10 * 60_000), validFor: [] },
  { name: "an unsigned service ticket (alg none)", make: async ({ fx }) => unsigned(await genuineServiceTicket(fx.nodeB.serverId)), validFor: [] },
  { name: "a relay ticket with its audience changed to a service ticket's", make: async ({ fx }) => withClaims(await genuineTicket(fx.nodeB.serverId), { aud: "relay:service", svc: "ssh" }), validFor: [] },
  { name: "an enrolment token", make: async ({ fx }) => fx.enrolmentToken, validFor: [] },
  { name: "an expired admin session", make: async () => sessionToken("root", { iat: now() - 13 * HOUR, exp: now() - HOUR }), validFor: [] },
  { name: "an admin session issued an hour ahead", make: async () => sessionToken("root", { iat: now() + HOUR, exp: now() + 2 * HOUR }), validFor: [] },
  { name: "an admin session not valid before an hour from now", make: async () => sessionToken("root", { nbf: now() + HOUR }), validFor: [] },
  { name: "an admin session for the relay audience", make: async () => sessionToken("root", { aud: RELAY_AUDIENCE }), validFor: [] },
  { name: "an admin session for the heartbeat audience", make: async () => sessionToken("root", { aud: HEARTBEAT_AUDIENCE }), validFor: [] },
  { name: "an admin session signed HS512", make: async () => sessionToken("root", { alg: "HS512" }), validFor: [] },
  { name: "an unsigned admin session (alg none)", make: async ({ fx }) => unsigned(fx.root), validFor: [] },
  { name: "an admin session signed EdDSA with a foreign key", make: async () => sessionToken("root", { alg: "EdDSA", key: (await foreign).privateKey }), validFor: [] },
  {
    name: "an admin session HMAC-signed with a node's public key (alg confusion)",
    make: async ({ fx }) => sessionToken("root", { key: publicKeyAsHmacSecret(fx.nodeA) }),
    validFor: [],
  },
  { name: "an admin session re-signed with a foreign key", make: async () => sessionToken("root", { key: FOREIGN_KEY }), validFor: [] },
  { name: "a dashboard session", make: async ({ fx }) => uiToken(fx.ui.cookie), validFor: ["ui"] },
  { name: "an expired dashboard session", make: async () => uiToken((await uiSessionCookie({ iat: now() - 9 * HOUR, exp: now() - HOUR })).cookie), validFor: [] },
  { name: "a dashboard session issued an hour ahead", make: async () => uiToken((await uiSessionCookie({ iat: now() + HOUR, exp: now() + 2 * HOUR })).cookie), validFor: [] },
  { name: "a dashboard session for the API audience", make: async () => uiToken((await uiSessionCookie({ aud: SESSION_AUDIENCE })).cookie), validFor: [] },
  { name: "a dashboard session re-signed with a foreign key", make: async () => uiToken((await uiSessionCookie({ key: FOREIGN_KEY })).cookie), validFor: [] },
  { name: "an unsigned dashboard session (alg none)", make: async ({ fx }) => unsigned(uiToken(fx.ui.cookie)), validFor: [] },
  { name: "an API session in the dashboard's audience", make: async () => sessionToken("root", { aud: ADMIN_UI_AUDIENCE }), validFor: [] },
  { name: "a portal session", make: async ({ fx }) => uiToken(fx.portal.cookie), validFor: ["portal"] },
  { name: "a portal session re-signed with a foreign key", make: async ({ fx }) => resigned(uiToken(fx.portal.cookie), FOREIGN_KEY), validFor: [] },
  { name: "an unsigned portal session (alg none)", make: async ({ fx }) => unsigned(uiToken(fx.portal.cookie)), validFor: [] },
  { name: "an API session in the portal's audience", make: async () => sessionToken("bob", { aud: PORTAL_AUDIENCE }), validFor: [] },
];
