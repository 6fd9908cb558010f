import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeDifferential } from '../helpers/differential.ts';
import { redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';

// SLOWLOG against Redis 7.0.15: the same entries (arguments cut at 32 and 128
// bytes, secrets redacted, client name), the same lengths and errors; what
// differs by nature (ids' origin, times, durations, ports) is checked for
// sense instead. Durations: shard commands are timed on their shard, front
// commands from dispatch to reply.

type Entry = [number, number, number, string[], string, string];

async function entries(r: Redis, count = '-1'): Promise<Entry[]> {
  return (await r.call('SLOWLOG', 'GET', count)) as Entry[];
}

/** Each entry's arguments and client name, newest first. */
async function shapes(r: Redis): Promise<Array<[string[], string]>> {
  return (await entries(r)).map((e) => [e[3], e[5]]);
}

describeDifferential('SLOWLOG, against Redis', (ctx) => {
  let sabre: Redis;
  let redis: Redis;
  const both = (): Redis[] => [sabre, redis];

  beforeEach(async () => {
    sabre?.disconnect();
    redis?.disconnect();
    sabre = redisClient(ctx.sabrePort);
    redis = redisClient(ctx.redisPort);
    await Promise.all([sabre.connect(), redis.connect()]);
    for (const r of both()) {
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '128');
      await r.call('SLOWLOG', 'RESET');
    }
  });

  it('logs every command at threshold 0, arguments cut as Redis cuts them', async () => {
    const longArg = 'x'.repeat(200);
    const manyArgs = Array.from({ length: 40 }, (_, i) => `a${i}`);
    for (const r of both()) {
      await r.call('CLIENT', 'SETNAME', 'slowpoke');
      await r.set('sl:k', longArg);
      await r.get('sl:k');
      await r.call('ECHO', 'hello');
      // One key, so that it stays on one shard.
      await r.call('DEL', 'sl:k', ...manyArgs.map(() => 'sl:k'));
      await r.call('GETRANGE', 'sl:k', '0', '-1');
    }
    const [s, r] = await Promise.all([shapes(sabre), shapes(redis)]);
    expect(s).toEqual(r);
    // DEL, the key, 40 more: 42 arguments, 31 shown and the 32nd says how many are not.
    expect(s[1]?.[0].at(-1)).toBe('... (11 more arguments)');
    expect(s.find(([a]) => a[0] === 'set')?.[0][2]).toBe(`${'x'.repeat(128)}... (72 more bytes)`);
  });

  it('redacts AUTH, HELLO AUTH and CONFIG SET requirepass as Redis does', async () => {
    for (const r of both()) {
      await r.call('AUTH', 'nobody-has-this').catch(() => undefined);
      await r.call('AUTH', 'user', 'pw').catch(() => undefined);
      await r.call('HELLO', '2', 'AUTH', 'default', 'secret').catch(() => undefined);
      await r.call('CONFIG', 'SET', 'requirepass', 'hush', 'timeout', '0');
      await r.call('AUTH', 'hush');
      await r.call('CONFIG', 'SET', 'requirepass', '');
    }
    const [s, r] = await Promise.all([shapes(sabre), shapes(redis)]);
    expect(s).toEqual(r);
    expect(JSON.stringify(s)).not.toMatch(/secret|hush|nobody-has-this/);
  });

  it('LEN, max-len trimming, RESET, negative threshold, GET count: same numbers as Redis', async () => {
    const lens: number[][] = [[], []];
    for (const [i, r] of both().entries()) {
      for (let j = 0; j < 5; j++) await r.set(`sl:n${j}`, 'v');
      lens[i].push((await r.call('SLOWLOG', 'LEN')) as number);
      await r.call('CONFIG', 'SET', 'slowlog-max-len', '3');
      lens[i].push((await r.call('SLOWLOG', 'LEN')) as number);
      await r.get('sl:n0');
      lens[i].push((await r.call('SLOWLOG', 'LEN')) as number);
      lens[i].push((await entries(r, '2')).length, (await entries(r, '0')).length, (await entries(r)).length);
      await r.call('SLOWLOG', 'RESET');
      lens[i].push((await r.call('SLOWLOG', 'LEN')) as number);
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
      await r.get('sl:n0');
      lens[i].push((await r.call('SLOWLOG', 'LEN')) as number);
      await r.call('CONFIG', 'SET', 'slowlog-max-len', '0', 'slowlog-log-slower-than', '0');
      await r.get('sl:n0');
      lens[i].push((await r.call('SLOWLOG', 'LEN')) as number);
    }
    expect(lens[0]).toEqual(lens[1]);
  });

  it('errors and help, byte for byte', async () => {
    await ctx.expectSame([
      ['SLOWLOG'], ['SLOWLOG', 'foo'], ['SLOWLOG', 'GET', 'abc'], ['SLOWLOG', 'GET', '-2'], ['SLOWLOG', 'GET', '1', '2'],
      ['SLOWLOG', 'LEN', 'x'], ['SLOWLOG', 'RESET', 'x'], ['SLOWLOG', 'HELP'], ['SLOWLOG', 'help', 'x'],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1'], ['SLOWLOG', 'RESET'], ['SLOWLOG', 'GET'], ['SLOWLOG', 'LEN'],
    ]);
    // COMMAND INFO: the same, but Redis lists the subcommands in its dict's (seeded) order.
    const info = async (r: Redis): Promise<unknown> => {
      const [cmd] = (await r.call('COMMAND', 'INFO', 'slowlog')) as unknown[][];
      const subs = [...(cmd?.[9] as unknown[][])].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      return [...(cmd ?? []).slice(0, 9), subs];
    };
    expect(await info(sabre)).toEqual(await info(redis));
  });
});

describe('SLOWLOG durations', () => {
  let r: Redis;
  useSabre((_s, c) => { r = c; });
  beforeEach(async () => {
    // Off while resetting: SLOWLOG itself waits for the shards (to see every
    // earlier command's entry), and a loaded machine can make that wait long.
    await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
    await r.call('SLOWLOG', 'RESET');
  });
  {

    it('a slow command on a shard is logged with its time, args and client; fast ones are not', async () => {
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '2000');
      await r.call('CLIENT', 'SETNAME', 'lcs-user');
      const addr = /addr=(\S+)/.exec((await r.call('CLIENT', 'INFO')) as string)?.[1];
      // LCS of two 6000-byte strings: 36M cells, tens of milliseconds on the shard.
      const rnd = (seed: number): string => Array.from({ length: 6000 }, (_, i) => 'ACGT'[(i * seed * 7919) % 4 ^ (i % 3)]).join('');
      await r.set('{lcs}a', rnd(3));
      await r.set('{lcs}b', rnd(5));
      for (let i = 0; i < 100; i++) await r.get('{lcs}a');
      const t0 = performance.now();
      await r.call('LCS', '{lcs}a', '{lcs}b', 'LEN');
      const wallUs = (performance.now() - t0) * 1000;
      // (Front commands that fan out, like the CONFIG SET above, are timed from
      // dispatch to reply, waits for the shards included: on a busy machine they
      // can pass 2 ms too, so only the shard commands are looked at.)
      const log = (await entries(r)).filter((e) => e[3][0] !== 'CONFIG' && e[3][0] !== 'CLIENT');
      expect(log.map((e) => e[3])).toEqual([['LCS', '{lcs}a', '{lcs}b', 'LEN']]);
      const [, time, us, , client, name] = log[0] as Entry;
      expect(us).toBeGreaterThanOrEqual(2000);
      expect(us).toBeLessThanOrEqual(wallUs);
      expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(5);
      expect([client, name]).toEqual([addr, 'lcs-user']);
    });

    it('a fast command with a big reply is timed too (GET of a 32 MB value)', async () => {
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '1000');
      await r.set('big', Buffer.alloc(32 * 1024 * 1024, 'b'));
      await r.call('SLOWLOG', 'RESET');
      await r.getBuffer('big');
      const log = await entries(r);
      expect(log.map((e) => e[3])).toContainEqual(['get', 'big']);
      await r.del('big');
    });

    it('SET, whose work follows its request, is timed when its request is big (SET of a 48 MB value)', async () => {
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '1000');
      await r.call('SLOWLOG', 'RESET');
      await r.set('bigset', 'small');
      await r.set('bigset', Buffer.alloc(48 * 1024 * 1024, 's'));
      // (The front commands around it may pass 1 ms on a busy machine: only SETs are looked at.)
      const log = (await entries(r)).filter((e) => e[3][0] === 'set');
      // Only the big one: small SETs are not even timed at thresholds of a millisecond and more.
      expect(log.map((e) => e[3].slice(0, 2))).toEqual([['set', 'bigset']]);
      expect(log[0]?.[2]).toBeGreaterThanOrEqual(1000);
      await r.del('bigset');
    });

    it('front commands are timed from dispatch to reply (DEBUG SLEEP fans out to every shard)', async () => {
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '50000');
      await r.call('DEBUG', 'SLEEP', '0.1');
      await r.call('PING');
      const log = (await entries(r)).filter((e) => e[3][0] !== 'CONFIG');
      expect(log.map((e) => e[3])).toEqual([['DEBUG', 'SLEEP', '0.1']]);
      expect(log[0]?.[2]).toBeGreaterThanOrEqual(100_000);
    });

    it('a pipelined SLOWLOG GET sees the slow command sent before it', async () => {
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
      await r.call('SLOWLOG', 'RESET');
      const key = ['p0', 'p1', 'p2', 'p3', 'p4'].find((k) => shardOfKey(k) === 3) ?? 'p0';
      const res = await r.pipeline().set(key, 'v').call('SLOWLOG', 'GET', '1').exec();
      expect(((res?.[1]?.[1] as Entry[])[0] as Entry)[3]).toEqual(['set', key, 'v']);
    });

    it('a command split over shards is logged per shard, with that shard\'s part', async () => {
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
      const keys = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
      await r.call('SLOWLOG', 'RESET');
      await r.mset(...keys.flatMap((k) => [k, 'v']));
      const parts = (await entries(r)).map((e) => e[3]).filter((a) => a[0] === 'mset');
      expect(parts.length).toBe(new Set(keys.map((k) => shardOfKey(k))).size);
      expect(parts.flatMap((a) => a.slice(1).filter((_, i) => i % 2 === 0)).sort()).toEqual(keys);
    });
  }
});
