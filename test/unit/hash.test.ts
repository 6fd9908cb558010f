import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashBytes } from '../../src/util/hash.ts';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** xxHash32 written independently with BigInt arithmetic modulo 2^32. */
function refXxh32(b: Uint8Array, seed: number): number {
  const M = 0xffffffffn;
  const P1 = 2654435761n;
  const P2 = 2246822519n;
  const P3 = 3266489917n;
  const P4 = 668265263n;
  const P5 = 374761393n;
  const rot = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (32n - r))) & M;
  const rd = (i: number): bigint => BigInt(b[i] + b[i + 1] * 0x100 + b[i + 2] * 0x10000 + b[i + 3] * 0x1000000);
  const s = BigInt(seed >>> 0);
  let i = 0;
  let h: bigint;
  if (b.length >= 16) {
    const v = [(s + P1 + P2) & M, (s + P2) & M, s, (s - P1) & M];
    while (i + 16 <= b.length) {
      for (let l = 0; l < 4; l++) {
        v[l] = (rot((v[l] + rd(i) * P2) & M, 13n) * P1) & M;
        i += 4;
      }
    }
    h = (rot(v[0], 1n) + rot(v[1], 7n) + rot(v[2], 12n) + rot(v[3], 18n)) & M;
  } else {
    h = (s + P5) & M;
  }
  h = (h + BigInt(b.length)) & M;
  for (; i + 4 <= b.length; i += 4) h = (rot((h + rd(i) * P3) & M, 17n) * P4) & M;
  for (; i < b.length; i++) h = (rot((h + BigInt(b[i]) * P5) & M, 11n) * P1) & M;
  h ^= h >> 15n;
  h = (h * P2) & M;
  h ^= h >> 13n;
  h = (h * P3) & M;
  h ^= h >> 16n;
  return Number(h);
}

function h(s: string, seed = 0): number {
  const b = enc(s);
  return hashBytes(b, 0, b.length, seed);
}

/** Chi-square statistic of `counts` against a uniform distribution. */
function chiSquare(counts: Uint32Array, total: number): number {
  const expected = total / counts.length;
  let chi = 0;
  for (const c of counts) chi += ((c - expected) * (c - expected)) / expected;
  return chi;
}

describe('hashBytes (xxHash32)', () => {
  it('published XXH32 test vectors', () => {
    expect(h('')).toBe(0x02cc5d05);
    expect(h('a')).toBe(0x550d7456);
    expect(h('abc')).toBe(0x32d153ff);
    expect(h('Nobody inspects the spammish repetition')).toBe(0xe2293b2f);
  });

  it('matches an independent BigInt implementation for any bytes, seed and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.nat(7), (data, seed, pre) => {
        const buf = new Uint8Array(pre + data.length + 5).fill(0xee);
        buf.set(data, pre);
        expect(hashBytes(buf, pre, data.length, seed)).toBe(refXxh32(data, seed));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns an unsigned 32-bit integer and depends on the seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer(), (data, seed) => {
        const v = hashBytes(data, 0, data.length, seed);
        expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff).toBe(true);
        expect(hashBytes(data, 0, data.length, seed)).toBe(v);
      }),
    );
    let same = 0;
    for (let i = 0; i < 1000; i++) if (h('key:' + i, 1) === h('key:' + i, 2)) same++;
    expect(same).toBeLessThan(3);
  });

  it('spreads sequential keys evenly over low and high bits', () => {
    const n = 1 << 17;
    const buckets = 1024;
    const low = new Uint32Array(buckets);
    const high = new Uint32Array(buckets);
    const buf = new Uint8Array(32);
    for (let i = 0; i < n; i++) {
      const len = Buffer.from(buf.buffer).write('user:' + i, 'latin1');
      const v = hashBytes(buf, 0, len, 0x9747b28c);
      low[v & (buckets - 1)]++;
      high[v >>> 22]++;
    }
    // 1023 degrees of freedom: mean 1023, sd ~45; 1250 is ~5 sd.
    expect(chiSquare(low, n)).toBeLessThan(1250);
    expect(chiSquare(high, n)).toBeLessThan(1250);
  });

  it('avalanche: flipping one input bit flips each output bit about half the time', () => {
    const trials = 2000;
    const flips = new Float64Array(32);
    let total = 0;
    const samples = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 24 }), { numRuns: trials, seed: 3 });
    samples.forEach((data, t) => {
      const base = hashBytes(data, 0, data.length, 0);
      const bit = t % (data.length * 8);
      data[bit >> 3] ^= 1 << (bit & 7);
      const d = base ^ hashBytes(data, 0, data.length, 0);
      for (let k = 0; k < 32; k++) if ((d >>> k) & 1) flips[k]++;
      total++;
    });
    for (let k = 0; k < 32; k++) {
      const rate = flips[k] / total;
      expect(rate).toBeGreaterThan(0.43);
      expect(rate).toBeLessThan(0.57);
    }
  });
});
