/** The portal's JSON calls from the browser (same origin, the session cookie, the page's CSRF token). */

export interface RelayConnection {
  url: string;
  ticket: string;
  expiresAt: number;
  /** `broker-ticket.<ticket>`: the WebSocket subprotocol that presents the ticket. */
  protocol: string;
  connectUrl: string;
}

/** A start or connect answer: the session, and how to reach it (no `relay` while it is still starting). */
export interface ConnectAnswer {
  sessionId: string;
  serverId: string;
  hostname: string;
  relay?: RelayConnection;
  state?: string;
  message?: string;
  /** Every server was busy: my place in the line (`state: "queued"`, no session yet). */
  queued?: { id: string; position: number; message: string };
}

export interface SessionRow {
  id: string;
  state: string;
  hostname: string;
  serverId: string;
  startedAt: number;
  age: string;
  serverUp: boolean;
  message: string | null;
  profileId: string | null;
}

export interface PortalState {
  now: number;
  profiles: Array<{ id: string; name: string; pool: string; inBrowser: boolean }>;
  sessions: SessionRow[];
}

export type CallResult<T> = { ok: true; value: T } | { ok: false; status: number; code: string; message: string; retryAfterMs: number | null };

export const csrfToken = (): string => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";

/** GETs or POSTs JSON; never throws (a network failure is status 0). A 204 is success with a null value. */
export async function callPortal<T>(path: string, body?: unknown): Promise<CallResult<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    return { ok: false, status: 0, code: "NETWORK", message: "the broker cannot be reached", retryAfterMs: null };
  }
  const data = (await response.json().catch(() => null)) as (T & { error?: { code?: string; message?: string } }) | null;
  if (response.ok && data) return { ok: true, value: data };
  if (response.status === 204) return { ok: true, value: null as T };
  const retryAfter = Number(response.headers.get("Retry-After"));
  return {
    ok: false,
    status: response.status,
    code: data?.error?.code ?? "UNKNOWN",
    message: data?.error?.message ?? `the broker answered ${response.status}`,
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
  };
}

export const startSession = (profileId: string) => callPortal<ConnectAnswer>("/portal/api/sessions", { profileId });

/** A fresh single-use ticket for one of my sessions. */
export const connectSession = (sessionId: string, profileId: string) => callPortal<ConnectAnswer>(`/portal/api/sessions/${encodeURIComponent(sessionId)}/connect`, { profileId });

/** My place in a wait line, answered when it moves (or after 25 s); at the end, the start's answer. */
export const queuePlace = (queueId: string, position: number) => callPortal<ConnectAnswer>(`/portal/api/queue/${encodeURIComponent(queueId)}?wait=25&position=${position}`);

/** Leaves my place in a wait line (404 when it is gone already, or not mine). */
export const leaveLine = (queueId: string) => callPortal<null>(`/portal/api/queue/${encodeURIComponent(queueId)}/leave`, {});

export const portalState = () => callPortal<PortalState>("/portal/api/state");
