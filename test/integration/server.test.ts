import { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { infoFields, useSabre, redisClient } from '../helpers/suites.ts';
import { encodeCommand, rawCommand, splitReplies, startSabre, untilProcessGone, type ServerHandle } from '../helpers/servers.ts';

// Server commands end to end over a 4-shard server: INFO, CONFIG, COMMAND,
// TIME, LASTSAVE, DEBUG SLEEP and SHUTDOWN.

function sections(text: string): string[] {
  return text.split('\r\n').filter((l) => l.startsWith('# ')).map((l) => l.slice(2));
}

async function info(r: Redis, ...args: string[]): Promise<Map<string, string>> {
  return infoFields(await r.call('INFO', ...args) as string);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('server commands', () => {
  let server: ServerHandle;
  let r: Redis;
  useSabre((srv, c) => { server = srv; r = c; });

  beforeEach(async () => {
    await r.select(0);
  });

  it('INFO default has the Redis sections and fields', async () => {
    const text = await r.call('INFO') as string;
    expect(sections(text)).toEqual(['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules',
      'Errorstats', 'Cluster', 'Keyspace', 'Sabre']);
    const f = infoFields(text);
    expect(f.get('redis_version')).toBe('7.0.15');
    expect(f.get('sabre_version')).toMatch(/^\d+\.\d+\.\d+/);
    expect(f.get('redis_mode')).toBe('standalone');
    expect(f.get('tcp_port')).toBe(String(server.port));
    expect(f.get('role')).toBe('master');
    expect(f.get('connected_slaves')).toBe('0');
    expect(f.get('loading')).toBe('0');
    expect(f.get('shards')).toBe('4');
    expect(f.get('cluster_enabled')).toBe('0');
    expect(Number(f.get('connected_clients'))).toBeGreaterThanOrEqual(1);
    expect(Number(f.get('used_memory_rss'))).toBeGreaterThan(1024 * 1024);
    expect(Number(f.get('used_cpu_user'))).toBeGreaterThan(0);
    expect(f.get('used_cpu_user_shard_3')).toMatch(/^\d+\.\d{6}$/);
    expect(f.get('maxmemory_policy')).toBe('noeviction');
    for (const k of ['uptime_in_seconds', 'process_id', 'run_id', 'used_memory', 'used_memory_human', 'used_memory_peak',
      'total_connections_received', 'total_commands_processed', 'instantaneous_ops_per_sec', 'total_net_input_bytes',
      'expired_keys', 'keyspace_hits', 'keyspace_misses', 'rejected_connections', 'used_cpu_sys', 'used_cpu_sys_main_thread',
      'rdb_last_save_time', 'master_replid', 'shard0', 'shard3']) {
      expect(f.has(k), k).toBe(true);
    }
    expect(await r.call('INFO', 'nosuchsection')).toBe('');
    expect(sections(await r.call('INFO', 'SERVER', 'clients') as string)).toEqual(['Server', 'Clients']);
    const all = sections(await r.call('INFO', 'all') as string);
    expect(all).toContain('Commandstats');
    expect(all).toContain('Latencystats');
    expect(sections(await r.call('INFO', 'default') as string)).not.toContain('Commandstats');
  });

  it('INFO keyspace counts keys and expiring keys of every shard and database', async () => {
    const pipe = r.pipeline();
    for (let i = 0; i < 100; i++) pipe.set(`key:${i}`, 'v');
    for (let i = 0; i < 10; i++) pipe.set(`key:${i}`, 'v', 'EX', 1000);
    pipe.set('{t}a', 'x');
    pipe.set('{t}b', 'y', 'PX', 100000);
    await pipe.exec();
    await r.select(3);
    for (let i = 0; i < 5; i++) await r.set(`db3:${i}`, 'v');
    await r.select(0);
    const text = await r.call('INFO', 'keyspace') as string;
    expect(text).toBe('# Keyspace\r\ndb0:keys=102,expires=11,avg_ttl=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\n');
    await r.del('{t}a', '{t}b', 'key:0');
    expect(await r.call('INFO', 'keyspace')).toBe('# Keyspace\r\ndb0:keys=99,expires=9,avg_ttl=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\n');
    await r.flushall();
    expect(await r.call('INFO', 'keyspace')).toBe('# Keyspace\r\n');
  });

  it('INFO stats: hits, misses, expired keys, commands; CONFIG RESETSTAT clears them', async () => {
    expect(await r.call('CONFIG', 'RESETSTAT')).toBe('OK');
    await r.set('a', '1');
    await r.set('{x}b', '2', 'PX', 20);
    await r.get('a');
    await r.get('a');
    await r.get('missing1');
    await r.get('missing2');
    await r.get('missing3');
    await sleep(60);
    expect(await r.get('{x}b')).toBeNull();
    let f = await info(r, 'stats');
    expect(f.get('keyspace_hits')).toBe('2');
    expect(f.get('keyspace_misses')).toBe('4');
    expect(f.get('expired_keys')).toBe('1');
    expect(Number(f.get('total_commands_processed'))).toBeGreaterThanOrEqual(8);
    const stats = await r.call('INFO', 'commandstats') as string;
    expect(stats).toMatch(/cmdstat_get:calls=6,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\r\n/);
    expect(stats).toMatch(/cmdstat_config\|resetstat:calls=1,/);
    expect(stats).not.toMatch(/cmdstat_config:/);
    await r.call('CONFIG', 'RESETSTAT');
    f = await info(r, 'stats');
    expect(f.get('keyspace_hits')).toBe('0');
    expect(f.get('keyspace_misses')).toBe('0');
    expect(f.get('expired_keys')).toBe('0');
    expect(f.get('total_error_replies')).toBe('0');
    expect(Number(f.get('total_commands_processed'))).toBeLessThanOrEqual(2);
  });

  it('INFO errorstats and commandstats count failed and rejected calls', async () => {
    await r.call('CONFIG', 'RESETSTAT');
    await expect(r.call('CLIENT', 'ID', 'extra')).rejects.toThrow();
    await expect(r.call('CONFIG', 'SET', 'nosuch', '1')).rejects.toThrow();
    await expect(r.call('SET', 'k', 'v', 'EX', '-5')).rejects.toThrow('ERR invalid expire time');
    await expect(r.call('HELLO', '9')).rejects.toThrow('NOPROTO');
    const text = await r.call('INFO', 'errorstats', 'commandstats', 'stats') as string;
    expect(text).toContain('errorstat_ERR:count=3\r\n');
    expect(text).toContain('errorstat_NOPROTO:count=1\r\n');
    expect(infoFields(text).get('total_error_replies')).toBe('4');
    expect(text).toMatch(/cmdstat_client\|id:calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0/);
    expect(text).toMatch(/cmdstat_config\|set:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1/);
    expect(text).toMatch(/cmdstat_hello:calls=1,.*failed_calls=1/);
  });

  it('INFO is a verbatim string in RESP3', async () => {
    const out = await rawCommand(server.port, Buffer.concat([encodeCommand(['HELLO', '3']), encodeCommand(['INFO', 'cluster'])]),
      { replies: 2 });
    const { replies } = splitReplies(out);
    expect(replies[1].toString('latin1')).toBe('=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n');
  });

  it('INFO clients and memory follow connections and data', async () => {
    const before = await info(r, 'clients', 'memory', 'stats');
    const extra = redisClient(server.port);
    await extra.connect();
    await extra.ping();
    await r.set('big', 'x'.repeat(200_000));
    const after = await info(r, 'clients', 'memory', 'stats');
    expect(Number(after.get('connected_clients'))).toBe(Number(before.get('connected_clients')) + 1);
    expect(Number(after.get('total_connections_received'))).toBe(Number(before.get('total_connections_received')) + 1);
    expect(Number(after.get('used_memory'))).toBeGreaterThanOrEqual(Number(before.get('used_memory')) + 200_000);
    expect(Number(after.get('used_memory_peak'))).toBeGreaterThanOrEqual(Number(after.get('used_memory')));
    extra.disconnect();
  });

  it('instantaneous_ops_per_sec reflects load', async () => {
    const end = Date.now() + 700;
    while (Date.now() < end) {
      const p = r.pipeline();
      for (let i = 0; i < 200; i++) p.ping();
      await p.exec();
    }
    const f = await info(r, 'stats');
    expect(Number(f.get('instantaneous_ops_per_sec'))).toBeGreaterThan(50);
  });

  it('CONFIG GET / SET round trips, in RESP2 and RESP3', async () => {
    expect(await r.call('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await r.call('CONFIG', 'SET', 'maxmemory-samples', '7', 'hz', '25')).toBe('OK');
    expect(await r.call('CONFIG', 'GET', 'maxmemory-samples')).toEqual(['maxmemory-samples', '7']);
    expect(await r.call('CONFIG', 'GET', 'hz')).toEqual(['hz', '25']);
    expect((await info(r, 'server')).get('hz')).toBe('25');
    expect(await r.call('CONFIG', 'GET', 'nosuch*')).toEqual([]);
    const many = await r.call('CONFIG', 'GET', '*') as string[];
    expect(many.length).toBeGreaterThan(20);
    expect(many.length % 2).toBe(0);
    await r.call('CONFIG', 'SET', 'maxmemory-samples', '5', 'hz', '10');
    const out = await rawCommand(server.port, Buffer.concat([encodeCommand(['HELLO', '3']), encodeCommand(['CONFIG', 'GET', 'maxclients'])]),
      { replies: 2 });
    expect(splitReplies(out).replies[1].toString('latin1')).toBe('%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n');
  });

  it('CONFIG SET errors', async () => {
    await expect(r.call('CONFIG', 'SET', 'nosuch', '1')).rejects.toThrow(
      "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
    await expect(r.call('CONFIG', 'SET', 'hz', 'abc')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer");
    await expect(r.call('CONFIG', 'SET', 'hz', '5', 'hz', '6')).rejects.toThrow('duplicate parameter');
    await expect(r.call('CONFIG', 'SET', 'hz', '5', 'maxclients')).rejects.toThrow('ERR syntax error');
    await expect(r.call('CONFIG', 'SET', 'databases', '4')).rejects.toThrow("can't set immutable config");
    await expect(r.call('CONFIG', 'SET', 'hz')).rejects.toThrow("ERR wrong number of arguments for 'config|set' command");
    await expect(r.call('CONFIG', 'REWRITE')).rejects.toThrow('ERR The server is running without a config file');
    await expect(r.call('CONFIG', 'NOPE')).rejects.toThrow("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.");
    // A failed SET changes nothing.
    expect(await r.call('CONFIG', 'GET', 'hz')).toEqual(['hz', '10']);
  });

  it('CONFIG SET maxmemory-policy: only noeviction until eviction exists, and nothing reaches the shards', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const k of keys) await r.set(k, '1');
    await expect(r.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - eviction is not implemented yet");
    expect(await r.call('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    // The shards still run LRU clocks (an LFU policy would have made OBJECT FREQ answer).
    for (const k of keys) await expect(r.call('OBJECT', 'FREQ', k)).rejects.toThrow('An LFU maxmemory policy is not selected');
  });

  it('CONFIG SET proto-max-bulk-len updates the limits of connected clients', async () => {
    const c = redisClient(server.port);
    await c.connect();
    try {
      const big = 'x'.repeat(1024 * 1024 + 10);
      expect(await c.echo(big)).toBe(big);
      await r.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb');
      await expect(c.echo(big)).rejects.toThrow('Protocol error: invalid bulk length');
    } finally {
      await r.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb');
      c.disconnect();
    }
    const again = 'y'.repeat(1024 * 1024 + 10);
    expect(await r.echo(again)).toBe(again);
  });

  it('COMMAND INFO has Redis 7 reply shapes', async () => {
    const [get, set, ping, nosuch] = await r.call('COMMAND', 'INFO', 'get', 'SET', 'ping', 'nosuch') as unknown[];
    const rangeSpec = (flags: string[]): unknown[] => ['flags', flags, 'begin_search', ['type', 'index', 'spec', ['index', 1]],
      'find_keys', ['type', 'range', 'spec', ['lastkey', 0, 'keystep', 1, 'limit', 0]]];
    expect(get).toEqual(['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast'], [], [rangeSpec(['RO', 'access'])], []]);
    expect(set).toEqual(['set', -3, ['write', 'denyoom'], 1, 1, 1, ['@write', '@string', '@slow'], [],
      [['notes', 'RW and ACCESS due to the optional `GET` argument', ...rangeSpec(['RW', 'access', 'update', 'variable_flags'])]], []]);
    expect(ping).toEqual(['ping', -1, ['fast'], 0, 0, 0, ['@fast', '@connection'],
      ['request_policy:all_shards', 'response_policy:all_succeeded'], [], []]);
    expect(nosuch).toBeNull();
    const [client] = await r.call('COMMAND', 'INFO', 'client') as unknown[][];
    expect(client.slice(0, 8)).toEqual(['client', -2, [], 0, 0, 0, ['@slow'], []]);
    const subs = client[9] as unknown[][];
    const id = subs.find((s) => s[0] === 'client|id');
    expect(id).toEqual(['client|id', 2, ['noscript', 'loading', 'stale'], 0, 0, 0, ['@slow', '@connection'], [], [], []]);
    const [configGet] = await r.call('COMMAND', 'INFO', 'config|get') as unknown[][];
    expect(configGet.slice(0, 7)).toEqual(['config|get', -3, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0,
      ['@admin', '@slow', '@dangerous']]);
    const [mset] = await r.call('COMMAND', 'INFO', 'mset') as unknown[][];
    expect(mset.slice(0, 6)).toEqual(['mset', -3, ['write', 'denyoom'], 1, -1, 2]);
  });

  it('COMMAND, COUNT, LIST and DOCS agree and hide internal commands', async () => {
    const count = await r.call('COMMAND', 'COUNT') as number;
    const all = await r.call('COMMAND') as unknown[][];
    expect(all.length).toBe(count);
    const names = all.map((c) => c[0] as string);
    const list = await r.call('COMMAND', 'LIST') as string[];
    expect(list.filter((n) => !n.includes('|')).sort()).toEqual([...names].sort());
    expect(list).toContain('client|kill');
    expect(list).toContain('config|get');
    expect(list.some((n) => n.startsWith('__'))).toBe(false);
    for (const n of ['get', 'set', 'ping', 'info', 'config', 'client', 'command', 'debug', 'shutdown', 'time']) expect(names).toContain(n);
    expect(await r.call('COMMAND', 'LIST', 'FILTERBY', 'pattern', 'config*')).toEqual(
      expect.arrayContaining(['config', 'config|get', 'config|set', 'config|resetstat', 'config|rewrite', 'config|help']));
    const conn = await r.call('COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'connection') as string[];
    expect(conn).toEqual(expect.arrayContaining(['ping', 'echo', 'auth', 'hello', 'client|id', 'command|info']));
    expect(conn).not.toContain('get');
    expect(await r.call('COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'nosuch')).toEqual([]);
    expect(await r.call('COMMAND', 'LIST', 'FILTERBY', 'module', 'x')).toEqual([]);
    await expect(r.call('COMMAND', 'LIST', 'FILTERBY', 'foo', 'x')).rejects.toThrow('ERR syntax error');
    const docs = await r.call('COMMAND', 'DOCS', 'get', 'nosuch', 'config') as unknown[];
    expect(docs[0]).toBe('get');
    expect(docs[1]).toEqual(['summary', expect.any(String), 'since', '1.0.0', 'group', 'string', 'complexity', 'O(1)']);
    expect(docs[2]).toBe('config');
    expect(docs.length).toBe(4);
    expect(await r.call('COMMAND', 'INFO', '__stats_sync')).toEqual([null]);
  });

  it('COMMAND GETKEYS and GETKEYSANDFLAGS', async () => {
    expect(await r.call('COMMAND', 'GETKEYS', 'mset', 'a', '1', '{t}b', '2')).toEqual(['a', '{t}b']);
    expect(await r.call('COMMAND', 'GETKEYS', 'GET', 'k')).toEqual(['k']);
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k', 'v')).toEqual([['k', ['OW', 'update']]]);
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k', 'v', 'get')).toEqual([['k', ['RW', 'access', 'update']]]);
    await expect(r.call('COMMAND', 'GETKEYS', 'nosuch', 'k')).rejects.toThrow('ERR Invalid command specified');
    await expect(r.call('COMMAND', 'GETKEYS', 'get', 'a', 'b')).rejects.toThrow('ERR Invalid number of arguments specified for command');
    await expect(r.call('COMMAND', 'GETKEYS', 'ping', 'x')).rejects.toThrow('ERR The command has no key arguments');
  });

  it('TIME and LASTSAVE', async () => {
    const [sec, usec] = await r.call('TIME') as string[];
    const t = Number(sec) * 1000 + Number(usec) / 1000;
    expect(Math.abs(t - Date.now())).toBeLessThan(2000);
    expect(Number(usec)).toBeLessThan(1_000_000);
    const last = await r.call('LASTSAVE') as number;
    expect(last).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(last).toBeGreaterThan(Date.now() / 1000 - 3600);
  });

  it('DEBUG SLEEP stops every shard until it replies', async () => {
    const other = redisClient(server.port);
    await other.connect();
    try {
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      const t0 = performance.now();
      const slept = r.call('DEBUG', 'SLEEP', '0.4').then(() => performance.now() - t0);
      await sleep(50);
      const gets = keys.map((k) => other.get(k).then(() => performance.now() - t0));
      const [sleptMs, ...getMs] = await Promise.all([slept, ...gets]);
      expect(sleptMs).toBeGreaterThanOrEqual(390);
      for (const ms of getMs) expect(ms).toBeGreaterThanOrEqual(350);
      expect(await r.call('DEBUG', 'SLEEP', '0')).toBe('OK');
      expect(await r.call('DEBUG', 'SLEEP', 'abc')).toBe('OK');
      await expect(r.call('DEBUG', 'NOSUCH')).rejects.toThrow(
        "ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP.");
    } finally {
      other.disconnect();
    }
  });
});

describe('SHUTDOWN', () => {
  it('refuses SAVE and ABORT, exits on NOSAVE', async () => {
    const server = await startSabre({ shards: 2 });
    const r = redisClient(server.port);
    try {
      await r.connect();
      await expect(r.call('SHUTDOWN', 'SAVE')).rejects.toThrow('ERR Errors trying to SHUTDOWN. Check logs.');
      await expect(r.call('SHUTDOWN', 'ABORT')).rejects.toThrow('ERR No shutdown in progress.');
      await expect(r.call('SHUTDOWN', 'NOSAVE', 'SAVE')).rejects.toThrow('ERR syntax error');
      await expect(r.call('SHUTDOWN', 'ABORT', 'NOW')).rejects.toThrow('ERR syntax error');
      expect(await r.ping()).toBe('PONG');
      const ended = new Promise<void>((resolve) => r.once('end', () => resolve()));
      void r.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      await ended;
      expect(await untilProcessGone(server.pid)).toBe(true);
      expect(server.logs()).toContain('User requested shutdown');
    } finally {
      r.disconnect();
      await server.stop();
    }
  });
});
