import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena, SlabAllocator } from '../../src/store/arena.ts';
import { HashIndex, keyLayout, sampledRecordBytes } from '../../src/store/hash-index.ts';
import { hashBytes } from '../../src/util/hash.ts';
import { SLAB_BYTES } from '../../native-layout/layout.ts';

/** Minimal records: [u32 hash][u32 keylen][key bytes], named by ref = address / 8 as the index stores them. */
class Records {
  /** Where the index finds a record's key: its length in word 1, its bytes from byte 8. */
  readonly layout = keyLayout(1, 8);
  readonly alloc: SlabAllocator;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  constructor(alloc: SlabAllocator) {
    this.alloc = alloc;
    this.u8 = alloc.arena.u8;
    this.u32 = alloc.arena.u32;
  }
  keyOffset(ref: number): number { return ref * 8 + 8; }
  keyLength(ref: number): number { return this.u32[ref * 2 + 1]; }
  make(key: Buffer, hash: number): number {
    const addr = this.alloc.alloc(8 + key.length);
    this.u32[addr / 4] = hash;
    this.u32[addr / 4 + 1] = key.length;
    this.u8.set(key, addr + 8);
    return addr / 8;
  }
  free(ref: number): void {
    this.alloc.free(ref * 8);
  }
  key(ref: number): string {
    return Buffer.from(this.u8.subarray(ref * 8 + 8, ref * 8 + 8 + this.keyLength(ref))).toString('latin1');
  }
}

function setup(): { index: HashIndex; recs: Records } {
  const arena = new Arena(new SharedArrayBuffer(256 * 1024 * 1024));
  const alloc = new SlabAllocator(arena);
  const recs = new Records(alloc);
  return { index: new HashIndex(arena, alloc, recs.layout), recs };
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
              recs.free(ref);
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

describe('HashIndex when the arena runs out', () => {
  /** A 1 MiB arena whose whole slabs are taken by ballast, but `freeSlabs`. */
  function tight(freeSlabs: number): { index: HashIndex; recs: Records; ballast: number[] } {
    const arena = new Arena(new SharedArrayBuffer(1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const recs = new Records(alloc);
    const index = new HashIndex(arena, alloc, recs.layout);
    const ballast: number[] = [];
    for (let p = alloc.tryAlloc(SLAB_BYTES); p !== 0; p = alloc.tryAlloc(SLAB_BYTES)) ballast.push(p);
    for (let i = 0; i < freeSlabs; i++) alloc.free(ballast.pop() as number);
    return { index, recs, ballast };
  }

  function expectExactly(index: HashIndex, recs: Records, keys: string[]): void {
    expect(index.size).toBe(keys.length);
    for (const s of keys) {
      const k = Buffer.from(s);
      expect(index.find(h(k), k, 0, k.length)).toBeGreaterThanOrEqual(0);
    }
    const seen: string[] = [];
    index.forEach((ref) => seen.push(recs.key(ref)));
    expect(seen.sort()).toEqual([...keys].sort());
  }

  it('survives a growth that cannot be allocated: keeps inserting while a slot is free, then refuses with nothing changed', () => {
    // One free slab: the records' size class takes it, so no bigger table fits.
    const { index, recs, ballast } = tight(1);
    const keys: string[] = [];
    let refused = -1;
    for (let n = 0; n < 100; n++) {
      const k = Buffer.from(`key:${n}`);
      const ref = recs.make(k, h(k));
      const handle = index.insert(h(k), ref);
      if (handle < 0) {
        recs.free(ref);
        refused = n;
        break;
      }
      keys.push(k.toString());
      // Lookups, rehash steps and shrink attempts in between touch only live tables.
      index.rehashStep(1);
      index.maybeShrink();
      expectExactly(index, recs, keys);
    }
    // The 4-group table (32 slots) filled past its 7/8 limit instead of failing at 28.
    expect(refused).toBe(32);
    expect(index.slotCapacity).toBe(32);
    expectExactly(index, recs, keys);
    // Memory comes back: the next insert (or the cron's retryGrowth) grows the table.
    for (const p of ballast.splice(0, 4)) recs.alloc.free(p);
    index.retryGrowth();
    index.finishRehash();
    expect(index.slotCapacity).toBeGreaterThan(32);
    for (let n = 32; n < 60; n++) {
      const k = Buffer.from(`key:${n}`);
      expect(index.insert(h(k), recs.make(k, h(k)))).toBeGreaterThanOrEqual(0);
      keys.push(k.toString());
    }
    index.finishRehash();
    expectExactly(index, recs, keys);
    // Every record and table address is one the allocator handed out.
    index.forEach((ref, handle) => {
      index.removeAt(handle);
      recs.free(ref);
    });
    index.clear();
    expect(index.size).toBe(0);
  });

  it('an insert retries a failed growth as soon as whole slabs are free again', () => {
    const { index, recs, ballast } = tight(1);
    const keys: string[] = [];
    for (let n = 0; n < 30; n++) {
      const k = Buffer.from(`key:${n}`);
      expect(index.insert(h(k), recs.make(k, h(k)))).toBeGreaterThanOrEqual(0);
      keys.push(k.toString());
    }
    // Past 7/8 of 32 slots, growth failed and is not retried while nothing is free.
    expect(index.slotCapacity).toBe(32);
    const k30 = Buffer.from('key:30');
    expect(index.insert(h(k30), recs.make(k30, h(k30)))).toBeGreaterThanOrEqual(0);
    keys.push('key:30');
    expect(index.slotCapacity).toBe(32);
    for (const p of ballast.splice(0, 2)) recs.alloc.free(p);
    const k31 = Buffer.from('key:31');
    expect(index.insert(h(k31), recs.make(k31, h(k31)))).toBeGreaterThanOrEqual(0);
    keys.push('key:31');
    expect(index.slotCapacity).toBeGreaterThan(32);
    index.finishRehash();
    expectExactly(index, recs, keys);
  });

  it('clear() never needs memory: with none left it empties the table it has', () => {
    const { index, recs, ballast } = tight(2);
    const keys: string[] = [];
    for (let n = 0; n < 200; n++) {
      const k = Buffer.from(`k${n}`);
      const probe = recs.alloc.tryAlloc(8 + k.length);
      if (probe === 0) break;
      recs.alloc.free(probe);
      const r = recs.make(k, h(k));
      if (index.insert(h(k), r) < 0) {
        recs.free(r);
        break;
      }
      keys.push(k.toString());
    }
    index.finishRehash();
    expect(index.slotCapacity).toBeGreaterThan(32);
    // Take every byte left, then clear: the records are freed to their class, not to the table's.
    const filler: number[] = [];
    for (let p = recs.alloc.tryAlloc(16); p !== 0; p = recs.alloc.tryAlloc(16)) filler.push(p);
    index.forEach((ref) => recs.free(ref));
    index.clear();
    expect(index.size).toBe(0);
    const k = Buffer.from('after');
    expect(index.find(h(k), k, 0, k.length)).toBe(-1);
    expect(index.insert(h(k), recs.make(k, h(k)))).toBeGreaterThanOrEqual(0);
    expectExactly(index, recs, ['after']);
    void ballast;
  });

  it('property: inserts, deletes, rehash steps and shrinks in a nearly full arena keep the index a Set, never corrupted', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.tuple(fc.constantFrom('add', 'add', 'add', 'del', 'step', 'shrink', 'retry', 'release'), fc.integer({ min: 0, max: 3000 })), { maxLength: 1200 }),
      (freeSlabs, ops) => {
        const { index, recs, ballast } = tight(freeSlabs);
        const model = new Set<string>();
        for (const [op, n] of ops) {
          const key = Buffer.from(`k${n}`);
          const s = key.toString();
          if (op === 'add') {
            if (index.find(h(key), key, 0, key.length) >= 0) continue;
            const probe = recs.alloc.tryAlloc(8 + key.length);
            if (probe === 0) continue;
            recs.alloc.free(probe);
            const r = recs.make(key, h(key));
            if (index.insert(h(key), r) >= 0) model.add(s);
            else recs.free(r);
          } else if (op === 'del') {
            const found = index.find(h(key), key, 0, key.length);
            expect(found >= 0).toBe(model.has(s));
            if (found >= 0) {
              const ref = index.refAt(found);
              index.removeAt(found);
              recs.free(ref);
              model.delete(s);
            }
          } else if (op === 'step') {
            index.rehashStep(n % 5 + 1);
          } else if (op === 'shrink') {
            index.maybeShrink();
          } else if (op === 'retry') {
            index.retryGrowth();
          } else if (ballast.length > 0) {
            recs.alloc.free(ballast.pop() as number);
          }
          expect(index.size).toBe(model.size);
        }
        expectExactly(index, recs, [...model]);
      },
    ), { numRuns: 40 });
  });
});

describe('HashIndex owned by a collection (state in an arena header)', () => {
  it('property: several indexes served by one view, attached in turn, each behave like a Set; destroy frees everything', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom('add', 'add', 'del', 'step', 'shrink', 'scan'),
        fc.integer({ min: 0, max: 300 })), { maxLength: 2000 }),
      (ops) => {
        const arena = new Arena(new SharedArrayBuffer(64 * 1024 * 1024));
        const alloc = new SlabAllocator(arena);
        const recs = new Records(alloc);
        const before = alloc.used;
        const headers = [0, 1, 2, 3].map((i) => HashIndex.create(alloc, i * 100));
        const models = headers.map(() => new Map<string, number>());
        const view = HashIndex.view(arena, alloc);
        for (const [which, op, n] of ops) {
          const idx = view.attach(headers[which], recs.layout);
          const model = models[which];
          const key = Buffer.from(`m${n}`);
          const found = idx.find(h(key), key, 0, key.length);
          expect(found >= 0).toBe(model.has(key.toString()));
          if (op === 'add' && found < 0) {
            const ref = recs.make(key, h(key));
            expect(idx.insert(h(key), ref)).toBeGreaterThanOrEqual(0);
            model.set(key.toString(), ref);
          } else if (op === 'del' && found >= 0) {
            const ref = idx.refAt(found);
            expect(ref).toBe(model.get(key.toString()));
            idx.removeAt(found);
            recs.free(ref);
            model.delete(key.toString());
          } else if (op === 'step') {
            idx.rehashStep(2);
          } else if (op === 'shrink') {
            idx.maybeShrink();
          } else if (op === 'scan') {
            const seen = new Set<string>();
            let cursor = 0;
            do {
              const out: number[] = [];
              cursor = view.attach(headers[which], recs.layout).scan(cursor, out);
              for (const r of out) seen.add(recs.key(r));
            } while (cursor !== 0);
            expect([...seen].sort()).toEqual([...model.keys()].sort());
          }
          expect(view.attach(headers[which], recs.layout).size).toBe(model.size);
        }
        headers.forEach((hd, i) => {
          const idx = view.attach(hd, recs.layout);
          const refs: number[] = [];
          idx.forEach((r) => refs.push(r));
          expect(refs.map((r) => recs.key(r)).sort()).toEqual([...models[i].keys()].sort());
          for (const r of refs) recs.free(r);
          idx.destroy();
        });
        expect(alloc.used).toBe(before);
      },
    ), { numRuns: 40 });
  });

  it('create() is all or nothing when the arena is full', () => {
    const arena = new Arena(new SharedArrayBuffer(4 * SLAB_BYTES));
    const alloc = new SlabAllocator(arena);
    let made = 0;
    for (;;) {
      const used = alloc.used;
      try {
        HashIndex.create(alloc, 64);
        made++;
      } catch {
        expect(alloc.used).toBe(used);
        break;
      }
    }
    expect(made).toBeGreaterThan(0);
  });
});

describe('sampledRecordBytes (MEMORY USAGE ... SAMPLES)', () => {
  it('counts every record with 0 samples, reads at most `samples` records otherwise and extrapolates', () => {
    const { index, recs } = setup();
    for (let i = 0; i < 5000; i++) {
      const key = Buffer.from(`key:${i}${'x'.repeat(i % 40)}`);
      index.insert(h(key), recs.make(key, h(key)));
    }
    let exact = 0;
    index.forEach((r) => { exact += recs.alloc.usableSize(r * 8); });
    expect(sampledRecordBytes(recs.alloc, index, 0)).toBe(exact);
    expect(sampledRecordBytes(recs.alloc, index, 5000)).toBe(exact);
    expect(index.sample(5, []).length).toBe(5);
    const estimate = sampledRecordBytes(recs.alloc, index, 200);
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.25);
  });
});
