import { describe, expect, it } from "vitest";
import { type AllowedUsersParams, createAllowedUsersStep } from "../../../../src/balancer/steps/allowed-users.ts";
import { context, ids, input, server, user } from "../fixtures.ts";

const list = [
  server("srv_open", { staticData: { group: "lab" } }),
  server("srv_alice", { staticData: { users: ["alice", "carol"], group: "lab" } }),
  server("srv_bob", { staticData: { users: ["bob"], group: ["gpu", "lab"] } }),
];

describe("allowed-users", () => {
  it.each<{ name: string; login: string; params?: AllowedUsersParams; group?: unknown; expected: unknown }>([
    { name: "keeps open servers and those listing the user", login: "alice", expected: ["srv_open", "srv_alice"] },
    { name: "drops servers listing only others", login: "bob", expected: ["srv_open", "srv_bob"] },
    { name: "a user on no list gets the open servers", login: "dave", expected: ["srv_open"] },
    { name: "group from params (array static group included)", login: "bob", params: { group: "gpu" }, expected: ["srv_bob"] },
    { name: "group from the request", login: "alice", group: "lab", expected: ["srv_open", "srv_alice"] },
    { name: "params and request groups must both hold", login: "bob", params: { group: "lab" }, group: "gpu", expected: ["srv_bob"] },
    { name: "a non-string request group is ignored", login: "alice", group: 7, expected: ["srv_open", "srv_alice"] },
  ])("$name", ({ login, params, group, expected }) => {
    const data = group === undefined ? {} : { group };
    expect(ids(createAllowedUsersStep(params ?? {})(input(list, { user: user({ login }), data }), context()))).toEqual(expected);
  });

  it("passes when no server has a user list and no group is set", () => {
    expect(createAllowedUsersStep({})(input([server("srv_a"), server("srv_b")]), context())).toBeNull();
  });
});
