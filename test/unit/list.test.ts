import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena, OutOfMemoryError, SlabAllocator } from '../../src/store/arena.ts';
import { HEAD, ListStore, TAIL, type Piece } from '../../src/store/list.ts';

// The list structure against a JS array, with random operations in a 1 MiB
// arena: pushes of every size (up to past what the arena holds), pops, sets,
// inserts, removals, trims, clones and changes of list-max-listpack-size
// (nodes of a few elements, then of 4-64 KB). An operation that throws
// OutOfMemoryError must leave the list exactly as it was; freeing everything
// gives every byte back.

const enc = (s: string): Piece => {
  const u8 = Buffer.from(s, 'latin1');
  return { u8, off: 0, len: u8.length };
};

function contents(ls: ListStore, h: number, u8: Uint8Array): string[] {
  const out: string[] = [];
  const n = ls.count(h);
  if (n > 0) ls.range(h, 0, n - 1, (o, l) => out.push(Buffer.from(u8.subarray(o, o + l)).toString('latin1')));
  return out;
}

/** Checks the node chain's links and counts against the header. */
function checkShape(ls: ListStore, h: number): void {
  let count = 0;
  let nodes = 0;
  let prev = 0;
  for (let n = ls.headNode(h); n !== 0; n = ls.nextNode(n)) {
    expect(ls.prevNode(n)).toBe(prev);
    expect(ls.nodeCount(n)).toBeGreaterThan(0);
    count += ls.nodeCount(n);
    nodes++;
    prev = n;
  }
  expect(ls.tailNode(h)).toBe(prev);
  expect(count).toBe(ls.count(h));
  expect(nodes).toBe(ls.nodes(h));
}

const element = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 12 }).map((s) => s.replace(/[^\x00-\xff]/g, 'x')) },
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', '', '\x00\xff') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 70000 }).map((n) => 'z'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 100000, max: 400000 }).map((n) => 'y'.repeat(n)) },
);

const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('push' as const), side: fc.boolean(), els: fc.array(element, { minLength: 1, maxLength: 30 }) }) },
  // One element, as LPUSH/RPUSH of one value sends it: pushOne, or push when the end node has no room as it is.
  { weight: 6, arbitrary: fc.record({ t: fc.constant('push' as const), side: fc.boolean(), els: fc.array(element, { minLength: 1, maxLength: 1 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('pop' as const), side: fc.boolean(), n: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('set' as const), i: fc.nat(), v: element }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('insert' as const), i: fc.nat(), after: fc.boolean(), v: element }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove' as const), n: fc.integer({ min: -3, max: 3 }), v: fc.constantFrom('a', 'b', '') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('trim' as const), a: fc.nat(50), b: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fill' as const), f: fc.constantFrom(-5, -4, -3, -2, -1, 1, 2, 3, 8, 128) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clone' as const) }) },
);

describe('ListStore against an array model', () => {
  it('random operations, conversions and OOM leave the list consistent', () => {
    let oomSeen = 0;
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
      const arena = new Arena(new SharedArrayBuffer(1024 * 1024));
      const alloc = new SlabAllocator(arena);
      const ls = new ListStore(arena.u8, arena.u32, alloc);
      const usedBefore = alloc.used;
      let h = ls.create();
      let model: string[] = [];
      for (const o of ops) {
        const before = model.slice();
        let next = model.slice();
        try {
          switch (o.t) {
            case 'push': {
              const side = o.side ? HEAD : TAIL;
              const one = o.els.length === 1 ? enc(o.els[0]) : null;
              if (one === null || !ls.pushOne(h, side, one.u8, one.off, one.len)) ls.push(h, side, o.els.map(enc));
              if (o.side) next = [...o.els.slice().reverse(), ...next];
              else next.push(...o.els);
              break;
            }
            case 'pop': {
              const got: string[] = [];
              const n = ls.pop(h, o.side ? HEAD : TAIL, o.n, (off, len) =>
                got.push(Buffer.from(arena.u8.subarray(off, off + len)).toString('latin1')));
              const want = o.side ? next.splice(0, o.n) : next.splice(Math.max(0, next.length - o.n)).reverse();
              expect(got).toEqual(want);
              expect(n).toBe(want.length);
              break;
            }
            case 'set':
              if (next.length === 0) break;
              ls.set(h, o.i % next.length, enc(o.v));
              next[o.i % next.length] = o.v;
              break;
            case 'insert':
              if (next.length === 0) break;
              ls.insertAt(h, o.i % next.length, o.after, enc(o.v));
              next.splice((o.i % next.length) + (o.after ? 1 : 0), 0, o.v);
              break;
            case 'remove': {
              const got = ls.remove(h, o.n, enc(o.v));
              let left = o.n === 0 ? Infinity : Math.abs(o.n);
              let removed = 0;
              if (o.n >= 0) {
                next = next.filter((x) => (x === o.v && left > 0 ? (left--, removed++, false) : true));
              } else {
                next = next.reverse().filter((x) => (x === o.v && left > 0 ? (left--, removed++, false) : true)).reverse();
              }
              expect(got).toBe(removed);
              break;
            }
            case 'trim':
              ls.pop(h, HEAD, o.a, null);
              ls.pop(h, TAIL, o.b, null);
              next = next.slice(Math.min(o.a, next.length), Math.max(Math.min(o.a, next.length), next.length - o.b));
              break;
            case 'fill':
              ls.fill = o.f;
              break;
            case 'clone': {
              const c = ls.clone(h);
              expect(contents(ls, c, arena.u8)).toEqual(next);
              ls.free(h);
              h = c;
              break;
            }
          }
          model = next;
        } catch (e) {
          if (!(e instanceof OutOfMemoryError)) throw e;
          oomSeen++;
          model = before;
        }
        checkShape(ls, h);
        const got = contents(ls, h, arena.u8);
        expect(got).toEqual(model);
        if (model.length > 0) {
          const i = model.length >> 1;
          const p = ls.elementAt(h, i);
          expect(Buffer.from(arena.u8.subarray(p + 4, p + 4 + ls.elemLen(p))).toString('latin1')).toBe(model[i]);
        }
        // Serialized form round-trips.
        if (model.length > 0) {
          const pieces = ListStore.parseSerialized(ls.serialize(h), 0, ls.serialize(h).length);
          expect(pieces?.map((p) => Buffer.from(p.u8.subarray(p.off, p.off + p.len)).toString('latin1'))).toEqual(model);
        }
      }
      ls.free(h);
      expect(alloc.used).toBe(usedBefore);
    }), { numRuns: 300 });
    expect(oomSeen).toBeGreaterThan(0);
  });

  it('nodes respect list-max-listpack-size', () => {
    const arena = new Arena(new SharedArrayBuffer(4 * 1024 * 1024));
    const ls = new ListStore(arena.u8, arena.u32, new SlabAllocator(arena));
    ls.fill = 3;
    const h = ls.create();
    for (let i = 0; i < 10; i++) ls.push(h, TAIL, [enc(String(i))]);
    expect(ls.nodes(h)).toBe(4);
    ls.fill = -2;
    const g = ls.create();
    for (let i = 0; i < 2000; i++) ls.push(g, i % 2 === 0 ? TAIL : HEAD, [enc('x'.repeat(20))]);
    for (let n = ls.headNode(g); n !== 0; n = ls.nextNode(n)) expect(ls.nodeUsed(n) + 24).toBeLessThanOrEqual(8192);
    expect(ls.nodes(g)).toBeGreaterThan(5);
  });
});

describe('ListStore node splits', () => {
  it('inserting into a full node splits it in halves, so repeated inserts do not leave a trail of tiny nodes', () => {
    const arena = new Arena(new SharedArrayBuffer(8 * 1024 * 1024));
    const ls = new ListStore(arena.u8, arena.u32, new SlabAllocator(arena));
    const h = ls.create();
    for (let i = 0; i < 4000; i++) ls.push(h, TAIL, [enc(`element-${i}`)]);
    const before = ls.nodes(h);
    // 2,000 inserts in the middle: about 30 KB more, so a few nodes more, not 2,000.
    for (let i = 0; i < 2000; i++) ls.insertAt(h, 2000, false, enc(`ins-${i}`));
    expect(ls.count(h)).toBe(6000);
    expect(ls.nodes(h)).toBeLessThan(before * 2 + 10);
    checkShape(ls, h);
  });
});

describe('ListStore lazy freeing (freeEffort, freeSome)', () => {
  it('frees a list in slices of any budget, the header describing what is left until the end', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 1, max: 8 }),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 50 }), (n, fill, budgets) => {
        const arena = new Arena(new SharedArrayBuffer(4 * 1024 * 1024));
        const alloc = new SlabAllocator(arena);
        const ls = new ListStore(arena.u8, arena.u32, alloc);
        ls.fill = fill;
        const base = alloc.used;
        const h = ls.createFrom(Array.from({ length: n }, (_, i) => enc(`el-${i}`)));
        expect(ls.freeEffort(h)).toBe(ls.nodes(h));
        expect(ls.nodes(h)).toBe(Math.ceil(n / fill));
        let left = n;
        for (let i = 0; ; i++) {
          const before = ls.nodes(h);
          const budget = Math.max(budgets[i % budgets.length], Math.ceil(ls.nodes(h) / 40));
          if (ls.freeSome(h, budget)) {
            expect(before).toBeLessThanOrEqual(budget);
            break;
          }
          expect(ls.nodes(h)).toBe(before - budget);
          checkShape(ls, h);
          const c = contents(ls, h, arena.u8);
          left = ls.count(h);
          expect(c.length).toBe(left);
          expect(c[c.length - 1]).toBe(`el-${n - 1}`);
        }
        expect(alloc.used).toBe(base);
      }), { numRuns: 100 });
  });
});
