/** The shape of one documented route (see registry.ts): what the OpenAPI document is built from. */
import type { z } from "zod";
import type { ErrorCode } from "../core/errors.ts";

/**
 * Who may call a route:
 * - `admin`: the admin bearer secret, or a signed-in admin user (session token or Access JWT);
 * - `adminToken`: the admin bearer secret only;
 * - `user`: any authenticated user (session token, Access/OIDC JWT, or the admin secret);
 * - `node`: a heartbeat JWT signed with the node's enrolled Ed25519 key;
 * - `enrolment`: a one-time enrolment token in the body;
 * - `relayTicket`: a single-use relay ticket;
 * - `serviceTicket`: a single-use service ticket (`POST /v1/tunnels`);
 * - `none`: anyone.
 */
export type AuthKind = "admin" | "adminToken" | "user" | "node" | "enrolment" | "relayTicket" | "serviceTicket" | "none";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** A request body: a zod schema for JSON, or a described non-JSON media type. */
export type BodySpec = z.ZodType | { mediaType: string; description: string };

export interface ResponseSpec {
  status: number;
  description: string;
  /** The JSON answer's schema, where the code has one; otherwise only the description. */
  schema?: z.ZodType;
  /** Set for answers that are not JSON (an empty 204, a 101 upgrade, a page). */
  mediaType?: string | null;
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI form: `/v1/admin/pools/{pool}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: AuthKind;
  /** The same zod schemas the route validates with (imported from where the route defines them). */
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: BodySpec;
  response: ResponseSpec;
  /** Error codes this route answers with besides those implied by its auth and inputs. */
  errors?: ErrorCode[];
}
