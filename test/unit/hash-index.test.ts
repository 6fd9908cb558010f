import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena, SlabAllocator } from '../../src/store/arena.ts';
import { HashIndex, type RecordShape } from '../../src/store/hash-index.ts';
import { hashBytes } from '../../src/util/hash.ts';

/** Minimal records: [u32 hash][u32 keylen][key bytes]. */
class Records implements RecordShape {
  readonly alloc: SlabAllocator;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  constructor(alloc: SlabAllocator) {
    this.alloc = alloc;
    this.u8 = alloc.arena.u8;
    this.u32 = alloc.arena.u32;
  }
  keyOffset(ref: number): number { return ref + 8; }
  keyLength(ref: number): number { return this.u32[(ref + 4) >> 2]; }
  make(key: Buffer, hash: number): number {
    const ref = this.alloc.alloc(8 + key.length);
    this.u32[ref >> 2] = hash;
    this.u32[(ref + 4) >> 2] = key.length;
    this.u8.set(key, ref + 8);
    return ref;
  }
  key(ref: number): string {
    return Buffer.from(this.u8.subarray(ref + 8, ref + 8 + this.keyLength(ref))).toString('latin1');
  }
}

function setup(): { index: HashIndex; recs: Records } {
  const arena = new Arena(new SharedArrayBuffer(256 * 1024 * 1024));
  const alloc = new SlabAllocator(arena);
  const recs = new Records(alloc);
  return { index: new HashIndex(arena, alloc, recs), recs };
}

const h = (k: Buffer): number => hashBytes(k, 0, k.length, 12345);

describe('HashIndex', () => {
  it('property: behaves like a Set under random inserts, deletes, rehash steps and shrinks', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.constantFrom('add', 'del', 'step', 'shrink'), fc.integer({ min: 0, max: 400 })), { maxLength: 1500 }),
      (ops) => {
        const { index, recs } = setup();
        const model = new Set<string>();
        for (const [op, n] of ops) {
          const key = Buffer.from(`k${n}`);
          if (op === 'add') {
            const found = index.find(h(key), key, 0, key.length);
            expect(found >= 0).toBe(model.has(key.toString()));
            if (found < 0) index.insert(h(key), recs.make(key, h(key)));
            model.add(key.toString());
          } else if (op === 'del') {
            const found = index.find(h(key), key, 0, key.length);
            expect(found >= 0).toBe(model.has(key.toString()));
            if (found >= 0) {
              const ref = index.refAt(found);
              index.removeAt(found);
              recs.alloc.free(ref);
            }
            model.delete(key.toString());
          } else if (op === 'step') {
            index.rehashStep(n % 7 + 1);
          } else {
            index.maybeShrink();
          }
          expect(index.size).toBe(model.size);
        }
        for (let n = 0; n <= 400; n++) {
          const key = Buffer.from(`k${n}`);
          expect(index.find(h(key), key, 0, key.length) >= 0).toBe(model.has(key.toString()));
        }
        const seen: string[] = [];
        index.forEach((ref) => seen.push(recs.key(ref)));
        expect(new Set(seen)).toEqual(model);
        expect(seen.length).toBe(model.size);
      },
    ), { numRuns: 80 });
  });

  it('SCAN returns every key present for the whole scan, across grows and shrinks', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 5000 }), fc.boolean(), (initial, churn, shrink) => {
      const { index, recs } = setup();
      const add = (s: string): void => {
        const k = Buffer.from(s);
        if (index.find(h(k), k, 0, k.length) < 0) index.insert(h(k), recs.make(k, h(k)));
      };
      for (let i = 0; i < initial; i++) add(`stable:${i}`);
      const seen = new Set<string>();
      let cursor = 0;
      let calls = 0;
      do {
        const out: number[] = [];
        cursor = index.scan(cursor, out);
        for (const ref of out) seen.add(recs.key(ref));
        // Churn between calls: grow the table, or delete the churn keys so it shrinks.
        // Bounded churn: a table that grows forever would outrun any scan.
        if (calls++ % 3 === 0 && calls < 60) {
          for (let j = 0; j < churn / 10; j++) add(`churn:${calls}:${j}`);
          index.rehashStep(3);
        }
        if (shrink && calls % 5 === 0 && calls < 120) {
          index.forEach((ref, handle) => {
            if (recs.key(ref).startsWith('churn:')) { index.removeAt(handle); }
          });
          index.maybeShrink();
        }
      } while (cursor !== 0 && calls < 1_000_000);
      for (let i = 0; i < initial; i++) expect(seen.has(`stable:${i}`)).toBe(true);
    }), { numRuns: 25 });
  });

  it('keeps probing correct with many colliding groups (same low hash bits)', () => {
    const { index, recs } = setup();
    const keys: Buffer[] = [];
    for (let i = 0; i < 500; i++) {
      const k = Buffer.from(`c${i}`);
      const hash = (i << 20) >>> 0; // low bits equal: one home group for all
      index.insert(hash, recs.make(k, hash));
      keys.push(k);
    }
    keys.forEach((k, i) => expect(index.find((i << 20) >>> 0, k, 0, k.length)).toBeGreaterThanOrEqual(0));
    expect(index.size).toBe(500);
  });
});
