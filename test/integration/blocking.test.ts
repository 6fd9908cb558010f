import net from 'node:net';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerHandle } from '../helpers/servers.ts';
import { infoFields, redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';

// Blocking pops on a 4-shard server with several clients: served at once,
// woken by any write that gives the key elements (on its shard or across
// shards), first come first served, timeouts on time, disconnects, CLIENT
// KILL / UNBLOCK, pipelines behind a blocked command, RESP3.

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe('blocking pops', () => {
  let r: Redis;
  let server: ServerHandle;
  useSabre((s, client) => { server = s; r = client; });

  const extra: Redis[] = [];
  async function client(): Promise<Redis> {
    const c = redisClient(server.port);
    await c.connect();
    extra.push(c);
    return c;
  }
  afterEach(() => {
    for (const c of extra.splice(0)) c.disconnect();
  });

  /** Resolves once `n` clients are blocked on keys (INFO blocked_clients). */
  async function blockedClients(n: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const f = infoFields(await r.info('clients'));
      if (Number(f.get('blocked_clients')) === n) return;
      await sleep(5);
    }
    throw new Error(`blocked_clients never reached ${n}`);
  }

  it('the keys are on different shards', () => {
    expect(new Set(['b', 'c', 'd', 'a'].map((k) => shardOfKey(k))).size).toBe(4);
    expect(shardOfKey('src')).not.toBe(shardOfKey('dst'));
  });

  it('an available key is served at once, the first non-empty one in key order', async () => {
    await r.rpush('d', 'x', 'y');
    await r.rpush('a', 'z');
    expect(await r.blpop('b', 'c', 'd', 'a', 0)).toEqual(['d', 'x']);
    expect(await r.brpop('b', 'a', 'd', 0)).toEqual(['a', 'z']);
    expect(await r.lrange('d', 0, -1)).toEqual(['y']);
    expect(await r.exists('a')).toBe(0);
  });

  it('a blocked client is woken by LPUSH from another client', async () => {
    const w = await client();
    const t0 = Date.now();
    const pending = w.blpop('b', 0);
    await blockedClients(1);
    expect(await r.lpush('b', 'one')).toBe(1);
    expect(await pending).toEqual(['b', 'one']);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await r.exists('b')).toBe(0);
    await blockedClients(0);
  });

  it('the element given is the one Redis gives (LPUSH of several, BRPOP)', async () => {
    const w = await client();
    const pending = w.brpop('c', 0);
    await blockedClients(1);
    await r.lpush('c', 'a', 'b', 'c');
    expect(await pending).toEqual(['c', 'a']);
    expect(await r.lrange('c', 0, -1)).toEqual(['c', 'b']);
  });

  it('three waiters on one key are served first come first served', async () => {
    const ws = [await client(), await client(), await client()];
    const got: Array<Promise<[string, string] | null>> = [];
    for (let i = 0; i < 3; i++) {
      got.push(ws[i].blpop('q', 0));
      await blockedClients(i + 1);
    }
    await r.rpush('q', 'e1', 'e2');
    expect(await got[0]).toEqual(['q', 'e1']);
    expect(await got[1]).toEqual(['q', 'e2']);
    await blockedClients(1);
    await r.rpush('q', 'e3', 'e4');
    expect(await got[2]).toEqual(['q', 'e3']);
    expect(await r.lrange('q', 0, -1)).toEqual(['e4']);
  });

  it('a client blocked on keys of several shards is served once, by the first key that gets elements', async () => {
    const w = await client();
    const pending = w.blpop('b', 'c', 'd', 0);
    await blockedClients(1);
    await r.rpush('d', 'from-d');
    await r.rpush('c', 'from-c');
    expect(await pending).toEqual(['d', 'from-d']);
    expect(await r.lrange('c', 0, -1)).toEqual(['from-c']);
    await blockedClients(0);
  });

  it('a timeout is answered on time with a null reply', async () => {
    const w = await client();
    const t0 = performance.now();
    expect(await w.blpop('b', 0.3)).toBeNull();
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(295);
    expect(took).toBeLessThan(350);
    const t1 = performance.now();
    expect(await w.call('BLMOVE', 'b', 'c', 'LEFT', 'RIGHT', '0.05')).toBeNull();
    expect(performance.now() - t1).toBeLessThan(100);
    await blockedClients(0);
  });

  it('0 waits until served, fractional timeouts work, bad timeouts are refused', async () => {
    const w = await client();
    const pending = w.brpop('b', '0');
    await sleep(300);
    await blockedClients(1);
    await r.rpush('b', 'late');
    expect(await pending).toEqual(['b', 'late']);
    expect(await w.blpop('b', '0.01')).toBeNull();
    await expect(w.blpop('b', '-1')).rejects.toThrow('ERR timeout is negative');
    await expect(w.blpop('b', 'abc')).rejects.toThrow('ERR timeout is not a float or out of range');
  });

  it('a waiter that disconnects is forgotten: the element pushed later stays in the list', async () => {
    const w = await client();
    void w.blpop('b', 0).catch(() => {});
    await blockedClients(1);
    w.disconnect();
    await blockedClients(0);
    await r.rpush('b', 'kept');
    await sleep(50);
    expect(await r.lrange('b', 0, -1)).toEqual(['kept']);
  });

  it('CLIENT KILL of a waiter forgets it', async () => {
    const w = await client();
    const id = await w.client('ID') as number;
    void w.blpop('b', 0).catch(() => {});
    await blockedClients(1);
    const list = await r.client('LIST') as string;
    expect(list).toMatch(new RegExp(`id=${id} .*flags=b `));
    expect(await r.client('KILL', 'ID', String(id))).toBe(1);
    await blockedClients(0);
    await r.rpush('b', 'kept');
    await sleep(50);
    expect(await r.lrange('b', 0, -1)).toEqual(['kept']);
  });

  it('CLIENT UNBLOCK: TIMEOUT gives the null reply, ERROR the UNBLOCKED error', async () => {
    const w = await client();
    const id = await w.client('ID') as number;
    const a = w.blpop('b', 0);
    await blockedClients(1);
    expect(await r.client('UNBLOCK', String(id))).toBe(1);
    expect(await a).toBeNull();
    const b = w.blpop('b', 0);
    await blockedClients(1);
    expect(await r.client('UNBLOCK', String(id), 'TIMEOUT')).toBe(1);
    expect(await b).toBeNull();
    const c = w.blpop('b', 0).then(() => 'served', (e: Error) => e.message);
    await blockedClients(1);
    expect(await r.client('UNBLOCK', String(id), 'ERROR')).toBe(1);
    expect(await c).toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    expect(await r.client('UNBLOCK', String(id))).toBe(0);
    await r.rpush('b', 'kept');
    expect(await r.lrange('b', 0, -1)).toEqual(['kept']);
  });

  it('BLMOVE to a destination on another shard, at once and after blocking', async () => {
    await r.rpush('src', 'a', 'b');
    expect(await r.blmove('src', 'dst', 'LEFT', 'RIGHT', 0)).toBe('a');
    const w = await client();
    await r.del('src');
    const pending = w.blmove('src', 'dst', 'RIGHT', 'LEFT', 0);
    await blockedClients(1);
    await r.rpush('src', 'x', 'y');
    expect(await pending).toBe('y');
    expect(await r.lrange('src', 0, -1)).toEqual(['x']);
    expect(await r.lrange('dst', 0, -1)).toEqual(['y', 'a']);
    const p2 = w.brpoplpush('empty', 'dst', 0);
    await blockedClients(1);
    await r.rpush('empty', 'z');
    expect(await p2).toBe('z');
    expect(await r.lrange('dst', 0, -1)).toEqual(['z', 'y', 'a']);
  });

  it('BLMOVE onto a key another client waits on wakes that client too', async () => {
    const w1 = await client();
    const w2 = await client();
    const p2 = w2.blpop('dst', 0);
    await blockedClients(1);
    const p1 = w1.blmove('src', 'dst', 'LEFT', 'LEFT', 0);
    await blockedClients(2);
    await r.rpush('src', 'chain');
    expect(await p1).toBe('chain');
    expect(await p2).toEqual(['dst', 'chain']);
    expect(await r.exists('src', 'dst')).toBe(0);
  });

  for (const how of ['lmove', 'rpoplpush', 'rename', 'copy', 'move', 'lmpop-lmove-same-shard'] as const) {
    it(`a waiter is woken by ${how} onto its key`, async () => {
      const w = await client();
      // 'src' and 'b' are on different shards; 'b{x}'-style tags are not needed.
      await r.rpush('src', 'v1', 'v2');
      if (how === 'move') {
        await r.select(1);
        await r.rpush('b', 'from-db1');
        await r.select(0);
      }
      const pending = w.blpop('b', 0);
      await blockedClients(1);
      switch (how) {
        case 'lmove': await r.lmove('src', 'b', 'LEFT', 'RIGHT'); break;
        case 'rpoplpush': await r.rpoplpush('src', 'b'); break;
        case 'rename': await r.rename('src', 'b'); break;
        case 'copy': await r.copy('src', 'b'); break;
        case 'move': {
          await r.select(1);
          expect(await r.move('b', 0)).toBe(1);
          await r.select(0);
          break;
        }
        case 'lmpop-lmove-same-shard': {
          await r.rpush('f', 'same'); // f is on b's shard
          expect(shardOfKey('f')).toBe(shardOfKey('b'));
          await r.lmove('f', 'b', 'LEFT', 'LEFT');
          break;
        }
      }
      const expected = { lmove: 'v1', rpoplpush: 'v2', rename: 'v1', copy: 'v1', move: 'from-db1', 'lmpop-lmove-same-shard': 'same' }[how];
      expect(await pending).toEqual(['b', expected]);
    });
  }

  it('pipelined commands after a blocking one wait behind it', async () => {
    const w = await client();
    const p = w.pipeline();
    p.blpop('b', 0);
    p.lpush('b', 'mine');
    p.llen('b');
    const done = p.exec();
    await blockedClients(1);
    await sleep(50);
    expect(await r.llen('b')).toBe(0);
    await r.rpush('b', 'other');
    const replies = await done;
    expect(replies).toEqual([[null, ['b', 'other']], [null, 1], [null, 1]]);
  });

  it('the command runs in the blocked client\'s database', async () => {
    const w = await client();
    await w.select(3);
    const pending = w.blpop('b', 0);
    await blockedClients(1);
    await r.rpush('b', 'db0');
    await sleep(50);
    await r.select(3);
    await r.rpush('b', 'db3');
    expect(await pending).toEqual(['b', 'db3']);
    await r.select(0);
    expect(await r.lrange('b', 0, -1)).toEqual(['db0']);
  });

  it('BLMPOP with COUNT, served at once and after blocking', async () => {
    await r.rpush('c', '1', '2', '3');
    expect(await r.call('BLMPOP', '0', '2', 'b', 'c', 'RIGHT', 'COUNT', '2')).toEqual(['c', ['3', '2']]);
    const w = await client();
    await r.del('c');
    const pending = w.call('BLMPOP', '0', '2', 'b', 'c', 'LEFT', 'COUNT', '5');
    await blockedClients(1);
    await r.rpush('c', 'x', 'y');
    expect(await pending).toEqual(['c', ['x', 'y']]);
  });

  it('INFO counts blocked clients and those with a timeout', async () => {
    const w1 = await client();
    const w2 = await client();
    void w1.blpop('b', 0);
    void w2.blpop('c', 100);
    await blockedClients(2);
    const f = infoFields(await r.info('clients'));
    expect(f.get('clients_in_timeout_table')).toBe('1');
    await r.rpush('b', '1');
    await r.rpush('c', '1');
    await blockedClients(0);
    expect(infoFields(await r.info('clients')).get('clients_in_timeout_table')).toBe('0');
  });

  /** Raw RESP3 exchange: the exact bytes. */
  async function raw(commands: string[][], until: string): Promise<string> {
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((res) => sock.once('connect', res));
    let data = '';
    sock.on('data', (b) => { data += b.toString('latin1'); });
    for (const c of commands) sock.write(`*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    for (let i = 0; i < 200 && !data.endsWith(until); i++) await sleep(10);
    sock.destroy();
    return data;
  }

  it('RESP3: null on timeout, arrays when served', async () => {
    await r.rpush('d', 'v');
    const tail = '_\r\n_\r\n*2\r\n$1\r\nd\r\n$1\r\nv\r\n';
    const out = await raw([['HELLO', '3'], ['BLPOP', 'b', '0.01'], ['BLMOVE', 'b', 'c', 'LEFT', 'LEFT', '0.01'], ['BRPOP', 'b', 'd', '0']], tail);
    expect(out.endsWith(tail)).toBe(true);
  });

  it('sorted sets: BZPOPMIN woken by ZADD, BZPOPMAX on keys of several shards, BZMPOP with COUNT', async () => {
    const w = await client();
    const p1 = w.bzpopmin('c', 0);
    await blockedClients(1);
    await r.zadd('c', 2, 'two', 1, 'one');
    expect(await p1).toEqual(['c', 'one', '1']);
    const p2 = w.bzpopmax('b', 'a', 'd', 0);
    await blockedClients(1);
    await r.zadd('d', 9, 'nine');
    expect(await p2).toEqual(['d', 'nine', '9']);
    const p3 = w.call('BZMPOP', '0', '2', 'a', 'b', 'MAX', 'COUNT', '3');
    await blockedClients(1);
    await r.zadd('b', 1, 'x', 2, 'y');
    expect(await p3).toEqual(['b', [['y', '2'], ['x', '1']]]);
    expect(await r.zrange('c', 0, -1)).toEqual(['two']);
  });

  it('a sorted-set waiter that disconnects is forgotten: the member stays', async () => {
    const w = await client();
    void w.bzpopmin('c', 0).catch(() => {});
    await blockedClients(1);
    w.disconnect();
    await blockedClients(0);
    await r.zadd('c', 5, 'kept');
    await sleep(50);
    expect(await r.zrange('c', 0, -1, 'WITHSCORES')).toEqual(['kept', '5']);
  });

  it('no element is lost or given twice while waiters time out, are unblocked and disconnect under load', async () => {
    const keys = ['b', 'c', 'd', 'a'];
    const pushed = new Set<string>();
    const received: string[] = [];
    let producing = true;
    const consumer = async (n: number): Promise<void> => {
      let c = await client();
      for (let round = 0; producing || round < 3; round++) {
        const mine = n % 3 === 0 ? keys : [keys[n % 4]];
        const r = n % 2 === 0
          ? await c.blpop(...mine, 0.01).catch(() => null)
          : await c.call('BLMPOP', '0.01', String(mine.length), ...mine, 'RIGHT', 'COUNT', '2').catch(() => null) as [string, string[]] | null;
        if (r !== null) {
          if (n % 2 === 0) received.push((r as [string, string])[1]);
          else received.push(...(r as [string, string[]])[1]);
        }
        if (round % 7 === 6) {
          c.disconnect();
          c = await client();
        }
      }
    };
    const unblocker = (async () => {
      const ids: number[] = [];
      while (producing) {
        const list = await r.client('LIST') as string;
        ids.length = 0;
        for (const m of list.matchAll(/id=(\d+) .*flags=b /g)) ids.push(Number(m[1]));
        if (ids.length > 0) await r.call('CLIENT', 'UNBLOCK', String(ids[0]), ids[0] % 2 === 0 ? 'ERROR' : 'TIMEOUT');
        await sleep(3);
      }
    })();
    const consumers = Array.from({ length: 8 }, (_, n) => consumer(n));
    for (let i = 0; i < 600; i++) {
      const v = `v${i}`;
      pushed.add(v);
      await r.rpush(keys[i % 4], v);
      if (i % 50 === 0) await sleep(5);
    }
    producing = false;
    await Promise.all([...consumers, unblocker]);
    const left: string[] = [];
    for (const k of keys) left.push(...await r.lrange(k, 0, -1));
    const all = [...received, ...left];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(pushed.size);
    await blockedClients(0);
  });

  it('a waiter served a big reply (BLMPOP COUNT over a 1 MB list), and many waiters served by one write', async () => {
    const w = await client();
    const big = 'x'.repeat(1000);
    const p1 = w.call('BLMPOP', '0', '1', 'c', 'LEFT', 'COUNT', '5000');
    await blockedClients(1);
    const p = r.pipeline();
    p.del('src');
    for (let i = 0; i < 10; i++) p.rpush('src', ...Array.from({ length: 100 }, (_, j) => `${i * 100 + j}:${big}`));
    p.rename('src', 'c');
    await p.exec();
    const got = await p1 as [string, string[]];
    expect(got[0]).toBe('c');
    expect(got[1].length).toBe(1000);
    expect(got[1][999]).toBe(`999:${big}`);
    const ws = await Promise.all(Array.from({ length: 40 }, () => client()));
    const pops = ws.map((c) => c.blpop('d', 0));
    await blockedClients(40);
    await r.rpush('d', ...Array.from({ length: 40 }, (_, i) => `${i}:${big}`));
    const res = await Promise.all(pops);
    // Each gets one element (their order among themselves is the order their commands arrived in).
    expect(res.map((x) => (x as [string, string])[1]).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `${i}:${big}`).sort());
    expect(await r.exists('d')).toBe(0);
  });
});

describe('blocking pops after the request bytes are reused', () => {
  // A waiter keeps the pop it will run (its command, keys, direction, count) past the request
  // that blocked it. With a 16 KB ring, the traffic that follows overwrites that request's
  // record many times over before the waiter is served.
  let r: Redis;
  let server: ServerHandle;
  useSabre((s, client) => { server = s; r = client; }, { args: ['--shard-ring-kb', '16'] });

  it('a waiter is served the pop it asked for after its request record was overwritten', async () => {
    const w = redisClient(server.port);
    await w.connect();
    try {
      const key = 'reuse:q';
      const shard = shardOfKey(key);
      const sameShard: string[] = [];
      for (let i = 0; sameShard.length < 8; i++) if (shardOfKey(`reuse:fill${i}`) === shard) sameShard.push(`reuse:fill${i}`);
      const pending = w.call('BLMPOP', '0', '1', key, 'RIGHT', 'COUNT', '2');
      for (let i = 0; i < 200 && Number(infoFields(await r.info('clients')).get('blocked_clients')) !== 1; i++) await sleep(5);
      // About 50 times the ring: SETs whose bytes differ from the pop's everywhere.
      const p = r.pipeline();
      for (let i = 0; i < 200; i++) p.set(sameShard[i % sameShard.length], 'Z'.repeat(4000));
      await p.exec();
      await r.rpush(key, 'a', 'b', 'c');
      expect(await pending).toEqual([key, ['c', 'b']]);
      expect(await r.lrange(key, 0, -1)).toEqual(['a']);
    } finally {
      w.disconnect();
    }
  });
});
