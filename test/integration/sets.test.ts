import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { shardOfKey, useSabre } from '../helpers/suites.ts';

// Sets on a 4-shard server, beyond what the differential tests compare:
// cross-shard operations over big sets (hashtables shipped between shards),
// hash tags, SPOP/SRANDMEMBER distributions, SSCAN over a big set while it
// changes, CONFIG SET of the encoding limits, and memory given back.

async function usedMemory(r: Redis): Promise<number> {
  const text = await r.call('INFO', 'memory') as string;
  return Number(/used_memory:(\d+)/.exec(text)?.[1]);
}

const range = (from: number, to: number, prefix = ''): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('sets: 4 shards', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; });

  it('the keys used span shards, and hash tags keep keys together', () => {
    expect(new Set(['a', 'b', 'c', 'd'].map((k) => shardOfKey(k))).size).toBe(4);
    expect(shardOfKey('{u}x')).toBe(shardOfKey('{u}y'));
  });

  it('SINTER, SUNION, SDIFF and the STORE forms over big sets on different shards', async () => {
    await r.sadd('a', ...range(0, 20000, 'm'));
    await r.sadd('b', ...range(10000, 30000, 'm'));
    await r.sadd('c', ...range(0, 30000, 'm').filter((_, i) => i % 2 === 0));
    expect(await r.sintercard(3, 'a', 'b', 'c')).toBe(5000);
    expect(await r.call('SINTERCARD', '2', 'a', 'b', 'LIMIT', '7')).toBe(7);
    const inter = await r.sinter('a', 'b');
    expect(inter.length).toBe(10000);
    expect(new Set(inter)).toEqual(new Set(range(10000, 20000, 'm')));
    expect(await r.sunionstore('d', 'a', 'b')).toBe(30000);
    expect(await r.scard('d')).toBe(30000);
    expect(await r.sdiffstore('d', 'd', 'c')).toBe(15000);
    expect(await r.sismember('d', 'm1')).toBe(1);
    expect(await r.sismember('d', 'm2')).toBe(0);
    expect((await r.sdiff('a', 'b', 'c')).sort()).toEqual(range(0, 10000, 'm').filter((_, i) => i % 2 === 1).sort());
    expect(await r.sinterstore('d', 'a', 'nokey')).toBe(0);
    expect(await r.exists('d')).toBe(0);
    // Integers only: the destination is an intset, as in Redis.
    await r.sadd('{u}x', ...range(0, 300));
    await r.sadd('b2', ...range(100, 400));
    expect(await r.sinterstore('c', '{u}x', 'b2')).toBe(200);
    expect(await r.object('ENCODING', 'c')).toBe('intset');
    expect(await r.smembers('c')).toEqual(range(100, 300));
    await r.sadd('{u}y', '5', 'x');
    expect(await r.sdiffstore('{u}z', '{u}x', '{u}y')).toBe(299);
    expect(await r.object('ENCODING', '{u}z')).toBe('intset');
  });

  it('SMOVE across shards moves one member, atomically with the shards held', async () => {
    await r.sadd('a', 'x', 'y');
    await r.set('c', 'str');
    expect(await r.smove('a', 'b', 'x')).toBe(1);
    expect(await r.smembers('b')).toEqual(['x']);
    await expect(r.smove('a', 'c', 'y')).rejects.toThrow(/WRONGTYPE/);
    expect(await r.smembers('a')).toEqual(['y']);
    // Concurrent movers: every member ends in exactly one set.
    await r.del('a', 'b');
    await r.sadd('a', ...range(0, 200, 'k'));
    const movers = range(0, 200, 'k').map((m, i) => (i % 2 === 0 ? r.smove('a', 'b', m) : r.smove('a', 'd', m)));
    expect((await Promise.all(movers)).every((v) => v === 1)).toBe(true);
    expect(await r.exists('a')).toBe(0);
    expect((await r.scard('b')) + (await r.scard('d'))).toBe(200);
  });

  it('SRANDMEMBER and SPOP: distinct picks, and every member about as likely (small and big sets)', async () => {
    for (const [key, n] of [['small', 10], ['big', 2000]] as const) {
      await r.sadd(key, ...range(0, n, 'e'));
      const counts = new Map<string, number>();
      const draws = 200 * n < 100000 ? 200 * n : 100000;
      for (let done = 0; done < draws; done += 5000) {
        for (const m of await r.srandmember(key, -5000)) counts.set(m, (counts.get(m) ?? 0) + 1);
      }
      const expected = Math.ceil(draws / 5000) * 5000 / n;
      expect(counts.size).toBe(n);
      for (const c of counts.values()) {
        expect(c).toBeGreaterThan(expected * 0.25);
        expect(c).toBeLessThan(expected * 3);
      }
      const distinct = await r.srandmember(key, Math.floor(n / 2));
      expect(new Set(distinct).size).toBe(Math.floor(n / 2));
      const popped = await r.spop(key, Math.floor(n * 0.9));
      expect(new Set(popped).size).toBe(Math.floor(n * 0.9));
      expect(await r.scard(key)).toBe(n - Math.floor(n * 0.9));
      const left = await r.smembers(key);
      for (const m of popped) expect(left.includes(m)).toBe(false);
    }
  });

  it('SSCAN walks a big set whole while it grows', async () => {
    await r.sadd('s', ...range(0, 5000, 'x'));
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, members] = await r.sscan('s', cursor, 'COUNT', 100);
      for (const m of members) seen.add(m);
      cursor = next;
      if (++calls === 10) await r.sadd('s', ...range(0, 20000, 'y'));
    } while (cursor !== '0');
    for (const m of range(0, 5000, 'x')) expect(seen.has(m)).toBe(true);
    const [, matched] = await r.sscan('s', 0, 'MATCH', 'x1*', 'COUNT', 100000);
    expect(matched.every((m) => m.startsWith('x1'))).toBe(true);
  });

  it('CONFIG SET of the encoding limits reaches every shard', async () => {
    expect(await r.config('SET', 'set-max-intset-entries', '4')).toBe('OK');
    for (const k of ['a', 'b', 'c', 'd']) {
      await r.sadd(k, '1', '2', '3', '4');
      expect(await r.object('ENCODING', k)).toBe('intset');
      await r.sadd(k, '5');
      expect(await r.object('ENCODING', k)).toBe('hashtable');
    }
    expect(await r.config('GET', 'set-max-intset-entries')).toEqual(['set-max-intset-entries', '4']);
    expect(await r.config('SET', 'set-max-intset-entries', '512')).toBe('OK');
    expect(await r.config('SET', 'set-max-listpack-entries', '2')).toBe('OK');
    await expect(r.config('SET', 'set-max-listpack-value', 'x')).rejects.toThrow(/CONFIG SET failed/);
  });

  it('DEL, overwrite, SPOP to empty and FLUSHALL give a big set back', async () => {
    await r.set('warm', 'x');
    const base = await usedMemory(r);
    for (const how of ['del', 'set', 'spop', 'flushall'] as const) {
      const p = r.pipeline();
      for (let i = 0; i < 30; i++) p.sadd('s', ...range(i * 1000, i * 1000 + 1000, 'member:'));
      await p.exec();
      expect(await usedMemory(r)).toBeGreaterThan(base + 500_000);
      const usage = await r.call('MEMORY', 'USAGE', 's') as number;
      expect(usage).toBeGreaterThan(30000 * 24);
      expect(usage).toBeLessThan(30000 * 64);
      if (how === 'del') await r.del('s');
      if (how === 'set') {
        await r.set('s', 'v');
        await r.del('s');
      }
      if (how === 'spop') expect((await r.spop('s', 40000)).length).toBe(30000);
      if (how === 'flushall') {
        await r.flushall();
        await r.set('warm', 'x');
      }
      expect(await r.exists('s'), how).toBe(0);
      await new Promise((res) => setTimeout(res, 250)); // client buffers are sampled every 100 ms
      expect(await usedMemory(r), how).toBeLessThan(base + 4096);
    }
  });
});
