/** The dashboard's Hono environment and the helpers every dashboard handler shares. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { AppEnv } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { parseOrThrow } from "../core/validation.ts";
import type { UiSession } from "./session.ts";

/** `AppEnv` plus the verified dashboard session (set by `requireUiSession`). */
export interface UiEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { ui: UiSession };
}

export type UiContext = Context<UiEnv>;

/** Renders a page element (Hono JSX) as an HTML5 document. */
export async function render(c: Context, page: unknown, status: ContentfulStatusCode = 200): Promise<Response> {
  const body = String(await Promise.resolve(page));
  return c.html(`<!DOCTYPE html>${body}`, status);
}

/** Reads an `application/x-www-form-urlencoded` body (what the dashboard's forms send). */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return {};
  return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer())));
}

/** A form validated with zod through `parseOrThrow` (a 400 `BAD_REQUEST` naming the field). */
export async function readForm<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  return parseOrThrow(schema, await formFields(c), "form");
}

/** Whether the caller wants JSON (the client script's fetches, `/admin/api/*`). */
export function wantsJson(c: Context): boolean {
  return c.req.path.startsWith("/admin/api/") || /\bapplication\/json\b/.test(c.req.header("Accept") ?? "");
}

/** A JSON text field of a form: "" → `empty`; invalid JSON → 400 `BAD_REQUEST` naming the field. */
export function jsonField(text: string, what: string, empty: unknown): unknown {
  if (text.trim() === "") return empty;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BrokerError("BAD_REQUEST", `${what} is not valid JSON: ${error instanceof Error ? error.message : "parse error"}`);
  }
}
