/**
 * The name of a TCP service on a node that a profile can offer through the relay (`ssh`, `rdp`,
 * …). The broker signs it into service tickets and assertions; the node's agent maps it to an
 * endpoint of its own (`gateway.services`), so the broker never names a host or port on the node.
 * Runtime-neutral (zod only): the agent validates its config with it too.
 */
import { z } from "zod";

/** 1-32 chars: a lowercase letter, then lowercase letters, digits and '-'. */
export const serviceNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "a service name is 1-32 chars: a lowercase letter, then a-z, 0-9 and '-'");
export type ServiceName = z.infer<typeof serviceNameSchema>;
