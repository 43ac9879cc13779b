import { describe, expect, it } from "vitest";
import { createUserHashStep } from "../../../../src/balancer/steps/user-hash.ts";
import type { ServerView } from "../../../../src/balancer/types.ts";
import { chosen, context, input, servers, user } from "../fixtures.ts";

const LOGINS = Array.from({ length: 1000 }, (_, index) => `user${index}`);

function assign(serverList: ServerView[]): Map<string, unknown> {
  return new Map(LOGINS.map((login) => [login, chosen(createUserHashStep()(input(serverList, { user: user({ login }) }), context()))]));
}

describe("user-hash", () => {
  it.each([{ login: "alice" }, { login: "bob" }, { login: "émile" }])(
    "sends $login to the same server whatever the address, seed or input order",
    ({ login }) => {
      const list = servers(10);
      const pick = (clientIp: string, serverList: ServerView[], seed: number) =>
        chosen(createUserHashStep()(input(serverList, { user: user({ login }), local: { clientIp } }), context(seed)));
      const first = pick("192.0.2.1", list, 1);
      expect(pick("198.51.100.9", list, 2)).toBe(first);
      expect(pick("203.0.113.5", [...list].reverse(), 3)).toBe(first);
    },
  );

  it("removing one of 10 servers moves only the users that were on it (1,000 users)", () => {
    const all = servers(10);
    const before = assign(all);
    const removed = all[3]?.serverId;
    const after = assign(all.filter((entry) => entry.serverId !== removed));
    let moved = 0;
    for (const login of LOGINS) {
      if (before.get(login) === removed) {
        moved++;
        expect(after.get(login)).not.toBe(removed);
      } else {
        expect(after.get(login)).toBe(before.get(login));
      }
    }
    expect(moved).toBeGreaterThan(50);
    expect(moved).toBeLessThan(150);
  });

  it("adding an 11th server takes users only onto it", () => {
    const ten = servers(10);
    const eleven = servers(11);
    const before = assign(ten);
    const after = assign(eleven);
    const added = eleven[10]?.serverId;
    for (const login of LOGINS) if (after.get(login) !== before.get(login)) expect(after.get(login)).toBe(added);
  });

  it("spreads 1,000 users evenly, and a weight-3 server takes about three shares", () => {
    const even = [...assign(servers(10)).values()];
    for (const serverId of servers(10).map((entry) => entry.serverId)) {
      const count = even.filter((value) => value === serverId).length;
      expect(count).toBeGreaterThan(60);
      expect(count).toBeLessThan(140);
    }
    const weighted = servers(4);
    weighted[0] = { ...(weighted[0] as ServerView), staticData: { weight: 3 } };
    const heavy = [...assign(weighted).values()].filter((value) => value === weighted[0]?.serverId).length;
    expect(heavy / 1000).toBeCloseTo(0.5, 1);
  });

  it("passes without a login or servers", () => {
    expect(createUserHashStep()(input(servers(3), { user: user({ login: "" }) }), context())).toBeNull();
    expect(createUserHashStep()(input([]), context())).toBeNull();
  });
});
