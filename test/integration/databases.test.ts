import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeDifferential } from '../helpers/differential.ts';
import { startSabre } from '../helpers/servers.ts';
import { redisClient, shardOfKey } from '../helpers/suites.ts';

// Databases past 255: the request record carries the index as a u16, so up to
// 65536 databases work (Redis's own limit is INT_MAX; past 65536 Sabre refuses
// to start). Keys must land in the database selected, not in db % 256, and
// INFO keyspace must list every non-empty database.

const DBS = ['--databases', '65536'];

// Keys on different shards, so that a wrong database would show on any of them.
const KEYS = ['db:a', 'db:b', 'db:c', 'db:d'];

describeDifferential('65536 databases, against Redis', (ctx) => {
  it('uses keys on every shard', () => {
    expect(new Set(KEYS.map((k) => shardOfKey(k))).size).toBe(4);
  });

  it('SELECT 256, 300, 65535: keys land in that database and nowhere else', async () => {
    await ctx.expectSame([
      ['SELECT', '256'], ...KEYS.map((k) => ['SET', k, `256:${k}`]),
      ['SELECT', '300'], ...KEYS.map((k) => ['SET', k, `300:${k}`]), ['SET', 'only300', 'x'],
      ['SELECT', '65535'], ...KEYS.map((k) => ['SET', k, `65535:${k}`]),
      ['SELECT', '0'], ['MGET', ...KEYS], ['DBSIZE'], ['EXISTS', 'only300'],
      // db 256 % 256 = 0 and 300 % 256 = 44: those must stay empty.
      ['SELECT', '44'], ['DBSIZE'], ['SELECT', '255'], ['DBSIZE'],
      ['SELECT', '256'], ['MGET', ...KEYS], ['DBSIZE'],
      ['SELECT', '300'], ['MGET', ...KEYS], ['DBSIZE'], ['KEYS', '*only*'],
      ['SELECT', '65535'], ['MGET', ...KEYS], ['DBSIZE'],
      ['SELECT', '65536'], ['SELECT', '-1'],
      ['INFO', 'keyspace'],
    ]);
  });

  it('SWAPDB, MOVE, COPY and FLUSHDB with high indexes', async () => {
    await ctx.expectSame([
      ['SELECT', '300'], ...KEYS.map((k) => ['SET', k, `300:${k}`]),
      ['SELECT', '65535'], ['SET', 'db:a', 'top'],
      ['SWAPDB', '300', '65535'], ['SWAPDB', '300', '65536'], ['SWAPDB', '0', '99999'],
      ['SELECT', '300'], ['MGET', ...KEYS], ['DBSIZE'],
      ['SELECT', '65535'], ['MGET', ...KEYS], ['DBSIZE'],
      ['MOVE', 'db:b', '257'], ['MOVE', 'db:c', '65536'], ['MOVE', 'db:c', '0'],
      ['SELECT', '257'], ['GET', 'db:b'], ['DBSIZE'],
      ['COPY', 'db:b', 'db:b2', 'DB', '40000'], ['SELECT', '40000'], ['GET', 'db:b2'],
      ['SELECT', '65535'], ['FLUSHDB'], ['DBSIZE'], ['SELECT', '257'], ['DBSIZE'],
      ['INFO', 'keyspace'],
    ]);
  });

  it('INFO keyspace lists every non-empty database, in order', async () => {
    const dbs = [1, 255, 256, 511, 4096, 65535];
    await ctx.expectSame([
      ...dbs.flatMap((d) => [['SELECT', String(d)], ['SET', `k${d}`, 'v']]),
      ['INFO', 'keyspace'],
    ]);
    const [info] = await ctx.run('sabre', [['INFO', 'keyspace']]);
    expect(info?.toString()).toContain('db65535:keys=1,expires=0');
    expect(info?.toString().match(/^db\d+:/gm)?.length).toBe(dbs.length);
  });
}, { sabreArgs: DBS, redisArgs: DBS });

it('databases past 65536 are refused at start-up with a clear message', async () => {
  const start = startSabre({ shards: 4, args: ['--databases', '70000'] });
  await expect(start).rejects.toThrow(
    "'databases 70000': Sabre supports at most 65536 databases (the request record carries the index as a u16)",
  );
  await expect(start).rejects.toThrow('exited before it was ready (exit code 1)');
});

/** CPU time (ms) of every thread of a process, from /proc. */
function processCpuMs(pid: number): number {
  let total = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in 10 ms ticks
  }
  return total;
}

it('65536 databases start quickly and cost the idle cron little', async () => {
  // Measured on the 2-core machine (4 shards, medians): start-up within 1 s for both,
  // idle CPU 1.2% of a core with 16 databases and 2.3% with 65536 (the cron visits
  // 256 databases per tick, round robin).
  const idleCpu = async (dbs: number): Promise<{ startMs: number; idle: number }> => {
    const t0 = performance.now();
    const s = await startSabre({ shards: 4, args: ['--databases', String(dbs)] });
    const startMs = performance.now() - t0;
    try {
      const r = redisClient(s.port);
      await r.connect();
      await r.select(dbs - 1);
      expect(await r.set('last', 'db')).toBe('OK');
      r.disconnect();
      await new Promise((res) => setTimeout(res, 3000)); // start-up's garbage collections settle
      const c0 = processCpuMs(s.pid);
      await new Promise((res) => setTimeout(res, 4000));
      return { startMs, idle: (processCpuMs(s.pid) - c0) / 4000 };
    } finally {
      await s.stop();
    }
  };
  const few = await idleCpu(16);
  const many = await idleCpu(65536);
  expect(many.startMs).toBeLessThan(few.startMs + 5000);
  // Generous bound for a loaded machine: a full pass per tick cost about 10% of a core.
  expect(many.idle).toBeLessThan(few.idle + 0.05);
}, 60_000);
