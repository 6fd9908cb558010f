import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useSabre } from '../helpers/suites.ts';

// Lists on a 4-shard server, beyond what the differential tests compare:
// MEMORY USAGE, and that deleting, overwriting, expiring and flushing a list
// gives its nodes back to the arena (used_memory returns to where it was).

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function usedMemory(r: Redis): Promise<number> {
  const text = await r.call('INFO', 'memory') as string;
  return Number(/used_memory:(\d+)/.exec(text)?.[1]);
}

describe('lists: memory', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; });

  /** Builds a 20,000-element list (many nodes) under key. */
  async function bigList(key: string): Promise<void> {
    const p = r.pipeline();
    for (let i = 0; i < 20; i++) p.rpush(key, ...Array.from({ length: 1000 }, (_, j) => `element-${i}-${j}`));
    await p.exec();
    expect(await r.llen(key)).toBe(20000);
  }

  it('MEMORY USAGE counts the nodes', async () => {
    await r.rpush('small', 'a');
    await bigList('big');
    const small = await r.call('MEMORY', 'USAGE', 'small') as number;
    const big = await r.call('MEMORY', 'USAGE', 'big') as number;
    expect(small).toBeGreaterThan(0);
    expect(big).toBeGreaterThan(20000 * 16);
    expect(big).toBeLessThan(20000 * 64);
  });

  it('DEL, UNLINK, SET over a list, expiry and FLUSHALL free the whole list', async () => {
    await r.set('warm', 'x');
    const base = await usedMemory(r);
    for (const how of ['del', 'unlink', 'set', 'expire', 'flushall'] as const) {
      await bigList('l');
      expect(await usedMemory(r)).toBeGreaterThan(base + 300_000);
      if (how === 'del') expect(await r.del('l')).toBe(1);
      if (how === 'unlink') expect(await r.unlink('l')).toBe(1);
      if (how === 'set') {
        expect(await r.set('l', 'v')).toBe('OK');
        await r.del('l');
      }
      if (how === 'expire') {
        await r.pexpire('l', 1);
        await sleep(300); // the active expiry cycle, not a read, removes it
      }
      if (how === 'flushall') {
        await r.flushall();
        await r.set('warm', 'x');
      }
      expect(await r.exists('l'), how).toBe(0);
      expect(await usedMemory(r), how).toBeLessThan(base + 4096);
    }
  });
});
