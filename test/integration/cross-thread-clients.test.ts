import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keyHashSlot } from '../../src/util/crc16.ts';
import {
  FrontPool, RespConn, ReplyError, info, infoMap, sleep, waitFor, type PlacedConn, type Reply,
} from '../helpers/fronts.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { startRedis, startSabre, type ServerHandle } from '../helpers/servers.ts';
import { redisForComparison } from '../helpers/suites.ts';

// Issue 8: server-wide state stays server-wide with several front threads.
// Clients are spread over the two fronts of `--io-threads 2` (the kernel
// spreads SO_REUSEPORT connections; FrontPool opens connections until each
// front has its share and knows which front serves which), and every client
// command is checked from a connection of the other front: ids, CLIENT LIST,
// CLIENT KILL, INFO clients/stats, maxclients, CONFIG SET, RESETSTAT, the
// keyspace fan-outs, blocking pops, DEBUG SLEEP, SHUTDOWN, and each client's
// own reply order. Where Redis 7.0.15 answers too, the texts are compared.

const SHARDS = 4;
const IO = ['--io-threads', '2'];
const withRedis = redisForComparison('cross-thread-clients.test');

function shardOf(key: string): number {
  const b = Buffer.from(key, 'latin1');
  return Math.floor((keyHashSlot(b, 0, b.length) * SHARDS) / 16384);
}

function clientListLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function field(line: string, name: string): string | undefined {
  return new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1];
}

/** One connection of each front: [front 0, front 1]. */
function oneOfEach(pool: FrontPool, skip = 0): [PlacedConn, PlacedConn] {
  const by = pool.byFront();
  const a = by[0]?.[skip];
  const b = by[1]?.[skip];
  if (a === undefined || b === undefined) throw new Error(`need ${skip + 1} connections on each front`);
  return [a, b];
}

describe('io-threads 2: clients spread over the fronts', () => {
  let server: ServerHandle;
  let pool: FrontPool;

  beforeAll(async () => {
    server = await startSabre({ shards: SHARDS, args: IO });
    pool = await FrontPool.create(server.port);
    await pool.spread(12); // 24 connections at least, 12 on each front
  }, 120_000);

  afterAll(async () => {
    pool?.closeAll();
    await server?.stop();
  });

  beforeEach(async () => {
    expect(await pool.observer.str('FLUSHALL')).toBe('OK');
  });

  /** Every connection open now: the placed ones and the observer. */
  const openConns = (): RespConn[] => [pool.observer, ...pool.placed.filter((p) => !p.conn.isClosed).map((p) => p.conn)];

  it('INFO sabre: io_threads:2 and both fronts hold clients', async () => {
    const m = await info(pool.observer, 'sabre');
    expect(m.get('io_threads')).toBe('2');
    const counts = await pool.settledCounts();
    expect(counts).toHaveLength(2);
    expect(counts[0]).toBeGreaterThanOrEqual(12);
    expect(counts[1]).toBeGreaterThanOrEqual(12);
  });

  it('CLIENT ID is unique across 24+ connections on both fronts, and CLIENT INFO agrees', async () => {
    const ids = pool.placed.map((p) => p.id);
    expect(ids.length).toBeGreaterThanOrEqual(24);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of pool.placed) {
      expect(Number.isInteger(p.id) && p.id > 0).toBe(true);
      expect(await p.conn.int('CLIENT', 'ID')).toBe(p.id); // stable
      const line = await p.conn.str('CLIENT', 'INFO');
      expect(field(line, 'id')).toBe(String(p.id));
      expect(field(line, 'addr')).toBe(p.conn.addr);
    }
  });

  it('CLIENT LIST from either front shows every connection of every front exactly once', async () => {
    const expected = new Map<string, string>(); // addr -> id
    for (const p of pool.placed) expected.set(p.conn.addr, String(p.id));
    const observerId = await pool.observer.int('CLIENT', 'ID');
    expected.set(pool.observer.addr, String(observerId));
    for (const p of oneOfEach(pool)) {
      const lines = clientListLines(await p.conn.str('CLIENT', 'LIST'));
      expect(lines).toHaveLength(expected.size);
      const got = new Map(lines.map((l) => [field(l, 'addr') ?? '', field(l, 'id') ?? '']));
      expect(got).toEqual(expected);
      // CLIENT LIST ID with ids of both fronts.
      const [x, y] = oneOfEach(pool, 1);
      const some = clientListLines(await p.conn.str('CLIENT', 'LIST', 'ID', String(x.id), String(y.id)));
      expect(some.map((l) => field(l, 'id')).sort()).toEqual([String(x.id), String(y.id)].sort());
    }
  });

  it('CLIENT SETNAME and NO-EVICT on one front show in CLIENT LIST on the other', async () => {
    const [a, b] = oneOfEach(pool);
    expect(await b.conn.call('CLIENT', 'SETNAME', 'on-front-1')).toBe('OK');
    expect(await b.conn.call('CLIENT', 'NO-EVICT', 'on')).toBe('OK');
    const line = clientListLines(await a.conn.str('CLIENT', 'LIST', 'ID', String(b.id)))[0] ?? '';
    expect(field(line, 'name')).toBe('on-front-1');
    expect(field(line, 'flags')).toContain('e');
    expect(await b.conn.call('CLIENT', 'NO-EVICT', 'off')).toBe('OK');
    expect(await b.conn.call('CLIENT', 'SETNAME', '')).toBe('OK');
    const after = clientListLines(await a.conn.str('CLIENT', 'LIST', 'ID', String(b.id)))[0] ?? '';
    expect(field(after, 'name')).toBe('');
    expect(field(after, 'flags')).not.toContain('e');
  });

  it('INFO clients connected_clients counts the clients of every front', async () => {
    for (const p of oneOfEach(pool)) {
      expect((await info(p.conn, 'clients')).get('connected_clients')).toBe(String(openConns().length));
    }
    // Close 2 on front 0 and 3 on front 1: both fronts' views drop by 5.
    const before = openConns().length;
    const by = pool.byFront();
    for (const p of [...(by[0] ?? []).slice(-2), ...(by[1] ?? []).slice(-3)]) {
      p.conn.close();
      await p.conn.closed;
    }
    for (const p of oneOfEach(pool)) {
      const n = await waitFor(async () => (await info(p.conn, 'clients')).get('connected_clients'), (v) => v === String(before - 5));
      expect(n).toBe(String(before - 5));
    }
    await pool.spread(12); // back to 12 a front for the next tests
  });

  it('CLIENT KILL ID of a client on the other front closes it and answers :1', async () => {
    const [a, b] = oneOfEach(pool);
    const victim = pool.byFront()[1]?.[2];
    if (victim === undefined) throw new Error('need 3 connections on front 1');
    expect((await a.conn.raw('CLIENT', 'KILL', 'ID', String(victim.id))).toString('latin1')).toBe(':1\r\n');
    await Promise.race([victim.conn.closed, sleep(3000)]);
    expect(victim.conn.isClosed).toBe(true);
    const ids = clientListLines(await b.conn.str('CLIENT', 'LIST')).map((l) => field(l, 'id'));
    expect(ids).not.toContain(String(victim.id));
    expect(ids).toHaveLength(openConns().length);
    // And the other way: a client of front 1 kills one of front 0.
    const victim0 = pool.byFront()[0]?.[2];
    if (victim0 === undefined) throw new Error('need 3 connections on front 0');
    expect((await b.conn.raw('CLIENT', 'KILL', 'ID', String(victim0.id))).toString('latin1')).toBe(':1\r\n');
    await Promise.race([victim0.conn.closed, sleep(3000)]);
    expect(victim0.conn.isClosed).toBe(true);
    await pool.spread(12);
  });

  it('CLIENT KILL addr (the old form) answers +OK, CLIENT KILL ADDR (the new form) :1, across fronts', async () => {
    const [a, b] = oneOfEach(pool);
    const v1 = pool.byFront()[1]?.[3];
    const v0 = pool.byFront()[0]?.[3];
    if (v1 === undefined || v0 === undefined) throw new Error('need 4 connections on each front');
    expect((await a.conn.raw('CLIENT', 'KILL', v1.conn.addr)).toString('latin1')).toBe('+OK\r\n');
    expect((await b.conn.raw('CLIENT', 'KILL', 'ADDR', v0.conn.addr)).toString('latin1')).toBe(':1\r\n');
    await Promise.race([Promise.all([v1.conn.closed, v0.conn.closed]), sleep(3000)]);
    expect([v1.conn.isClosed, v0.conn.isClosed]).toEqual([true, true]);
    // A killed client is gone from INFO clients on both fronts too.
    for (const p of [a, b]) {
      const n = await waitFor(async () => (await info(p.conn, 'clients')).get('connected_clients'),
        (v) => v === String(openConns().length));
      expect(n).toBe(String(openConns().length));
    }
    await pool.spread(12);
  });

  it('CLIENT KILL SKIPME no of itself (by id, from front 1) closes the caller after its reply', async () => {
    const me = pool.byFront()[1]?.[4];
    if (me === undefined) throw new Error('need 5 connections on front 1');
    const r = await me.conn.raw('CLIENT', 'KILL', 'ID', String(me.id), 'SKIPME', 'no');
    expect(r.toString('latin1')).toBe(':1\r\n');
    await Promise.race([me.conn.closed, sleep(3000)]);
    expect(me.conn.isClosed).toBe(true);
    await pool.spread(12);
  });

  it.runIf(withRedis)('CLIENT KILL of unknown clients and bad ids answers as Redis', async () => {
    const redis = await startRedis();
    if (redis === null) throw new Error('redis-server vanished');
    try {
      const rc = await RespConn.open(redis.port);
      const [a, b] = oneOfEach(pool);
      const cases: string[][] = [
        ['CLIENT', 'KILL', 'ID', '987654321'],
        ['CLIENT', 'KILL', '127.0.0.1:1'],
        ['CLIENT', 'KILL', 'ADDR', '127.0.0.1:1'],
        ['CLIENT', 'KILL', 'LADDR', '127.0.0.1:1'],
        ['CLIENT', 'KILL', 'ID', 'abc'],
        ['CLIENT', 'KILL', 'ID', '0'],
        ['CLIENT', 'KILL', 'ID', '-3'],
        ['CLIENT', 'KILL', 'ID', '1', 'SKIPME'],
        ['CLIENT', 'KILL', 'TYPE', 'nosuchtype'],
        ['CLIENT', 'KILL', 'USER', 'nosuchuser'],
        ['CLIENT', 'UNBLOCK', '987654321'],
      ];
      for (const cmd of cases) {
        const want = (await rc.raw(...cmd)).toString('latin1');
        for (const p of [a, b]) expect(`${cmd.join(' ')} -> ${(await p.conn.raw(...cmd)).toString('latin1')}`).toBe(`${cmd.join(' ')} -> ${want}`);
      }
      rc.close();
    } finally {
      await redis.stop();
    }
  });

  it('CONFIG SET on a client of one front is seen by CONFIG GET on a client of the other', async () => {
    const [a, b] = oneOfEach(pool);
    const settings: [string, string][] = [['slowlog-log-slower-than', '1234'], ['maxclients', '777'], ['timeout', '3600']];
    const saved: [string, string][] = [];
    for (const [name] of settings) {
      const r = await a.conn.call('CONFIG', 'GET', name);
      saved.push([name, Array.isArray(r) && typeof r[1] === 'string' ? r[1] : '']);
    }
    for (const [setter, getter] of [[a, b], [b, a]] as const) {
      for (const [name, value] of settings) {
        const v = setter === a ? value : String(Number(value) + 1);
        expect(await setter.conn.call('CONFIG', 'SET', name, v)).toBe('OK');
        expect(await getter.conn.call('CONFIG', 'GET', name)).toEqual([name, v]);
      }
    }
    for (const [name, value] of saved) expect(await a.conn.call('CONFIG', 'SET', name, value)).toBe('OK');
    for (const [name, value] of saved) expect(await b.conn.call('CONFIG', 'GET', name)).toEqual([name, value]);
  });

  it('SLOWLOG on one front lists the commands of clients of the other', async () => {
    const [a, b] = oneOfEach(pool);
    expect(await a.conn.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0')).toBe('OK');
    try {
      expect(await a.conn.call('SLOWLOG', 'RESET')).toBe('OK');
      expect(await b.conn.call('SET', 'slow-from-front-1', 'v')).toBe('OK');
      expect(await b.conn.call('ECHO', 'front-command-from-front-1')).toBe('front-command-from-front-1');
      const log = await a.conn.call('SLOWLOG', 'GET', '-1');
      if (!Array.isArray(log)) throw new Error(`SLOWLOG GET replied ${JSON.stringify(log)}`);
      const entries = log.filter(Array.isArray);
      const find = (args: string[]): Reply[] | undefined =>
        entries.find((e) => JSON.stringify(e[3]) === JSON.stringify(args));
      for (const args of [['SET', 'slow-from-front-1', 'v'], ['ECHO', 'front-command-from-front-1']]) {
        const e = find(args);
        expect(e, `SLOWLOG has ${args.join(' ')}`).toBeDefined();
        expect(e?.[4]).toBe(b.conn.addr);
      }
    } finally {
      expect(await a.conn.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000')).toBe('OK');
    }
  });

  it('DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL and SWAPDB from either front see the writes of both', async () => {
    const [a, b] = oneOfEach(pool);
    const keysA = Array.from({ length: 50 }, (_, i) => `fa:${i}`);
    const keysB = Array.from({ length: 50 }, (_, i) => `fb:${i}`);
    expect(new Set([...keysA, ...keysB].map(shardOf)).size).toBe(SHARDS);
    await a.conn.pipeline(keysA.map((k) => ['SET', k, 'a']));
    await b.conn.pipeline(keysB.map((k) => ['SET', k, 'b']));
    const all = [...keysA, ...keysB].sort();
    for (const p of [a, b]) {
      expect(await p.conn.call('DBSIZE')).toBe(100);
      const keys = await p.conn.call('KEYS', '*');
      expect(Array.isArray(keys) ? [...keys].map(String).sort() : keys).toEqual(all);
      expect(all).toContain(await p.conn.call('RANDOMKEY'));
    }
    // A SCAN whose cursor goes back and forth between the fronts.
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const r = await (calls % 2 === 0 ? a : b).conn.call('SCAN', cursor, 'COUNT', '7');
      calls++;
      if (!Array.isArray(r) || typeof r[0] !== 'string' || !Array.isArray(r[1])) throw new Error(`SCAN replied ${JSON.stringify(r)}`);
      cursor = r[0];
      for (const k of r[1]) seen.add(String(k));
    } while (cursor !== '0' && calls < 1000);
    expect([...seen].sort()).toEqual(all);
    // SWAPDB on front 0; a client of front 1 that stays in db 0 sees the swap at once.
    expect(await a.conn.call('SWAPDB', '0', '1')).toBe('OK');
    expect(await b.conn.call('DBSIZE')).toBe(0);
    expect(await b.conn.call('SELECT', '1')).toBe('OK');
    expect(await b.conn.call('DBSIZE')).toBe(100);
    expect(await b.conn.call('SWAPDB', '1', '0')).toBe('OK');
    expect(await b.conn.call('SELECT', '0')).toBe('OK');
    expect(await a.conn.call('GET', 'fb:7')).toBe('b');
    // FLUSHALL from front 1: front 0 sees an empty keyspace right after the reply.
    expect(await b.conn.call('FLUSHALL')).toBe('OK');
    expect(await a.conn.call('DBSIZE')).toBe(0);
    expect(await a.conn.call('KEYS', '*')).toEqual([]);
    expect(await a.conn.call('SCAN', '0')).toEqual(['0', []]);
    expect(await a.conn.call('EXISTS', ...all)).toBe(0);
  });

  it('a push on one front wakes a BLPOP on the other; CLIENT UNBLOCK works across fronts', async () => {
    const [a, b] = oneOfEach(pool);
    const blocked = b.conn.call('BLPOP', 'bl:list', '5');
    await waitFor(async () => (await info(a.conn, 'clients')).get('blocked_clients'), (v) => v === '1');
    expect(await a.conn.call('LPUSH', 'bl:list', 'x')).toBe(1);
    expect(await blocked).toEqual(['bl:list', 'x']);
    // A client of front 0 blocked, unblocked by a client of front 1.
    const t0 = Date.now();
    const blocked2 = a.conn.call('BLPOP', 'bl:none', '10');
    await waitFor(async () => (await info(b.conn, 'clients')).get('blocked_clients'), (v) => v === '1');
    expect(await b.conn.call('CLIENT', 'UNBLOCK', String(a.id))).toBe(1);
    expect(await blocked2).toBeNull();
    expect(Date.now() - t0).toBeLessThan(5000);
    const blocked3 = a.conn.call('BLPOP', 'bl:none', '10');
    await waitFor(async () => (await info(b.conn, 'clients')).get('blocked_clients'), (v) => v === '1');
    const err = await b.conn.call('CLIENT', 'UNBLOCK', String(a.id), 'ERROR');
    expect(err).toBe(1);
    const r3 = await blocked3;
    expect(r3).toBeInstanceOf(ReplyError);
    expect(r3 instanceof ReplyError ? r3.message : '').toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
  });

  it('DEBUG SLEEP from one front stalls keyed commands of the other front', async () => {
    const [a, b] = oneOfEach(pool);
    const t0 = Date.now();
    const sleeping = a.conn.call('DEBUG', 'SLEEP', '0.6');
    await sleep(100);
    const t1 = Date.now();
    expect(await b.conn.call('SET', 'during-sleep', '1')).toBe('OK');
    const waited = Date.now() - t1;
    expect(await sleeping).toBe('OK');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(waited).toBeGreaterThanOrEqual(300);
  });

  it('each client keeps its request order: 1000 mixed commands pipelined on 8 clients of both fronts', async () => {
    const by = pool.byFront();
    const clients = [...(by[0] ?? []).slice(0, 4), ...(by[1] ?? []).slice(0, 4)];
    expect(clients).toHaveLength(8);
    const scripts = clients.map((_, i) => mixedScript(i, 1000));
    const replies = await Promise.all(clients.map((c, i) => c.conn.pipelineRaw(scripts[i] ?? [])));
    if (withRedis) {
      // Redis runs the same scripts, on 8 connections at once too: each client has its own keys.
      const redis = await startRedis();
      if (redis === null) throw new Error('redis-server vanished');
      try {
        const conns = await Promise.all(clients.map(() => RespConn.open(redis.port)));
        const want = await Promise.all(conns.map((c, i) => c.pipelineRaw(scripts[i] ?? [])));
        for (const c of conns) c.close();
        for (const [i, script] of scripts.entries()) {
          const got = replies[i] ?? [];
          const exp = want[i] ?? [];
          for (let j = 0; j < script.length; j++) {
            const g = got[j]?.toString('latin1');
            const w = exp[j]?.toString('latin1');
            if (g !== w) {
              expect(`client ${i} (front ${clients[i]?.front}) command ${j}: ${script[j]?.join(' ')} -> ${g}`)
                .toBe(`client ${i} (front ${clients[i]?.front}) command ${j}: ${script[j]?.join(' ')} -> ${w}`);
            }
          }
        }
      } finally {
        await redis.stop();
      }
    }
    // Without Redis too: every ECHO/PING marker comes back in its place.
    for (const [i, script] of scripts.entries()) {
      for (let j = 0; j < script.length; j++) {
        const cmd = script[j] ?? [];
        if (cmd[0] === 'ECHO') expect(replies[i]?.[j]?.toString('latin1')).toBe(`$${(cmd[1] ?? '').length}\r\n${cmd[1]}\r\n`);
      }
    }
  }, 60_000);
});

/** A deterministic mix of commands on client `i`'s own keys (spread over the shards), with markers. */
function mixedScript(i: number, n: number): string[][] {
  const rnd = mulberry32(77 + i);
  const keys = Array.from({ length: 12 }, (_, j) => `c${i}:k${j}`);
  const pick = (): string => keys[Math.floor(rnd() * keys.length)] ?? '';
  const picks = (m: number): string[] => Array.from({ length: m }, pick);
  const out: string[][] = [];
  for (let j = 0; out.length < n; j++) {
    const r = Math.floor(rnd() * 20);
    switch (r) {
      case 0: out.push(['SET', pick(), `v${j}`]); break;
      case 1: out.push(['GET', pick()]); break;
      case 2: out.push(['INCR', `c${i}:n${j % 3}`]); break;
      case 3: out.push(['MSET', ...picks(4).flatMap((k) => [k, `m${j}`])]); break;
      case 4: out.push(['MGET', ...picks(5)]); break;
      case 5: out.push(['DEL', ...picks(3)]); break;
      case 6: out.push(['EXISTS', ...picks(4)]); break;
      case 7: out.push(['RENAME', pick(), pick()]); break;
      case 8: out.push(['COPY', pick(), pick(), 'REPLACE']); break;
      case 9: out.push(['APPEND', pick(), `a${j}`]); break;
      case 10: out.push(['RPUSH', `c${i}:list`, `e${j}`]); break;
      case 11: out.push(['LPOP', `c${i}:list`]); break;
      case 12: out.push(['SADD', `c${i}:set`, `s${j % 17}`]); break;
      case 13: out.push(['SCARD', `c${i}:set`]); break;
      case 14: out.push(['HSET', `c${i}:hash`, `f${j % 5}`, `h${j}`]); break;
      case 15: out.push(['HGET', `c${i}:hash`, `f${j % 5}`]); break;
      case 16: out.push(['ECHO', `marker-${i}-${j}`]); break;
      case 17: out.push(['SELECT', String(j % 2)]); break;
      case 18: out.push(['MSETNX', ...picks(2).flatMap((k) => [k, `x${j}`])]); break;
      default: out.push(['STRLEN', pick()]); break;
    }
  }
  return out;
}

describe('io-threads 2: maxclients counts the clients of every front', () => {
  it('maxclients 10: of 12 connections 10 are served, 2 get the error, as from Redis', async () => {
    const servers: [string, ServerHandle][] = [];
    try {
      servers.push(['sabre', await startSabre({ shards: SHARDS, args: [...IO, '--maxclients', '10'] })]);
      if (withRedis) {
        const r = await startRedis({ args: ['--maxclients', '10'] });
        if (r === null) throw new Error('redis-server vanished');
        servers.push(['redis', r]);
      }
      for (const [name, srv] of servers) {
        const served: RespConn[] = [];
        const refused: string[] = [];
        for (let i = 0; i < 12; i++) {
          const c = await RespConn.open(srv.port);
          // A refused connection gets the error unasked and is closed.
          const pong = await Promise.race([c.call('PING').catch(() => null), c.closed.then(() => null)]);
          if (pong === 'PONG') served.push(c);
          else {
            await Promise.race([c.closed, sleep(3000)]);
            refused.push(`${c.isClosed ? 'closed' : 'open'}: ${c.unsolicited.toString('latin1')}${pong instanceof ReplyError ? `-${pong.message}\r\n` : ''}`);
          }
        }
        expect([name, served.length]).toEqual([name, 10]);
        expect([name, refused]).toEqual([name, Array(2).fill('closed: -ERR max number of clients reached\r\n')]);
        if (name === 'sabre') {
          const fronts = infoMap(await served[0]?.str('INFO', 'sabre') ?? '');
          const counts = [fronts.get('front_0_connected_clients'), fronts.get('front_1_connected_clients')].map(Number);
          expect(counts.reduce((x, y) => x + y, 0)).toBe(10);
          // With 10 clients both fronts should have some (all on one: 2 in 1024 by chance).
          expect(counts.every((c) => c > 0), `front counts ${counts.join(', ')}`).toBe(true);
        }
        expect((await served[1]?.str('INFO', 'clients'))?.includes('connected_clients:10\r\n')).toBe(true);
        // One leaves, one more comes in.
        served[0]?.close();
        await served[0]?.closed;
        const more = await waitFor(async () => {
          const c = await RespConn.open(srv.port);
          const r = await Promise.race([c.call('PING').catch(() => null), c.closed.then(() => null)]);
          if (r !== 'PONG') c.close();
          return r === 'PONG' ? c : null;
        }, (c) => c !== null);
        expect(more).not.toBeNull();
        more?.close();
        for (const c of served) c.close();
      }
    } finally {
      for (const [, s] of servers) await s.stop();
    }
  }, 60_000);

  it('CONFIG SET maxclients from one front limits the connections of every front', async () => {
    const srv = await startSabre({ shards: SHARDS, args: IO });
    const pool = await FrontPool.create(srv.port);
    try {
      await pool.spread(3);
      const open = pool.placed.length + 1;
      const [a] = oneOfEach(pool);
      expect(await a.conn.call('CONFIG', 'SET', 'maxclients', String(open))).toBe('OK');
      // Every further connection is refused, whichever front the kernel gives it to.
      for (let i = 0; i < 8; i++) {
        const c = await RespConn.open(srv.port);
        await Promise.race([c.closed, sleep(3000)]);
        expect(c.isClosed).toBe(true);
        expect(c.unsolicited.toString('latin1')).toBe('-ERR max number of clients reached\r\n');
      }
      expect((await info(a.conn, 'stats')).get('rejected_connections')).toBe('8');
      expect(await a.conn.call('CONFIG', 'SET', 'maxclients', '10000')).toBe('OK');
    } finally {
      pool.closeAll();
      await srv.stop();
    }
  }, 60_000);
});

describe('io-threads 2: statistics and settings that act on every front', () => {
  it('CONFIG RESETSTAT resets the statistics of every front; INFO stats and commandstats add the fronts up, as Redis', async () => {
    const srv = await startSabre({ shards: SHARDS, args: IO });
    const pool = await FrontPool.create(srv.port);
    try {
      await pool.spread(1);
      const [a, b] = oneOfEach(pool);
      // Much traffic on both fronts first.
      for (const p of [a, b]) await p.conn.pipeline(Array.from({ length: 500 }, (_, i) => ['SET', `pre:${i}`, 'v']));
      const before = await info(b.conn, 'stats');
      expect(Number(before.get('total_commands_processed'))).toBeGreaterThanOrEqual(1000);
      const run = async (x: RespConn, y: RespConn): Promise<Map<string, string>> => {
        expect(await x.call('SET', 'hit', '1')).toBe('OK');
        expect(await x.call('CONFIG', 'RESETSTAT')).toBe('OK');
        await x.pipeline(Array.from({ length: 10 }, () => ['GET', 'hit']));
        await y.pipeline(Array.from({ length: 10 }, () => ['GET', 'miss']));
        await y.call('NOSUCHCOMMAND');
        const stats = infoMap(await y.str('INFO', 'stats'));
        const cmd = infoMap(await x.str('INFO', 'commandstats'));
        const err = infoMap(await x.str('INFO', 'errorstats'));
        const out = new Map<string, string>();
        for (const f of ['total_commands_processed', 'keyspace_hits', 'keyspace_misses', 'total_connections_received',
          'total_error_replies', 'rejected_connections', 'unexpected_error_replies']) out.set(f, stats.get(f) ?? '(none)');
        out.set('cmdstat_get', cmd.get('cmdstat_get')?.replace(/usec=[^,]*,usec_per_call=[^,]*,/, '') ?? '(none)');
        out.set('cmdstat_config|resetstat', cmd.get('cmdstat_config|resetstat')?.replace(/usec=[^,]*,usec_per_call=[^,]*,/, '') ?? '(none)');
        out.set('errorstat_ERR', err.get('errorstat_ERR') ?? '(none)');
        return out;
      };
      const got = await run(a.conn, b.conn);
      // Redis 7.0.15: RESETSTAT counts itself after the reset, then the 20 GETs; the unknown command is
      // an error reply, not a command processed; INFO is counted after its own reply.
      expect(got.get('total_commands_processed')).toBe('21');
      expect(got.get('keyspace_hits')).toBe('10');
      expect(got.get('keyspace_misses')).toBe('10');
      expect(got.get('total_connections_received')).toBe('0');
      if (withRedis) {
        const redis = await startRedis();
        if (redis === null) throw new Error('redis-server vanished');
        try {
          const x = await RespConn.open(redis.port);
          const y = await RespConn.open(redis.port);
          const want = await run(x, y);
          x.close();
          y.close();
          expect(got).toEqual(want);
        } finally {
          await redis.stop();
        }
      }
    } finally {
      pool.closeAll();
      await srv.stop();
    }
  }, 60_000);

  it('CONFIG SET timeout on one front closes idle clients of both fronts', async () => {
    const srv = await startSabre({ shards: SHARDS, args: IO });
    const pool = await FrontPool.create(srv.port);
    try {
      await pool.spread(2);
      const [a, b] = oneOfEach(pool);
      const [idle0, idle1] = oneOfEach(pool, 1);
      expect(await a.conn.call('CONFIG', 'SET', 'timeout', '1')).toBe('OK');
      // a and b stay busy; the idle ones go within a few seconds.
      const deadline = Date.now() + 6000;
      while (Date.now() < deadline && !(idle0.conn.isClosed && idle1.conn.isClosed)) {
        await a.conn.call('PING');
        await b.conn.call('PING');
        await sleep(200);
      }
      expect([idle0.conn.isClosed, idle1.conn.isClosed]).toEqual([true, true]);
      expect([a.conn.isClosed, b.conn.isClosed]).toEqual([false, false]);
      expect(await b.conn.call('CONFIG', 'SET', 'timeout', '0')).toBe('OK');
    } finally {
      pool.closeAll();
      await srv.stop();
    }
  }, 60_000);

  it('SHUTDOWN from a client of front 1 stops the whole server', async () => {
    const srv = await startSabre({ shards: SHARDS, args: IO });
    const pool = await FrontPool.create(srv.port);
    try {
      await pool.spread(1);
      const [a, b] = oneOfEach(pool);
      const r = await b.conn.call('SHUTDOWN', 'NOSAVE').catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
      expect(r).toBe('connection closed'); // Redis closes without a reply on success
      await Promise.race([a.conn.closed, sleep(5000)]);
      expect(a.conn.isClosed).toBe(true);
      const refused = await waitFor(async () => {
        try {
          const c = await RespConn.open(srv.port);
          c.close();
          return false;
        } catch {
          return true;
        }
      }, (x) => x, 5000);
      expect(refused).toBe(true);
      expect(srv.logs()).toContain('ready to exit');
    } finally {
      pool.closeAll();
      await srv.stop();
    }
  }, 60_000);
});
