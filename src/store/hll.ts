import {
  HLL_CARD, HLL_DENSE, HLL_DENSE_BYTES, HLL_ENCODING, HLL_HEADER_BYTES, HLL_MAX_ENCODING, HLL_REGISTERS, HLL_SPARSE,
} from '../../native-layout/layout.ts';

// HyperLogLog values in Redis 7.0's byte format (drawn in native-layout/README.md):
// a 16-byte header ("HYLL", encoding, 3 unused bytes, cached cardinality whose
// top bit marks it stale), then either 16384 packed 6-bit registers (dense) or
// run-length opcodes (sparse: ZERO 00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL
// 1vvvvvxx). Every function works on a byte array and the offset `s` where
// the value starts, so the same code serves the arena (in place) and scratch
// buffers. Outputs beyond one number go through module variables, to keep the
// per-element path free of allocations.

export { HLL_DENSE, HLL_SPARSE, HLL_REGISTERS, HLL_DENSE_BYTES, HLL_HEADER_BYTES };

const P = 14;
const INDEX_MASK = HLL_REGISTERS - 1;
/** Bits left for the zero run once the index is taken (64 - P). */
const Q = 64 - P;
const ALPHA_INF = 0.721347520444481703680;
const SEED = 0xadc83b19;
const M_LO = 0x5bd1e995;
const M_HI = 0xc6a4a793;

export const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;

export const ERR_INVALID_HLL = 'INVALIDOBJ Corrupted HLL object detected';
export const ERR_NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';

// -- 64-bit arithmetic on (hi, lo) u32 pairs ----------------------------------------

/** High word of the last mulM() product (the low word is its return value). */
let mulHi = 0;

const M_LO0 = M_LO & 0xffff;
const M_LO1 = M_LO >>> 16;

/** (hi:lo) * MurmurHash64A's m, mod 2^64: returns the low word, leaves the high one in mulHi. */
function mulM(lo: number, hi: number): number {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  // lo * M_LO as a full 64-bit product, from 16-bit halves (every partial sum is exact in a double).
  const mid = a1 * M_LO0 + a0 * M_LO1;
  const low = a0 * M_LO0 + (mid & 0xffff) * 65536;
  const high = a1 * M_LO1 + ((mid / 65536) | 0) + (low >= 4294967296 ? 1 : 0);
  mulHi = (high + Math.imul(lo, M_HI) + Math.imul(hi, M_LO)) >>> 0;
  return low >>> 0;
}

/** Low and high words of the last murmurHash64A() result. */
export let hashLo = 0;
export let hashHi = 0;

/** MurmurHash64A with a 32-bit seed, reading 8-byte blocks little-endian (Redis's endian-neutral variant). */
export function murmurHash64A(u8: Uint8Array, o: number, len: number, seed: number): void {
  let hLo = (mulM(len >>> 0, Math.floor(len / 4294967296)) ^ seed) >>> 0;
  let hHi = mulHi;
  const blocks = o + (len - (len & 7));
  let p = o;
  for (; p < blocks; p += 8) {
    let kLo = mulM(u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24),
      u8[p + 4] | (u8[p + 5] << 8) | (u8[p + 6] << 16) | (u8[p + 7] << 24));
    kLo = mulM(kLo ^ (mulHi >>> 15), mulHi);
    hLo = mulM(hLo ^ kLo, hHi ^ mulHi);
    hHi = mulHi;
  }
  const rest = len & 7;
  if (rest !== 0) {
    for (let i = rest - 1; i >= 0; i--) {
      if (i >= 4) hHi ^= u8[p + i] << (8 * (i - 4));
      else hLo ^= u8[p + i] << (8 * i);
    }
    hLo = mulM(hLo, hHi);
    hHi = mulHi;
  }
  hLo = mulM(hLo ^ (hHi >>> 15), hHi);
  hashHi = mulHi;
  hashLo = (hLo ^ (mulHi >>> 15)) >>> 0;
}

/** Register index of the last patLen() call. */
export let patIndex = 0;

/**
 * Hashes an element and returns the length of its "000..1" pattern after
 * the 14 index bits (1..51); the register index is left in patIndex.
 */
export function patLen(u8: Uint8Array, o: number, len: number): number {
  murmurHash64A(u8, o, len, SEED);
  patIndex = hashLo & INDEX_MASK;
  const w = ((hashLo >>> P) | (hashHi << (32 - P))) >>> 0;
  if (w !== 0) return 32 - Math.clz32(w & -w);
  // The pattern's 32 low bits are zero: its bits 32..49 are the hash's top 18, with bit 50 as the stop.
  const w2 = (hashHi >>> P) | (1 << (Q - 32));
  return 32 + 32 - Math.clz32(w2 & -w2);
}

// -- header -------------------------------------------------------------------------

/** True when u8[s, s+len) passes Redis's isHLLObjectOrReply checks (magic, encoding, dense size). */
export function isHllValue(u8: Uint8Array, s: number, len: number): boolean {
  if (len < HLL_HEADER_BYTES) return false;
  if (u8[s] !== 0x48 || u8[s + 1] !== 0x59 || u8[s + 2] !== 0x4c || u8[s + 3] !== 0x4c) return false;
  const enc = u8[s + HLL_ENCODING];
  if (enc > HLL_MAX_ENCODING) return false;
  return enc !== HLL_DENSE || len === HLL_DENSE_BYTES;
}

export function encodingOf(u8: Uint8Array, s: number): number {
  return u8[s + HLL_ENCODING];
}

export function cacheValid(u8: Uint8Array, s: number): boolean {
  return (u8[s + HLL_CARD + 7] & 0x80) === 0;
}

export function invalidateCache(u8: Uint8Array, s: number): void {
  u8[s + HLL_CARD + 7] |= 0x80;
}

/** Low 32 bits of the cached cardinality. */
export function cachedLo(u8: Uint8Array, s: number): number {
  const c = s + HLL_CARD;
  return (u8[c] | (u8[c + 1] << 8) | (u8[c + 2] << 16) | (u8[c + 3] << 24)) >>> 0;
}

/** High 32 bits of the cached cardinality. */
export function cachedHi(u8: Uint8Array, s: number): number {
  const c = s + HLL_CARD + 4;
  return (u8[c] | (u8[c + 1] << 8) | (u8[c + 2] << 16) | (u8[c + 3] << 24)) >>> 0;
}

/**
 * Stores a cardinality (an integer up to 2^63, exact as a double) in the header,
 * little-endian: below 2^63 that also marks it valid.
 */
export function storeCard(u8: Uint8Array, s: number, card: number): void {
  let lo = card % 4294967296;
  let hi = Math.floor(card / 4294967296);
  for (let i = 0; i < 4; i++, lo = Math.floor(lo / 256)) u8[s + HLL_CARD + i] = lo & 0xff;
  for (let i = 4; i < 8; i++, hi = Math.floor(hi / 256)) u8[s + HLL_CARD + i] = hi & 0xff;
}

/** The empty HLL as Redis creates it: sparse, one XZERO:16384, cache valid at 0. */
export function emptySparse(): Uint8Array {
  const b = new Uint8Array(HLL_HEADER_BYTES + 2);
  b[0] = 0x48; b[1] = 0x59; b[2] = 0x4c; b[3] = 0x4c;
  b[HLL_ENCODING] = HLL_SPARSE;
  b[HLL_HEADER_BYTES] = 0x40 | ((SPARSE_XZERO_MAX_LEN - 1) >> 8);
  b[HLL_HEADER_BYTES + 1] = (SPARSE_XZERO_MAX_LEN - 1) & 0xff;
  return b;
}

// -- dense registers (r = offset of the first register byte) -----------------------

export function denseGet(u8: Uint8Array, r: number, i: number): number {
  const bit = i * 6;
  const b = r + (bit >>> 3);
  const fb = bit & 7;
  // A register that fits in its first byte never reads the next one (which may lie past the value).
  if (fb <= 2) return (u8[b] >>> fb) & 63;
  return ((u8[b] >>> fb) | (u8[b + 1] << (8 - fb))) & 63;
}

export function denseSet(u8: Uint8Array, r: number, i: number, v: number): void {
  const bit = i * 6;
  const b = r + (bit >>> 3);
  const fb = bit & 7;
  u8[b] = (u8[b] & ~(63 << fb)) | (v << fb);
  if (fb > 2) u8[b + 1] = (u8[b + 1] & ~(63 >>> (8 - fb))) | (v >>> (8 - fb));
}

/** Raises register i to `count` when it is lower; returns 1 when it changed. */
export function denseRaise(u8: Uint8Array, r: number, i: number, count: number): number {
  if (count > denseGet(u8, r, i)) {
    denseSet(u8, r, i, count);
    return 1;
  }
  return 0;
}

/** Unpacks the dense registers at r into out[0..16384). */
export function denseUnpack(u8: Uint8Array, r: number, out: Uint8Array): void {
  for (let i = 0, b = r; i < HLL_REGISTERS; i += 4, b += 3) {
    const b0 = u8[b];
    const b1 = u8[b + 1];
    const b2 = u8[b + 2];
    out[i] = b0 & 63;
    out[i + 1] = ((b0 >>> 6) | (b1 << 2)) & 63;
    out[i + 2] = ((b1 >>> 4) | (b2 << 4)) & 63;
    out[i + 3] = b2 >>> 2;
  }
}

/** Packs regs[0..16384) (each below 64) as dense registers at r. */
export function densePack(regs: Uint8Array, u8: Uint8Array, r: number): void {
  for (let i = 0, b = r; i < HLL_REGISTERS; i += 4, b += 3) {
    const r1 = regs[i + 1];
    const r2 = regs[i + 2];
    u8[b] = regs[i] | (r1 << 6);
    u8[b + 1] = (r1 >>> 2) | (r2 << 4);
    u8[b + 2] = (r2 >>> 4) | (regs[i + 3] << 2);
  }
}

/** max[i] = max(max[i], register i) over a dense value's registers at r. */
export function denseMaxInto(u8: Uint8Array, r: number, max: Uint8Array): void {
  for (let i = 0, b = r; i < HLL_REGISTERS; i += 4, b += 3) {
    const b0 = u8[b];
    const b1 = u8[b + 1];
    const b2 = u8[b + 2];
    const v0 = b0 & 63;
    const v1 = ((b0 >>> 6) | (b1 << 2)) & 63;
    const v2 = ((b1 >>> 4) | (b2 << 4)) & 63;
    const v3 = b2 >>> 2;
    if (v0 > max[i]) max[i] = v0;
    if (v1 > max[i + 1]) max[i + 1] = v1;
    if (v2 > max[i + 2]) max[i + 2] = v2;
    if (v3 > max[i + 3]) max[i + 3] = v3;
  }
}

// -- sparse opcodes ------------------------------------------------------------------

/** Registers covered by the XZERO at p; a second byte past `end` reads as 0 (sds keeps a NUL there). */
function xzeroLen(u8: Uint8Array, p: number, end: number): number {
  return (((u8[p] & 0x3f) << 8) | (p + 1 < end ? u8[p + 1] : 0)) + 1;
}

/**
 * max[i] = max(max[i], register i) over a sparse value u8[s, s+len) (hllMerge,
 * hllSparseToDense). Returns false when the opcodes do not cover exactly
 * 16384 registers.
 */
export function sparseMaxInto(u8: Uint8Array, s: number, len: number, max: Uint8Array): boolean {
  const end = s + len;
  let p = s + HLL_HEADER_BYTES;
  let i = 0;
  while (p < end) {
    const b = u8[p];
    if ((b & 0xc0) === 0) {
      i += (b & 0x3f) + 1;
      p++;
    } else if ((b & 0xc0) === 0x40) {
      i += xzeroLen(u8, p, end);
      p += 2;
    } else {
      let run = (b & 3) + 1;
      const v = ((b >>> 2) & 0x1f) + 1;
      // A run past the last register is corrupt (Redis 7.0.15 as patched for CVE-2025-32023).
      if (run + i > HLL_REGISTERS) return false;
      for (; run > 0; run--, i++) if (v > max[i]) max[i] = v;
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

/** Set by sparseSet: 1 when the register changed, 0 when it already held as much. */
export let sparseUpdated = 0;
/** sparseSet's answer when the value is corrupted. */
export const SPARSE_INVALID = -1;
/** sparseSet's answer when the value must become dense first (nothing was changed). */
export const SPARSE_PROMOTE = -2;

/**
 * Raises register `index` of the sparse value u8[s, s+len) to `count` in
 * place, as Redis's hllSparseSet does (same opcode splits, same merging of
 * neighbours, so the bytes come out identical). The buffer must have room for
 * len + 4 bytes from s. Returns the new length, SPARSE_INVALID, or
 * SPARSE_PROMOTE when the value cannot stay sparse (count above 32, or
 * growing past maxBytes); sets sparseUpdated.
 */
export function sparseSet(u8: Uint8Array, s: number, len: number, index: number, count: number, maxBytes: number): number {
  sparseUpdated = 0;
  if (count > SPARSE_VAL_MAX_VALUE) return SPARSE_PROMOTE;
  const start = s + HLL_HEADER_BYTES;
  let end = s + len;
  let p = start;
  let first = 0;
  let prev = -1;
  let span = 0;
  let kind = 0; // 0 ZERO, 1 XZERO, 2 VAL
  while (p < end) {
    const b = u8[p];
    let oplen = 1;
    if ((b & 0xc0) === 0) {
      span = (b & 0x3f) + 1;
      kind = 0;
    } else if ((b & 0x80) !== 0) {
      span = (b & 3) + 1;
      kind = 2;
    } else {
      span = xzeroLen(u8, p, end);
      oplen = 2;
      kind = 1;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return SPARSE_INVALID;
  let next = kind === 1 ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const op = u8[p];
  const runlen = span;

  let simple = false;
  if (kind === 2) {
    const old = ((op >>> 2) & 0x1f) + 1;
    if (old >= count) return len;
    if (runlen === 1) {
      u8[p] = valOp(count, 1);
      simple = true;
    }
  } else if (kind === 0 && runlen === 1) {
    u8[p] = valOp(count, 1);
    simple = true;
  }

  if (!simple) {
    // Split the opcode covering `index` into up to three: before, the new VAL, after.
    const last = first + span - 1;
    let n = 0;
    if (kind !== 2) {
      if (index !== first) n = zeroRun(index - first, n);
      seq[n++] = valOp(count, 1);
      if (index !== last) n = zeroRun(last - index, n);
    } else {
      const cur = ((op >>> 2) & 0x1f) + 1;
      if (index !== first) seq[n++] = valOp(cur, index - first);
      seq[n++] = valOp(count, 1);
      if (index !== last) seq[n++] = valOp(cur, last - index);
    }
    const delta = n - (kind === 1 ? 2 : 1);
    if (delta > 0 && len + delta > maxBytes) return SPARSE_PROMOTE;
    if (delta !== 0 && next >= 0) u8.copyWithin(next + delta, next, end);
    len += delta;
    for (let k = 0; k < n; k++) u8[p + k] = seq[k];
    end += delta;
  }

  // Merge adjacent VALs of equal value, scanning up to 5 opcodes from the one before.
  p = prev >= 0 ? prev : start;
  let scan = 5;
  while (p < end && scan-- > 0) {
    const b = u8[p];
    if ((b & 0xc0) === 0x40) {
      p += 2;
      continue;
    }
    if ((b & 0xc0) === 0) {
      p++;
      continue;
    }
    if (p + 1 < end && (u8[p + 1] & 0x80) !== 0) {
      const v1 = ((b >>> 2) & 0x1f) + 1;
      const b2 = u8[p + 1];
      if (v1 === ((b2 >>> 2) & 0x1f) + 1) {
        const l = (b & 3) + 1 + (b2 & 3) + 1;
        if (l <= SPARSE_VAL_MAX_LEN) {
          u8[p + 1] = valOp(v1, l);
          u8.copyWithin(p, p + 1, end);
          len--;
          end--;
          continue;
        }
      }
    }
    p++;
  }
  invalidateCache(u8, s);
  sparseUpdated = 1;
  return len;
}

const seq = new Uint8Array(5);

function valOp(v: number, len: number): number {
  return 0x80 | ((v - 1) << 2) | (len - 1);
}

/** Writes a ZERO or XZERO run of `len` registers into seq at n; returns the next position. */
function zeroRun(len: number, n: number): number {
  if (len > SPARSE_ZERO_MAX_LEN) {
    seq[n] = 0x40 | ((len - 1) >> 8);
    seq[n + 1] = (len - 1) & 0xff;
    return n + 2;
  }
  seq[n] = len - 1;
  return n + 1;
}

/** The opcodes as PFDEBUG DECODE prints them ("Z:16384", "z:3", "v:2,1"). */
export function sparseDecode(u8: Uint8Array, s: number, len: number): string {
  const end = s + len;
  const parts: string[] = [];
  for (let p = s + HLL_HEADER_BYTES; p < end;) {
    const b = u8[p];
    if ((b & 0xc0) === 0) {
      parts.push(`z:${(b & 0x3f) + 1}`);
      p++;
    } else if ((b & 0xc0) === 0x40) {
      parts.push(`Z:${xzeroLen(u8, p, end)}`);
      p += 2;
    } else {
      parts.push(`v:${((b >>> 2) & 0x1f) + 1},${(b & 3) + 1}`);
      p++;
    }
  }
  return parts.join(' ');
}

// -- cardinality ------------------------------------------------------------------------

/** Register histogram (64 slots) of the last *Histogram() call. */
const histo = new Int32Array(64);

/** Four histograms, one per register of a 3-byte group, so consecutive increments rarely hit the same slot. */
const lanes = new Int32Array(256);

function denseHistogram(u8: Uint8Array, r: number): void {
  lanes.fill(0);
  for (let b = r, end = r + (HLL_REGISTERS * 6) / 8; b < end; b += 3) {
    const b0 = u8[b];
    const b1 = u8[b + 1];
    const b2 = u8[b + 2];
    lanes[b0 & 63]++;
    lanes[64 + (((b0 >>> 6) | (b1 << 2)) & 63)]++;
    lanes[128 + (((b1 >>> 4) | (b2 << 4)) & 63)]++;
    lanes[192 + (b2 >>> 2)]++;
  }
  for (let i = 0; i < 64; i++) histo[i] = lanes[i] + lanes[64 + i] + lanes[128 + i] + lanes[192 + i];
}

/** Returns false when the opcodes do not cover exactly 16384 registers. */
function sparseHistogram(u8: Uint8Array, s: number, len: number): boolean {
  histo.fill(0);
  const end = s + len;
  let idx = 0;
  for (let p = s + HLL_HEADER_BYTES; p < end;) {
    const b = u8[p];
    if ((b & 0xc0) === 0) {
      const run = (b & 0x3f) + 1;
      idx += run;
      histo[0] += run;
      p++;
    } else if ((b & 0xc0) === 0x40) {
      const run = xzeroLen(u8, p, end);
      idx += run;
      histo[0] += run;
      p += 2;
    } else {
      const run = (b & 3) + 1;
      idx += run;
      histo[((b >>> 2) & 0x1f) + 1] += run;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrev: number;
  do {
    x *= x;
    zPrev = z;
    z += x * y;
    y += y;
  } while (zPrev !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrev: number;
  do {
    x = Math.sqrt(x);
    zPrev = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrev !== z);
  return z / 3;
}

/** Ertl's improved estimator over the histogram (Redis 7.0's hllCount). */
function estimate(): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histo[Q + 1]) / m);
  for (let j = Q; j >= 1; j--) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  const e = Math.round((ALPHA_INF * m * m) / z);
  // llroundl() of an estimate beyond 2^63 (all registers at 52+: z is 0) gives LLONG_MIN on x86.
  return e < CARD_OVERFLOW ? e : CARD_OVERFLOW;
}

/** The cardinality Redis computes when the estimate is out of range: 2^63, replied as a negative long long. */
export const CARD_OVERFLOW = 2 ** 63;

/**
 * The estimated cardinality of a valid HLL value (isHllValue), or -1 when a
 * sparse value is corrupted.
 */
export function countValue(u8: Uint8Array, s: number, len: number): number {
  if (u8[s + HLL_ENCODING] === HLL_DENSE) {
    denseHistogram(u8, s + HLL_HEADER_BYTES);
  } else if (!sparseHistogram(u8, s, len)) {
    return -1;
  }
  return estimate();
}

/** The estimated cardinality of raw registers (one byte each, the union of PFCOUNT with several keys). */
export function countRaw(regs: Uint8Array): number {
  histo.fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[regs[i]]++;
  return estimate();
}

/**
 * max[i] = max(max[i], register i) for a valid HLL value (hllMerge); false
 * when a sparse value is corrupted.
 */
export function maxInto(u8: Uint8Array, s: number, len: number, max: Uint8Array): boolean {
  if (u8[s + HLL_ENCODING] === HLL_DENSE) {
    denseMaxInto(u8, s + HLL_HEADER_BYTES, max);
    return true;
  }
  return sparseMaxInto(u8, s, len, max);
}
