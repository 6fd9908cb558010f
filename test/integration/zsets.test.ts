import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { shardOfKey, useSabre } from '../helpers/suites.ts';
import { mulberry32 } from '../helpers/prng.ts';

// Sorted sets on a 4-shard server, beyond what the differential tests
// compare: big sets (skiplist) combined across shards against a JS model,
// keys moved between shards keep their contents and encoding, memory comes
// back when a set goes, and a shard that runs out of memory answers OOM with
// the keyspace as it was.

async function usedMemory(r: Redis): Promise<number> {
  const text = await r.call('INFO', 'memory') as string;
  return Number(/used_memory:(\d+)/.exec(text)?.[1]);
}

type Model = Map<string, number>;

/** Fills key with n members of seeded random scores; returns the model. */
async function fill(r: Redis, key: string, n: number, seed: number, prefix = 'm'): Promise<Model> {
  const rnd = mulberry32(seed);
  const model: Model = new Map();
  const p = r.pipeline();
  for (let i = 0; i < n; i += 500) {
    const args: Array<string | number> = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      const m = `${prefix}${Math.floor(rnd() * n * 2)}`;
      const s = Math.floor(rnd() * 1000) / 8;
      model.set(m, s);
      args.push(s, m);
    }
    p.zadd(key, ...args);
  }
  await p.exec();
  return model;
}

function sorted(model: Model): Array<[string, number]> {
  return [...model.entries()].sort((x, y) => (x[1] !== y[1] ? x[1] - y[1] : Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0]))));
}

function pairs(flat: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], Number(flat[i + 1])]);
  return out;
}

describe('zsets: 4 shards', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; });

  it('keys a, b, c, d span four shards', () => {
    expect(new Set(['a', 'b', 'c', 'd'].map((k) => shardOfKey(k, 4))).size).toBe(4);
  });

  it('ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZINTERCARD of big sets across shards match a model', async () => {
    const a = await fill(r, 'a', 20000, 1);
    const b = await fill(r, 'b', 15000, 2);
    const c = await fill(r, 'c', 3000, 3);
    expect(await r.call('OBJECT', 'ENCODING', 'a')).toBe('skiplist');
    expect(await r.zcard('a')).toBe(a.size);

    const union: Model = new Map();
    for (const [m, s] of a) union.set(m, s * 2);
    for (const [m, s] of b) union.set(m, (union.get(m) ?? 0) + s);
    for (const [m, s] of c) union.set(m, (union.get(m) ?? 0) + s);
    expect(await r.zunionstore('d', 3, 'a', 'b', 'c', 'WEIGHTS', 2, 1, 1)).toBe(union.size);
    expect(pairs(await r.zrange('d', 0, -1, 'WITHSCORES'))).toEqual(sorted(union));

    const inter: Model = new Map();
    for (const [m, s] of a) if (b.has(m)) inter.set(m, Math.max(s, b.get(m) as number));
    expect(await r.zinterstore('d', 2, 'a', 'b', 'AGGREGATE', 'MAX')).toBe(inter.size);
    expect(pairs(await r.zrange('d', 0, -1, 'WITHSCORES'))).toEqual(sorted(inter));
    expect(await r.call('ZINTERCARD', 2, 'a', 'b')).toBe(inter.size);
    expect(await r.call('ZINTERCARD', 2, 'a', 'b', 'LIMIT', 10)).toBe(Math.min(10, inter.size));

    const diff: Model = new Map();
    for (const [m, s] of a) if (!b.has(m) && !c.has(m)) diff.set(m, s);
    expect(await r.zdiffstore('d', 3, 'a', 'b', 'c')).toBe(diff.size);
    expect(pairs(await r.zrange('d', 0, -1, 'WITHSCORES'))).toEqual(sorted(diff));
    expect(pairs(await r.call('ZDIFF', 3, 'a', 'b', 'c', 'WITHSCORES') as string[])).toEqual(sorted(diff));

    // An empty result deletes the destination, across shards too.
    expect(await r.zinterstore('d', 2, 'a', 'nokey')).toBe(0);
    expect(await r.exists('d')).toBe(0);
  });

  it('ZRANGESTORE and ZMPOP across shards', async () => {
    const a = await fill(r, 'a', 5000, 4);
    const expected = sorted(a).slice(100, 200);
    expect(await r.call('ZRANGESTORE', 'b', 'a', 100, 199)).toBe(100);
    expect(pairs(await r.zrange('b', 0, -1, 'WITHSCORES'))).toEqual(expected);
    expect(await r.call('ZRANGESTORE', 'b', 'a', 1, 0)).toBe(0);
    expect(await r.exists('b')).toBe(0);
    await r.zadd('c', 1, 'x', 2, 'y');
    const popped = await r.call('ZMPOP', 3, 'nokey', 'c', 'a', 'MAX', 'COUNT', 5) as [string, Array<[string, string]>];
    expect(popped[0]).toBe('c');
    expect(popped[1]).toEqual([['y', '2'], ['x', '1']]);
    expect(await r.exists('c')).toBe(0);
    const fromA = await r.call('ZMPOP', 2, 'c', 'a', 'MIN') as [string, Array<[string, string]>];
    expect(fromA[0]).toBe('a');
    expect(fromA[1][0][0]).toBe(sorted(a)[0][0]);
  });

  it('ranks and ranges of a skiplist agree with a model after random updates and removals', async () => {
    const model = await fill(r, 'a', 10000, 5);
    const rnd = mulberry32(6);
    const p = r.pipeline();
    for (let i = 0; i < 3000; i++) {
      const m = `m${Math.floor(rnd() * 20000)}`;
      if (rnd() < 0.3) {
        p.zrem('a', m);
        model.delete(m);
      } else {
        const inc = Math.floor(rnd() * 100) / 4 - 12;
        p.zincrby('a', inc, m);
        model.set(m, (model.get(m) ?? 0) + inc);
      }
    }
    await p.exec();
    const order = sorted(model);
    expect(await r.zcard('a')).toBe(order.length);
    for (let k = 0; k < 50; k++) {
      const i = Math.floor(rnd() * order.length);
      expect(await r.zrank('a', order[i][0])).toBe(i);
      expect(await r.zrevrank('a', order[i][0])).toBe(order.length - 1 - i);
      expect(Number(await r.zscore('a', order[i][0]))).toBe(order[i][1]);
    }
    expect(pairs(await r.zrange('a', 5000, 5009, 'WITHSCORES'))).toEqual(order.slice(5000, 5010));
    const lo = order[2000][1];
    const hi = order[2100][1];
    expect(await r.zcount('a', lo, hi)).toBe(order.filter(([, s]) => s >= lo && s <= hi).length);
    expect(await r.zremrangebyrank('a', 0, 999)).toBe(1000);
    expect(await r.zrange('a', 0, 0)).toEqual([order[1000][0]]);
  });

  it('COPY, RENAME and MOVE across shards keep contents and encoding; SCAN TYPE zset; MEMORY USAGE', async () => {
    await fill(r, 'a', 3000, 7);
    await r.zadd('b', 1, 'x');
    const all = await r.zrange('a', 0, -1, 'WITHSCORES');
    expect(await r.copy('a', 'c')).toBe(1);
    expect(await r.zrange('c', 0, -1, 'WITHSCORES')).toEqual(all);
    expect(await r.call('OBJECT', 'ENCODING', 'c')).toBe('skiplist');
    expect(await r.rename('c', 'd')).toBe('OK');
    expect(await r.zrange('d', 0, -1, 'WITHSCORES')).toEqual(all);
    expect(await r.move('d', 3)).toBe(1);
    await r.select(3);
    expect(await r.zcard('d')).toBe(all.length / 2);
    await r.select(0);
    await r.set('s', 'v');
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'COUNT', 100, 'TYPE', 'zset');
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    expect(found.sort()).toEqual(['a', 'b']);
    const big = await r.call('MEMORY', 'USAGE', 'a') as number;
    const small = await r.call('MEMORY', 'USAGE', 'b') as number;
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(200);
    expect(big).toBeGreaterThan(3000 * 24);
    expect(big).toBeLessThan(3000 * 120);
    expect(await r.type('a')).toBe('zset');
  });

  it('DEL, SET over a zset, expiry and FLUSHALL give its memory back', async () => {
    await r.set('warm', 'x');
    const base = await usedMemory(r);
    for (const how of ['del', 'set', 'expire', 'flushall', 'pop'] as const) {
      await fill(r, 'z', 20000, 8);
      expect(await usedMemory(r)).toBeGreaterThan(base + 500_000);
      if (how === 'del') expect(await r.del('z')).toBe(1);
      if (how === 'set') {
        await r.set('z', 'v');
        await r.del('z');
      }
      if (how === 'expire') {
        await r.pexpire('z', 1);
        await new Promise((res) => setTimeout(res, 20));
        expect(await r.exists('z')).toBe(0);
      }
      if (how === 'flushall') {
        await r.flushall();
        await r.set('warm', 'x');
      }
      if (how === 'pop') {
        await r.call('ZPOPMIN', 'z', 100000);
        expect(await r.exists('z')).toBe(0);
      }
      const after = await usedMemory(r);
      expect(after).toBeLessThan(base + 70_000);
    }
  });
});

describe('zsets: a full shard (4 shards, shard-arena-mb 16)', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; }, { args: ['--shard-arena-mb', '16'] });

  it('ZADD and ZUNIONSTORE answer OOM and change nothing', async () => {
    await r.zadd('{a}dst', 1, 'keep');
    await r.zadd('b', 1, 'x');
    // Fill key a's shard with one growing zset until it refuses.
    let n = 0;
    let oom = '';
    for (let round = 0; round < 400 && oom === ''; round++) {
      const args: Array<string | number> = [];
      for (let j = 0; j < 1000; j++, n++) args.push(n, `member-with-a-longish-name-${n}`);
      try {
        await r.zadd('a', ...args);
      } catch (e) {
        oom = (e as Error).message;
      }
    }
    expect(oom).toMatch(/^OOM/);
    const card = await r.zcard('a');
    expect(card).toBeGreaterThan(10000);
    expect(card % 1000).toBe(0); // the refused ZADD added nothing
    // A union into a's shard that cannot fit leaves the destination as it was.
    let unionErr = '';
    try {
      await r.zunionstore('{a}dst', 2, 'a', 'b');
    } catch (e) {
      unionErr = (e as Error).message;
    }
    expect(unionErr).toMatch(/^OOM/);
    expect(await r.zrange('{a}dst', 0, -1)).toEqual(['keep']);
    expect(await r.zcard('a')).toBe(card);
    // Reads and removals still work.
    expect(await r.zrank('a', 'member-with-a-longish-name-0')).toBe(0);
    expect(await r.zremrangebyrank('a', 0, 99)).toBe(100);
  });
});
