import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';

// HyperLogLog on a 4-shard server: PFCOUNT of several keys and PFMERGE whose
// keys live on different shards (coordinated: values fetched, registers merged
// on one shard) give exactly what the same command gives with every key on one
// shard; errors come in key order; hll-sparse-max-bytes given at start-up
// reaches every shard.

const QUARTERS = ['a', 'b', 'c', 'd'];

function els(prefix: string, from: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);
}

describe('hyperloglog across shards', () => {
  let r: Redis;
  let port = 0;
  useSabre((s, client) => {
    r = client;
    port = s.port;
  });

  it('keys a, b, c, d are on four shards', () => {
    expect(new Set(QUARTERS.map((k) => shardOfKey(k, 4))).size).toBe(4);
  });

  for (const [label, per] of [['sparse', 40], ['dense', 3000]] as const) {
    it(`PFCOUNT and PFMERGE of ${label} values on four shards equal the same on one shard`, async () => {
      for (let q = 0; q < 4; q++) {
        await r.pfadd(QUARTERS[q], ...els('e', q * per, per));
        await r.pfadd(`{t}${QUARTERS[q]}`, ...els('e', q * per, per));
      }
      const cross = await r.pfcount(...QUARTERS);
      const local = await r.pfcount(...QUARTERS.map((k) => `{t}${k}`));
      expect(cross).toBe(local);
      expect(Math.abs(cross - 4 * per)).toBeLessThan(4 * per * 0.05 + 2);
      // Destination on a fifth key (some shard), sources everywhere; destination among the sources too.
      expect(await r.pfmerge('dest', ...QUARTERS)).toBe('OK');
      expect(await r.pfmerge('{t}dest', ...QUARTERS.map((k) => `{t}${k}`))).toBe('OK');
      expect(await r.getBuffer('dest')).toEqual(await r.getBuffer('{t}dest'));
      expect(await r.pfcount('dest')).toBe(cross);
      expect(await r.pfmerge('a', 'b', 'c', 'd')).toBe('OK');
      expect(await r.pfmerge('{t}a', '{t}b', '{t}c', '{t}d')).toBe('OK');
      expect(await r.getBuffer('a')).toEqual(await r.getBuffer('{t}a'));
      expect(await r.pfcount('a')).toBe(cross);
      // Sources untouched by PFCOUNT of several keys and by PFMERGE.
      expect(await r.getBuffer('b')).toEqual(await r.getBuffer('{t}b'));
    });
  }

  it('errors come from the first bad key in key order, across shards', async () => {
    await r.pfadd('a', 'x');
    await r.rpush('b', 'list');
    await r.set('c', 'not an hll');
    await r.set('d', Buffer.concat([Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80', 'latin1'), Buffer.from([0x7f])]));
    const err = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: Error) => e.message);
    expect(await err(r.pfcount('a', 'b', 'c'))).toMatch(/^WRONGTYPE Operation against/);
    expect(await err(r.pfcount('a', 'c', 'b'))).toBe('WRONGTYPE Key is not a valid HyperLogLog string value.');
    expect(await err(r.pfcount('a', 'd', 'b'))).toBe('INVALIDOBJ Corrupted HLL object detected');
    expect(await err(r.pfmerge('a', 'nokey', 'c', 'd'))).toBe('WRONGTYPE Key is not a valid HyperLogLog string value.');
    expect(await err(r.pfmerge('b', 'a'))).toMatch(/^WRONGTYPE Operation against/);
    expect(await err(r.pfmerge('new', 'a', 'd'))).toBe('INVALIDOBJ Corrupted HLL object detected');
    expect(await r.exists('new')).toBe(0);
    expect(await r.pfcount('a', 'nokey1', 'nokey2')).toBe(1);
  });

  it('concurrent PFADDs while PFMERGE and PFCOUNT run across shards: every merge sees whole commands', async () => {
    const writers = Array.from({ length: 4 }, () => redisClient(port));
    try {
      const adds = writers.map(async (w, q) => {
        for (let i = 0; i < 100; i++) await w.pfadd(QUARTERS[q], ...els(`w${q}-`, i * 10, 10));
      });
      const merges = (async () => {
        for (let i = 0; i < 50; i++) {
          await r.pfmerge('dest', ...QUARTERS);
          await r.pfcount(...QUARTERS);
        }
      })();
      await Promise.all([...adds, merges]);
      await r.pfmerge('dest', ...QUARTERS);
      expect(await r.pfcount('dest')).toBe(await r.pfcount(...QUARTERS));
      expect(Math.abs(await r.pfcount('dest') - 4000)).toBeLessThan(4000 * 0.05);
    } finally {
      for (const w of writers) w.disconnect();
    }
  });

  it('an HLL moves between shards by RENAME and COPY with its bytes', async () => {
    await r.pfadd('a', ...els('m', 0, 100));
    const bytes = await r.getBuffer('a');
    expect(await r.copy('a', 'b')).toBe(1);
    expect(await r.rename('a', 'c')).toBe('OK');
    expect(await r.getBuffer('b')).toEqual(bytes);
    expect(await r.getBuffer('c')).toEqual(bytes);
    expect(await r.pfadd('c', 'm1')).toBe(0);
    expect(await r.pfcount('b', 'c')).toBe(await r.pfcount('b'));
  });
});

describe('hll-sparse-max-bytes at start-up reaches every shard', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; }, { args: ['--hll-sparse-max-bytes', '60'] });

  it('values on all four shards turn dense past 60 bytes', async () => {
    expect(await r.config('GET', 'hll-sparse-max-bytes')).toEqual(['hll-sparse-max-bytes', '60']);
    for (const k of QUARTERS) {
      await r.pfadd(k, ...els('x', 0, 5));
      expect(await r.call('PFDEBUG', 'ENCODING', k)).toBe('sparse');
      await r.pfadd(k, ...els('y', 0, 40));
      expect(await r.call('PFDEBUG', 'ENCODING', k)).toBe('dense');
      expect(await r.strlen(k)).toBe(12304);
    }
    await r.config('SET', 'hll-sparse-max-bytes', '3000');
    for (const k of QUARTERS) {
      await r.pfadd(`${k}2`, ...els('z', 0, 45));
      expect(await r.call('PFDEBUG', 'ENCODING', `${k}2`)).toBe('sparse');
    }
  });
});
