import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../helpers/prng.ts';
import { redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';
import type { ServerHandle } from '../helpers/servers.ts';

// SORT on a 4-shard server with its pattern keys spread over every shard,
// checked against a model in JavaScript: random lists, weights and GET
// values; STORE on another shard; a large sort; and that the coordinated
// sort is atomic with respect to other clients' writes.

function cmpBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

describe('sort across shards', () => {
  let r: Redis;
  let server: ServerHandle;
  useSabre((s, client) => { server = s; r = client; });

  it('weights and GET keys really live on every shard', () => {
    const shards = new Set(Array.from({ length: 40 }, (_, i) => shardOfKey(`w:${i}`)));
    expect(shards.size).toBe(4);
  });

  it('random lists sorted BY weights on other shards, with GET patterns and LIMIT, match a model', async () => {
    const rand = mulberry32(7);
    for (let round = 0; round < 20; round++) {
      await r.flushall();
      const n = 1 + Math.floor(rand() * 200);
      const elements = Array.from({ length: n }, () => String(Math.floor(rand() * 500)));
      const weights = new Map<string, number>();
      const names = new Map<string, string>();
      const p = r.pipeline();
      p.rpush('src', ...elements);
      for (const e of new Set(elements)) {
        if (rand() < 0.8) {
          const w = Math.floor(rand() * 1000) - 500;
          weights.set(e, w);
          p.set(`w:${e}`, String(w));
        }
        if (rand() < 0.7) {
          names.set(e, `name-${e}`);
          p.set(`n:${e}`, `name-${e}`);
        }
      }
      await p.exec();
      const desc = rand() < 0.5;
      const start = Math.floor(rand() * (n + 2)) - 1;
      const count = Math.floor(rand() * (n + 2)) - 1;
      const model = elements.slice().sort((a, b) => {
        const d = (weights.get(a) ?? 0) - (weights.get(b) ?? 0);
        return (d !== 0 ? Math.sign(d) : cmpBytes(a, b)) * (desc ? -1 : 1);
      });
      const s = Math.min(Math.max(start, 0), n);
      const c = Math.min(Math.max(count, -1), n);
      const range = s >= n ? [] : model.slice(s, c < 0 ? n : s + c);
      const args = ['src', 'BY', 'w:*', 'LIMIT', String(start), String(count), ...(desc ? ['DESC'] : []), 'GET', '#', 'GET', 'n:*'];
      const got = await r.call('SORT', ...args) as (string | null)[];
      expect(got).toEqual(range.flatMap((e) => [e, names.get(e) ?? null]));
      // The same into a list on another shard than the source.
      expect(shardOfKey('dst')).not.toBe(shardOfKey('src'));
      const stored = await r.call('SORT', ...args, 'STORE', 'dst') as number;
      expect(stored).toBe(range.length * 2);
      expect(await r.lrange('dst', 0, -1)).toEqual(range.flatMap((e) => [e, names.get(e) ?? '']));
      if (range.length === 0) expect(await r.exists('dst')).toBe(0);
    }
  }, 60_000);

  it('a 100,000-element list sorted BY keys on every shard', async () => {
    const n = 100_000;
    const p = r.pipeline();
    for (let i = 0; i < n; i += 10_000) p.rpush('big', ...Array.from({ length: 10_000 }, (_, k) => String(i + k)));
    for (let i = 0; i < n; i += 10_000) {
      const kv: string[] = [];
      for (let k = i; k < i + 10_000; k++) kv.push(`w:${k}`, String((k * 7919) % n));
      p.mset(...kv);
    }
    await p.exec();
    const t0 = performance.now();
    const top = await r.call('SORT', 'big', 'BY', 'w:*', 'LIMIT', '0', '5', 'GET', '#', 'GET', 'w:*') as string[];
    const ms = performance.now() - t0;
    // (k * 7919) % n is a permutation of 0..n-1: weight 0 is k = 0, weight 1 the k with 7919k = 1 (mod n), ...
    const inverse = new Map<number, number>();
    for (let k = 0; k < n; k++) inverse.set((k * 7919) % n, k);
    expect(top).toEqual([0, 1, 2, 3, 4].flatMap((w) => [String(inverse.get(w)), String(w)]));
    expect(await r.call('SORT', 'big', 'BY', 'w:*', 'DESC', 'STORE', 'sorted')).toBe(n);
    expect(await r.lindex('sorted', 0)).toBe(String(inverse.get(n - 1)));
    expect(ms).toBeLessThan(10_000);
  }, 60_000);

  it('a coordinated SORT sees one state: writes of other clients land before or after it, never inside', async () => {
    await r.rpush('src', ...Array.from({ length: 50 }, (_, i) => String(i)));
    for (let i = 0; i < 50; i++) await r.set(`w:${i}`, String(i));
    const writer = redisClient(server.port);
    await writer.connect();
    let running = true;
    let flips = 0;
    // Each transaction-free step reverses all weights at once with one MSET (atomic across shards).
    const writing = (async () => {
      while (running) {
        const kv: string[] = [];
        const sign = flips % 2 === 0 ? -1 : 1;
        for (let i = 0; i < 50; i++) kv.push(`w:${i}`, String(sign * i));
        await writer.mset(...kv);
        flips++;
      }
    })();
    const ascending = Array.from({ length: 50 }, (_, i) => String(i));
    const descending = ascending.slice().reverse();
    for (let k = 0; k < 100; k++) {
      const got = await r.call('SORT', 'src', 'BY', 'w:*') as string[];
      expect([ascending.join(), descending.join()]).toContain(got.join());
    }
    running = false;
    await writing;
    writer.disconnect();
    expect(flips).toBeGreaterThan(5);
  }, 60_000);
});
