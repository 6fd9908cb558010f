import { expect, it } from 'vitest';
import { shardOfKey } from '../helpers/suites.ts';
import { describeDifferential, encodeCommand, type Step } from '../helpers/differential.ts';

// The sorted-set family against real redis-server 7.0, reply bytes compared,
// on a 4-shard Sabre. Keys a, b, c, d live on four different shards; {t}a,
// {t}b and {t}c share one, so the multi-key commands run both coordinated
// (inputs shipped to one shard) and on one shard.

const BIN = '\x00\xff\r\n\x01bin';

it('test keys really span four shards (guard for the cross-shard cases)', () => {
  const shardOf = (k: string): number => shardOfKey(k, 4);
  expect(new Set(['a', 'b', 'c', 'd'].map(shardOf)).size).toBe(4);
  expect(shardOf('{t}a')).toBe(shardOf('{t}b'));
});

function pipelined(steps: string[][]): Step {
  return { send: Buffer.concat(steps.map((s) => encodeCommand(s))), replies: steps.length };
}

/** ZADD arguments for n members m0..m(n-1) with scores i * step. */
function many(key: string, n: number, step = 1, prefix = 'm'): string[] {
  const out = ['ZADD', key];
  for (let i = 0; i < n; i++) out.push(String(i * step), `${prefix}${i}`);
  return out;
}

const SCORES = ['0', '-0', '1', '-1', '1.1', '0.1', '1e300', '-1e-300', '3.0000000000000004', '123456789012345678',
  '1e17', '99999999999999999', '0.30000000000000004', '5e-324', '1.7976931348623157e308', 'inf', '-inf', '+inf', '0x1p3', '.5', '5.'];

describeDifferential('zsets: differential', (ctx) => {
  it('arity errors of every command', async () => {
    await ctx.expectSame([
      ['ZADD', 'a'], ['ZADD', 'a', '1'], ['ZINCRBY', 'a', '1'], ['ZREM', 'a'], ['ZCARD'], ['ZCOUNT', 'a', '1'], ['ZLEXCOUNT', 'a', '-'],
      ['ZSCORE', 'a'], ['ZMSCORE', 'a'], ['ZRANK', 'a'], ['ZREVRANK', 'a', 'b', 'c'], ['ZRANGE', 'a', '0'], ['ZRANGESTORE', 'd', 'a', '0'],
      ['ZREVRANGE', 'a', '0'], ['ZRANGEBYSCORE', 'a', '0'], ['ZREVRANGEBYSCORE', 'a', '0'], ['ZRANGEBYLEX', 'a', '-'],
      ['ZREVRANGEBYLEX', 'a', '+'], ['ZREMRANGEBYRANK', 'a', '0'], ['ZREMRANGEBYSCORE', 'a', '0'], ['ZREMRANGEBYLEX', 'a', '-'],
      ['ZPOPMIN'], ['ZPOPMAX'], ['ZMPOP', '1', 'a'], ['ZRANDMEMBER'], ['ZUNION', '1'], ['ZINTER', '1'], ['ZDIFF', '1'],
      ['ZUNIONSTORE', 'd', '1'], ['ZINTERSTORE', 'd', '1'], ['ZDIFFSTORE', 'd', '1'], ['ZINTERCARD', '1'], ['ZSCAN', 'a'],
    ]);
  });

  it('ZADD flags, CH, INCR, their errors; scores printed as Redis prints them', async () => {
    const steps: string[][] = [];
    for (const s of SCORES) steps.push(['ZADD', 'a', s, `s${s}`], ['ZSCORE', 'a', `s${s}`]);
    await ctx.expectSame([
      ...steps, ['ZRANGE', 'a', '0', '-1', 'WITHSCORES'],
      ['ZADD', 'b', '1', 'x', '2', 'y'], ['ZADD', 'b', 'NX', '5', 'x', '3', 'z'], ['ZADD', 'b', 'XX', '5', 'x', '3', 'w'],
      ['ZADD', 'b', 'XX', 'CH', '6', 'x', '2', 'y'], ['ZADD', 'b', 'GT', 'CH', '1', 'x', '9', 'y', '4', 'v'],
      ['ZADD', 'b', 'LT', 'CH', '1', 'x', '10', 'y'], ['ZADD', 'b', 'GT', 'XX', 'CH', '100', 'x', '1', 'nope'],
      ['ZADD', 'b', 'NX', 'XX', '1', 'x'], ['ZADD', 'b', 'GT', 'LT', '1', 'x'], ['ZADD', 'b', 'NX', 'GT', '1', 'x'],
      ['ZADD', 'b', 'INCR', '1', 'x', '2', 'y'], ['ZADD', 'b', 'INCR', '2.5', 'x'], ['ZADD', 'b', 'INCR', 'NX', '1', 'x'],
      ['ZADD', 'b', 'INCR', 'XX', '1', 'newm'], ['ZADD', 'b', 'INCR', 'GT', '-1', 'x'], ['ZADD', 'b', 'INCR', 'LT', '-1', 'x'],
      ['ZADD', 'b', 'x', 'y'], ['ZADD', 'b', '1', 'x', '2'], ['ZADD', 'b', 'nan', 'x'], ['ZADD', 'b', '1', 'x', 'NaN', 'y'],
      ['ZADD', 'b', ' 1', 'x'], ['ZADD', 'b', '1 ', 'x'], ['ZADD', 'b', '', 'x'], ['ZADD', 'b', '1e400', 'x'], ['ZADD', 'b', '1e-400', 'x'],
      ['ZADD', 'b', 'INCR', 'inf', 'inf1'], ['ZADD', 'b', 'INCR', '-inf', 'inf1'], ['ZINCRBY', 'b', '-inf', 'inf1'],
      ['ZINCRBY', 'b', 'inf', 'inf1'], ['ZINCRBY', 'b', 'x', 'y'], ['ZINCRBY', 'b', '1.5', 'fresh'], ['ZINCRBY', 'nokey', '0.1', 'm'],
      ['ZINCRBY', 'nokey', '0.2', 'm'], ['ZADD', 'nokey2', 'XX', '1', 'm'], ['ZADD', 'nokey2', 'XX', 'INCR', '1', 'm'], ['EXISTS', 'nokey2'],
      ['ZADD', 'b', 'ch', '1', BIN, '2', ''], ['ZSCORE', 'b', BIN], ['ZSCORE', 'b', ''], ['ZRANGE', 'b', '0', '-1', 'WITHSCORES'],
      ['ZADD', 'b', '0', 'x', '0', 'x', '1', 'x'], ['ZSCORE', 'b', 'x'], ['ZADD', 'b', '-0', 'x'], ['ZSCORE', 'b', 'x'],
      ['ZMSCORE', 'b', 'x', 'nope', BIN], ['ZMSCORE', 'nokey', 'a', 'b'], ['ZCARD', 'b'], ['ZCARD', 'nokey'],
    ]);
  });

  it('WRONGTYPE both ways, and string commands on a zset', async () => {
    await ctx.expectSame([
      ['SET', 's', 'v'], ['RPUSH', 'l', 'x'], ['ZADD', 'z', '1', 'm'],
      ['ZADD', 's', '1', 'm'], ['ZINCRBY', 's', '1', 'm'], ['ZREM', 's', 'm'], ['ZCARD', 's'], ['ZCOUNT', 's', '0', '1'],
      ['ZLEXCOUNT', 's', '-', '+'], ['ZSCORE', 'l', 'm'], ['ZMSCORE', 'l', 'm'], ['ZRANK', 's', 'm'], ['ZREVRANK', 's', 'm'],
      ['ZRANGE', 's', '0', '-1'], ['ZRANGESTORE', 'd', 's', '0', '-1'], ['ZRANGESTORE', 's', 'z', '0', '-1'], ['GET', 's'],
      ['ZREVRANGE', 's', '0', '-1'], ['ZRANGEBYSCORE', 's', '0', '1'], ['ZRANGEBYLEX', 's', '-', '+'], ['ZREMRANGEBYRANK', 's', '0', '1'],
      ['ZREMRANGEBYSCORE', 's', '0', '1'], ['ZREMRANGEBYLEX', 's', '-', '+'], ['ZPOPMIN', 's'], ['ZPOPMAX', 'l', '2'],
      ['ZMPOP', '2', 'nokey', 's', 'MIN'], ['ZMPOP', '2', 'z', 's', 'MIN'], ['ZRANDMEMBER', 's'], ['ZRANDMEMBER', 's', '2'],
      ['ZUNION', '2', 'z', 's'], ['ZINTER', '2', 'z', 'l'], ['ZDIFF', '2', 'z', 's'], ['ZUNIONSTORE', 'd', '2', 'z', 's'],
      ['ZINTERCARD', '2', 'z', 's'], ['ZSCAN', 's', '0'], ['ZADD', 'z', '2', 'n'],
      ['GET', 'z'], ['APPEND', 'z', 'x'], ['INCR', 'z'], ['STRLEN', 'z'], ['SETBIT', 'z', '1', '1'], ['LPUSH', 'z', 'x'], ['MGET', 'z', 's'],
      ['TYPE', 'z'], ['OBJECT', 'ENCODING', 'z'], ['SET', 'z', 'over'], ['TYPE', 'z'],
    ]);
  });

  it('ranks, counts and ranges by rank, score and lex (listpack and skiplist)', async () => {
    for (const big of [false, true]) {
      const n = big ? 300 : 20;
      const lex = ['ZADD', 'c'];
      for (let i = 0; i < n; i++) lex.push('0', `k${String(i).padStart(3, '0')}`);
      await ctx.expectSame([
        many('a', n, 0.5), lex, ['OBJECT', 'ENCODING', 'a'], ['OBJECT', 'ENCODING', 'c'],
        ['ZRANK', 'a', 'm0'], ['ZRANK', 'a', 'm7'], ['ZREVRANK', 'a', 'm7'], ['ZRANK', 'a', 'nope'], ['ZRANK', 'nokey', 'm'],
        ['ZCOUNT', 'a', '-inf', '+inf'], ['ZCOUNT', 'a', '(1', '3'], ['ZCOUNT', 'a', '1', '(3'], ['ZCOUNT', 'a', '(1', '(1.5'],
        ['ZCOUNT', 'a', '5', '1'], ['ZCOUNT', 'a', 'x', '1'], ['ZCOUNT', 'a', '1', 'nan'], ['ZCOUNT', 'a', '((1', '2'], ['ZCOUNT', 'nokey', '0', '1'],
        ['ZRANGE', 'a', '0', '4'], ['ZRANGE', 'a', '-3', '-1', 'WITHSCORES'], ['ZRANGE', 'a', '5', '2'], ['ZRANGE', 'a', '-1000', '1000000'],
        ['ZRANGE', 'a', '0', '9223372036854775807'], ['ZRANGE', 'a', '-9223372036854775808', '1'], ['ZRANGE', 'a', 'x', '1'],
        ['ZRANGE', 'a', '2', '5', 'REV', 'WITHSCORES'], ['ZREVRANGE', 'a', '0', '3', 'WITHSCORES'], ['ZREVRANGE', 'a', '-2', '-1'],
        ['ZRANGE', 'a', '1', '3', 'BYSCORE'], ['ZRANGE', 'a', '(1', '(3', 'BYSCORE', 'WITHSCORES'], ['ZRANGE', 'a', '3', '1', 'BYSCORE', 'REV'],
        ['ZRANGE', 'a', '-inf', '+inf', 'BYSCORE', 'LIMIT', '2', '3'], ['ZRANGE', 'a', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '2', '3'],
        ['ZRANGE', 'a', '0', '-1', 'LIMIT', '0', '1'], ['ZRANGE', 'a', '-', '+', 'BYLEX', 'WITHSCORES'], ['ZRANGE', 'a', '0', '1', 'BYSCORE', 'BYLEX'],
        ['ZRANGE', 'a', '0', '1', 'REV', 'REV'], ['ZRANGE', 'a', '0', '1', 'LIMIT', '0'], ['ZRANGE', 'a', '0', '1', 'BYSCORE', 'LIMIT', 'x', '1'],
        ['ZRANGEBYSCORE', 'a', '-inf', '2', 'WITHSCORES'], ['ZRANGEBYSCORE', 'a', '(0', '(2'], ['ZRANGEBYSCORE', 'a', '2', '1'],
        ['ZRANGEBYSCORE', 'a', '-inf', 'inf', 'LIMIT', '-1', '2'], ['ZRANGEBYSCORE', 'a', '-inf', 'inf', 'LIMIT', '3', '-1'],
        ['ZRANGEBYSCORE', 'a', '-inf', 'inf', 'LIMIT', '3', '0'], ['ZRANGEBYSCORE', 'a', '-inf', 'inf', 'LIMIT', String(n), '5'],
        ['ZRANGEBYSCORE', 'a', '-inf', 'inf', 'LIMIT', String(n - 1), '5'], ['ZRANGEBYSCORE', 'a', '1', '5', 'LIMIT', '1', '2', 'LIMIT', '0', '1'],
        ['ZRANGEBYSCORE', 'a', '1', '5', 'LIMIT', '1'], ['ZRANGEBYSCORE', 'a', '1', '5', 'WITHSCORES', 'WITHSCORES'], ['ZRANGEBYSCORE', 'a', '1', '5', 'REV'],
        ['ZRANGEBYSCORE', 'a', '', '1'], ['ZRANGEBYSCORE', 'a', '(', '1'], ['ZRANGEBYSCORE', 'a', ' 1', '2'], ['ZRANGEBYSCORE', 'a', '1 ', '2'],
        ['ZRANGEBYSCORE', 'a', '1e400', 'inf'], ['ZRANGEBYSCORE', 'a', '-1e400', '0'], ['ZRANGEBYSCORE', 'a', '0x1', '0x2'],
        ['ZREVRANGEBYSCORE', 'a', '3', '1', 'WITHSCORES'], ['ZREVRANGEBYSCORE', 'a', '(3', '(1', 'LIMIT', '1', '1'], ['ZREVRANGEBYSCORE', 'a', '1', '3'],
        ['ZRANGEBYLEX', 'c', '-', '+', 'LIMIT', '0', '5'], ['ZRANGEBYLEX', 'c', '[k005', '(k010'], ['ZRANGEBYLEX', 'c', '(k005', '[k010'],
        ['ZRANGEBYLEX', 'c', '+', '-'], ['ZRANGEBYLEX', 'c', '-', '-'], ['ZRANGEBYLEX', 'c', '+', '+'], ['ZRANGEBYLEX', 'c', '[k', '(l'],
        ['ZRANGEBYLEX', 'c', 'k1', '+'], ['ZRANGEBYLEX', 'c', '[', '+', 'LIMIT', '2', '2'], ['ZRANGEBYLEX', 'c', '(', '(k002'],
        ['ZREVRANGEBYLEX', 'c', '(k010', '[k005'], ['ZREVRANGEBYLEX', 'c', '+', '-', 'LIMIT', '1', '3'], ['ZREVRANGEBYLEX', 'c', '-', '+'],
        ['ZRANGE', 'c', '[k010', '[k003', 'BYLEX', 'REV', 'LIMIT', '1', '2'], ['ZLEXCOUNT', 'c', '-', '+'], ['ZLEXCOUNT', 'c', '[k001', '(k004'],
        ['ZLEXCOUNT', 'c', '(k004', '[k001'], ['ZLEXCOUNT', 'c', 'x', '+'], ['ZLEXCOUNT', 'nokey', '-', '+'],
        ['ZRANGESTORE', '{t}x', '{t}y', '0', '-1'], ['ZRANGE', 'nokey', '0', '-1'], ['ZRANGE', 'nokey', 'x', '1'], ['DEL', 'a', 'c'],
      ]);
    }
  });

  it('removals by rank, score and lex; an emptied set loses its key', async () => {
    await ctx.expectSame([
      many('a', 30), ['ZREMRANGEBYRANK', 'a', '0', '2'], ['ZREMRANGEBYRANK', 'a', '-2', '-1'], ['ZREMRANGEBYRANK', 'a', '10', '5'],
      ['ZREMRANGEBYRANK', 'a', 'x', '1'], ['ZRANGE', 'a', '0', '-1'], ['ZREMRANGEBYSCORE', 'a', '(5', '8'], ['ZREMRANGEBYSCORE', 'a', '20', '10'],
      ['ZREMRANGEBYSCORE', 'a', 'x', '1'], ['ZRANGE', 'a', '0', '-1', 'WITHSCORES'], ['ZREMRANGEBYRANK', 'a', '0', '-1'], ['EXISTS', 'a'],
      ['ZADD', 'b', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e'], ['ZREMRANGEBYLEX', 'b', '(a', '[c'], ['ZREMRANGEBYLEX', 'b', 'a', '+'],
      ['ZRANGE', 'b', '0', '-1'], ['ZREMRANGEBYLEX', 'b', '-', '+'], ['EXISTS', 'b'], ['ZREMRANGEBYRANK', 'nokey', '0', '1'],
      ['ZADD', 'c', '1', 'a', '2', 'b'], ['ZREM', 'c', 'a', 'a', 'nope'], ['ZREM', 'c', 'b'], ['EXISTS', 'c'], ['ZREM', 'nokey', 'a'],
      many('d', 200), ['ZREMRANGEBYSCORE', 'd', '-inf', '150'], ['ZCARD', 'd'], ['OBJECT', 'ENCODING', 'd'], ['ZREMRANGEBYSCORE', 'd', '-inf', 'inf'],
      ['EXISTS', 'd'],
    ]);
  });

  it('ZPOPMIN, ZPOPMAX, ZMPOP (one shard and across shards)', async () => {
    await ctx.expectSame([
      many('a', 10), ['ZPOPMIN', 'a'], ['ZPOPMAX', 'a'], ['ZPOPMIN', 'a', '2'], ['ZPOPMAX', 'a', '0'], ['ZPOPMIN', 'a', '-1'],
      ['ZPOPMIN', 'a', 'x'], ['ZPOPMIN', 'a', '1', '2'], ['ZPOPMIN', 'nokey'], ['ZPOPMIN', 'nokey', '0'], ['ZPOPMIN', 'nokey', '3'],
      ['ZPOPMAX', 'a', '100'], ['EXISTS', 'a'],
      many('b', 3), many('{t}a', 3), ['ZMPOP', '3', 'c', 'nokey', 'b', 'MIN'], ['ZMPOP', '2', 'b', 'c', 'MAX', 'COUNT', '10'],
      ['ZMPOP', '2', 'b', 'c', 'MAX'], ['ZMPOP', '1', '{t}a', 'MAX', 'COUNT', '2'], ['ZMPOP', '2', '{t}b', '{t}a', 'min', 'count', '5'],
      ['ZMPOP', '0', 'a', 'MIN'], ['ZMPOP', '-1', 'a', 'MIN'], ['ZMPOP', 'x', 'a', 'MIN'], ['ZMPOP', '3', 'a', 'MIN'], ['ZMPOP', '1', 'a', 'MID'],
      ['ZMPOP', '1', 'a', 'MIN', 'COUNT', '0'], ['ZMPOP', '1', 'a', 'MIN', 'COUNT', '-1'], ['ZMPOP', '1', 'a', 'MIN', 'COUNT'],
      ['ZMPOP', '1', 'a', 'MIN', 'COUNT', '1', 'COUNT', '1'], ['ZMPOP', '1', 'a', 'MIN', 'foo'], ['EXISTS', 'b', '{t}a'],
    ]);
  });

  it('ZUNION, ZINTER, ZDIFF and STORE forms: weights, aggregates, inf + -inf, across shards', async () => {
    const setup: string[][] = [
      ['ZADD', 'a', '1', 'x', '2', 'y', '3', 'z', 'inf', 'i', '-inf', 'j'], ['ZADD', 'b', '10', 'y', '20', 'z', '30', 'w', '-inf', 'i', 'inf', 'j'],
      ['ZADD', 'c', '0.1', 'x', '0.2', 'y'], ['ZADD', '{t}a', '1', 'x', '2', 'y', '3', 'z'], ['ZADD', '{t}b', '5', 'y', '6', 'q'],
    ];
    const ops: string[][] = [];
    for (const [k1, k2, k3] of [['a', 'b', 'c'], ['{t}a', '{t}b', '{t}a']]) {
      for (const op of ['ZUNION', 'ZINTER']) {
        ops.push(
          [op, '2', k1, k2, 'WITHSCORES'], [op, '3', k1, k2, k3, 'WITHSCORES'], [op, '2', k1, k2, 'WEIGHTS', '2', '0.5', 'WITHSCORES'],
          [op, '2', k1, k2, 'AGGREGATE', 'MIN', 'WITHSCORES'], [op, '2', k1, k2, 'AGGREGATE', 'MAX', 'WITHSCORES'],
          [op, '2', k1, k2, 'WEIGHTS', '0', 'inf', 'WITHSCORES'], [op, '2', k1, 'nokey', 'WITHSCORES'], [op, '1', k1],
          [op, '2', k1, k2, 'WEIGHTS', '1'], [op, '2', k1, k2, 'WEIGHTS', '1', 'x'], [op, '2', k1, k2, 'AGGREGATE', 'AVG'],
          [op, '2', k1, k2, 'AGGREGATE'], [op, '2', k1, k2, 'WITHSCORES', 'WITHSCORES'], [op, '2', k1, k2, 'LIMIT', '1'],
          [`${op}STORE`, 'dst', '2', k1, k2], ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'], [`${op}STORE`, '{t}d', '3', k1, k2, k3, 'WEIGHTS', '1', '2', '3'],
          ['ZRANGE', '{t}d', '0', '-1', 'WITHSCORES'], [`${op}STORE`, 'dst', '2', k1, k2, 'WITHSCORES'], [`${op}STORE`, k1, '2', k1, k2],
        );
      }
      ops.push(
        ['ZDIFF', '2', k1, k2, 'WITHSCORES'], ['ZDIFF', '3', k1, k2, k3], ['ZDIFF', '1', k1, 'WITHSCORES'], ['ZDIFF', '2', 'nokey', k1],
        ['ZDIFF', '2', k1, k2, 'WEIGHTS', '1', '1'], ['ZDIFF', '2', k1, k2, 'AGGREGATE', 'SUM'], ['ZDIFFSTORE', 'dst', '2', k1, k2],
        ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'], ['ZDIFFSTORE', 'dst', '2', k1, k1], ['EXISTS', 'dst'], ['ZDIFFSTORE', 'dst', '1', 'nokey'],
        ['ZINTERCARD', '2', k1, k2], ['ZINTERCARD', '2', k1, k2, 'LIMIT', '1'], ['ZINTERCARD', '2', k1, k2, 'LIMIT', '0'],
        ['ZINTERCARD', '2', k1, k2, 'LIMIT', '-1'], ['ZINTERCARD', '2', k1, k2, 'LIMIT', 'x'], ['ZINTERCARD', '3', k1, k2],
        ['ZINTERCARD', '2', k1, 'nokey'], ['ZINTERSTORE', 'dst', '2', k1, 'nokey'], ['EXISTS', 'dst'],
      );
    }
    await ctx.expectSame([
      ...setup, ...ops,
      ['ZUNION', '0', 'a'], ['ZUNION', '-1', 'a'], ['ZUNION', 'x', 'a'], ['ZUNIONSTORE', 'd', '0', 'a'], ['ZINTERCARD', '0', 'a'],
      ['ZUNION', '3', 'a', 'b'], ['ZUNIONSTORE', 'd', '5', 'a'],
    ]);
  });

  it('ZRANGESTORE on one shard and across shards', async () => {
    await ctx.expectSame([
      many('a', 20), many('{t}a', 20),
      ['ZRANGESTORE', 'b', 'a', '0', '4'], ['ZRANGE', 'b', '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', 'b', 'a', '5', '1', 'BYSCORE', 'REV', 'LIMIT', '1', '2'],
      ['ZRANGE', 'b', '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', 'b', 'a', '[m1', '(m2', 'BYLEX'], ['ZRANGE', 'b', '0', '-1'],
      ['ZRANGESTORE', 'b', 'a', '100', '200'], ['EXISTS', 'b'], ['ZRANGESTORE', 'b', 'nokey', '0', '-1'], ['ZRANGESTORE', 'b', 'a', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'b', 'a', '0', '-1', 'LIMIT', '0', '1'], ['ZRANGESTORE', '{t}b', '{t}a', '-3', '-1'], ['ZRANGE', '{t}b', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'a', 'a', '0', '2'], ['ZRANGE', 'a', '0', '-1'], ['SET', 'str', 'v'], ['ZRANGESTORE', 'b', 'str', '0', '-1'],
      ['ZRANGESTORE', 'b', 'str', 'x', '-1'], ['ZRANGESTORE', 'str', 'a', '0', '-1'], ['TYPE', 'str'],
      many('c', 200), ['ZRANGESTORE', 'd', 'c', '0', '9'], ['OBJECT', 'ENCODING', 'd'], ['ZRANGESTORE', 'd', 'c', '0', '199'], ['OBJECT', 'ENCODING', 'd'],
    ]);
  });

  it('ZRANDMEMBER (deterministic shapes) and ZSCAN of a listpack', async () => {
    await ctx.expectSame([
      many('a', 5), ['ZRANDMEMBER', 'a', '5'], ['ZRANDMEMBER', 'a', '50', 'WITHSCORES'], ['ZRANDMEMBER', 'a', '0'],
      ['ZRANDMEMBER', 'nokey'], ['ZRANDMEMBER', 'nokey', '5'], ['ZRANDMEMBER', 'a', 'x'], ['ZRANDMEMBER', 'a', '1', 'foo'],
      ['ZRANDMEMBER', 'a', '1', 'WITHSCORES', 'x'], ['ZRANDMEMBER', 'a', '-9223372036854775808'],
      ['ZRANDMEMBER', 'a', '9223372036854775807', 'WITHSCORES'], ['ZRANDMEMBER', 'a', '-4611686018427387904', 'WITHSCORES'],
      ['ZSCAN', 'a', '0'], ['ZSCAN', 'a', '0', 'MATCH', 'm[12]'], ['ZSCAN', 'a', '0', 'COUNT', '0'], ['ZSCAN', 'a', '0', 'COUNT', 'x'],
      ['ZSCAN', 'a', 'x'], ['ZSCAN', 'a', '-1x'], ['ZSCAN', 'a', '0', 'TYPE', 'zset'], ['ZSCAN', 'a', '0', 'MATCH'], ['ZSCAN', 'nokey', '0'],
      ['ZSCAN', 'nokey', '0', 'COUNT', '0'], ['ZADD', 'b', '0.1', 'x', 'inf', 'y'], ['ZSCAN', 'b', '0'],
    ]);
  });

  it('ZRANDMEMBER and ZSCAN of a skiplist return the members (orders differ by design)', async () => {
    const setup = [many('a', 500, 0.25)];
    await ctx.run('sabre', setup);
    await ctx.run('redis', setup);
    for (const port of ['sabre', 'redis'] as const) {
      const seen = new Map<string, string>();
      let cursor = '0';
      do {
        const [r] = await ctx.run(port, [['ZSCAN', 'a', cursor, 'COUNT', '37']]);
        const parts = r.toString('latin1').split('\r\n');
        cursor = parts[2];
        const items = parts.slice(4).filter((_, i) => i % 2 === 1);
        for (let i = 0; i + 1 < items.length; i += 2) seen.set(items[i], items[i + 1]);
      } while (cursor !== '0');
      expect(seen.size).toBe(500);
      expect(seen.get('m7')).toBe('1.75');
      const [rand] = await ctx.run(port, [['ZRANDMEMBER', 'a', '20', 'WITHSCORES']]);
      const lines = rand.toString('latin1').split('\r\n');
      expect(lines[0]).toBe('*40');
      const members = lines.slice(1).filter((_, i) => i % 2 === 1).filter((_, i) => i % 2 === 0);
      expect(new Set(members).size).toBe(20);
      const [neg] = await ctx.run(port, [['ZRANDMEMBER', 'a', '-700']]);
      expect(neg.toString('latin1').startsWith('*700\r\n')).toBe(true);
    }
  });

  it('keys of every kind: TYPE, OBJECT ENCODING, COPY, RENAME, MOVE, conversions by config', async () => {
    await ctx.expectSame([
      many('a', 5), ['TYPE', 'a'], ['OBJECT', 'ENCODING', 'a'], ['COPY', 'a', 'b'], ['ZRANGE', 'b', '0', '-1', 'WITHSCORES'],
      ['COPY', 'a', '{t}a'], ['OBJECT', 'ENCODING', '{t}a'], ['RENAME', 'a', 'c'], ['ZRANGE', 'c', '0', '-1', 'WITHSCORES'], ['EXISTS', 'a'],
      ['RENAME', 'c', 'a'], ['MOVE', 'a', '1'], ['SELECT', '1'], ['ZCARD', 'a'], ['SELECT', '0'],
      ['ZADD', 'e', '1', 'x'.repeat(64)], ['OBJECT', 'ENCODING', 'e'], ['ZADD', 'e', '1', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'e'],
      ['ZREM', 'e', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'e'], many('f', 128), ['OBJECT', 'ENCODING', 'f'], ['ZADD', 'f', '1', 'extra'],
      ['OBJECT', 'ENCODING', 'f'], ['COPY', 'f', 'g'], ['OBJECT', 'ENCODING', 'g'], ['RENAME', 'f', '{t}f'], ['OBJECT', 'ENCODING', '{t}f'],
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '2'], ['ZADD', 'h', '1', 'a', '2', 'b'], ['OBJECT', 'ENCODING', 'h'],
      ['ZADD', 'h', '3', 'c'], ['OBJECT', 'ENCODING', 'h'], ['CONFIG', 'SET', 'zset-max-ziplist-entries', '0'], ['ZADD', 'i', '1', 'a'],
      ['OBJECT', 'ENCODING', 'i'], ['CONFIG', 'GET', 'zset-max-listpack-entries'], ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'],
      ['CONFIG', 'SET', 'zset-max-listpack-value', '1'], ['ZADD', 'j', '1', 'ab'], ['OBJECT', 'ENCODING', 'j'],
      ['ZUNIONSTORE', 'k', '1', 'h'], ['OBJECT', 'ENCODING', 'k'], ['CONFIG', 'SET', 'zset-max-ziplist-value', '64'],
      ['CONFIG', 'GET', 'zset-max-ziplist-value'], ['ZUNIONSTORE', 'k', '1', 'h'], ['OBJECT', 'ENCODING', 'k'],
      ['EXPIRE', 'k', '100'], ['TTL', 'k'], ['DEL', 'k', 'h'], ['EXISTS', 'k'],
    ]);
  });

  it('COMMAND INFO and GETKEYS of the sorted-set commands', async () => {
    const names = ['zadd', 'zincrby', 'zrem', 'zcard', 'zcount', 'zlexcount', 'zscore', 'zmscore', 'zrank', 'zrevrank', 'zrange',
      'zrangestore', 'zrevrange', 'zrangebyscore', 'zrevrangebyscore', 'zrangebylex', 'zrevrangebylex', 'zremrangebyrank',
      'zremrangebyscore', 'zremrangebylex', 'zpopmin', 'zpopmax', 'zmpop', 'zrandmember', 'zunion', 'zinter', 'zdiff',
      'zunionstore', 'zinterstore', 'zdiffstore', 'zintercard', 'zscan'];
    for (const n of names) await ctx.expectSame([['COMMAND', 'INFO', n]]);
    await ctx.expectSame([
      ['COMMAND', 'GETKEYS', 'zunionstore', 'd', '2', 'a', 'b'], ['COMMAND', 'GETKEYS', 'zunion', '2', 'a', 'b', 'WITHSCORES'],
      ['COMMAND', 'GETKEYS', 'zmpop', '2', 'a', 'b', 'MIN'], ['COMMAND', 'GETKEYS', 'zrangestore', 'd', 's', '0', '1'],
      ['COMMAND', 'GETKEYS', 'zintercard', '2', 'a', 'b'], ['COMMAND', 'GETKEYS', 'zdiffstore', 'd', '1', 'a'],
    ]);
  });

  it('pipelined: a thousand mixed commands in one write', async () => {
    const cmds: string[][] = [];
    for (let i = 0; i < 1000; i++) {
      const k = ['a', 'b', 'c', 'd', '{t}a', '{t}b'][i % 6];
      switch (i % 9) {
        case 0: cmds.push(['ZADD', k, String((i * 37) % 101), `m${i % 173}`]); break;
        case 1: cmds.push(['ZINCRBY', k, '0.5', `m${i % 173}`]); break;
        case 2: cmds.push(['ZRANK', k, `m${i % 173}`]); break;
        case 3: cmds.push(['ZRANGE', k, '0', '5', 'WITHSCORES']); break;
        case 4: cmds.push(['ZUNIONSTORE', 'u', '3', 'a', 'b', k]); break;
        case 5: cmds.push(['ZPOPMIN', k]); break;
        case 6: cmds.push(['ZINTERCARD', '2', k, 'c']); break;
        case 7: cmds.push(['ZREMRANGEBYSCORE', k, '(50', '60']); break;
        default: cmds.push(['ZMPOP', '2', 'd', k, 'MAX', 'COUNT', '2']); break;
      }
    }
    cmds.push(['ZRANGE', 'u', '0', '-1', 'WITHSCORES']);
    await ctx.expectSame([pipelined(cmds)]);
  });

  it('RESP3 replies', async () => {
    await ctx.expectSame([
      ['ZADD', 'a', '1', 'x', '2.5', 'y', 'inf', 'z'], ['ZADD', '{t}a', '1', 'x'], ['ZSCORE', 'a', 'y'], ['ZSCORE', 'a', 'z'], ['ZSCORE', 'a', 'q'],
      ['ZMSCORE', 'a', 'x', 'q'], ['ZINCRBY', 'a', '1', 'x'], ['ZADD', 'a', 'INCR', '1', 'x'], ['ZADD', 'a', 'INCR', 'NX', '1', 'x'],
      ['ZRANGE', 'a', '0', '-1', 'WITHSCORES'], ['ZRANGE', 'a', '0', '-1'], ['ZRANGEBYSCORE', 'a', '-inf', 'inf', 'WITHSCORES'],
      ['ZPOPMIN', 'a'], ['ZPOPMIN', 'a', '1'], ['ZPOPMAX', 'nokey'], ['ZPOPMAX', 'nokey', '2'], ['ZMPOP', '1', 'nokey', 'MIN'],
      ['ZADD', 'b', '1', 'x', '2', 'y'], ['ZMPOP', '2', 'nokey', 'b', 'MIN', 'COUNT', '5'], ['ZADD', 'b', '1', 'x', '2', 'y'],
      ['ZUNION', '2', 'a', 'b', 'WITHSCORES'], ['ZINTER', '2', 'b', 'a', 'WITHSCORES'], ['ZDIFF', '1', 'b', 'WITHSCORES'],
      ['ZRANDMEMBER', 'b', '5', 'WITHSCORES'], ['ZRANDMEMBER', 'nokey'], ['ZRANDMEMBER', 'nokey', '1'], ['ZRANK', 'b', 'q'],
      ['ZSCAN', 'b', '0'], ['ZUNION', '2', '{t}a', '{t}b', 'WITHSCORES'],
    ], { resp3: true });
  });
});
