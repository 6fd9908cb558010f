import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena, OutOfMemoryError, SlabAllocator } from '../../src/store/arena.ts';
import { compareBytes, ZSetStore, type ZEntry } from '../../src/store/zset.ts';
import { ENC_ZSET_LISTPACK, ENC_ZSET_SKIPLIST } from '../../native-layout/layout.ts';

// The sorted-set structure against a sorted array of [score, member], with
// random operations in a small arena: adds (new members, score updates that
// move elements), removals by member and by rank, rank/score/lex queries,
// clones, serialize round trips and changes of the listpack limits (so sets
// convert to skiplists at every size). An operation that throws
// OutOfMemoryError must leave the set as it was; freeing gives every byte back.

type Model = Array<[number, string]>;

/** -0 and 0 compare equal here: a listpack reads -0 back as 0, as Redis's does. */
const norm = (m: Model): Model => m.map(([s, k]) => [s === 0 ? 0 : s, k]);

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function cmp(a: [number, string], b: [number, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  const x = bytes(a[1]);
  const y = bytes(b[1]);
  return compareBytes(x, 0, x.length, y, 0, y.length);
}

function contents(z: ZSetStore, h: number, u8: Uint8Array): Model {
  const out: Model = [];
  for (let p = z.first(h); p !== 0; p = z.next(h, p)) {
    const o = z.memberOff(h, p);
    out.push([z.scoreAt(p), Buffer.from(u8.subarray(o, o + z.memberLen(p))).toString('latin1')]);
  }
  return norm(out);
}

function reversed(z: ZSetStore, h: number, u8: Uint8Array): Model {
  const out: Model = [];
  for (let p = z.last(h); p !== 0; p = z.prev(h, p)) {
    const o = z.memberOff(h, p);
    out.unshift([z.scoreAt(p), Buffer.from(u8.subarray(o, o + z.memberLen(p))).toString('latin1')]);
  }
  return norm(out);
}

const member = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 6 }).map((s) => s.replace(/[^\x00-\xff]/g, 'x')) },
  { weight: 2, arbitrary: fc.constantFrom('a', 'b', '', '\x00\xff', 'a\x00') },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 2000 }).map((n) => 'z'.repeat(n)) },
);
const score = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -5, max: 5 }) },
  { weight: 2, arbitrary: fc.double({ noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Infinity, -Infinity, 0, -0) },
);

const op = fc.oneof(
  { weight: 10, arbitrary: fc.record({ t: fc.constant('add' as const), items: fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rem' as const), m: member }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remRank' as const), r: fc.nat(), n: fc.nat(30) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('query' as const), x: score, m: member, r: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('limits' as const), e: fc.constantFrom(0, 1, 4, 16, 128), v: fc.constantFrom(0, 3, 64) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clone' as const) }) },
);

describe('ZSetStore against a sorted-array model', () => {
  it('keeps order, ranks and scores through random operations, conversions and OOM', () => {
    let ooms = 0;
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.integer(), (ops, seed) => {
      const arena = new Arena(new SharedArrayBuffer(320 * 1024));
      const alloc = new SlabAllocator(arena);
      const z = new ZSetStore(arena.u8, arena.u32, arena.f64, alloc, seed);
      const base = alloc.used;
      let h = z.create();
      let model: Model = [];
      const find = (m: string): number => model.findIndex((e) => e[1] === m);
      for (const o of ops) {
        if (o.t === 'add') {
          for (const [s, m] of o.items) {
            const b = bytes(m);
            const before = contents(z, h, arena.u8);
            try {
              const old = z.add(h, b, 0, b.length, s);
              const i = find(m);
              expect(Number.isNaN(old)).toBe(i < 0);
              if (i >= 0) {
                expect(old).toBe(model[i][0] === 0 ? old : model[i][0]);
                if (model[i][0] === s) continue; // same score (0 and -0 too): untouched, as Redis
                model.splice(i, 1);
              }
              model.push([s, m]);
              model.sort(cmp);
            } catch (e) {
              if (!(e instanceof OutOfMemoryError)) throw e;
              ooms++;
              expect(contents(z, h, arena.u8)).toEqual(before);
            }
          }
        } else if (o.t === 'rem') {
          const b = bytes(o.m);
          const p = z.find(h, b, 0, b.length);
          const i = find(o.m);
          expect(p !== 0).toBe(i >= 0);
          if (p !== 0) {
            z.remove(h, p);
            model.splice(i, 1);
          }
        } else if (o.t === 'remRank') {
          if (model.length > 0) {
            const r = o.r % model.length;
            const n = Math.min(o.n, model.length - r);
            for (let k = 0; k < n; k++) z.remove(h, z.atRank(h, r));
            model.splice(r, n);
          }
        } else if (o.t === 'query') {
          const below = model.filter((e) => e[0] < o.x).length;
          const atMost = model.filter((e) => e[0] <= o.x).length;
          expect(z.scoreRank(h, o.x, false)).toBe(below);
          expect(z.scoreRank(h, o.x, true)).toBe(atMost);
          const b = bytes(o.m);
          const i = find(o.m);
          expect(Number.isNaN(z.score(h, b, 0, b.length))).toBe(i < 0);
          if (i >= 0) {
            expect(z.score(h, b, 0, b.length) === model[i][0]).toBe(true);
            expect(z.rankOf(h, z.find(h, b, 0, b.length))).toBe(i);
          }
          if (model.length > 0) {
            const r = o.r % model.length;
            const p = z.atRank(h, r);
            expect(z.scoreAt(p) === model[r][0]).toBe(true);
            expect(z.rankOf(h, p)).toBe(r);
          }
          // Lex ranks: meaningful when every score is equal.
          if (model.every((e) => e[0] === model[0][0])) {
            const lt = model.filter((e) => { const x = bytes(e[1]); return compareBytes(x, 0, x.length, b, 0, b.length) < 0; }).length;
            const le = model.filter((e) => { const x = bytes(e[1]); return compareBytes(x, 0, x.length, b, 0, b.length) <= 0; }).length;
            expect(z.lexRank(h, b, 0, b.length, false)).toBe(lt);
            expect(z.lexRank(h, b, 0, b.length, true)).toBe(le);
          }
        } else if (o.t === 'limits') {
          z.maxListpackEntries = o.e;
          z.maxListpackValue = o.v;
        } else {
          try {
            const c = z.clone(h);
            expect(z.encoding(c)).toBe(z.encoding(h));
            expect(contents(z, c, arena.u8)).toEqual(norm(model));
            const ser = z.serialize(h);
            expect(z.validSerialized(ser, 0, ser.length)).toBe(model.length > 0);
            z.free(h);
            h = c;
          } catch (e) {
            if (!(e instanceof OutOfMemoryError)) throw e;
          }
        }
        expect(z.count(h)).toBe(model.length);
        expect(contents(z, h, arena.u8)).toEqual(norm(model));
        expect(reversed(z, h, arena.u8)).toEqual(norm(model));
        if (z.encoding(h) === ENC_ZSET_LISTPACK) {
          expect(model.length).toBeLessThanOrEqual(Math.max(z.maxListpackEntries, 128));
        }
      }
      z.free(h);
      expect(alloc.used).toBe(base);
    }), { numRuns: 400 });
    expect(ooms).toBeGreaterThan(0); // the small arena does run out
  });

  it('converts at the limits, and builds with the encoding Redis picks', () => {
    const arena = new Arena(new SharedArrayBuffer(4 * 1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const z = new ZSetStore(arena.u8, arena.u32, arena.f64, alloc, 1);
    const h = z.create();
    for (let i = 0; i < 128; i++) z.add(h, bytes(`m${i}`), 0, bytes(`m${i}`).length, i);
    expect(z.encoding(h)).toBe(ENC_ZSET_LISTPACK);
    z.add(h, bytes('x'), 0, 1, 0.5);
    expect(z.encoding(h)).toBe(ENC_ZSET_SKIPLIST);
    expect(z.rankOf(h, z.find(h, bytes('x'), 0, 1))).toBe(1);
    const g = z.create();
    const long = bytes('y'.repeat(65));
    z.add(g, long, 0, long.length, 1);
    expect(z.encoding(g)).toBe(ENC_ZSET_SKIPLIST);
    const entries: ZEntry[] = [{ score: 1, u8: bytes('a'), off: 0, len: 1 }];
    const k = z.build(entries);
    expect(z.encoding(k)).toBe(ENC_ZSET_LISTPACK);
    z.free(h);
    z.free(g);
    z.free(k);
  });

  it('frees a big skiplist in slices (freeEffort/freeSome) and gives every byte back', () => {
    const arena = new Arena(new SharedArrayBuffer(8 * 1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const z = new ZSetStore(arena.u8, arena.u32, arena.f64, alloc, 3);
    const base = alloc.used;
    const h = z.create();
    for (let i = 0; i < 20000; i++) {
      const b = bytes(`m${i}`);
      z.insert(h, b, 0, b.length, i % 97);
    }
    expect(z.freeEffort(h)).toBe(20001);
    let calls = 1;
    while (!z.freeSome(h, 1000)) calls++;
    expect(calls).toBe(20);
    expect(alloc.used).toBe(base);
    const small = z.create();
    z.insert(small, bytes('a'), 0, 1, 1);
    expect(z.freeEffort(small)).toBe(1);
    expect(z.freeSome(small, 1)).toBe(true);
    expect(alloc.used).toBe(base);
  });

  it('ranks a skiplist of 100,000 members in O(log n)', () => {
    const arena = new Arena(new SharedArrayBuffer(32 * 1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const z = new ZSetStore(arena.u8, arena.u32, arena.f64, alloc, 7);
    const h = z.create(ENC_ZSET_SKIPLIST);
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const b = bytes(`member:${i}`);
      z.insert(h, b, 0, b.length, (i * 7919) % n);
    }
    for (let r = 0; r < n; r += 997) {
      const p = z.atRank(h, r);
      expect(z.scoreAt(p)).toBe(r);
      expect(z.rankOf(h, p)).toBe(r);
    }
    expect(z.scoreRank(h, 500, false)).toBe(500);
    z.free(h);
  });
});
