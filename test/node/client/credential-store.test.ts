/** The helper's credential file (client/credential-store.ts) on a real temp directory: modes, refusals, broker URLs. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { credentialStore, normalizeBrokerUrl, type SignIn } from "../../../client/credential-store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function configDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "edge-desktop-store-"));
  dirs.push(dir);
  return join(dir, "edge-desktop");
}
const signIn: SignIn = { source: "password", login: "alice", token: "a.b.c", expiresAt: 2_000, obtainedAt: 1_000 };

describe("credential store", () => {
  it("writes the file 0600 in a 0700 directory and reads it back per broker", async () => {
    const store = credentialStore(configDir());
    expect(await store.get("https://b.example")).toBeNull();
    await store.put("https://b.example", signIn);
    await store.put("https://c.example", { source: "oidc", command: "oidc-token broker" });
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(store.path, "..")).mode & 0o777).toBe(0o700);
    expect(await store.get("https://b.example")).toEqual(signIn);
    expect(await store.brokers()).toEqual(["https://b.example", "https://c.example"]);
    expect(await store.remove("https://b.example")).toBe(true);
    expect(await store.remove("https://b.example")).toBe(false);
  });

  it("refuses a file other users may read, and says how to fix it", async () => {
    const store = credentialStore(configDir());
    await store.put("https://b.example", signIn);
    chmodSync(store.path, 0o644);
    await expect(store.get("https://b.example")).rejects.toThrow(`may be read by other users (mode 644): run chmod 600 ${store.path}`);
  });

  it("refuses a file that is not its own", async () => {
    const store = credentialStore(configDir());
    await store.put("https://b.example", signIn);
    writeFileSync(store.path, JSON.stringify({ version: 2 }), { mode: 0o600 });
    await expect(store.brokers()).rejects.toThrow("is not a credentials file of this helper");
    writeFileSync(store.path, "{", { mode: 0o600 });
    await expect(store.brokers()).rejects.toThrow("is not JSON");
    expect(readFileSync(store.path, "utf8")).toBe("{");
  });
});

describe("broker URLs", () => {
  it.each([
    ["https://broker.example.com/", "https://broker.example.com"],
    ["https://broker.example.com/prefix//", "https://broker.example.com/prefix"],
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787"],
    ["http://localhost:8787/", "http://localhost:8787"],
  ])("keys %s as %s", (text, key) => {
    expect(normalizeBrokerUrl(text)).toBe(key);
  });

  it.each([
    ["http://broker.example.com", "plain http"],
    ["ftp://broker.example.com", "not an http(s) URL"],
    ["broker.example.com", "not a URL"],
  ])("refuses %s", (text, message) => {
    expect(() => normalizeBrokerUrl(text)).toThrow(message);
  });
});
