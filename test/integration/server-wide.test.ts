import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectSameReplies, type Step } from '../helpers/differential.ts';
import { encodeCommand, rawCommand, startRedis, startSabre, untilProcessGone, type ServerHandle } from '../helpers/servers.ts';
import { infoFields, redisClient, redisForComparison, shardOfKey } from '../helpers/suites.ts';

// Server-wide state with two front threads (io-threads 2, 4 shards): every
// connection lands on one front (the kernel spreads them, SO_REUSEPORT), and
// CLIENT LIST / KILL / UNBLOCK, INFO, CONFIG SET / RESETSTAT, SLOWLOG, DEBUG
// SLEEP, maxclients, SHUTDOWN and the keyspace-wide commands behave as with
// one thread whatever front the asking client and its target are on. Texts
// are compared with Redis 7.0.15 where there is one to compare.

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
const IO = ['--io-threads', '2'];
const compare = redisForComparison('server-wide');

async function info(c: Redis, ...sections: string[]): Promise<Map<string, string>> {
  return infoFields(await c.call('INFO', ...sections) as string);
}

async function frontOf(c: Redis): Promise<number> {
  const f = (await info(c, 'sabre')).get('client_front');
  expect(f).toMatch(/^[01]$/);
  return Number(f);
}

function ended(c: Redis): Promise<void> {
  return new Promise((resolve) => {
    if (c.status === 'end') resolve();
    else c.once('end', () => resolve());
  });
}

/** Clients on each front: [front 0's, front 1's]. */
interface Spread {
  fronts: [Redis[], Redis[]];
}

describe('server-wide state with io-threads 2', () => {
  let server: ServerHandle;
  let redis: ServerHandle | null = null;
  const open: Redis[] = [];
  /** Clients this file closed itself (the server may not have seen it yet). */
  const dropped = new Set<Redis>();
  function drop(c: Redis): void {
    dropped.add(c);
    c.disconnect();
  }

  beforeAll(async () => {
    server = await startSabre({ shards: 4, args: IO });
    if (compare) redis = await (startRedis() as Promise<ServerHandle>);
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.disconnect();
    dropped.clear();
    // Every test starts with no other client connected.
    for (let i = 0; i < 100; i++) {
      const c = await connect(server.port, false);
      const n = Number((await info(c, 'clients')).get('connected_clients'));
      c.disconnect();
      if (n === 1) break;
      await sleep(10);
    }
  });

  async function connect(port: number, keep = true): Promise<Redis> {
    const c = redisClient(port);
    await c.connect();
    if (keep) open.push(c);
    return c;
  }

  /** Opens connections until each front has `per` of them (the kernel picks the front); closes the extra ones. */
  async function spread(per: number): Promise<Spread> {
    const fronts: [Redis[], Redis[]] = [[], []];
    for (let i = 0; i < 200 && (fronts[0].length < per || fronts[1].length < per); i++) {
      const c = await connect(server.port);
      const f = fronts[await frontOf(c)];
      if (f.length < per) f.push(c);
      else drop(c);
    }
    expect(fronts[0].length).toBe(per);
    expect(fronts[1].length).toBe(per);
    await settle();
    return { fronts };
  }

  /** Waits until the server counts exactly the clients this file holds open (the ones it closed are gone). */
  async function settle(): Promise<void> {
    const mine = open.filter((c) => c.status === 'ready' && !dropped.has(c));
    let n = -1;
    for (let i = 0; i < 200; i++) {
      n = Number((await info(mine[0], 'clients')).get('connected_clients'));
      if (n === mine.length) return;
      await sleep(10);
    }
    throw new Error(`the server counts ${n} clients, this file holds ${mine.length}`);
  }

  async function idOf(c: Redis): Promise<number> {
    return Number(await c.call('CLIENT', 'ID'));
  }

  async function listIds(c: Redis, ...args: string[]): Promise<number[]> {
    const text = await c.call('CLIENT', 'LIST', ...args) as string;
    return text.split('\n').filter((l) => l !== '').map((l) => Number(/^id=(\d+) /.exec(l)?.[1]));
  }

  beforeEach(async () => {
    const c = await connect(server.port, false);
    await c.call('FLUSHALL');
    await c.call('CONFIG', 'SET', 'maxclients', '10000', 'requirepass', '', 'slowlog-log-slower-than', '10000',
      'slowlog-max-len', '128', 'hz', '10', 'proto-max-bulk-len', '512mb');
    c.disconnect();
  });

  it('INFO: connected clients per front add up; io_threads, CPU per front, one run_id', async () => {
    const { fronts } = await spread(8);
    const [a, b] = [fronts[0][0], fronts[1][0]];
    for (const c of [a, b]) {
      const f = await info(c, 'sabre', 'clients', 'cpu', 'server');
      expect(f.get('io_threads')).toBe('2');
      expect(f.get('front_0_connected_clients')).toBe('8');
      expect(f.get('front_1_connected_clients')).toBe('8');
      expect(f.get('connected_clients')).toBe('16');
      expect(f.get('io_threads_active')).toBe('1');
      for (const i of [0, 1]) {
        expect(f.get(`used_cpu_sys_front_${i}`)).toMatch(/^\d+\.\d{6}$/);
        expect(f.get(`used_cpu_user_front_${i}`)).toMatch(/^\d+\.\d{6}$/);
      }
      expect(f.get('used_cpu_user_front_2')).toBeUndefined();
      // Front 0 is the main thread.
      expect(f.get('used_cpu_user_main_thread')).toBe(f.get('used_cpu_user_front_0'));
      expect(Number(f.get('used_cpu_user_front_1'))).toBeGreaterThan(0);
    }
    const [ra, rb] = await Promise.all([info(a, 'server'), info(b, 'server')]);
    expect(ra.get('run_id')).toMatch(/^[0-9a-f]{40}$/);
    expect(rb.get('run_id')).toBe(ra.get('run_id'));
    expect(Math.abs(Number(rb.get('uptime_in_seconds')) - Number(ra.get('uptime_in_seconds')))).toBeLessThanOrEqual(1);
    drop(fronts[1][1]);
    drop(fronts[0][1]);
    await sleep(50);
    const f = await info(b, 'sabre', 'clients');
    expect(f.get('connected_clients')).toBe('14');
    expect(f.get('front_0_connected_clients')).toBe('7');
    expect(f.get('front_1_connected_clients')).toBe('7');
  });

  it('CLIENT LIST lists every front\'s clients in id order, filtered by TYPE and ID', async () => {
    const { fronts } = await spread(3);
    const ids = await Promise.all([...fronts[0], ...fronts[1]].map(idOf));
    const sorted = [...ids].sort((x, y) => x - y);
    for (const c of [fronts[0][0], fronts[1][0]]) {
      expect(await listIds(c)).toEqual(sorted);
      expect(await listIds(c, 'TYPE', 'normal')).toEqual(sorted);
      expect(await listIds(c, 'TYPE', 'pubsub')).toEqual([]);
      // The ids in the order asked, a repeated one twice, an unknown one left out.
      const asked = [ids[5], ids[0], ids[3], ids[5], 999999];
      expect(await listIds(c, 'ID', ...asked.map(String))).toEqual([ids[5], ids[0], ids[3], ids[5]]);
    }
    // The line of a client of the other front has its settings.
    await fronts[1][2].call('CLIENT', 'SETNAME', 'far');
    await fronts[1][2].call('SELECT', '3');
    const line = await fronts[0][0].call('CLIENT', 'LIST', 'ID', String(ids[5])) as string;
    expect(line).toMatch(new RegExp(`^id=${ids[5]} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${server.port} fd=\\d+ name=far .* db=3 .* cmd=select user=default .*\\n$`));
    // Its own line (CLIENT INFO) and the one the other front reports agree.
    const own = await fronts[1][2].call('CLIENT', 'INFO') as string;
    expect(own.split(' ').slice(0, 5)).toEqual(line.split(' ').slice(0, 5));
  });

  it('CLIENT LIST and CLIENT KILL errors and empty results are Redis\'s, on either front', async () => {
    if (redis === null) return;
    const steps: Step[] = [
      ['CLIENT', 'LIST', 'ID', 'x'], ['CLIENT', 'LIST', 'TYPE', 'bogus'], ['CLIENT', 'LIST', 'ID', '999999'],
      ['CLIENT', 'LIST', 'TYPE', 'pubsub'], ['CLIENT', 'LIST', 'bogus'],
      ['CLIENT', 'KILL', '1.2.3.4:5'], ['CLIENT', 'KILL', 'ID', '999999'], ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'], ['CLIENT', 'KILL', 'LADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'TYPE', 'pubsub'], ['CLIENT', 'KILL', 'TYPE', 'bogus'], ['CLIENT', 'KILL', 'USER', 'nobody'],
      ['CLIENT', 'KILL', 'MAXAGE', '10'], ['CLIENT', 'KILL', 'SKIPME', 'maybe'], ['CLIENT', 'KILL', 'ID'],
      ['CLIENT', 'UNBLOCK', '999999'], ['CLIENT', 'UNBLOCK', '999999', 'ERROR'], ['CLIENT', 'UNBLOCK', 'x'],
      ['CLIENT', 'UNBLOCK', '1', 'bogus'],
    ];
    // Fresh connections land on either front: enough of them that both answer.
    const seen = new Set<number>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const c = await connect(server.port);
      seen.add(await frontOf(c));
      c.disconnect();
      await expectSameReplies(server.port, redis.port, steps);
    }
    expect(seen.size).toBe(2);
  });

  it('CLIENT KILL reaches clients of the other front: ID, ADDR (both forms), and the count goes down at once', async () => {
    const { fronts } = await spread(3);
    const [a0, a1, a2] = fronts[0];
    const [b0, b1, b2] = fronts[1];
    const before = Number((await info(a0, 'clients')).get('connected_clients'));
    // Front 0 kills a client of front 1 by id, and front 1 one of front 0.
    const gone1 = ended(b1);
    expect(await a0.call('CLIENT', 'KILL', 'ID', String(await idOf(b1)))).toBe(1);
    await gone1;
    const gone2 = ended(a1);
    expect(await b0.call('CLIENT', 'KILL', 'ID', String(await idOf(a1)))).toBe(1);
    await gone2;
    expect(Number((await info(a0, 'clients')).get('connected_clients'))).toBe(before - 2);
    // The old form by address, across fronts.
    const addrOf = async (c: Redis): Promise<string> => /addr=(\S+)/.exec(await c.call('CLIENT', 'INFO') as string)?.[1] ?? '';
    const gone3 = ended(b2);
    expect(await a0.call('CLIENT', 'KILL', await addrOf(b2))).toBe('OK');
    await gone3;
    const gone4 = ended(a2);
    expect(await b0.call('CLIENT', 'KILL', 'ADDR', await addrOf(a2))).toBe(1);
    await gone4;
    const left = await listIds(b0);
    expect(left).toEqual([await idOf(a0), await idOf(b0)].sort((x, y) => x - y));
    expect(Number((await info(b0, 'clients')).get('connected_clients'))).toBe(2);
    await expect(a0.call('CLIENT', 'KILL', '1.2.3.4:5')).rejects.toThrow('ERR No such client');
  });

  it('CLIENT KILL TYPE, USER and LADDR count and close the clients of both fronts, SKIPME as asked', async () => {
    const { fronts } = await spread(3);
    const laddr = `127.0.0.1:${server.port}`;
    const killer = fronts[1][0];
    const others = [...fronts[0], ...fronts[1].slice(1)];
    const gone = Promise.all(others.map(ended));
    expect(await killer.call('CLIENT', 'KILL', 'LADDR', laddr, 'SKIPME', 'yes')).toBe(5);
    await gone;
    expect((await info(killer, 'sabre')).get('front_0_connected_clients')).toBe('0');
    const more = await spread(2);
    const gone2 = Promise.all([...more.fronts[0], ...more.fronts[1]].map(ended));
    expect(await killer.call('CLIENT', 'KILL', 'TYPE', 'normal', 'USER', 'default')).toBe(4);
    await gone2;
    // SKIPME no: the caller goes too, after its reply.
    const last = await spread(1);
    const all = [killer, ...last.fronts[0], ...last.fronts[1]];
    const gone3 = Promise.all(all.map(ended));
    expect(await last.fronts[0][0].call('CLIENT', 'KILL', 'USER', 'default', 'SKIPME', 'no')).toBe(3);
    await gone3;
  });

  it('CLIENT UNBLOCK frees a client blocked on the other front, and INFO counts blocked clients of both', async () => {
    const { fronts } = await spread(2);
    const [a, waiterA] = fronts[0];
    const [b, waiterB] = fronts[1];
    // A blocked client answers nothing else until it is served: its id first.
    const [idA, idB] = [await idOf(waiterA), await idOf(waiterB)];
    const popB = waiterB.blpop('wide:list', 0);
    const popA = waiterA.call('BLPOP', 'wide:other', '30').then(() => 'served', (e: Error) => e.message);
    for (let i = 0; i < 200 && (await info(a, 'clients')).get('blocked_clients') !== '2'; i++) await sleep(5);
    const f = await info(b, 'clients');
    expect(f.get('blocked_clients')).toBe('2');
    expect(f.get('clients_in_timeout_table')).toBe('1');
    expect(await a.call('CLIENT', 'UNBLOCK', String(idB))).toBe(1);
    expect(await popB).toBeNull();
    expect(await b.call('CLIENT', 'UNBLOCK', String(idA), 'ERROR')).toBe(1);
    expect(await popA).toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    expect(await b.call('CLIENT', 'UNBLOCK', String(idA))).toBe(0);
    expect((await info(a, 'clients')).get('blocked_clients')).toBe('0');
    // Still woken by a push from either front afterwards.
    const again = waiterB.blpop('wide:list', 0);
    await sleep(20);
    await a.lpush('wide:list', 'x');
    expect(await again).toEqual(['wide:list', 'x']);
  });

  it('CLIENT NO-EVICT / NO-TOUCH stay per client and show in the other front\'s CLIENT LIST', async () => {
    const { fronts } = await spread(1);
    const [a, b] = [fronts[0][0], fronts[1][0]];
    expect(await b.call('CLIENT', 'NO-EVICT', 'on')).toBe('OK');
    expect(await b.call('CLIENT', 'NO-TOUCH', 'on')).toBe('OK');
    const flags = async (c: Redis, of: Redis): Promise<string> =>
      /flags=(\S+)/.exec(await c.call('CLIENT', 'LIST', 'ID', String(await idOf(of))) as string)?.[1] ?? '';
    expect(await flags(a, b)).toBe('eT');
    expect(await flags(b, a)).toBe('N');
    await a.set('wide:touch', 'v');
    await sleep(2100);
    // A read by the NO-TOUCH client leaves the key idle; one by a client of the other front does not.
    await b.get('wide:touch');
    expect(Number(await a.call('OBJECT', 'IDLETIME', 'wide:touch'))).toBeGreaterThanOrEqual(2);
    await b.call('CLIENT', 'NO-TOUCH', 'off');
    expect(await flags(a, b)).toBe('e');
    await b.get('wide:touch');
    expect(Number(await a.call('OBJECT', 'IDLETIME', 'wide:touch'))).toBe(0);
  });

  /** The same scenario on Sabre (a on front 0, b on front 1) and on Redis (two clients). */
  async function onBoth<T>(run: (a: Redis, b: Redis) => Promise<T>): Promise<{ sabre: T; redis: T | null }> {
    const { fronts } = await spread(1);
    const sabre = await run(fronts[0][0], fronts[1][0]);
    let other: T | null = null;
    if (redis !== null) {
      const [ra, rb] = [await connect(redis.port), await connect(redis.port)];
      other = await run(ra, rb);
    }
    return { sabre, redis: other };
  }

  it('INFO stats, commandstats and errorstats add up both fronts, with Redis\'s numbers', async () => {
    const { sabre, redis: oracle } = await onBoth(async (a, b) => {
      await b.call('CONFIG', 'RESETSTAT');
      for (let i = 0; i < 5; i++) await a.ping();
      for (let i = 0; i < 7; i++) await b.ping();
      await b.set('wide:s', 'x'.repeat(10_000));
      await expect(a.call('NOPE')).rejects.toThrow('ERR unknown command');
      await expect(a.call('NOPE', 'x')).rejects.toThrow('ERR unknown command');
      await expect(b.call('LPUSH', 'wide:s', 'y')).rejects.toThrow('WRONGTYPE');
      await expect(b.call('LPUSH', 'wide:s', 'y')).rejects.toThrow('WRONGTYPE');
      await expect(a.call('INCR', 'wide:s')).rejects.toThrow('ERR value is not an integer');
      await expect(a.call('CLIENT', 'KILL', '1.2.3.4:5')).rejects.toThrow('ERR No such client');
      const text = await a.call('INFO', 'stats', 'commandstats', 'errorstats') as string;
      const f = infoFields(text);
      const errorstats = text.slice(text.indexOf('# Errorstats'));
        // calls/rejected/failed (failed: of front commands only; Sabre does not count a shard command's error replies there yet).
      const calls = (name: string, failed = true): string =>
        new RegExp(`cmdstat_${name.replace('|', '\\|')}:calls=(\\d+),.*rejected_calls=(\\d+),failed_calls=(\\d+)`)
          .exec(text)?.slice(1, failed ? 4 : 3).join('/') ?? 'none';
      return {
        commands: f.get('total_commands_processed'), errors: f.get('total_error_replies'), errorstats,
        ping: calls('ping'), lpush: calls('lpush', false), incr: calls('incr', false), kill: calls('client|kill'), resetstat: calls('config|resetstat'),
        netIn: Number(f.get('total_net_input_bytes')), connections: f.get('total_connections_received'),
      };
    });
    expect(sabre.commands).toBe('18');
    expect(sabre.ping).toBe('12/0/0');
    expect(sabre.lpush).toBe('2/0');
    expect(sabre.kill).toBe('1/0/1');
    expect(sabre.netIn).toBeGreaterThan(10_000);
    expect(sabre.errorstats).toBe('# Errorstats\r\nerrorstat_ERR:count=4\r\nerrorstat_WRONGTYPE:count=2\r\n');
    if (oracle !== null) {
      const { netIn: _s, ...s } = sabre;
      const { netIn: _r, ...r } = oracle;
      expect(s).toEqual(r);
    }
  });

  it('INFO total_connections_received and rejected_connections count both fronts; maxclients counts every front\'s clients', async () => {
    const { fronts } = await spread(2);
    const [a, b] = [fronts[0][0], fronts[1][0]];
    await b.call('CONFIG', 'RESETSTAT');
    // 4 connected now (settled): room for 3 more.
    expect(await b.call('CONFIG', 'SET', 'maxclients', '7')).toBe('OK');
    expect(await a.call('CONFIG', 'GET', 'maxclients')).toEqual(['maxclients', '7']);
    const ping = encodeCommand(['PING']);
    const replies: string[] = [];
    const held = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
    // Answered: each is registered on its front before the next connections come.
    for (const c of held) expect(await c.ping()).toBe('PONG');
    for (let i = 0; i < 6; i++) replies.push((await rawCommand(server.port, ping, { replies: 1 })).toString('latin1'));
    expect(replies).toEqual(Array(6).fill('-ERR max number of clients reached\r\n'));
    const f = await info(a, 'stats', 'clients');
    expect(f.get('connected_clients')).toBe('7');
    // Each front holds 2 of the first 4: the refusals show that each front counts the other's clients.
    // Like Redis, refused connections count as rejected only.
    expect(f.get('total_connections_received')).toBe('3');
    expect(f.get('rejected_connections')).toBe('6');
    // Room again once one leaves, whatever front it was on.
    drop(held[0]);
    await settle();
    expect((await rawCommand(server.port, ping, { replies: 1 })).toString('latin1')).toBe('+PONG\r\n');
    expect(await a.call('CONFIG', 'SET', 'maxclients', '10000')).toBe('OK');
    if (redis !== null) {
      const rc = await connect(redis.port);
      await rc.call('CONFIG', 'RESETSTAT');
      await rc.call('CONFIG', 'SET', 'maxclients', '1');
      const text = (await rawCommand(redis.port, ping, { replies: 1 })).toString('latin1');
      const rf = infoFields(await rc.call('INFO', 'stats') as string);
      await rc.call('CONFIG', 'SET', 'maxclients', '10000');
      expect(text).toBe(replies[0]);
      expect([rf.get('total_connections_received'), rf.get('rejected_connections')]).toEqual(['0', '1']);
    }
  });

  it('CONFIG SET on one front applies on every front: settings, the shards\' copy, proto-max-bulk-len, requirepass', async () => {
    const { fronts } = await spread(1);
    const [a, b] = [fronts[0][0], fronts[1][0]];
    expect(await b.call('CONFIG', 'SET', 'slowlog-max-len', '77', 'hz', '20')).toBe('OK');
    expect(await a.call('CONFIG', 'GET', 'slowlog-max-len')).toEqual(['slowlog-max-len', '77']);
    expect(await a.call('CONFIG', 'GET', 'hz')).toEqual(['hz', '20']);
    // A limit that the other front's existing clients get at once.
    expect(await a.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb')).toBe('OK');
    await expect(b.call('SET', 'wide:big', 'x'.repeat(1024 * 1024 + 1))).rejects.toThrow();
    await sleep(20);
    expect(b.status).toBe('end');
    await a.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb');
    // A password: new connections on both fronts need it.
    expect(await a.call('CONFIG', 'SET', 'requirepass', 'wide-secret')).toBe('OK');
    const seen = new Set<number>();
    for (let i = 0; i < 60 && seen.size < 2; i++) {
      const c = await connect(server.port);
      await expect(c.ping()).rejects.toThrow('NOAUTH Authentication required.');
      expect(await c.call('AUTH', 'wide-secret')).toBe('OK');
      seen.add(await frontOf(c));
      c.disconnect();
    }
    expect(seen.size).toBe(2);
    expect(await a.call('CONFIG', 'SET', 'requirepass', '')).toBe('OK');
    const c = await connect(server.port);
    expect(await c.ping()).toBe('PONG');
  });

  it('CONFIG SET errors are Redis\'s, and a refused SET changes no front', async () => {
    const { fronts } = await spread(1);
    await expect(fronts[1][0].call('CONFIG', 'SET', 'hz', '15', 'io-threads', '4')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'io-threads') - can't set immutable config");
    expect(await fronts[0][0].call('CONFIG', 'GET', 'hz')).toEqual(['hz', '10']);
    if (redis !== null) {
      await expectSameReplies(server.port, redis.port, [
        ['CONFIG', 'SET', 'hz', '15', 'io-threads', '4'], ['CONFIG', 'SET', 'nosuch', '1'], ['CONFIG', 'SET', 'hz'],
        ['CONFIG', 'GET', 'hz'],
      ]);
    }
  });

  it('CONFIG RESETSTAT on one front resets the counters of both', async () => {
    const { fronts } = await spread(1);
    const [a, b] = [fronts[0][0], fronts[1][0]];
    for (let i = 0; i < 4; i++) await a.ping();
    await expect(a.call('NOPE')).rejects.toThrow();
    await b.call('CONFIG', 'RESETSTAT');
    const text = await a.call('INFO', 'commandstats', 'errorstats', 'stats') as string;
    expect(text).not.toContain('cmdstat_ping');
    expect(text).toContain('cmdstat_config|resetstat:calls=1,');
    expect(text).not.toContain('errorstat_');
    expect(infoFields(text).get('total_commands_processed')).toBe('1');
    expect(infoFields(text).get('total_error_replies')).toBe('0');
  });

  it('SLOWLOG GET / LEN / RESET see every front\'s slow log, ids unique and in order, as Redis', async () => {
    const { sabre, redis: oracle } = await onBoth(async (a, b) => {
      await a.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
      await b.call('SLOWLOG', 'RESET');
      await a.call('ECHO', 'one');
      await b.call('ECHO', 'two');
      await a.call('ECHO', 'three');
      await b.set('wide:slow', 'v');
      const got = await a.call('SLOWLOG', 'GET', '-1') as Array<[number, number, number, string[], string, string]>;
      const len1 = await b.call('SLOWLOG', 'LEN');
      const two = (await b.call('SLOWLOG', 'GET', '2') as Array<[number, number, number, string[]]>).map((e) => e[3]);
      await b.call('CONFIG', 'SET', 'slowlog-max-len', '3');
      const capped = (await a.call('SLOWLOG', 'GET', '-1') as Array<[number, number, number, string[]]>).map((e) => e[3]);
      const len2 = await a.call('SLOWLOG', 'LEN');
      await a.call('SLOWLOG', 'RESET');
      const len3 = await b.call('SLOWLOG', 'LEN');
      const afterReset = (await b.call('SLOWLOG', 'GET') as Array<[number, number, number, string[]]>).map((e) => e[3]);
      await a.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000', 'slowlog-max-len', '128');
      const ids = got.map((e) => e[0]);
      return {
        args: got.map((e) => e[3]), gaps: ids.slice(1).map((id, i) => ids[i] - id), len1, two, capped, len2, len3, afterReset,
      };
    });
    expect(sabre.args).toEqual([['set', 'wide:slow', 'v'], ['ECHO', 'three'], ['ECHO', 'two'], ['ECHO', 'one'], ['SLOWLOG', 'RESET']]);
    expect(sabre.gaps).toEqual([1, 1, 1, 1]);
    expect(sabre.len1).toBe(6);
    expect(sabre.two).toEqual([['SLOWLOG', 'LEN'], ['SLOWLOG', 'GET', '-1']]);
    expect(sabre.capped.length).toBe(3);
    expect(sabre.len2).toBe(3);
    expect(sabre.len3).toBe(1);
    expect(sabre.afterReset).toEqual([['SLOWLOG', 'LEN'], ['SLOWLOG', 'RESET']]);
    if (oracle !== null) expect(sabre).toEqual(oracle);
  });

  it('DEBUG SLEEP on one front stops the keyed commands of the other front\'s clients too', async () => {
    const { fronts } = await spread(1);
    const [a, b] = [fronts[0][0], fronts[1][0]];
    const t0 = performance.now();
    const slept = b.call('DEBUG', 'SLEEP', '0.4').then(() => performance.now() - t0);
    await sleep(50);
    const keys = ['a', 'b', 'c', 'd'];
    expect(new Set(keys.map((k) => shardOfKey(k))).size).toBe(4);
    const gets = keys.map((k) => a.get(k).then(() => performance.now() - t0));
    const [sleptMs, ...getMs] = await Promise.all([slept, ...gets]);
    expect(sleptMs).toBeGreaterThanOrEqual(390);
    for (const ms of getMs) expect(ms).toBeGreaterThanOrEqual(350);
  });

  it('FLUSHALL, DBSIZE, KEYS and SCAN from either front see and clear every shard', async () => {
    const { fronts } = await spread(1);
    const [a, b] = [fronts[0][0], fronts[1][0]];
    const keys = Array.from({ length: 40 }, (_, i) => `wide:k${i}`);
    for (const k of keys.slice(0, 20)) await a.set(k, '1');
    for (const k of keys.slice(20)) await b.set(k, '1');
    expect(new Set(keys.map((k) => shardOfKey(k))).size).toBe(4);
    for (const c of [a, b]) {
      expect(await c.dbsize()).toBe(40);
      expect((await c.keys('wide:*')).sort()).toEqual([...keys].sort());
      const seen: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await c.scan(cursor, 'COUNT', '7');
        seen.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      expect(seen.sort()).toEqual([...keys].sort());
    }
    expect(await b.flushall()).toBe('OK');
    expect(await a.dbsize()).toBe(0);
    expect(await a.keys('*')).toEqual([]);
  });
});

describe('SHUTDOWN from the second front thread', () => {
  it('refuses SAVE and ABORT there too, and NOSAVE stops the whole server', async () => {
    const server = await startSabre({ shards: 2, args: IO });
    const clients: Redis[] = [];
    try {
      let b: Redis | null = null;
      for (let i = 0; i < 100 && b === null; i++) {
        const c = redisClient(server.port);
        await c.connect();
        clients.push(c);
        if (await frontOf(c) === 1) b = c;
      }
      if (b === null) throw new Error('no connection landed on front 1');
      await expect(b.call('SHUTDOWN', 'SAVE')).rejects.toThrow('ERR Errors trying to SHUTDOWN. Check logs.');
      await expect(b.call('SHUTDOWN', 'ABORT')).rejects.toThrow('ERR No shutdown in progress.');
      await expect(b.call('SHUTDOWN', 'NOSAVE', 'SAVE')).rejects.toThrow('ERR syntax error');
      expect(await b.ping()).toBe('PONG');
      const all = Promise.all(clients.map(ended));
      void b.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      await all;
      expect(await untilProcessGone(server.pid)).toBe(true);
      expect(server.logs()).toContain('User requested shutdown');
      expect(server.logs()).toContain('ready to exit, bye bye');
    } finally {
      for (const c of clients) c.disconnect();
      await server.stop();
    }
  });
});
