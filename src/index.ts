/** Worker entry: the HTTP app and the Durable Object classes. */
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";

export { PoolObject } from "./pool/pool-object.ts";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
