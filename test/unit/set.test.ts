import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SET_DATA, SET_ENC_HASHTABLE, SET_ENC_INTSET, SET_ENC_LISTPACK } from '../../native-layout/layout.ts';
import { HashIndex, keyLayout } from '../../src/store/hash-index.ts';
import { Arena, OutOfMemoryError, SlabAllocator } from '../../src/store/arena.ts';
import type { Piece } from '../../src/store/list.ts';
import { SetStore } from '../../src/store/set.ts';

// The set structure against a JS Set, with random operations in a small arena:
// adds of integers of every width (16-, 32-, 64-bit, the int64 extremes),
// strings short and long, members too big for the arena; removals, random
// pops, SPOP's keep-only path, clones, serialization round trips, and changes
// of the encoding limits. After every operation the contents, the count and
// the encoding rules are checked; an operation that throws OutOfMemoryError
// must leave the set exactly as it was (encoding included); freeing
// everything gives every byte back.

/** Members too big for the arena travel as "\u0100<n>" (n bytes of 'B'; generated strings are latin1), so counterexamples stay readable. */
const expand = (s: string): string => (s.startsWith('\u0100') ? 'B'.repeat(Number(s.slice(1))) : s);
const compress = (s: string): string => (s.length >= 20000 && /^B+$/.test(s) ? `\u0100${s.length}` : s);

const enc = (s: string): Piece => {
  const u8 = Buffer.from(expand(s), 'latin1');
  return { u8, off: 0, len: u8.length };
};

function members(ss: SetStore, h: number): string[] {
  const out: string[] = [];
  ss.forEach(h, (b, off, len) => out.push(compress(Buffer.from(b.subarray(off, off + len)).toString('latin1'))));
  return out;
}

const bytesOf = (s: string): Buffer => Buffer.from(expand(s), 'latin1');

const isCanonicalInt = (s: string): boolean => /^(0|-?[1-9][0-9]{0,18})$/.test(s) && BigInt(s) >= -(2n ** 63n) && BigInt(s) < 2n ** 63n;

const member = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -40, max: 40 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -2147483648, max: 2147483647 }).map(String) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('9223372036854775807', '-9223372036854775808', '9223372036854775808', '-0', '007', '+1', ' 1') },
  { weight: 3, arbitrary: fc.string({ maxLength: 10 }).map((s) => s.replace(/[^\x00-\xff]/g, 'x')) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 70 }).map((n) => 'v'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 20000, max: 200000 }).map((n) => `\u0100${n}`) },
);

const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('add' as const), els: fc.array(member, { minLength: 1, maxLength: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('addRange' as const), from: fc.integer({ min: -1000, max: 1000 }), n: fc.integer({ min: 1, max: 700 }), prefix: fc.constantFrom('', 'm') }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('remove' as const), els: fc.array(member, { minLength: 1, maxLength: 10 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('pop' as const), n: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('keepOnly' as const), keep: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clone' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('roundTrip' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('limits' as const), intset: fc.constantFrom(0, 1, 16, 512), lp: fc.constantFrom(0, 4, 128), lpv: fc.constantFrom(0, 8, 64) }) },
);

function checkInvariants(ss: SetStore, h: number, model: Set<string>): void {
  const got = members(ss, h);
  expect(got.length).toBe(ss.count(h));
  expect(new Set(got).size).toBe(got.length);
  expect(got.slice().sort()).toEqual([...model].sort());
  const e = ss.encoding(h);
  if (e === SET_ENC_INTSET) {
    expect(got.every(isCanonicalInt)).toBe(true);
    const nums = got.map((s) => BigInt(s));
    for (let i = 1; i < nums.length; i++) expect(nums[i - 1] < nums[i]).toBe(true);
    expect(ss.encodingName(h)).toBe('intset');
  } else {
    expect(ss.encodingName(h)).toBe('hashtable');
  }
  for (const m of model) {
    const b = bytesOf(m);
    expect(ss.has(h, b, 0, b.length)).toBe(true);
  }
}

describe('SetStore against a Set model', () => {
  it('random operations, conversions and OOM leave the set consistent', () => {
    let oomSeen = 0;
    let conversions = 0;
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
      const arena = new Arena(new SharedArrayBuffer(512 * 1024));
      const alloc = new SlabAllocator(arena);
      const ss = new SetStore(arena, alloc, 1234);
      const usedBefore = alloc.used;
      let h = ss.create([enc('1')]);
      let model = new Set<string>(['1']);
      for (const o of ops) {
        const before = members(ss, h);
        const encBefore = ss.encoding(h);
        try {
          switch (o.t) {
            case 'add':
            case 'addRange': {
              const els = o.t === 'add' ? o.els : Array.from({ length: o.n }, (_, i) => `${o.prefix}${o.from + i}`);
              const fresh = new Set(els.filter((x) => !model.has(x)));
              expect(ss.addMany(h, els.map(enc))).toBe(fresh.size);
              for (const x of els) model.add(x);
              // Redis's rules: an intset stays one only while every member is an integer, up to its
              // limit. The limit is checked when a member is added (t_set.c setTypeAdd): a set
              // already past a lowered limit keeps its encoding while nothing new comes.
              if (fresh.size > 0 && ss.encoding(h) === SET_ENC_INTSET) expect(ss.count(h)).toBeLessThanOrEqual(Math.max(ss.maxIntsetEntries, 1));
              if (fresh.size > 0 && ss.encoding(h) === SET_ENC_LISTPACK) expect(ss.count(h)).toBeLessThanOrEqual(Math.max(ss.maxListpackEntries, 1));
              if (ss.encoding(h) !== encBefore) conversions++;
              break;
            }
            case 'remove':
              for (const x of o.els) {
                const b = bytesOf(x);
                expect(ss.remove(h, b, 0, b.length)).toBe(model.delete(x) ? 1 : 0);
                if (ss.count(h) === 0) break;
              }
              break;
            case 'pop':
              for (let i = 0; i < o.n && ss.count(h) > 0; i++) {
                const pos = ss.randomPosition(h);
                let got = '';
                expect(ss.at(h, pos, (b, off, len) => { got = compress(Buffer.from(b.subarray(off, off + len)).toString('latin1')); })).toBe(true);
                expect(model.delete(got)).toBe(true);
                ss.removeAt(h, pos);
              }
              break;
            case 'keepOnly': {
              if (ss.encoding(h) !== SET_ENC_HASHTABLE || ss.count(h) <= o.keep) break;
              const keep = new Set<number>();
              while (keep.size < o.keep) keep.add(ss.randomPosition(h));
              const kept = new Set<string>();
              for (const pos of keep) ss.at(h, pos, (b, off, len) => kept.add(compress(Buffer.from(b.subarray(off, off + len)).toString('latin1'))));
              const given: string[] = [];
              if (ss.keepOnly(h, keep, (b, off, len) => given.push(compress(Buffer.from(b.subarray(off, off + len)).toString('latin1'))))) {
                expect(given.sort()).toEqual([...model].filter((m) => !kept.has(m)).sort());
                model = kept;
              }
              break;
            }
            case 'clone': {
              const c = ss.clone(h);
              if (ss.encoding(h) === SET_ENC_HASHTABLE) expect(members(ss, c).sort()).toEqual(members(ss, h).sort());
              else expect(members(ss, c)).toEqual(members(ss, h));
              expect(ss.encoding(c)).toBe(ss.encoding(h));
              ss.free(h);
              h = c;
              break;
            }
            case 'roundTrip': {
              const bytes = ss.serialize(h);
              expect(ss.validSerialized(bytes, 0, bytes.length)).toBe(true);
              const c = ss.deserialize(bytes, 0, bytes.length);
              expect(members(ss, c).sort()).toEqual(members(ss, h).sort());
              ss.free(h);
              h = c;
              break;
            }
            case 'limits':
              ss.maxIntsetEntries = o.intset;
              ss.maxListpackEntries = o.lp;
              ss.maxListpackValue = o.lpv;
              break;
          }
        } catch (e) {
          if (!(e instanceof OutOfMemoryError)) throw e;
          oomSeen++;
          // Same members; a table may have grown (its order is not defined), other encodings keep their order.
          if (encBefore === SET_ENC_HASHTABLE) expect(members(ss, h).sort()).toEqual(before.slice().sort());
          else expect(members(ss, h)).toEqual(before);
          expect(ss.encoding(h)).toBe(encBefore);
          continue;
        }
        if (ss.count(h) === 0) {
          // An emptied set loses its key: start again.
          ss.free(h);
          h = ss.create([enc('1')]);
          model = new Set(['1']);
        }
        checkInvariants(ss, h, model);
      }
      ss.free(h);
      expect(alloc.used).toBe(usedBefore);
    }), { numRuns: 500 });
    expect(oomSeen).toBeGreaterThan(0);
    expect(conversions).toBeGreaterThan(0);
  });

  it('intset widths grow 16 -> 32 -> 64 bits and stay sorted', () => {
    const arena = new Arena(new SharedArrayBuffer(1024 * 1024));
    const ss = new SetStore(arena, new SlabAllocator(arena), 1);
    const h = ss.create([enc('5'), enc('-7')]);
    expect(members(ss, h)).toEqual(['-7', '5']);
    ss.add(h, Buffer.from('32768'), 0, 5);
    ss.add(h, Buffer.from('-32769'), 0, 6);
    expect(members(ss, h)).toEqual(['-32769', '-7', '5', '32768']);
    for (const v of ['2147483648', '-9223372036854775808', '9223372036854775807', '-2147483649']) ss.add(h, Buffer.from(v), 0, v.length);
    expect(members(ss, h)).toEqual(['-9223372036854775808', '-2147483649', '-32769', '-7', '5', '32768', '2147483648', '9223372036854775807']);
    expect(ss.encoding(h)).toBe(SET_ENC_INTSET);
    expect(ss.has(h, Buffer.from('9223372036854775807'), 0, 19)).toBe(true);
    expect(ss.has(h, Buffer.from('9223372036854775806'), 0, 19)).toBe(false);
    expect(ss.remove(h, Buffer.from('-7'), 0, 2)).toBe(1);
    expect(members(ss, h)).toEqual(['-9223372036854775808', '-2147483649', '-32769', '5', '32768', '2147483648', '9223372036854775807']);
  });

  it('conversions: intset -> hashtable past 512, strings -> packed -> hashtable', () => {
    const arena = new Arena(new SharedArrayBuffer(4 * 1024 * 1024));
    const ss = new SetStore(arena, new SlabAllocator(arena), 1);
    const h = ss.create(Array.from({ length: 512 }, (_, i) => enc(String(i))));
    expect(ss.encoding(h)).toBe(SET_ENC_INTSET);
    ss.add(h, Buffer.from('512'), 0, 3);
    expect(ss.encoding(h)).toBe(SET_ENC_HASHTABLE);
    expect(ss.count(h)).toBe(513);
    const s = ss.create([enc('a')]);
    expect(ss.encoding(s)).toBe(SET_ENC_LISTPACK);
    expect(ss.encodingName(s)).toBe('hashtable'); // what Redis 7.0 reports
    ss.addMany(s, Array.from({ length: 127 }, (_, i) => enc(`m${i}`)));
    expect(ss.encoding(s)).toBe(SET_ENC_LISTPACK);
    ss.add(s, Buffer.from('one more'), 0, 8);
    expect(ss.encoding(s)).toBe(SET_ENC_HASHTABLE);
    const t = ss.create([enc('x')]);
    ss.add(t, Buffer.from('y'.repeat(65)), 0, 65);
    expect(ss.encoding(t)).toBe(SET_ENC_HASHTABLE);
    const i = ss.create([enc('1'), enc('2')]);
    ss.add(i, Buffer.from('z'), 0, 1);
    expect(ss.encoding(i)).toBe(SET_ENC_LISTPACK);
    expect(members(ss, i)).toEqual(['1', '2', 'z']);
  });

  it('a table walk with SCAN cursors sees every member once even when the table grows and shrinks between steps', () => {
    const arena = new Arena(new SharedArrayBuffer(8 * 1024 * 1024));
    const ss = new SetStore(arena, new SlabAllocator(arena), 7);
    const h = ss.create(Array.from({ length: 300 }, (_, i) => enc(`k${i}`)));
    const seen = new Map<string, number>();
    let cursor = 0;
    let step = 0;
    do {
      cursor = ss.scanStep(h, cursor, (b, off, len) => {
        const k = Buffer.from(b.subarray(off, off + len)).toString('latin1');
        seen.set(k, (seen.get(k) ?? 0) + 1);
      });
      step++;
      if (step === 20) ss.addMany(h, Array.from({ length: 3000 }, (_, i) => enc(`g${i}`)));
      if (step === 400) for (let i = 0; i < 3000; i++) ss.remove(h, Buffer.from(`g${i}`), 0, `g${i}`.length);
    } while (cursor !== 0);
    for (let i = 0; i < 300; i++) expect(seen.get(`k${i}`)).toBeGreaterThanOrEqual(1);
  });

  it('a walk of a table caught mid-resize sees its own members while the callback looks into other sets (SINTER, SDIFF)', () => {
    const arena = new Arena(new SharedArrayBuffer(8 * 1024 * 1024));
    const alloc = new SlabAllocator(arena);
    const ss = new SetStore(arena, alloc, 3);
    const probe = HashIndex.view(arena, alloc);
    const rehashing = (h: number): boolean => probe.attach(arena.u32[h * 2 + SET_DATA / 4], keyLayout(0, 0)).isRehashing; // reads no record
    const a = ss.create([enc('a0'), enc('x'.repeat(100))]);
    const b = ss.create(Array.from({ length: 300 }, (_, i) => enc(`b${i}`)));
    const model = new Set(['a0', 'x'.repeat(100)]);
    // One member at a time, until a growth has started and is not finished.
    for (let i = 1; i < 5000 && !(rehashing(a) && model.size > 200); i++) {
      ss.add(a, Buffer.from(`a${i}`), 0, `a${i}`.length);
      model.add(`a${i}`);
    }
    expect(rehashing(a)).toBe(true);
    const seen: string[] = [];
    ss.forEach(a, (m, off, len) => {
      ss.has(b, m, off, len);
      seen.push(Buffer.from(m.subarray(off, off + len)).toString('latin1'));
    });
    expect(seen.sort()).toEqual([...model].sort());
  });
});
