import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { shardOfKey, useSabre } from '../helpers/suites.ts';

// Hashes on a 4-shard server, beyond what the differential tests compare
// with Redis 7.0: field expiry (Redis 7.4's HEXPIRE family), lazy and
// active, a key removed when its last field expires, field TTLs kept through
// COPY/RENAME/MOVE on one shard and across shards; MEMORY USAGE and freeing.

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function usedMemory(r: Redis): Promise<number> {
  const text = await r.call('INFO', 'memory') as string;
  return Number(/used_memory:(\d+)/.exec(text)?.[1]);
}

describe('hashes: field expiry on 4 shards', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; });

  it('test keys span shards (guard for the cross-shard cases)', () => {
    expect(shardOfKey('a', 4)).not.toBe(shardOfKey('b', 4));
    expect(shardOfKey('{t}a', 4)).toBe(shardOfKey('{t}b', 4));
  });

  it('lazy expiry: a read never returns an expired field; HLEN does not count it', async () => {
    await r.hset('a', 'f1', 'v1', 'f2', 'v2', 'f3', 'v3');
    expect(await r.call('HPEXPIRE', 'a', '100', 'FIELDS', '2', 'f1', 'f2')).toEqual([1, 1]);
    expect(await r.call('OBJECT', 'ENCODING', 'a')).toBe('listpackex');
    const ttl = await r.call('HPTTL', 'a', 'FIELDS', '3', 'f1', 'f3', 'nofield') as number[];
    expect(ttl[0]).toBeGreaterThan(0);
    expect(ttl.slice(1)).toEqual([-1, -2]);
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      await sleep(150);
      expect(await r.hget('a', 'f1')).toBeNull();
      expect(await r.hlen('a')).toBe(1);
      expect(await r.hgetall('a')).toEqual({ f3: 'v3' });
      expect(await r.call('HTTL', 'a', 'FIELDS', '1', 'f2')).toEqual([-2]);
    } finally {
      await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });

  it('active expiry: fields go without being read, and the key with its last field', async () => {
    const big: string[] = [];
    for (let i = 0; i < 1000; i++) big.push(`f${i}`, `v${i}`);
    await r.hset('b', ...big);
    expect(await r.call('OBJECT', 'ENCODING', 'b')).toBe('hashtable');
    await r.hset('c', 'only', 'x');
    for (const k of ['c', 'd', 'e']) await r.hset(k, 'only', 'x');
    const half = Array.from({ length: 500 }, (_, i) => `f${i}`);
    expect(await r.call('HPEXPIRE', 'b', '100', 'FIELDS', '500', ...half)).toEqual(half.map(() => 1));
    for (const k of ['c', 'd', 'e']) await r.call('HPEXPIRE', k, '100', 'FIELDS', '1', 'only');
    await r.set('plain', 'x');
    const deadline = Date.now() + 5000;
    let keys = await r.dbsize();
    while (keys > 2 && Date.now() < deadline) {
      await sleep(50);
      keys = await r.dbsize();
    }
    // Only DBSIZE was asked: the fields and keys went by the shards' cron.
    expect(keys).toBe(2);
    expect(await r.exists('c', 'd', 'e')).toBe(0);
    expect(await r.call('HLEN', 'b')).toBe(500);
    expect(await r.hget('b', 'f0')).toBeNull();
    expect(await r.hget('b', 'f999')).toBe('v999');
  });

  it('HEXPIRE with a time in the past deletes the field (2), and the key with the last one', async () => {
    await r.hset('a', 'x', '1', 'y', '2');
    expect(await r.call('HEXPIREAT', 'a', '1', 'FIELDS', '1', 'x')).toEqual([2]);
    expect(await r.call('HPEXPIRE', 'a', '0', 'FIELDS', '2', 'y', 'x')).toEqual([2, -2]);
    expect(await r.exists('a')).toBe(0);
  });

  it('HSET drops a field\'s TTL; HPERSIST removes it', async () => {
    await r.hset('a', 'x', '1', 'y', '2');
    await r.call('HEXPIRE', 'a', '100', 'FIELDS', '2', 'x', 'y');
    await r.hset('a', 'x', '3');
    expect(await r.call('HTTL', 'a', 'FIELDS', '2', 'x', 'y')).toEqual([-1, 100]);
    expect(await r.call('HPERSIST', 'a', 'FIELDS', '2', 'y', 'x')).toEqual([1, -1]);
    expect(await r.call('HTTL', 'a', 'FIELDS', '1', 'y')).toEqual([-1]);
  });

  for (const big of [false, true]) {
    it(`COPY and RENAME keep field TTLs, on one shard and across shards (${big ? 'hashtable' : 'listpack'})`, async () => {
      const pairs: string[] = ['x', '1', 'y', '2'];
      if (big) for (let i = 0; i < 600; i++) pairs.push(`f${i}`, `${i}`);
      // A destination on another shard than {t}a.
      const other = ['a', 'b', 'c', 'd'].find((k) => shardOfKey(k, 4) !== shardOfKey('{t}a', 4)) as string;
      await r.hset('{t}a', ...pairs);
      await r.call('HPEXPIRE', '{t}a', '300', 'FIELDS', '1', 'x');
      await r.call('HEXPIRE', '{t}a', '1000', 'FIELDS', '1', 'y');
      expect(await r.copy('{t}a', '{t}b')).toBe(1);
      expect(await r.copy('{t}a', 'moved')).toBe(1);
      expect(await r.rename('{t}b', other)).toBe('OK');
      for (const k of [other, 'moved', '{t}a']) {
        const ttls = await r.call('HPTTL', k, 'FIELDS', '3', 'x', 'y', 'f0') as number[];
        expect(ttls[0], k).toBeGreaterThan(0);
        expect(ttls[0], k).toBeLessThanOrEqual(300);
        expect(ttls[1], k).toBeGreaterThan(900_000);
        expect(ttls[2], k).toBe(big ? -1 : -2);
        expect(await r.call('OBJECT', 'ENCODING', k)).toBe(big ? 'hashtable' : 'listpackex');
      }
      expect(await r.move('moved', '2')).toBe(1);
      await sleep(350);
      for (const k of [other, '{t}a']) expect(await r.hexists(k, 'x'), k).toBe(0);
      expect(await r.hlen(other)).toBe(big ? 601 : 1);
      await r.select(2);
      try {
        expect(await r.hexists('moved', 'x')).toBe(0);
        expect(await r.hget('moved', 'y')).toBe('2');
      } finally {
        await r.select(0);
      }
    });
  }

  it('MEMORY USAGE grows with the hash; DEL and FLUSHALL give the memory back', async () => {
    await r.set('warm', 'x');
    const base = await usedMemory(r);
    await r.hset('small', 'a', '1');
    const p = r.pipeline();
    for (let j = 0; j < 20; j++) {
      const pairs: string[] = [];
      for (let i = j * 1000; i < (j + 1) * 1000; i++) pairs.push(`field-${i}`, `value-${i}`);
      p.hset('big', ...pairs);
    }
    await p.exec();
    expect(await r.hlen('big')).toBe(20000);
    const small = await r.call('MEMORY', 'USAGE', 'small') as number;
    const bigUsage = await r.call('MEMORY', 'USAGE', 'big') as number;
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(100);
    expect(bigUsage).toBeGreaterThan(20000 * 30);
    expect(bigUsage).toBeLessThan(20000 * 80);
    expect(await r.del('big', 'small')).toBe(2);
    // The big hash is freed by the shard's cron a slice at a time; the front sums its clients' buffers every 100 ms.
    const deadline = Date.now() + 5000;
    while (await usedMemory(r) >= base + 4096 && Date.now() < deadline) await sleep(100);
    expect(await usedMemory(r)).toBeLessThan(base + 4096);
    expect(await r.call('SCAN', '0', 'TYPE', 'hash')).toEqual(['0', []]);
  });

  it('CONFIG SET hash-max-listpack-* reaches every shard', async () => {
    await r.config('SET', 'hash-max-listpack-entries', '2');
    try {
      for (const k of ['a', 'b', 'c', 'd']) {
        await r.hset(k, 'x', '1', 'y', '2');
        expect(await r.call('OBJECT', 'ENCODING', k)).toBe('listpack');
        await r.hset(k, 'z', '3');
        expect(await r.call('OBJECT', 'ENCODING', k)).toBe('hashtable');
      }
    } finally {
      await r.config('SET', 'hash-max-listpack-entries', '512');
    }
  });
});

describe('hashes: start-up settings', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; }, { args: ['--hash-max-ziplist-entries', '3', '--hash-max-listpack-value', '5'] });

  it('hash-max-ziplist-entries and hash-max-listpack-value from the command line reach the shards', async () => {
    expect(await r.config('GET', 'hash-max-listpack-entries')).toEqual(['hash-max-listpack-entries', '3']);
    for (const k of ['a', 'b', 'c', 'd']) {
      await r.hset(k, 'x', '12345');
      expect(await r.call('OBJECT', 'ENCODING', k)).toBe('listpack');
      await r.hset(k, 'y', '123456');
      expect(await r.call('OBJECT', 'ENCODING', k)).toBe('hashtable');
    }
  });
});
