import { describe, expect, it } from "vitest";
import { createSourceHashStep } from "../../../../src/balancer/steps/source-hash.ts";
import { chosen, context, input, server, servers } from "../fixtures.ts";

const list = servers(5);

function pick(clientIp: string | undefined, serverList = list, seed = 1): unknown {
  return chosen(createSourceHashStep()(input(serverList, { local: clientIp === undefined ? {} : { clientIp } }), context(seed)));
}

describe("source-hash", () => {
  it.each([{ ip: "203.0.113.7" }, { ip: "198.51.100.23" }, { ip: "2001:db8::1" }])(
    "sends $ip to the same server every time, whatever the seed or input order",
    ({ ip }) => {
      const first = pick(ip);
      expect(list.map((entry) => entry.serverId)).toContain(first);
      for (let seed = 2; seed < 10; seed++) expect(pick(ip, list, seed)).toBe(first);
      expect(pick(ip, [...list].reverse())).toBe(first);
    },
  );

  it.each([{ ip: undefined }, { ip: "" }])("passes without a client address ($ip)", ({ ip }) => {
    expect(createSourceHashStep()(input(list, { local: ip === undefined ? {} : { clientIp: ip } }), context())).toBeNull();
  });

  it("spreads many addresses over every server", () => {
    const counts = new Map<unknown, number>();
    for (let index = 0; index < 1000; index++) {
      const target = pick(`10.0.${index >> 8}.${index & 255}`);
      counts.set(target, (counts.get(target) ?? 0) + 1);
    }
    expect(counts.size).toBe(5);
    for (const count of counts.values()) expect(count).toBeGreaterThan(150);
  });

  it("gives a weight-2 server about twice the addresses", () => {
    const weighted = [server("srv_a", { staticData: { weight: 2 } }), server("srv_b")];
    let onA = 0;
    for (let index = 0; index < 3000; index++) if (pick(`172.16.${index >> 8}.${index & 255}`, weighted) === "srv_a") onA++;
    expect(onA / 3000).toBeCloseTo(2 / 3, 1);
  });

  it("passes on an empty list", () => {
    expect(createSourceHashStep()(input([], { local: { clientIp: "192.0.2.1" } }), context())).toBeNull();
  });
});
