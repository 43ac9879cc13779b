/**
 * Whether a loopback TCP connection comes from a process of this helper's own OS user, read from
 * the kernel's socket table (`/proc/net/tcp`, `/proc/net/tcp6`): the peer's socket is the row
 * whose local end is the connection's remote end, and that row names its owner's uid. On a
 * shared machine this keeps other users off the ports the helper opens, as file modes keep them
 * off ssh-agent's socket. Where the table does not exist (not Linux), every peer is admitted.
 */
import { readFile } from "node:fs/promises";
import { isIPv4, type Socket } from "node:net";

/** `127.0.0.1` → `0100007F`: the table prints each 32-bit word in the host's (little-endian) byte order. */
function ipv4Word(address: string): string {
  return address
    .split(".")
    .map((part) => Number(part).toString(16).padStart(2, "0").toUpperCase())
    .reverse()
    .join("");
}

/** The table's `ADDRESS:PORT` forms of an address and port (IPv4, and IPv4 mapped into IPv6). */
export function tableKeys(address: string, port: number): string[] {
  const hexPort = port.toString(16).padStart(4, "0").toUpperCase();
  const plain = address.replace(/^::ffff:/i, "");
  if (isIPv4(plain)) return [`${ipv4Word(plain)}:${hexPort}`, `0000000000000000FFFF0000${ipv4Word(plain)}:${hexPort}`];
  if (address === "::1") return [`00000000000000000000000001000000:${hexPort}`];
  return [];
}

/** The uid owning the socket whose local end is `local` and remote end is `remote` (table text), or null. */
export function ownerOf(table: string, local: string[], remote: string[]): number | null {
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    if (local.includes(fields[1] ?? "") && remote.includes(fields[2] ?? "")) return Number(fields[7]);
  }
  return null;
}

export async function peerIsSameUser(socket: Socket): Promise<boolean> {
  const uid = process.getuid?.();
  if (uid === undefined || !socket.remoteAddress || !socket.remotePort || !socket.localAddress || !socket.localPort) return uid === undefined;
  const peer = tableKeys(socket.remoteAddress, socket.remotePort);
  const ours = tableKeys(socket.localAddress, socket.localPort);
  let sawTable = false;
  for (const path of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const table = await readFile(path, "utf8").catch(() => null);
    if (table === null) continue;
    sawTable = true;
    const owner = ownerOf(table, peer, ours);
    if (owner !== null) return owner === uid;
  }
  return !sawTable;
}
