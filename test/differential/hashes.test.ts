import { expect, it } from 'vitest';
import {
  BINARY_ARG, describeDifferential, expectKeysSpanFourShards, pipelined,
} from '../helpers/differential.ts';

// The hash family of Redis 7.0 against real redis-server, reply bytes
// compared, on a 4-shard Sabre. Keys a, b, c, d live on four different
// shards; {t}a and {t}b share one. Field expiry (7.4) is not in Redis 7.0:
// test/integration/hashes.test.ts covers it. Hashtable-encoded hashes list
// their fields in an order of their own (as Redis's dict does), so big hashes
// are compared through order-free replies (HLEN, HMGET, HEXISTS, sorted reads).

expectKeysSpanFourShards();

/** HSET key f0 v0 ... f(n-1) v(n-1). */
function fill(key: string, n: number, value = (i: number): string => `v${i}`): string[] {
  const out = ['HSET', key];
  for (let i = 0; i < n; i++) out.push(`f${i}`, value(i));
  return out;
}

describeDifferential('hashes: differential', (ctx) => {
  it('arity errors of every command', async () => {
    await ctx.expectSame([
      ['HSET'], ['HSET', 'a'], ['HSET', 'a', 'f'], ['HSET', 'a', 'f', 'v', 'g'], ['HMSET', 'a', 'f'], ['HMSET', 'a', 'f', 'v', 'g'],
      ['HSETNX', 'a', 'f'], ['HGET', 'a'], ['HMGET', 'a'], ['HGETALL'], ['HGETALL', 'a', 'b'], ['HDEL', 'a'], ['HEXISTS', 'a'],
      ['HLEN'], ['HSTRLEN', 'a'], ['HKEYS'], ['HVALS', 'a', 'b'], ['HINCRBY', 'a', 'f'], ['HINCRBYFLOAT', 'a', 'f'],
      ['HRANDFIELD'], ['HSCAN', 'a'], ['HLEN', 'a'], ['EXISTS', 'a'],
    ]);
  });

  it('HSET/HMSET/HSETNX/HGET/HMGET/HGETALL/HKEYS/HVALS, duplicates, binary and empty fields', async () => {
    await ctx.expectSame([
      ['HSET', 'a', 'f1', 'v1', 'f2', 'v2', 'f1', 'v3'], ['HGETALL', 'a'], ['HSET', 'a', 'f2', 'v2'], ['HSET', 'a', '', ''],
      ['HSET', 'a', BINARY_ARG, BINARY_ARG], ['HGET', 'a', BINARY_ARG], ['HGET', 'a', ''], ['HGET', 'a', 'nofield'], ['HGET', 'nokey', 'f'],
      ['HMSET', 'a', 'f3', 'x', 'f1', 'longer value here'], ['HMGET', 'a', 'f1', 'nofield', 'f3', '', 'f1'],
      ['HMGET', 'nokey', 'x', 'y'], ['HGETALL', 'a'], ['HKEYS', 'a'], ['HVALS', 'a'], ['HLEN', 'a'],
      ['HSETNX', 'a', 'f1', 'no'], ['HSETNX', 'a', 'new', 'yes'], ['HSETNX', 'b', 'f', 'v'], ['HGETALL', 'b'],
      ['HGETALL', 'nokey'], ['HKEYS', 'nokey'], ['HVALS', 'nokey'], ['HLEN', 'nokey'], ['TYPE', 'a'], ['OBJECT', 'ENCODING', 'a'],
      ['HSET', 'c', 'x', '1', 'x', '2', 'x', '3', 'y', '4', 'x', '5'], ['HGETALL', 'c'],
    ]);
  });

  it('HDEL, HEXISTS, HSTRLEN; an emptied hash loses its key', async () => {
    await ctx.expectSame([
      ['HSET', 'a', 'f1', 'v1', 'f2', '', 'f3', '12345'], ['HSTRLEN', 'a', 'f1'], ['HSTRLEN', 'a', 'f2'], ['HSTRLEN', 'a', 'f3'],
      ['HSTRLEN', 'a', 'no'], ['HSTRLEN', 'nokey', 'f'], ['HEXISTS', 'a', 'f1'], ['HEXISTS', 'a', 'no'], ['HEXISTS', 'nokey', 'f'],
      ['HDEL', 'a', 'no'], ['HDEL', 'a', 'f1', 'f1', 'no'], ['HGETALL', 'a'], ['HDEL', 'nokey', 'f'], ['HDEL', 'a', 'f2', 'f3', 'x'],
      ['EXISTS', 'a'], ['HLEN', 'a'], ['TYPE', 'a'],
    ]);
  });

  it('HINCRBY: errors, overflow, non-integer values', async () => {
    await ctx.expectSame([
      ['HINCRBY', 'a', 'n', '5'], ['HINCRBY', 'a', 'n', '-7'], ['HINCRBY', 'a', 'n', 'x'], ['HINCRBY', 'a', 'n', '1.5'],
      ['HINCRBY', 'a', 'n', '9223372036854775807'], ['HINCRBY', 'a', 'm', '9223372036854775807'], ['HINCRBY', 'a', 'm', '1'],
      ['HINCRBY', 'a', 'k', '-9223372036854775808'], ['HINCRBY', 'a', 'k', '-1'], ['HINCRBY', 'a', 'k', '9223372036854775807'],
      ['HINCRBY', 'a', 'n', '9223372036854775808'], ['HSET', 'a', 's', 'abc', 'sp', ' 1', 'big', '99999999999999999999', 'z', '010'],
      ['HINCRBY', 'a', 's', '1'], ['HINCRBY', 'a', 'sp', '1'], ['HINCRBY', 'a', 'big', '1'], ['HINCRBY', 'a', 'z', '1'],
      ['HINCRBY', 'a', '', '1'], ['HGETALL', 'a'], ['SET', 'str', 'x'], ['HINCRBY', 'str', 'f', '1'], ['HINCRBY', 'str', 'f', 'x'],
    ]);
  });

  it('HINCRBYFLOAT: Redis number formatting and errors', async () => {
    await ctx.expectSame([
      ['HINCRBYFLOAT', 'a', 'x', '10.5'], ['HINCRBYFLOAT', 'a', 'x', '0.1'], ['HINCRBYFLOAT', 'a', 'x', '-10.6'],
      ['HINCRBYFLOAT', 'a', 'y', '3.0e3'], ['HINCRBYFLOAT', 'a', 'y', '1e-5'], ['HINCRBYFLOAT', 'a', 'z', '5'],
      ['HINCRBYFLOAT', 'a', 'z', 'abc'], ['HINCRBYFLOAT', 'a', 'z', 'inf'], ['HINCRBYFLOAT', 'a', 'z', '-inf'],
      ['HINCRBYFLOAT', 'a', 'z', 'nan'], ['HINCRBYFLOAT', 'a', 'z', ''], ['HINCRBYFLOAT', 'a', 'z', ' 1'],
      ['HSET', 'a', 's', 'str', 'big', '1e308'], ['HINCRBYFLOAT', 'a', 's', '1'], ['HINCRBYFLOAT', 'a', 'big', '1e308'],
      ['HINCRBYFLOAT', 'a', 'big', '-1e308'], ['HINCRBYFLOAT', 'a', 'w', '1.23456789012345678'], ['HINCRBYFLOAT', 'a', 'i', '17179869184'],
      ['HINCRBYFLOAT', 'a', 'h', '0x10'], ['HMGET', 'a', 'x', 'y', 'z', 's', 'big', 'w', 'i', 'h'], ['HLEN', 'a'], ['SET', 'str', 'x'], ['HINCRBYFLOAT', 'str', 'f', '1'],
      ['HINCRBYFLOAT', 'nokey', 'f', 'bad'], ['EXISTS', 'nokey'],
    ]);
  });

  it('HRANDFIELD: deterministic cases, errors and RESP2 shapes', async () => {
    await ctx.expectSame([
      ['HRANDFIELD', 'nokey'], ['HRANDFIELD', 'nokey', '5'], ['HRANDFIELD', 'nokey', '-5', 'WITHVALUES'],
      ['HSET', 'a', 'only', 'one'], ['HRANDFIELD', 'a'], ['HRANDFIELD', 'a', '1'], ['HRANDFIELD', 'a', '-3'],
      ['HRANDFIELD', 'a', '-3', 'WITHVALUES'], ['HRANDFIELD', 'a', '0'], ['HRANDFIELD', 'a', '0', 'withvalues'],
      ['HSET', 'b', 'f1', 'v1', 'f2', 'v2', 'f3', 'v3'], ['HRANDFIELD', 'b', '3'], ['HRANDFIELD', 'b', '10', 'WITHVALUES'],
      ['HRANDFIELD', 'b', 'x'], ['HRANDFIELD', 'b', '1', 'bad'], ['HRANDFIELD', 'b', '1', 'WITHVALUES', 'x'],
      ['HRANDFIELD', 'b', '-9223372036854775808'], ['HRANDFIELD', 'b', '-9223372036854770000', 'WITHVALUES'],
      ['HRANDFIELD', 'b', '9223372036854770000', 'WITHVALUES'], ['HRANDFIELD', 'b', '9223372036854775808'],
      ['HRANDFIELD', 'nokey', 'x'], ['SET', 's', 'x'], ['HRANDFIELD', 's'], ['HRANDFIELD', 's', '1'],
    ]);
  });

  it('HSCAN on a listpack: MATCH, COUNT, cursor errors', async () => {
    await ctx.expectSame([
      ['HSET', 'a', 'foo', '1', 'bar', '2', 'baz', '3', BINARY_ARG, '4'], ['HSCAN', 'a', '0'], ['HSCAN', 'a', '0', 'MATCH', 'ba*'],
      ['HSCAN', 'a', '0', 'COUNT', '1'], ['HSCAN', 'a', '0', 'COUNT', '0'], ['HSCAN', 'a', '0', 'COUNT', 'x'],
      ['HSCAN', 'a', '0', 'MATCH'], ['HSCAN', 'a', '0', 'TYPE', 'hash'], ['HSCAN', 'a', 'x'], ['HSCAN', 'a', '-1'],
      ['HSCAN', 'nokey', '0'], ['HSCAN', 'nokey', '0', 'COUNT', '0'], ['HSCAN', 'nokey', 'bad'], ['HSCAN', 'a', '0', 'match', '*'],
      ['HSCAN', 'a', '0', 'NOVALUES'], ['SET', 's', 'x'], ['HSCAN', 's', '0'],
    ]);
  });

  it('WRONGTYPE both ways', async () => {
    const hashCmds = [
      ['HSET', 's', 'f', 'v'], ['HSETNX', 's', 'f', 'v'], ['HMSET', 's', 'f', 'v'], ['HGET', 's', 'f'], ['HMGET', 's', 'f'],
      ['HGETALL', 's'], ['HKEYS', 's'], ['HVALS', 's'], ['HDEL', 's', 'f'], ['HEXISTS', 's', 'f'], ['HLEN', 's'],
      ['HSTRLEN', 's', 'f'], ['HINCRBY', 's', 'f', '1'], ['HINCRBYFLOAT', 's', 'f', '1'], ['HRANDFIELD', 's'],
      ['HRANDFIELD', 's', '2', 'WITHVALUES'], ['HSCAN', 's', '0'],
    ];
    await ctx.expectSame([
      ['SET', 's', 'x'], ...hashCmds, ['RPUSH', 'l', 'x'], ...hashCmds.map((c) => [c[0], 'l', ...c.slice(2)]),
      ['HSET', 'h', 'f', 'v'], ['GET', 'h'], ['APPEND', 'h', 'x'], ['INCR', 'h'], ['STRLEN', 'h'], ['SETRANGE', 'h', '0', 'x'],
      ['GETRANGE', 'h', '0', '1'], ['GETBIT', 'h', '0'], ['SETBIT', 'h', '0', '1'], ['BITCOUNT', 'h'], ['LPUSH', 'h', 'x'],
      ['LRANGE', 'h', '0', '-1'], ['MGET', 'h', 's'], ['GETDEL', 'h'], ['TYPE', 'h'], ['HGET', 'h', 'f'],
    ]);
  });

  it('encodings: listpack past hash-max-listpack-entries and -value becomes hashtable', async () => {
    await ctx.expectSame([
      fill('a', 512), ['OBJECT', 'ENCODING', 'a'], ['HSET', 'a', 'f512', 'v'], ['OBJECT', 'ENCODING', 'a'], ['HLEN', 'a'],
      ['HSET', 'b', 'f', 'x'.repeat(64)], ['OBJECT', 'ENCODING', 'b'], ['HSET', 'b', 'g', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'b'],
      ['HSET', 'c', 'f'.repeat(65), 'x'], ['OBJECT', 'ENCODING', 'c'], ['HSETNX', 'd', 'f', 'v'], ['HSETNX', 'd', 'f', 'y'.repeat(100)],
      ['OBJECT', 'ENCODING', 'd'], ['HINCRBYFLOAT', '{t}a', 'f', '1'], ['OBJECT', 'ENCODING', '{t}a'],
      ['HSET', '{t}b', 'n', '1'], ['HINCRBYFLOAT', '{t}b', 'n', '0.0000000000000000000000000001'], ['OBJECT', 'ENCODING', '{t}b'],
      ['HGET', '{t}b', 'n'], ['HDEL', 'a', 'f512', 'f511'], ['OBJECT', 'ENCODING', 'a'], ['HLEN', 'a'],
      ['HMGET', 'a', 'f0', 'f5', 'f126', 'f511', 'f512'], ['HEXISTS', 'a', 'f100'], ['HSTRLEN', 'a', 'f99'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '4'], ['CONFIG', 'SET', 'hash-max-ziplist-value', '8'],
      ['CONFIG', 'GET', 'hash-max-listpack-entries'], ['CONFIG', 'GET', 'hash-max-ziplist-value'],
      fill('e', 4), ['OBJECT', 'ENCODING', 'e'], ['HSET', 'e', 'f4', 'v'], ['OBJECT', 'ENCODING', 'e'],
      ['HSET', '{t}c', 'f', '12345678'], ['OBJECT', 'ENCODING', '{t}c'], ['HSET', '{t}c', 'f', '123456789'], ['OBJECT', 'ENCODING', '{t}c'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '0'], ['HSET', 'z', 'f', 'v'], ['OBJECT', 'ENCODING', 'z'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '-1'], ['CONFIG', 'SET', 'hash-max-listpack-value', '1kb'],
      ['CONFIG', 'GET', 'hash-max-listpack-value'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'], ['CONFIG', 'SET', 'hash-max-listpack-value', '64'],
    ]);
  });

  it('big hashes (hashtable): reads, deletes, HINCRBY, order-free comparisons', async () => {
    const fields = Array.from({ length: 600 }, (_, i) => `f${i}`);
    await ctx.expectSame([
      fill('a', 600, (i) => (i % 3 === 0 ? String(i) : `value-${i}`)), ['OBJECT', 'ENCODING', 'a'], ['HLEN', 'a'],
      ['HMGET', 'a', ...fields, 'nofield'], ['HDEL', 'a', ...fields.slice(0, 300), 'nofield'], ['HLEN', 'a'],
      ['HMGET', 'a', ...fields], ['HINCRBY', 'a', 'f300', '5'], ['HINCRBY', 'a', 'f301', '5'], ['HINCRBYFLOAT', 'a', 'f303', '1.5'],
      ['HSETNX', 'a', 'f310', 'x'], ['HSETNX', 'a', 'f10', 'x'], ['HSTRLEN', 'a', 'f599'], ['HEXISTS', 'a', 'f1'],
      ['HRANDFIELD', 'a', '0'], ['HSET', 'a', 'f400', 'new value, longer than before'], ['HGET', 'a', 'f400'],
      ['HDEL', 'a', ...fields.slice(300)], ['EXISTS', 'a'],
    ]);
    // Full reads, sorted.
    const sorted = async (target: 'sabre' | 'redis'): Promise<string[]> => {
      await ctx.run(target, [fill('b', 700)]);
      const [keys, vals, all] = await ctx.run(target, [['HKEYS', 'b'], ['HVALS', 'b'], ['HGETALL', 'b']]);
      const lines = (b: Buffer): string[] => b.toString('latin1').split('\r\n').filter((l) => !l.startsWith('$')).sort();
      return [...lines(keys), '|', ...lines(vals), '|', ...lines(all)];
    };
    expect(await sorted('sabre')).toEqual(await sorted('redis'));
  });

  it('HSCAN of a hashtable returns every field exactly once over a full iteration', async () => {
    const collect = async (target: 'sabre' | 'redis'): Promise<string[]> => {
      await ctx.run(target, [fill('a', 1000)]);
      const seen: string[] = [];
      let cursor = '0';
      let rounds = 0;
      do {
        const [r] = await ctx.run(target, [['HSCAN', 'a', cursor, 'COUNT', '37', 'MATCH', 'f1*']]);
        const lines = r.toString('latin1').split('\r\n');
        cursor = lines[2];
        for (let i = 5; i < lines.length - 1; i += 4) seen.push(`${lines[i]}=${lines[i + 2]}`);
        rounds++;
      } while (cursor !== '0' && rounds < 10000);
      return seen.sort();
    };
    const mine = await collect('sabre');
    expect(new Set(mine).size).toBe(mine.length);
    expect(mine).toEqual(await collect('redis'));
  });

  it('keys of every type: TYPE, OBJECT ENCODING, COPY, RENAME, MOVE, SCAN TYPE, EXPIRE, cross-shard', async () => {
    await ctx.expectSame([
      ['HSET', 'a', 'f', 'v', 'g', 'w'], fill('b', 600), ['TYPE', 'a'], ['TYPE', 'b'], ['OBJECT', 'ENCODING', 'b'],
      ['COPY', 'a', 'c'], ['HGETALL', 'c'], ['COPY', 'a', '{t}a'], ['COPY', 'b', 'd'], ['HLEN', 'd'], ['OBJECT', 'ENCODING', 'd'],
      ['HSET', 'a', 'f', 'changed'], ['HGETALL', 'c'], ['RENAME', 'c', '{t}b'], ['HGETALL', '{t}b'], ['EXISTS', 'c'],
      ['RENAME', '{t}b', '{t}c'], ['HGETALL', '{t}c'], ['MOVE', '{t}c', '3'], ['EXISTS', '{t}c'], ['SELECT', '3'],
      ['HGETALL', '{t}c'], ['SELECT', '0'], ['EXPIRE', 'a', '100'], ['TTL', 'a'], ['PERSIST', 'a'],
      ['DBSIZE'], ['DEL', 'a', 'b', 'd', '{t}a'], ['DBSIZE'],
      ['HSET', 'x', 'f', 'v'], ['SET', 'y', 'v'], ['SCAN', '0', 'TYPE', 'hash'], ['SCAN', '0', 'TYPE', 'string'],
      ['UNLINK', 'x'], ['RANDOMKEY'],
    ]);
  });

  it('pipelined', async () => {
    await ctx.expectSame([
      pipelined([
        ['HSET', 'a', 'f1', 'v1'], ['HSET', 'b', 'f1', 'v1'], ['HGET', 'a', 'f1'], ['HINCRBY', 'c', 'n', '1'], ['HINCRBY', 'c', 'n', '1'],
        ['HMGET', 'b', 'f1', 'f2'], ['HDEL', 'a', 'f1'], ['EXISTS', 'a'], ['HGETALL', 'c'], ['HSET', 'd', 'x', '1', 'y', '2'],
        ['HKEYS', 'd'], ['HSET', 'a'], ['HLEN', 'd'], ['HGET', 'd', 'y'], ['SET', 'a', 'str'], ['HGET', 'a', 'f'],
      ]),
      pipelined(Array.from({ length: 200 }, (_, i) => ['HSET', `k${i % 7}`, `f${i}`, `v${i}`])),
      pipelined(Array.from({ length: 7 }, (_, i) => ['HLEN', `k${i}`])),
    ]);
  });

  it('COMMAND INFO of the hash commands', async () => {
    await ctx.expectSame([
      ['COMMAND', 'INFO', 'hset', 'hsetnx', 'hmset', 'hget', 'hmget', 'hgetall', 'hkeys', 'hvals', 'hdel', 'hexists', 'hlen',
        'hstrlen', 'hincrby', 'hincrbyfloat', 'hrandfield', 'hscan'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'hset', 'k', 'f', 'v'], ['COMMAND', 'GETKEYSANDFLAGS', 'hdel', 'k', 'f'],
    ]);
  });

  it('RESP3 replies', async () => {
    await ctx.expectSame([
      ['HSET', 'a', 'f1', 'v1', 'f2', 'v2'], ['HGETALL', 'a'], ['HGETALL', 'nokey'], ['HKEYS', 'a'], ['HVALS', 'a'],
      ['HGET', 'a', 'no'], ['HMGET', 'a', 'f1', 'no'], ['HRANDFIELD', 'nokey'], ['HRANDFIELD', 'nokey', '1'],
      ['HRANDFIELD', 'a', '5', 'WITHVALUES'], ['HRANDFIELD', 'a', '5'], ['HSET', 'b', 'only', 'one'],
      ['HRANDFIELD', 'b', '-3', 'WITHVALUES'], ['HRANDFIELD', 'b', '1', 'WITHVALUES'], ['HSCAN', 'a', '0'],
      ['HINCRBYFLOAT', 'a', 'x', '1.5'], ['HSCAN', 'nokey', '0'],
    ], { resp3: true });
  });
});
