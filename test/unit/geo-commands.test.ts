import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ENC_ZSET_SKIPLIST, TYPE_ZSET } from '../../native-layout/layout.ts';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { decodeScore, geoDistance, geoDistanceExact, geoScore } from '../../src/util/geohash.ts';
import { HandlerShard, OOM_REPLY, patternArb } from '../helpers/shard-harness.ts';

// The geo commands through the real shard handlers in a 1 MiB arena, against
// a model (member -> score maps): GEOADD with NX / XX / CH and members up to
// larger than the arena, GEORADIUS ... STORE / STOREDIST and GEOSEARCHSTORE
// into keys of every kind, GEOSEARCH compared with a brute-force search. A
// command answered -OOM changed nothing, the allocator's count equals what the
// keys hold (no leak), and sets cross the listpack / skiplist limit both ways.

const ARENA_BYTES = 1024 * 1024;

class TestShard extends HandlerShard {
  constructor() {
    super(new Keyspace(new Arena(new SharedArrayBuffer(ARENA_BYTES)), 1, new Float64Array(64), 4242));
  }
}

type Model = Map<string, Map<string, number> | 'string'>;

function dump(ks: Keyspace): Map<string, Map<string, number> | 'string'> {
  const out = new Map<string, Map<string, number> | 'string'>();
  ks.dbs[0].forEach((ref) => {
    if (ks.typeOf(ref) !== TYPE_ZSET) {
      out.set(ks.keyString(ref), 'string');
      return;
    }
    const m = new Map<string, number>();
    for (const e of ks.zsets.entries(ks.valueRef(ref))) m.set(Buffer.from(e.u8.subarray(e.off, e.off + e.len)).toString('latin1'), e.score);
    out.set(ks.keyString(ref), m);
  });
  return out;
}

function expectModel(shard: TestShard, model: Model, context: string): void {
  const ks = shard.ks;
  const actual = dump(ks);
  expect([...actual.keys()].sort(), context).toEqual([...model.keys()].sort());
  for (const [k, v] of model) expect(actual.get(k), `${context}: ${k}`).toEqual(v);
  let bytes = ks.dbs[0].tableAllocatedBytes;
  ks.dbs[0].forEach((ref) => {
    bytes += ks.alloc.usableSize(ref * 8);
    if (ks.typeOf(ref) === TYPE_ZSET) {
      bytes += ks.zsets.footprint(ks.valueRef(ref));
      // OBJECT ENCODING reads the entry: it must follow the set's conversions, OOM or not.
      expect(ks.encodingOf(ref), `${context}: encoding of ${ks.keyString(ref)}`).toBe(ks.zsets.encoding(ks.valueRef(ref)));
    }
  });
  expect(ks.alloc.used, `${context}: allocator count`).toBe(bytes);
}

const CENTRE = [2.35, 48.85];
const coord = fc.tuple(fc.double({ min: -0.5, max: 0.5, noNaN: true }), fc.double({ min: -0.4, max: 0.4, noNaN: true }))
  .map(([dx, dy]) => [CENTRE[0] + dx, CENTRE[1] + dy] as const);
const sizeArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: 60, max: 80 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: ARENA_BYTES + 1000 }) },
);
const memberArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 150 }).map((i) => Buffer.from(`m${i}`)) },
  { weight: 1, arbitrary: patternArb(sizeArb, 2) },
);
const keyArb = fc.constantFrom('a', 'b', 'c');
const flagsArb = fc.subarray(['NX', 'XX', 'CH']).filter((f) => !(f.includes('NX') && f.includes('XX')));

type Op =
  | { op: 'geoadd'; k: string; flags: string[]; items: { lon: number; lat: number; m: Buffer }[] }
  | { op: 'store'; src: string; dst: string; km: number; dist: boolean; count: number }
  | { op: 'search'; k: string; km: number }
  | { op: 'set'; k: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    op: fc.constant('geoadd' as const), k: keyArb, flags: flagsArb,
    items: fc.array(fc.record({ lon: coord.map((c) => c[0]), lat: coord.map((c) => c[1]), m: memberArb }), { minLength: 1, maxLength: 40 }),
  }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constant('store' as const), src: keyArb, dst: keyArb, km: fc.double({ min: 0, max: 60, noNaN: true }),
    dist: fc.boolean(), count: fc.integer({ min: 0, max: 20 }),
  }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('search' as const), k: keyArb, km: fc.double({ min: 0, max: 60, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('set' as const), k: keyArb }) },
);

/** Members of `set` within km of the centre, nearest first, with their distances (the model search). */
function bruteForce(set: Map<string, number>, km: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  const xy = [0, 0];
  // In set order (score, then member bytes): equal distances keep it, as the search's stable sort does.
  const inOrder = [...set].sort((x, y) => x[1] - y[1] || Buffer.compare(Buffer.from(x[0], 'latin1'), Buffer.from(y[0], 'latin1')));
  for (const [m, score] of inOrder) {
    decodeScore(score, xy);
    const d = geoDistance(CENTRE[0], CENTRE[1], xy[0], xy[1]);
    if (d <= km * 1000) out.push([m, d, score]);
  }
  return out.sort((x, y) => x[1] - y[1]);
}

/** How often the runs met an OOM and a skiplist-encoded set (the test must exercise both). */
const seen = { oom: 0, skiplist: 0 };

function applyOp(shard: TestShard, model: Model, op: Op): void {
  const ctx = JSON.stringify(op, (_k, v: unknown) => (v instanceof Buffer || (v as { type?: string })?.type === 'Buffer' ? '<bytes>' : v));
  if (op.op === 'set') {
    expect(shard.run(0, ['SET', op.k, 'v'])).toBe('+OK\r\n');
    model.set(op.k, 'string');
    return;
  }
  if (op.op === 'geoadd') {
    const args: (string | Buffer)[] = ['GEOADD', op.k, ...op.flags];
    for (const it of op.items) args.push(String(it.lon), String(it.lat), it.m);
    const reply = shard.run(0, args);
    const cur = model.get(op.k);
    if (cur === 'string') {
      expect(reply, ctx).toMatch(/^-WRONGTYPE/);
      return;
    }
    if (reply === OOM_REPLY) {
      seen.oom++;
      return; // nothing changed: checked by the caller
    }
    const next = new Map(cur ?? []);
    const nx = op.flags.includes('NX');
    const xx = op.flags.includes('XX');
    let added = 0;
    let changed = 0;
    for (const it of op.items) {
      const m = it.m.toString('latin1');
      const s = geoScore(it.lon, it.lat) as number;
      const old = next.get(m);
      if (old === undefined) {
        if (xx) continue;
        next.set(m, s);
        added++;
      } else if (!nx && old !== s) {
        next.set(m, s);
        changed++;
      }
    }
    expect(reply, ctx).toBe(`:${op.flags.includes('CH') ? added + changed : added}\r\n`);
    if (next.size > 0) model.set(op.k, next);
    return;
  }
  if (op.op === 'search') {
    const reply = shard.run(0, ['GEOSEARCH', op.k, 'FROMLONLAT', String(CENTRE[0]), String(CENTRE[1]), 'BYRADIUS', String(op.km), 'km', 'ASC']);
    const cur = model.get(op.k);
    if (cur === 'string') {
      expect(reply, ctx).toMatch(/^-WRONGTYPE/);
      return;
    }
    const found = bruteForce(cur ?? new Map(), op.km);
    expect(reply, ctx).toBe(`*${found.length}\r\n` + found.map(([m]) => `$${m.length}\r\n${m}\r\n`).join(''));
    return;
  }
  const args = ['GEORADIUS', op.src, String(CENTRE[0]), String(CENTRE[1]), String(op.km), 'km'];
  if (op.count > 0) args.push('COUNT', String(op.count));
  args.push(op.dist ? 'STOREDIST' : 'STORE', op.dst);
  const reply = shard.run(0, args);
  const src = model.get(op.src);
  if (src === 'string') {
    expect(reply, ctx).toMatch(/^-WRONGTYPE/);
    return;
  }
  if (reply === OOM_REPLY) {
    seen.oom++;
    return;
  }
  const all = bruteForce(src ?? new Map(), op.km);
  const found = op.count > 0 ? all.slice(0, op.count) : all;
  expect(reply, ctx).toBe(`:${found.length}\r\n`);
  if (found.length === 0) {
    model.delete(op.dst);
    return;
  }
  const exact = (score: number): number => {
    const p = [0, 0];
    decodeScore(score, p);
    return geoDistanceExact(CENTRE[0], CENTRE[1], p[0], p[1]) / 1000;
  };
  const stored = new Map(found.map(([m, , s]) => [m, op.dist ? exact(s) : s]));
  if (found.length < all.length && all[found.length][1] === found[found.length - 1][1]) {
    // Equal distances across the COUNT cut: which of them pqsort keeps is Redis's order (the
    // differential tests compare it); here the stored members must be as near as the model's.
    const actual = dump(shard.ks).get(op.dst);
    expect(actual instanceof Map && actual.size === found.length, ctx).toBe(true);
    const cut = found[found.length - 1][1];
    const xy = [0, 0];
    for (const [m, v] of actual as Map<string, number>) {
      const s = (src as Map<string, number>).get(m) as number;
      decodeScore(s, xy);
      expect(geoDistance(CENTRE[0], CENTRE[1], xy[0], xy[1]) <= cut, ctx).toBe(true);
      expect(v, ctx).toBe(op.dist ? exact(s) : s);
    }
    model.set(op.dst, actual as Map<string, number>);
    return;
  }
  model.set(op.dst, stored);
}

describe('geo commands against a model, with OOM', () => {
  it('GEOADD / STORE / GEOSEARCH keep the model, and an OOM changes nothing', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      const shard = new TestShard();
      shard.ks.zsets.maxListpackEntries = 16;
      const model: Model = new Map();
      for (const op of ops) {
        applyOp(shard, model, op);
        expectModel(shard, model, op.op);
      }
      shard.ks.dbs[0].forEach((ref) => {
        if (shard.ks.typeOf(ref) === TYPE_ZSET && shard.ks.zsets.encoding(shard.ks.valueRef(ref)) === ENC_ZSET_SKIPLIST) seen.skiplist++;
      });
    }), { numRuns: 300 });
    expect(seen.oom).toBeGreaterThan(0);
    expect(seen.skiplist).toBeGreaterThan(0);
  });
});
