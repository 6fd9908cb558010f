import { expect, it } from 'vitest';
import { shardOfKey } from '../helpers/suites.ts';
import { describeDifferential, encodeCommand, type Step } from '../helpers/differential.ts';
import { mulberry32 as prng } from '../helpers/prng.ts';

// The bitmap family against real redis-server 7.0, reply bytes compared.
// Keys a, b, c, d live on four different shards (of 4); {t}a, {t}b, {t}c share
// one, so BITOP runs both coordinated (cross-shard) and on a single shard.

const I64_MAX = '9223372036854775807';
const I64_MIN = '-9223372036854775808';

/** A command with binary arguments (strings are taken as latin1 bytes). */
function bin(...args: Array<string | Uint8Array>): Buffer {
  return encodeCommand(args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : Buffer.from(a))));
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

function randInt(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

function randomBytes(rnd: () => number, n: number, style: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (style === 0) out[i] = rnd() < 0.5 ? 0 : 0xff;
    else if (style === 1) out[i] = pick(rnd, [0, 0xff, 1, 0x80, 0x7f, 0xfe]);
    else out[i] = Math.floor(rnd() * 256);
  }
  return out;
}

it('test keys really span four shards (guard for the cross-shard cases)', () => {
  const shardOf = (k: string): number => shardOfKey(k, 4);
  expect(new Set(['a', 'b', 'c', 'd'].map(shardOf)).size).toBe(4);
  expect(shardOf('{t}a')).toBe(shardOf('{t}b'));
  expect(shardOf('{t}a')).toBe(shardOf('{t}c'));
});

describeDifferential('bitmaps: differential', (ctx) => {
  it('arity errors', async () => {
    await ctx.expectSame([
      ['SETBIT'], ['SETBIT', 'a'], ['SETBIT', 'a', '1'], ['SETBIT', 'a', '1', '1', '1'],
      ['GETBIT'], ['GETBIT', 'a'], ['GETBIT', 'a', '1', '1'],
      ['BITCOUNT'], ['BITPOS'], ['BITPOS', 'a'],
      ['BITOP'], ['BITOP', 'AND'], ['BITOP', 'AND', 'a'], ['BITOP', 'NOT', 'a'],
      ['BITFIELD'], ['BITFIELD_RO'],
      ['bitcount'], ['BitPos', 'x'],
    ]);
  });

  it('SETBIT / GETBIT: growth, replies, edge offsets and errors', async () => {
    await ctx.expectSame([
      ['SETBIT', 'a', '7', '1'], ['GET', 'a'], ['SETBIT', 'a', '7', '1'], ['SETBIT', 'a', '7', '0'], ['GET', 'a'],
      ['SETBIT', 'a', '0', '1'], ['SETBIT', 'a', '100', '1'], ['GET', 'a'], ['STRLEN', 'a'],
      ['GETBIT', 'a', '0'], ['GETBIT', 'a', '1'], ['GETBIT', 'a', '100'], ['GETBIT', 'a', '101'],
      ['GETBIT', 'a', '103'], ['GETBIT', 'a', '104'], ['GETBIT', 'a', '4294967295'],
      ['GETBIT', 'nokey', '0'], ['GETBIT', 'nokey', '4294967295'], ['EXISTS', 'nokey'],
      // Offsets: negative, past 2^32-1, not integers, "#" (BITFIELD only), 64-bit edges.
      ['SETBIT', 'a', '4294967296', '1'], ['SETBIT', 'a', '-1', '1'], ['SETBIT', 'a', 'x', '1'],
      ['SETBIT', 'a', '1.0', '1'], ['SETBIT', 'a', '#1', '1'], ['SETBIT', 'a', '', '1'],
      ['SETBIT', 'a', I64_MAX, '1'], ['SETBIT', 'a', I64_MIN, '1'], ['SETBIT', 'a', '9223372036854775808', '1'],
      ['GETBIT', 'a', '4294967296'], ['GETBIT', 'a', '-1'], ['GETBIT', 'a', 'abc'], ['GETBIT', 'a', '#0'],
      ['GETBIT', 'a', ' 1'], ['GETBIT', 'a', '01'],
      // Bit values: only 0 and 1; the offset is checked first.
      ['SETBIT', 'a', '1', '2'], ['SETBIT', 'a', '1', '-1'], ['SETBIT', 'a', '1', 'x'], ['SETBIT', 'a', '1', '01'],
      ['SETBIT', 'a', '1', ''], ['SETBIT', 'a', '1', '-0'], ['SETBIT', 'a', '1', I64_MAX],
      ['SETBIT', 'a', '-1', 'x'], ['SETBIT', 'nokey', '1', '2'], ['EXISTS', 'nokey'],
      // A fresh key is created even when the bit written is 0.
      ['SETBIT', 'b', '20', '0'], ['GET', 'b'], ['STRLEN', 'b'],
      // Larger growth with zero padding in between.
      ['SETBIT', 'c', '8000000', '1'], ['STRLEN', 'c'], ['BITCOUNT', 'c'], ['GETBIT', 'c', '8000000'],
      ['GETBIT', 'c', '7999999'], ['SETBIT', 'c', '3', '1'], ['BITCOUNT', 'c'], ['BITPOS', 'c', '1'],
      // Integer and embstr values are bitmaps of their text.
      ['SET', 'n', '12345'], ['GETBIT', 'n', '2'], ['GETBIT', 'n', '3'], ['OBJECT', 'ENCODING', 'n'],
      ['SETBIT', 'n', '3', '0'], ['GET', 'n'], ['OBJECT', 'ENCODING', 'n'],
      ['SET', 'e', 'hello'], ['SETBIT', 'e', '0', '0'], ['OBJECT', 'ENCODING', 'e'], ['GET', 'e'],
      ['SETBIT', '{t}a', '9', '1'], ['GET', '{t}a'],
    ]);
  });

  it('SETBIT keeps the TTL; proto-max-bulk-len bounds the offset', async () => {
    await ctx.expectSame([
      ['SET', 'a', 'v', 'EX', '1000'], ['SETBIT', 'a', '100', '1'], ['TTL', 'a'], ['GET', 'a'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1mb'],
      ['SETBIT', 'b', '8388607', '1'], ['SETBIT', 'b', '8388608', '1'], ['GETBIT', 'b', '8388608'],
      ['STRLEN', 'b'], ['BITCOUNT', 'b'],
      ['BITFIELD', 'b', 'GET', 'u8', '8388607'], ['BITFIELD', 'b', 'GET', 'u8', '8388608'],
      ['BITFIELD', 'b', 'GET', 'u8', '#1048575'], ['BITFIELD', 'b', 'GET', 'u8', '#1048576'],
      ['BITFIELD', 'b', 'SET', 'i64', '8388607', '-1'], ['STRLEN', 'b'], ['BITCOUNT', 'b'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '512mb'],
      ['SETBIT', 'b', '8388608', '1'], ['STRLEN', 'b'],
    ]);
  });

  it('BITCOUNT: ranges, BYTE|BIT units, negative indexes, 7.0 syntax rules', async () => {
    await ctx.expectSame([
      ['BITCOUNT', 'nokey'], ['BITCOUNT', 'nokey', '0'], ['BITCOUNT', 'nokey', '0', '1', 'foo'],
      ['BITCOUNT', 'nokey', 'x', 'y', 'z', 'w'],
      ['SET', 'a', 'foobar'], ['SET', 'e', ''],
      ['BITCOUNT', 'a'], ['BITCOUNT', 'e'], ['BITCOUNT', 'e', '0', '-1'], ['BITCOUNT', 'e', '0', '-1', 'BIT'],
      ['BITCOUNT', 'a', '0', '0'], ['BITCOUNT', 'a', '1', '1'], ['BITCOUNT', 'a', '0', '-1'],
      ['BITCOUNT', 'a', '-2', '-1'], ['BITCOUNT', 'a', '-100', '100'], ['BITCOUNT', 'a', '3', '1'],
      ['BITCOUNT', 'a', '6', '10'], ['BITCOUNT', 'a', '-1', '-6'],
      ['BITCOUNT', 'a', '1', '1', 'BYTE'], ['BITCOUNT', 'a', '1', '1', 'byte'],
      ['BITCOUNT', 'a', '5', '30', 'BIT'], ['BITCOUNT', 'a', '5', '5', 'bit'], ['BITCOUNT', 'a', '0', '7', 'BIT'],
      ['BITCOUNT', 'a', '1', '6', 'BIT'], ['BITCOUNT', 'a', '-5', '-1', 'BIT'], ['BITCOUNT', 'a', '-48', '-1', 'BIT'],
      ['BITCOUNT', 'a', '47', '47', 'BIT'], ['BITCOUNT', 'a', '9', '12', 'BIT'], ['BITCOUNT', 'a', '100', '200', 'BIT'],
      // argc 3 and argc > 5 are syntax errors; a bad unit too, but only after the
      // "both negative and start > end" early exit.
      ['BITCOUNT', 'a', '0'], ['BITCOUNT', 'a', '0', '-1', 'BIT', 'x'], ['BITCOUNT', 'a', '0', '-1', 'foo'],
      ['BITCOUNT', 'a', '-1', '-2', 'foo'], ['BITCOUNT', 'a', '-2', '-1', 'foo'],
      ['BITCOUNT', 'a', 'x', '1'], ['BITCOUNT', 'a', '1', 'x'], ['BITCOUNT', 'a', 'x', 'y', 'foo'],
      ['BITCOUNT', 'a', '1.5', '2'], ['BITCOUNT', 'a', '0', '9223372036854775808'],
      // 64-bit extremes (exact comparison beyond 2^53).
      ['BITCOUNT', 'a', I64_MIN, I64_MAX], ['BITCOUNT', 'a', I64_MAX, I64_MIN], ['BITCOUNT', 'a', I64_MAX, I64_MAX],
      ['BITCOUNT', 'a', '-9223372036854775807', I64_MIN], ['BITCOUNT', 'a', I64_MIN, '-9223372036854775807'],
      ['BITCOUNT', 'a', '-9007199254740993', '-9007199254740992'], ['BITCOUNT', 'a', '-9007199254740992', '-9007199254740993'],
      ['BITCOUNT', 'a', I64_MIN, '-1', 'BIT'], ['BITCOUNT', 'a', '0', I64_MAX, 'BIT'],
      ['SET', 'n', '-99'], ['BITCOUNT', 'n'], ['BITCOUNT', 'n', '1', '2', 'BIT'],
    ]);
  });

  it('BITPOS: ranges, units, not-found rules', async () => {
    await ctx.expectSame([
      ['BITPOS', 'nokey', '1'], ['BITPOS', 'nokey', '0'], ['BITPOS', 'nokey', '0', '5', '10', 'BIT'],
      ['BITPOS', 'nokey', '1', 'x', 'y', 'z', 'w'], ['BITPOS', 'nokey', '2'], ['BITPOS', 'nokey', 'x'],
      bin('SET', 'ones', '\xff\xff\xff'), bin('SET', 'zeros', '\x00\x00\x00'), bin('SET', 'mix', '\x00\xff\xf0'),
      ['SET', 'e', ''],
      // The bit argument.
      ['BITPOS', 'ones', '2'], ['BITPOS', 'ones', '-1'], ['BITPOS', 'ones', 'x'], ['BITPOS', 'ones', I64_MAX],
      ['BITPOS', 'ones', '9223372036854775808'], ['BITPOS', 'ones', '01'],
      // All ones looking for 0: past the end without an end argument, -1 with one.
      ['BITPOS', 'ones', '0'], ['BITPOS', 'ones', '0', '1'], ['BITPOS', 'ones', '0', '-1'], ['BITPOS', 'ones', '0', '0', '-1'],
      ['BITPOS', 'ones', '0', '0', '2'], ['BITPOS', 'ones', '0', '1', '-1', 'BYTE'], ['BITPOS', 'ones', '0', '3', '20', 'BIT'],
      ['BITPOS', 'ones', '1'], ['BITPOS', 'ones', '1', '1'], ['BITPOS', 'ones', '1', '5', '6', 'BIT'],
      // All zeros looking for 1: -1 always.
      ['BITPOS', 'zeros', '1'], ['BITPOS', 'zeros', '1', '1'], ['BITPOS', 'zeros', '1', '0', '-1', 'BIT'],
      ['BITPOS', 'zeros', '0'], ['BITPOS', 'zeros', '0', '2'], ['BITPOS', 'zeros', '0', '17', '20', 'bit'],
      ['BITPOS', 'e', '0'], ['BITPOS', 'e', '1'], ['BITPOS', 'e', '0', '0'], ['BITPOS', 'e', '0', '0', '-1', 'BIT'],
      ['BITPOS', 'mix', '1'], ['BITPOS', 'mix', '0'], ['BITPOS', 'mix', '0', '1'], ['BITPOS', 'mix', '0', '1', '-1'],
      ['BITPOS', 'mix', '1', '2'], ['BITPOS', 'mix', '0', '2'], ['BITPOS', 'mix', '0', '2', '2'],
      ['BITPOS', 'mix', '1', '7', '15', 'BIT'], ['BITPOS', 'mix', '0', '8', '19', 'BIT'], ['BITPOS', 'mix', '0', '8', '20', 'BIT'],
      ['BITPOS', 'mix', '0', '9', '15', 'BIT'], ['BITPOS', 'mix', '1', '17', '17', 'BIT'], ['BITPOS', 'mix', '1', '-4', '-1', 'BIT'],
      ['BITPOS', 'mix', '0', '-4', '-1', 'BIT'], ['BITPOS', 'mix', '1', '-100', '100', 'BIT'], ['BITPOS', 'mix', '1', '3', '1'],
      ['BITPOS', 'mix', '1', '-1', '-3'], ['BITPOS', 'mix', '1', '20', '10', 'BIT'],
      // Syntax: the unit is checked before the end is parsed.
      ['BITPOS', 'mix', '1', '0', '-1', 'foo'], ['BITPOS', 'mix', '1', '0', 'x', 'foo'], ['BITPOS', 'mix', '1', '0', 'x', 'bit'],
      ['BITPOS', 'mix', '1', 'x'], ['BITPOS', 'mix', '1', '0', 'x'], ['BITPOS', 'mix', '1', '0', '-1', 'bit', 'x'],
      ['BITPOS', 'mix', '1', I64_MIN, I64_MAX], ['BITPOS', 'mix', '0', I64_MIN, I64_MAX, 'BIT'], ['BITPOS', 'mix', '0', I64_MAX],
      ['SET', 'n', '-99'], ['BITPOS', 'n', '1'], ['BITPOS', 'n', '0', '1'],
    ]);
  });

  it('BITPOS / BITCOUNT on long strings (word-at-a-time paths)', async () => {
    const long = new Uint8Array(1000).fill(0xff);
    long[777] = 0xfb;
    const sparse = new Uint8Array(1000);
    sparse[613] = 0x10;
    await ctx.expectSame([
      bin('SET', 'l', long), bin('SET', 's', sparse),
      ['BITPOS', 'l', '0'], ['BITPOS', 'l', '0', '1'], ['BITPOS', 'l', '0', '3', '776'], ['BITPOS', 'l', '0', '3', '777'],
      ['BITPOS', 'l', '0', '6221', '7000', 'BIT'], ['BITPOS', 'l', '0', '6222', '7000', 'BIT'], ['BITPOS', 'l', '1', '5'],
      ['BITPOS', 's', '1'], ['BITPOS', 's', '1', '1', '612'], ['BITPOS', 's', '1', '1', '613'], ['BITPOS', 's', '0'],
      ['BITPOS', 's', '1', '4907', '8000', 'BIT'], ['BITPOS', 's', '1', '4908', '8000', 'BIT'],
      ['BITCOUNT', 'l'], ['BITCOUNT', 'l', '1', '-2'], ['BITCOUNT', 'l', '13', '7990', 'BIT'], ['BITCOUNT', 's'],
    ]);
  });

  it('BITOP: operations, lengths, errors (cross-shard and same-shard)', async () => {
    const setup: Step[] = [
      bin('SET', 'a', '\xff\x0f\x55'), bin('SET', 'b', '\xf0\xf0'), bin('SET', 'c', '\x01'),
      bin('SET', '{t}a', '\xff\x0f\x55'), bin('SET', '{t}b', '\xf0\xf0'), bin('SET', '{t}c', '\x01'),
    ];
    const ops = (d: string, x: string, y: string, z: string): Step[] => [
      ['BITOP', 'AND', d, x, y], ['GET', d], ['BITOP', 'OR', d, x, y, z], ['GET', d],
      ['BITOP', 'XOR', d, x, y, z], ['GET', d], ['BITOP', 'NOT', d, x], ['GET', d],
      ['BITOP', 'and', d, x, y, z], ['GET', d], ['BITOP', 'xOr', d, x], ['GET', d],
      // Missing sources count as empty strings; all missing deletes the destination.
      ['BITOP', 'AND', d, x, 'nokey'], ['GET', d], ['BITOP', 'OR', d, 'nokey', x], ['GET', d],
      ['BITOP', 'OR', d, 'nokey'], ['EXISTS', d], ['SET', d, 'old'], ['BITOP', 'AND', d, 'nokey', 'nokey2'], ['EXISTS', d],
      ['BITOP', 'NOT', d, 'nokey'], ['EXISTS', d],
      // The destination may also be a source.
      ['SET', d, 'zz'], ['BITOP', 'XOR', d, d, x], ['GET', d], ['BITOP', 'NOT', d, d], ['GET', d],
      // Errors: bad operation, NOT with several sources.
      ['BITOP', 'NAND', d, x, y], ['BITOP', 'NOT', d, x, y], ['BITOP', 'NOT', d, 'nokey', 'nokey2'], ['BITOP', '', d, x],
      ['BITOP', 'ANDX', d, x], ['GET', d],
    ];
    await ctx.expectSame([
      ...setup,
      ...ops('d', 'a', 'b', 'c'), // four shards
      ...ops('{t}d', '{t}a', '{t}b', '{t}c'), // one shard
      ...ops('{t}e', 'a', '{t}b', 'c'), // destination shares a shard with one source
      ...ops('b', 'a', '{t}b', 'nokey'),
    ]);
  });

  it('BITOP result: raw encoding, TTL removed, long values', async () => {
    const big1 = new Uint8Array(70000);
    const big2 = new Uint8Array(100001);
    for (let i = 0; i < big1.length; i++) big1[i] = (i * 7) & 0xff;
    for (let i = 0; i < big2.length; i++) big2[i] = (i * 13 + 5) & 0xff;
    await ctx.expectSame([
      ['SET', 'a', '1'], ['SET', 'b', 'x'], ['SET', '{t}a', '1'],
      ['BITOP', 'OR', 'd', 'a', 'b'], ['OBJECT', 'ENCODING', 'd'], ['GET', 'd'],
      ['BITOP', 'AND', '{t}d', '{t}a'], ['OBJECT', 'ENCODING', '{t}d'], ['GET', '{t}d'],
      ['SET', 'd', 'v', 'EX', '1000'], ['BITOP', 'OR', 'd', 'a', 'b'], ['TTL', 'd'],
      ['SET', '{t}d', 'v', 'EX', '1000'], ['BITOP', 'OR', '{t}d', '{t}a'], ['TTL', '{t}d'],
      bin('SET', 'c', big1), bin('SET', 'd', big2), bin('SET', '{t}c', big1), bin('SET', '{t}d', big2),
      ['BITOP', 'XOR', 'a', 'c', 'd'], ['STRLEN', 'a'], ['BITCOUNT', 'a'], ['GET', 'a'],
      ['BITOP', 'AND', 'b', 'c', 'd', 'a'], ['BITCOUNT', 'b'], ['BITOP', 'NOT', 'b', 'd'], ['BITCOUNT', 'b'],
      ['BITOP', 'XOR', '{t}a', '{t}c', '{t}d'], ['STRLEN', '{t}a'], ['GET', '{t}a'],
      ['BITOP', 'OR', '{t}b', '{t}c', '{t}d'], ['BITCOUNT', '{t}b'],
    ]);
  });

  it('BITFIELD: GET/SET/INCRBY, signedness, widths, "#" offsets', async () => {
    await ctx.expectSame([
      ['BITFIELD', 'a'], ['EXISTS', 'a'], ['BITFIELD', 'a', 'GET', 'u8', '0'], ['EXISTS', 'a'],
      ['BITFIELD', 'a', 'SET', 'u8', '0', '255', 'GET', 'u8', '0', 'GET', 'i8', '0', 'GET', 'u4', '4', 'GET', 'i4', '4'],
      ['GET', 'a'], ['OBJECT', 'ENCODING', 'a'],
      ['BITFIELD', 'a', 'SET', 'i5', '7', '-3', 'GET', 'i5', '7', 'GET', 'u5', '7', 'GET', 'u16', '0'],
      ['BITFIELD', 'a', 'INCRBY', 'u2', '100', '1', 'INCRBY', 'u2', '100', '1', 'INCRBY', 'u2', '100', '1', 'INCRBY', 'u2', '100', '1'],
      ['BITFIELD', 'a', 'SET', 'u8', '#3', '65', 'GET', 'u8', '24', 'GET', 'u8', '#3', 'SET', 'i16', '#2', '-2'], ['GET', 'a'],
      ['BITFIELD', 'a', 'SET', 'i64', '0', I64_MIN, 'GET', 'i64', '0', 'GET', 'u63', '0', 'GET', 'u63', '1'],
      ['BITFIELD', 'a', 'SET', 'i64', '3', I64_MAX, 'GET', 'i64', '3', 'GET', 'i1', '3', 'GET', 'u1', '4', 'GET', 'i1', '4'],
      ['BITFIELD', 'a', 'SET', 'u63', '#1', I64_MAX, 'GET', 'u63', '63', 'INCRBY', 'u63', '63', '1'],
      ['BITFIELD', 'a', 'INCRBY', 'i64', '0', '1', 'INCRBY', 'i64', '0', I64_MAX, 'INCRBY', 'i64', '0', I64_MIN],
      ['BITFIELD', 'a', 'GET', 'u8', '1000', 'GET', 'i64', '1000', 'GET', 'u63', '4294967232'], ['STRLEN', 'a'],
      // '#' offsets wrap like int64 when multiplied by the width.
      ['BITFIELD', 'a', 'GET', 'u4', '#4611686018427387904', 'GET', 'u2', '#4611686018427387904'],
      ['BITFIELD', 'a', 'GET', 'i64', '#144115188075855872', 'GET', 'u8', '#-0', 'GET', 'u8', '#0'],
      ['BITFIELD', 'n', 'SET', 'u8', '#1000', '1'], ['STRLEN', 'n'], ['BITCOUNT', 'n'],
      ['BITFIELD', 'n', 'SET', 'u8', '#536870912', '1'],
      // Integer-encoded value, read and written.
      ['SET', 'i', '100'], ['BITFIELD', 'i', 'GET', 'u24', '0'], ['OBJECT', 'ENCODING', 'i'],
      ['BITFIELD', 'i', 'INCRBY', 'u8', '16', '1'], ['GET', 'i'], ['OBJECT', 'ENCODING', 'i'],
      ['SET', '{t}a', 'x', 'EX', '1000'], ['BITFIELD', '{t}a', 'SET', 'u8', '40', '1'], ['TTL', '{t}a'], ['GET', '{t}a'],
    ]);
  });

  it('BITFIELD: OVERFLOW WRAP / SAT / FAIL', async () => {
    const seq: Step[] = [];
    for (const ow of ['WRAP', 'SAT', 'FAIL', 'wrap', 'sat', 'fail']) {
      seq.push(
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'u8', '0', '300', 'SET', 'u8', '0', '-1', 'GET', 'u8', '0'],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'i8', '0', '128', 'SET', 'i8', '0', '-129', 'GET', 'i8', '0'],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'u8', '0', '250', 'INCRBY', 'u8', '0', '10', 'INCRBY', 'u8', '0', '-300'],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'i8', '0', '120', 'INCRBY', 'i8', '0', '10', 'INCRBY', 'i8', '0', '-300'],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'i64', '8', I64_MAX, 'INCRBY', 'i64', '8', '1', 'INCRBY', 'i64', '8', I64_MIN],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'i64', '8', I64_MIN, 'INCRBY', 'i64', '8', '-1', 'INCRBY', 'i64', '8', I64_MAX],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'u63', '8', I64_MAX, 'INCRBY', 'u63', '8', '1', 'INCRBY', 'u63', '8', I64_MIN],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'u63', '8', '0', 'INCRBY', 'u63', '8', '-1', 'SET', 'u63', '8', I64_MIN],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'i1', '3', '1', 'SET', 'i1', '3', '-1', 'INCRBY', 'i1', '3', '-1', 'GET', 'u1', '3'],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'SET', 'u1', '3', '2', 'INCRBY', 'u1', '3', '1', 'INCRBY', 'u1', '3', '1'],
        ['BITFIELD', 'k', 'OVERFLOW', ow, 'INCRBY', 'i33', '5', '-9007199254740993', 'INCRBY', 'u53', '5', '9007199254740993'],
        ['GET', 'k'],
      );
    }
    // OVERFLOW applies to the operations after it; a FAIL creates the key anyway.
    seq.push(
      ['BITFIELD', 'k2', 'INCRBY', 'u2', '0', '5', 'OVERFLOW', 'SAT', 'INCRBY', 'u2', '0', '5', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '0', '5'],
      ['BITFIELD', 'k3', 'OVERFLOW', 'FAIL', 'SET', 'u8', '16', '999'], ['GET', 'k3'], ['OBJECT', 'ENCODING', 'k3'],
      ['BITFIELD', 'k4', 'OVERFLOW', 'SAT'], ['EXISTS', 'k4'],
    );
    await ctx.expectSame(seq);
  });

  it('BITFIELD / BITFIELD_RO errors', async () => {
    await ctx.expectSame([
      ['SET', 'a', 'abc'],
      ['BITFIELD', 'a', 'GET'], ['BITFIELD', 'a', 'GET', 'u8'], ['BITFIELD', 'a', 'SET', 'u8', '0'],
      ['BITFIELD', 'a', 'INCRBY', 'u8', '0'], ['BITFIELD', 'a', 'OVERFLOW'], ['BITFIELD', 'a', 'FOO', 'u8', '0'],
      ['BITFIELD', 'a', 'OVERFLOW', 'foo'], ['BITFIELD', 'a', 'OVERFLOW', 'foo', 'GET', 'u8', '0'],
      ['BITFIELD', 'a', 'GET', 'u8', '0', 'OVERFLOW', 'foo'], ['BITFIELD', 'a', 'GET', 'u8', '0', 'junk'],
      ['BITFIELD', 'a', 'get', 'u8', '0', 'Get', 'U8', '0'],
      ['BITFIELD', 'a', 'GET', 'u64', '0'], ['BITFIELD', 'a', 'GET', 'i65', '0'], ['BITFIELD', 'a', 'GET', 'u0', '0'],
      ['BITFIELD', 'a', 'GET', 'i0', '0'], ['BITFIELD', 'a', 'GET', 'i', '0'], ['BITFIELD', 'a', 'GET', '', '0'],
      ['BITFIELD', 'a', 'GET', 'x8', '0'], ['BITFIELD', 'a', 'GET', 'i08', '0'], ['BITFIELD', 'a', 'GET', 'i-1', '0'],
      ['BITFIELD', 'a', 'GET', 'u+8', '0'], ['BITFIELD', 'a', 'GET', 'u 8', '0'], ['BITFIELD', 'a', 'GET', 'i99999999999999999999', '0'],
      bin('BITFIELD', 'a', 'GET', 'u8\x00junk', '0'), bin('BITFIELD', 'a', 'GET', 'i\x008', '0'),
      ['BITFIELD', 'a', 'GET', 'u8', '-1'], ['BITFIELD', 'a', 'GET', 'u8', 'x'], ['BITFIELD', 'a', 'GET', 'u8', '#'],
      ['BITFIELD', 'a', 'GET', 'u8', '#-1'], ['BITFIELD', 'a', 'GET', 'u8', '##1'], ['BITFIELD', 'a', 'GET', 'u8', '4294967296'],
      ['BITFIELD', 'a', 'GET', 'u8', '4294967295'], ['BITFIELD', 'a', 'GET', 'u8', '#536870912'],
      ['BITFIELD', 'a', 'SET', 'u8', '0', 'x'], ['BITFIELD', 'a', 'SET', 'u8', '0', '1.5'],
      ['BITFIELD', 'a', 'SET', 'u8', '0', '9223372036854775808'], ['BITFIELD', 'a', 'INCRBY', 'u8', '0', ''],
      // Parsing errors come before any execution: nothing is written.
      ['BITFIELD', 'a', 'SET', 'u8', '0', '65', 'GET', 'u64', '0'], ['GET', 'a'],
      ['BITFIELD', 'a', 'SET', 'u8', '0', '65', 'SET', 'u8', '8', 'x'], ['GET', 'a'],
      // BITFIELD_RO: GET only, checked after parsing.
      ['BITFIELD_RO', 'a'], ['BITFIELD_RO', 'a', 'GET', 'u8', '0', 'GET', 'i4', '#1'],
      ['BITFIELD_RO', 'a', 'SET', 'u8', '0', '1'], ['BITFIELD_RO', 'a', 'INCRBY', 'u8', '0', '1'],
      ['BITFIELD_RO', 'a', 'GET', 'u8', '0', 'INCRBY', 'u8', '0', 'x'], ['BITFIELD_RO', 'a', 'GET', 'u99', '0', 'SET', 'u8', '0', '1'],
      ['BITFIELD_RO', 'a', 'OVERFLOW', 'SAT', 'GET', 'u8', '0'], ['BITFIELD_RO', 'a', 'OVERFLOW', 'bad'],
      ['BITFIELD_RO', 'nokey', 'GET', 'u8', '0'], ['BITFIELD_RO', 'nokey', 'SET', 'u8', '0', '1'], ['EXISTS', 'nokey'],
      // Redis decides the SAT direction in wrapping int64: far below the minimum saturates to the maximum.
      ['BITFIELD', 'q', 'OVERFLOW', 'SAT', 'SET', 'i58', '0', '-9079256848778919937'], ['GET', 'q'],
      ['BITFIELD', 'q', 'OVERFLOW', 'SAT', 'SET', 'i8', '0', '-9223372036854775808', 'GET', 'i8', '0'],
      ['GET', 'a'],
    ]);
  });

  it('RESP3: BITFIELD FAIL nil and integer replies', async () => {
    await ctx.expectSame([
      ['BITFIELD', 'a', 'OVERFLOW', 'FAIL', 'SET', 'u8', '0', '999', 'SET', 'i64', '8', I64_MIN, 'GET', 'i64', '8'],
      ['BITFIELD_RO', 'a', 'GET', 'u8', '0'], ['SETBIT', 'a', '1', '1'], ['BITCOUNT', 'a'], ['BITPOS', 'a', '1'],
      ['BITOP', 'OR', 'b', 'a', 'c'], ['BITOP', 'NOT', 'b', 'b'], ['GET', 'b'],
    ], { resp3: true });
  });

  it('generated BITCOUNT / BITPOS sequences', async () => {
    const rnd = prng(7);
    const num = (): string => {
      const r = rnd();
      if (r < 0.05) return pick(rnd, [I64_MAX, I64_MIN, '9007199254740993', '-9007199254740993']);
      if (r < 0.5) return String(randInt(rnd, -20, 20));
      return String(randInt(rnd, -1200, 1200));
    };
    const seq: Step[] = [];
    for (let it = 0; it < 300; it++) {
      const key = pick(rnd, ['a', 'b', '{t}a']);
      seq.push(bin('SET', key, randomBytes(rnd, pick(rnd, [0, 1, 2, 3, 7, 8, 9, 33, 70, 130]), randInt(rnd, 0, 2))));
      for (let k = 0; k < 5; k++) {
        const unit = pick(rnd, [[], ['BIT'], ['BYTE'], ['bit']]);
        if (rnd() < 0.4) {
          seq.push(rnd() < 0.2 ? ['BITCOUNT', key] : ['BITCOUNT', key, num(), num(), ...unit]);
        } else {
          const cmd = ['BITPOS', key, pick(rnd, ['0', '1'])];
          const n = randInt(rnd, 0, 3);
          if (n >= 1) cmd.push(num());
          if (n >= 2) cmd.push(num());
          if (n === 3) cmd.push(unit.length > 0 ? unit[0] : 'BYTE');
          seq.push(cmd);
        }
      }
    }
    await ctx.expectSame(seq);
  });

  it('generated BITFIELD sequences', async () => {
    const rnd = prng(11);
    const type = (): string => {
      if (rnd() < 0.03) return pick(rnd, ['u64', 'i65', 'u0', 'x8', 'U8', 'i']);
      const s = pick(rnd, ['i', 'u']);
      const widths = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 53, 54, 62, 63];
      return s + String(pick(rnd, s === 'i' ? [...widths, 64] : widths));
    };
    const offset = (): string => {
      const r = rnd();
      if (r < 0.02) return pick(rnd, ['-1', 'x', '4294967296', '#-1', '#']);
      if (r < 0.3) return `#${randInt(rnd, 0, 10)}`;
      return String(randInt(rnd, 0, 100));
    };
    const value = (): string => {
      const r = rnd();
      if (r < 0.02) return pick(rnd, ['x', '9223372036854775808']);
      if (r < 0.3) return pick(rnd, [I64_MAX, I64_MIN, '4294967295', '-4294967296', '9007199254740993', '-9007199254740993']);
      if (r < 0.7) return String(randInt(rnd, -300, 300));
      return (BigInt(Math.floor(rnd() * 2 ** 32)) * BigInt(Math.floor(rnd() * 2 ** 32)) - (1n << 62n)).toString();
    };
    const seq: Step[] = [];
    for (let it = 0; it < 400; it++) {
      const key = pick(rnd, ['a', 'a', 'b']);
      if (rnd() < 0.1) seq.push(bin('SET', key, randomBytes(rnd, randInt(rnd, 0, 12), 2)));
      const cmd = [rnd() < 0.8 ? 'BITFIELD' : 'BITFIELD_RO', key];
      const n = randInt(rnd, 0, 5);
      for (let k = 0; k < n; k++) {
        const r = rnd();
        if (r < 0.4) cmd.push('GET', type(), offset());
        else if (r < 0.65) cmd.push('SET', type(), offset(), value());
        else if (r < 0.9) cmd.push('INCRBY', type(), offset(), value());
        else cmd.push('OVERFLOW', pick(rnd, ['WRAP', 'SAT', 'FAIL', 'sat', 'bad']));
      }
      seq.push(cmd, ['GET', key]);
    }
    await ctx.expectSame(seq);
  });

  it('generated BITOP sequences over shards', async () => {
    const rnd = prng(3);
    const keys = ['a', 'b', 'c', 'd', '{t}a', '{t}b', '{t}c', '{t}d', 'nokey', '{t}nokey'];
    const seq: Step[] = [];
    for (let it = 0; it < 300; it++) {
      if (rnd() < 0.35) {
        seq.push(bin('SET', pick(rnd, keys.slice(0, 8)), randomBytes(rnd, pick(rnd, [0, 1, 2, 5, 8, 31, 32, 33, 64, 257]), 2)));
        continue;
      }
      const op = pick(rnd, ['AND', 'OR', 'XOR', 'NOT', 'or', 'not']);
      const pool = rnd() < 0.4 ? keys.filter((k) => k.startsWith('{t}')) : keys;
      const n = op.toLowerCase() === 'not' && rnd() < 0.9 ? 1 : randInt(rnd, 1, 5);
      const dest = pick(rnd, pool.filter((k) => !k.includes('nokey')));
      const srcs = Array.from({ length: n }, () => pick(rnd, pool));
      seq.push(['BITOP', op, dest, ...srcs], ['GET', dest]);
    }
    await ctx.expectSame(seq);
  });
});
