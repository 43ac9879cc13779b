/**
 * Small deterministic non-cryptographic hashes for source-hash and user-hash: FNV-1a 32-bit
 * (Fowler/Noll/Vo) over the string's UTF-8 bytes, finished with MurmurHash3's `fmix32`
 * avalanche so that nearby keys ("user1", "user2") land far apart. Not for secrets: an attacker
 * who picks logins can pick servers, which is no worse than choosing a profile.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const encoder = new TextEncoder();

/** FNV-1a over the UTF-8 bytes of `text` (ASCII is hashed without encoding). */
export function fnv1a32(text: string, seed: number = FNV_OFFSET_BASIS): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0x80) return fnv1a32Bytes(encoder.encode(text), seed);
    hash = Math.imul(hash ^ unit, FNV_PRIME);
  }
  return hash >>> 0;
}

function fnv1a32Bytes(bytes: Uint8Array, seed: number): number {
  let hash = seed >>> 0;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME);
  return hash >>> 0;
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(value: number): number {
  let hash = value >>> 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A well-mixed unsigned 32-bit hash of `text`. */
export function hash32(text: string): number {
  return fmix32(fnv1a32(text));
}

/**
 * A hash of `text` as a float strictly inside (0, 1), with 52 bits from two independently seeded
 * passes; rendezvous hashing takes its logarithm, so 0 and 1 must never occur.
 */
export function unitHash(text: string): number {
  const high = fmix32(fnv1a32(text)) >>> 6; // 26 bits
  const low = fmix32(fnv1a32(text, 0x9e3779b9)) >>> 6; // 26 bits
  return (high * 67_108_864 + low + 0.5) / 4_503_599_627_370_496;
}
