import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../helpers/prng.ts';
import { redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';
import type { ServerHandle } from '../helpers/servers.ts';

// Geo on a 4-shard server: STORE / STOREDIST / GEOSEARCHSTORE with source and
// destination on different shards give what the same command gives on one
// shard, and the coordinated store is one step for every other client (a
// reader never sees the destination missing or half written, and stores in
// opposite directions at once neither deadlock nor mix).

const NAMES = Array.from({ length: 300 }, (_, i) => `m${i}`);

function points(seed: number): (string | number)[] {
  const rnd = mulberry32(seed);
  const out: (string | number)[] = [];
  for (const name of NAMES) out.push(2.35 + (rnd() - 0.5) * 2, 48.85 + (rnd() - 0.5) * 1.5, name);
  return out;
}

describe('geo: cross-shard stores', () => {
  let r: Redis;
  let server: ServerHandle;
  useSabre((s, client) => {
    server = s;
    r = client;
  });

  it('the test keys really are on different shards', () => {
    expect(shardOfKey('src', 4)).not.toBe(shardOfKey('dst', 4));
    expect(shardOfKey('{k}src', 4)).toBe(shardOfKey('{k}dst', 4));
  });

  it('cross-shard STORE, STOREDIST and GEOSEARCHSTORE equal the one-shard results', async () => {
    await r.call('GEOADD', 'src', ...points(1));
    await r.call('GEOADD', '{k}src', ...points(1));
    const rnd = mulberry32(2);
    for (let i = 0; i < 60; i++) {
      const lon = String(2.35 + (rnd() - 0.5) * 2);
      const lat = String(48.85 + (rnd() - 0.5) * 1.5);
      const km = String(5 + rnd() * 60);
      const count = rnd() < 0.5 ? ['COUNT', String(1 + Math.floor(rnd() * 40))] : [];
      const order = rnd() < 0.5 ? ['DESC'] : ['ASC'];
      const variants: [string[], string[]][] = [
        [['GEORADIUS', 'src', lon, lat, km, 'km', ...count, ...order, 'STORE', 'dst'],
          ['GEORADIUS', '{k}src', lon, lat, km, 'km', ...count, ...order, 'STORE', '{k}dst']],
        [['GEORADIUSBYMEMBER', 'src', NAMES[i], km, 'km', ...count, 'STOREDIST', 'dst'],
          ['GEORADIUSBYMEMBER', '{k}src', NAMES[i], km, 'km', ...count, 'STOREDIST', '{k}dst']],
        [['GEOSEARCHSTORE', 'dst', 'src', 'FROMLONLAT', lon, lat, 'BYBOX', km, km, 'km', ...count, 'STOREDIST'],
          ['GEOSEARCHSTORE', '{k}dst', '{k}src', 'FROMLONLAT', lon, lat, 'BYBOX', km, km, 'km', ...count, 'STOREDIST']],
      ];
      for (const [cross, local] of variants) {
        const n1 = await r.call(cross[0], ...cross.slice(1));
        const n2 = await r.call(local[0], ...local.slice(1));
        expect(n1).toBe(n2);
        expect(await r.call('GEOHASH', 'dst', ...NAMES)).toEqual(await r.call('GEOHASH', '{k}dst', ...NAMES));
        expect(await r.exists('dst')).toBe(await r.exists('{k}dst'));
      }
    }
  });

  it('a reader never sees the destination missing while stores replace it', async () => {
    await r.call('GEOADD', 'src', ...points(3));
    await r.set('dst', 'before');
    const writers = [redisClient(server.port), redisClient(server.port)];
    const reader = redisClient(server.port);
    try {
      const stop = Date.now() + 1500;
      const seen = new Set<string>();
      const write = async (w: Redis, i: number): Promise<void> => {
        while (Date.now() < stop) {
          if (i === 0) await w.call('GEOSEARCHSTORE', 'dst', 'src', 'FROMLONLAT', '2.35', '48.85', 'BYRADIUS', '20', 'km');
          else await w.call('GEORADIUS', 'src', '2.35', '48.85', '30', 'km', 'STOREDIST', 'dst');
        }
      };
      const read = async (): Promise<void> => {
        while (Date.now() < stop) seen.add(await reader.type('dst'));
      };
      await Promise.all([write(writers[0], 0), write(writers[1], 1), read()]);
      expect(seen.has('none')).toBe(false);
      expect(seen.has('zset')).toBe(true);
    } finally {
      for (const c of [...writers, reader]) c.disconnect();
    }
  });

  it('stores in opposite directions at once finish, each result whole', async () => {
    await r.call('GEOADD', 'src', ...points(4));
    await r.call('GEOADD', 'dst', ...points(5));
    const clients = [0, 1, 2, 3].map(() => redisClient(server.port));
    try {
      const runs = clients.map(async (c, i) => {
        const replies: unknown[] = [];
        for (let k = 0; k < 100; k++) {
          const [from, to] = i % 2 === 0 ? ['src', 'dst'] : ['dst', 'src'];
          replies.push(await c.call('GEORADIUS', from, '2.35', '48.85', String(200 + k), 'km', 'STORE', to));
        }
        return replies;
      });
      const all = (await Promise.all(runs)).flat();
      for (const n of all) expect(typeof n).toBe('number');
      // Both keys hold a whole search result: every member has a position, and the two agree.
      const a = (await r.call('GEOPOS', 'src', ...NAMES)) as unknown[];
      const b = (await r.call('GEOPOS', 'dst', ...NAMES)) as unknown[];
      const present = (xs: unknown[]): number => xs.filter((x) => x !== null).length;
      expect(present(a)).toBeGreaterThan(0);
      expect(present(b)).toBeGreaterThan(0);
      expect(await r.ping()).toBe('PONG');
    } finally {
      for (const c of clients) c.disconnect();
    }
  });
});
