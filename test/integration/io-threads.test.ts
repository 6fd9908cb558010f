import { describe, expect, it } from 'vitest';
import { keyHashSlot } from '../../src/util/crc16.ts';
import { FrontPool, RespConn, info, sleep } from '../helpers/fronts.ts';
import { startRedis, startSabre } from '../helpers/servers.ts';
import { redisForComparison } from '../helpers/suites.ts';

// Issue 8: the io-threads setting itself. `--io-threads N` starts N front
// threads on one port; CONFIG GET shows N and CONFIG SET refuses it as Redis
// does (immutable); INFO sabre has io_threads and front_<i>_connected_clients,
// INFO cpu used_cpu_{sys,user}_front_<i>.

const SHARDS = 4;
const withRedis = redisForComparison('io-threads.test');

function shardOf(key: string): number {
  const b = Buffer.from(key, 'latin1');
  return Math.floor((keyHashSlot(b, 0, b.length) * SHARDS) / 16384);
}

const SECONDS = /^\d+\.\d{6}$/;

describe('io-threads', () => {
  it('the default: CONFIG GET io-threads agrees with INFO sabre, and front 0 holds every client of a single front', async () => {
    const srv = await startSabre({ shards: SHARDS, });
    try {
      const c = await RespConn.open(srv.port);
      const r = await c.call('CONFIG', 'GET', 'io-threads');
      expect(Array.isArray(r) && r[0]).toBe('io-threads');
      const n = Number(Array.isArray(r) ? r[1] : NaN);
      expect(Number.isInteger(n) && n >= 1).toBe(true);
      const m = await info(c, 'sabre');
      expect(m.get('io_threads')).toBe(String(n));
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Number(m.get(`front_${i}_connected_clients`));
      expect(sum).toBe(1);
      expect(m.has(`front_${n}_connected_clients`)).toBe(false);
      c.close();
    } finally {
      await srv.stop();
    }
  });

  it('--io-threads 1: one front, the fields of front 0 only', async () => {
    const srv = await startSabre({ shards: SHARDS, args: ['--io-threads', '1'] });
    try {
      const c = await RespConn.open(srv.port);
      const d = await RespConn.open(srv.port);
      expect(await d.call('PING')).toBe('PONG');
      expect(await c.call('CONFIG', 'GET', 'io-threads')).toEqual(['io-threads', '1']);
      const m = await info(c, 'sabre');
      expect(m.get('io_threads')).toBe('1');
      expect(m.get('front_0_connected_clients')).toBe('2');
      expect(m.has('front_1_connected_clients')).toBe(false);
      const cpu = await info(c, 'cpu');
      expect(cpu.get('used_cpu_sys_front_0')).toMatch(SECONDS);
      expect(cpu.get('used_cpu_user_front_0')).toMatch(SECONDS);
      expect(cpu.has('used_cpu_user_front_1')).toBe(false);
      c.close();
      d.close();
    } finally {
      await srv.stop();
    }
  });

  it.runIf(withRedis)('CONFIG SET io-threads is refused as by Redis (immutable), whatever the value', async () => {
    const [srv, redis] = await Promise.all([startSabre({ shards: SHARDS, args: ['--io-threads', '2'] }), startRedis()]);
    if (redis === null) throw new Error('redis-server vanished');
    try {
      const s = await RespConn.open(srv.port);
      const r = await RespConn.open(redis.port);
      for (const v of ['2', '1', '3', '0', 'abc']) {
        const want = (await r.raw('CONFIG', 'SET', 'io-threads', v)).toString('latin1');
        expect((await s.raw('CONFIG', 'SET', 'io-threads', v)).toString('latin1')).toBe(want);
      }
      expect(await s.call('CONFIG', 'GET', 'io-threads')).toEqual(['io-threads', '2']);
      s.close();
      r.close();
    } finally {
      await Promise.all([srv.stop(), redis.stop()]);
    }
  });

  it('refuses io-threads 0, 129 and a non-number at start-up with Redis\'s texts', async () => {
    for (const [v, text] of [
      ['0', 'argument must be between 1 and'],
      ['129', 'argument must be between 1 and'],
      ['abc', "argument couldn't be parsed into an integer"],
    ] as const) {
      const start = startSabre({ shards: SHARDS, args: ['--io-threads', v] });
      await expect(start).rejects.toThrow('exited before it was ready (exit code 1)');
      await expect(start).rejects.toThrow(new RegExp(`FATAL CONFIG FILE ERROR[\\s\\S]*'io-threads "${v}"'[\\s\\S]*${text}`));
    }
  });

  it('a second server on the port of a running one is refused (SO_REUSEPORT must not share a port between servers)', async () => {
    const first = await startSabre({ shards: 1, args: ['--io-threads', '2'] });
    try {
      for (const io of ['2', '1']) {
        const outcome = await startSabre({ shards: 1, port: first.port, args: ['--io-threads', io] }).then(
          async (s) => {
            await s.stop();
            return `io-threads ${io}: the second server started`;
          },
          (e: unknown) => `io-threads ${io}: ${String(e)}`,
        );
        // As Redis on a taken port: "bind: Address already in use", then "Failed listening on port P (TCP), aborting."
        expect(outcome).toContain('exited before it was ready (exit code 1)');
        expect(outcome).toContain('Address already in use');
        expect(outcome).toContain(`Failed listening on port ${first.port} (TCP), aborting.`);
      }
      // The first one still has every connection.
      const c = await RespConn.open(first.port);
      expect(await c.call('PING')).toBe('PONG');
      c.close();
    } finally {
      await first.stop();
    }
  }, 60_000);

  it('--io-threads 2: INFO cpu per front, and a front\'s time grows with the work of its own clients', async () => {
    const srv = await startSabre({ shards: SHARDS, args: ['--io-threads', '2'] });
    const pool = await FrontPool.create(srv.port);
    try {
      await pool.spread(1);
      const observerFront = await pool.observerFront();
      const other = 1 - observerFront;
      const worker = pool.byFront()[other]?.[0];
      if (worker === undefined) throw new Error(`no connection on front ${other}`);
      const cpuOf = async (): Promise<number[]> => {
        const m = await info(pool.observer, 'cpu');
        return [0, 1].map((i) => {
          const sys = m.get(`used_cpu_sys_front_${i}`) ?? '';
          const user = m.get(`used_cpu_user_front_${i}`) ?? '';
          expect(sys).toMatch(SECONDS);
          expect(user).toMatch(SECONDS);
          return Number(sys) + Number(user);
        });
      };
      const before = await cpuOf();
      // Work on the other front only: 40,000 commands, 1,000 a write.
      for (let i = 0; i < 40; i++) {
        await worker.conn.pipeline(Array.from({ length: 1000 }, (_, j) => ['SET', `cpu:${j}`, 'x']));
      }
      await sleep(100); // the figures may be sampled
      const after = await cpuOf();
      const grew = after.map((v, i) => v - (before[i] ?? 0));
      expect(grew[other]).toBeGreaterThan(0.01);
      expect(grew[other]).toBeGreaterThan(grew[observerFront] ?? 0);
      // The shards' fields are still there.
      const m = await info(pool.observer, 'cpu');
      for (let i = 0; i < SHARDS; i++) expect(m.get(`used_cpu_user_shard_${i}`)).toMatch(SECONDS);
    } finally {
      pool.closeAll();
      await srv.stop();
    }
  }, 60_000);

  it('--io-threads 4: every front gets clients, ids are unique and multi-shard commands stay atomic across all four', async () => {
    const srv = await startSabre({ shards: SHARDS, args: ['--io-threads', '4'] });
    const pool = await FrontPool.create(srv.port);
    try {
      expect((await info(pool.observer, 'sabre')).get('io_threads')).toBe('4');
      expect(await pool.observer.call('CONFIG', 'GET', 'io-threads')).toEqual(['io-threads', '4']);
      const by = await pool.spread(2);
      expect(by).toHaveLength(4);
      const ids = pool.placed.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const list = (await pool.observer.str('CLIENT', 'LIST')).split('\n').filter((l) => l !== '');
      expect(list).toHaveLength(pool.placed.length + 1);
      expect((await info(pool.observer, 'clients')).get('connected_clients')).toBe(String(pool.placed.length + 1));

      // One writer per front, each with its own 8 keys over the 4 shards; the
      // other connection of each front reads every group.
      const groups = [0, 1, 2, 3].map((g) => {
        const ks: string[] = [];
        for (let i = 0; ks.length < 8; i++) {
          const k = `io4:g${g}:${i}`;
          if (shardOf(k) === ks.length % SHARDS) ks.push(k);
        }
        return ks;
      });
      const acked = [0, 0, 0, 0];
      const bad: string[] = [];
      let reads = 0;
      const deadline = Date.now() + 1500;
      const writers = by.map(async (l, g) => {
        const w = l[0];
        const ks = groups[g] ?? [];
        for (let round = 1; Date.now() < deadline; round++) {
          const r = await w?.conn.call('MSET', ...ks.flatMap((k) => [k, String(round)]));
          if (r !== 'OK') bad.push(`MSET: ${JSON.stringify(r)}`);
          acked[g] = round;
        }
      });
      const readers = by.map(async (l) => {
        const r = l[1];
        while (Date.now() < deadline) {
          for (const [g, ks] of groups.entries()) {
            const floor = acked[g] ?? 0;
            const vs = await r?.conn.call('MGET', ...ks);
            reads++;
            const v = Array.isArray(vs) && new Set(vs).size === 1 ? Number(vs[0] ?? 0) : NaN;
            if (!(v >= floor)) bad.push(`MGET group ${g} on front ${r?.front}: ${JSON.stringify(vs)}, acknowledged ${floor}`);
          }
        }
      });
      await Promise.all([...writers, ...readers]);
      expect(bad.slice(0, 10)).toEqual([]);
      expect(reads).toBeGreaterThan(100);
    } finally {
      pool.closeAll();
      await srv.stop();
    }
  }, 60_000);
});
