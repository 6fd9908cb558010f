/**
 * Seeded 32-bit hash over bytes: a hand-written xxHash32 (bit-exact with the
 * reference algorithm, so XXH32 test vectors apply).  Reads 4 bytes at a
 * time little-endian from any offset (through a DataView), uses Math.imul for 32-bit products and
 * never allocates.  The final avalanche mixes every input bit into both the
 * low and the high bits of the result, so callers may mask or shift freely.
 */

import { dataViewOf } from './bytes.ts';

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

/** xxHash32 of `b[off .. off+len)` with `seed`; returns an unsigned 32-bit integer. */
export function hashBytes(b: Uint8Array, off: number, len: number, seed: number): number {
  // Little-endian words through a DataView: one load for four bytes.
  const v = dataViewOf(b);
  const end = off + len;
  let i = off;
  let h: number;
  seed = seed | 0;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    do {
      v1 = round(v1, v.getInt32(i, true));
      v2 = round(v2, v.getInt32(i + 4, true));
      v3 = round(v3, v.getInt32(i + 8, true));
      v4 = round(v4, v.getInt32(i + 12, true));
      i += 16;
    } while (i <= limit);
    // Each sum of two truncated at once: V8 compiled the chain of three as checked int32 adds,
    // which deoptimised the first time a key's sum overflowed.
    h = (((rotl(v1, 1) + rotl(v2, 7)) | 0) + ((rotl(v3, 12) + rotl(v4, 18)) | 0)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  // Under 16 bytes are left (all of a short key): up to three words, then up to three bytes,
  // written out. As loops, their control cost about as much as their work (a 15-byte key
  // took about 300 instructions); as calls, V8 did not inline them here.
  const rest = end - i;
  if (rest >= 4) {
    h = Math.imul(rotl((h + Math.imul(v.getInt32(i, true), P3)) | 0, 17), P4);
    if (rest >= 8) {
      h = Math.imul(rotl((h + Math.imul(v.getInt32(i + 4, true), P3)) | 0, 17), P4);
      if (rest >= 12) h = Math.imul(rotl((h + Math.imul(v.getInt32(i + 8, true), P3)) | 0, 17), P4);
    }
    i += rest & 12;
  }
  const tail = rest & 3;
  if (tail > 0) {
    h = Math.imul(rotl((h + Math.imul(b[i], P5)) | 0, 11), P1);
    if (tail > 1) {
      h = Math.imul(rotl((h + Math.imul(b[i + 1], P5)) | 0, 11), P1);
      if (tail > 2) h = Math.imul(rotl((h + Math.imul(b[i + 2], P5)) | 0, 11), P1);
    }
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
