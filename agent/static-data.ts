/**
 * Static data from an admin-maintained JSON file (gpu, maxSessions…). Re-read only when its
 * mtime changes; a broken or missing file keeps the last good value and is logged once.
 */
import { type StaticData, staticDataSchema } from "../src/protocol.ts";
import { errorMessage, type FileAccess } from "./deps.ts";

/** Reads and validates the file. @throws Error with a one-line reason. */
export async function readStaticDataFile(fs: Pick<FileAccess, "readText">, path: string): Promise<StaticData> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readText(path));
  } catch (error) {
    throw new Error(`static data file ${path}: ${errorMessage(error)}`);
  }
  const parsed = staticDataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`static data file ${path}: ${issue?.path.join(".") || "(top level)"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** Returns a function giving the current static data (`{}` without a file). */
export function createStaticDataReader(
  path: string | undefined,
  deps: { fs: Pick<FileAccess, "readText" | "mtimeMs">; log: (line: string) => void },
): () => Promise<StaticData> {
  let current: StaticData = {};
  let loadedMtimeMs: number | null = null;
  let lastProblem: string | null = null;

  const report = (problem: string) => {
    if (problem !== lastProblem) deps.log(`${problem}; keeping the last good static data`);
    lastProblem = problem;
  };

  return async () => {
    if (path === undefined) return current;
    let mtimeMs: number;
    try {
      mtimeMs = await deps.fs.mtimeMs(path);
    } catch (error) {
      report(`static data file ${path}: ${errorMessage(error)}`);
      return current;
    }
    if (mtimeMs === loadedMtimeMs) return current;
    loadedMtimeMs = mtimeMs;
    try {
      current = await readStaticDataFile(deps.fs, path);
      if (lastProblem !== null) deps.log(`static data file ${path} is valid again`);
      lastProblem = null;
    } catch (error) {
      report(errorMessage(error));
    }
    return current;
  };
}
