/**
 * How waiting clients are told (issue 16 items 3 and 4): server-sent events push the place and
 * then the connection answer; an X2Go client, which cannot wait inside its protocol, gets a
 * pseudo-host naming its place, keeps the place while it retries, and gets the server it was
 * placed on at its next try.
 */
import { describe, expect, it } from "vitest";
import { admin, asUser, beat, call, enrolNode, sampleBody, type TestNode, userToken } from "./helpers.ts";

const PASSWORD = "correct-horse-battery";

async function fullPool(name: string, mode: "relay" | "redirect"): Promise<TestNode> {
  expect((await admin("/v1/admin/pools", "POST", { name, intervalMs: 300_000 })).status).toBe(201);
  const node = await enrolNode(`${name}-1`, name);
  await free(node);
  const profile = { id: `${name}-desk`, name: "Desk", pool: name, mode, queue: { enabled: true, maxLength: 10, maxWaitSeconds: 600 } };
  expect((await admin("/v1/admin/profiles", "POST", profile)).status).toBe(201);
  expect((await asUser(await userToken(`${name}-holder`), "/v1/sessions", "POST", { profileId: profile.id })).status).toBe(201);
  expect((await beat(node, sampleBody({ sessions: [{ id: "held-1", user: `${name}-holder`, state: "running", startedAt: 1 }], users: [], staticData: { maxSessions: 1 } }))).status).toBe(200);
  return node;
}

async function free(node: TestNode): Promise<void> {
  expect((await beat(node, sampleBody({ sessions: [], users: [], staticData: { maxSessions: 1 } }))).status).toBe(200);
}

/** Reads server-sent events until `last` arrives; their names and parsed data. */
async function readEvents(body: ReadableStream<Uint8Array>, last: string): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      if (event === last) {
        await reader.cancel();
        return events;
      }
    }
  }
}

describe("wait line: server-sent events", () => {
  it("pushes the place, then the connection answer when a server frees", async () => {
    const node = await fullPool("wls", "relay");
    const token = await userToken("wls-jane");
    const started = (await (await asUser(token, "/v1/sessions", "POST", { profileId: "wls-desk" })).json()) as { queued: { id: string } };
    const response = await call(`/v1/queue/${started.queued.id}/events`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/event-stream");
    const events = readEvents(response.body as ReadableStream<Uint8Array>, "placed");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await free(node);
    const seen = await events;
    expect(seen[0]).toMatchObject({ event: "position", data: { state: "queued", queued: { position: 1 } } });
    expect(seen.at(-1)).toMatchObject({ event: "placed", data: { state: "running", relay: { ticket: expect.any(String) } } });
  });

  it("answers an unknown place with a plain 404 before any stream", async () => {
    const token = await userToken("wls-kim");
    const response = await call("/v1/queue/wls.wq_AAAAAAAAAAAAAAAAAAAA/events", { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });
});

describe("wait line: X2Go clients", () => {
  const select = (login: string) =>
    call("/plain/", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ user: login, password: PASSWORD, authid: "", task: "selectsession", sid: "wlx-desk" }).toString(),
    }).then((response) => response.text());

  it("names the place in the server line, keeps it across tries, and hands over the server once placed", async () => {
    const node = await fullPool("wlx", "redirect");
    await userToken("wlx-ivy");
    await userToken("wlx-joe");
    expect(await select("wlx-ivy")).toContain("SERVER:all-servers-busy-you-are-number-1-in-line:22\n");
    expect(await select("wlx-joe")).toContain("SERVER:all-servers-busy-you-are-number-2-in-line:22\n");
    expect(await select("wlx-ivy")).toContain("SERVER:all-servers-busy-you-are-number-1-in-line:22\n");
    await free(node);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await select("wlx-ivy")).toContain(`SERVER:${node.hostname}:22\n`);
    expect(await select("wlx-joe")).toContain("SERVER:all-servers-busy-you-are-number-1-in-line:22\n");
  });
});
