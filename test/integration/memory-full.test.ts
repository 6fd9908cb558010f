import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ERR_OOM } from '../../src/commands/errors.ts';
import type { ServerHandle } from '../helpers/servers.ts';
import { shardOfKey, useSabre } from '../helpers/suites.ts';

// A real server with 4 shards of 16 MiB each, filled with SETs of mixed sizes
// until every shard answers -OOM: every acknowledged key must read back
// intact, the process stays up without an internal error, and deletes make
// room for new writes.

const SHARDS = 4;
const SIZES = [100, 1_000, 10_000, 100_000, 1_000_000, 100, 3_000];

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed * 7) & 0xff;
  return b;
}

describe('a shard whose arena is full (4 shards, shard-arena-mb 16)', () => {
  let server: ServerHandle;
  let r: Redis;
  useSabre((s, client) => {
    server = s;
    r = client;
  }, { shards: SHARDS, args: ['--shard-arena-mb', '16'] });

  it('answers -OOM, keeps every acknowledged key intact, serves reads and deletes, and writes again after deletes', async () => {
    const acked = new Map<string, { size: number; seed: number }>();
    const smallRefused = new Set<number>();
    let refused = 0;
    let n = 0;
    for (let round = 0; round < 200 && smallRefused.size < SHARDS; round++) {
      const p = r.pipeline();
      const batch: { key: string; size: number; seed: number }[] = [];
      for (let i = 0; i < 100; i++, n++) {
        const key = `fill:${n}`;
        const size = SIZES[n % SIZES.length];
        batch.push({ key, size, seed: n & 0xff });
        p.set(key, pattern(size, n & 0xff));
      }
      const results = (await p.exec()) ?? [];
      results.forEach(([err, res], i) => {
        const { key, size, seed } = batch[i];
        if (err) {
          expect(err.message).toBe(ERR_OOM);
          refused++;
          if (size <= 100) smallRefused.add(shardOfKey(key, SHARDS));
        } else {
          expect(res).toBe('OK');
          acked.set(key, { size, seed });
        }
      });
    }
    expect(smallRefused.size).toBe(SHARDS);
    expect(refused).toBeGreaterThan(0);
    // About 4 x 16 MiB less the reserves went in.
    let stored = 0;
    for (const { size } of acked.values()) stored += size;
    expect(stored).toBeGreaterThan(40 * 1024 * 1024);

    // An MSET within one shard that does not fit is refused whole.
    await expect(r.mset('{t}small', 'x', '{t}big', pattern(1_000_000, 1))).rejects.toThrow(ERR_OOM);
    expect(await r.exists('{t}small', '{t}big')).toBe(0);

    // Every acknowledged key reads back intact.
    const keys = [...acked.keys()];
    for (let i = 0; i < keys.length; i += 200) {
      const part = keys.slice(i, i + 200);
      const p = r.pipeline();
      for (const k of part) p.getBuffer(k);
      const results = (await p.exec()) ?? [];
      results.forEach(([err, res], j) => {
        expect(err).toBeNull();
        const { size, seed } = acked.get(part[j]) as { size: number; seed: number };
        expect((res as Buffer).equals(pattern(size, seed)), part[j]).toBe(true);
      });
    }
    expect(await r.dbsize()).toBe(acked.size);

    // Deletes work on full shards and make room: the same writes succeed again.
    const big = keys.filter((k) => (acked.get(k) as { size: number }).size >= 100_000);
    expect(await r.del(...big)).toBe(big.length);
    for (let shard = 0; shard < SHARDS; shard++) {
      let key = '';
      for (let i = 0; key === ''; i++) if (shardOfKey(`again:${i}`, SHARDS) === shard) key = `again:${i}`;
      expect(await r.set(key, pattern(1_000_000, 3))).toBe('OK');
      expect((await r.getBuffer(key))?.equals(pattern(1_000_000, 3))).toBe(true);
    }
    expect(await r.ping()).toBe('PONG');
    expect(server.logs()).not.toMatch(/internal error|free of an address|Error:/);
  }, 120_000);
});
