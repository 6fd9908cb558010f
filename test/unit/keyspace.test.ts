import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena, OutOfMemoryError } from '../../src/store/arena.ts';
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

describe('Keyspace on a full arena', () => {
  it('reads, PERSIST, DEL and FLUSHDB need no memory; a write that needs some throws with nothing changed', () => {
    const ks = new Keyspace(new Arena(new SharedArrayBuffer(1 << 20)), 2, new Float64Array(64), 7);
    const put = (k: string, v: string, expireAt = -1): void => {
      const kb = Buffer.from(k);
      ks.lookupWrite(0, kb, 0, kb.length);
      ks.putString(0, kb, 0, kb.length, Buffer.from(v), 0, v.length, 0, expireAt);
    };
    const get = (k: string): string | null => {
      const kb = Buffer.from(k);
      const ref = ks.lookupRead(0, kb, 0, kb.length);
      return ref === 0 ? null : Buffer.from(ks.arena.u8.subarray(ks.stringOffset(ref), ks.stringOffset(ref) + ks.stringLength(ref))).toString();
    };
    for (let i = 0; i < 20; i++) put(`key:${i}`, `value:${i}`, i % 2 === 0 ? Date.now() + 100_000 : -1);
    // Take every byte that is left, in every size class.
    for (const size of [16, 24, 32, 40, 48, 56, 64, 1024, 65536]) while (ks.alloc.tryAlloc(size) !== 0) { /* fill */ }
    expect(ks.alloc.tryAlloc(16)).toBe(0);
    expect(get('key:3')).toBe('value:3');
    // A new key cannot be stored: OutOfMemoryError, the keyspace as it was.
    expect(() => put('new', 'x')).toThrow(OutOfMemoryError);
    expect(get('new')).toBeNull();
    expect(ks.dbs[0].size).toBe(20);
    // Overwriting with a value of another size class needs a new record first.
    expect(() => put('key:5', 'a much longer value than before, in a bigger class')).toThrow(OutOfMemoryError);
    expect(get('key:5')).toBe('value:5');
    // PERSIST shifts the record in place.
    const k0 = Buffer.from('key:0');
    const ref = ks.lookupWrite(0, k0, 0, k0.length);
    expect(ks.hasExpire(ref)).toBe(true);
    const moved = ks.setExpire(0, ks.handle, ref, -1);
    expect(moved).toBe(ref);
    expect(ks.expireOf(moved)).toBe(-1);
    expect(get('key:0')).toBe('value:0');
    expect(ks.volatileKeys[0]).toBe(9);
    // And the TTL comes back in place: the record's class has the 8 bytes.
    expect(ks.setExpire(0, ks.handle, moved, Date.now() + 5000)).toBe(ref);
    expect(get('key:0')).toBe('value:0');
    expect(ks.volatileKeys[0]).toBe(10);
    expect(ks.deleteKey(0, k0, 0, k0.length)).toBe(true);
    expect(ks.flushDb(0)).toBe(19);
    expect(ks.dbs[0].size).toBe(0);
    expect(get('key:1')).toBeNull();
  });
});
