import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ENC_HASH_HASHTABLE, ENC_HASH_LISTPACK, ENC_HASH_LISTPACKEX, TYPE_HASH } from '../../native-layout/layout.ts';
import { Arena, OutOfMemoryError, SlabAllocator } from '../../src/store/arena.ts';
import { HashStore } from '../../src/store/hash.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import type { Piece } from '../../src/store/list.ts';
import { sweepHashFields } from '../../src/commands/hashes.ts';
import { HandlerShard, OOM_REPLY } from '../helpers/shard-harness.ts';

// The hash structure (src/store/hash.ts) against a Map model: random sets of
// one or many pairs, deletes, field expiries, purges with a clock the test
// moves, clones, serialization round trips and changes of the listpack
// limits (so hashes convert to hashtables in the middle), in an arena small
// enough that writes run out of memory. A write that throws OutOfMemoryError
// leaves the hash as it was, and the allocator's count always equals what
// the hashes own (no leak). Then the commands through the shard handlers with
// a controllable clock: field expiry, lazy and active, and OOM.

type Field = { v: string; exp: number };
type Model = Map<string, Field>;

const piece = (s: string): Piece => {
  const u8 = Buffer.from(s, 'latin1');
  return { u8, off: 0, len: u8.length };
};

function contents(hs: HashStore, h: number, u8: Uint8Array): Model {
  const out: Model = new Map();
  hs.forEach(h, (fo, fl, vo, vl, exp) => {
    const f = Buffer.from(u8.subarray(fo, fo + fl)).toString('latin1');
    expect(out.has(f), `field ${f} listed twice`).toBe(false);
    out.set(f, { v: Buffer.from(u8.subarray(vo, vo + vl)).toString('latin1'), exp });
  });
  return out;
}

function expectModel(hs: HashStore, h: number, u8: Uint8Array, model: Model, ctx: string): void {
  const got = contents(hs, h, u8);
  expect([...got.entries()].sort(), ctx).toEqual([...model.entries()].sort());
  expect(hs.count(h), ctx).toBe(model.size);
  for (const [f, fv] of model) {
    const p = piece(f);
    expect(hs.find(h, p.u8, p.off, p.len), `${ctx}: find ${f}`).toBe(true);
    expect(Buffer.from(u8.subarray(hs.vOff, hs.vOff + hs.vLen)).toString('latin1')).toBe(fv.v);
    expect(hs.exp).toBe(fv.exp);
  }
  const enc = hs.encodingOf(h);
  if (enc === ENC_HASH_LISTPACK) for (const fv of model.values()) expect(fv.exp).toBe(0);
}

const fieldArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }).map((i) => `f${i}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '\x00\xff', 'f'.repeat(70)) },
);
const valueArb = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: 13, max: 300 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 2000, max: 40_000 }).map((n) => 'y'.repeat(n)) },
);

type Op =
  | { op: 'set'; pairs: [string, string][] }
  | { op: 'del'; f: string }
  | { op: 'expire'; fs: string[]; dt: number }
  | { op: 'persist'; f: string }
  | { op: 'tick'; dt: number }
  | { op: 'clone' }
  | { op: 'roundtrip' }
  | { op: 'limits'; entries: number; value: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('set' as const), pairs: fc.array(fc.tuple(fieldArb, valueArb), { minLength: 1, maxLength: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('del' as const), f: fieldArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('expire' as const), fs: fc.array(fieldArb, { minLength: 1, maxLength: 4 }), dt: fc.integer({ min: -5, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('persist' as const), f: fieldArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clone' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'roundtrip' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('limits' as const), entries: fc.constantFrom(0, 4, 16, 512), value: fc.constantFrom(4, 16, 64, 1024) }) },
);

describe('HashStore against a Map model', () => {
  it('random operations, conversions, field expiry and OOM, with no leak', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 150 }), (ops) => {
      const arena = new Arena(new SharedArrayBuffer(512 * 1024));
      const alloc = new SlabAllocator(arena);
      const hs = new HashStore(arena.u8, arena.u32, arena.f64, alloc, 42);
      const u8 = arena.u8;
      let now = 1_000_000;
      let model: Model = new Map([['seed', { v: 'v', exp: 0 }]]);
      let h = hs.createFrom([piece('seed'), piece('v')]);
      for (const o of ops) {
        const before = new Map(model);
        const ctx = JSON.stringify(o).slice(0, 200);
        let oom = false;
        try {
          switch (o.op) {
            case 'set': {
              const pcs = o.pairs.flatMap(([f, v]) => [piece(f), piece(v)]);
              h = hs.setMany(h, pcs, 0);
              const fresh = new Set(o.pairs.map(([f]) => f).filter((f) => !model.has(f)));
              for (const [f, v] of o.pairs) model.set(f, { v, exp: 0 });
              expect(hs.created).toBe(fresh.size);
              // Past a limit, a listpack has become a hashtable (never the other way).
              const over = model.size > hs.maxEntries || o.pairs.some(([f, v]) => f.length > hs.maxValue || v.length > hs.maxValue);
              if (over) expect(hs.encodingOf(h), ctx).toBe(ENC_HASH_HASHTABLE);
              break;
            }
            case 'del': {
              const p = piece(o.f);
              if (model.size === 1 && model.has(o.f)) break; // keep the hash non-empty
              expect(hs.delete(h, p.u8, p.off, p.len)).toBe(model.delete(o.f));
              break;
            }
            case 'expire': {
              const pcs = o.fs.map(piece);
              h = hs.ensureTtlSlots(h, pcs, 0, pcs.length);
              for (const f of o.fs) {
                const p = piece(f);
                if (!hs.find(h, p.u8, p.off, p.len)) {
                  expect(model.has(f)).toBe(false);
                  continue;
                }
                const at = now + o.dt;
                if (o.dt <= 0) {
                  if (model.size === 1) continue;
                  hs.deleteCurrent(h);
                  model.delete(f);
                } else {
                  hs.writeExpire(h, at);
                  (model.get(f) as Field).exp = at;
                }
              }
              break;
            }
            case 'persist': {
              const p = piece(o.f);
              if (hs.find(h, p.u8, p.off, p.len) && hs.exp !== 0) {
                hs.writeExpire(h, 0);
                (model.get(o.f) as Field).exp = 0;
              }
              break;
            }
            case 'tick': {
              now += o.dt;
              const due = [...model.entries()].filter(([, fv]) => fv.exp !== 0 && fv.exp <= now).map(([f]) => f);
              if (due.length === model.size) break; // an emptied hash is the keyspace's business (tested below)
              const next = hs.nextExpire(h);
              if (due.length > 0) expect(next).toBeLessThanOrEqual(now);
              expect(hs.purgeExpired(h, now)).toBe(due.length);
              for (const f of due) model.delete(f);
              break;
            }
            case 'clone': {
              const c = hs.clone(h);
              expectModel(hs, c, u8, model, `${ctx} (clone)`);
              expect(hs.encodingOf(c)).toBe(hs.encodingOf(h));
              hs.free(h);
              h = c;
              break;
            }
            case 'roundtrip': {
              const bytes = hs.serialize(h);
              expect(hs.validSerialized(bytes, 0, bytes.length)).toBe(true);
              expect(hs.validSerialized(bytes, 0, bytes.length - 1)).toBe(false);
              const c = hs.deserialize(bytes, 0, bytes.length);
              expectModel(hs, c, u8, model, `${ctx} (deserialized)`);
              hs.free(h);
              h = c;
              break;
            }
            case 'limits':
              hs.maxEntries = o.entries;
              hs.maxValue = o.value;
              break;
          }
        } catch (e) {
          if (!(e instanceof OutOfMemoryError)) throw e;
          oom = true;
          model = before;
          for (const fv of model.values()) fv.exp = fv.exp; // values were not mutated in place
        }
        void oom;
        expectModel(hs, h, u8, model, ctx);
        expect(alloc.used, `${ctx}: allocator count`).toBe(hs.footprint(h));
      }
      hs.free(h);
      expect(alloc.used).toBe(0);
    }), { numRuns: 100 });
  });

  it('converts to a hashtable past the entry limit and keeps every field through growth and shrinking', () => {
    const arena = new Arena(new SharedArrayBuffer(16 * 1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const hs = new HashStore(arena.u8, arena.u32, arena.f64, alloc, 7);
    let h = hs.createFrom([piece('f0'), piece('v0')]);
    for (let i = 1; i < 20_000; i++) {
      h = hs.set(h, piece(`f${i}`), piece(`v${i}`));
      if (i === 512) expect(hs.encodingOf(h)).toBe(ENC_HASH_HASHTABLE);
      if (i === 511) expect(hs.encodingOf(h)).toBe(ENC_HASH_LISTPACK);
    }
    expect(hs.count(h)).toBe(20_000);
    for (let i = 0; i < 20_000; i += 2) {
      const p = piece(`f${i}`);
      expect(hs.delete(h, p.u8, p.off, p.len)).toBe(true);
    }
    for (let i = 0; i < 20_000; i++) {
      const p = piece(`f${i}`);
      expect(hs.find(h, p.u8, p.off, p.len)).toBe(i % 2 === 1);
    }
    for (let i = 1; i < 19_990; i += 2) {
      const p = piece(`f${i}`);
      hs.delete(h, p.u8, p.off, p.len);
    }
    expect(hs.count(h)).toBe(5);
    expect(contents(hs, h, arena.u8).size).toBe(5);
    expect(alloc.used).toBe(hs.footprint(h));
    expect(hs.footprint(h)).toBeLessThan(2048); // the slot array shrank
    // A full scan sees each field once.
    const seen: number[] = [];
    let cursor = 0;
    do cursor = hs.scan(h, cursor, 2, (fo) => seen.push(fo)); while (cursor !== 0);
    expect(seen.length).toBe(5);
    hs.free(h);
    expect(alloc.used).toBe(0);
  });

  it('a big hashtable is freed in slices (freeSome), every byte given back; a listpack at once', () => {
    const arena = new Arena(new SharedArrayBuffer(64 * 1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const hs = new HashStore(arena.u8, arena.u32, arena.f64, alloc, 5);
    const build = (n: number, tag: string): number => {
      let h = hs.createFrom([piece(`${tag}0`), piece('v')]);
      for (let i = 1; i < n; i += 500) {
        const pairs: Piece[] = [];
        for (let j = i; j < Math.min(n, i + 500); j++) pairs.push(piece(`${tag}${j}`), piece(`value-${j}`));
        h = hs.setMany(h, pairs, 0);
      }
      return h;
    };
    const a = build(60_000, 'a');
    const small = build(10, 's');
    expect(hs.freeEffort(a)).toBe(60_000);
    expect(hs.freeEffort(small)).toBe(1);
    const withSmall = alloc.used;
    expect(hs.freeSome(small, 1)).toBe(true);
    expect(alloc.used).toBeLessThan(withSmall);
    let held = alloc.used;
    let calls = 0;
    while (!hs.freeSome(a, 5_000)) {
      // A slice is bounded (records plus one unit per 8 groups walked) and gives memory back.
      expect(held - alloc.used).toBeGreaterThan(1_000 * 24);
      expect(held - alloc.used).toBeLessThan((5_000 + 64) * 64);
      held = alloc.used;
      calls++;
    }
    expect(calls).toBeGreaterThanOrEqual(11);
    expect(alloc.used).toBe(0);
  });

  it('random() is uniform over a hashtable\'s fields (chi-square)', () => {
    const arena = new Arena(new SharedArrayBuffer(1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const hs = new HashStore(arena.u8, arena.u32, arena.f64, alloc, 3);
    hs.maxEntries = 4;
    let h = hs.createFrom([piece('f0'), piece('v')]);
    for (let i = 1; i < 10; i++) h = hs.set(h, piece(`f${i}`), piece('v'));
    expect(hs.encodingOf(h)).toBe(ENC_HASH_HASHTABLE);
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let k = 0; k < n; k++) {
      hs.random(h, Math.random);
      const f = Buffer.from(arena.u8.subarray(hs.fOff, hs.fOff + hs.fLen)).toString('latin1');
      counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    let chi = 0;
    for (const c of counts.values()) chi += (c - n / 10) ** 2 / (n / 10);
    expect(chi).toBeLessThan(40);
  });

  it('listpackex: an expiry turns a listpack into listpackex; HSET drops a field\'s expiry', () => {
    const arena = new Arena(new SharedArrayBuffer(1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const hs = new HashStore(arena.u8, arena.u32, arena.f64, alloc, 7);
    let h = hs.createFrom([piece('a'), piece('1'), piece('b'), piece('2')]);
    expect(hs.encodingOf(h)).toBe(ENC_HASH_LISTPACK);
    const footprintPlain = hs.footprint(h);
    h = hs.ensureTtlSlots(h, [piece('a')], 0, 1);
    expect(hs.encodingOf(h)).toBe(ENC_HASH_LISTPACKEX);
    expect(hs.find(h, Buffer.from('a'), 0, 1)).toBe(true);
    hs.writeExpire(h, 5000);
    expect(hs.nextExpire(h)).toBe(5000);
    h = hs.set(h, piece('a'), piece('9'));
    expect(hs.find(h, Buffer.from('a'), 0, 1)).toBe(true);
    expect(hs.exp).toBe(0);
    expect(footprintPlain).toBeLessThanOrEqual(hs.footprint(h));
    hs.free(h);
    expect(alloc.used).toBe(0);
  });
});

// -- through the command handlers, with a clock the test sets -----------------------

class ClockShard extends HandlerShard {
  now = 1_700_000_000_000;
  constructor(arenaBytes = 8 * 1024 * 1024) {
    super(new Keyspace(new Arena(new SharedArrayBuffer(arenaBytes)), 2, new Float64Array(64), 99));
    this.ks.tick = (ms: number): void => {
      void ms;
      this.ks.now = this.now;
    };
  }
}

describe('hash commands with field expiry (fake clock)', () => {
  it('HEXPIRE family: reply codes, conditions, errors', () => {
    const s = new ClockShard();
    const r = (...a: string[]): string => s.run(0, a);
    expect(r('hset', 'h', 'a', '1', 'b', '2', 'c', '3')).toBe(':3\r\n');
    expect(r('hexpire', 'h', '100', 'FIELDS', '2', 'a', 'zz')).toBe('*2\r\n:1\r\n:-2\r\n');
    expect(r('object', 'encoding', 'h')).toBe('$10\r\nlistpackex\r\n');
    expect(r('httl', 'h', 'FIELDS', '3', 'a', 'b', 'zz')).toBe('*3\r\n:100\r\n:-1\r\n:-2\r\n');
    expect(r('hpttl', 'h', 'FIELDS', '1', 'a')).toBe('*1\r\n:100000\r\n');
    expect(r('hexpiretime', 'h', 'FIELDS', '1', 'a')).toBe(`*1\r\n:${(s.now + 100_000) / 1000}\r\n`);
    expect(r('hpexpiretime', 'h', 'FIELDS', '1', 'a')).toBe(`*1\r\n:${s.now + 100_000}\r\n`);
    expect(r('hexpire', 'h', '50', 'NX', 'FIELDS', '2', 'a', 'b')).toBe('*2\r\n:0\r\n:1\r\n');
    expect(r('hexpire', 'h', '200', 'XX', 'FIELDS', '2', 'a', 'c')).toBe('*2\r\n:1\r\n:0\r\n');
    expect(r('hexpire', 'h', '100', 'GT', 'FIELDS', '2', 'a', 'c')).toBe('*2\r\n:0\r\n:0\r\n');
    expect(r('hexpire', 'h', '100', 'LT', 'FIELDS', '2', 'a', 'c')).toBe('*2\r\n:1\r\n:1\r\n');
    expect(r('hpexpireat', 'h', String(s.now + 5), 'FIELDS', '1', 'b')).toBe('*1\r\n:1\r\n');
    expect(r('hexpireat', 'h', '1', 'FIELDS', '1', 'c')).toBe('*1\r\n:2\r\n');
    expect(r('hexists', 'h', 'c')).toBe(':0\r\n');
    expect(r('hpersist', 'h', 'FIELDS', '3', 'a', 'zz', 'a')).toBe('*3\r\n:1\r\n:-2\r\n:-1\r\n');
    expect(r('hexpire', 'nokey', '10', 'FIELDS', '2', 'a', 'b')).toBe('*2\r\n:-2\r\n:-2\r\n');
    expect(r('httl', 'nokey', 'FIELDS', '1', 'a')).toBe('*1\r\n:-2\r\n');
    expect(r('hpersist', 'nokey', 'FIELDS', '1', 'a')).toBe('*1\r\n:-2\r\n');
    // Errors, with Redis 7.4's texts.
    expect(r('hexpire', 'h', '10', 'FIELDS', '2', 'a')).toBe('-ERR The `numfields` parameter must match the number of arguments\r\n');
    expect(r('hexpire', 'h', '10', 'FIELDS', '0', 'a')).toBe('-ERR Parameter `numFields` should be greater than 0\r\n');
    expect(r('hexpire', 'h', '10', 'FIELDX', '1', 'a')).toBe('-ERR Mandatory argument FIELDS is missing or not at the right position\r\n');
    expect(r('hexpire', 'h', '10', 'NX', 'XX', '1', 'a')).toBe('-ERR Mandatory argument FIELDS is missing or not at the right position\r\n');
    expect(r('hexpire', 'h', '-1', 'FIELDS', '1', 'a')).toBe('-ERR invalid expire time, must be >= 0\r\n');
    expect(r('hexpire', 'h', 'x', 'FIELDS', '1', 'a')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(r('hexpire', 'h', '70368744177664', 'FIELDS', '1', 'a')).toBe("-ERR invalid expire time in 'hexpire' command\r\n");
    expect(r('hpexpireat', 'h', '70368744177664', 'FIELDS', '1', 'a')).toBe("-ERR invalid expire time in 'hpexpireat' command\r\n");
    expect(r('httl', 'h', 'FIELDS', 'x', 'a')).toBe('-ERR Number of fields must be a positive integer\r\n');
    expect(r('httl', 'h', 'FIELDS', '2', 'a')).toBe('-ERR The `numfields` parameter must match the number of arguments\r\n');
    expect(r('hpersist', 'h', 'FIELDS', '-1', 'a')).toBe('-ERR Number of fields must be a positive integer\r\n');
    expect(r('set', 's', 'x')).toBe('+OK\r\n');
    expect(r('hexpire', 's', '10', 'FIELDS', '1', 'a')).toMatch(/^-WRONGTYPE/);
    expect(r('httl', 's', 'FIELDS', '1', 'a')).toMatch(/^-WRONGTYPE/);
  });

  it('lazy expiry: reads never see an expired field, HLEN does not count it, the last one takes the key', () => {
    for (const big of [false, true]) {
      const s = new ClockShard();
      const r = (...a: string[]): string => s.run(0, a);
      const n = big ? 600 : 3;
      const args = ['hset', 'h'];
      for (let i = 0; i < n; i++) args.push(`f${i}`, `v${i}`);
      r(...args);
      expect(r('object', 'encoding', 'h')).toBe(big ? '$9\r\nhashtable\r\n' : '$8\r\nlistpack\r\n');
      r('hpexpire', 'h', '10', 'FIELDS', '1', 'f0');
      r('hpexpire', 'h', '20', 'FIELDS', '1', 'f1');
      expect(r('hlen', 'h')).toBe(`:${n}\r\n`);
      s.now += 10;
      expect(r('hget', 'h', 'f0')).toBe('$-1\r\n');
      expect(r('hlen', 'h')).toBe(`:${n - 1}\r\n`);
      expect(r('hexists', 'h', 'f1')).toBe(':1\r\n');
      s.now += 10;
      expect(r('hmget', 'h', 'f1', 'f2')).toBe('*2\r\n$-1\r\n$2\r\nv2\r\n');
      expect(r('httl', 'h', 'FIELDS', '1', 'f1')).toBe('*1\r\n:-2\r\n');
      const rest = Array.from({ length: n - 2 }, (_, i) => `f${i + 2}`);
      r('hpexpire', 'h', '5', 'FIELDS', String(rest.length), ...rest);
      expect(r('exists', 'h')).toBe(':1\r\n');
      s.now += 5;
      expect(r('hgetall', 'h')).toBe('*0\r\n');
      expect(r('exists', 'h')).toBe(':0\r\n');
      expect(s.ks.alloc.used).toBe(s.ks.dbs[0].tableAllocatedBytes + s.ks.dbs[1].tableAllocatedBytes);
    }
  });

  it('active expiry: the sweep drops due fields and deletes emptied keys, and stops looking once none has a TTL', () => {
    const s = new ClockShard();
    const r = (...a: string[]): string => s.run(0, a);
    for (let k = 0; k < 50; k++) r('hset', `h${k}`, 'a', '1', 'b', '2');
    for (let k = 0; k < 50; k++) r('hset', `plain${k}`, 'a', '1');
    for (let k = 0; k < 50; k++) r('hpexpire', `h${k}`, String(10 + (k % 2) * 1000), 'FIELDS', k % 3 === 0 ? '2' : '1', 'a', ...(k % 3 === 0 ? ['b'] : []));
    expect(s.ks.fieldTtlDbs[0]).toBe(2);
    s.now += 20;
    s.ks.now = s.now;
    const out = { sawTtl: false, expired: 0 };
    let cursor = 0;
    do cursor = sweepHashFields(s.ks, 0, cursor, 64, 1_000_000, out); while (cursor !== 0);
    // Keys k even expired 'a' (and 'b' when k % 3 == 0): those with both gone are deleted.
    let expectedGone = 0;
    for (let k = 0; k < 50; k++) if (k % 2 === 0 && k % 3 === 0) expectedGone++;
    expect(s.ks.dbs[0].size).toBe(100 - expectedGone);
    let fields = 0;
    for (let k = 0; k < 50; k++) if (k % 2 === 0) fields += k % 3 === 0 ? 2 : 1;
    expect(out.expired).toBe(fields);
    expect(r('hgetall', 'h2')).toBe('*2\r\n$1\r\nb\r\n$1\r\n2\r\n');
    expect(out.sawTtl).toBe(true);
    // Once no hash has a TTL field left, a full pass sees none.
    for (let k = 1; k < 50; k += 2) r('hpersist', `h${k}`, 'FIELDS', '2', 'a', 'b');
    const out2 = { sawTtl: false, expired: 0 };
    cursor = 0;
    do cursor = sweepHashFields(s.ks, 0, cursor, 64, 1_000_000, out2); while (cursor !== 0);
    expect(out2.expired).toBe(0);
    // listpackex hashes keep their format (as Redis 7.4) but have nothing due.
    expect(r('object', 'encoding', 'h1')).toBe('$10\r\nlistpackex\r\n');
  });

  it('COPY, RENAME and MOVE keep field TTLs', () => {
    const s = new ClockShard();
    const r = (...a: string[]): string => s.run(0, a);
    r('hset', 'h', 'a', '1', 'b', '2');
    r('hpexpire', 'h', '1000', 'FIELDS', '1', 'a');
    expect(r('copy', 'h', 'c')).toBe(':1\r\n');
    expect(r('hpttl', 'c', 'FIELDS', '2', 'a', 'b')).toBe('*2\r\n:1000\r\n:-1\r\n');
    expect(r('rename', 'c', 'd')).toBe('+OK\r\n');
    expect(r('hpttl', 'd', 'FIELDS', '1', 'a')).toBe('*1\r\n:1000\r\n');
    expect(r('move', 'd', '1')).toBe(':1\r\n');
    expect(s.run(1, ['hpttl', 'd', 'FIELDS', '1', 'a'])).toBe('*1\r\n:1000\r\n');
    expect(s.ks.fieldTtlDbs[1]).toBe(2);
    s.now += 1000;
    expect(s.run(1, ['hgetall', 'd'])).toBe('*2\r\n$1\r\nb\r\n$1\r\n2\r\n');
  });

  it('OOM: every hash write in a full arena answers -OOM and changes nothing', () => {
    const s = new ClockShard(1024 * 1024);
    const r = (...a: string[]): string => s.run(0, a);
    const big = 'x'.repeat(20_000);
    expect(r('hset', 'small', 'a', '1')).toBe(':1\r\n');
    let filled = 0;
    while (r('hset', `k${filled}`, 'f', big, 'g', big) !== OOM_REPLY) filled++;
    expect(filled).toBeGreaterThan(5);
    let refused = 0;
    const cmds: string[][] = [
      ['hset', 'small', 'b', big], ['hset', 'k0', 'new', big], ['hset', 'fresh', 'f', big], ['hincrbyfloat', 'k1', 'z', '1'.repeat(9000)],
      ['hmset', 'k0', 'f', big + 'y', 'h', big],
    ];
    for (const c of cmds) {
      const before = r('hgetall', c[1]);
      const used = s.ks.alloc.used;
      const reply = r(...c);
      if (reply === OOM_REPLY) {
        refused++;
        expect(r('hgetall', c[1]), c.join(' ')).toBe(before);
        expect(s.ks.alloc.used).toBe(used);
      }
    }
    expect(refused).toBeGreaterThanOrEqual(3);
    expect(r('hget', 'small', 'a')).toBe('$1\r\n1\r\n');
    expect(s.ks.typeOf(s.ks.lookupRead(0, Buffer.from('small'), 0, 5))).toBe(TYPE_HASH);
  });
});
