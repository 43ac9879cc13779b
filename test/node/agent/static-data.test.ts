import { utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStaticDataReader } from "../../../agent/static-data.ts";
import { nodeFileAccess } from "../../../agent/node-deps.ts";
import { tempDir } from "./helpers.ts";

async function writeAt(path: string, text: string, mtimeSeconds: number) {
  await writeFile(path, text);
  await utimes(path, mtimeSeconds, mtimeSeconds);
}

describe("static data file", () => {
  it("is {} without a file", async () => {
    const read = createStaticDataReader(undefined, { fs: nodeFileAccess, log: () => {} });
    expect(await read()).toEqual({});
  });

  it("is re-read only when its mtime changes, and a broken file keeps the last good value, logged once", async () => {
    const path = join(await tempDir(), "static.json");
    const lines: string[] = [];
    let reads = 0;
    const fs = { ...nodeFileAccess, readText: (p: string) => ((reads += 1), nodeFileAccess.readText(p)) };
    const read = createStaticDataReader(path, { fs, log: (line) => lines.push(line) });

    await writeAt(path, '{"gpu": true}', 1_000);
    expect(await read()).toEqual({ gpu: true });
    expect(await read()).toEqual({ gpu: true });
    expect(reads).toBe(1);

    await writeAt(path, '{"gpu": ', 2_000);
    expect(await read()).toEqual({ gpu: true });
    await writeAt(path, '{"gpu": [{}]}', 3_000);
    expect(await read()).toEqual({ gpu: true });
    expect(await read()).toEqual({ gpu: true });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^static data file .*static\.json: .*; keeping the last good static data$/);

    await writeAt(path, '{"gpu": false, "maxSessions": 8}', 4_000);
    expect(await read()).toEqual({ gpu: false, maxSessions: 8 });
    expect(lines[2]).toMatch(/is valid again$/);
  });
});
