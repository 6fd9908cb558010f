// Bitmap primitives over byte ranges (Redis's bitops.c helpers): population
// count, first set/clear bit, BITOP combination and BITFIELD integer access.
// Bit 0 is the most significant bit of the first byte, as in SETBIT.

/** Set bits per byte value. */
const BITS_IN_BYTE = new Uint8Array(256);
for (let i = 1; i < 256; i++) BITS_IN_BYTE[i] = (i & 1) + BITS_IN_BYTE[i >> 1];

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of bits set in u8[off, off+len). */
export function popcount(u8: Uint8Array, off: number, len: number): number {
  let bits = 0;
  let p = off;
  let n = len;
  if (n >= 64) {
    // Bytes up to a 4-byte boundary, then whole 32-bit words (byte order does not matter).
    while (((u8.byteOffset + p) & 3) !== 0) {
      bits += BITS_IN_BYTE[u8[p++]];
      n--;
    }
    const words = n >>> 2;
    const w = new Uint32Array(u8.buffer, u8.byteOffset + p, words);
    for (let i = 0; i < words; i++) bits += popcount32(w[i]);
    p += words << 2;
    n -= words << 2;
  }
  while (n-- > 0) bits += BITS_IN_BYTE[u8[p++]];
  return bits;
}

/**
 * Position of the first bit equal to `bit` in u8[off, off+count), like
 * redisBitpos(): when looking for a 0 and every bit is 1, the string is taken
 * as zero padded on the right and count*8 is returned; when looking for a 1
 * and there is none, -1.
 */
export function bitpos(u8: Uint8Array, off: number, count: number, bit: number): number {
  const skip = bit ? 0 : 0xff;
  let p = off;
  const end = off + count;
  if (count >= 64) {
    while (((u8.byteOffset + p) & 3) !== 0 && u8[p] === skip) p++;
    if (((u8.byteOffset + p) & 3) === 0) {
      const words = (end - p) >>> 2;
      const w = new Uint32Array(u8.buffer, u8.byteOffset + p, words);
      const skipWord = bit ? 0 : 0xffffffff;
      let i = 0;
      while (i < words && w[i] === skipWord) i++;
      p += i << 2;
    }
  }
  while (p < end && u8[p] === skip) p++;
  if (p === end) return bit ? -1 : count * 8;
  const b = u8[p];
  const inByte = bit ? Math.clz32(b) - 24 : Math.clz32(~b & 0xff) - 24;
  return (p - off) * 8 + inByte;
}

export const BITOP_AND = 0;
export const BITOP_OR = 1;
export const BITOP_XOR = 2;
export const BITOP_NOT = 3;

/** A source string for BITOP: bytes u8[off, off+len). */
export interface ByteRange {
  u8: Uint8Array;
  off: number;
  len: number;
}

/**
 * Combines the sources into out[0, maxLen): shorter sources count as zero
 * padded, NOT takes the single first source.
 */
export function bitop(op: number, srcs: readonly ByteRange[], out: Uint8Array, maxLen: number): void {
  const n = srcs.length;
  const first = srcs[0];
  if (op === BITOP_NOT) {
    const s = first.u8;
    const so = first.off;
    const sl = first.len;
    for (let j = 0; j < maxLen; j++) out[j] = j < sl ? ~s[so + j] & 0xff : 0xff;
    return;
  }
  // Start from the first source, then fold the others in one at a time.
  const fl = Math.min(first.len, maxLen);
  out.set(first.u8.subarray(first.off, first.off + fl), 0);
  out.fill(0, fl, maxLen);
  for (let k = 1; k < n; k++) {
    const s = srcs[k].u8;
    const so = srcs[k].off;
    const sl = Math.min(srcs[k].len, maxLen);
    if (op === BITOP_AND) {
      for (let j = 0; j < sl; j++) out[j] &= s[so + j];
      out.fill(0, sl, maxLen);
    } else if (op === BITOP_OR) {
      for (let j = 0; j < sl; j++) out[j] |= s[so + j];
    } else {
      for (let j = 0; j < sl; j++) out[j] ^= s[so + j];
    }
  }
}

// ---------------------------------------------------------------------------
// BITFIELD integer access. Reads treat bytes at or past `len` as zero.

/** Reads `bits` (1..32) bits at bit offset `pos` as an unsigned number. */
export function readBits32(u8: Uint8Array, off: number, len: number, pos: number, bits: number): number {
  let v = 0;
  let byteIdx = Math.floor(pos / 8);
  let shift = pos - byteIdx * 8; // bits already consumed in the current byte
  let left = bits;
  while (left > 0) {
    const avail = 8 - shift;
    const take = avail < left ? avail : left;
    const byte = byteIdx < len ? u8[off + byteIdx] : 0;
    const chunk = (byte >> (avail - take)) & ((1 << take) - 1);
    v = v * (1 << take) + chunk;
    left -= take;
    byteIdx++;
    shift = 0;
  }
  return v;
}

/** Writes the low `bits` (1..32) bits of the unsigned number `v` at bit offset `pos` (the bytes must exist). */
export function writeBits32(u8: Uint8Array, off: number, pos: number, bits: number, v: number): void {
  let byteIdx = Math.floor(pos / 8);
  let shift = pos - byteIdx * 8;
  let left = bits;
  while (left > 0) {
    const avail = 8 - shift;
    const take = avail < left ? avail : left;
    const chunk = Math.floor(v / 2 ** (left - take)) % (1 << take);
    const sh = avail - take;
    const mask = ((1 << take) - 1) << sh;
    const p = off + byteIdx;
    u8[p] = (u8[p] & ~mask) | (chunk << sh);
    left -= take;
    byteIdx++;
    shift = 0;
  }
}

const B32 = 32n;
const MASK32 = 0xffffffffn;

/** Reads `bits` (1..64) bits at bit offset `pos` as an unsigned 64-bit integer. */
export function getUnsignedBitfield(u8: Uint8Array, off: number, len: number, pos: number, bits: number): bigint {
  if (bits <= 32) return BigInt(readBits32(u8, off, len, pos, bits));
  const hi = readBits32(u8, off, len, pos, bits - 32);
  const lo = readBits32(u8, off, len, pos + bits - 32, 32);
  return (BigInt(hi) << B32) | BigInt(lo);
}

/** Reads `bits` (1..64) bits at bit offset `pos` as a two's complement signed integer. */
export function getSignedBitfield(u8: Uint8Array, off: number, len: number, pos: number, bits: number): bigint {
  return BigInt.asIntN(bits, getUnsignedBitfield(u8, off, len, pos, bits));
}

/** Writes the low `bits` (1..64) bits of `v` (any sign: its two's complement) at bit offset `pos`. */
export function setBitfield(u8: Uint8Array, off: number, pos: number, bits: number, v: bigint): void {
  const u = BigInt.asUintN(bits, v);
  if (bits <= 32) {
    writeBits32(u8, off, pos, bits, Number(u));
    return;
  }
  writeBits32(u8, off, pos, bits - 32, Number(u >> B32));
  writeBits32(u8, off, pos + bits - 32, 32, Number(u & MASK32));
}

export const BFOVERFLOW_WRAP = 0;
export const BFOVERFLOW_SAT = 1;
export const BFOVERFLOW_FAIL = 2;

/** Value an overflowing operation stores (WRAP and SAT), set by the check functions. */
export let bitfieldLimit = 0n;

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const i64 = (x: bigint): bigint => BigInt.asIntN(64, x);

/**
 * checkUnsignedBitfieldOverflow(): `value` is an unsigned 64-bit integer,
 * `incr` a signed one. Returns 0 when value+incr fits in `bits` unsigned
 * bits, else non-zero with bitfieldLimit set per the overflow type.
 */
export function checkUnsignedOverflow(value: bigint, incr: bigint, bits: number, owtype: number): number {
  const max = bits === 64 ? 0xffffffffffffffffn : (1n << BigInt(bits)) - 1n;
  if (value > max || (incr > 0n && incr > i64(max - value))) {
    if (owtype === BFOVERFLOW_WRAP) bitfieldLimit = BigInt.asUintN(bits, u64(value + incr));
    else if (owtype === BFOVERFLOW_SAT) bitfieldLimit = max;
    return 1;
  }
  if (incr < 0n && incr < i64(u64(-value))) {
    if (owtype === BFOVERFLOW_WRAP) {
      bitfieldLimit = BigInt.asUintN(bits, u64(value + incr));
      return 1;
    }
    if (owtype === BFOVERFLOW_SAT) bitfieldLimit = 0n;
    return -1;
  }
  return 0;
}

/** checkSignedBitfieldOverflow(): like checkUnsignedOverflow for `bits`-wide signed integers. */
export function checkSignedOverflow(value: bigint, incr: bigint, bits: number, owtype: number): number {
  const max = bits === 64 ? 0x7fffffffffffffffn : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = i64(u64(max) - u64(value));
  const minincr = i64(min - value);
  if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) {
    if (owtype === BFOVERFLOW_WRAP) bitfieldLimit = BigInt.asIntN(bits, value + incr);
    else if (owtype === BFOVERFLOW_SAT) bitfieldLimit = max;
    return 1;
  }
  if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) {
    if (owtype === BFOVERFLOW_WRAP) {
      bitfieldLimit = BigInt.asIntN(bits, value + incr);
      return 1;
    }
    if (owtype === BFOVERFLOW_SAT) bitfieldLimit = min;
    return -1;
  }
  return 0;
}
