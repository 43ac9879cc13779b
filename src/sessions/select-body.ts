/** The request shape for placement (select and dry runs), validated at the HTTP boundary. */
import { z } from "zod";
import { serverIdSchema } from "../protocol.ts";

const loginSchema = z.string().min(1).max(256).regex(/^[^\s\x00-\x1f]+$/, "a login has no spaces or control characters");

export const selectUserSchema = z.strictObject({
  login: loginSchema,
  groups: z.array(z.string().min(1).max(256)).max(256).default([]),
  isAdmin: z.boolean().default(false),
  isManager: z.boolean().default(false),
  serverId: serverIdSchema.optional(),
});

export const selectBodySchema = z.strictObject({
  action: z.enum(["user/login", "session/start"]).default("session/start"),
  user: selectUserSchema,
  /** Request data the steps read (`require`, `group`, `avoid`, …): JSON values only. */
  data: z.record(z.string().min(1).max(64), z.json()).default({}),
});
export type SelectBody = z.infer<typeof selectBodySchema>;

/** The client's address as Cloudflare's edge saw it; absent locally. */
export function clientIpOf(header: string | undefined): { clientIp?: string } {
  return header && header.length <= 64 ? { clientIp: header } : {};
}
