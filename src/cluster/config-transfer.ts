/**
 * Config as data (FastX's store upload/download): a pool's configuration as one JSON document,
 * exported from one deployment and imported into another.
 *
 * The document is `{ version: 1, pool: { name, intervalMs, policy, originPatterns,
 * allowPrivateOrigins, requireApproval }, profiles, nodes }`: the pool's settings, the balancing
 * policy (null: the default chain), the pool's session profiles
 * (without their pool, which is the importing URL's) and the admin's settings per node by
 * hostname (static data overrides and draining). It holds no secret and nothing a node reports:
 * no keys, origins, addresses, tokens, users or live state.
 *
 * An import checks everything before it changes anything (schema, script syntax and dry runs of
 * every policy, profile ids owned by other pools), then writes through the same operations as the
 * admin API: `createPool`/`updatePool`, `savePolicy`, `createProfile`/`replaceProfile`,
 * `setStaticOverrides`/`setDraining`. Those re-check as they write, so a change made meanwhile by
 * someone else can still refuse a later step.
 */
import { z } from "zod";
import { type Policy, policySchema } from "../balancer/policy.ts";
import { findProfileOwners } from "../db/profile-queries.ts";
import { findPool, listNodeSettings } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { poolStub, requirePool } from "../pool/pool-gateway.ts";
import { setDraining, setStaticOverrides } from "./nodes.ts";
import { DRY_RUN_USER, dryRunProblem, savePolicy, scriptProblems } from "./policies.ts";
import { originPatternsSchema } from "./origin-policy.ts";
import { createPool, poolView, updatePool } from "./pools.ts";
import { profileSchema } from "../profiles/profile-schema.ts";
import { createProfile, listProfiles, replaceProfile } from "../profiles/profiles.ts";
import {
  hostnameSchema,
  MAX_HEARTBEAT_INTERVAL_MS,
  MIN_HEARTBEAT_INTERVAL_MS,
  poolNameSchema,
  type StaticData,
  staticDataSchema,
} from "../protocol.ts";

export const CONFIG_DOCUMENT_VERSION = 1;
export const MAX_CONFIG_PROFILES = 500;
export const MAX_CONFIG_NODES = 1000;
/** How many problems a refusal lists before "… and N more". */
const MAX_LISTED_PROBLEMS = 20;

function unique<T>(key: (item: T) => string, what: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(key(item))) ctx.addIssue({ code: "custom", path: [index], message: `${what} ${key(item)} appears twice` });
      seen.add(key(item));
    });
  };
}

export const configPoolSchema = z.strictObject({
  /** The pool the document was exported from; an import writes to the pool its URL names. */
  name: poolNameSchema,
  intervalMs: z.number().int().min(MIN_HEARTBEAT_INTERVAL_MS).max(MAX_HEARTBEAT_INTERVAL_MS),
  policy: policySchema.nullable(),
  /** Absent in documents exported before origin rules and approval existed: an import then keeps (or defaults) them. */
  originPatterns: originPatternsSchema.optional(),
  allowPrivateOrigins: z.boolean().optional(),
  requireApproval: z.boolean().optional(),
  /** Absent in documents exported before the logon-storm cap: an import keeps the pool's. */
  maxStartingPerNode: z.number().int().min(1).max(1000).nullable().optional(),
});

/** A session profile as exported: everything but its pool and timestamps. */
export const configProfileSchema = profileSchema.omit({ pool: true });

/** The admin's settings for one node, matched by hostname on import. */
export const configNodeSchema = z.strictObject({
  hostname: hostnameSchema,
  staticOverrides: staticDataSchema.default({}),
  draining: z.boolean().default(false),
});

export const configDocumentSchema = z.strictObject({
  version: z.literal(CONFIG_DOCUMENT_VERSION),
  pool: configPoolSchema,
  profiles: z.array(configProfileSchema).max(MAX_CONFIG_PROFILES).default([]).superRefine(unique((profile) => profile.id, "profile")),
  nodes: z.array(configNodeSchema).max(MAX_CONFIG_NODES).default([]).superRefine(unique((node) => node.hostname, "hostname")),
});
/** The document as written (what an export answers). */
export type ConfigDocumentInput = z.input<typeof configDocumentSchema>;
/** The document once validated. */
export type ConfigDocument = z.output<typeof configDocumentSchema>;

/** What an import did. Nodes named by the document but not enrolled in the pool are skipped. */
export interface ImportReport {
  pool: string;
  imported: {
    /** Whether the import created the pool or updated an existing one. */
    pool: "created" | "updated";
    profilesCreated: number;
    profilesReplaced: number;
    /** Nodes whose static data overrides or draining flag changed. */
    nodesUpdated: number;
    /** Nodes found in the pool whose settings were already the document's. */
    nodesUnchanged: number;
  };
  skipped: Array<{ hostname: string; reason: string }>;
}

function listProblems(problems: readonly string[]): string {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).join("; ");
  const more = problems.length - MAX_LISTED_PROBLEMS;
  return `nothing imported; ${problems.length} problem${problems.length === 1 ? "" : "s"}: ${listed}${more > 0 ? `; … and ${more} more` : ""}`;
}

/** Validates a document: 400 `BAD_REQUEST` listing every problem (path and message). */
export function parseConfigDocument(value: unknown): ConfigDocument {
  const parsed = configDocumentSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message));
  throw new BrokerError("BAD_REQUEST", listProblems(problems));
}

function readStoredJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BrokerError("INTERNAL", `stored ${what} is not JSON`);
  }
}

/** A pool's configuration document; 404 for an unknown pool. */
export async function exportPoolConfig(env: Env, pool: string): Promise<ConfigDocumentInput> {
  const row = await requirePool(env, pool);
  const [profiles, settings] = await Promise.all([listProfiles(env, pool), listNodeSettings(env.DB, pool)]);
  const document: ConfigDocumentInput = {
    version: CONFIG_DOCUMENT_VERSION,
    pool: {
      name: row.name,
      intervalMs: row.intervalMs,
      policy: row.policy === null ? null : (readStoredJson(row.policy, "policy") as Policy),
      originPatterns: poolView(row).originPatterns,
      allowPrivateOrigins: row.allowPrivateOrigins,
      requireApproval: row.requireApproval,
      maxStartingPerNode: row.maxStartingPerNode,
    },
    profiles: profiles.map(({ pool: _pool, createdAt: _createdAt, updatedAt: _updatedAt, ...profile }) => profile),
    nodes: settings.map((node) => ({
      hostname: node.hostname,
      staticOverrides: readStoredJson(node.staticOverrides, `static data of ${node.hostname}`) as StaticData,
      draining: node.draining,
    })),
  };
  const check = configDocumentSchema.safeParse(document);
  if (!check.success) throw new BrokerError("INTERNAL", `the stored configuration of pool ${pool} does not form a valid document`);
  return document;
}

function scriptProblemsAt(where: string, policy: Policy | null): string[] {
  return scriptProblems(policy).map((problem) => `${where}.steps.${problem.index}: ${problem.message}`);
}

async function dryRunProblemAt(env: Env, pool: string, where: string, policy: Policy, hostnames?: string[]): Promise<string[]> {
  const problem = await dryRunProblem(poolStub(env, pool), policy, hostnames);
  return problem ? [`${where}: ${problem}`] : [];
}

/**
 * Every reason the document cannot be imported into `pool` as it stands; changes nothing. Dry
 * runs need the pool's servers, so a pool that does not exist yet gets the syntax checks only.
 */
async function importProblems(env: Env, pool: string, document: ConfigDocument, poolExists: boolean): Promise<string[]> {
  const problems = [
    ...scriptProblemsAt("pool.policy", document.pool.policy),
    ...document.profiles.flatMap((profile, index) => scriptProblemsAt(`profiles.${index}.policy`, profile.policy)),
  ];
  if (problems.length > 0 || !poolExists) return problems;
  if (document.pool.policy) problems.push(...(await dryRunProblemAt(env, pool, "pool.policy", document.pool.policy)));
  for (const [index, profile] of document.profiles.entries()) {
    if (!profile.policy) continue;
    const hostnames = profile.hosts.map((host) => host.name);
    problems.push(...(await dryRunProblemAt(env, pool, `profiles.${index}.policy`, profile.policy, hostnames)));
  }
  return problems;
}

/**
 * Imports a validated document into `pool` (created if missing). Refuses with 400
 * `BAD_REQUEST` (every policy problem listed) or 409 `CONFLICT` (profile ids owned by another
 * pool) before anything changes. Profiles of the pool that the document does not name are kept.
 */
export async function importPoolConfig(env: Env, pool: string, document: ConfigDocument, nowMs: number): Promise<ImportReport> {
  const existing = await findPool(env.DB, pool);
  const owners = new Map((await findProfileOwners(env.DB, document.profiles.map((profile) => profile.id))).map((owner) => [owner.id, owner.pool]));
  const foreign = [...owners].filter(([, owner]) => owner !== pool).map(([id, owner]) => `profile ${id} belongs to pool ${owner}`);
  if (foreign.length > 0) throw new BrokerError("CONFLICT", listProblems(foreign));
  const problems = await importProblems(env, pool, document, existing !== null);
  if (problems.length > 0) throw new BrokerError("BAD_REQUEST", listProblems(problems));

  const { name: _name, policy: _policy, ...settings } = document.pool;
  if (!existing) await createPool(env, pool, settings, nowMs);
  else await updatePool(env, pool, settings);
  await savePolicy(env, pool, document.pool.policy, DRY_RUN_USER);

  const report: ImportReport = {
    pool,
    imported: { pool: existing ? "updated" : "created", profilesCreated: 0, profilesReplaced: 0, nodesUpdated: 0, nodesUnchanged: 0 },
    skipped: [],
  };
  for (const profile of document.profiles) {
    if (owners.has(profile.id)) {
      const { id, ...body } = profile;
      await replaceProfile(env, id, { ...body, pool }, nowMs);
      report.imported.profilesReplaced++;
    } else {
      await createProfile(env, { ...profile, pool }, nowMs);
      report.imported.profilesCreated++;
    }
  }

  const enrolled = new Map((await listNodeSettings(env.DB, pool)).map((node) => [node.hostname, node]));
  for (const wanted of document.nodes) {
    const node = enrolled.get(wanted.hostname);
    if (!node) {
      report.skipped.push({ hostname: wanted.hostname, reason: `not enrolled in pool ${pool}` });
      continue;
    }
    const overridesChanged = node.staticOverrides !== JSON.stringify(wanted.staticOverrides);
    if (overridesChanged) await setStaticOverrides(env, pool, node.serverId, wanted.staticOverrides);
    if (node.draining !== wanted.draining) await setDraining(env, pool, node.serverId, wanted.draining);
    if (overridesChanged || node.draining !== wanted.draining) report.imported.nodesUpdated++;
    else report.imported.nodesUnchanged++;
  }
  return report;
}
