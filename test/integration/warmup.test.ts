import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';
import { infoFields, redisClient } from '../helpers/suites.ts';

// The start-up warm-up (server/warmup.ts) serves some 100k requests of its own
// before the listeners open. Nothing of it may show: a warmed server must read
// exactly as one started with --warmup no, from the first client's first
// command (its id, INFO stats, commandstats, errorstats, keyspace, the shards'
// counters and memory, the slow log and its ids, every database empty).

const SHARDS = 4;
const DATABASES = 16;

/** Fields that move with time or machine, not with what was served. */
const TIMING_FIELDS = new Set([
  'instantaneous_ops_per_sec', 'instantaneous_input_kbps', 'instantaneous_output_kbps',
  'expire_cycle_cpu_milliseconds',
]);

describe('start-up warm-up', () => {
  let warm: ServerHandle;
  let cold: ServerHandle;
  let w: Redis;
  let c: Redis;

  beforeAll(async () => {
    [warm, cold] = await Promise.all([
      startSabre({ shards: SHARDS, warmup: true, readyTimeoutMs: 60_000 }),
      startSabre({ shards: SHARDS, warmup: false }),
    ]);
    w = redisClient(warm.port);
    c = redisClient(cold.port);
    await Promise.all([w.connect(), c.connect()]);
  }, 90_000);

  afterAll(async () => {
    w?.disconnect();
    c?.disconnect();
    await Promise.all([warm?.stop(), cold?.stop()]);
  });

  // The first test runs the first commands of both servers: the order of the tests matters.
  it('ran before the listeners opened, and the first client is client 1', async () => {
    const m = /Warm-up(?: \(front thread 0\))?: (\d+) requests|Warm-up(?: \(front thread 0\))? stopped early \(.*\) after (\d+) requests/.exec(warm.logs());
    expect(m).not.toBeNull();
    expect(Number(m?.[1] ?? m?.[2])).toBeGreaterThan(1000);
    expect(warm.logs().indexOf('Warm-up')).toBeLessThan(warm.logs().indexOf('Ready to accept connections'));
    expect(cold.logs()).not.toMatch(/Warm-up/);
    expect(await w.call('CLIENT', 'ID')).toBe(1);
    expect(await c.call('CLIENT', 'ID')).toBe(1);
  });

  it('INFO stats, commandstats and errorstats read as on a server that served nobody', async () => {
    const [ws, cs] = await Promise.all([w.info('stats'), c.info('stats')]);
    const wf = infoFields(ws);
    const cf = infoFields(cs);
    expect([...wf.keys()]).toEqual([...cf.keys()]);
    for (const [k, v] of cf) {
      if (!TIMING_FIELDS.has(k)) expect({ [k]: wf.get(k) }).toEqual({ [k]: v });
    }
    expect(wf.get('total_connections_received')).toBe('1');
    // Equal to the cold server's (above), whatever INFO's own fan-out adds to it.
    expect(Number(wf.get('total_commands_processed'))).toBeLessThan(10);
    expect(wf.get('keyspace_hits')).toBe('0');
    expect(wf.get('keyspace_misses')).toBe('0');
    expect(wf.get('total_error_replies')).toBe('0');
    expect(wf.get('expired_keys')).toBe('0');

    const [wc, cc] = await Promise.all([w.info('commandstats'), c.info('commandstats')]);
    const names = (text: string): string[] => [...infoFields(text).keys()].sort();
    expect(names(wc)).toEqual(names(cc));
    // What this file and the client sent (ioredis announces itself with CLIENT SETINFO), nothing else.
    for (const n of names(wc)) expect(n).toMatch(/^cmdstat_(client\|\w+|info)$/);
    expect(infoFields(wc).get('cmdstat_info')).toMatch(/^calls=1,/);
    expect(infoFields(await w.info('errorstats')).size).toBe(0);
  });

  it('every database is empty: DBSIZE, INFO keyspace, RANDOMKEY, SCAN', async () => {
    for (let db = 0; db < DATABASES; db++) {
      await w.select(db);
      expect({ db, size: await w.dbsize() }).toEqual({ db, size: 0 });
      expect(await w.randomkey()).toBeNull();
      expect(await w.scan('0', 'COUNT', '1000')).toEqual(['0', []]);
    }
    await w.select(0);
    expect(infoFields(await w.info('keyspace')).size).toBe(0);
  });

  it('the shards hold what a cold server holds: arena bytes, keys, commands', async () => {
    // Both servers have answered the same commands so far, in the same order.
    const shardFields = async (r: Redis): Promise<string[]> => {
      const f = infoFields(await r.info('sabre'));
      const out: string[] = [];
      for (let i = 0; i < SHARDS; i++) {
        const line = f.get(`shard${i}`) ?? '';
        // heap_used and committed slabs depend on V8 and on the warm-up's high-water mark, not on data.
        out.push(line.split(',').filter((p) => /^(keys|expires|arena_used|commands|rehashing|full|inline_commands)=/.test(p)).join(','));
      }
      return out;
    };
    await c.select(0);
    for (let db = 0; db < DATABASES; db++) {
      await c.select(db);
      await c.dbsize();
      await c.randomkey();
      await c.scan('0', 'COUNT', '1000');
    }
    await c.select(0);
    await c.info('keyspace');
    const [wf, cf] = await Promise.all([shardFields(w), shardFields(c)]);
    expect(wf).toEqual(cf);
    expect(wf[0]).toMatch(/keys=0,expires=0,arena_used=\d+,commands=\d+,rehashing=0,full=0/);
    const mem = async (r: Redis): Promise<string | undefined> => infoFields(await r.info('memory')).get('used_memory_dataset');
    expect(await mem(w)).toBe(await mem(c));
  });

  it('the slow log holds only this file\'s commands, with ids from 0', async () => {
    // On a loaded machine one of the commands above may have taken 10 ms and be
    // logged; none of the warm-up's may be there, nor may they have used ids.
    await w.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await w.set('k', 'v');
    const entries = (await w.call('SLOWLOG', 'GET', '-1')) as Array<[number, number, number, string[]]>;
    await w.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    const ids = entries.map((e) => e[0]).reverse();
    expect(ids).toEqual(ids.map((_, i) => i));
    expect(entries[0]?.[3]).toEqual(['set', 'k', 'v']);
    for (const e of entries) expect(e[3].join(' ')).not.toMatch(/key:|counter:|list:|element:|flushall|ping|mset|lpush/i);
    expect(await w.get('k')).toBe('v');
    expect(await w.dbsize()).toBe(1);
  });
});
