/** IPv4 and IPv6 addresses and CIDR networks, for client ACLs (pure). */

/** An IP address as a number; IPv4-mapped IPv6 client addresses are read as IPv4. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

/** A network (`address/prefix`); a plain address is a /32 or /128. */
export interface IpNetwork extends IpAddress {
  prefix: number;
}

const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

function parseIpv4(text: string): bigint | null {
  const match = IPV4_PATTERN.exec(text);
  if (!match) return null;
  let value = 0n;
  for (const octet of match.slice(1)) {
    // Leading zeros are refused: some parsers read them as octal.
    if (octet.length > 1 && octet.startsWith("0")) return null;
    const number = Number(octet);
    if (number > 255) return null;
    value = (value << 8n) | BigInt(number);
  }
  return value;
}

function parseHexGroups(text: string): bigint[] | null {
  if (text === "") return [];
  const groups = text.split(":");
  if (groups.some((group) => !/^[0-9A-Fa-f]{1,4}$/.test(group))) return null;
  return groups.map((group) => BigInt(`0x${group}`));
}

function parseIpv6(text: string): bigint | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(":")) return null;
  let source = text;
  if (text.includes(".")) {
    const lastColon = text.lastIndexOf(":");
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    source = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = source.split("::");
  if (halves.length > 2) return null;
  const head = parseHexGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseHexGroups(halves[1] ?? "") : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...Array<bigint>(missing).fill(0n), ...tail].reduce((value, group) => (value << 16n) | group, 0n);
}

/** Parses an IPv4 or IPv6 address (no zone id); `::ffff:a.b.c.d` becomes the IPv4 address. */
export function parseIpAddress(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === IPV4_MAPPED_PREFIX >> 32n) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

/** Parses an ACL client entry: an IPv4/IPv6 address or CIDR network. Null if it is neither. */
export function parseIpNetwork(text: string): IpNetwork | null {
  const [address = "", prefixText, ...rest] = text.split("/");
  if (rest.length > 0) return null;
  const v4 = parseIpv4(address);
  const version = v4 !== null ? 4 : 6;
  const value = v4 ?? parseIpv6(address);
  if (value === null) return null;
  const bits = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { version, value, prefix: bits };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return null;
  return { version, value, prefix: Number(prefixText) };
}

/** Whether `address` lies in `network`; host bits set in the network are ignored. */
export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  if (network.version !== address.version) return false;
  const shift = BigInt((network.version === 4 ? 32 : 128) - network.prefix);
  return network.value >> shift === address.value >> shift;
}
