import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { infoFields, redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';
import type { ServerHandle } from '../helpers/servers.ts';

// Lazy freeing on a 4-shard server: deleting a 1,000,000-element list must not
// stall its shard. Another client keeps sending commands to the same shard
// (hash tag {big}) one at a time and the largest round trip is measured. The
// list is built with one element per node (list-max-listpack-size 1): a
// million allocations to give back, Redis's worst case for a list. Set
// LAZYFREE_REPORT=1 to print the figures.

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
const REPORT = process.env.LAZYFREE_REPORT === '1';
const ELEMENTS = 1_000_000;

async function memoryFields(r: Redis): Promise<Map<string, string>> {
  return infoFields(await r.call('INFO', 'memory') as string);
}

async function buildList(r: Redis, key: string, n: number): Promise<void> {
  const batch = 10_000;
  for (let i = 0; i < n; i += batch * 10) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(n, i + batch * 10); j += batch) {
      p.rpush(key, ...Array.from({ length: Math.min(batch, n - j) }, (_, k) => `e${j + k}`));
    }
    await p.exec();
  }
  expect(await r.llen(key)).toBe(n);
}

/** A hash of n fields or a set of n members, built 10,000 at a time in pipelines. */
async function buildCollection(r: Redis, kind: 'hash' | 'set', key: string, n: number): Promise<void> {
  const batch = 10_000;
  for (let i = 0; i < n; i += batch * 10) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(n, i + batch * 10); j += batch) {
      const args: string[] = [];
      for (let k = j; k < Math.min(n, j + batch); k++) {
        if (kind === 'hash') args.push(`field:${k}`, `v${k}`);
        else args.push(`member:${k}`);
      }
      if (kind === 'hash') p.hset(key, ...args);
      else p.sadd(key, ...args);
    }
    await p.exec();
  }
  expect(kind === 'hash' ? await r.hlen(key) : await r.scard(key)).toBe(n);
}

/** Sends GETs to `key` one at a time until stopped; resolves with the largest round trip in ms. */
function probe(port: number, key: string): { stop: () => Promise<{ max: number; count: number }> } {
  const c = redisClient(port);
  let running = true;
  let max = 0;
  let count = 0;
  const done = (async () => {
    await c.connect();
    while (running) {
      const t0 = performance.now();
      await c.get(key);
      const dt = performance.now() - t0;
      if (dt > max) max = dt;
      count++;
    }
    c.disconnect();
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { max, count };
    },
  };
}

/** Waits until no shard has lazy-free work left; returns how long that took. */
async function untilFreed(r: Redis): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < 600; i++) {
    if ((await memoryFields(r)).get('lazyfree_pending_objects') === '0') return performance.now() - t0;
    await sleep(20);
  }
  throw new Error('lazy free did not finish in 12 s');
}

describe('lazy free', () => {
  let r: Redis;
  let server: ServerHandle;
  useSabre((s, client) => { server = s; r = client; });

  it('the test keys share a shard', () => {
    expect(shardOfKey('{big}list')).toBe(shardOfKey('{big}probe'));
  });

  for (const command of ['DEL', 'UNLINK', 'SET', 'EXPIRE'] as const) {
    it(`${command} of a 1,000,000-node list keeps its shard answering within a few ms`, async () => {
      await r.call('CONFIG', 'SET', 'list-max-listpack-size', '1');
      await r.set('{big}probe', 'v');
      const before = Number((await memoryFields(r)).get('used_memory'));
      // This machine is shared: a latency spike of its own can hit one attempt, so the best of five counts.
      let best = Infinity;
      for (let attempt = 0; attempt < 5 && best >= 25; attempt++) {
        await buildList(r, '{big}list', ELEMENTS);
        const full = Number((await memoryFields(r)).get('used_memory'));
        expect(full - before).toBeGreaterThan(ELEMENTS * 24);
        // Warm the prober up, then measure only around the delete.
        const warm = probe(server.port, '{big}probe');
        await sleep(300);
        await warm.stop();
        const p = probe(server.port, '{big}probe');
        await sleep(100);
        const t0 = performance.now();
        // The command and INFO in one pipeline: the shard runs both in one batch,
        // so the counters it publishes show the list queued, not freed inline.
        const pipe = r.pipeline();
        if (command === 'DEL') pipe.del('{big}list');
        else if (command === 'UNLINK') pipe.unlink('{big}list');
        else if (command === 'SET') pipe.set('{big}list', 'now a string');
        else pipe.expire('{big}list', 0);
        const res = await pipe.call('INFO', 'memory').exec() as [Error | null, unknown][];
        const delMs = performance.now() - t0;
        expect(res[0][1]).toBe(command === 'SET' ? 'OK' : 1);
        const pendingNow = Number(infoFields(res[1][1] as string).get('lazyfree_pending_objects'));
        expect(pendingNow).toBe(1);
        // The key is gone (or replaced) at once.
        expect(await r.exists('{big}list')).toBe(command === 'SET' ? 1 : 0);
        const freeMs = await untilFreed(r);
        await sleep(100);
        const { max, count } = await p.stop();
        const after = Number((await memoryFields(r)).get('used_memory'));
        if (REPORT) {
          console.log(`${command}: reply in ${delMs.toFixed(1)} ms, pending right after ${pendingNow}, freed in ~${freeMs.toFixed(0)} ms, `
            + `probe max ${max.toFixed(2)} ms over ${count} GETs, used_memory ${before} -> ${full} -> ${after}`);
        }
        expect(count).toBeGreaterThan(50);
        expect(after - before).toBeLessThan((full - before) / 100);
        best = Math.min(best, max);
        await r.del('{big}list');
      }
      expect(best).toBeLessThan(25);
      await r.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
    }, 180_000);
  }

  for (const kind of ['hash', 'set'] as const) {
    for (const command of ['DEL', 'UNLINK', 'SET'] as const) {
      it(`${command} of a 1,000,000-${kind === 'hash' ? 'field hash' : 'member set'} keeps its shard answering within a few ms, and memory comes back`, async () => {
        const key = `{big}${kind}`;
        await r.set('{big}probe', 'v');
        const before = Number((await memoryFields(r)).get('used_memory'));
        // This machine is shared: a latency spike of its own can hit one attempt, so the best of five counts.
        let best = Infinity;
        for (let attempt = 0; attempt < 5 && best >= 25; attempt++) {
          await buildCollection(r, kind, key, ELEMENTS);
          const full = Number((await memoryFields(r)).get('used_memory'));
          expect(full - before).toBeGreaterThan(ELEMENTS * 16);
          const warm = probe(server.port, '{big}probe');
          await sleep(300);
          await warm.stop();
          const p = probe(server.port, '{big}probe');
          await sleep(100);
          const t0 = performance.now();
          const pipe = r.pipeline();
          if (command === 'DEL') pipe.del(key);
          else if (command === 'UNLINK') pipe.unlink(key);
          else pipe.set(key, 'now a string');
          const res = await pipe.call('INFO', 'memory').exec() as [Error | null, unknown][];
          const delMs = performance.now() - t0;
          const pendingNow = Number(infoFields(res[1][1] as string).get('lazyfree_pending_objects'));
          const freeMs = await untilFreed(r);
          await sleep(100);
          const { max, count } = await p.stop();
          const after = Number((await memoryFields(r)).get('used_memory'));
          if (REPORT) {
            console.log(`${kind} ${command}: reply in ${delMs.toFixed(1)} ms, pending right after ${pendingNow}, freed in ~${freeMs.toFixed(0)} ms, `
              + `probe max ${max.toFixed(2)} ms over ${count} GETs, used_memory ${before} -> ${full} -> ${after}`);
          }
          expect(res[0][1]).toBe(command === 'SET' ? 'OK' : 1);
          // Queued, not freed inline: the shard published its counters in the same batch.
          expect(pendingNow).toBe(1);
          expect(await r.exists(key)).toBe(command === 'SET' ? 1 : 0);
          expect(count).toBeGreaterThan(50);
          expect(after - before).toBeLessThan((full - before) / 100);
          best = Math.min(best, max);
          await r.del(key);
        }
        expect(best).toBeLessThan(25);
      }, 240_000);
    }
  }

  it('RENAME of a 1,000,000-node list within its shard moves it without a copy', async () => {
    await r.call('CONFIG', 'SET', 'list-max-listpack-size', '1');
    await buildList(r, '{big}list', ELEMENTS);
    await r.set('{big}dest', 'replaced');
    const before = Number((await memoryFields(r)).get('used_memory'));
    const freedBefore = Number((await memoryFields(r)).get('lazyfreed_objects'));
    const t0 = performance.now();
    const res = await r.pipeline().rename('{big}list', '{big}dest').call('INFO', 'memory').exec() as [Error | null, unknown][];
    const ms = performance.now() - t0;
    expect(res[0][1]).toBe('OK');
    // A copy would have queued the source list for freeing: nothing is pending, nothing was freed.
    const during = infoFields(res[1][1] as string);
    expect(during.get('lazyfree_pending_objects')).toBe('0');
    expect(Number(during.get('lazyfreed_objects'))).toBe(freedBefore);
    const after = Number((await memoryFields(r)).get('used_memory'));
    if (REPORT) console.log(`RENAME of the list: ${ms.toFixed(1)} ms, used_memory ${before} -> ${after}`);
    expect(await r.llen('{big}dest')).toBe(ELEMENTS);
    expect(await r.lindex('{big}dest', -1)).toBe(`e${ELEMENTS - 1}`);
    expect(await r.exists('{big}list')).toBe(0);
    expect(Math.abs(after - before)).toBeLessThan(1024);
    await r.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
  }, 60_000);

  it('used_memory counts a pending free; INFO shows it as lazyfree_pending_objects, then lazyfreed_objects', async () => {
    await r.call('CONFIG', 'SET', 'list-max-listpack-size', '1');
    const freedBefore = Number((await memoryFields(r)).get('lazyfreed_objects'));
    const base = Number((await memoryFields(r)).get('used_memory'));
    await buildList(r, '{big}list', ELEMENTS);
    const full = Number((await memoryFields(r)).get('used_memory'));
    // DEL and INFO in one pipeline: the shard runs both in one batch, and has
    // freed at most a slice of the list when it publishes its counters.
    const res = await r.pipeline().del('{big}list').call('INFO', 'memory').exec() as [Error | null, unknown][];
    expect(res[0][1]).toBe(1);
    const during = infoFields(res[1][1] as string);
    expect(during.get('lazyfree_pending_objects')).toBe('1');
    // used_memory is read live, while the shard goes on freeing: still well above the empty server.
    expect(Number(during.get('used_memory'))).toBeGreaterThan(base + (full - base) / 10);
    await untilFreed(r);
    const afterFields = await memoryFields(r);
    expect(Number(afterFields.get('used_memory'))).toBeLessThan(full / 10);
    expect(Number(afterFields.get('lazyfreed_objects'))).toBe(freedBefore + 1);
    await r.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
  }, 60_000);

  it('a small list is freed at once (no queue)', async () => {
    const freedBefore = Number((await memoryFields(r)).get('lazyfreed_objects'));
    await r.rpush('{big}small', ...Array.from({ length: 1000 }, (_, i) => `x${i}`));
    const res = await r.pipeline().del('{big}small').call('INFO', 'memory').exec() as [Error | null, unknown][];
    const during = infoFields(res[1][1] as string);
    expect(during.get('lazyfree_pending_objects')).toBe('0');
    expect(during.get('lazyfreed_objects')).toBe(String(freedBefore));
  });

  for (const flush of [['FLUSHALL', 'ASYNC'], ['FLUSHDB', 'ASYNC'], ['FLUSHALL'], ['FLUSHDB', 'SYNC']]) {
    it(`${flush.join(' ')} empties every shard and gives the memory back`, async () => {
      await r.set('{big}probe', 'v');
      const base = Number((await memoryFields(r)).get('used_memory'));
      const p = r.pipeline();
      for (let i = 0; i < 200_000; i += 10_000) {
        const args: string[] = [];
        for (let j = i; j < i + 10_000; j++) args.push(`key:${j}`, `value-${j}`);
        p.mset(...args);
      }
      await p.exec();
      await r.call('CONFIG', 'SET', 'list-max-listpack-size', '1');
      await buildList(r, 'biglist', 100_000);
      await r.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
      expect(await r.dbsize()).toBe(200_002);
      expect(await r.call(...(flush as [string, ...string[]]))).toBe('OK');
      expect(await r.dbsize()).toBe(0);
      expect(await r.get('key:5')).toBeNull();
      await r.set('key:5', 'new');
      await untilFreed(r);
      const after = Number((await memoryFields(r)).get('used_memory'));
      expect(after).toBeLessThan(base + 64 * 1024);
      expect(await r.get('key:5')).toBe('new');
    }, 60_000);
  }

  it('FLUSHALL with a bad flag is a syntax error; lazyfree-lazy-user-flush yes makes a plain FLUSHALL asynchronous', async () => {
    await expect(r.call('FLUSHALL', 'LATER')).rejects.toThrow('ERR syntax error');
    await expect(r.call('FLUSHDB', 'ASYNC', 'SYNC')).rejects.toThrow('ERR syntax error');
    expect(await r.call('CONFIG', 'SET', 'lazyfree-lazy-user-flush', 'yes')).toBe('OK');
    for (let i = 0; i < 8; i++) await r.set(`k${i}`, 'v');
    const freedBefore = Number((await memoryFields(r)).get('lazyfreed_objects'));
    const res = await r.pipeline().flushall().call('INFO', 'memory').exec() as [Error | null, unknown][];
    expect(res[0][1]).toBe('OK');
    const pending = Number(infoFields(res[1][1] as string).get('lazyfree_pending_objects'));
    await untilFreed(r);
    // Freed through the lazy-free queue (a synchronous flush does not count there). Whether the
    // INFO right behind it still saw it pending is a race with the shard: only counted when it did.
    const freed = Number((await memoryFields(r)).get('lazyfreed_objects')) - freedBefore;
    expect(freed).toBeGreaterThan(0);
    expect(freed).toBeGreaterThanOrEqual(pending);
    expect(await r.call('CONFIG', 'SET', 'lazyfree-lazy-user-flush', 'no')).toBe('OK');
  });
});

describe('lazy free in a full arena', () => {
  let r: Redis;
  useSabre((_s, client) => { r = client; }, { shards: 1, args: ['--shard-arena-mb', '32', '--list-max-listpack-size', '1'] });

  it('a write that needs the room of a value still waiting to be freed gets it at once', async () => {
    const p = r.pipeline();
    for (let i = 0; i < 20; i++) p.rpush('big', ...Array.from({ length: 10_000 }, (_, k) => `element-${i}-${k}`));
    await p.exec();
    // Fill the rest of the arena until the shard refuses: then not even one more value fits.
    const chunk = 'f'.repeat(50_000);
    let refused = false;
    for (let i = 0; i < 2000 && !refused; i++) {
      try {
        await r.set(`fill:${i}`, chunk);
      } catch (e) {
        expect(String(e)).toContain('OOM');
        refused = true;
      }
    }
    expect(refused).toBe(true);
    // The delete and a write in one batch: the write needs the list's memory at once.
    const res = await r.pipeline().del('big').set('value', chunk).strlen('value').exec() as [Error | null, unknown][];
    expect(res[0][1]).toBe(1);
    expect(res[1][0]).toBeNull();
    expect(res[1][1]).toBe('OK');
    expect(res[2][1]).toBe(chunk.length);
  }, 60_000);

  for (const kind of ['hash', 'set'] as const) {
    it(`a write that needs the room of a ${kind} still waiting to be freed gets it at once`, async () => {
      expect(await r.call('FLUSHALL', 'SYNC')).toBe('OK');
      await buildCollection(r, kind, 'big', 200_000);
      const chunk = 'f'.repeat(50_000);
      let refused = false;
      for (let i = 0; i < 2000 && !refused; i++) {
        try {
          await r.set(`fill:${i}`, chunk);
        } catch (e) {
          expect(String(e)).toContain('OOM');
          refused = true;
        }
      }
      expect(refused).toBe(true);
      // DEL queues the collection (a table of 200,000 records); the write in the same batch needs its memory now.
      const res = await r.pipeline().del('big').set('value', chunk).strlen('value').exec() as [Error | null, unknown][];
      expect(res[0][1]).toBe(1);
      expect(res[1][0]).toBeNull();
      expect(res[1][1]).toBe('OK');
      expect(res[2][1]).toBe(chunk.length);
    }, 60_000);
  }
});
