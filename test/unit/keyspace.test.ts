import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';

function keyspace(): Keyspace {
  return new Keyspace(new Arena(new SharedArrayBuffer(64 << 20)), 2, new Float64Array(256), 12345);
}

describe('Keyspace lookahead (prefetch and hash hints)', () => {
  it('property: lookups with the hint and prefetch of the shard lookahead find exactly what plain lookups find', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.uint8Array({ minLength: 0, maxLength: 24 }), { minLength: 1, maxLength: 300, selector: (k) => Buffer.from(k).toString('hex') }),
      fc.array(fc.nat(), { maxLength: 200 }),
      (keys, probes) => {
        const ks = keyspace();
        const stored = keys.filter((_, i) => i % 3 !== 0);
        for (const k of stored) {
          expect(ks.peek(1, k, 0, k.length)).toBe(0);
          ks.putString(1, k, 0, k.length, k, 0, k.length, 0, -1);
        }
        // The lookahead hashes the key where it sits in the request ring: copy it there.
        const ring = new Uint8Array(64);
        for (const p of probes) {
          const k = keys[p % keys.length] as Uint8Array;
          const at = 8 + (p % 16);
          ring.set(k, at);
          const plain = ks.peek(1, k, 0, k.length);
          const group = ks.homeGroupOf(1, ring, at, k.length);
          expect(group).toBeGreaterThanOrEqual(0);
          const index = ks.dbs[1];
          index.touchGroup(group);
          index.touchRecord(group, ks.hash);
          ks.hint(ring, at, k.length, ks.hash);
          const hinted = ks.peek(1, ring, at, k.length);
          ks.clearHint();
          expect(hinted).toBe(plain);
          expect(plain !== 0).toBe(stored.some((s) => s === k));
        }
      },
    ), { numRuns: 100 });
  });

  it('uses a hint only for the exact bytes it was given', () => {
    const ks = keyspace();
    const a = Buffer.from('xxalpha');
    const b = Buffer.from('xxbeta!');
    ks.peek(0, a, 2, 5);
    ks.putString(0, a, 2, 5, a, 0, 1, 0, -1);
    ks.homeGroupOf(0, a, 2, 5);
    const hashOfAlpha = ks.hash;
    ks.hint(a, 2, 5, hashOfAlpha);
    // Same buffer, another offset or length, or another buffer: hashed for real.
    expect(ks.peek(0, a, 2, 4)).toBe(0);
    expect(ks.peek(0, b, 2, 5)).toBe(0);
    expect(ks.peek(0, a, 2, 5)).not.toBe(0);
    ks.clearHint();
    expect(ks.homeGroupOf(5, a, 2, 5)).toBe(-1);
  });
});
