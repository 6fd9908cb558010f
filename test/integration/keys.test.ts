import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useSabre, redisClient } from '../helpers/suites.ts';
import { type ServerHandle } from '../helpers/servers.ts';

// Keys and their shard with 4 shards: b -> 0, c -> 1, d -> 2, a -> 3, newkey -> 0,
// src -> 3, dst -> 2; {t}a and {t}b share shard 3.

let server: ServerHandle;
let r: Redis;
useSabre((s, c) => { server = s; r = c; });

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

function binaryValue(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

describe('RENAME across shards', () => {
  it('moves a binary value and its TTL, and removes the source', async () => {
    const value = binaryValue(200_000);
    await r.set('src', value);
    await r.pexpire('src', 50_000);
    expect(await r.rename('src', 'dst')).toBe('OK');
    expect(await r.exists('src')).toBe(0);
    expect((await r.getBuffer('dst'))?.equals(value)).toBe(true);
    const pttl = await r.pttl('dst');
    expect(pttl).toBeGreaterThan(49_000);
    expect(pttl).toBeLessThanOrEqual(50_000);
  });

  it('keeps the exact expiry time and the encoding', async () => {
    await r.set('a', '123');
    await r.pexpireat('a', 4_000_000_000_123);
    await r.rename('a', 'b');
    expect(await r.call('PEXPIRETIME', 'b')).toBe(4_000_000_000_123);
    expect(await r.object('ENCODING', 'b')).toBe('int');
  });

  it('counts as an access, as Redis\'s lookupKeyWrite does: the renamed key is not idle', async () => {
    await r.set('a', 'v');
    await sleep(2200);
    expect(Number(await r.object('IDLETIME', 'a'))).toBeGreaterThanOrEqual(2);
    await r.rename('a', 'b');
    expect(Number(await r.object('IDLETIME', 'b'))).toBe(0);
  });

  it('works in a non-zero database and leaves other databases alone', async () => {
    await r.set('b', 'db0');
    await r.select(7);
    await r.set('a', 'db7');
    await r.rename('a', 'b');
    expect(await r.get('b')).toBe('db7');
    await r.select(0);
    expect(await r.get('b')).toBe('db0');
    expect(await r.exists('a')).toBe(0);
  });

  it('RENAMENX leaves both keys alone when the destination exists', async () => {
    await r.set('a', 'src');
    await r.set('b', 'dst');
    await r.expire('a', 100);
    expect(await r.renamenx('a', 'b')).toBe(0);
    expect(await r.get('a')).toBe('src');
    expect(await r.get('b')).toBe('dst');
    expect(await r.ttl('a')).toBe(100);
    expect(await r.ttl('b')).toBe(-1);
    expect(await r.renamenx('a', 'c')).toBe(1);
    expect(await r.get('c')).toBe('src');
    expect(await r.ttl('c')).toBe(100);
  });

  it('keeps order inside a pipeline and under concurrent clients', async () => {
    const res = await r.pipeline().set('a', '1').rename('a', 'b').get('b').rename('b', 'c').get('c').exists('a', 'b')
      .exec();
    expect(res?.map(([, v]) => v)).toEqual(['OK', 'OK', '1', 'OK', '1', 0]);
    // Two clients bounce one key around four shards; it never gets lost nor duplicated.
    const other = redisClient(server.port);
    await other.connect();
    try {
      await r.set('a', 'token');
      const names = ['a', 'b', 'c', 'd'];
      const bounce = async (cl: Redis): Promise<void> => {
        for (let i = 0; i < 200; i++) {
          const from = names[i % 4] as string;
          const to = names[(i + 1) % 4] as string;
          await cl.rename(from, to).catch(() => undefined);
        }
      };
      await Promise.all([bounce(r), bounce(other)]);
      expect(await r.exists('a', 'b', 'c', 'd')).toBe(1);
      const [, keys] = (await r.call('SCAN', '0', 'COUNT', '100')) as [string, string[]];
      expect(keys.length).toBe(1);
      expect(await r.get(keys[0] as string)).toBe('token');
    } finally {
      other.disconnect();
    }
  });
});

describe('COPY across shards', () => {
  it('copies the value and the TTL, leaves the source', async () => {
    const value = binaryValue(5000);
    await r.set('a', value);
    await r.expire('a', 300);
    expect(await r.copy('a', 'b')).toBe(1);
    expect((await r.getBuffer('a'))?.equals(value)).toBe(true);
    expect((await r.getBuffer('b'))?.equals(value)).toBe(true);
    expect(await r.ttl('b')).toBe(300);
    // The copy is independent.
    await r.set('a', 'changed');
    expect((await r.getBuffer('b'))?.equals(value)).toBe(true);
  });

  it('DB and REPLACE', async () => {
    await r.set('a', 'v1');
    await r.select(2);
    await r.set('b', 'old');
    await r.select(0);
    expect(await r.copy('a', 'b', 'DB', 2)).toBe(0);
    expect(await r.copy('a', 'b', 'DB', 2, 'REPLACE')).toBe(1);
    expect(await r.exists('b')).toBe(0);
    await r.select(2);
    expect(await r.get('b')).toBe('v1');
    expect(await r.ttl('b')).toBe(-1);
    // Same name into another database: one shard, still a copy.
    expect(await r.copy('b', 'b', 'DB', 3)).toBe(1);
    await r.select(3);
    expect(await r.get('b')).toBe('v1');
  });

  it('a copy is a new object: fresh access clock', async () => {
    await r.set('a', 'v');
    await sleep(2200);
    await r.copy('a', 'b');
    expect(Number(await r.object('IDLETIME', 'b'))).toBe(0);
  });
});

describe('MOVE', () => {
  it('moves a key with its TTL to another database', async () => {
    await r.set('a', 'v');
    await r.expire('a', 500);
    expect(await r.move('a', 4)).toBe(1);
    expect(await r.exists('a')).toBe(0);
    await r.select(4);
    expect(await r.get('a')).toBe('v');
    expect(await r.ttl('a')).toBe(500);
    expect(await r.dbsize()).toBe(1);
    await r.set('b', 'x');
    await r.select(0);
    await r.set('b', 'y');
    expect(await r.move('b', 4)).toBe(0);
    expect(await r.get('b')).toBe('y');
  });
});

describe('OBJECT and MEMORY', () => {
  it('IDLETIME grows without access and TOUCH resets it; EXISTS/TYPE/TTL do not touch', async () => {
    await r.set('a', 'v');
    await sleep(2200);
    await r.exists('a');
    await r.type('a');
    await r.ttl('a');
    await r.call('OBJECT', 'ENCODING', 'a');
    expect(Number(await r.object('IDLETIME', 'a'))).toBeGreaterThanOrEqual(2);
    expect(await r.touch('a', 'nosuch')).toBe(1);
    expect(Number(await r.object('IDLETIME', 'a'))).toBe(0);
  });

  it('MEMORY USAGE grows with the value and reports nil for a missing key', async () => {
    await r.set('a', 'x');
    await r.set('b', 'x'.repeat(10_000));
    const small = Number(await r.call('MEMORY', 'USAGE', 'a'));
    const big = Number(await r.call('MEMORY', 'USAGE', 'b', 'SAMPLES', '0'));
    expect(small).toBeGreaterThan(16);
    expect(small).toBeLessThan(100);
    expect(big).toBeGreaterThan(10_000);
    expect(big).toBeLessThan(14_000);
    expect(await r.call('MEMORY', 'USAGE', 'nosuch')).toBe(null);
  });
});

// OBJECT FREQ under an LFU policy: the LFU policies are refused until eviction
// exists (test/integration/memory.test.ts), so the counter is covered at the
// keyspace level (test/unit/lfu.test.ts).

describe('RANDOMKEY, DBSIZE, FLUSHALL, SWAPDB', () => {
  it('RANDOMKEY reaches keys on every shard', async () => {
    await r.set('a', '1');
    await r.set('b', '1');
    await r.set('c', '1');
    await r.set('d', '1');
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 4; i++) seen.add((await r.randomkey()) as string);
    expect([...seen].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('RANDOMKEY finds the only key even when its shard is not the first asked', async () => {
    for (let i = 0; i < 20; i++) {
      await r.set('d', '1');
      expect(await r.randomkey()).toBe('d');
      await r.del('d');
      expect(await r.randomkey()).toBe(null);
    }
  });

  it('DBSIZE sums the shards; FLUSHDB/FLUSHALL empty them', async () => {
    const p = r.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`k${i}`, 'v');
    await p.exec();
    expect(await r.dbsize()).toBe(1000);
    await r.select(1);
    await r.set('x', '1');
    expect(await r.dbsize()).toBe(1);
    await r.flushdb();
    expect(await r.dbsize()).toBe(0);
    await r.select(0);
    expect(await r.dbsize()).toBe(1000);
    expect(await r.flushall('ASYNC')).toBe('OK');
    expect(await r.dbsize()).toBe(0);
    expect(await r.keys('*')).toEqual([]);
  });

  it('SWAPDB is seen by every client, and keys keep their TTL', async () => {
    await r.set('a', 'zero');
    await r.expire('a', 1000);
    const other = redisClient(server.port);
    await other.connect();
    try {
      await other.select(1);
      expect(await other.get('a')).toBe(null);
      expect(await r.swapdb(0, 1)).toBe('OK');
      expect(await other.get('a')).toBe('zero');
      expect(await other.ttl('a')).toBe(1000);
      expect(await r.get('a')).toBe(null);
    } finally {
      other.disconnect();
    }
  });
});
