/**
 * Where the helper keeps its sign-ins: one JSON file, `credentials.json` in the user's config
 * directory (`$XDG_CONFIG_HOME/edge-desktop`, else `~/.config/edge-desktop`), the directory mode
 * 0700 and the file 0600, written to a temporary name and renamed so a reader never sees half a
 * file. One entry per broker URL. A file that others may read is refused, as OpenSSH refuses
 * such a key: the tokens in it act as the user.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

export const CREDENTIALS_FILE = "credentials.json";

const passwordSignIn = z.strictObject({
  source: z.literal("password"),
  login: z.string().min(1).max(256),
  token: z.string().min(1).max(8192),
  /** Epoch ms: when the token stops working, and when it was issued (refreshes happen past half its life). */
  expiresAt: z.number().int(),
  obtainedAt: z.number().int(),
});

const oidcSignIn = z.strictObject({
  source: z.literal("oidc"),
  /** A command that prints an identity provider's JWT for the broker (`cloudflared access token …`, `oidc-token …`). */
  command: z.string().min(1).max(4096),
  login: z.string().max(256).optional(),
  token: z.string().min(1).max(8192).optional(),
  expiresAt: z.number().int().optional(),
});

export const signInSchema = z.discriminatedUnion("source", [passwordSignIn, oidcSignIn]);
export type SignIn = z.infer<typeof signInSchema>;

const fileSchema = z.strictObject({ version: z.literal(1), brokers: z.record(z.string(), signInSchema) });
type CredentialFile = z.infer<typeof fileSchema>;

/** The store could not be read or written: a message for the user. */
export class StoreError extends Error {
  override name = "StoreError";
}

export function defaultConfigDir(env: NodeJS.ProcessEnv): string {
  if (env["EDGE_DESKTOP_CONFIG_DIR"]) return env["EDGE_DESKTOP_CONFIG_DIR"];
  return join(env["XDG_CONFIG_HOME"] || join(homedir(), ".config"), "edge-desktop");
}

export interface CredentialStore {
  readonly path: string;
  get(broker: string): Promise<SignIn | null>;
  /** The brokers signed in to, in the order they were added. */
  brokers(): Promise<string[]>;
  put(broker: string, signIn: SignIn): Promise<void>;
  remove(broker: string): Promise<boolean>;
}

export function credentialStore(configDir: string): CredentialStore {
  const path = join(configDir, CREDENTIALS_FILE);

  async function load(): Promise<CredentialFile> {
    let text: string;
    try {
      const info = await stat(path);
      if ((info.mode & 0o077) !== 0) throw new StoreError(`${path} may be read by other users (mode ${(info.mode & 0o777).toString(8)}): run chmod 600 ${path}`);
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, brokers: {} };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new StoreError(`${path} is not JSON: remove it and sign in again`);
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) throw new StoreError(`${path} is not a credentials file of this helper: remove it and sign in again`);
    return parsed.data;
  }

  async function save(file: CredentialFile): Promise<void> {
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    await chmod(configDir, 0o700);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, path);
  }

  return {
    path,
    async get(broker) {
      return (await load()).brokers[broker] ?? null;
    },
    async brokers() {
      return Object.keys((await load()).brokers);
    },
    async put(broker, signIn) {
      const file = await load();
      file.brokers[broker] = signIn;
      await save(file);
    },
    async remove(broker) {
      const file = await load();
      if (!(broker in file.brokers)) return false;
      delete file.brokers[broker];
      await save(file);
      return true;
    },
  };
}

/**
 * A broker URL as the store keys it: http(s), no query or fragment, no trailing slash. Plain
 * http only to a loopback host: anything else would carry the user's password and tokens in clear.
 */
export function normalizeBrokerUrl(text: string): string {
  if (!URL.canParse(text)) throw new StoreError(`"${text}" is not a URL such as https://broker.example.com`);
  const url = new URL(text);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new StoreError(`"${text}" is not an http(s) URL`);
  const loopback = url.hostname === "localhost" || url.hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol === "http:" && !loopback) throw new StoreError(`"${text}" is plain http: use https (plain http only to this machine)`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
