import { expect, it } from 'vitest';
import { shardOfKey } from '../helpers/suites.ts';
import { describeDifferential, pipelined, type Step } from '../helpers/differential.ts';

// The string family against real redis-server 7.0, reply bytes compared.
// Keys a, b, c, d live on four different shards (of 4); {t}a and {t}b share
// one, so multi-key commands run both split/coordinated and on one shard.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const I64_MAX = '9223372036854775807';
const I64_MIN = '-9223372036854775808';

/** Commands a step list repeats for several keys. */
function forKeys(keys: string[], make: (k: string) => Step[]): Step[] {
  return keys.flatMap(make);
}

/** True when Sabre knows the command (other families land independently). */
it('test keys really span four shards (guard for the cross-shard cases)', () => {
  const shardOf = (k: string): number => shardOfKey(k, 4);
  expect(new Set(['a', 'b', 'c', 'd'].map(shardOf)).size).toBe(4);
  expect(shardOf('{t}a')).toBe(shardOf('{t}b'));
  expect(shardOf('s1')).not.toBe(shardOf('s2'));
});

describeDifferential('strings: differential', (ctx) => {
  it('arity errors of every command', async () => {
    await ctx.expectSame([
      ['GETEX'], ['GETDEL'], ['GETDEL', 'a', 'b'], ['GETSET', 'a'], ['GETSET', 'a', 'b', 'c'],
      ['SETNX', 'a'], ['SETNX', 'a', 'b', 'c'], ['SETEX', 'a', '10'], ['SETEX', 'a', '10', 'v', 'x'],
      ['PSETEX', 'a', '10'], ['PSETEX', 'a', '10', 'v', 'x'], ['MSET'], ['MSET', 'a'], ['MSETNX'], ['MSETNX', 'a'],
      ['MGET'], ['APPEND', 'a'], ['APPEND', 'a', 'b', 'c'], ['STRLEN'], ['STRLEN', 'a', 'b'],
      ['GETRANGE', 'a', '0'], ['GETRANGE', 'a', '0', '1', '2'], ['SUBSTR', 'a', '0'], ['SETRANGE', 'a', '0'],
      ['SETRANGE', 'a', '0', 'v', 'x'], ['INCR'], ['INCR', 'a', 'b'], ['DECR'], ['DECR', 'a', 'b'], ['INCRBY', 'a'],
      ['INCRBY', 'a', '1', '2'], ['DECRBY', 'a'], ['DECRBY', 'a', '1', '2'], ['INCRBYFLOAT', 'a'],
      ['INCRBYFLOAT', 'a', '1', '2'], ['LCS', 'a'], ['LCS'], ['GET'], ['SET', 'a'],
      // MSET/MSETNX with a key missing its value: on one shard and across shards.
      ['MSET', 'a', '1', 'b'], ['MSET', '{t}a', '1', '{t}b'], ['MSET', 'a', '1', 'b', '2', 'c'],
      ['MSETNX', 'a', '1', 'b'], ['MSETNX', '{t}a', '1', '{t}b'],
      ['MGET', 'a', 'b', '{t}a', '{t}b'],
      ['mset', 'a', '1', 'b', '2', 'c', '3', 'd'],
      ['MGET', 'a', 'b', 'c', 'd'],
    ]);
  });

  it('SET options: exclusions, repeats, NUL-terminated keywords', async () => {
    await ctx.expectSame([
      ['SET', 'k', 'v', 'NX', 'XX'], ['SET', 'k', 'v', 'XX', 'NX'], ['SET', 'k', 'v', 'NX', 'NX'],
      ['SET', 'k', 'v', 'EX', '10', 'EX', '20'], ['GET', 'k'], ['SET', 'k', 'v', 'PX', '100', 'EX', '10'],
      ['SET', 'k', 'v', 'KEEPTTL', 'KEEPTTL'], ['SET', 'k', 'v', 'KEEPTTL', 'EX', '10'], ['SET', 'k', 'v', 'EX', '10', 'KEEPTTL'],
      ['SET', 'k', 'v', 'PERSIST'], ['SET', 'k', 'v', 'EX'], ['SET', 'k', 'v', 'EXAT', '1', 'PXAT', '1'],
      ['SET', 'k', 'v2', 'NX', 'GET'], ['SET', 'k', 'v3', 'XX', 'GET', 'GET'], ['GET', 'k'],
      ['SET', 'k', 'v', 'EX', '0'], ['SET', 'k', 'v', 'EX', '-5'], ['SET', 'k', 'v', 'EX', 'ten'],
      ['SET', 'k', 'v', 'EX', '9223372036854775807'], ['SET', 'k', 'v', 'PX', '9223372036854775807'],
      ['SET', 'k', 'v', 'EXAT', '9223372036854775'], ['SET', 'k', 'v', 'EX', '1.5'],
      ['SET', 'k', 'v', 'nx\x00junk'], ['SET', 'n', 'v', 'nx\x00junk'], ['GET', 'n'], ['SET', 'k', 'v', 'n\x00'],
      ['SET', 'k', 'v', 'ex\x00', '100'], ['SET', 'k', 'v', 'ge'], ['set', 'k', 'v', 'gEt', 'xX'],
      ['SET', 'missing', 'v', 'XX', 'GET'], ['GET', 'missing'], ['SET', 'missing', 'v', 'NX', 'GET'],
    ]);
  });

  it('SETNX, SETEX, PSETEX, GETSET, GETDEL', async () => {
    await ctx.expectSame([
      ['SETNX', 'a', '1'], ['SETNX', 'a', '2'], ['GET', 'a'],
      ['SETEX', 'b', '100', 'v'], ['GET', 'b'], ['SETEX', 'b', '0', 'v'], ['SETEX', 'b', '-1', 'v'],
      ['SETEX', 'b', 'x', 'v'], ['SETEX', 'b', '9223372036854775807', 'v'], ['SETEX', 'b', '9223372036854775', 'v'],
      ['PSETEX', 'c', '100000', 'pv'], ['GET', 'c'], ['PSETEX', 'c', '0', 'v'], ['PSETEX', 'c', '1.5', 'v'],
      ['PSETEX', 'c', '9223372036854775807', 'v'], ['GET', 'c'],
      ['GETSET', 'd', 'new'], ['GETSET', 'd', 'newer'], ['GET', 'd'], ['GETSET', 'd', ''], ['GET', 'd'],
      ['GETDEL', 'd'], ['GETDEL', 'd'], ['GET', 'd'], ['GETDEL', 'nokey'],
      ['SET', 'e', '12345'], ['GETDEL', 'e'], ['STRLEN', 'e'],
    ]);
  });

  it('GETEX options and errors', async () => {
    const past = String(Math.floor(Date.now() / 1000) - 100);
    const pastMs = String(Date.now() - 100_000);
    const future = String(Math.floor(Date.now() / 1000) + 1000);
    await ctx.expectSame([
      ['GETEX', 'k'], ['GETEX', 'k', 'EX', 'abc'], ['GETEX', 'k', 'NX'], ['SET', 'k', 'v'],
      ['GETEX', 'k'], ['GETEX', 'k', 'EX', '100'], ['GETEX', 'k', 'PX', '100000'], ['GETEX', 'k', 'EXAT', future],
      ['GETEX', 'k', 'PXAT', future + '000'], ['GETEX', 'k', 'PERSIST'], ['GETEX', 'k', 'PERSIST', 'PERSIST'],
      ['GETEX', 'k', 'EX', '10', 'EX', '20'], ['GETEX', 'k', 'EX', '10', 'PX', '10'], ['GETEX', 'k', 'PERSIST', 'EX', '10'],
      ['GETEX', 'k', 'EX', '10', 'PERSIST'], ['GETEX', 'k', 'EX'], ['GETEX', 'k', 'KEEPTTL'], ['GETEX', 'k', 'GET'],
      ['GETEX', 'k', 'XX'], ['GETEX', 'k', 'EX', '0'], ['GETEX', 'k', 'EX', '-1'], ['GETEX', 'k', 'PX', 'x'],
      ['GETEX', 'k', 'EX', '9223372036854775807'], ['GETEX', 'k', 'EXAT', '9223372036854775'],
      ['GETEX', 'k', 'PXAT', '0'], ['GETEX', 'missing', 'EX', '0'], ['GETEX', 'missing', 'FOO'],
      ['GET', 'k'], ['GETEX', 'k', 'EXAT', past], ['GET', 'k'], ['GETEX', 'k'],
      ['SET', 'k2', 'v2'], ['GETEX', 'k2', 'PXAT', pastMs], ['GET', 'k2'],
      ['SET', 'k3', '42'], ['GETEX', 'k3', 'pxat', '1'], ['GET', 'k3'],
    ]);
  });

  it('GETEX / SET expiry observed through GET', async () => {
    const setup: Step[] = [
      ['SET', 'p1', 'v', 'PX', '300'], ['SET', 'p2', 'v', 'PX', '300'], ['SET', 'p3', 'v'], ['SET', 'p4', 'v', 'PX', '300'],
      ['GETEX', 'p1', 'PERSIST'], ['GETEX', 'p3', 'PX', '300'], ['SETEX', 'p5', '1000', 'v'], ['PSETEX', 'p6', '300', 'v'],
      ['SET', 'p7', 'v', 'PX', '300'], ['SET', 'p7', 'w', 'KEEPTTL'], ['SET', 'p8', 'v', 'PX', '300'], ['SET', 'p8', 'w'],
      ['SET', 'p9', '5', 'PX', '300'], ['INCR', 'p9'], ['APPEND', 'p4', 'x'], ['GETSET', 'p2', 'g'],
      ['SET', 'p10', 'abc', 'PX', '300'], ['SETRANGE', 'p10', '1', 'Z'], ['SET', 'p11', '1.5', 'PX', '300'],
      ['INCRBYFLOAT', 'p11', '1'], ['SET', 'p12', 'v', 'PX', '300'], ['GETEX', 'p12', 'EX', '100'],
    ];
    await ctx.expectSame(setup);
    await sleep(600);
    await ctx.expectSame([
      ['MGET', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10', 'p11', 'p12'],
      ['GETEX', 'p3'], ['STRLEN', 'p4'], ['GETRANGE', 'p9', '0', '-1'], ['INCR', 'p9'], ['APPEND', 'p10', 'x'],
    ]);
  });

  it('MSET, MGET, MSETNX on one shard and across shards', async () => {
    await ctx.expectSame([
      ['MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4'], ['MGET', 'a', 'b', 'c', 'd', 'e'],
      ['MGET', 'd', 'c', 'b', 'a', 'a', 'nope', 'd'],
      ['MSET', '{t}a', 'x', '{t}b', 'y', '{t}a', 'z'], ['MGET', '{t}a', '{t}b'],
      ['MSET', 'a', 'A', 'a', 'AA', 'b', 'B'], ['MGET', 'a', 'b'],
      ['MSETNX', 'n1', '1', 'n2', '2'], ['MSETNX', 'a', 'x', 'new1', 'y'], ['MGET', 'a', 'new1'],
      ['MSETNX', 'w', '1', 'x', '2', 'y', '3', 'z', '4'], ['MGET', 'w', 'x', 'y', 'z'],
      ['MSETNX', 'q1', '1', 'q2', '2', 'q3', '3', 'z', 'zz'], ['MGET', 'q1', 'q2', 'q3', 'z'],
      ['MSETNX', 'dup', '1', 'dup', '2'], ['GET', 'dup'],
      ['MSETNX', '{t}c', '1', '{t}d', '2'], ['MSETNX', '{t}c', '1', '{t}e', '2'], ['MGET', '{t}c', '{t}d', '{t}e'],
      ['MSET', 'big', 'v'.repeat(5000), 'c', ''], ['MGET', 'big', 'c'],
    ]);
  });

  it('MSET/MGET pipelined across shards keep order', async () => {
    const steps: Step[] = [];
    for (let i = 0; i < 30; i++) {
      steps.push(['MSET', `k${i}`, String(i), `k${i + 1}`, `v${i}`, 'a', `a${i}`, 'b', `b${i}`]);
      steps.push(['MGET', `k${i}`, `k${i + 1}`, 'a', 'b', 'c']);
      steps.push(['INCR', `k${i}`]);
    }
    await ctx.expectSame(steps);
  });

  it('APPEND and STRLEN', async () => {
    await ctx.expectSame([
      ['STRLEN', 'a'], ['APPEND', 'a', 'hello'], ['APPEND', 'a', ' world'], ['GET', 'a'], ['STRLEN', 'a'],
      ['APPEND', 'a', ''], ['STRLEN', 'a'], ['APPEND', 'n', '123'], ['APPEND', 'n', '45'], ['INCR', 'n'], ['GET', 'n'],
      ['APPEND', 'e', ''], ['STRLEN', 'e'], ['GET', 'e'], ['APPEND', 'bin', '\x00\x01\r\n'], ['STRLEN', 'bin'], ['GET', 'bin'],
      ['SET', 'big', 'x'.repeat(100)], ['APPEND', 'big', 'y'.repeat(100_000)], ['STRLEN', 'big'],
      ['GETRANGE', 'big', '95', '105'],
    ]);
  });

  it('values larger than a ring record (over 1 MB) in requests and replies', async () => {
    const big = 'Q'.repeat(1_200_000);
    await ctx.expectSame([
      ['SET', 'a', big], ['STRLEN', 'a'], ['APPEND', 'a', big], ['STRLEN', 'a'], ['GETRANGE', 'a', '1199990', '1200010'],
      ['MSET', 'b', big, 'c', 'small', 'd', big], ['MGET', 'b', 'c', 'd', 'a'], ['GETSET', 'c', big], ['GETDEL', 'c'],
      ['SETRANGE', 'e', '1100000', big.slice(0, 300_000)], ['STRLEN', 'e'], ['GETRANGE', 'e', '1099999', '1100001'],
      ['MSETNX', 'f', big, 'g', big], ['STRLEN', 'g'], ['SETEX', 'h', '100', big], ['GETEX', 'h', 'PERSIST'],
      ['LCS', 'tiny', 'b', 'LEN'], ['SET', 'tiny', 'xQx'], ['LCS', 'tiny', 'b', 'IDX', 'WITHMATCHLEN'],
    ]);
  });

  it('GETRANGE and SUBSTR edge offsets', async () => {
    const ranges = [
      ['0', '-1'], ['0', '0'], ['1', '3'], ['-3', '-1'], ['-1', '-3'], ['-100', '-1'], ['-100', '2'], ['5', '100'],
      ['10', '10'], ['11', '12'], ['100', '200'], ['3', '1'], ['-1', '-1'], ['-100', '-50'], ['-50', '-100'],
      ['0', I64_MAX], [I64_MIN, I64_MAX], [I64_MIN, '-1'], [I64_MAX, I64_MAX], [I64_MIN, I64_MIN],
      ['-9223372036854775807', I64_MIN], [I64_MIN, '-9223372036854775807'], ['-9007199254740993', '-9007199254740992'],
      ['-9007199254740992', '-9007199254740993'], ['2', '-2'], ['-2', '2'], ['0', '-11'], ['0', '-12'],
    ];
    await ctx.expectSame([
      ['SET', 's', 'Hello World'], ['SET', 'i', '-12345678'], ['SET', 'e', ''],
      ...forKeys(['s', 'i', 'e', 'missing'], (k) => ranges.map(([x, y]) => ['GETRANGE', k, x, y])),
      ['SUBSTR', 's', '0', '4'], ['SUBSTR', 's', '-5', '-1'], ['SUBSTR', 'missing', '0', '1'],
      ['GETRANGE', 's', 'a', '1'], ['GETRANGE', 's', '1', 'b'], ['GETRANGE', 's', '9223372036854775808', '1'],
      ['GETRANGE', 's', '1', '-9223372036854775809'], ['GETRANGE', 'missing', 'x', '1'], ['GETRANGE', 's', '1.0', '2'],
      ['GETRANGE', 's', ' 1', '2'], ['GETRANGE', 's', '01', '2'], ['GETRANGE', 's', '+1', '2'], ['SUBSTR', 's', '-0', '2'],
    ]);
    await ctx.expectSame([['GETRANGE', 'missing', '0', '-1'], ['SET', 'x', 'abc'], ['GETRANGE', 'x', '5', '1']], { resp3: true });
  });

  it('SETRANGE edge offsets and padding', async () => {
    await ctx.expectSame([
      ['SETRANGE', 'k', '0', 'hello'], ['GET', 'k'], ['SETRANGE', 'k', '3', 'LO WORLD'], ['GET', 'k'],
      ['SETRANGE', 'k', '15', '!'], ['GET', 'k'], ['STRLEN', 'k'], ['SETRANGE', 'k', '0', ''], ['SETRANGE', 'k', '1000', ''],
      ['STRLEN', 'k'], ['SETRANGE', 'm', '5', 'x'], ['GET', 'm'], ['SETRANGE', 'm2', '0', ''], ['GET', 'm2'],
      ['SETRANGE', 'm3', '100', ''], ['GET', 'm3'], ['SETRANGE', 'k', '-1', 'x'], ['SETRANGE', 'missing', '-1', ''],
      ['SETRANGE', 'k', 'abc', 'x'], ['SETRANGE', 'k', '1.5', 'x'], ['SETRANGE', 'k', I64_MIN, 'x'],
      ['SETRANGE', 'k', I64_MAX, 'x'], ['SETRANGE', 'k', I64_MAX, ''], ['SETRANGE', 'missing', I64_MAX, ''],
      ['SETRANGE', 'missing', I64_MAX, 'x'], ['SETRANGE', 'k', '536870912', 'x'], ['SETRANGE', 'k', '536870911', 'xy'],
      ['SETRANGE', 'missing', '536870912', 'x'], ['SETRANGE', 'missing', '9223372036854775808', 'x'],
      ['GET', 'missing'], ['SETRANGE', 'k', '9007199254740993', 'x'],
      ['SET', 'i', '12345'], ['SETRANGE', 'i', '1', '9'], ['GET', 'i'], ['INCR', 'i'], ['SETRANGE', 'i', '5', '\x00'],
      ['INCR', 'i'], ['STRLEN', 'i'],
      ['SETRANGE', 'pad', '100000', 'end'], ['STRLEN', 'pad'], ['GETRANGE', 'pad', '99998', '-1'], ['GET', 'pad'],
      ['SET', 'long', 'L'.repeat(3000)], ['SETRANGE', 'long', '1500', 'MIDDLE'], ['GET', 'long'],
    ]);
  });

  it('INCR, DECR, INCRBY, DECRBY: values, bounds, overflow, errors', async () => {
    await ctx.expectSame([
      ['INCR', 'n'], ['INCR', 'n'], ['DECR', 'n'], ['DECR', 'n'], ['DECR', 'n'], ['INCRBY', 'n', '100'], ['DECRBY', 'n', '50'],
      ['INCRBY', 'n', '-1000'], ['DECRBY', 'n', '-1000'], ['GET', 'n'],
      ['INCRBY', 'n', 'abc'], ['INCRBY', 'n', '1.5'], ['INCRBY', 'n', ''], ['INCRBY', 'n', ' 1'], ['INCRBY', 'n', '+1'],
      ['INCRBY', 'n', '01'], ['INCRBY', 'n', '-0'], ['INCRBY', 'n', '9223372036854775808'], ['DECRBY', 'n', 'x'],
      ['INCRBY', 'nokey', 'x'], ['GET', 'nokey'],
      ['SET', 'max', I64_MAX], ['INCR', 'max'], ['INCRBY', 'max', '0'], ['DECR', 'max'], ['INCRBY', 'max', '1'],
      ['SET', 'min', I64_MIN], ['DECR', 'min'], ['DECRBY', 'min', '1'], ['INCR', 'min'], ['DECRBY', 'min', '2'],
      ['DECRBY', 'x', I64_MIN], ['DECRBY', 'x', '-9223372036854775807'], ['DECRBY', 'x', '1'], ['DECRBY', 'x', '1'],
      ['INCRBY', 'y', I64_MIN], ['INCRBY', 'y', '-1'], ['INCRBY', 'y', I64_MAX], ['INCRBY', 'y', I64_MAX],
      ['INCRBY', 'y', '1'], ['GET', 'y'],
      ['SET', 's', '9007199254740991'], ['INCR', 's'], ['INCR', 's'], ['INCRBY', 's', '9007199254740993'], ['GET', 's'],
      ['DECRBY', 's', '18014398509481986'], ['DECRBY', 's', '1'], ['GET', 's'],
      ['SET', 't', '-9007199254740991'], ['DECR', 't'], ['DECRBY', 't', '9223372036854775000'], ['INCRBY', 't', '-9223372036854775000'],
      ['SET', 'f', '1.5'], ['INCR', 'f'], ['SET', 'f', ' 1'], ['INCR', 'f'], ['SET', 'f', '1 '], ['DECR', 'f'],
      ['SET', 'f', ''], ['INCR', 'f'], ['SET', 'f', '+1'], ['INCR', 'f'], ['SET', 'f', '01'], ['INCR', 'f'],
      ['SET', 'f', '-0'], ['INCR', 'f'], ['SET', 'f', '9223372036854775808'], ['INCR', 'f'], ['SET', 'f', 'abc'],
      ['DECRBY', 'f', '1'], ['SET', 'f', '-'], ['INCR', 'f'], ['SET', 'f', '0'], ['INCR', 'f'], ['SET', 'f', '-1'], ['INCR', 'f'],
      ['INCR', 'f'], ['GET', 'f'], ['SET', 'f', '1e3'], ['INCR', 'f'], ['SET', 'f', '0x10'], ['INCR', 'f'],
    ]);
  });

  it('INCR in place: carries, all nines, 18 and 19 digits, the TTL and encoding it keeps', async () => {
    const steps: string[][] = [];
    for (const v of ['0', '8', '9', '19', '99', '109', '1999', '2099', '999999', '99999999999999999',
      '999999999999999998', '999999999999999999', '1000000000000000000', '9223372036854775806', '-2', '-10', '10',
      '00', '1\x00', '1\r\n', '٣']) {
      steps.push(['SET', 'c', v, 'EX', '1000'], ['INCR', 'c'], ['INCR', 'c'], ['GET', 'c'], ['TTL', 'c'],
        ['OBJECT', 'ENCODING', 'c'], ['STRLEN', 'c']);
    }
    // A value APPEND left raw, then counted up through a carry.
    steps.push(['DEL', 'c'], ['APPEND', 'c', '98'], ['OBJECT', 'ENCODING', 'c'], ['INCR', 'c'], ['INCR', 'c'],
      ['OBJECT', 'ENCODING', 'c'], ['GET', 'c'], ['SETRANGE', 'c', '0', '7'], ['INCR', 'c'], ['GET', 'c']);
    await ctx.expectSame(steps);
    // The same sequence again as one pipeline (every step resets the key first).
    await ctx.expectSame([pipelined(steps)]);
  });

  it('INCRBYFLOAT: long double arithmetic and formatting', async () => {
    const steps: Step[] = [
      ['INCRBYFLOAT', 'f', '10.5'], ['INCRBYFLOAT', 'f', '0.1'], ['GET', 'f'],
      ['INCRBYFLOAT', 'g', '3e3'], ['INCRBYFLOAT', 'g', '-5.0e3'], ['INCRBYFLOAT', 'g', '1.0e-3'], ['GET', 'g'],
      ['INCRBYFLOAT', 'h', '0.1'], ['INCRBYFLOAT', 'h', '0.2'], ['INCRBYFLOAT', 'h', '0.3'], ['INCRBYFLOAT', 'h', '-0.6'],
      ['INCRBYFLOAT', 'i', '1000.1'], ['INCRBYFLOAT', 'j', '-0'], ['INCRBYFLOAT', 'j', '-0.0'], ['GET', 'j'],
      ['INCRBYFLOAT', 'k', '.5'], ['INCRBYFLOAT', 'k', '5.'], ['INCRBYFLOAT', 'k', '+1.25'], ['INCRBYFLOAT', 'k', '0x10'],
      ['INCRBYFLOAT', 'k', '0x1p-2'], ['INCRBYFLOAT', 'k', '1E2'], ['INCRBYFLOAT', 'k', '-1e-2'],
      ['INCRBYFLOAT', 'l', '1e308'], ['INCRBYFLOAT', 'l', '1e308'], ['STRLEN', 'l'], ['INCRBYFLOAT', 'l', '-2e308'],
      ['INCRBYFLOAT', 'm', '1e4000'], ['STRLEN', 'm'], ['INCRBYFLOAT', 'm', '1e4932'], ['INCRBYFLOAT', 'm', '1.2e4932'],
      ['INCRBYFLOAT', 'm2', '1e-5'], ['INCRBYFLOAT', 'm2', '1e-20'], ['INCRBYFLOAT', 'm3', '1e-4000'], ['GET', 'm3'],
      ['GET', 'm3'],
      ['INCRBYFLOAT', 'e', 'abc'], ['INCRBYFLOAT', 'e', ''], ['INCRBYFLOAT', 'e', ' 1'], ['INCRBYFLOAT', 'e', '1 '],
      ['INCRBYFLOAT', 'e', 'nan'], ['INCRBYFLOAT', 'e', 'inf'], ['INCRBYFLOAT', 'e', '-inf'], ['INCRBYFLOAT', 'e', 'Infinity'],
      ['INCRBYFLOAT', 'e', '1e5000'], ['INCRBYFLOAT', 'e', '1e-5000'], ['INCRBYFLOAT', 'e', '1,5'], ['INCRBYFLOAT', 'e', '0x'],
      ['INCRBYFLOAT', 'e', '1e'], ['GET', 'e'],
      ['SET', 'v', 'abc'], ['INCRBYFLOAT', 'v', '1'], ['INCRBYFLOAT', 'v', 'abc'], ['SET', 'v', ''], ['INCRBYFLOAT', 'v', '1'],
      ['SET', 'v', ' 2'], ['INCRBYFLOAT', 'v', '1'], ['SET', 'v', 'inf'], ['INCRBYFLOAT', 'v', '1'], ['INCRBYFLOAT', 'v', '-inf'],
      ['SET', 'v', '12'], ['INCRBYFLOAT', 'v', '0.5'], ['INCRBYFLOAT', 'v', '-12.5'], ['GET', 'v'],
      ['SET', 'v', I64_MAX], ['INCRBYFLOAT', 'v', '1'], ['SET', 'v', '1.7976931348623157e308'], ['INCRBYFLOAT', 'v', '0'],
      ['SET', 'v', '3.0e3'], ['INCRBYFLOAT', 'v', '0'], ['INCR', 'v'], ['INCRBYFLOAT', 'v', '2'], ['INCR', 'v'],
      ['SET', 'v', '5.0e3'], ['INCRBYFLOAT', 'v', '5.0e3'], ['INCRBYFLOAT', 'v', '1.1'], ['INCRBYFLOAT', 'v', '-10001.1'],
    ];
    const values = ['0.1', '0.2', '1.1', '2.675', '1e-7', '123456789.123456789', '3.14159265358979323846', '-7.25',
      '99999999999999999', '1e17', '1.5e-10', '0.30000000000000004', '7e22', '-1e-3', '4.35', '2.5e-300'];
    for (const v of values) {
      steps.push(['INCRBYFLOAT', 'acc', v], ['INCRBYFLOAT', `one:${v}`, v]);
    }
    await ctx.expectSame(steps);
  });

  it('LCS: string, LEN, IDX, MINMATCHLEN, WITHMATCHLEN, errors (same shard and across shards)', async () => {
    const pairs: Array<[string, string]> = [['s1', 's2'], ['{t}a', '{t}b'], ['s2', 's1'], ['{t}b', '{t}a']];
    const steps: Step[] = [
      ['MSET', 's1', 'ohmytext', 's2', 'mynewtext'], ['MSET', '{t}a', 'ohmytext', '{t}b', 'mynewtext'],
    ];
    for (const [x, y] of pairs) {
      steps.push(
        ['LCS', x, y], ['LCS', x, y, 'LEN'], ['LCS', x, y, 'IDX'], ['LCS', x, y, 'IDX', 'WITHMATCHLEN'],
        ['LCS', x, y, 'IDX', 'MINMATCHLEN', '4'], ['LCS', x, y, 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'],
        ['LCS', x, y, 'IDX', 'MINMATCHLEN', '-5'], ['LCS', x, y, 'MINMATCHLEN', '3'], ['LCS', x, y, 'LEN', 'WITHMATCHLEN'],
        ['LCS', x, y, 'LEN', 'IDX'], ['LCS', x, y, 'IDX', 'LEN'], ['LCS', x, y, 'FOO'], ['LCS', x, y, 'MINMATCHLEN'],
        ['LCS', x, y, 'MINMATCHLEN', 'x'], ['LCS', x, y, 'MINMATCHLEN', 'x', 'LEN', 'IDX'], ['LCS', x, y, 'len', 'len'],
        ['LCS', x, y, 'idx', 'minmatchlen', '9223372036854775807'], ['LCS', x, y, 'idx\x00zz'],
        ['LCS', x, 'missing'], ['LCS', 'missing', y, 'IDX'], ['LCS', 'missing', 'missing2', 'LEN'],
        ['LCS', x, x, 'IDX', 'WITHMATCHLEN'],
      );
    }
    steps.push(
      ['MSET', 'a', 'GTCACCTGCAGTGCACAGTAGACTACATGACAGAAGTA', 'b', 'ATGCACCTGAACAGTGCATTGCAGAATGGCCAGATTA'],
      ['LCS', 'a', 'b'], ['LCS', 'a', 'b', 'IDX', 'WITHMATCHLEN'], ['LCS', 'b', 'a', 'IDX', 'MINMATCHLEN', '2'],
      ['MSET', 'c', 'aaaaaaaaaa', 'd', 'aaa'], ['LCS', 'c', 'd', 'IDX', 'WITHMATCHLEN'], ['LCS', 'd', 'c', 'IDX'],
      ['SET', 'n1', '1234567'], ['SET', 'n2', '7654321'], ['LCS', 'n1', 'n2', 'IDX', 'WITHMATCHLEN'],
      ['SET', 'bin1', '\x00\x01\x02\xff'], ['SET', 'bin2', '\x02\x00\xff'], ['LCS', 'bin1', 'bin2'],
      ['SET', 'e', ''], ['LCS', 'e', 'a'], ['LCS', 'a', 'e', 'IDX'],
    );
    await ctx.expectSame(steps);
  });

  it('LCS in RESP3 (IDX is a map)', async () => {
    const steps: Step[] = [['MSET', 's1', 'ohmytext', 's2', 'mynewtext'], ['MSET', '{t}a', 'ohmytext', '{t}b', 'mynewtext']];
    for (const [x, y] of [['s1', 's2'], ['{t}a', '{t}b'], ['s2', 's1']]) {
      steps.push(['LCS', x, y], ['LCS', x, y, 'LEN'], ['LCS', x, y, 'IDX'], ['LCS', x, y, 'IDX', 'MINMATCHLEN', '3', 'WITHMATCHLEN'],
        ['LCS', x, 'missing', 'IDX'], ['LCS', x, y, 'LEN', 'IDX']);
    }
    await ctx.expectSame(steps, { resp3: true });
  });

  it('LCS of longer strings across shards', async () => {
    let x = '';
    let y = '';
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 700; i++) x += 'ACGT'[rnd() % 4];
    for (let i = 0; i < 650; i++) y += 'ACGT'[rnd() % 4];
    await ctx.expectSame([
      ['SET', 'a', x], ['SET', 'b', y], ['LCS', 'a', 'b'], ['LCS', 'a', 'b', 'LEN'],
      ['LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '5', 'WITHMATCHLEN'], ['LCS', 'b', 'a', 'IDX'],
    ]);
  });

  it('seeded random sequences over a small keyspace', async () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];
    const keys = ['a', 'b', 'c', 'd', '{t}a', '{t}b', 'k1', 'k2'];
    const values = ['', '0', '1', '-1', '12', '007', '1.5', '-2.25e2', 'abc', 'x'.repeat(50), I64_MAX, I64_MIN,
      '9007199254740993', '3e3', ' 1', 'inf', '10.5'];
    const ints = ['0', '1', '-1', '2', '-3', '100', '-100', '7', I64_MAX, I64_MIN, 'x', '1.5', '9007199254740992'];
    // Expire times long enough (or invalid) that no key expires during the run: timing must not matter.
    const ttls = ['1000', '100000', '0', '-3', 'x', I64_MAX, '1.5'];
    const floats = ['0', '0.1', '-0.1', '1e3', '-5.0e3', '1.0e-3', '2.5', 'abc', '1e400', '-1e-2', '.5'];
    const makers: Array<() => string[]> = [
      () => ['SET', pick(keys), pick(values)],
      () => ['SET', pick(keys), pick(values), pick(['NX', 'XX', 'GET', 'KEEPTTL'])],
      () => ['GET', pick(keys)],
      () => ['GETSET', pick(keys), pick(values)],
      () => ['GETDEL', pick(keys)],
      () => ['GETEX', pick(keys), ...pick([[], ['PERSIST'], ['EX', pick(ttls)], ['PX', pick(ttls)], ['EXAT', '1']])],
      () => ['SETNX', pick(keys), pick(values)],
      () => ['SETEX', pick(keys), pick(ttls), pick(values)],
      () => ['PSETEX', pick(keys), pick(ttls), pick(values)],
      () => ['MSET', pick(keys), pick(values), pick(keys), pick(values), pick(keys), pick(values)],
      () => ['MSETNX', pick(keys), pick(values), pick(keys), pick(values)],
      () => ['MGET', pick(keys), pick(keys), pick(keys), pick(keys)],
      () => ['APPEND', pick(keys), pick(values)],
      () => ['STRLEN', pick(keys)],
      () => ['GETRANGE', pick(keys), pick(ints), pick(ints)],
      () => ['SETRANGE', pick(keys), pick(['0', '1', '3', '10', '-1', '60']), pick(values)],
      () => ['INCR', pick(keys)],
      () => ['DECR', pick(keys)],
      () => ['INCRBY', pick(keys), pick(ints)],
      () => ['DECRBY', pick(keys), pick(ints)],
      () => ['INCRBYFLOAT', pick(keys), pick(floats)],
      () => ['LCS', pick(keys), pick(keys), ...pick([[], ['LEN'], ['IDX'], ['IDX', 'WITHMATCHLEN'], ['IDX', 'MINMATCHLEN', '2']])],
    ];
    const steps: Step[] = [];
    for (let i = 0; i < 1500; i++) steps.push(pick(makers)());
    steps.push(['MGET', ...keys]);
    await ctx.expectSame(steps);
    await ctx.expectSame(steps, { resp3: true });
  });

  it('RESP3 replies of the family', async () => {
    await ctx.expectSame([
      ['GETEX', 'nokey'], ['GETDEL', 'nokey'], ['GETSET', 'nokey', 'v'], ['MGET', 'nokey', 'a', 'b', 'nokey'],
      ['SET', 'x', 'v', 'NX'], ['SET', 'y', '1'], ['INCRBYFLOAT', 'y', '1.5'], ['INCRBY', 'y', '1'], ['INCR', 'z'],
      ['SET', 'z', 'q', 'XX', 'GET'], ['SET', 'w', 'q', 'XX', 'GET'], ['SETNX', 'z', '1'], ['MSETNX', 'a', '1', 'b', '2'],
      ['MSETNX', 'a', '1', 'b', '2'], ['LCS', 'a', 'b', 'IDX'],
    ], { resp3: true });
  });

  it('OBJECT ENCODING after each kind of write (when OBJECT is available)', async () => {
    const steps: Step[] = [
      ['SET', 'i', '123'], ['SET', 'e', 'abc'], ['SET', 'r', 'x'.repeat(45)], ['SET', 'e44', 'x'.repeat(44)],
      ['SET', 'neg', '-5'], ['SET', 'big', I64_MAX], ['SET', 'over', '9223372036854775808'], ['SET', 'lead', '012'],
      ['SET', 'l20', '12345678901234567890'],
      ['APPEND', 'i', '4'], ['APPEND', 'e', ''], ['APPEND', 'new', '77'], ['APPEND', 'newe', 'abc'],
      ['SETRANGE', 'sr', '0', '1'], ['SET', 'sr2', '12'], ['SETRANGE', 'sr2', '0', '3'], ['SETRANGE', 'sr2', '0', ''],
      ['INCR', 'n'], ['SET', 'n2', 'x'.repeat(3)], ['SET', 'n2', '10'], ['INCRBY', 'n2', '100000000000'],
      ['INCRBYFLOAT', 'fl', '3000'], ['INCRBYFLOAT', 'fl2', '1e100'], ['INCRBYFLOAT', 'fl3', '1.5'],
      ['GETSET', 'gs', '42'], ['GETSET', 'gs2', 'x'.repeat(50)], ['MSET', 'm1', '7', 'm2', 'seven', 'm3', 'y'.repeat(60)],
      ['MSETNX', 'mn1', '8', 'mn2', 'eight'], ['SETNX', 'snx', '9'], ['SETEX', 'sex', '100', '10'],
      ['PSETEX', 'psex', '100000', 'ten'], ['SET', 'g', '55'], ['GETEX', 'g', 'EX', '100'],
    ];
    const keys = ['i', 'e', 'r', 'e44', 'neg', 'big', 'over', 'lead', 'l20', 'new', 'newe', 'sr', 'sr2', 'n', 'n2', 'fl',
      'fl2', 'fl3', 'gs', 'gs2', 'm1', 'm2', 'm3', 'mn1', 'mn2', 'snx', 'sex', 'psex', 'g'];
    for (const k of keys) steps.push(['OBJECT', 'ENCODING', k]);
    await ctx.expectSame(steps);
  });

  it('keyspace hits and misses counted like Redis (when INFO is available)', async () => {
    const counters = async (target: 'sabre' | 'redis'): Promise<[number, number]> => {
      const [info] = await ctx.run(target, [['INFO', 'stats']]);
      const text = (info ?? Buffer.alloc(0)).toString('latin1');
      const hits = /keyspace_hits:(\d+)/.exec(text);
      const misses = /keyspace_misses:(\d+)/.exec(text);
      if (hits === null || misses === null) throw new Error(`no keyspace counters in INFO from ${target}`);
      return [Number(hits[1]), Number(misses[1])];
    };
    const steps: Step[] = [
      ['SET', 'a', '1'], ['SET', 'b', 'x', 'GET'], ['SET', 'c', 'y', 'NX'], ['GET', 'a'], ['GET', 'nope'],
      ['GETEX', 'a'], ['GETEX', 'nope'], ['GETEX', 'a', 'PERSIST'], ['GETDEL', 'c'], ['GETDEL', 'c'], ['GETSET', 'a', '2'],
      ['GETSET', 'new', '1'], ['MGET', 'a', 'b', 'c', 'd', 'nope'], ['MSET', 'a', '1', 'b', '2'], ['MSETNX', 'a', '1', 'q', '1'],
      ['SETNX', 'a', '1'], ['APPEND', 'a', 'x'], ['APPEND', 'z', 'x'], ['STRLEN', 'a'], ['STRLEN', 'nope'],
      ['GETRANGE', 'a', '0', '1'], ['GETRANGE', 'nope', '0', '1'], ['SUBSTR', 'a', '0', '1'], ['SETRANGE', 'a', '0', 'q'],
      ['INCR', 'n'], ['INCRBY', 'n', '2'], ['INCRBYFLOAT', 'n', '1.5'], ['LCS', 'a', 'b'], ['LCS', 'nope', 'a'],
      ['LCS', '{t}a', '{t}b'], ['SETEX', 'e', '100', 'v'], ['PSETEX', 'e', '100000', 'v'],
    ];
    const [sh0, sm0] = await counters('sabre');
    const [rh0, rm0] = await counters('redis');
    await ctx.expectSame(steps);
    const [sh1, sm1] = await counters('sabre');
    const [rh1, rm1] = await counters('redis');
    expect({ hits: sh1 - sh0, misses: sm1 - sm0 }).toEqual({ hits: rh1 - rh0, misses: rm1 - rm0 });
  });

  it('PTTL after GETEX / SET / INCR family (when PTTL is available)', async () => {
    // TTLs in whole seconds so the two servers' clocks cannot make them differ.
    await ctx.expectSame([
      ['SET', 'k', 'v'], ['TTL', 'k'], ['GETEX', 'k', 'EX', '100'], ['TTL', 'k'], ['GETEX', 'k', 'PERSIST'], ['TTL', 'k'],
      ['SETEX', 'k', '50', 'v'], ['TTL', 'k'], ['INCRBYFLOAT', 'k', '1'], ['SET', 'k', '1', 'KEEPTTL'], ['INCR', 'k'], ['TTL', 'k'],
      ['APPEND', 'k', '0'], ['TTL', 'k'], ['SETRANGE', 'k', '0', '9'], ['TTL', 'k'], ['GETSET', 'k', '1'], ['TTL', 'k'],
      ['SETEX', 'k', '50', 'v'], ['MSET', 'k', 'x'], ['TTL', 'k'], ['GETEX', 'missing', 'EX', '10'], ['TTL', 'missing'],
    ]);
  });
});

describeDifferential('strings: differential with proto-max-bulk-len 1mb', (ctx) => {
  it('APPEND / SETRANGE size limit and LCS transient memory limit', async () => {
    const half = 'h'.repeat(600_000);
    await ctx.expectSame([
      ['SET', 'k', half], ['APPEND', 'k', half], ['STRLEN', 'k'], ['APPEND', 'k', 'h'.repeat(448_576)], ['STRLEN', 'k'],
      ['APPEND', 'k', 'x'], ['APPEND', 'k', ''], ['STRLEN', 'k'],
      ['SETRANGE', 'n', '1048576', 'x'], ['SETRANGE', 'n', '1048575', 'x'], ['STRLEN', 'n'], ['SETRANGE', 'n', '1048575', 'xy'],
      ['SETRANGE', 'n', '5000000', ''], ['SETRANGE', 'missing', '1048576', 'x'], ['SETRANGE', 'missing', '1048576', ''],
      ['GET', 'missing'],
      ['SET', 'a', 'a'.repeat(600)], ['SET', 'b', 'b'.repeat(600)], ['LCS', 'a', 'b'], ['LCS', 'a', 'b', 'LEN'],
      ['SET', 'c', 'c'.repeat(510)], ['SET', 'd', 'cd'.repeat(255)], ['LCS', 'c', 'd', 'LEN'], ['LCS', 'c', 'd', 'IDX'],
      ['SET', '{t}a', 'a'.repeat(600)], ['SET', '{t}b', 'b'.repeat(600)], ['LCS', '{t}a', '{t}b', 'IDX'],
      ['LCS', 'a', 'missing'], ['LCS', 'a', 'b', 'FOO'], ['LCS', 'a', 'b', 'LEN', 'IDX'],
    ]);
  });
}, { sabreArgs: ['--proto-max-bulk-len', '1mb'], redisArgs: ['--proto-max-bulk-len', '1mb'] });
