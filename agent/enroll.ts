/**
 * Enrolment: a fresh Ed25519 key pair, one POST with the admin-issued token, and the broker's
 * answer saved next to the key. The old key and enrolment stay in place until the broker says 201.
 */
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { AGENT_PATHS, type EnrolRequest, enrolRequestSchema, enrolResponseSchema, errorEnvelopeSchema } from "../src/protocol.ts";
import type { AgentConfig } from "./config.ts";
import { type AgentDeps, errorMessage } from "./deps.ts";
import { brokerEndpoint } from "./heartbeat-client.ts";
import { KEY_FILE, NODE_FILE, type NodeState, writePrivateFile } from "./state.ts";
import { readStaticDataFile } from "./static-data.ts";

/** Any enrolment failure; the message is one line, e.g. `UNAUTHORIZED: enrolment token is invalid`. */
export class EnrollError extends Error {
  override name = "EnrollError";
}

export type EnrollDeps = Pick<AgentDeps, "send" | "fs" | "now">;

function buildRequest(config: AgentConfig, token: string, publicKey: EnrolRequest["publicKey"], staticData: EnrolRequest["staticData"]) {
  const parsed = enrolRequestSchema.safeParse({
    token,
    publicKey,
    hostname: config.hostname,
    originUrl: config.originUrl,
    ...(config.clientAddress ? { clientAddress: config.clientAddress } : {}),
    staticData,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnrollError(`${issue?.path.join(".") || "request"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

async function postEnrolment(url: string, request: EnrolRequest, timeoutMs: number, deps: EnrollDeps) {
  let response: Response;
  let text: string;
  try {
    response = await deps.send(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw new EnrollError(`cannot reach ${url}: ${errorMessage(error)}`);
  }
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Handled below: a non-JSON answer is reported by its status.
  }
  if (response.status !== 201) {
    const envelope = errorEnvelopeSchema.safeParse(json);
    if (envelope.success) throw new EnrollError(`${envelope.data.error.code}: ${envelope.data.error.message}`);
    throw new EnrollError(`HTTP_${response.status}: the broker answered without an error body`);
  }
  const enrolled = enrolResponseSchema.safeParse(json);
  if (!enrolled.success) throw new EnrollError("the broker answered 201 with an unexpected body");
  return enrolled.data;
}

/**
 * Enrols this node and replaces any previous key and enrolment.
 * @throws EnrollError with a one-line reason; nothing in the state directory changes then.
 */
export async function enrollNode(config: AgentConfig, token: string, deps: EnrollDeps): Promise<NodeState> {
  let staticData: EnrolRequest["staticData"] = {};
  if (config.staticDataFile) {
    try {
      staticData = await readStaticDataFile(deps.fs, config.staticDataFile);
    } catch (error) {
      throw new EnrollError(errorMessage(error));
    }
  }
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const publicJwk = await exportJWK(publicKey);
  const request = buildRequest(config, token, { kty: "OKP", crv: "Ed25519", x: publicJwk.x ?? "" }, staticData);

  const keyPath = join(config.stateDir, KEY_FILE);
  let pendingKey: string;
  try {
    await deps.fs.ensurePrivateDir(config.stateDir);
    // Written before the request so an unwritable state dir fails early; moved into place after 201.
    pendingKey = await deps.fs.writePrivateTemp(keyPath, `${JSON.stringify(privateJwk)}\n`);
  } catch (error) {
    throw new EnrollError(`cannot write to ${config.stateDir}: ${errorMessage(error)}`);
  }
  try {
    const enrolled = await postEnrolment(brokerEndpoint(config.brokerUrl, AGENT_PATHS.enrol), request, config.requestTimeoutMs, deps);
    const state: NodeState = { ...enrolled, brokerUrl: config.brokerUrl, enrolledAt: deps.now() };
    try {
      await deps.fs.rename(pendingKey, keyPath);
      await writePrivateFile(deps.fs, join(config.stateDir, NODE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      throw new EnrollError(`the broker enrolled ${state.serverId} but saving it failed (${errorMessage(error)}); enroll again with a new token`);
    }
    return state;
  } finally {
    await deps.fs.remove(pendingKey);
  }
}
