/** Liveness of the broker itself (no auth, no storage). */
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const healthRoutes = new Hono<AppEnv>().get("/", (c) => c.json({ ok: true }));
