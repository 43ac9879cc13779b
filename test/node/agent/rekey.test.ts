import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeJwt, importJWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { EnrollError, enrollNode } from "../../../agent/enroll.ts";
import { rekeyNode } from "../../../agent/rekey.ts";
import { KEY_FILE } from "../../../agent/state.ts";
import { bodyHash } from "../../../agent/token.ts";
import { REKEY_AUDIENCE, rekeyRequestSchema } from "../../../src/protocol.ts";
import { fakeDeps, json, POOL, recordingSend, SERVER_ID, tempDir, testConfig } from "./helpers.ts";

const answer = () => json(201, { serverId: SERVER_ID, pool: POOL, intervalMs: 10_000, approved: true });

async function enrolled(respond: Parameters<typeof recordingSend>[0] = answer) {
  const stateDir = join(await tempDir(), "state");
  const config = testConfig(stateDir, { originUrl: "https://desk01.nodes.example.com" });
  const recorder = recordingSend(respond);
  const deps = fakeDeps({ send: recorder.send, now: () => Date.now() });
  await enrollNode(config, "enrol-token-0123456789abcdef", deps);
  return { stateDir, config, deps, requests: recorder.requests };
}

describe("agent rekey", () => {
  it("sends the new public key and the configured origin, signed with the current key for broker:rekey, then keeps the new key", async () => {
    const { stateDir, config, deps, requests } = await enrolled();
    const oldJwk = JSON.parse(await readFile(join(stateDir, KEY_FILE), "utf8")) as { x: string };
    const state = await rekeyNode(config, deps);
    expect(state.serverId).toBe(SERVER_ID);
    const request = requests[1];
    expect(request?.url).toBe("http://broker.test/v1/agent/rekey");
    const body = rekeyRequestSchema.parse(JSON.parse(request?.body ?? ""));
    expect(body.originUrl).toBe("https://desk01.nodes.example.com");
    const token = (request?.headers["Authorization"] ?? "").replace(/^Bearer /, "");
    const oldKey = await importJWK({ kty: "OKP", crv: "Ed25519", x: oldJwk.x, alg: "EdDSA" }, "EdDSA");
    const { payload } = await jwtVerify(token, oldKey, { audience: REKEY_AUDIENCE, issuer: SERVER_ID });
    expect(payload).toMatchObject({ pool: POOL, bh: bodyHash(request?.body ?? "") });
    expect(decodeJwt(token).seq).toBeGreaterThan(0);
    const newJwk = JSON.parse(await readFile(join(stateDir, KEY_FILE), "utf8")) as { x: string };
    expect(newJwk.x).toBe(body.publicKey.x);
    expect(newJwk.x).not.toBe(oldJwk.x);
  });

  it("keeps the old key when the broker refuses", async () => {
    let refuse = false;
    const { stateDir, config, deps } = await enrolled(() => (refuse ? json(401, { error: { code: "UNAUTHORIZED", message: "authentication required or invalid" } }) : answer()));
    const before = await readFile(join(stateDir, KEY_FILE), "utf8");
    refuse = true;
    await expect(rekeyNode(config, deps)).rejects.toThrow(new EnrollError("UNAUTHORIZED: authentication required or invalid"));
    expect(await readFile(join(stateDir, KEY_FILE), "utf8")).toBe(before);
  });
});
