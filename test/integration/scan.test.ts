import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';

// SCAN's guarantee: every key present from the start to the end of a full
// iteration is returned at least once, even while the shards' tables grow or
// shrink between calls. The cursor encodes a shard and that shard's cursor.

let server: ServerHandle;
let r: Redis;

beforeAll(async () => {
  server = await startSabre({ shards: 4 });
  r = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
  await r.connect();
});

afterAll(async () => {
  r?.disconnect();
  await server?.stop();
});

beforeEach(async () => {
  await r.flushall();
});

async function setMany(prefix: string, from: number, to: number, extra: string[] = []): Promise<void> {
  const p = r.pipeline();
  for (let i = from; i < to; i++) p.set(`${prefix}${i}`, String(i));
  for (const k of extra) p.set(k, 'x');
  await p.exec();
}

async function delMany(prefix: string, from: number, to: number): Promise<void> {
  const p = r.pipeline();
  for (let i = from; i < to; i++) p.del(`${prefix}${i}`);
  await p.exec();
}

/** One full iteration; `between` runs after every call. Returns every key seen, and the number of calls. */
async function fullScan(args: string[], between?: (step: number) => Promise<void>): Promise<{ keys: string[]; calls: number }> {
  const seen: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const [next, keys] = (await r.call('SCAN', cursor, ...args)) as [string, string[]];
    calls++;
    expect(next).toMatch(/^\d+$/);
    seen.push(...keys);
    cursor = next;
    if (between) await between(calls);
    if (calls > 100_000) throw new Error('SCAN does not terminate');
  } while (cursor !== '0');
  return { keys: seen, calls };
}

describe('SCAN', () => {
  it('returns every key of every shard exactly once on a stable keyspace', async () => {
    await setMany('k:', 0, 3000, ['{tag}a', '{tag}b', '']);
    const { keys, calls } = await fullScan(['COUNT', '37']);
    const set = new Set(keys);
    expect(set.size).toBe(3003);
    for (let i = 0; i < 3000; i++) expect(set.has(`k:${i}`)).toBe(true);
    expect(set.has('')).toBe(true);
    expect(calls).toBeGreaterThan(3003 / 37 / 2);
    // Without resizes in between, nothing is returned twice.
    expect(keys.length).toBe(set.size);
  });

  it('returns nothing and cursor 0 on an empty database, whatever the cursor', async () => {
    expect(await r.call('SCAN', '0')).toEqual(['0', []]);
    expect(await r.call('SCAN', '3')).toEqual(['0', []]);
    expect(await r.call('SCAN', '123456789')).toEqual(['0', []]);
  });

  it('walks shard by shard: a cursor names the shard in its low part', async () => {
    // One key per shard (b -> 0, c -> 1, d -> 2, a -> 3 with 4 shards).
    await setMany('', 0, 0, ['a', 'b', 'c', 'd']);
    const order: string[] = [];
    const cursors: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = (await r.call('SCAN', cursor, 'COUNT', '1')) as [string, string[]];
      order.push(...keys);
      cursors.push(next);
      cursor = next;
    } while (cursor !== '0');
    expect(order).toEqual(['b', 'c', 'd', 'a']);
    // cursor mod 4 is the shard the next call starts on: it never goes back.
    const shards = cursors.slice(0, -1).map((x) => Number(BigInt(x) % 4n));
    for (let i = 1; i < shards.length; i++) expect(shards[i]).toBeGreaterThanOrEqual(shards[i - 1] as number);
    expect(cursors[cursors.length - 1]).toBe('0');
  });

  it('keeps every key present throughout while the tables grow between calls', async () => {
    await setMany('base:', 0, 300);
    let next = 0;
    const { keys } = await fullScan(['COUNT', '5'], async (step) => {
      // The first 15 calls add 400 keys each: every shard's table doubles
      // several times while the iteration is under way.
      if (step <= 15) {
        await setMany('grow:', next, next + 400);
        next += 400;
      }
    });
    const set = new Set(keys);
    const missing: string[] = [];
    for (let i = 0; i < 300; i++) if (!set.has(`base:${i}`)) missing.push(`base:${i}`);
    expect(missing).toEqual([]);
    expect(next).toBe(6000);
    expect(await r.dbsize()).toBe(300 + next);
  });

  it('keeps every key present throughout while the tables shrink between calls', async () => {
    await setMany('base:', 0, 200);
    await setMany('tmp:', 0, 8000);
    let deleted = 0;
    const { keys } = await fullScan(['COUNT', '20'], async (step) => {
      if (deleted < 8000) {
        await delMany('tmp:', deleted, deleted + 1000);
        deleted += 1000;
      }
      // Let the shards' cron shrink the sparse tables now and then.
      if (step % 3 === 0) await new Promise((res) => setTimeout(res, 120));
    });
    const set = new Set(keys);
    const missing: string[] = [];
    for (let i = 0; i < 200; i++) if (!set.has(`base:${i}`)) missing.push(`base:${i}`);
    expect(missing).toEqual([]);
    expect(await r.dbsize()).toBe(200);
  });

  it('MATCH filters on the key bytes, TYPE on the value type', async () => {
    await setMany('user:', 0, 500);
    await setMany('item:', 0, 500);
    await r.set('{t}x', '1');
    await r.set('{t}y', '1');
    const users = new Set((await fullScan(['MATCH', 'user:*', 'COUNT', '50'])).keys);
    expect(users.size).toBe(500);
    for (const k of users) expect(k.startsWith('user:')).toBe(true);
    const tagged = new Set((await fullScan(['MATCH', '{t}*'])).keys);
    expect([...tagged].sort()).toEqual(['{t}x', '{t}y']);
    const strings = new Set((await fullScan(['TYPE', 'string', 'COUNT', '100'])).keys);
    expect(strings.size).toBe(1002);
    expect((await fullScan(['TYPE', 'hash', 'COUNT', '100'])).keys).toEqual([]);
    const nine = new Set((await fullScan(['MATCH', 'user:9?', 'TYPE', 'STRING'])).keys);
    expect([...nine].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `user:9${i}`));
  });

  it('scans the selected database only', async () => {
    await setMany('zero:', 0, 50);
    await r.select(5);
    await setMany('five:', 0, 70);
    const five = new Set((await fullScan(['COUNT', '7'])).keys);
    expect(five.size).toBe(70);
    for (const k of five) expect(k.startsWith('five:')).toBe(true);
    await r.select(0);
    expect(new Set((await fullScan([])).keys).size).toBe(50);
  });

  it('a huge COUNT returns everything in one call', async () => {
    await setMany('k:', 0, 1000);
    const [cursor, keys] = (await r.call('SCAN', '0', 'COUNT', '100000')) as [string, string[]];
    expect(cursor).toBe('0');
    expect(new Set(keys).size).toBe(1000);
  });

  it('rejects bad cursors and options like Redis', async () => {
    await expect(r.call('SCAN', 'abc')).rejects.toThrow('ERR invalid cursor');
    await expect(r.call('SCAN', '0', 'COUNT', '0')).rejects.toThrow('ERR syntax error');
    await expect(r.call('SCAN', '0', 'COUNT', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('SCAN', '0', 'BOGUS', 'x')).rejects.toThrow('ERR syntax error');
  });
});
