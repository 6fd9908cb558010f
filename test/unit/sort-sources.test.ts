import { afterEach, describe, expect, it } from 'vitest';
import { META_TYPE_SHIFT, TYPE_HASH, TYPE_LIST, TYPE_SET, TYPE_ZSET } from '../../native-layout/layout.ts';
import { HASH_FIELD_READER, SORT_SOURCES, sortScore, type SortSource } from '../../src/commands/sort.ts';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { HandlerShard } from '../helpers/shard-harness.ts';

// SORT's per-type reader (SortSource) with stand-ins for the types built on
// other branches: a list relabelled as a set (unordered: iteration order) or
// as a sorted set (ordered: rank order), and a hash-field reader over lists
// (field "f" = the list's first element). They check the rules sort.c applies
// per type, so that sets, sorted sets and hashes only have to provide their
// readers. Also strtod's reading of scores.

function relabel(ks: Keyspace, db: number, key: string, type: number): void {
  const k = Buffer.from(key);
  const ref = ks.peek(db, k, 0, k.length);
  const u32 = ks.arena.u32;
  u32[ref * 2 + 1] = ((u32[ref * 2 + 1] & ~(0xf << META_TYPE_SHIFT)) | (type << META_TYPE_SHIFT)) >>> 0;
}

const viaList: SortSource = SORT_SOURCES[TYPE_LIST] as SortSource;
// The real readers (registered by sort.ts), put back after each stand-in test.
const realSet = SORT_SOURCES[TYPE_SET];
const realZset = SORT_SOURCES[TYPE_ZSET];
const realHashField = HASH_FIELD_READER.reader;

function setup(): { sh: HandlerShard; ks: Keyspace } {
  const ks = new Keyspace(new Arena(new SharedArrayBuffer(8 << 20)), 2, new Float64Array(256), 3);
  ks.structures[TYPE_SET] = ks.lists;
  ks.structures[TYPE_ZSET] = ks.lists;
  ks.structures[TYPE_HASH] = ks.lists;
  SORT_SOURCES[TYPE_SET] = { ordered: false, length: viaList.length, read: viaList.read };
  SORT_SOURCES[TYPE_ZSET] = { ordered: true, length: viaList.length, read: viaList.read };
  HASH_FIELD_READER.reader = {
    field(k, h, fb, fo, fl, out) {
      if (fl !== 1 || fb[fo] !== 102 /* f */ || k.lists.count(h) === 0) return false;
      const p = k.lists.elementAt(h, 0);
      out.u8 = k.arena.u8;
      out.off = p + 4;
      out.len = k.lists.elemLen(p);
      return true;
    },
  };
  return { sh: new HandlerShard(ks), ks };
}

const arr = (items: string[]): string => `*${items.length}\r\n${items.map((s) => `$${s.length}\r\n${s}\r\n`).join('')}`;

describe('SORT over every source type (stand-ins for sets, sorted sets and hashes)', () => {
  afterEach(() => {
    SORT_SOURCES[TYPE_SET] = realSet;
    SORT_SOURCES[TYPE_ZSET] = realZset;
    HASH_FIELD_READER.reader = realHashField;
  });

  it('a set: BY nosort keeps its iteration order and ignores DESC; with STORE it is sorted ALPHA', () => {
    const { sh, ks } = setup();
    sh.run(0, ['RPUSH', 's', 'c', 'a', 'b', '10']);
    relabel(ks, 0, 's', TYPE_SET);
    expect(sh.run(0, ['TYPE', 's'])).toBe('+set\r\n');
    expect(sh.run(0, ['SORT', 's', 'BY', 'nosort'])).toBe(arr(['c', 'a', 'b', '10']));
    expect(sh.run(0, ['SORT', 's', 'BY', 'nosort', 'DESC'])).toBe(arr(['c', 'a', 'b', '10']));
    expect(sh.run(0, ['SORT', 's', 'BY', 'nosort', 'LIMIT', '1', '2'])).toBe(arr(['a', 'b']));
    expect(sh.run(0, ['SORT', 's', 'BY', 'nosort', 'STORE', 'd'])).toBe(':4\r\n');
    expect(sh.run(0, ['LRANGE', 'd', '0', '-1'])).toBe(arr(['10', 'a', 'b', 'c']));
    expect(sh.run(0, ['SORT', 's', 'BY', 'nosort', 'DESC', 'LIMIT', '0', '2', 'STORE', 'd'])).toBe(':2\r\n');
    expect(sh.run(0, ['LRANGE', 'd', '0', '-1'])).toBe(arr(['c', 'b']));
    expect(sh.run(0, ['SORT', 's', 'ALPHA'])).toBe(arr(['10', 'a', 'b', 'c']));
    expect(sh.run(0, ['SORT', 's'])).toBe("-ERR One or more scores can't be converted into double\r\n");
    expect(sh.run(0, ['SORT_RO', 's', 'BY', 'nosort'])).toBe(arr(['c', 'a', 'b', '10']));
  });

  it('a sorted set: BY nosort keeps rank order, DESC from the highest, LIMIT on ranks; STORE keeps that order', () => {
    const { sh, ks } = setup();
    sh.run(0, ['RPUSH', 'z', 'low', 'mid', 'high', 'top']);
    relabel(ks, 0, 'z', TYPE_ZSET);
    expect(sh.run(0, ['SORT', 'z', 'BY', 'nosort'])).toBe(arr(['low', 'mid', 'high', 'top']));
    expect(sh.run(0, ['SORT', 'z', 'BY', 'nosort', 'DESC'])).toBe(arr(['top', 'high', 'mid', 'low']));
    expect(sh.run(0, ['SORT', 'z', 'BY', 'nosort', 'LIMIT', '1', '2'])).toBe(arr(['mid', 'high']));
    expect(sh.run(0, ['SORT', 'z', 'BY', 'nosort', 'DESC', 'LIMIT', '1', '2'])).toBe(arr(['high', 'mid']));
    expect(sh.run(0, ['SORT', 'z', 'BY', 'nosort', 'LIMIT', '3', '10', 'STORE', 'd'])).toBe(':1\r\n');
    expect(sh.run(0, ['LRANGE', 'd', '0', '-1'])).toBe(arr(['top']));
    expect(sh.run(0, ['SORT', 'z', 'ALPHA', 'DESC'])).toBe(arr(['top', 'mid', 'low', 'high']));
  });

  it('BY and GET ->field read hash fields through the reader; other types and missing fields give nil', () => {
    const { sh, ks } = setup();
    sh.run(0, ['RPUSH', 'l', '1', '2', '3']);
    for (const [k, v] of [['h_1', '30'], ['h_2', '10'], ['h_3', '20']]) {
      sh.run(0, ['RPUSH', k, v]);
      relabel(ks, 0, k, TYPE_HASH);
    }
    sh.run(0, ['SET', 'h_x', 'string']);
    expect(sh.run(0, ['SORT', 'l', 'BY', 'h_*->f'])).toBe(arr(['2', '3', '1']));
    expect(sh.run(0, ['SORT', 'l', 'BY', 'h_*->f', 'DESC', 'GET', '#', 'GET', 'h_*->f'])).toBe(arr(['1', '30', '3', '20', '2', '10']));
    expect(sh.run(0, ['SORT', 'l', 'GET', 'h_*->g'])).toBe('*3\r\n$-1\r\n$-1\r\n$-1\r\n');
    sh.run(0, ['RPUSH', 'l2', 'x']);
    expect(sh.run(0, ['SORT', 'l2', 'BY', 'nosort', 'GET', 'h_*->f'])).toBe('*1\r\n$-1\r\n');
  });

  it('a type without a reader (a hash as a source) is WRONGTYPE', () => {
    const { sh, ks } = setup();
    sh.run(0, ['RPUSH', 'h', 'x']);
    relabel(ks, 0, 'h', TYPE_HASH);
    expect(sh.run(0, ['SORT', 'h'])).toBe('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  });
});

describe('SORT over the real sets, sorted sets and hashes', () => {
  const fresh = (): HandlerShard => new HandlerShard(new Keyspace(new Arena(new SharedArrayBuffer(16 << 20)), 1, new Float64Array(256), 11));

  it('an intset gives its integers as decimal text (each its own bytes, not one scratch buffer)', () => {
    const sh = fresh();
    sh.run(0, ['SADD', 's', '30', '-7', '100', '9223372036854775807', '0']);
    expect(sh.run(0, ['OBJECT', 'ENCODING', 's'])).toBe('$6\r\nintset\r\n');
    expect(sh.run(0, ['SORT', 's'])).toBe(arr(['-7', '0', '30', '100', '9223372036854775807']));
    expect(sh.run(0, ['SORT', 's', 'ALPHA', 'DESC'])).toBe(arr(['9223372036854775807', '30', '100', '0', '-7']));
    expect(sh.run(0, ['SORT', 's', 'BY', 'nosort'])).toBe(arr(['-7', '0', '30', '100', '9223372036854775807']));
    expect(sh.run(0, ['SORT', 's', 'BY', 'nosort', 'STORE', 'd'])).toBe(':5\r\n');
    expect(sh.run(0, ['LRANGE', 'd', '0', '-1'])).toBe(arr(['-7', '0', '100', '30', '9223372036854775807']));
  });

  it('a sorted set turns into a skiplist when sorted, as in Redis, and keeps its scores', () => {
    const sh = fresh();
    sh.run(0, ['ZADD', 'z', '3', 'c', '1', 'a', '2', 'b']);
    expect(sh.run(0, ['OBJECT', 'ENCODING', 'z'])).toBe('$8\r\nlistpack\r\n');
    expect(sh.run(0, ['SORT_RO', 'z', 'BY', 'nosort', 'DESC'])).toBe(arr(['c', 'b', 'a']));
    expect(sh.run(0, ['OBJECT', 'ENCODING', 'z'])).toBe('$8\r\nskiplist\r\n');
    expect(sh.run(0, ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'])).toBe(arr(['a', '1', 'b', '2', 'c', '3']));
    expect(sh.run(0, ['ZADD', 'z', '0', 'x'])).toBe(':1\r\n');
    expect(sh.run(0, ['SORT', 'z', 'BY', 'nosort', 'LIMIT', '0', '2'])).toBe(arr(['x', 'a']));
  });

  it('a hash field whose TTL has passed reads as missing (BY and GET)', async () => {
    const sh = fresh();
    sh.run(0, ['RPUSH', 'l', 'a', 'b', 'c']);
    sh.run(0, ['HSET', 'h_a', 'w', '3', 'keep', '1']);
    sh.run(0, ['HSET', 'h_b', 'w', '2']);
    sh.run(0, ['HSET', 'h_c', 'w', '1']);
    expect(sh.run(0, ['HPEXPIRE', 'h_a', '20', 'FIELDS', '1', 'w'])).toBe('*1\r\n:1\r\n');
    expect(sh.run(0, ['HPEXPIRE', 'h_c', '20', 'FIELDS', '1', 'w'])).toBe('*1\r\n:1\r\n');
    expect(sh.run(0, ['SORT', 'l', 'BY', 'h_*->w', 'GET', 'h_*->w'])).toBe(arr(['1', '2', '3']));
    await new Promise((r) => setTimeout(r, 40));
    expect(sh.run(0, ['SORT', 'l', 'BY', 'h_*->w', 'GET', '#', 'GET', 'h_*->w']))
      .toBe('*6\r\n$1\r\na\r\n$-1\r\n$1\r\nc\r\n$-1\r\n$1\r\nb\r\n$1\r\n2\r\n');
    expect(sh.run(0, ['HGET', 'h_a', 'w'])).toBe('$-1\r\n');
    expect(sh.run(0, ['HGET', 'h_a', 'keep'])).toBe('$1\r\n1\r\n');
    expect(sh.run(0, ['HGET', 'h_c', 'w'])).toBe('$-1\r\n');
  });
});

describe('sortScore reads numbers as strtod does', () => {
  const score = (s: string): number => {
    const b = Buffer.from(s, 'latin1');
    return sortScore(b, 0, b.length);
  };
  it('accepts what strtod converts whole, refuses the rest', () => {
    const ok: [string, number][] = [['0', 0], ['-0', -0], ['12', 12], ['-12', -12], ['1.5', 1.5], ['.5', 0.5], ['5.', 5],
      ['1e3', 1000], ['1E+3', 1000], ['1e-3', 0.001], [' 7', 7], ['\t\n8', 8], ['+8', 8], ['0x10', 16], ['0X1p3', 8],
      ['0x.8', 0.5], ['inf', Infinity], ['-Infinity', -Infinity], ['INF', Infinity], ['', 0], ['1\x00junk', 1], ['\x00', 0],
      ['123456789012345678', 123456789012345678], ['0.1', 0.1], ['2.2250738585072014e-308', 2.2250738585072014e-308],
      ['1.7976931348623157e308', 1.7976931348623157e308], ['000123.4500', 123.45],
      // glibc: an exact subnormal is no range error (hex only: no short decimal is exact there).
      ['0x1p-1070', 2 ** -1070], ['0x3p-1074', 3 * 2 ** -1074], ['0x1.8p-1073', 3 * 2 ** -1074]];
    for (const [s, v] of ok) expect(score(s), JSON.stringify(s)).toBe(v);
    const bad = ['a', '1a', '1 ', ' ', '-', '.', 'e5', '1e', '1e+', '0x', 'nan', '-nan', 'infx', 'infinit', '1e400', '-1e400',
      '1e-320', '4.9e-324', '0x1p-1080', '0x3p-1075', '1.5.5', '--1', '+-1'];
    for (const s of bad) expect(score(s), JSON.stringify(s)).toBeNaN();
  });
});
