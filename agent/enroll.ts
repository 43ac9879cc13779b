/**
 * Enrolment: a fresh Ed25519 key pair, one POST with the admin-issued token (an enrolment token, or
 * a re-key token for this node), and the broker's answer saved next to the key. The old key and
 * enrolment stay in place until the broker says 201.
 */
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { AGENT_PATHS, type EnrolRequest, type EnrolResponse, enrolRequestSchema, enrolResponseSchema, errorEnvelopeSchema } from "../src/protocol.ts";
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

/** Posts an enrolment or re-key body; the broker's 201 answer, or an EnrollError naming its error. */
export async function postEnrolment(url: string, request: { body: string; authorization?: string }, timeoutMs: number, deps: EnrollDeps): Promise<EnrolResponse> {
  let response: Response;
  let text: string;
  try {
    response = await deps.send(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(request.authorization ? { Authorization: request.authorization } : {}) },
      body: request.body,
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
 * Enrols this node and replaces any previous key and enrolment. With an enrolment token the
 * broker creates a new node; with a re-key token (`rek_…`) it keeps this node's serverId.
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
  return replaceKey(config, deps, async (publicKey) => {
    const request = buildRequest(config, token, publicKey, staticData);
    return postEnrolment(brokerEndpoint(config.brokerUrl, AGENT_PATHS.enrol), { body: JSON.stringify(request) }, config.requestTimeoutMs, deps);
  });
}

/**
 * A fresh key pair, sent to the broker by `post`; the new private key and the broker's answer are
 * saved only after it answered 201, so a failure leaves the old key and enrolment in place.
 */
export async function replaceKey(config: AgentConfig, deps: EnrollDeps, post: (publicKey: EnrolRequest["publicKey"]) => Promise<EnrolResponse>): Promise<NodeState> {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const publicJwk = await exportJWK(publicKey);
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
    const enrolled = await post({ kty: "OKP", crv: "Ed25519", x: publicJwk.x ?? "" });
    const state: NodeState = { ...enrolled, brokerUrl: config.brokerUrl, enrolledAt: deps.now() };
    try {
      await deps.fs.rename(pendingKey, keyPath);
      await writePrivateFile(deps.fs, join(config.stateDir, NODE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      throw new EnrollError(`the broker accepted the new key of ${state.serverId} but saving it failed (${errorMessage(error)}); re-key again with a re-key token`);
    }
    return state;
  } finally {
    await deps.fs.remove(pendingKey);
  }
}
