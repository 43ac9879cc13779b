/**
 * Broker-managed users: the schemas for logins, passwords and groups, and the admin operations
 * the `/v1/admin/users` routes call. Password hashes never leave this module's callers: every
 * answer is a `PublicUser`.
 */
import { z } from "zod";
import { hashPassword } from "../auth/passwords.ts";
import type { Identity } from "../auth/identity.ts";
import type { UserRow } from "../db/schema.ts";
import { deleteUserRow, findUser, insertUser, listUserRows, type UserChanges, updateUserRow } from "../db/user-queries.ts";
import type { Env } from "../env.ts";
import { BrokerError } from "../core/errors.ts";
import { disconnectUser } from "../cluster/node-commands.ts";

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;
export const MAX_GROUPS_PER_USER = 256;

export const loginSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, "a login is 1-64 chars of A-Z, a-z, 0-9, '.', '_', '@' and '-'");

export const passwordSchema = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);

export const groupsSchema = z
  .array(z.string().min(1).max(256).regex(/^[^\x00-\x1f]+$/, "a group name has no control characters"))
  .max(MAX_GROUPS_PER_USER)
  .transform((groups) => [...new Set(groups)]);

export const createUserSchema = z.strictObject({
  login: loginSchema,
  password: passwordSchema,
  groups: groupsSchema.default([]),
  isAdmin: z.boolean().default(false),
});
export type CreateUserInput = z.infer<typeof createUserSchema>;

export const updateUserSchema = z
  .strictObject({
    password: passwordSchema.optional(),
    groups: groupsSchema.optional(),
    isAdmin: z.boolean().optional(),
    disabled: z.boolean().optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), "name at least one field to change");
export type UpdateUserInput = z.infer<typeof updateUserSchema>;

/** A user as the API shows it: everything but the password hash. Timestamps are epoch ms. */
export interface PublicUser {
  login: string;
  groups: string[];
  isAdmin: boolean;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** The stored groups (a JSON array we wrote); anything unexpected reads as no groups. */
export function groupsOf(row: UserRow): string[] {
  try {
    const value: unknown = JSON.parse(row.groups);
    return Array.isArray(value) ? value.filter((group): group is string => typeof group === "string") : [];
  } catch {
    return [];
  }
}

export function publicUser(row: UserRow): PublicUser {
  return { login: row.login, groups: groupsOf(row), isAdmin: row.isAdmin, disabled: row.disabled, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

/** The Identity of a password user; broker admins are also managers. */
export function identityOfUser(row: UserRow): Identity {
  return { login: row.login, groups: groupsOf(row), isAdmin: row.isAdmin, isManager: row.isAdmin, source: "password" };
}

function noSuchUser(login: string): BrokerError {
  return new BrokerError("NOT_FOUND", `no user named ${login}`);
}

export async function listUsers(env: Env): Promise<PublicUser[]> {
  return (await listUserRows(env.DB)).map(publicUser);
}

export async function getUser(env: Env, login: string): Promise<PublicUser> {
  const row = await findUser(env.DB, login);
  if (!row) throw noSuchUser(login);
  return publicUser(row);
}

/** Creates a user (the password is hashed here); 409 if the login is taken. */
export async function createUser(env: Env, input: CreateUserInput, nowMs: number): Promise<PublicUser> {
  const row: UserRow = {
    login: input.login,
    passwordHash: await hashPassword(input.password),
    groups: JSON.stringify(input.groups),
    isAdmin: input.isAdmin,
    disabled: false,
    createdAt: nowMs,
    updatedAt: nowMs,
  };
  if (!(await insertUser(env.DB, row))) throw new BrokerError("CONFLICT", `user ${input.login} exists already`);
  return publicUser(row);
}

/** Close reasons a removed or disabled user's clients read (code 4000, from the node's gateway). */
export const USER_REMOVED_REASON = "user removed";
export const USER_DISABLED_REASON = "user disabled";

/**
 * Changes a user. A new password, disabling, or deleting the user ends their session tokens
 * (they are checked against D1 on every use); disabling and deleting also end their live
 * relayed connections on every connected node (the catalogue is written first, so no new one
 * starts meanwhile).
 */
export async function updateUser(env: Env, login: string, patch: UpdateUserInput, nowMs: number): Promise<PublicUser> {
  const changes: UserChanges = { updatedAt: nowMs };
  if (patch.password !== undefined) changes.passwordHash = await hashPassword(patch.password);
  if (patch.groups !== undefined) changes.groups = JSON.stringify(patch.groups);
  if (patch.isAdmin !== undefined) changes.isAdmin = patch.isAdmin;
  if (patch.disabled !== undefined) changes.disabled = patch.disabled;
  if (!(await updateUserRow(env.DB, login, changes))) throw noSuchUser(login);
  if (patch.disabled === true) await disconnectUser(env, login, USER_DISABLED_REASON);
  return getUser(env, login);
}

export async function deleteUser(env: Env, login: string): Promise<void> {
  if (!(await deleteUserRow(env.DB, login))) throw noSuchUser(login);
  await disconnectUser(env, login, USER_REMOVED_REASON);
}
