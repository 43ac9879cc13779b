/**
 * allowed-users: FastX static-data access lists and server groups.
 * - A server whose static data has a `users` array serves only those logins; without one it
 *   serves everyone.
 * - A group (params `group`, and/or the request's `data.group`) keeps only servers whose static
 *   `group` equals it (or, for an array, includes it). The admin's and the request's group must
 *   both hold, so a request can narrow the admin's choice but never widen it.
 * With no user lists and no group set, the step passes.
 */
import { z } from "zod";
import type { Step } from "../step.ts";
import type { ServerView } from "../types.ts";

export const allowedUsersParamsSchema = z.strictObject({ group: z.string().min(1).max(256).optional() });
export type AllowedUsersParams = z.infer<typeof allowedUsersParamsSchema>;

export function createAllowedUsersStep(params: AllowedUsersParams): Step {
  return (input) => {
    const requestedGroup = input.data?.["group"];
    const groups = [params.group, typeof requestedGroup === "string" && requestedGroup !== "" ? requestedGroup : undefined]
      .filter((group): group is string => group !== undefined);
    const hasLists = input.servers.some((server) => Array.isArray(server.staticData?.["users"]));
    if (!hasLists && groups.length === 0) return null;
    const login = input.user?.login ?? "";
    return input.servers.filter(
      (server) => allowsUser(server, login) && groups.every((group) => inGroup(server, group)),
    );
  };
}

function allowsUser(server: ServerView, login: string): boolean {
  const users = server.staticData?.["users"];
  return !Array.isArray(users) || users.includes(login);
}

function inGroup(server: ServerView, group: string): boolean {
  const value = server.staticData?.["group"];
  return Array.isArray(value) ? value.includes(group) : value === group;
}
