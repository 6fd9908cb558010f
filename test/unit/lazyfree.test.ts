import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
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
  | { t: 'del'; k: number; db: number }
  | { t: 'expire'; k: number; db: number }
  | { t: 'flushdb'; db: number; async: boolean }
  | { t: 'flushall'; async: boolean }
  | { t: 'step'; budget: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('set' as const), k: fc.nat(30), db: fc.nat(1) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('list' as const), k: fc.nat(30), db: fc.nat(1), n: fc.integer({ min: 1, max: 300 }) }) },
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
      const sh = new HandlerShard(ks);
      const model: Map<string, string | number>[] = [new Map(), new Map()];
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
            model[o.db].set(`k${o.k}`, o.n);
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
            else expect(sh.run(db, ['LLEN', k])).toBe(`:${v}\r\n`);
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
