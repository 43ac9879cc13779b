/**
 * The helper's sign-in to a broker, and a valid bearer token for every call after it.
 *
 * - Password: `POST /v1/auth/login` once; the session token (12 h) is exchanged for a fresh one
 *   (`POST /v1/auth/refresh`) whenever it is past half its life, for up to 7 days after the
 *   password was typed. Then, or when the account was disabled or its password changed, the user
 *   is told to sign in again.
 * - OIDC (where the broker takes an identity provider's tokens): a command the user names prints
 *   the IdP's JWT (`cloudflared access token --app …`, `oidc-token …`); it runs again whenever the
 *   cached token is within a minute of expiring, so the IdP's own refresh applies.
 */
import { EdgeError, httpCall, postJson, refusalOf } from "./edge-http.ts";
import type { CredentialStore, SignIn } from "./credential-store.ts";

/** How long refreshes extend one password sign-in (the broker's MAX_SIGN_IN_AGE_SECONDS). */
export const MAX_SIGN_IN_AGE_DAYS = 7;
/** An OIDC token this close to its expiry is fetched again. */
const OIDC_MARGIN_MS = 60_000;

export interface SessionDeps {
  store: CredentialStore;
  sourceAddress?: string | undefined;
  now: () => number;
  /** Runs a shell command line and resolves with its stdout (the OIDC token command). */
  runCommand: (command: string) => Promise<string>;
  warn: (line: string) => void;
}

interface SignInAnswer {
  token: string;
  expiresAt: number;
  user: { login: string };
}

function signInAgain(broker: string, why: string): EdgeError {
  return new EdgeError(`${why}: sign in again with  edge-desktop login --broker ${broker}`, "SIGN_IN_NEEDED");
}

export async function signInWithPassword(broker: string, login: string, password: string, deps: SessionDeps): Promise<SignIn> {
  const answer = await postJson<SignInAnswer>(`${broker}/v1/auth/login`, { login, password }, { sourceAddress: deps.sourceAddress, expectStatus: [200] });
  const signIn: SignIn = { source: "password", login: answer.user.login, token: answer.token, expiresAt: answer.expiresAt, obtainedAt: deps.now() };
  await deps.store.put(broker, signIn);
  return signIn;
}

/** The `exp` of a JWT in epoch ms, unverified (only to know when to fetch a new one), or null. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

async function oidcToken(command: string, deps: SessionDeps): Promise<string> {
  const lines = (await deps.runCommand(command)).split("\n").map((line) => line.trim()).filter((line) => line.length > 0);
  const token = lines.at(-1);
  if (!token || token.split(".").length !== 3) throw new EdgeError(`the token command printed no JWT: ${command}`);
  return token;
}

/** Signs in with an IdP token command and checks with the broker that the token names a user. */
export async function signInWithOidc(broker: string, command: string, deps: SessionDeps): Promise<SignIn> {
  const token = await oidcToken(command, deps);
  const answer = await httpCall({ method: "GET", url: `${broker}/v1/auth/me`, headers: { Authorization: `Bearer ${token}` }, sourceAddress: deps.sourceAddress });
  if (answer.status !== 200) throw refusalOf(answer);
  const login = (JSON.parse(answer.body.toString("utf8")) as { login?: unknown }).login;
  const expiresAt = jwtExpiry(token);
  const signIn: SignIn = { source: "oidc", command, token, ...(typeof login === "string" ? { login } : {}), ...(expiresAt ? { expiresAt } : {}) };
  await deps.store.put(broker, signIn);
  return signIn;
}

async function refreshed(broker: string, signIn: Extract<SignIn, { source: "password" }>, deps: SessionDeps): Promise<string> {
  try {
    const answer = await postJson<SignInAnswer>(`${broker}/v1/auth/refresh`, {}, { bearer: signIn.token, sourceAddress: deps.sourceAddress, expectStatus: [200] });
    await deps.store.put(broker, { ...signIn, token: answer.token, expiresAt: answer.expiresAt, obtainedAt: deps.now() });
    return answer.token;
  } catch (error) {
    if (error instanceof EdgeError && error.status === 401) throw signInAgain(broker, `your sign-in to ${broker} as ${signIn.login} has ended (older than 7 days, password changed, or account disabled)`);
    // The broker is unreachable for now: the token still works until it expires.
    deps.warn(`edge-desktop: could not refresh the sign-in (${error instanceof Error ? error.message : String(error)}); using it until it expires`);
    return signIn.token;
  }
}

/** A bearer token for `broker` that is valid now, refreshing (or re-running the token command) as needed. */
export async function bearerFor(broker: string, deps: SessionDeps): Promise<string> {
  const signIn = await deps.store.get(broker);
  if (!signIn) throw signInAgain(broker, `not signed in to ${broker}`);
  const now = deps.now();
  if (signIn.source === "oidc") {
    if (signIn.token && (signIn.expiresAt ?? 0) - now > OIDC_MARGIN_MS) return signIn.token;
    const token = await oidcToken(signIn.command, deps);
    const expiresAt = jwtExpiry(token);
    await deps.store.put(broker, { ...signIn, token, ...(expiresAt ? { expiresAt } : {}) });
    return token;
  }
  if (now >= signIn.expiresAt) throw signInAgain(broker, `your sign-in to ${broker} as ${signIn.login} expired at ${new Date(signIn.expiresAt).toISOString()}`);
  const halfLife = signIn.obtainedAt + (signIn.expiresAt - signIn.obtainedAt) / 2;
  return now >= halfLife ? refreshed(broker, signIn, deps) : signIn.token;
}
