/**
 * The agent's state directory: `node-key.jwk` (the Ed25519 private key, mode 0600) and
 * `node.json` (what the broker answered at enrolment). Both are replaced atomically.
 */
import { join } from "node:path";
import { importJWK } from "jose";
import { z } from "zod";
import { poolNameSchema, serverIdSchema } from "../src/protocol.ts";
import { errorMessage, type FileAccess } from "./deps.ts";
import type { NodeIdentity } from "./token.ts";

export const KEY_FILE = "node-key.jwk";
export const NODE_FILE = "node.json";

export const nodeStateSchema = z.object({
  serverId: serverIdSchema,
  pool: poolNameSchema,
  /** Heartbeat interval the broker gave at enrolment, ms. */
  intervalMs: z.number().int().positive(),
  brokerUrl: z.string(),
  /** Epoch ms. */
  enrolledAt: z.number().int().nonnegative(),
  /** Key for the broker's relay assertions (see `agent/assertion.ts`); kept in this 0600 file. */
  assertionKey: z.string().optional(),
  /** False while an admin has not approved the node (pools that require approval). */
  approved: z.boolean().default(true),
});
export type NodeState = z.infer<typeof nodeStateSchema>;

export const privateJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  d: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

/** Missing or unreadable state; the message says what to run. */
export class StateError extends Error {
  override name = "StateError";
}

export function notEnrolledMessage(configPath: string): string {
  return `not enrolled: run \`agent enroll --config ${configPath} --token TOKEN\` first`;
}

/** Writes `text` to `path` with mode 0600: a temporary file, then a rename over the old one. */
export async function writePrivateFile(fs: FileAccess, path: string, text: string): Promise<void> {
  const temp = await fs.writePrivateTemp(path, text);
  try {
    await fs.rename(temp, path);
  } catch (error) {
    await fs.remove(temp);
    throw error;
  }
}

async function readJson(fs: FileAccess, path: string): Promise<unknown | null> {
  let text: string;
  try {
    text = await fs.readText(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new StateError(`cannot read ${path}: ${errorMessage(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new StateError(`${path} is not valid JSON; enroll again`);
  }
}

/** Loads the enrolment and the signing key. @throws StateError (not enrolled, or broken files). */
export async function loadEnrolment(
  fs: FileAccess,
  stateDir: string,
  configPath: string,
): Promise<{ state: NodeState; identity: NodeIdentity }> {
  const nodePath = join(stateDir, NODE_FILE);
  const keyPath = join(stateDir, KEY_FILE);
  const [nodeJson, keyJson] = [await readJson(fs, nodePath), await readJson(fs, keyPath)];
  if (nodeJson === null || keyJson === null) throw new StateError(notEnrolledMessage(configPath));
  const state = nodeStateSchema.safeParse(nodeJson);
  if (!state.success) throw new StateError(`${nodePath} is not a valid enrolment; enroll again`);
  const jwk = privateJwkSchema.safeParse(keyJson);
  if (!jwk.success) throw new StateError(`${keyPath} is not an Ed25519 private JWK; enroll again`);
  const privateKey = await importJWK({ ...jwk.data, alg: "EdDSA" }, "EdDSA");
  if (privateKey instanceof Uint8Array) throw new StateError(`${keyPath} did not import as an asymmetric key`);
  return { state: state.data, identity: { serverId: state.data.serverId, pool: state.data.pool, privateKey } };
}
