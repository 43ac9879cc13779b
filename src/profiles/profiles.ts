/**
 * Session profiles: the admin operations behind `/v1/admin/profiles`, the X2Go file import, and
 * the user side (which profiles an identity sees, and the check before a session is placed on
 * one). D1 is the only store. Updates are full replacements (PUT): the body is the whole
 * profile but its id, and the creation time is kept.
 *
 * ACLs are enforced on listing and on selection (X2Go's broker only filters its listing).
 * Admins see and may use every profile.
 */
import type { Identity } from "../auth/identity.ts";
import {
  deleteProfileRow,
  findProfileOwners,
  findProfileRow,
  insertProfileRow,
  isUniqueViolation,
  listProfileRows,
  replaceProfileRow,
  writeProfileBatch,
} from "../db/profile-queries.ts";
import { findPool } from "../db/queries.ts";
import type { ProfileRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { dryRunProblem, scriptProblems } from "../cluster/policies.ts";
import { poolStub, requirePool } from "../pool/pool-gateway.ts";
import { describeIssues } from "../core/validation.ts";
import { checkProfileAcl } from "./acl.ts";
import { type Profile, type ProfileBody, type ProfileMode, type ProfileSpec, storedProfileSchema } from "./profile-schema.ts";
import type { ConfIssue } from "./ini.ts";
import { formatConfIssue, parseSessionProfiles } from "./x2go-conf.ts";
import { log } from "../core/log.ts";

/** How many problems an error message lists before "… and N more". */
const MAX_LISTED_PROBLEMS = 20;

function listProblems(problems: readonly string[]): string {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).join("; ");
  return problems.length > MAX_LISTED_PROBLEMS ? `${listed}; … and ${problems.length - MAX_LISTED_PROBLEMS} more` : listed;
}

function readJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Decodes a row; a row that no longer validates (schema drift) is an internal error, never
 * skipped. Text is checked as stored (`storedProfileSchema`), not as written now: a row from
 * before a stricter check still loads, and the X2Go answers encode what they send.
 */
export function profileFromRow(row: ProfileRow): Profile {
  const parsed = storedProfileSchema.safeParse({
    id: row.id,
    name: row.name,
    pool: row.pool,
    mode: row.mode,
    hosts: readJson(row.hosts),
    command: row.command,
    policy: readJson(row.policy),
    acl: readJson(row.acl),
    x2goOptions: readJson(row.x2goOptions),
    maxSessionsPerUser: row.maxSessionsPerUser,
    service: row.service,
    launcher: readJson(row.launcher),
    queue: readJson(row.queue),
  });
  if (!parsed.success) throw new BrokerError("INTERNAL", `stored profile ${row.id} is invalid: ${describeIssues(parsed.error)}`);
  return { ...parsed.data, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

function rowFromSpec(spec: ProfileSpec, createdAt: number, updatedAt: number): ProfileRow {
  return {
    id: spec.id,
    name: spec.name,
    pool: spec.pool,
    mode: spec.mode,
    hosts: JSON.stringify(spec.hosts),
    command: spec.command,
    policy: spec.policy === null ? null : JSON.stringify(spec.policy),
    acl: JSON.stringify(spec.acl),
    x2goOptions: JSON.stringify(spec.x2goOptions),
    maxSessionsPerUser: spec.maxSessionsPerUser,
    service: spec.service,
    launcher: spec.launcher === null ? null : JSON.stringify(spec.launcher),
    queue: spec.queue === null ? null : JSON.stringify(spec.queue),
    createdAt,
    updatedAt,
  };
}

function noSuchProfile(id: string): BrokerError {
  return new BrokerError("NOT_FOUND", `no profile named ${id}`);
}

/**
 * A profile body names an existing pool (400 otherwise: the body is wrong, not the URL), and its
 * policy override passes the checks a pool policy passes: script syntax, then a dry run on the
 * pool restricted to the profile's hosts ("no server available" is not the policy's fault).
 */
async function checkReferences(env: Env, spec: ProfileSpec): Promise<void> {
  if (!(await findPool(env.DB, spec.pool))) throw new BrokerError("BAD_REQUEST", `invalid json: pool: no pool named ${spec.pool}`);
  if (spec.policy === null) return;
  const [broken] = scriptProblems(spec.policy);
  if (broken) throw new BrokerError("BAD_REQUEST", `policy step ${broken.index + 1} (${broken.name}): ${broken.message}`);
  const problem = await dryRunProblem(poolStub(env, spec.pool), spec.policy, spec.hosts.map((host) => host.name));
  if (problem) throw new BrokerError("BAD_REQUEST", problem);
}

/** Every profile, or those of one pool (404 for an unknown pool), ordered by id. */
export async function listProfiles(env: Env, pool?: string): Promise<Profile[]> {
  if (pool !== undefined) await requirePool(env, pool);
  return (await listProfileRows(env.DB, pool)).map(profileFromRow);
}

/** One profile; 404 `NOT_FOUND` if unknown. */
export async function getProfile(env: Env, id: string): Promise<Profile> {
  const row = await findProfileRow(env.DB, id);
  if (!row) throw noSuchProfile(id);
  return profileFromRow(row);
}

/** Creates a profile; 400 for an unknown pool or a failing policy, 409 `CONFLICT` if the id is taken. */
export async function createProfile(env: Env, spec: ProfileSpec, nowMs: number): Promise<Profile> {
  await checkReferences(env, spec);
  const row = rowFromSpec(spec, nowMs, nowMs);
  if (!(await insertProfileRow(env.DB, row))) throw new BrokerError("CONFLICT", `profile ${spec.id} exists already`);
  return profileFromRow(row);
}

/** Replaces a profile but its id and creation time (PUT semantics); 404 if unknown, 400 as for create. */
export async function replaceProfile(env: Env, id: string, body: ProfileBody, nowMs: number): Promise<Profile> {
  const existing = await findProfileRow(env.DB, id);
  if (!existing) throw noSuchProfile(id);
  const spec = { ...body, id };
  await checkReferences(env, spec);
  const row = rowFromSpec(spec, existing.createdAt, nowMs);
  const { id: _id, createdAt: _createdAt, ...changes } = row;
  if (!(await replaceProfileRow(env.DB, id, changes))) throw noSuchProfile(id);
  return profileFromRow(row);
}

/** Deletes a profile; 404 if unknown. Sessions already placed through it are not touched. */
export async function deleteProfile(env: Env, id: string): Promise<void> {
  if (!(await deleteProfileRow(env.DB, id))) throw noSuchProfile(id);
}

export interface ImportOptions {
  /** The pool's profiles become exactly the file's: same ids are overwritten (creation time kept), others deleted. */
  replace?: boolean;
  /** Connection mode of every imported profile; default `redirect` (what X2Go's broker does). */
  mode?: ProfileMode;
  nowMs?: number;
}

export interface ImportResult {
  /** The ids written, in file order. */
  imported: string[];
  warnings: ConfIssue[];
}

/**
 * Imports an `x2gobroker-sessionprofiles.conf` into `pool`, all or nothing (one D1 batch).
 * 404 for an unknown pool; 400 `BAD_REQUEST` listing every malformed line or invalid profile
 * (`line N [id]: …`); 409 `CONFLICT` listing ids that belong to another pool, or that exist in
 * this pool without `replace`. Nothing is written unless every check passes.
 */
export async function importProfiles(env: Env, confText: string, pool: string, options: ImportOptions = {}): Promise<ImportResult> {
  await requirePool(env, pool);
  const nowMs = options.nowMs ?? Date.now();
  const parsed = parseSessionProfiles(confText, { pool, ...(options.mode ? { mode: options.mode } : {}) });
  if (parsed.errors.length > 0) {
    const count = parsed.errors.length;
    throw new BrokerError("BAD_REQUEST", `nothing imported; ${count} problem${count === 1 ? "" : "s"}: ${listProblems(parsed.errors.map(formatConfIssue))}`);
  }
  const ids = parsed.profiles.map((profile) => profile.id);
  const owners = new Map((await findProfileOwners(env.DB, ids)).map((owner) => [owner.id, owner]));
  const conflicts = [...owners.values()]
    .filter((owner) => owner.pool !== pool || !options.replace)
    .map((owner) => (owner.pool !== pool ? `profile ${owner.id} belongs to pool ${owner.pool}` : `profile ${owner.id} exists already (replace=true overwrites)`));
  if (conflicts.length > 0) throw new BrokerError("CONFLICT", `nothing imported: ${listProblems(conflicts)}`);
  const rows = parsed.profiles.map((spec) => rowFromSpec(spec, owners.get(spec.id)?.createdAt ?? nowMs, nowMs));
  try {
    await writeProfileBatch(env.DB, pool, rows, options.replace === true);
  } catch (error) {
    if (isUniqueViolation(error)) throw new BrokerError("CONFLICT", "nothing imported: a profile of the file was created meanwhile; try again");
    throw error;
  }
  return { imported: ids, warnings: parsed.warnings };
}

/** The profiles an identity may see from `clientIp` (every profile for admins), ordered by id. */
export async function profilesFor(env: Env, identity: Identity, clientIp: string | undefined): Promise<Profile[]> {
  const profiles = (await listProfileRows(env.DB)).map(profileFromRow);
  if (identity.isAdmin) return profiles;
  return profiles.filter((profile) => checkProfileAcl(profile.acl, identity, clientIp).allowed);
}

/**
 * The profile, if the identity may use it from `clientIp`; else 404 `NOT_FOUND`, the same answer
 * for an unknown id and for a profile its ACL refuses (whose reason is logged, not returned), so
 * the answer does not confirm that a hidden profile exists. Call it before placing a session:
 * listing filters are not access control.
 */
export async function requireProfileAccess(env: Env, profileId: string, identity: Identity, clientIp: string | undefined): Promise<Profile> {
  const profile = await getProfile(env, profileId);
  if (identity.isAdmin) return profile;
  const verdict = checkProfileAcl(profile.acl, identity, clientIp);
  if (!verdict.allowed) {
    log.warn(`profile ${profileId} refused to ${JSON.stringify(identity.login.slice(0, 64))}: ${verdict.reason}`);
    throw noSuchProfile(profileId);
  }
  return profile;
}
