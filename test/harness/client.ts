/**
 * HTTP calls to a local broker as its admin and as a user: JSON in and out, the admin token or a
 * user's token as the bearer. Shared by the tests, the benches, `npm start` and its demo client.
 */

/** Where a broker answers and the admin token it was started with. */
export interface BrokerEndpoint {
  url: string;
  adminToken: string;
}

export interface CallOptions {
  /** Default GET, or POST when there is a body. */
  method?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  body?: unknown;
}

/** A JSON call; returns status and parsed body (the text when it is not JSON) without throwing on 4xx/5xx. */
export async function call<T = unknown>(baseUrl: string, path: string, options: CallOptions = {}): Promise<{ status: number; body: T; text: string }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, body: body as T, text };
}

/** Like `call`, but throws with the answer's text unless the status is one of `expected`. */
export async function callOk<T = unknown>(baseUrl: string, path: string, options: CallOptions = {}, expected = [200, 201]): Promise<T> {
  const answer = await call<T>(baseUrl, path, options);
  if (!expected.includes(answer.status)) throw new Error(`${options.method ?? (options.body === undefined ? "GET" : "POST")} ${path}: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** A call to the admin API with the broker's admin token; throws on anything but a 2xx. */
export async function adminCall<T = unknown>(broker: BrokerEndpoint, path: string, method = "GET", body?: unknown): Promise<T> {
  const answer = await call<T>(broker.url, path, { method, token: broker.adminToken, body });
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
  return answer.body;
}

/**
 * A pre-approved enrolment token for a local pool. Local nodes have loopback origins, so the pool
 * is first set to allow private origins, as only a local cluster's pool should be
 * (docs/security.md: production pools list their tunnel hostnames and approve new nodes).
 */
export async function localEnrolmentToken(broker: BrokerEndpoint, pool = "default"): Promise<string> {
  await adminCall(broker, `/v1/admin/pools/${pool}`, "PATCH", { allowPrivateOrigins: true });
  return (await adminCall<{ token: string }>(broker, `/v1/admin/pools/${pool}/enrolment-tokens`, "POST", { ttlSeconds: 600, preApproved: true })).token;
}

export interface ServerState {
  serverId: string;
  hostname: string;
  status: string;
  lastSeenAt: number | null;
  sessionCount: number;
  staticData: Record<string, unknown>;
}

export async function listServers(broker: BrokerEndpoint, pool = "default"): Promise<ServerState[]> {
  return (await adminCall<{ servers: ServerState[] }>(broker, `/v1/admin/pools/${pool}/servers`)).servers;
}

export interface RelayAnswer {
  serverId: string;
  mode: string;
  sessionId: string;
  relay: { url: string; ticket: string; expiresAt: number };
}

/** `POST /v1/auth/login` → the user's bearer token. */
export async function signIn(broker: { url: string }, login: string, password: string): Promise<string> {
  const { token } = await callOk<{ token: string }>(broker.url, "/v1/auth/login", { body: { login, password } }, [200]);
  if (typeof token !== "string" || token.length === 0) throw new Error("sign-in answered without a token");
  return token;
}

/** `POST /v1/sessions` as the user. */
export function startSession(broker: { url: string }, token: string, profileId: string): Promise<RelayAnswer> {
  return callOk<RelayAnswer>(broker.url, "/v1/sessions", { token, body: { profileId } }, [200, 201]);
}

/** The relay URL with its ticket in the query string, as a browser client uses it. */
export const withTicket = (relayUrl: string, ticket: string): string => `${relayUrl}?ticket=${encodeURIComponent(ticket)}`;
