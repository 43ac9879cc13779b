/**
 * The relay's fallback (a new session's node unreachable: mark it suspect, place again avoiding
 * it) places with the same inputs as the first placement: the profile's policy and hosts, the
 * user's request data, and the profile's ACL for that user (groups as at the start, the address
 * that connects). Local broker (test/harness), real agents, loopback origins:
 * - gold-dead: tier gold, its origin a port where nothing listens, idle, so starts land on it;
 * - silver: tier silver, reachable, some sessions;
 * - gold-live: tier gold, reachable, the busiest, so only a gold-only choice lands there.
 * A fallback that forgets the policy lands on silver. Heartbeats every second bring gold-dead
 * back up after each suspect mark.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AgentHandle, enrolAgent } from "../harness/agents.ts";
import { type LocalBroker, scratchBrokerOptions, startBroker } from "../harness/broker.ts";
import { adminCall, listServers, signIn, withTicket } from "../harness/client.ts";
import { waitFor } from "../harness/wait.ts";
import { deadOriginUrl, openRelayed, type RelayOutcome, startOrigin, type TestOrigin } from "./relay-endpoints.ts";

const INTERVAL_MS = 1000;
const STAFF = { login: "fallback-staff", password: "fallback-password-123", groups: ["staff"] };
const GOLD_POLICY = { steps: [{ use: "require", params: { match: { tier: "gold" } } }, { use: "least-loaded" }] };
const OTHERS = (count: number) => Array.from({ length: count }, (_, index) => ({ id: `other-${index}`, user: `other-${index}`, state: "running", startedAt: 1_700_000_000_000 }));
const NODES = [
  { name: "gold-dead", tier: "gold", sessions: 0 },
  { name: "silver", tier: "silver", sessions: 12 },
  { name: "gold-live", tier: "gold", sessions: 24 },
];

let workDir: string;
let broker: LocalBroker;
let token: string;
const agents = new Map<string, AgentHandle>();
const origins: TestOrigin[] = [];

const serverIdOf = (name: string) => (agents.get(name) as AgentHandle).serverId;

async function profile(id: string, spec: { hosts?: string[]; policy?: unknown; acl?: unknown }): Promise<void> {
  await adminCall(broker, "/v1/admin/profiles", "POST", {
    id,
    name: id,
    pool: "default",
    mode: "relay",
    // The tests start many sessions as one user on origins that never report them: the per-user limit is raised.
    maxSessionsPerUser: 100,
    hosts: (spec.hosts ?? []).map((name) => ({ name })),
    acl: spec.acl ?? {},
    ...(spec.policy ? { policy: spec.policy } : {}),
  });
}

async function start(profileId: string, options: { data?: Record<string, unknown>; clientIp?: string } = {}): Promise<{ serverId: string; relay: { url: string; ticket: string } }> {
  const response = await fetch(`${broker.url}/v1/sessions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(options.clientIp ? { "CF-Connecting-IP": options.clientIp } : {}) },
    body: JSON.stringify({ profileId, ...(options.data ? { data: options.data } : {}) }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`start ${profileId}: ${response.status} ${text}`);
  const answer = JSON.parse(text) as { serverId: string; relay: { url: string; ticket: string } };
  // Every case starts on the unreachable node, so what follows is the fallback.
  expect(answer.serverId).toBe(serverIdOf("gold-dead"));
  return answer;
}

/** The ticket in the query (the subprotocol form has tests of its own: relay-subprotocol.test.ts). */
function connect(relay: { url: string; ticket: string }, clientIp?: string): Promise<RelayOutcome> {
  return openRelayed(withTicket(relay.url, relay.ticket), [], clientIp ? { "CF-Connecting-IP": clientIp } : {});
}

function greetingOf(outcome: RelayOutcome): string {
  if (outcome.kind !== "open") throw new Error(`the relay did not open: ${JSON.stringify(outcome)}`);
  outcome.socket.close();
  return outcome.greeting;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "broker-relay-fallback-"));
  broker = await startBroker(await scratchBrokerOptions(workDir));
  await adminCall(broker, "/v1/admin/pools/default", "PATCH", { intervalMs: INTERVAL_MS });
  for (const node of NODES) {
    let originUrl = await deadOriginUrl();
    if (node.name !== "gold-dead") {
      const origin = await startOrigin(node.name);
      origins.push(origin);
      originUrl = origin.url;
    }
    const agent = await enrolAgent(broker, { hostname: node.name, dir: join(workDir, node.name), staticData: { tier: node.tier }, sessions: OTHERS(node.sessions), originUrl, logFile: join(workDir, `${node.name}.log`) });
    agents.set(node.name, agent);
    agent.start();
  }
  await adminCall(broker, "/v1/admin/users", "POST", STAFF);
  token = await signIn(broker, STAFF.login, STAFF.password);
});

beforeEach(async () => {
  await waitFor(async () => (await listServers(broker)).filter((server) => server.status === "up").length === NODES.length, 15_000, "every node up");
});

afterAll(async () => {
  await Promise.all([...agents.values()].map((agent) => agent.stop("SIGKILL")));
  await broker?.stop();
  await Promise.all(origins.map((origin) => origin.close()));
  rmSync(workDir, { recursive: true, force: true });
});

describe("the fallback keeps the profile's policy", () => {
  it("a profile requiring tier=gold falls back to the other gold node, not the less busy silver one", async () => {
    await profile("gold", { policy: GOLD_POLICY });
    expect(greetingOf(await connect((await start("gold")).relay))).toBe("origin gold-live");
  });

  it("with no other gold node taking sessions, the relay answers 502 instead of placing on silver", async () => {
    await profile("gold-only", { policy: GOLD_POLICY });
    await adminCall(broker, `/v1/admin/pools/default/servers/${serverIdOf("gold-live")}/drain`, "POST");
    try {
      expect(await connect((await start("gold-only")).relay)).toMatchObject({ kind: "refused", status: 502 });
    } finally {
      await adminCall(broker, `/v1/admin/pools/default/servers/${serverIdOf("gold-live")}/undrain`, "POST");
    }
  });

  it("keeps the user's own request data (require tier=gold) under the pool's default chain", async () => {
    await profile("any", {});
    expect(greetingOf(await connect((await start("any", { data: { require: { tier: "gold" } } })).relay))).toBe("origin gold-live");
  });
});

describe("the fallback applies the profile's ACL to the user", () => {
  const hosts = ["gold-dead", "silver"];

  it("places a user the ACL admits through a group they had at the start", async () => {
    await profile("staff", { hosts, acl: { groups: { allow: ["staff"], deny: [], order: "deny-allow" } } });
    expect(greetingOf(await connect((await start("staff")).relay))).toBe("origin silver");
  });

  it("refuses when the profile's ACL no longer admits the user (changed after the start)", async () => {
    await profile("staff-then-admins", { hosts, acl: { groups: { allow: ["staff"], deny: [], order: "deny-allow" } } });
    const answer = await start("staff-then-admins");
    await adminCall(broker, "/v1/admin/profiles/staff-then-admins", "PUT", {
      name: "staff-then-admins",
      pool: "default",
      mode: "relay",
      hosts: hosts.map((name) => ({ name })),
      acl: { groups: { allow: ["admins"], deny: [], order: "deny-allow" } },
    });
    const outcome = await connect(answer.relay);
    expect(outcome.kind === "open" ? `opened on ${outcome.greeting}` : outcome.kind).toBe("refused");
    expect([403, 404]).toContain((outcome as Extract<RelayOutcome, { kind: "refused" }>).status);
  });

  it("applies a client-address rule to the address that connects", async () => {
    await profile("lan", { hosts, acl: { clients: { allow: ["10.0.0.0/8"], deny: [], order: "deny-allow" } } });
    const outside = await connect((await start("lan", { clientIp: "10.1.2.3" })).relay, "192.0.2.7");
    expect(outside.kind === "open" ? `opened on ${outside.greeting}` : outside.kind).toBe("refused");
    expect([403, 404]).toContain((outside as Extract<RelayOutcome, { kind: "refused" }>).status);
    await waitFor(async () => (await listServers(broker)).every((server) => server.status === "up"), 15_000, "gold-dead up again");
    expect(greetingOf(await connect((await start("lan", { clientIp: "10.1.2.3" })).relay, "10.9.8.7"))).toBe("origin silver");
  });
});
