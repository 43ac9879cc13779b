/**
 * Nobody locks a user out: on every entry point that shares the sign-in guard (the API's
 * `/v1/auth/login`, X2Go's `/plain/` and `/json/`, the dashboard's `/admin/login`), an attacker's
 * failures throttle the attacking address, not the owner signing in from elsewhere; guessing one
 * login from many addresses is refused past the per-login limit, except from addresses where the
 * login signed in successfully before.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { LOGIN_FAILURE_LIMIT, PAIR_FAILURE_LIMIT } from "../../src/auth/login-guard.ts";
import { admin, call, callJson } from "./helpers.ts";

const PASSWORD = "owner password 1";

interface EntryPoint {
  name: string;
  /** The status of a sign-in with the right password (the dashboard redirects). */
  okStatus: number;
  signIn(login: string, password: string, address: string): Promise<Response>;
}

function form(path: string, fields: Record<string, string>, address: string): Promise<Response> {
  const headers = { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": address, Origin: "https://broker.test" };
  return call(path, { method: "POST", headers, body: new URLSearchParams(fields).toString(), redirect: "manual" });
}

const ENTRY_POINTS: EntryPoint[] = [
  { name: "POST /v1/auth/login", okStatus: 200, signIn: (login, password, address) => callJson("/v1/auth/login", "POST", { login, password }, { "CF-Connecting-IP": address }) },
  { name: "X2Go /plain/", okStatus: 200, signIn: (user, password, address) => form("/plain/", { task: "listsessions", user, password, authid: "" }, address) },
  { name: "X2Go /json/", okStatus: 200, signIn: (user, password, address) => form("/json/", { task: "listprofiles", user, password }, address) },
  { name: "dashboard /admin/login", okStatus: 303, signIn: (login, password, address) => form("/admin/login", { method: "password", login, password }, address) },
];

async function status(response: Promise<Response>): Promise<number> {
  const answer = await response;
  await answer.body?.cancel();
  return answer.status;
}

beforeAll(async () => {
  for (const [index] of ENTRY_POINTS.entries()) {
    for (const login of [`owner-${index}`, `crowd-${index}`]) {
      const response = await admin("/v1/admin/users", "POST", { login, password: PASSWORD, isAdmin: true });
      if (response.status !== 201) throw new Error(`user ${login}: ${response.status} ${await response.text()}`);
    }
  }
});

describe.each(ENTRY_POINTS.map((entry, index) => [entry.name, entry, index] as const))("sign-in lockout via %s", (_name, entry, index) => {
  it(`lets the owner in from another address after ${PAIR_FAILURE_LIMIT} failures from an attacker, who stays throttled`, async () => {
    const login = `owner-${index}`;
    const attacker = `198.51.${index}.66`;
    for (let attempt = 0; attempt < PAIR_FAILURE_LIMIT; attempt++) expect(await status(entry.signIn(login, `guess-${attempt}-x`, attacker))).toBe(401);
    expect(await status(entry.signIn(login, "guess-again-x", attacker))).toBe(429);
    expect(await status(entry.signIn(login, PASSWORD, attacker))).toBe(429);
    expect(await status(entry.signIn(login, PASSWORD, `203.0.${index}.10`))).toBe(entry.okStatus);
    expect(await status(entry.signIn(login, PASSWORD, attacker))).toBe(429);
  });

  it(`refuses guessing from many addresses past ${LOGIN_FAILURE_LIMIT} failures, but not the owner's known address`, async () => {
    const login = `crowd-${index}`;
    const home = `192.0.2.${100 + index}`;
    expect(await status(entry.signIn(login, PASSWORD, home))).toBe(entry.okStatus);
    for (let attempt = 0; attempt < LOGIN_FAILURE_LIMIT; attempt++) {
      expect(await status(entry.signIn(login, `guess-${attempt}-x`, `10.${60 + index}.${Math.floor(attempt / 200)}.${attempt % 200}`))).toBe(401);
    }
    expect(await status(entry.signIn(login, "one-more-guess", `10.${70 + index}.0.1`))).toBe(429);
    expect(await status(entry.signIn(login, PASSWORD, `10.${70 + index}.0.2`))).toBe(429);
    expect(await status(entry.signIn(login, PASSWORD, home))).toBe(entry.okStatus);
  });
});
