import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TYPE_HASH } from '../../native-layout/layout.ts';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { HandlerShard, OOM_REPLY, patternArb } from '../helpers/shard-harness.ts';

// Hash commands through the real shard handlers in a 1 MiB arena, with
// values from empty to larger than the arena, mixed with strings, COPY and
// RENAME over the same keys, and small listpack limits so that hashes convert
// in the middle. After every command the keyspace is compared with a model:
// a command answered -OOM changed nothing, and the allocator's count equals
// the entries, the hashes (blocks, headers, indexes, records) and the index
// tables (no leak). An emptied hash has no key.

const ARENA_BYTES = 1024 * 1024;

type Value = { hash: Map<string, Buffer> } | { str: Buffer };

class TestShard extends HandlerShard {
  constructor() {
    super(new Keyspace(new Arena(new SharedArrayBuffer(ARENA_BYTES)), 1, new Float64Array(64), 4242));
    this.ks.hashes.maxEntries = 6;
    this.ks.hashes.maxValue = 40;
  }
}

function dump(ks: Keyspace): Map<string, Value> {
  const out = new Map<string, Value>();
  const u8 = ks.arena.u8;
  ks.dbs[0].forEach((ref) => {
    if (ks.typeOf(ref) === TYPE_HASH) {
      const m = new Map<string, Buffer>();
      ks.hashes.forEach(ks.valueRef(ref), (fo, fl, vo, vl) => {
        m.set(Buffer.from(u8.subarray(fo, fo + fl)).toString('latin1'), Buffer.from(u8.subarray(vo, vo + vl)));
      });
      expect(m.size).toBeGreaterThan(0);
      out.set(ks.keyString(ref), { hash: m });
    } else {
      const o = ks.stringOffset(ref);
      out.set(ks.keyString(ref), { str: Buffer.from(u8.subarray(o, o + ks.stringLength(ref))) });
    }
  });
  return out;
}

function same(a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if ('str' in a) return 'str' in b && a.str.equals(b.str);
  if (!('hash' in b) || a.hash.size !== b.hash.size) return false;
  for (const [f, v] of a.hash) if (!b.hash.get(f)?.equals(v)) return false;
  return true;
}

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 3, arbitrary: fc.integer({ min: 41, max: 5000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 5001, max: 150_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 150_001, max: ARENA_BYTES + 100 }) },
);
const valueArb = patternArb(sizeArb, 3);
const keyArb = fc.integer({ min: 0, max: 4 }).map((i) => `k${i}`);
const fieldArb = fc.integer({ min: 0, max: 9 }).map((i) => `f${i}`);

type Op =
  | { op: 'hset'; k: string; pairs: [string, Buffer][] }
  | { op: 'hsetnx'; k: string; f: string; v: Buffer }
  | { op: 'hdel'; k: string; fs: string[] }
  | { op: 'hincrby'; k: string; f: string; n: number }
  | { op: 'hexpire'; k: string; fs: string[] }
  | { op: 'set'; k: string; v: Buffer }
  | { op: 'del'; k: string }
  | { op: 'copy' | 'rename'; a: string; b: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('hset' as const), k: keyArb, pairs: fc.array(fc.tuple(fieldArb, valueArb), { minLength: 1, maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hsetnx' as const), k: keyArb, f: fieldArb, v: valueArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('hdel' as const), k: keyArb, fs: fc.array(fieldArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hincrby' as const), k: keyArb, f: fieldArb, n: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hexpire' as const), k: keyArb, fs: fc.array(fieldArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), k: keyArb, v: valueArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), k: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('copy' as const, 'rename' as const), a: keyArb, b: keyArb }) },
);

const WRONG = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';

describe('hash commands in a full arena', () => {
  it('answer -OOM having changed nothing, or do what the model does; no leak', () => {
    let totalOoms = 0;
    let totalOps = 0;
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), (ops) => {
      const shard = new TestShard();
      const ks = shard.ks;
      const model = new Map<string, Value>();
      for (const o of ops) {
        const hashOf = (k: string): Map<string, Buffer> | null | undefined => {
          const v = model.get(k);
          return v === undefined ? undefined : 'hash' in v ? v.hash : null;
        };
        let parts: (string | Buffer)[];
        let want: string | null = null;
        let next: (() => void) | null = null;
        switch (o.op) {
          case 'hset': {
            parts = ['hset', o.k, ...o.pairs.flat()];
            const h = hashOf(o.k);
            if (h === null) { want = WRONG; break; }
            const n = new Map(h ?? []);
            let created = 0;
            for (const [f, v] of o.pairs) {
              if (!n.has(f)) created++;
              n.set(f, v);
            }
            want = `:${created}\r\n`;
            next = () => model.set(o.k, { hash: n });
            break;
          }
          case 'hsetnx': {
            parts = ['hsetnx', o.k, o.f, o.v];
            const h = hashOf(o.k);
            if (h === null) { want = WRONG; break; }
            if (h?.has(o.f)) { want = ':0\r\n'; break; }
            const n = new Map(h ?? []);
            n.set(o.f, o.v);
            want = ':1\r\n';
            next = () => model.set(o.k, { hash: n });
            break;
          }
          case 'hdel': {
            parts = ['hdel', o.k, ...o.fs];
            const h = hashOf(o.k);
            if (h === null) { want = WRONG; break; }
            const n = new Map(h ?? []);
            let d = 0;
            for (const f of o.fs) if (n.delete(f)) d++;
            want = `:${d}\r\n`;
            next = () => { if (n.size === 0) model.delete(o.k); else model.set(o.k, { hash: n }); };
            break;
          }
          case 'hincrby': {
            parts = ['hincrby', o.k, o.f, String(o.n)];
            const h = hashOf(o.k);
            if (h === null) { want = WRONG; break; }
            const cur = h?.get(o.f);
            const s = cur?.toString('latin1');
            if (cur !== undefined && !/^(0|-?[1-9][0-9]{0,17})$/.test(s as string)) { want = null; break; } // checked below
            const v = Number(s ?? '0') + o.n;
            const n = new Map(h ?? []);
            n.set(o.f, Buffer.from(String(v)));
            want = `:${v}\r\n`;
            next = () => model.set(o.k, { hash: n });
            break;
          }
          case 'hexpire': {
            // A far-off expiry: the field stays, its record may move (listpackex, expiry slot).
            parts = ['hexpire', o.k, '100000', 'FIELDS', String(o.fs.length), ...o.fs];
            const h = hashOf(o.k);
            if (h === null) { want = WRONG; break; }
            want = `*${o.fs.length}\r\n${o.fs.map((f) => (h?.has(f) ? ':1\r\n' : ':-2\r\n')).join('')}`;
            break;
          }
          case 'set':
            parts = ['set', o.k, o.v];
            want = '+OK\r\n';
            next = () => model.set(o.k, { str: o.v });
            break;
          case 'del':
            parts = ['del', o.k];
            want = `:${model.has(o.k) ? 1 : 0}\r\n`;
            next = () => model.delete(o.k);
            break;
          case 'copy': case 'rename': {
            parts = [o.op, o.a, o.b];
            const src = model.get(o.a);
            if (o.op === 'copy') {
              if (o.a === o.b) { want = '-ERR source and destination objects are the same\r\n'; break; }
              if (src === undefined || model.has(o.b)) { want = ':0\r\n'; break; }
              want = ':1\r\n';
              next = () => model.set(o.b, src);
            } else {
              if (src === undefined) { want = '-ERR no such key\r\n'; break; }
              want = '+OK\r\n';
              next = () => { model.delete(o.a); model.set(o.b, src); };
            }
            break;
          }
        }
        const got = shard.run(0, parts);
        totalOps++;
        if (got === OOM_REPLY) totalOoms++;
        else {
          if (want !== null) expect(got, JSON.stringify(parts.map((p) => (typeof p === 'string' ? p : `<${p.length}>`)))).toBe(want);
          else expect(got).toBe('-ERR hash value is not an integer\r\n');
          if (next !== null) next();
        }
        const actual = dump(ks);
        expect([...actual.keys()].sort()).toEqual([...model.keys()].sort());
        for (const [k, v] of model) expect(same(actual.get(k), v), `${k} after ${o.op}`).toBe(true);
        let bytes = ks.dbs[0].tableAllocatedBytes;
        ks.dbs[0].forEach((ref) => {
          bytes += ks.alloc.usableSize(ref * 8);
          if (ks.typeOf(ref) === TYPE_HASH) bytes += ks.hashes.footprint(ks.valueRef(ref));
        });
        expect(ks.alloc.used, `allocator count after ${o.op}`).toBe(bytes);
      }
    }), { numRuns: 80 });
    // The arena must really have been too small often enough for this test to mean something.
    expect(totalOoms).toBeGreaterThan(totalOps / 50);
  });
});
