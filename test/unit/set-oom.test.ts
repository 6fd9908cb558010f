import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TYPE_SET } from '../../native-layout/layout.ts';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { parseReply } from '../../src/protocol/reply-reader.ts';
import { HandlerShard, OOM_REPLY, patternArb } from '../helpers/shard-harness.ts';

// Set commands through the real shard handlers in a 2 MiB arena, with members
// from empty to larger than the arena (and integers, for intsets), mixed with
// strings over the same keys. After every command the keyspace is compared
// with a model: a command answered -OOM changed nothing, and the allocator's
// count equals the entries, the sets' blocks, records and tables, and the
// index tables (no leak). An emptied set has no key.

const ARENA_BYTES = 2 * 1024 * 1024;

class TestShard extends HandlerShard {
  constructor() {
    super(new Keyspace(new Arena(new SharedArrayBuffer(ARENA_BYTES)), 1, new Float64Array(64), 99));
  }
}

type Value = { set: Set<string> } | { str: string };
type Model = Map<string, Value>;

function dump(ks: Keyspace): Model {
  const out: Model = new Map();
  ks.dbs[0].forEach((ref) => {
    if (ks.typeOf(ref) === TYPE_SET) {
      const s = new Set<string>();
      ks.sets.forEach(ks.valueRef(ref), (b, o, l) => s.add(Buffer.from(b.subarray(o, o + l)).toString('latin1')));
      out.set(ks.keyString(ref), { set: s });
    } else {
      const o = ks.stringOffset(ref);
      out.set(ks.keyString(ref), { str: Buffer.from(ks.arena.u8.subarray(o, o + ks.stringLength(ref))).toString('latin1') });
    }
  });
  return out;
}

function expectSame(shard: TestShard, model: Model, context: string): void {
  const ks = shard.ks;
  const actual = dump(ks);
  expect([...actual.keys()].sort(), context).toEqual([...model.keys()].sort());
  for (const [k, v] of model) {
    const a = actual.get(k);
    if ('str' in v) expect(a !== undefined && 'str' in a && a.str === v.str, `${context}: ${k}`).toBe(true);
    else {
      expect(a !== undefined && 'set' in a, `${context}: ${k} is a set`).toBe(true);
      if (a !== undefined && 'set' in a) expect([...a.set].sort(), `${context}: ${k}`).toEqual([...v.set].sort());
    }
  }
  let bytes = 0;
  ks.dbs[0].forEach((ref) => {
    bytes += ks.alloc.usableSize(ref * 8);
    if (ks.typeOf(ref) === TYPE_SET) bytes += ks.sets.footprint(ks.valueRef(ref));
  });
  bytes += ks.dbs[0].tableAllocatedBytes;
  expect(ks.alloc.used, `${context}: allocator count`).toBe(bytes);
}

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 2, arbitrary: fc.integer({ min: 21, max: 9000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 9001, max: 400_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 400_001, max: 3 * ARENA_BYTES / 2 }) },
);
const memberArb = fc.oneof(
  { weight: 3, arbitrary: patternArb(sizeArb, 5) },
  { weight: 2, arbitrary: fc.integer({ min: -300, max: 300 }).map((n) => Buffer.from(String(n))) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Buffer.from(String(n))) },
);
const keyArb = fc.integer({ min: 0, max: 4 }).map((i) => `k${i}`);

type Op =
  | { op: 'sadd' | 'srem'; k: string; ms: Buffer[] }
  | { op: 'spop'; k: string; n: number }
  | { op: 'smove'; a: string; b: string; m: Buffer }
  | { op: 'sinterstore' | 'sunionstore' | 'sdiffstore'; d: string; keys: string[] }
  | { op: 'set'; k: string; v: Buffer }
  | { op: 'del'; k: string }
  | { op: 'rename' | 'copy'; a: string; b: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('sadd' as const), k: keyArb, ms: fc.array(memberArb, { minLength: 1, maxLength: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('srem' as const), k: keyArb, ms: fc.array(memberArb, { minLength: 1, maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('spop' as const), k: keyArb, n: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('smove' as const), a: keyArb, b: keyArb, m: memberArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('sinterstore' as const, 'sunionstore' as const, 'sdiffstore' as const), d: keyArb, keys: fc.array(keyArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('set' as const), k: keyArb, v: patternArb(sizeArb, 2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), k: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('rename' as const, 'copy' as const), a: keyArb, b: keyArb }) },
) as fc.Arbitrary<Op>;

const WRONG = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const s = (b: Buffer): string => b.toString('latin1');

/** Runs the command; checks its reply against the model and applies it. Returns whether it answered -OOM. */
function step(shard: TestShard, m: Model, o: Op): boolean {
  const setOf = (k: string): Set<string> | null | undefined => {
    const v = m.get(k);
    return v === undefined ? undefined : 'set' in v ? v.set : null;
  };
  const put = (k: string, x: Set<string>): void => {
    if (x.size === 0) m.delete(k);
    else m.set(k, { set: x });
  };
  let parts: (string | Buffer)[];
  let want: string | null = null;
  let next: ((reply: string) => void) | null = null;
  switch (o.op) {
    case 'sadd': case 'srem': {
      parts = [o.op, o.k, ...o.ms];
      const x = setOf(o.k);
      if (x === null) { want = WRONG; break; }
      const n = new Set(x ?? []);
      const before = n.size;
      for (const b of o.ms) if (o.op === 'sadd') n.add(s(b)); else n.delete(s(b));
      want = `:${Math.abs(n.size - before)}\r\n`;
      next = () => put(o.k, n);
      break;
    }
    case 'spop': {
      parts = ['spop', o.k, String(o.n)];
      const x = setOf(o.k);
      if (x === null) { want = WRONG; break; }
      if (x === undefined) { want = '*0\r\n'; break; }
      next = (reply) => {
        const got = (parseReply(Buffer.from(reply, 'latin1'))?.value as Buffer[]).map(s);
        expect(got.length).toBe(Math.min(o.n, x.size));
        const n = new Set(x);
        for (const g of got) expect(n.delete(g), 'popped a member').toBe(true);
        put(o.k, n);
      };
      break;
    }
    case 'smove': {
      parts = ['smove', o.a, o.b, o.m];
      const a = setOf(o.a);
      const b = setOf(o.b);
      if (a === undefined) { want = ':0\r\n'; break; }
      if (a === null || b === null) { want = WRONG; break; }
      if (!a.has(s(o.m))) { want = ':0\r\n'; break; }
      want = ':1\r\n';
      if (o.a === o.b) break;
      next = () => {
        const na = new Set(a);
        na.delete(s(o.m));
        const nb = new Set(b ?? []);
        nb.add(s(o.m));
        put(o.b, nb);
        put(o.a, na);
      };
      break;
    }
    case 'sinterstore': case 'sunionstore': case 'sdiffstore': {
      parts = [o.op, o.d, ...o.keys];
      const sets = o.keys.map(setOf);
      if (sets.includes(null)) { want = WRONG; break; }
      const all = sets as (Set<string> | undefined)[];
      let r: Set<string>;
      if (o.op === 'sinterstore') {
        r = all.includes(undefined) ? new Set() : new Set([...all[0]!].filter((x) => all.every((t) => t!.has(x))));
      } else if (o.op === 'sunionstore') {
        r = new Set(all.flatMap((t) => [...(t ?? [])]));
      } else {
        r = new Set([...(all[0] ?? [])].filter((x) => all.slice(1).every((t) => !(t?.has(x) ?? false))));
      }
      want = `:${r.size}\r\n`;
      next = () => put(o.d, r);
      break;
    }
    case 'set':
      parts = ['set', o.k, o.v];
      want = '+OK\r\n';
      next = () => m.set(o.k, { str: s(o.v) });
      break;
    case 'del':
      parts = ['del', o.k];
      want = `:${m.has(o.k) ? 1 : 0}\r\n`;
      next = () => m.delete(o.k);
      break;
    case 'rename': case 'copy': {
      parts = [o.op, o.a, o.b];
      const v = m.get(o.a);
      if (o.op === 'copy' && o.a === o.b) { want = '-ERR source and destination objects are the same\r\n'; break; }
      if (v === undefined) { want = o.op === 'rename' ? '-ERR no such key\r\n' : ':0\r\n'; break; }
      if (o.op === 'copy') {
        if (m.has(o.b)) { want = ':0\r\n'; break; }
        want = ':1\r\n';
      } else want = '+OK\r\n';
      next = () => {
        m.set(o.b, 'set' in v ? { set: new Set(v.set) } : { str: v.str });
        if (o.op === 'rename' && o.a !== o.b) m.delete(o.a);
      };
      break;
    }
  }
  const reply = shard.run(0, parts);
  if (reply === OOM_REPLY) return true;
  if (want !== null) expect(reply, `${o.op} reply`).toBe(want);
  next?.(reply);
  return false;
}

describe('set commands in a full arena', () => {
  it('every command is all or nothing under OOM, and nothing leaks', () => {
    let ooms = 0;
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 50 }), (ops) => {
      const shard = new TestShard();
      const model: Model = new Map();
      ops.forEach((o, i) => {
        if (step(shard, model, o)) ooms++;
        expectSame(shard, model, `after #${i} ${o.op}`);
      });
    }), { numRuns: 150 });
    expect(ooms).toBeGreaterThan(0);
  });
});
