import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TYPE_LIST } from '../../native-layout/layout.ts';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { HandlerShard, OOM_REPLY, patternArb } from '../helpers/shard-harness.ts';

// List commands through the real shard handlers in a 2 MiB arena, with
// elements from empty to larger than the arena, mixed with strings over the
// same keys. After every command the keyspace is compared with a model: a
// command answered -OOM changed nothing, and the allocator's count equals the
// entries, the lists' headers and nodes, and the index tables (no leak). An
// emptied list has no key.

const ARENA_BYTES = 2 * 1024 * 1024;
const DATABASES = 2;

class TestShard extends HandlerShard {
  constructor() {
    super(new Keyspace(new Arena(new SharedArrayBuffer(ARENA_BYTES)), DATABASES, new Float64Array(64), 777));
  }
}

type Value = { list: Buffer[] } | { str: Buffer };
type Model = Map<string, Value>[];

function dump(ks: Keyspace, db: number): Map<string, Value> {
  const out = new Map<string, Value>();
  ks.dbs[db].forEach((ref) => {
    if (ks.typeOf(ref) === TYPE_LIST) {
      const h = ks.valueRef(ref);
      const items: Buffer[] = [];
      ks.lists.range(h, 0, ks.lists.count(h) - 1, (o, l) => items.push(Buffer.from(ks.arena.u8.subarray(o, o + l))));
      out.set(ks.keyString(ref), { list: items });
    } else {
      const o = ks.stringOffset(ref);
      out.set(ks.keyString(ref), { str: Buffer.from(ks.arena.u8.subarray(o, o + ks.stringLength(ref))) });
    }
  });
  return out;
}

const show = (v: Value | undefined): string =>
  v === undefined ? 'none' : 'str' in v ? `str(${v.str.length})` : `list[${v.list.map((b) => b.length).join(',')}]`;
const same = (a: Value | undefined, b: Value | undefined): boolean => {
  if (a === undefined || b === undefined) return a === b;
  if ('str' in a) return 'str' in b && a.str.equals(b.str);
  return 'list' in b && a.list.length === b.list.length && a.list.every((x, i) => x.equals(b.list[i]));
};

function expectSame(shard: TestShard, model: Model, context: string): void {
  const ks = shard.ks;
  // What a shard frees in slices between batches (lazy free) is freed before counting.
  while (!ks.lazyFreeStep(1 << 20)) { /* drain */ }
  let bytes = 0;
  for (let db = 0; db < DATABASES; db++) {
    const actual = dump(ks, db);
    expect([...actual.keys()].sort(), context).toEqual([...model[db].keys()].sort());
    for (const [k, v] of model[db]) expect(same(actual.get(k), v), `${context}: ${k} is ${show(actual.get(k))}, want ${show(v)}`).toBe(true);
    ks.dbs[db].forEach((ref) => {
      bytes += ks.alloc.usableSize(ref * 8);
      if (ks.typeOf(ref) === TYPE_LIST) bytes += ks.lists.footprint(ks.valueRef(ref));
    });
    bytes += ks.dbs[db].tableAllocatedBytes;
  }
  expect(ks.alloc.used, `${context}: allocator count`).toBe(bytes);
}

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 3, arbitrary: fc.integer({ min: 41, max: 9000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 9001, max: 200_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200_001, max: 3 * ARENA_BYTES / 2 }) },
);
const valueArb = patternArb(sizeArb, 3);
const keyArb = fc.integer({ min: 0, max: 5 }).map((i) => `k${i}`);
const idxArb = fc.integer({ min: -12, max: 12 });

type Op =
  | { op: 'lpush' | 'rpush' | 'lpushx' | 'rpushx'; k: string; vs: Buffer[] }
  | { op: 'lpop' | 'rpop'; k: string; n: number }
  | { op: 'lset'; k: string; i: number; v: Buffer }
  | { op: 'linsert'; k: string; after: boolean; pivot: Buffer; v: Buffer }
  | { op: 'lrem'; k: string; n: number; v: Buffer }
  | { op: 'ltrim'; k: string; a: number; b: number }
  | { op: 'lmove'; a: string; b: string; from: boolean; to: boolean }
  | { op: 'lmpop'; keys: string[]; left: boolean; n: number }
  | { op: 'set'; k: string; v: Buffer }
  | { op: 'del'; k: string }
  | { op: 'rename' | 'copy'; a: string; b: string }
  | { op: 'move'; k: string }
  | { op: 'flushdb' };

const opArb: fc.Arbitrary<{ db: number; o: Op }> = fc.record({
  db: fc.integer({ min: 0, max: DATABASES - 1 }),
  o: fc.oneof(
    { weight: 8, arbitrary: fc.record({ op: fc.constantFrom('lpush' as const, 'rpush' as const, 'lpushx' as const, 'rpushx' as const), k: keyArb, vs: fc.array(valueArb, { minLength: 1, maxLength: 12 }) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('lpop' as const, 'rpop' as const), k: keyArb, n: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('lset' as const), k: keyArb, i: idxArb, v: valueArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('linsert' as const), k: keyArb, after: fc.boolean(), pivot: valueArb, v: valueArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('lrem' as const), k: keyArb, n: fc.integer({ min: -2, max: 2 }), v: valueArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('ltrim' as const), k: keyArb, a: idxArb, b: idxArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('lmove' as const), a: keyArb, b: keyArb, from: fc.boolean(), to: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('lmpop' as const), keys: fc.array(keyArb, { minLength: 1, maxLength: 3 }), left: fc.boolean(), n: fc.integer({ min: 1, max: 5 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), k: keyArb, v: valueArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), k: keyArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('rename' as const, 'copy' as const), a: keyArb, b: keyArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('move' as const), k: keyArb }) },
    { weight: 1, arbitrary: fc.constant({ op: 'flushdb' as const }) },
  ) as fc.Arbitrary<Op>,
});

const WRONG = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const bulk = (b: Buffer): string => `$${b.length}\r\n${b.toString('latin1')}\r\n`;
const arr = (bs: Buffer[]): string => `*${bs.length}\r\n${bs.map(bulk).join('')}`;

/** Runs the command; checks its reply against the model and applies it. Returns whether it answered -OOM. */
function step(shard: TestShard, model: Model, db: number, o: Op): boolean {
  const m = model[db];
  const listOf = (k: string): Buffer[] | null | undefined => {
    const v = m.get(k);
    return v === undefined ? undefined : 'list' in v ? v.list : null; // null: wrong type
  };
  const put = (k: string, l: Buffer[]): void => {
    if (l.length === 0) m.delete(k);
    else m.set(k, { list: l });
  };
  let parts: (string | Buffer)[];
  let want: string;
  let next: (() => void) | null = null;
  switch (o.op) {
    case 'lpush': case 'rpush': case 'lpushx': case 'rpushx': {
      parts = [o.op, o.k, ...o.vs];
      const l = listOf(o.k);
      if (l === null) { want = WRONG; break; }
      if (l === undefined && o.op.endsWith('x')) { want = ':0\r\n'; break; }
      const n = (l ?? []).slice();
      if (o.op.startsWith('l')) for (const v of o.vs) n.unshift(v);
      else n.push(...o.vs);
      want = `:${n.length}\r\n`;
      next = () => put(o.k, n);
      break;
    }
    case 'lpop': case 'rpop': {
      parts = [o.op, o.k, String(o.n)];
      const l = listOf(o.k);
      if (l === null) { want = WRONG; break; }
      if (l === undefined) { want = '*-1\r\n'; break; }
      const n = l.slice();
      const got = o.op === 'lpop' ? n.splice(0, o.n) : n.splice(Math.max(0, n.length - o.n)).reverse();
      want = arr(got);
      next = () => put(o.k, n);
      break;
    }
    case 'lset': {
      parts = ['lset', o.k, String(o.i), o.v];
      const l = listOf(o.k);
      if (l === null) { want = WRONG; break; }
      if (l === undefined) { want = '-ERR no such key\r\n'; break; }
      const i = o.i < 0 ? o.i + l.length : o.i;
      if (i < 0 || i >= l.length) { want = '-ERR index out of range\r\n'; break; }
      const n = l.slice();
      n[i] = o.v;
      want = '+OK\r\n';
      next = () => put(o.k, n);
      break;
    }
    case 'linsert': {
      parts = ['linsert', o.k, o.after ? 'AFTER' : 'BEFORE', o.pivot, o.v];
      const l = listOf(o.k);
      if (l === null) { want = WRONG; break; }
      if (l === undefined) { want = ':0\r\n'; break; }
      const at = l.findIndex((x) => x.equals(o.pivot));
      if (at < 0) { want = ':-1\r\n'; break; }
      const n = l.slice();
      n.splice(at + (o.after ? 1 : 0), 0, o.v);
      want = `:${n.length}\r\n`;
      next = () => put(o.k, n);
      break;
    }
    case 'lrem': {
      parts = ['lrem', o.k, String(o.n), o.v];
      const l = listOf(o.k);
      if (l === null) { want = WRONG; break; }
      if (l === undefined) { want = ':0\r\n'; break; }
      let left = o.n === 0 ? Infinity : Math.abs(o.n);
      const order = o.n < 0 ? l.slice().reverse() : l.slice();
      const kept = order.filter((x) => !(x.equals(o.v) && left-- > 0));
      const n = o.n < 0 ? kept.reverse() : kept;
      want = `:${l.length - n.length}\r\n`;
      next = () => put(o.k, n);
      break;
    }
    case 'ltrim': {
      parts = ['ltrim', o.k, String(o.a), String(o.b)];
      const l = listOf(o.k);
      if (l === null) { want = WRONG; break; }
      want = '+OK\r\n';
      if (l === undefined) break;
      let s = o.a < 0 ? o.a + l.length : o.a;
      let e = o.b < 0 ? o.b + l.length : o.b;
      if (s < 0) s = 0;
      const n = s > e || s >= l.length ? [] : l.slice(s, Math.min(e, l.length - 1) + 1);
      next = () => put(o.k, n);
      break;
    }
    case 'lmove': {
      parts = ['lmove', o.a, o.b, o.from ? 'LEFT' : 'RIGHT', o.to ? 'LEFT' : 'RIGHT'];
      const src = listOf(o.a);
      if (src === undefined) { want = '$-1\r\n'; break; }
      if (src === null || listOf(o.b) === null) { want = WRONG; break; }
      const s = src.slice();
      const e = (o.from ? s.shift() : s.pop()) as Buffer;
      want = bulk(e);
      next = () => {
        put(o.a, s);
        const d = (listOf(o.b) ?? []).slice();
        if (o.to) d.unshift(e);
        else d.push(e);
        put(o.b, d);
      };
      break;
    }
    case 'lmpop': {
      parts = ['lmpop', String(o.keys.length), ...o.keys, o.left ? 'LEFT' : 'RIGHT', 'COUNT', String(o.n)];
      want = '*-1\r\n';
      for (const k of o.keys) {
        const l = listOf(k);
        if (l === undefined) continue;
        if (l === null) { want = WRONG; break; }
        const n = l.slice();
        const got = o.left ? n.splice(0, o.n) : n.splice(Math.max(0, n.length - o.n)).reverse();
        want = `*2\r\n${bulk(Buffer.from(k))}${arr(got)}`;
        next = () => put(k, n);
        break;
      }
      break;
    }
    case 'set':
      parts = ['set', o.k, o.v];
      want = '+OK\r\n';
      next = () => m.set(o.k, { str: o.v });
      break;
    case 'del':
      parts = ['del', o.k];
      want = `:${m.has(o.k) ? 1 : 0}\r\n`;
      next = () => m.delete(o.k);
      break;
    case 'rename': {
      parts = ['rename', o.a, o.b];
      const v = m.get(o.a);
      if (v === undefined) { want = '-ERR no such key\r\n'; break; }
      want = '+OK\r\n';
      next = () => { m.delete(o.a); m.set(o.b, v); };
      break;
    }
    case 'copy': {
      parts = ['copy', o.a, o.b, 'REPLACE'];
      const v = m.get(o.a);
      if (o.a === o.b) { want = '-ERR source and destination objects are the same\r\n'; break; }
      want = `:${v === undefined ? 0 : 1}\r\n`;
      if (v !== undefined) next = () => m.set(o.b, v);
      break;
    }
    case 'move': {
      const to = (db + 1) % DATABASES;
      parts = ['move', o.k, String(to)];
      const v = m.get(o.k);
      const moves = v !== undefined && !model[to].has(o.k);
      want = `:${moves ? 1 : 0}\r\n`;
      if (moves) next = () => { model[to].set(o.k, v); m.delete(o.k); };
      break;
    }
    case 'flushdb':
      parts = ['__flushdb'];
      want = '+OK\r\n';
      next = () => m.clear();
      break;
  }
  const reply = shard.run(db, parts);
  if (reply === OOM_REPLY) return true;
  expect(reply.slice(0, 300), `${o.op} ${parts.slice(1, 3).map((p) => (typeof p === 'string' ? p : `<${p.length}>`)).join(' ')}`)
    .toBe(want.slice(0, 300));
  next?.();
  return false;
}

describe('list commands are all or nothing when 2 MiB of arena are full', () => {
  it('property: after every -OOM the keyspace is exactly the model, and nothing leaks', () => {
    let ooms = 0;
    let acknowledged = 0;
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 120 }), fc.constantFrom(-2, -1, 3, 16), (ops, fill) => {
      const shard = new TestShard();
      shard.ks.lists.fill = fill;
      const model: Model = Array.from({ length: DATABASES }, () => new Map<string, Value>());
      ops.forEach(({ db, o }, i) => {
        const oom = step(shard, model, db, o);
        if (oom) ooms++;
        else acknowledged++;
        expectSame(shard, model, `after #${i} ${o.op}${oom ? ' (OOM)' : ''}`);
      });
      for (let db = 0; db < DATABASES; db++) {
        const keys = [...model[db].keys()];
        if (keys.length > 0) expect(shard.run(db, ['DEL', ...keys])).toBe(`:${keys.length}\r\n`);
        model[db].clear();
      }
      expectSame(shard, model, 'after deleting everything');
    }), { numRuns: 80 });
    expect(ooms).toBeGreaterThan(20);
    expect(acknowledged).toBeGreaterThan(ooms);
  });
});
