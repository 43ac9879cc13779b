/**
 * The dashboard's pages do what the JSON admin API does, through the same functions: servers
 * (live JSON, sorting, drain / remove behind a confirmation), sessions, policies (save with the
 * API's validation errors, dry run with a trace), decisions, enrolment tokens, users, profiles.
 */
import { describe, expect, it } from "vitest";
import { admin, asUser, beat, call, callJson, dashboardSession, enrolNode, sampleBody, userToken } from "./helpers.ts";

const session = dashboardSession;

interface ApiRow {
  serverId: string;
  hostname: string;
  status: string;
  cells: Record<string, string>;
  toggleAction: string;
}

async function apiRows(ui: Awaited<ReturnType<typeof session>>, query = ""): Promise<ApiRow[]> {
  const answer = (await (await ui.get(`/admin/api/servers${query}`)).json()) as { pools: Array<{ name: string; servers: ApiRow[] }> };
  return answer.pools.find((pool) => pool.name === "default")?.servers ?? [];
}

describe("dashboard pages: servers", () => {
  it("lists servers with status, load, memory, CPUs, sessions, users and static data; the JSON sorts them", async () => {
    const ui = await session();
    const light = await enrolNode("ui-light");
    const heavy = await enrolNode("ui-heavy");
    await beat(light, sampleBody({ loadAvg: [0.1, 0.1, 0.1], staticData: { gpu: true } }));
    await beat(heavy, sampleBody({ loadAvg: [3.5, 2, 1], cpuCount: 16, users: ["alice", "bob"] }));
    const page = await (await ui.get("/admin/servers")).text();
    expect(page).toContain('data-live-servers="/admin/api/servers?sort=hostname&amp;dir=asc"');
    expect(page).toMatch(/<tr data-server-id="srv_\w+" data-status="up">/);
    expect(page).toContain("ui-heavy");
    expect(page).toContain('<th scope="col" aria-sort="ascending">');
    const byLoad = await apiRows(ui, "?sort=load&dir=desc");
    const names = byLoad.map((row) => row.hostname).filter((name) => name.startsWith("ui-"));
    expect(names).toEqual(["ui-heavy", "ui-light"]);
    const heavyRow = byLoad.find((row) => row.serverId === heavy.serverId);
    expect(heavyRow?.cells).toMatchObject({ status: "up", load: "3.50 / 2.00 / 1.00", cpus: "16", users: "alice, bob", memory: "1.9 / 7.5 GiB" });
    expect(heavyRow?.cells["lastSeen"]).toMatch(/just now|\d+ s ago/);
    expect(byLoad.find((row) => row.serverId === light.serverId)?.cells["staticData"]).toBe("gpu=true");
    expect((await ui.get("/admin/api/servers?sort=colour")).status).toBe(400);
  });

  it("asks before draining, then drains; the polled JSON shows it; remove asks too", async () => {
    const ui = await session();
    const node = await enrolNode("ui-drain");
    await beat(node);
    const path = `/admin/servers/default/${node.serverId}`;
    const ask = await ui.post(`${path}/drain`);
    expect(ask.status).toBe(200);
    const confirm = await ask.text();
    expect(confirm).toContain("Drain ui-drain?");
    expect(confirm).toContain('name="confirmed" value="yes"');
    expect((await apiRows(ui)).find((row) => row.serverId === node.serverId)?.status).toBe("up");
    const done = await ui.post(`${path}/drain`, { confirmed: "yes" });
    expect(done.status).toBe(303);
    expect(done.headers.get("Location")).toBe("/admin/servers?notice=drained");
    const row = (await apiRows(ui)).find((candidate) => candidate.serverId === node.serverId);
    expect(row).toMatchObject({ status: "draining", toggleAction: `${path}/undrain` });
    expect(row?.cells["toggleLabel"]).toBe("Undrain");
    expect(await (await ui.get("/admin/servers?notice=drained")).text()).toContain("The server is draining");
    expect(await (await ui.post(`${path}/remove`)).text()).toContain("Remove ui-drain?");
    expect((await ui.post(`${path}/remove`, { confirmed: "yes" })).status).toBe(303);
    expect((await apiRows(ui)).some((candidate) => candidate.serverId === node.serverId)).toBe(false);
    expect((await ui.post(`${path}/drain`)).status).toBe(404);
  });
});

describe("dashboard pages: pools, policies, decisions", () => {
  it("shows the save error of a policy with a script syntax error, keeps the text, and saves nothing", async () => {
    const ui = await session();
    const broken = '{"steps":[{"script":"function (input) { return [ }","name":"broken"}]}';
    const response = await ui.post("/admin/pools/default/policy", { policy: broken });
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toMatch(/<p class="error" role="alert">step 1 \(broken\): [^<]*line 1/);
    expect(page).toContain("return [ }");
    expect(await (await admin("/v1/admin/pools/default/policy")).json()).toMatchObject({ isDefault: true });
    const notJson = await ui.post("/admin/pools/default/policy", { policy: "{steps:" });
    expect(await notJson.text()).toContain("the policy is not valid JSON");
    const unknownStep = await ui.post("/admin/pools/default/policy", { policy: '{"steps":[{"use":"fastest"}]}' });
    expect(await unknownStep.text()).toContain("unknown built-in step");
  });

  it("dry-runs a draft for a user and data, showing the chosen server and the trace; saves a valid policy", async () => {
    const ui = await session();
    const gpu = await enrolNode("ui-gpu");
    await beat(gpu, sampleBody({ staticData: { site: "ui-gpu-site" } }));
    const policy = JSON.stringify({ steps: [{ use: "require" }, { use: "least-loaded" }] });
    const dry = await ui.post("/admin/pools/default/dry-run", { policy, login: "zed", groups: "staff", data: '{"require":{"site":"ui-gpu-site"}}' });
    expect(dry.status).toBe(200);
    const page = await dry.text();
    expect(page).toContain('Chosen server: <strong data-chosen="true">ui-gpu</strong>');
    expect(page).toContain("kept ui-gpu</td>");
    expect(page).toMatch(/<th scope="row">require<\/th><td>filtered<\/td>/);
    expect(page).toContain("Trace of the dry run");
    expect(await (await admin("/v1/admin/pools/default/policy")).json()).toMatchObject({ isDefault: true });
    const saved = await ui.post("/admin/pools/default/policy", { policy });
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain("Policy validated and saved.");
    expect(await (await admin("/v1/admin/pools/default/policy")).json()).toMatchObject({ isDefault: false, policy: JSON.parse(policy) });
    expect(await (await ui.get("/admin/pools")).text()).toContain("require → least-loaded");
    expect((await ui.post("/admin/pools/default/policy", { policy: "" })).status).toBe(200);
    expect(await (await admin("/v1/admin/pools/default/policy")).json()).toMatchObject({ isDefault: true });
  });

  it("lists recent real decisions with their traces", async () => {
    const ui = await session();
    const node = await enrolNode("ui-decide");
    await beat(node);
    expect((await admin("/v1/admin/profiles", "POST", { id: "ui-desk", name: "UI desk", pool: "default", mode: "redirect" })).status).toBe(201);
    const token = await userToken("ui-decider");
    expect((await asUser(token, "/v1/sessions", "POST", { profileId: "ui-desk" })).status).toBe(201);
    const page = await (await ui.get("/admin/decisions?pool=default")).text();
    expect(page).toContain("<td>ui-decider</td>");
    expect(page).toMatch(/<summary>\d+ steps?<\/summary>/);
    expect(page).toContain("least-loaded");
  });

  it("creates a pool", async () => {
    const ui = await session();
    expect((await ui.post("/admin/pools", { name: "ui-lab", intervalSeconds: "2" })).status).toBe(303);
    expect(await (await admin("/v1/admin/pools/ui-lab")).json()).toMatchObject({ name: "ui-lab", intervalMs: 2000 });
    expect((await ui.post("/admin/pools", { name: "ui-lab", intervalSeconds: "2" })).status).toBe(409);
  });
});

describe("dashboard pages: enrolment, sessions, users, profiles", () => {
  it("shows a new enrolment token once, with its expiry and a copy button; the token enrols a node", async () => {
    const ui = await session();
    const response = await ui.post("/admin/enrolment", { pool: "default", ttlSeconds: "600" });
    const page = await response.text();
    const token = /id="issued-token" readonly="" value="(enr_[\w-]+)"/.exec(page)?.[1];
    expect(token).toBeDefined();
    expect(page).toContain('data-copy="issued-token"');
    expect(page).toMatch(/<time datetime="[\d-]+T[\d:.]+Z">/);
    expect(await (await ui.get("/admin/enrolment")).text()).not.toContain(token);
    const enrol = await callJson("/v1/agent/enrol", "POST", {
      token,
      publicKey: { kty: "OKP", crv: "Ed25519", x: "A".repeat(43) },
      hostname: "ui-enrolled",
      originUrl: "http://127.0.0.1:6080",
    });
    expect(enrol.status).toBe(201);
    expect((await ui.post("/admin/enrolment", { pool: "default", ttlSeconds: "5" })).status).toBe(400);
  });

  it("lists sessions across the cluster, filtered by user and by server", async () => {
    const ui = await session();
    const one = await enrolNode("ui-sess-1");
    const two = await enrolNode("ui-sess-2");
    await beat(one, sampleBody({ sessions: [{ id: "s-carol", user: "carol", state: "running", startedAt: 1_700_000_000_000 }] }));
    await beat(two, sampleBody({ sessions: [{ id: "s-dave", user: "dave", state: "suspended", startedAt: 1_700_000_100_000 }] }));
    const all = await (await ui.get("/admin/sessions")).text();
    expect(all).toContain("s-carol");
    expect(all).toContain("s-dave");
    const byUser = await (await ui.get("/admin/sessions?user=dave")).text();
    expect(byUser).toContain("s-dave");
    expect(byUser).not.toContain("s-carol");
    const byServer = await (await ui.get("/admin/sessions?server=ui-sess-1")).text();
    expect(byServer).toContain("s-carol");
    expect(byServer).not.toContain("s-dave");
    expect(await (await ui.get(`/admin/sessions?server=${two.serverId}`)).text()).toContain("s-dave");
  });

  it("creates, disables and deletes users (delete asks first); shows the validation error", async () => {
    const ui = await session();
    const created = await ui.post("/admin/users", { login: "ui-erin", password: "erin password", groups: "lab, staff", isAdmin: "on" });
    expect(created.status).toBe(303);
    expect(await (await admin("/v1/admin/users/ui-erin")).json()).toMatchObject({ groups: ["lab", "staff"], isAdmin: true });
    const bad = await ui.post("/admin/users", { login: "ui-frank", password: "short" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("invalid user: password");
    expect((await ui.post("/admin/users", { login: "ui-erin", password: "erin password" })).status).toBe(409);
    expect((await ui.post("/admin/users/ui-erin/disable")).status).toBe(303);
    expect(await (await admin("/v1/admin/users/ui-erin")).json()).toMatchObject({ disabled: true });
    expect(await (await ui.post("/admin/users/ui-erin/delete")).text()).toContain("Delete user ui-erin?");
    expect((await admin("/v1/admin/users/ui-erin")).status).toBe(200);
    expect((await ui.post("/admin/users/ui-erin/delete", { confirmed: "yes" })).status).toBe(303);
    expect((await admin("/v1/admin/users/ui-erin")).status).toBe(404);
  });

  it("creates profiles from JSON (errors shown, draft kept) and deletes them after asking", async () => {
    const ui = await session();
    const draft = JSON.stringify({ id: "ui-prof", name: "UI profile", pool: "default", mode: "relay" });
    expect((await ui.post("/admin/profiles", { profile: draft })).status).toBe(303);
    expect(await (await ui.get("/admin/profiles")).text()).toContain('<tr data-profile="ui-prof">');
    const wrongPool = await ui.post("/admin/profiles", { profile: draft.replace('"default"', '"nowhere"').replace("ui-prof", "ui-prof2") });
    expect(wrongPool.status).toBe(400);
    const text = await wrongPool.text();
    expect(text).toContain("no pool named nowhere");
    expect(text).toContain("ui-prof2");
    expect(await (await ui.post("/admin/profiles/ui-prof/delete")).text()).toContain("Delete profile ui-prof?");
    expect((await ui.post("/admin/profiles/ui-prof/delete", { confirmed: "yes" })).status).toBe(303);
    expect((await admin("/v1/admin/profiles/ui-prof")).status).toBe(404);
  });
});
