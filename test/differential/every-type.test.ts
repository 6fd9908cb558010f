import { expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { describeDifferential, type Step } from '../helpers/differential.ts';

// Keys of every type against every family, reply bytes compared with
// redis-server: each command either works on the type or answers WRONGTYPE
// exactly as Redis does, and the generic key commands (TYPE, OBJECT ENCODING,
// RENAME, COPY, MOVE, SCAN TYPE, MEMORY USAGE's shape) serve every type.
// The keys are spread over the shards of the 4-shard Sabre (COPY and RENAME
// across shards included).

const MAKERS: Record<string, string[][]> = {
  s: [['SET', 's', 'v']],
  l: [['RPUSH', 'l', 'a', 'b']],
  h: [['HSET', 'h', 'f', '1', 'g', 'x']],
  t: [['SADD', 't', '1', '2']], // an intset: its member order is defined, unlike a hashtable's
  z: [['ZADD', 'z', '1', 'a', '2', 'b']],
  p: [['PFADD', 'p', 'a', 'b']],
};

/** One read and one write of each family, each run on key k (and a second key where needed). */
function probes(k: string): string[][] {
  return [
    ['GET', k], ['APPEND', k, 'x'], ['INCR', k], ['STRLEN', k], ['GETRANGE', k, '0', '1'], ['SETRANGE', k, '0', 'x'],
    ['GETBIT', k, '0'], ['SETBIT', k, '0', '1'], ['BITCOUNT', k], ['GETDEL', k + 'nokey'], ['GETEX', k],
    ['LPUSH', k, 'x'], ['LLEN', k], ['LRANGE', k, '0', '-1'], ['LPOP', k, '0'], ['LINDEX', k, '0'],
    ['HSET', k, 'f', 'v'], ['HGET', k, 'f'], ['HLEN', k], ['HGETALL', k], ['HINCRBY', k, 'f', '1'],
    ['SADD', k, 'm'], ['SCARD', k], ['SISMEMBER', k, 'm'], ['SMEMBERS', k], ['SINTER', k],
    ['ZADD', k, '1', 'm'], ['ZCARD', k], ['ZSCORE', k, 'm'], ['ZRANGE', k, '0', '-1'], ['ZRANK', k, 'm'],
    ['PFADD', k, 'e'], ['PFCOUNT', k], ['GEOADD', k, '1', '1', 'm'], ['GEOPOS', k, 'm'],
    ['TYPE', k], ['OBJECT', 'ENCODING', k], ['EXISTS', k], ['MGET', k, 's'],
  ];
}

describeDifferential('every type against every family: differential', (ctx) => {
  for (const [k, make] of Object.entries(MAKERS)) {
    it(`key of type ${k}: every family answers as Redis`, async () => {
      const steps: Step[] = [...make];
      for (const p of probes(k)) {
        steps.push(['DEL', k], ...make, p, ['TYPE', k]);
      }
      await ctx.expectSame(steps);
    });
  }

  it('OBJECT ENCODING follows Redis past every threshold, and survives COPY/RENAME across shards', async () => {
    const many = (n: number, f: (i: number) => string[]): string[] => Array.from({ length: n }, (_, i) => f(i)).flat();
    const long = 'x'.repeat(65);
    const steps: Step[] = [
      ['SADD', 'u', 'a', 'b'], ['SADD', 'i', ...many(512, (i) => [String(i)])], ['SADD', 'i2', ...many(513, (i) => [String(i)])],
      ['HSET', 'h1', 'f', 'v'], ['HSET', 'h2', 'f', long], ['HSET', 'h3', ...many(513, (i) => [`f${i}`, 'v'])],
      ['ZADD', 'z1', '1', 'a'], ['ZADD', 'z2', '1', long], ['ZADD', 'z3', ...many(129, (i) => [String(i), `m${i}`])],
      ['RPUSH', 'l1', 'a'], ['SET', 'n', '12'], ['SET', 'e', 'short'], ['SET', 'r', long],
    ];
    for (const k of ['u', 'i', 'i2', 'h1', 'h2', 'h3', 'z1', 'z2', 'z3', 'l1', 'n', 'e', 'r']) {
      steps.push(['OBJECT', 'ENCODING', k], ['COPY', k, `${k}:c`], ['OBJECT', 'ENCODING', `${k}:c`],
        ['RENAME', `${k}:c`, `${k}:r`], ['OBJECT', 'ENCODING', `${k}:r`], ['TYPE', `${k}:r`]);
    }
    steps.push(['SREM', 'i2', '0'], ['OBJECT', 'ENCODING', 'i2'], ['ZREMRANGEBYRANK', 'z3', '0', '10'], ['OBJECT', 'ENCODING', 'z3']);
    await ctx.expectSame(steps);
  });

  it('generic key commands on every type, across shards', async () => {
    const steps: Step[] = [];
    for (const make of Object.values(MAKERS)) steps.push(...make);
    for (const k of Object.keys(MAKERS)) {
      steps.push(
        ['TYPE', k], ['OBJECT', 'ENCODING', k], ['COPY', k, `${k}c`], ['TYPE', `${k}c`], ['RENAME', `${k}c`, `${k}r`],
        ['TYPE', `${k}r`], ['EXPIRE', `${k}r`, '100'], ['TTL', `${k}r`], ['PERSIST', `${k}r`], ['MOVE', `${k}r`, '1'],
        ['SELECT', '1'], ['TYPE', `${k}r`], ['DEL', `${k}r`], ['SELECT', '0'], ['EXISTS', `${k}r`],
      );
    }
    // The four SCANs read their cursor with the same strtoul rules.
    for (const [cmd, k] of [['HSCAN', 'h'], ['SSCAN', 't'], ['ZSCAN', 'z']]) {
      for (const cursor of ['0', '+0', '-0', ' 1', '1 ', 'x', '18446744073709551616', '-18446744073709551615', '']) {
        steps.push([cmd, k, cursor]);
      }
    }
    steps.push(['DBSIZE'], ['FLUSHALL'], ['RANDOMKEY'], ...Object.values(MAKERS).flat());
    await ctx.expectSame(steps);
    // SCAN's cursors differ (Sabre walks its shards in turn): compare what a whole scan returns.
    const scanAll = async (port: number, type: string): Promise<string[]> => {
      const r = new Redis({ port, lazyConnect: true });
      await r.connect();
      try {
        const seen: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'COUNT', 10, 'TYPE', type);
          seen.push(...keys);
          cursor = next;
        } while (cursor !== '0');
        return seen.sort();
      } finally {
        r.disconnect();
      }
    };
    for (const type of ['string', 'list', 'hash', 'set', 'zset', 'stream', 'nosuchtype']) {
      const mine = await scanAll(ctx.sabrePort, type);
      expect(mine).toEqual(await scanAll(ctx.redisPort, type));
    }
    expect(await scanAll(ctx.sabrePort, 'string')).toEqual(['p', 's']);
  });
});
