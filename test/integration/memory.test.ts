import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MAX_ARENA_BYTES } from '../../native-layout/layout.ts';
import { ERR_OOM } from '../../src/commands/errors.ts';
import { ERR_EVICTION_POLICY } from '../../src/server/config.ts';
import { infoFields, redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';

// Memory exhaustion end to end on 4 shards: maxmemory with noeviction, the
// all-or-nothing admission of writes split over shards, the report of a shard
// that fills alone, and the arena sizes chosen at start-up.
//
// Tests marked "(shard half)" rely on the shards' side of the admission
// contract (STAT_WRITE_BYTES_DONE, STAT_RESERVE_BYTES, refusing denyoom
// records at capacity minus reserve), built in another branch of issue 6.

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function info(r: Redis, section: string): Promise<Map<string, string>> {
  return infoFields(await r.call('INFO', section) as string);
}

/** A shard's line of INFO sabre as numbers (fill_perc without its %). */
async function shardStats(r: Redis, shard: number): Promise<Map<string, number>> {
  const line = (await info(r, 'sabre')).get(`shard${shard}`) ?? '';
  return new Map(line.split(',').map((kv) => {
    const [k, v] = kv.split('=');
    return [k, Number(v.replace('%', ''))] as [string, number];
  }));
}

/** The reply of a command, or the error's message when it fails. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    return (e as Error).message;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** `n` keys owned by `shard` (4 shards), named prefix + number. */
function keysOnShard(shard: number, n: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (shardOfKey(`${prefix}${i}`) === shard) out.push(`${prefix}${i}`);
  return out;
}

describe('maxmemory with noeviction', () => {
  let r: Redis;
  useSabre((_s, c) => { r = c; });

  it("refuses denyoom commands with Redis's error; reads, deletes and other writes keep working; DEL makes room", async () => {
    const value = 'v'.repeat(4000);
    const p = r.pipeline();
    for (let i = 0; i < 400; i++) p.set(`k:${i}`, value);
    await p.exec();
    const used = Number((await info(r, 'memory')).get('used_memory'));
    expect(used).toBeGreaterThan(400 * 4000);
    const limit = Math.floor(used / 2);
    await r.call('CONFIG', 'RESETSTAT');
    expect(await r.call('CONFIG', 'SET', 'maxmemory', String(limit))).toBe('OK');
    try {
      expect(await r.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', String(limit)]);
      // Every denyoom command is refused before it starts, single- or multi-shard.
      const refused = [
        r.set('new', 'x'), r.incr('k:counter'), r.append('k:1', 'more'), r.setnx('new', 'x'), r.setrange('k:1', 0, 'x'),
        r.setbit('bits', 7, 1), r.mset('a', '1', 'b', '2', 'c', '3', 'd', '4'), r.msetnx('a', '1', 'b', '2'),
        r.copy('k:1', 'k:copy'), r.getset('k:2', 'x'), r.call('BITOP', 'OR', 'dest', 'k:1', 'k:2'),
      ];
      for (const p of refused) expect(await outcome(p)).toBe(ERR_OOM);
      expect(await r.get('k:1')).toBe(value);
      expect(await r.get('k:2')).toBe(value);
      expect(await r.exists('new', 'a', 'b', 'k:copy', 'dest', 'bits', 'k:counter')).toBe(0);
      // Reads, deletes and writes that are not denyoom go through, as in Redis.
      expect(await r.strlen('k:3')).toBe(4000);
      expect((await r.mget('k:3', 'k:4', 'nosuch'))[2]).toBe(null);
      expect(await r.expire('k:3', 1000)).toBe(1);
      expect(await r.persist('k:3')).toBe(1);
      expect(await r.rename('k:4', 'k:renamed')).toBe('OK');
      expect(await r.getdel('k:5')).toBe(value);
      const doomed = Array.from({ length: 300 }, (_, i) => `k:${i + 10}`);
      expect(await r.del(...doomed)).toBe(300);
      // With three quarters of the data gone, writes are accepted again.
      await waitFor('used_memory to drop below maxmemory',
        async () => Number((await info(r, 'memory')).get('used_memory')) < limit);
      expect(await r.set('new', 'x')).toBe('OK');
      expect(await r.mset('a', '1', 'b', '2', 'c', '3', 'd', '4')).toBe('OK');
      expect(await r.get('new')).toBe('x');
      // INFO: the limit and Redis's counting of rejected calls.
      const mem = await info(r, 'memory');
      expect(mem.get('maxmemory')).toBe(String(limit));
      expect(mem.get('maxmemory_policy')).toBe('noeviction');
      expect(Number(mem.get('used_memory'))).toBeLessThanOrEqual(limit);
      const stats = infoFields(await r.call('INFO', 'commandstats') as string);
      expect(stats.get('cmdstat_incr')).toBe('calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0');
      expect(stats.get('cmdstat_mset')).toMatch(/^calls=1,.*,rejected_calls=1,failed_calls=0$/);
      expect(stats.get('cmdstat_set')).toMatch(/^calls=1,.*,rejected_calls=1,failed_calls=0$/);
      expect(stats.get('cmdstat_msetnx')).toBe('calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0');
      expect((await info(r, 'errorstats')).get('errorstat_OOM')).toBe(`count=${refused.length}`);
      expect((await info(r, 'stats')).get('total_error_replies')).toBe(String(refused.length));
    } finally {
      await r.call('CONFIG', 'SET', 'maxmemory', '0');
    }
  });

  it('CONFIG SET maxmemory takes effect at once, in the middle of a pipeline', async () => {
    const p = r.pipeline();
    p.set('before', '1');
    p.call('CONFIG', 'SET', 'maxmemory', '1');
    p.set('during', '1');
    p.get('before');
    p.call('CONFIG', 'SET', 'maxmemory', '0');
    p.set('after', '1');
    const res = await p.exec();
    expect(res?.map(([err, v]) => (err === null ? v : err.message))).toEqual(['OK', 'OK', ERR_OOM, '1', 'OK', 'OK']);
    expect(await r.exists('before', 'during', 'after')).toBe(2);
  });

  it('a pipeline of writes stops at maxmemory, as it does in Redis (shard half)', async () => {
    const used = Number((await info(r, 'memory')).get('used_memory'));
    const limit = used + 2 * MiB;
    await r.call('CONFIG', 'SET', 'maxmemory', String(limit));
    try {
      const p = r.pipeline();
      for (let i = 0; i < 5000; i++) p.set(`p:${i}`, 'x'.repeat(1000));
      const res = (await p.exec()) ?? [];
      const ok = res.filter(([err]) => err === null).length;
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThan(5000);
      for (const [err] of res) if (err !== null) expect(err.message).toBe(ERR_OOM);
      // The writes sent but not run yet count as used, so the limit is overshot
      // by little (allocation rounding), not by the whole pipeline.
      expect(Number((await info(r, 'memory')).get('used_memory'))).toBeLessThan(limit + MiB);
    } finally {
      await r.call('CONFIG', 'SET', 'maxmemory', '0');
    }
  });

  it('maxmemory-policy: every eviction policy is refused with a clear error, noeviction is kept', async () => {
    for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu',
      'allkeys-random']) {
      expect(await outcome(r.call('CONFIG', 'SET', 'maxmemory-policy', policy))).toBe(
        `ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - ${ERR_EVICTION_POLICY}`);
    }
    expect(await outcome(r.call('CONFIG', 'SET', 'maxmemory-policy', 'lru'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: " +
      'volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction');
    expect(await r.call('CONFIG', 'SET', 'maxmemory-policy', 'NoEviction')).toBe('OK');
    expect(await r.call('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });
});

describe('start-up', () => {
  it('refuses an eviction policy in the configuration', async () => {
    await expect(startSabre({ args: ['--maxmemory-policy', 'allkeys-lru'] })).rejects.toThrow(
      new RegExp(`exit code 1[\\s\\S]*FATAL CONFIG FILE ERROR[\\s\\S]*'maxmemory-policy "allkeys-lru"'[\\s\\S]*${ERR_EVICTION_POLICY.replace(/[()]/g, '\\$&')}`));
  });

  it('sizes the arenas from maxmemory (CONFIG GET shard-arena-mb reports it), or takes shard-arena-mb as given', async () => {
    const capMb = Math.floor(MAX_ARENA_BYTES / MiB);
    // 100mb: 16/15 of it (the reserve is a sixteenth) = 106.7 MiB, rounded up.
    // 4gb: 4096 MiB + the 64 MiB reserve, unless a shard cannot address that much.
    for (const [args, mb] of [
      [['--maxmemory', '100mb'], 107],
      [['--maxmemory', '4gb'], Math.min(4160, capMb)],
      [['--maxmemory', '100mb', '--shard-arena-mb', '16'], 16],
    ] as const) {
      const s = await startSabre({ args: [...args] });
      const c = redisClient(s.port);
      try {
        expect(await c.call('CONFIG', 'GET', 'shard-arena-mb')).toEqual(['shard-arena-mb', String(mb)]);
        expect((await info(c, 'sabre')).get('shard_arena_bytes')).toBe(String(mb * MiB));
        expect((await shardStats(c, 3)).get('arena_capacity')).toBe(mb * MiB);
        expect(s.logs()).toMatch(new RegExp(`\\d+:M .* \\* Shard arenas: 4 x ${mb} MiB \\(`));
        // Some shards may run in front threads (embedded-shards): "4 (1 run by a front thread, 3 worker threads)".
        expect(s.logs()).toMatch(new RegExp(`Shards: 4 (worker threads|\\(\\d run by (a )?front threads?, \\d worker threads?\\)), ${mb} MiB arena each`));
        if (mb === 16) expect(s.logs()).toContain("WARNING: maxmemory (104857600) is more than one shard's arena holds");
      } finally {
        c.disconnect();
        await s.stop();
      }
    }
  });

  it('without maxmemory, from the machine memory up to what a shard addresses', async () => {
    const s = await startSabre({});
    const c = redisClient(s.port);
    try {
      const [, mb] = await c.call('CONFIG', 'GET', 'shard-arena-mb') as [string, string];
      expect(Number(mb)).toBeGreaterThanOrEqual(16);
      expect(Number(mb)).toBeLessThanOrEqual(Math.floor(MAX_ARENA_BYTES / MiB));
      expect(s.logs()).toMatch(new RegExp(`Shard arenas: 4 x ${mb} MiB \\(from the machine's memory`));
    } finally {
      c.disconnect();
      await s.stop();
    }
  });
});

describe('a shard that fills while the others have room (16 MiB arenas)', () => {
  let server: ServerHandle;
  let r: Redis;
  // {f} and its keys live on one shard; the others get keys of their own.
  const full = shardOfKey('{f}');
  const others = [0, 1, 2, 3].filter((s) => s !== full);
  const otherKeys = others.map((s) => keysOnShard(s, 1, 'o:')[0]);

  useSabre((s, c) => { server = s; r = c; }, { args: ['--shard-arena-mb', '16'], flushEach: false });

  /**
   * Writes 4 KB values to shard `full` until 95.5% of its usable arena is in
   * use, or until the shard refuses one (then it is full by definition).
   */
  async function fillShard(): Promise<void> {
    let i = 0;
    for (;;) {
      const st = await shardStats(r, full);
      const usable = st.get('arena_capacity')! - st.get('arena_reserve')!;
      const used = st.get('arena_used')!;
      if (used >= 0.955 * usable) return;
      const n = Math.max(1, Math.min(200, Math.floor((0.96 * usable - used) / 4500)));
      const p = r.pipeline();
      for (let k = 0; k < n; k++) p.set(`{f}:${i++}`, 'f'.repeat(4000));
      let refused = false;
      for (const [err] of (await p.exec()) ?? []) {
        if (err !== null) expect(err.message).toMatch(/^OOM /);
        refused ||= err !== null;
      }
      if (refused) return;
    }
  }

  it('answers OOM to an MSET whose part for the full shard might not fit, and writes none of it', async () => {
    expect(await r.mset(otherKeys[0], '1', otherKeys[1], '2')).toBe('OK'); // across shards, with room
    await fillShard();
    const big = 'b'.repeat(MiB);
    expect(await outcome(r.mset('{f}:big', big, otherKeys[0], 'new', otherKeys[1], 'new', otherKeys[2], 'new'))).toBe(ERR_OOM);
    expect(await r.exists('{f}:big')).toBe(0);
    expect(await r.mget(...otherKeys)).toEqual(['1', '2', null]);
    // The same through MSETNX (coordinated: probe, then write).
    const fresh = keysOnShard(others[0], 1, 'n:')[0];
    expect(await outcome(r.msetnx('{f}:big', big, fresh, 'x'))).toBe(ERR_OOM);
    expect(await r.exists('{f}:big', fresh)).toBe(0);
    const stats = infoFields(await r.call('INFO', 'commandstats') as string);
    expect(stats.get('cmdstat_mset')).toMatch(/rejected_calls=1,/);
    // Reads and deletes on the full shard keep working.
    expect(await r.strlen('{f}:0')).toBe(4000);
    expect(await r.del('{f}:0')).toBe(1);
  });

  it('reports the full shard in INFO and once in the log', async () => {
    const sabre = await info(r, 'sabre');
    expect(sabre.get('shards_full')).toBe('1');
    expect(Number(sabre.get('shard_fill_max_perc')?.replace('%', ''))).toBeGreaterThanOrEqual(95);
    expect(Number(sabre.get('shard_fill_min_perc')?.replace('%', ''))).toBeLessThan(10);
    expect((await shardStats(r, full)).get('full')).toBe(1);
    for (const s of others) expect((await shardStats(r, s)).get('full')).toBe(0);
    await sleep(500); // five ticks of the watch: still one warning
    const warnings = server.logs().split('\n').filter((l) => l.includes("arena is full"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^\\d+:M .* # WARNING: shard ${full}'s arena is full \\(.* used of .* usable\\): ` +
      'writes to its keys are refused with OOM while other shards have room \\(shard \\d is \\d+\\.\\d\\d% full\\)'));
  });

  it('admits an MSET that fits on the same shards (shard half)', async () => {
    expect(await r.mset('{f}:small', 'x'.repeat(100), otherKeys[0], 'again', otherKeys[2], 'again')).toBe('OK');
    expect(await r.mget('{f}:small', otherKeys[0], otherKeys[2])).toEqual(['x'.repeat(100), 'again', 'again']);
  });

  it('FLUSHALL gives the room back: INFO and the log say so', async () => {
    await r.flushall();
    await waitFor('the shard to have room again', async () => (await info(r, 'sabre')).get('shards_full') === '0');
    expect((await shardStats(r, full)).get('full')).toBe(0);
    await waitFor('the notice', async () => server.logs().includes(`Shard ${full}'s arena has room again`));
  });
});
