import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { HandlerShard, OOM_REPLY, pattern, patternArb } from '../helpers/shard-harness.ts';

// Random writes of every size, from a few bytes to more than the whole arena,
// run through the real shard command handlers against a 2 MiB arena (and
// again with the 2 MiB placed above 4 GiB of an arena, so that every record,
// table and handle lives at an address past 2^32). After
// every command the whole keyspace is compared with a model: a write answered
// -OOM (or any other error) changed nothing, every acknowledged write is there
// intact, and the allocator's count equals the records plus the index tables
// (nothing leaked). The shard must never throw anything but the OOM that the
// worker turns into Redis's error.

const ARENA_BYTES = 2 * 1024 * 1024;
const DATABASES = 2;

/** A shard over a 2 MiB arena, optionally placed above `below` untouched bytes. */
class TestShard extends HandlerShard {
  /** An arena of `below` untouched bytes (one allocation never written, so never committed) then ARENA_BYTES to work in. */
  constructor(below = 0) {
    super(new Keyspace(new Arena(new SharedArrayBuffer(below + ARENA_BYTES)), DATABASES, new Float64Array(64), 777));
    const ks = this.ks;
    if (below > 0) {
      ks.alloc.alloc(below - 64 * 1024);
      // Move the tables up there too: grow them (the first ones go back to
      // their size class), take every block of that class left below, then
      // flush, which allocates fresh small tables from above.
      for (let db = 0; db < DATABASES; db++) {
        for (let i = 0; i < 40; i++) {
          const k = Buffer.from(`setup:${i}`);
          ks.lookupWrite(db, k, 0, k.length);
          ks.putString(db, k, 0, k.length, k, 0, k.length, 0, -1);
        }
        ks.dbs[db].finishRehash();
      }
      const tableBlock = 4 * 48;
      for (;;) {
        const p = ks.alloc.alloc(tableBlock);
        if (p >= below) {
          ks.alloc.free(p);
          break;
        }
      }
      for (let db = 0; db < DATABASES; db++) ks.flushDb(db);
    }
    this.below = below;
    let tables = 0;
    for (const index of ks.dbs) tables += index.tableAllocatedBytes;
    this.baseline = ks.alloc.used - tables;
  }

  readonly below: number;
  /** Bytes allocated by the set-up that belong to no record or table (the ballast below). */
  readonly baseline: number;

  /** The cron's share of the work: retry growth, shrink, rehash. */
  cron(): void {
    for (const index of this.ks.dbs) {
      index.retryGrowth();
      if (!index.isRehashing) index.maybeShrink();
      index.rehashStep(100);
    }
  }
}

interface Entry { v: Buffer; ttl: boolean }
type Model = Map<string, Entry>[];

function dump(ks: Keyspace, db: number): Map<string, Entry> {
  const out = new Map<string, Entry>();
  ks.dbs[db].forEach((ref) => {
    const o = ks.stringOffset(ref);
    out.set(ks.keyString(ref), { v: Buffer.from(ks.arena.u8.subarray(o, o + ks.stringLength(ref))), ttl: ks.hasExpire(ref) });
  });
  return out;
}

function expectSameKeyspace(shard: TestShard, model: Model, context: string): void {
  const ks = shard.ks;
  let recordBytes = 0;
  let tableBytes = 0;
  for (let db = 0; db < DATABASES; db++) {
    const actual = dump(ks, db);
    const want = model[db];
    expect([...actual.keys()].sort(), context).toEqual([...want.keys()].sort());
    for (const [k, e] of want) {
      const got = actual.get(k) as Entry;
      expect(got.ttl, `${context}: ttl of ${k}`).toBe(e.ttl);
      expect(got.v.length, `${context}: length of ${k}`).toBe(e.v.length);
      expect(got.v.equals(e.v), `${context}: value of ${k}`).toBe(true);
    }
    expect(ks.dbs[db].size).toBe(want.size);
    expect(ks.volatileKeys[db]).toBe([...want.values()].filter((e) => e.ttl).length);
    ks.dbs[db].forEach((ref) => { recordBytes += ks.alloc.usableSize(ref * 8); });
    tableBytes += ks.dbs[db].tableAllocatedBytes;
  }
  // Nothing leaked: every byte handed out belongs to a live record or a table (or the ballast below).
  expect(ks.alloc.used - shard.baseline, `${context}: allocator count`).toBe(recordBytes + tableBytes);
}

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 3, arbitrary: fc.integer({ min: 41, max: 3000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 3001, max: 70_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 70_001, max: 3 * ARENA_BYTES / 2 }) },
);
const valueArb = patternArb(sizeArb, 255);
const keyArb = fc.integer({ min: 0, max: 15 }).map((i) => `k${i}`);
const numKeyArb = fc.integer({ min: 0, max: 3 }).map((i) => `n${i}`);
const anyKeyArb = fc.oneof({ weight: 4, arbitrary: keyArb }, { weight: 1, arbitrary: numKeyArb });
const offsetArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 5001, max: 3 * ARENA_BYTES / 2 }) },
);

type Op =
  | { op: 'set'; k: string; v: Buffer; opt: 'none' | 'ex' | 'keepttl' | 'get' | 'nx' | 'xx' }
  | { op: 'append' | 'getset'; k: string; v: Buffer }
  | { op: 'setrange'; k: string; off: number; v: Buffer }
  | { op: 'incrby'; k: string; by: number }
  | { op: 'setbit'; k: string; off: number }
  | { op: 'mset' | 'msetnx'; pairs: [string, Buffer][] }
  | { op: 'del'; keys: string[] }
  | { op: 'expire' | 'persist' | 'getex-ex' | 'getex-persist' | 'move'; k: string }
  | { op: 'rename' | 'copy' | 'copy-replace'; a: string; b: string }
  | { op: 'bitop'; dest: string; a: string; b: string }
  | { op: 'flushdb' };

const opArb: fc.Arbitrary<{ db: number; o: Op }> = fc.record({
  db: fc.integer({ min: 0, max: DATABASES - 1 }),
  o: fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), k: keyArb, v: valueArb, opt: fc.constantFrom('none', 'none', 'ex', 'keepttl', 'get', 'nx', 'xx') as fc.Arbitrary<'none'> }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('append' as const, 'getset' as const), k: keyArb, v: valueArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('setrange' as const), k: keyArb, off: offsetArb, v: valueArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('incrby' as const), k: numKeyArb, by: fc.integer({ min: -1_000_000, max: 1_000_000 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('setbit' as const), k: keyArb, off: offsetArb.map((o) => o * 3) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('mset' as const, 'msetnx' as const), pairs: fc.array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 5 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('del' as const), keys: fc.array(anyKeyArb, { minLength: 1, maxLength: 4 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('expire' as const, 'persist' as const, 'getex-ex' as const, 'getex-persist' as const, 'move' as const), k: anyKeyArb }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('rename' as const, 'copy' as const, 'copy-replace' as const), a: anyKeyArb, b: anyKeyArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('bitop' as const), dest: keyArb, a: keyArb, b: keyArb }) },
    { weight: 1, arbitrary: fc.constant({ op: 'flushdb' as const }) },
  ) as fc.Arbitrary<Op>,
});

const isInt = (b: Buffer): boolean => /^(0|-?[1-9][0-9]{0,17})$/.test(b.toString('latin1'));
const bulk = (b: Buffer | undefined): string => (b === undefined ? '$-1\r\n' : `$${b.length}\r\n${b.toString('latin1')}\r\n`);

/** Runs the command and applies it to the model when it succeeded; returns whether it answered -OOM. */
function step(shard: TestShard, model: Model, db: number, o: Op): boolean {
  const m = model[db];
  const cur = (k: string): Entry | undefined => m.get(k);
  let reply: string;
  let expectReply: string | null = null;
  const apply: (() => void)[] = [];
  switch (o.op) {
    case 'set': {
      const old = cur(o.k);
      const extra = o.opt === 'ex' ? ['EX', '100000'] : o.opt === 'none' ? [] : [o.opt.toUpperCase()];
      reply = shard.run(db, ['SET', o.k, o.v, ...extra]);
      const skip = (o.opt === 'nx' && old !== undefined) || (o.opt === 'xx' && old === undefined);
      expectReply = o.opt === 'get' ? bulk(old?.v) : skip ? '$-1\r\n' : '+OK\r\n';
      if (!skip) apply.push(() => m.set(o.k, { v: o.v, ttl: o.opt === 'ex' || (o.opt === 'keepttl' && old?.ttl === true) }));
      break;
    }
    case 'getset': {
      const old = cur(o.k);
      reply = shard.run(db, ['GETSET', o.k, o.v]);
      expectReply = bulk(old?.v);
      apply.push(() => m.set(o.k, { v: o.v, ttl: false }));
      break;
    }
    case 'append': {
      const old = cur(o.k);
      reply = shard.run(db, ['APPEND', o.k, o.v]);
      const v = Buffer.concat([old?.v ?? Buffer.alloc(0), o.v]);
      expectReply = `:${v.length}\r\n`;
      apply.push(() => m.set(o.k, { v, ttl: old?.ttl ?? false }));
      break;
    }
    case 'setrange': {
      const old = cur(o.k);
      reply = shard.run(db, ['SETRANGE', o.k, String(o.off), o.v]);
      const base = old?.v ?? Buffer.alloc(0);
      if (o.v.length === 0) {
        expectReply = `:${base.length}\r\n`;
        break;
      }
      const v = Buffer.alloc(Math.max(base.length, o.off + o.v.length));
      base.copy(v);
      o.v.copy(v, o.off);
      expectReply = `:${v.length}\r\n`;
      apply.push(() => m.set(o.k, { v, ttl: old?.ttl ?? false }));
      break;
    }
    case 'incrby': {
      const old = cur(o.k);
      reply = shard.run(db, ['INCRBY', o.k, String(o.by)]);
      if (old !== undefined && !isInt(old.v)) break;
      const n = BigInt(old?.v.toString() ?? '0') + BigInt(o.by);
      expectReply = `:${n}\r\n`;
      apply.push(() => m.set(o.k, { v: Buffer.from(String(n)), ttl: old?.ttl ?? false }));
      break;
    }
    case 'setbit': {
      const old = cur(o.k);
      reply = shard.run(db, ['SETBIT', o.k, String(o.off), '1']);
      const byte = Math.floor(o.off / 8);
      const v = Buffer.alloc(Math.max(old?.v.length ?? 0, byte + 1));
      old?.v.copy(v);
      const mask = 0x80 >> (o.off % 8);
      expectReply = `:${(v[byte] & mask) !== 0 ? 1 : 0}\r\n`;
      v[byte] |= mask;
      apply.push(() => m.set(o.k, { v, ttl: old?.ttl ?? false }));
      break;
    }
    case 'mset':
    case 'msetnx': {
      reply = shard.run(db, [o.op.toUpperCase(), ...o.pairs.flat()]);
      const blocked = o.op === 'msetnx' && o.pairs.some(([k]) => m.has(k));
      expectReply = o.op === 'mset' ? '+OK\r\n' : `:${blocked ? 0 : 1}\r\n`;
      if (!blocked) apply.push(() => { for (const [k, v] of o.pairs) m.set(k, { v, ttl: false }); });
      break;
    }
    case 'del': {
      reply = shard.run(db, ['DEL', ...o.keys]);
      expectReply = `:${new Set(o.keys.filter((k) => m.has(k))).size}\r\n`;
      apply.push(() => { for (const k of o.keys) m.delete(k); });
      break;
    }
    case 'expire':
    case 'getex-ex': {
      const old = cur(o.k);
      reply = o.op === 'expire' ? shard.run(db, ['EXPIRE', o.k, '100000']) : shard.run(db, ['GETEX', o.k, 'EX', '100000']);
      expectReply = o.op === 'expire' ? `:${old ? 1 : 0}\r\n` : bulk(old?.v);
      if (old) apply.push(() => m.set(o.k, { v: old.v, ttl: true }));
      break;
    }
    case 'persist':
    case 'getex-persist': {
      const old = cur(o.k);
      reply = o.op === 'persist' ? shard.run(db, ['PERSIST', o.k]) : shard.run(db, ['GETEX', o.k, 'PERSIST']);
      expectReply = o.op === 'persist' ? `:${old?.ttl ? 1 : 0}\r\n` : bulk(old?.v);
      if (old) apply.push(() => m.set(o.k, { v: old.v, ttl: false }));
      break;
    }
    case 'move': {
      const to = (db + 1) % DATABASES;
      const old = cur(o.k);
      reply = shard.run(db, ['MOVE', o.k, String(to)]);
      const moves = old !== undefined && !model[to].has(o.k);
      expectReply = `:${moves ? 1 : 0}\r\n`;
      if (moves) apply.push(() => { model[to].set(o.k, old); m.delete(o.k); });
      break;
    }
    case 'rename': {
      const old = cur(o.a);
      reply = shard.run(db, ['RENAME', o.a, o.b]);
      if (old === undefined) break;
      expectReply = '+OK\r\n';
      apply.push(() => { m.delete(o.a); m.set(o.b, old); });
      break;
    }
    case 'copy':
    case 'copy-replace': {
      const old = cur(o.a);
      reply = shard.run(db, ['COPY', o.a, o.b, ...(o.op === 'copy-replace' ? ['REPLACE'] : [])]);
      if (o.a === o.b) break;
      const copies = old !== undefined && (o.op === 'copy-replace' || !m.has(o.b));
      expectReply = `:${copies ? 1 : 0}\r\n`;
      if (copies) apply.push(() => m.set(o.b, { v: old.v, ttl: old.ttl }));
      break;
    }
    case 'bitop': {
      const a = cur(o.a)?.v ?? Buffer.alloc(0);
      const b = cur(o.b)?.v ?? Buffer.alloc(0);
      reply = shard.run(db, ['BITOP', 'OR', o.dest, o.a, o.b]);
      const v = Buffer.alloc(Math.max(a.length, b.length));
      for (let i = 0; i < v.length; i++) v[i] = (a[i] ?? 0) | (b[i] ?? 0);
      expectReply = `:${v.length}\r\n`;
      apply.push(() => { if (v.length === 0) m.delete(o.dest); else m.set(o.dest, { v, ttl: false }); });
      break;
    }
    case 'flushdb': {
      reply = shard.run(db, ['__flushdb']);
      expectReply = '+OK\r\n';
      apply.push(() => m.clear());
      break;
    }
  }
  if (reply === OOM_REPLY) return true;
  if (reply.startsWith('-')) {
    // Errors other than OOM are the model's to predict: it predicts none where it expects a reply.
    expect(expectReply, `${o.op} answered ${reply.slice(0, 80)}`).toBeNull();
    return false;
  }
  if (expectReply !== null) expect(reply.slice(0, 200), o.op).toBe(expectReply.slice(0, 200));
  for (const f of apply) f();
  return false;
}

const HIGH = 4.5 * 1024 * 1024 * 1024;

describe.each([
  { where: 'at the bottom of the arena', below: 0, runs: 60 },
  { where: 'above 4 GiB (addresses past 2^32)', below: HIGH, runs: 25 },
])('every write is all or nothing when 2 MiB of arena are full, $where', ({ below, runs }) => {
  it('property: after every -OOM the keyspace is exactly the model; reads, deletes and later writes keep working', () => {
    let ooms = 0;
    let acknowledged = 0;
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 120 }), (ops) => {
      const shard = new TestShard(below);
      const model: Model = Array.from({ length: DATABASES }, () => new Map<string, Entry>());
      ops.forEach(({ db, o }, i) => {
        const oom = step(shard, model, db, o);
        if (oom) ooms++;
        else acknowledged++;
        expectSameKeyspace(shard, model, `after #${i} ${o.op}${oom ? ' (OOM)' : ''}`);
        if (oom) {
          // Reads keep working on a full arena.
          for (const [k, e] of model[db]) expect(shard.run(db, ['GET', k])).toBe(bulk(e.v));
        }
        if (i % 10 === 9) {
          shard.cron();
          expectSameKeyspace(shard, model, `after the cron at #${i}`);
        }
      });
      // Every record and handle really lives past the ballast.
      shard.ks.dbs[0].forEach((ref, handle) => {
        expect(ref * 8).toBeGreaterThanOrEqual(below);
        expect(handle).toBeGreaterThanOrEqual(below);
      });
      // Deletes work when full and free the room for new writes.
      for (let db = 0; db < DATABASES; db++) {
        const keys = [...model[db].keys()];
        if (keys.length > 0) expect(shard.run(db, ['DEL', ...keys])).toBe(`:${keys.length}\r\n`);
        model[db].clear();
      }
      expectSameKeyspace(shard, model, 'after deleting everything');
      const big = pattern(ARENA_BYTES / 2, 9);
      expect(shard.run(0, ['SET', 'again', big])).toBe('+OK\r\n');
      expect(shard.run(0, ['GET', 'again'])).toBe(bulk(big));
    }), { numRuns: runs });
    // The runs did reach a full arena (more than once a run on average), and mostly wrote.
    expect(ooms).toBeGreaterThanOrEqual(runs / 2);
    expect(acknowledged).toBeGreaterThan(ooms);
  });

  it('an MSET that does not fit leaves every key as it was, whichever pair runs out', () => {
    const shard = new TestShard(below);
    // Fill most of the arena with 20 KB values.
    let n = 0;
    while (shard.run(0, ['SET', `fill:${n}`, pattern(20_000, n)]) === '+OK\r\n') n++;
    expect(n).toBeGreaterThan(50);
    shard.run(0, ['DEL', 'fill:0', 'fill:1', 'fill:2']);
    const before = dump(shard.ks, 0);
    // Existing keys overwritten first, then new ones, until the last pair cannot fit.
    const reply = shard.run(0, ['MSET', 'fill:5', 'x', 'fresh:1', pattern(30_000, 1), 'fill:6', pattern(30_000, 2), 'fresh:2', pattern(900_000, 3)]);
    expect(reply).toBe(OOM_REPLY);
    const after = dump(shard.ks, 0);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [k, e] of before) expect((after.get(k) as Entry).v.equals(e.v)).toBe(true);
  });

  it('an MSET whose large value finds free slabs but no run long enough changes nothing', () => {
    const shard = new TestShard(below);
    // 40 KB values take one slab each; deleting every other one leaves many
    // free slabs, none of them next to another.
    let n = 0;
    while (shard.run(0, ['SET', `slab:${n}`, pattern(40_000, n)]) === '+OK\r\n') n++;
    const gone: string[] = [];
    for (let i = 0; i < n; i += 2) gone.push(`slab:${i}`);
    expect(shard.run(0, ['DEL', ...gone])).toBe(`:${gone.length}\r\n`);
    const before = dump(shard.ks, 0);
    expect(shard.run(0, ['MSET', 'slab:1', 'tiny', 'fresh', pattern(200_000, 5)])).toBe(OOM_REPLY);
    const after = dump(shard.ks, 0);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [k, e] of before) expect((after.get(k) as Entry).v.equals(e.v)).toBe(true);
    // Values that fit in the holes still go in.
    expect(shard.run(0, ['MSET', 'slab:1', 'tiny', 'fresh', pattern(30_000, 5)])).toBe('+OK\r\n');
  });
});
