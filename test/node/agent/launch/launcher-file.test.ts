import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveLauncher } from "../../../../agent/launch/launcher-file.ts";
import { nodeLauncherFiles } from "../../../../agent/launch/node-launch-deps.ts";
import { tempDir } from "../helpers.ts";
import { launcherDir, writeLauncher } from "./helpers.ts";

async function failureCode(dir: string, name: string): Promise<string> {
  const result = await resolveLauncher(dir, name, nodeLauncherFiles);
  if (result.ok) throw new Error(`expected ${name} to be refused, got ${result.value}`);
  return result.error.code;
}

describe("launcher lookup: only executables inside the launcher directory run", () => {
  it("finds a regular executable file by its name and answers its real path", async () => {
    const dir = await launcherDir();
    const path = await writeLauncher(dir, "xvnc", "exit 0");
    expect(await resolveLauncher(dir, "xvnc", nodeLauncherFiles)).toEqual({ ok: true, value: path });
  });

  it.each(["../xvnc", "/bin/sh", "xvnc/../../x", ".hidden", "Xvnc", "x.sh", "", "a b", "-x", `x${"y".repeat(64)}`])("refuses the name %j before touching the file system", async (name) => {
    expect(await failureCode(await launcherDir(), name)).toBe("bad-name");
  });

  it("refuses a symlink that leaves the directory, even to an executable", async () => {
    const dir = await launcherDir();
    await symlink("/bin/sh", join(dir, "shell"));
    expect(await failureCode(dir, "shell")).toBe("outside-directory");
    const outside = await writeLauncher(await tempDir(), "evil", "exit 0");
    await symlink(outside, join(dir, "evil"));
    await writeLauncher(join(dir, ".."), "beside", "exit 0");
    await symlink("../beside", join(dir, "relative"));
    expect(await failureCode(dir, "evil")).toBe("outside-directory");
    expect(await failureCode(dir, "relative")).toBe("outside-directory");
  });

  it("follows a symlink that stays inside the directory, and runs its target", async () => {
    const dir = await launcherDir();
    await mkdir(join(dir, "lib"));
    const target = await writeLauncher(join(dir, "lib"), "real", "exit 0");
    await symlink("lib/real", join(dir, "alias"));
    expect(await resolveLauncher(dir, "alias", nodeLauncherFiles)).toEqual({ ok: true, value: target });
  });

  it("refuses a missing file, a directory, a non-executable and a world-writable file", async () => {
    const dir = await launcherDir();
    await mkdir(join(dir, "lib"));
    await writeFile(join(dir, "plain"), "#!/bin/sh\n", { mode: 0o644 });
    await writeLauncher(dir, "open", "exit 0", 0o777);
    expect(await failureCode(dir, "absent")).toBe("not-found");
    expect(await failureCode(dir, "lib")).toBe("not-a-file");
    expect(await failureCode(dir, "plain")).toBe("not-executable");
    expect(await failureCode(dir, "open")).toBe("writable-by-others");
  });

  it("reports a missing launcher directory", async () => {
    expect(await failureCode(join(await tempDir(), "nope"), "xvnc")).toBe("no-directory");
  });
});
