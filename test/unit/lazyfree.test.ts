import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena, SlabAllocator } from '../../src/store/arena.ts';
import { HashStore } from '../../src/store/hash.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import type { Piece } from '../../src/store/list.ts';
import { SetStore } from '../../src/store/set.ts';
import { HandlerShard } from '../helpers/shard-harness.ts';

// The lazy-free queue through the shard handlers, against a model of the
// keys: random writes, big and small lists, DEL/UNLINK/overwrites/expiry and
// FLUSHDB/FLUSHALL ASYNC and SYNC, with the queue drained in random slices
// between commands (as the shard does between batches). Whatever is pending,
// the keyspace answers as the model says; once drained, every byte not held
// by a live key or an index table is back.

type Op =
  | { t: 'set'; k: number; db: number }
  | { t: 'list'; k: number; db: number; n: number }
  | { t: 'hash'; k: number; db: number; n: number }
  | { t: 'sadd'; k: number; db: number; n: number; ints: boolean }
  | { t: 'del'; k: number; db: number }
  | { t: 'expire'; k: number; db: number }
  | { t: 'flushdb'; db: number; async: boolean }
  | { t: 'flushall'; async: boolean }
  | { t: 'step'; budget: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('set' as const), k: fc.nat(30), db: fc.nat(1) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('list' as const), k: fc.nat(30), db: fc.nat(1), n: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('hash' as const), k: fc.nat(30), db: fc.nat(1), n: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sadd' as const), k: fc.nat(30), db: fc.nat(1), n: fc.integer({ min: 1, max: 200 }), ints: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), k: fc.nat(30), db: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expire' as const), k: fc.nat(30), db: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('flushdb' as const), db: fc.nat(1), async: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('flushall' as const), async: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('step' as const), budget: fc.integer({ min: 1, max: 400 }) }) },
);

function liveBytes(ks: Keyspace): number {
  let bytes = 0;
  for (const index of ks.dbs) {
    index.forEach((ref) => { bytes += ks.entryFootprint(0, ref) - (index.slotCapacity > 0 ? Math.round(index.tableBytes / index.slotCapacity) : 0); });
    bytes += index.tableAllocatedBytes;
  }
  return bytes;
}

describe('lazy free queue', () => {
  it('property: pending frees never show, and draining gives every byte back', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
      const ks = new Keyspace(new Arena(new SharedArrayBuffer(32 << 20)), 2, new Float64Array(256), 7);
      ks.lists.fill = 2; // two elements a node: a list of n elements has n/2 nodes, past 64 from 130
      // Small encodings up to 16 elements: hashes and sets of 17 to 64 are tables freed at once, past 64 queued.
      ks.hashes.maxEntries = 16;
      ks.sets.maxIntsetEntries = 16;
      ks.sets.maxListpackEntries = 16;
      const sh = new HandlerShard(ks);
      // A string's value, or a collection's type and size.
      const model: Map<string, string | { type: 'list' | 'hash' | 'set'; n: number }>[] = [new Map(), new Map()];
      for (const o of ops) {
        switch (o.t) {
          case 'set':
            expect(sh.run(o.db, ['SET', `k${o.k}`, `v${o.k}`])).toBe('+OK\r\n');
            model[o.db].set(`k${o.k}`, `v${o.k}`);
            break;
          case 'list': {
            sh.run(o.db, ['DEL', `k${o.k}`]);
            const els = Array.from({ length: o.n }, (_, i) => `e${i}`);
            expect(sh.run(o.db, ['RPUSH', `k${o.k}`, ...els])).toBe(`:${o.n}\r\n`);
            model[o.db].set(`k${o.k}`, { type: 'list', n: o.n });
            break;
          }
          case 'hash': {
            // Overwrites whatever the key held (queued when big).
            sh.run(o.db, ['SET', `k${o.k}`, 'x']);
            const pairs = Array.from({ length: o.n }, (_, i) => [`f${i}`, `v${i}`]).flat();
            expect(sh.run(o.db, ['DEL', `k${o.k}`])).toBe(':1\r\n');
            expect(sh.run(o.db, ['HSET', `k${o.k}`, ...pairs])).toBe(`:${o.n}\r\n`);
            if (o.n > 2) expect(sh.run(o.db, ['HPEXPIRE', `k${o.k}`, '100000', 'FIELDS', '1', 'f1'])).toBe('*1\r\n:1\r\n');
            model[o.db].set(`k${o.k}`, { type: 'hash', n: o.n });
            break;
          }
          case 'sadd': {
            const members = Array.from({ length: o.n }, (_, i) => (o.ints ? `${i * 3}` : `m${i}`));
            // Overwrites whatever the key held (queued when big), then deletes the string.
            expect(sh.run(o.db, ['SET', `k${o.k}`, 'x'])).toBe('+OK\r\n');
            sh.run(o.db, ['DEL', `k${o.k}`]);
            expect(sh.run(o.db, ['SADD', `k${o.k}`, ...members])).toBe(`:${o.n}\r\n`);
            model[o.db].set(`k${o.k}`, { type: 'set', n: o.n });
            break;
          }
          case 'del':
            expect(sh.run(o.db, ['UNLINK', `k${o.k}`])).toBe(`:${model[o.db].delete(`k${o.k}`) ? 1 : 0}\r\n`);
            break;
          case 'expire':
            expect(sh.run(o.db, ['PEXPIRE', `k${o.k}`, '0'])).toBe(`:${model[o.db].delete(`k${o.k}`) ? 1 : 0}\r\n`);
            break;
          case 'flushdb':
            sh.run(o.db, ['__flushdb', o.async ? 'ASYNC' : 'SYNC']);
            model[o.db].clear();
            break;
          case 'flushall':
            sh.run(0, ['__flushall', o.async ? 'ASYNC' : 'SYNC']);
            model[0].clear();
            model[1].clear();
            break;
          case 'step':
            ks.lazyFreeStep(o.budget);
            break;
        }
        for (let db = 0; db < 2; db++) {
          expect(ks.dbs[db].size).toBe(model[db].size);
          for (const [k, v] of model[db]) {
            if (typeof v === 'string') expect(sh.run(db, ['GET', k])).toBe(`$${v.length}\r\n${v}\r\n`);
            else expect(sh.run(db, [v.type === 'list' ? 'LLEN' : v.type === 'hash' ? 'HLEN' : 'SCARD', k])).toBe(`:${v.n}\r\n`);
          }
        }
      }
      while (!ks.lazyFreeStep(50)) { /* drain in small slices */ }
      expect(ks.lazy.pending).toBe(0);
      expect(ks.alloc.used).toBe(liveBytes(ks));
    }), { numRuns: 150 });
  });

  it('a big list is queued, a small one is freed at once; FLUSHDB ASYNC queues the whole index', () => {
    const ks = new Keyspace(new Arena(new SharedArrayBuffer(32 << 20)), 2, new Float64Array(256), 7);
    ks.lists.fill = 1;
    const sh = new HandlerShard(ks);
    const base = ks.alloc.used;
    sh.run(0, ['RPUSH', 'small', ...Array.from({ length: 64 }, (_, i) => `${i}`)]);
    sh.run(0, ['DEL', 'small']);
    expect(ks.lazy.pending).toBe(0);
    expect(ks.alloc.used).toBe(base);
    sh.run(0, ['RPUSH', 'big', ...Array.from({ length: 65 }, (_, i) => `${i}`)]);
    const full = ks.alloc.used;
    sh.run(0, ['DEL', 'big']);
    expect(ks.lazy.pending).toBe(1);
    expect(ks.alloc.used).toBeLessThan(full);
    expect(ks.alloc.used).toBeGreaterThan(base + 65 * 24);
    expect(ks.lazyFreeStep(10)).toBe(false);
    while (!ks.lazyFreeStep(10)) { /* drain */ }
    expect(ks.alloc.used).toBe(base);
    expect(ks.lazy.freed).toBe(1);
    for (let i = 0; i < 1000; i++) sh.run(1, ['SET', `k${i}`, 'v']);
    sh.run(1, ['RPUSH', 'big', ...Array.from({ length: 200 }, (_, i) => `${i}`)]);
    sh.run(1, ['__flushdb', 'ASYNC']);
    expect(ks.dbs[1].size).toBe(0);
    expect(ks.lazy.pending).toBe(1001);
    sh.run(1, ['SET', 'k5', 'new']);
    while (!ks.lazyFreeStep(100)) { /* drain */ }
    expect(ks.lazy.pending).toBe(0);
    expect(ks.lazy.freed).toBe(1 + 1001 + 1);
    expect(sh.run(1, ['GET', 'k5'])).toBe('$3\r\nnew\r\n');
    sh.run(1, ['DEL', 'k5']);
    expect(ks.alloc.used).toBe(liveBytes(ks));
  });
});

/**
 * Records every block the allocator hands out and fails on a free of a block
 * it does not hold (a double free, or a free of something never allocated).
 */
function trackAllocations(alloc: SlabAllocator): Set<number> {
  const live = new Set<number>();
  const tryAlloc = alloc.tryAlloc.bind(alloc);
  const allocOrThrow = alloc.alloc.bind(alloc);
  const free = alloc.free.bind(alloc);
  alloc.tryAlloc = (size: number): number => {
    const a = tryAlloc(size);
    if (a !== 0) live.add(a);
    return a;
  };
  alloc.alloc = (size: number): number => {
    const a = allocOrThrow(size);
    live.add(a);
    return a;
  };
  alloc.free = (addr: number): void => {
    if (!live.delete(addr)) throw new Error(`free of a block not held: ${addr}`);
    free(addr);
  };
  return live;
}

const enc = new TextEncoder();
const piece = (text: string): Piece => {
  const u8 = enc.encode(text);
  return { u8, off: 0, len: u8.length };
};

type Collection = { n: number; removed: number; wide: boolean; ints: boolean; ttl: boolean; budgets: number[] };
const collection: fc.Arbitrary<Collection> = fc.record({
  n: fc.integer({ min: 1, max: 3000 }),
  // Some elements removed after the build: a sparse (or shrunk) table.
  removed: fc.integer({ min: 0, max: 100 }),
  // Long values: a hashtable hash / a hashtable set from a few elements.
  wide: fc.boolean(),
  ints: fc.boolean(),
  ttl: fc.boolean(),
  budgets: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }),
});

/** Frees h with freeSome in the given budgets (cycled), checking that every call but the last gives memory back. */
function freeInSlices(alloc: SlabAllocator, freeSome: (budget: number) => boolean, budgets: number[]): number {
  let calls = 0;
  for (;;) {
    const before = alloc.used;
    const done = freeSome(budgets[calls % budgets.length]);
    calls++;
    expect(alloc.used).toBeLessThan(before);
    if (done) return calls;
    expect(calls).toBeLessThan(100_000);
  }
}

describe('lazy free of hashes and sets (freeSome)', () => {
  it('property: a hash freed in random budgets gives back exactly what it held, each block once', () => {
    fc.assert(fc.property(fc.array(collection, { minLength: 1, maxLength: 4 }), fc.integer({ min: 2, max: 600 }), (hashes, maxEntries) => {
      const arena = new Arena(new SharedArrayBuffer(32 << 20));
      const alloc = new SlabAllocator(arena);
      const live = trackAllocations(alloc);
      const hs = new HashStore(arena.u8, arena.u32, arena.f64, alloc, 11);
      hs.maxEntries = maxEntries;
      const built: { h: number; c: Collection; bytes: number }[] = [];
      for (const c of hashes) {
        const usedBefore = alloc.used;
        const pairs: Piece[] = [];
        for (let i = 0; i < c.n; i++) pairs.push(piece(`f${i}`), piece(c.wide ? `value-${i}-${'x'.repeat(70)}` : `${i}`));
        let h = hs.createFrom(pairs);
        if (c.ttl) {
          h = hs.ensureTtlSlots(h, null, 0, 0);
          for (let i = 0; i < c.n; i += 3) {
            const f = piece(`f${i}`);
            if (hs.find(h, f.u8, f.off, f.len)) hs.writeExpire(h, Date.now() + 1_000_000 + i);
          }
        }
        for (let i = 0; i < Math.min(c.removed, c.n - 1); i++) {
          const f = piece(`f${i * 7 % c.n}`);
          hs.delete(h, f.u8, f.off, f.len);
        }
        expect(hs.freeEffort(h)).toBe(hs.isTable(h) ? hs.count(h) : 1);
        built.push({ h, c, bytes: alloc.used - usedBefore });
        expect(hs.footprint(h)).toBe(alloc.used - usedBefore);
      }
      // Free them in an order other than built, interleaving nothing else: each returns its own bytes.
      for (const { h, c, bytes } of built.reverse()) {
        const usedBefore = alloc.used;
        const calls = freeInSlices(alloc, (b) => hs.freeSome(h, b), c.budgets);
        expect(usedBefore - alloc.used).toBe(bytes);
        if (!hs.isTable(h) || c.budgets.every((b) => b >= 10_000)) expect(calls).toBe(1);
      }
      expect(alloc.used).toBe(0);
      expect(live.size).toBe(0);
    }), { numRuns: 120 });
  });

  it('property: a set (intset, listpack or hashtable) freed in random budgets gives back exactly what it held, each block once', () => {
    fc.assert(fc.property(fc.array(collection, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 600 }), (sets, maxSmall) => {
      const arena = new Arena(new SharedArrayBuffer(32 << 20));
      const alloc = new SlabAllocator(arena);
      const live = trackAllocations(alloc);
      const ss = new SetStore(arena, alloc, 13);
      ss.maxIntsetEntries = maxSmall;
      ss.maxListpackEntries = maxSmall;
      const built: { h: number; c: Collection; bytes: number }[] = [];
      for (const c of sets) {
        const usedBefore = alloc.used;
        const member = (i: number): Piece => piece(c.ints ? `${i * 13 - 500}` : c.wide ? `member-${i}-${'y'.repeat(70)}` : `m${i}`);
        const members: Piece[] = [];
        for (let i = 0; i < c.n; i++) members.push(member(i));
        const h = ss.create(members);
        for (let i = 0; i < Math.min(c.removed, c.n - 1); i++) {
          const m = member(i * 7 % c.n);
          ss.remove(h, m.u8, m.off, m.len);
        }
        expect(ss.freeEffort(h)).toBe(ss.isSmall(h) ? 1 : ss.count(h));
        built.push({ h, c, bytes: alloc.used - usedBefore });
        expect(ss.footprint(h)).toBe(alloc.used - usedBefore);
      }
      for (const { h, c, bytes } of built.reverse()) {
        const usedBefore = alloc.used;
        const small = ss.isSmall(h);
        const calls = freeInSlices(alloc, (b) => ss.freeSome(h, b), c.budgets);
        expect(usedBefore - alloc.used).toBe(bytes);
        if (small) expect(calls).toBe(1);
      }
      expect(alloc.used).toBe(0);
      expect(live.size).toBe(0);
    }), { numRuns: 120 });
  });

  it('a big hash or set is queued on delete, a small one freed at once; an overwrite queues the old value; draining gives every byte back', () => {
    const ks = new Keyspace(new Arena(new SharedArrayBuffer(64 << 20)), 2, new Float64Array(256), 7);
    const live = trackAllocations(ks.alloc);
    const sh = new HandlerShard(ks);
    const base = ks.alloc.used;
    const fields = (n: number): string[] => Array.from({ length: n }, (_, i) => [`f${i}`, `v${i}`]).flat();
    const members = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`);
    sh.run(0, ['HSET', 'h', ...fields(600)]); // a hashtable: past hash-max-listpack-entries
    sh.run(0, ['SADD', 's', ...members(600)]);
    sh.run(0, ['HSET', 'hsmall', ...fields(64)]);
    sh.run(0, ['SADD', 'ssmall', ...members(64)]);
    const smallHeld = ks.alloc.used;
    expect(sh.run(0, ['DEL', 'hsmall', 'ssmall'])).toBe(':2\r\n');
    expect(ks.lazy.pending).toBe(0);
    expect(ks.alloc.used).toBeLessThan(smallHeld);
    const held = ks.alloc.used;
    expect(sh.run(0, ['UNLINK', 'h'])).toBe(':1\r\n');
    expect(sh.run(0, ['SET', 's', 'now a string'])).toBe('+OK\r\n');
    expect(ks.lazy.pending).toBe(2);
    // Unlinked but not freed: used_memory still counts them.
    expect(ks.alloc.used).toBeGreaterThan(held - 1000);
    expect(sh.run(0, ['EXISTS', 'h'])).toBe(':0\r\n');
    expect(sh.run(0, ['TYPE', 's'])).toBe('+string\r\n');
    let steps = 0;
    while (!ks.lazyFreeStep(64)) steps++;
    expect(steps).toBeGreaterThan(10);
    expect(ks.lazy.pending).toBe(0);
    expect(ks.lazy.freed).toBe(2);
    sh.run(0, ['DEL', 's']);
    expect(ks.alloc.used).toBe(base);
    expect(live.size).toBe(0); // every block allocated since tracking began was freed, once
  });
});
