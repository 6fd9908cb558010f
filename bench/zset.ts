// Sorted sets: memory per member and CPU per request, Sabre vs redis-server.
//
//   node bench/zset.ts [--members N] [--shards N] [--requests N] [--reps N]
//
// Memory: one sorted set of N members (`member:<12 digits>`, random scores)
// loaded with pipelined ZADDs of 100 members; bytes per member from the
// used_memory delta (INFO memory) and the RSS delta.
// CPU: redis-benchmark with ZADD (random member of a 100,000 range), ZRANK and
// ZRANGE 0 9 WITHSCORES on one 100,000-member set, at -P 1 and -P 16; server
// CPU time (/proc/<pid>/stat) per request; medians of --reps runs.

import { spawn } from 'node:child_process';
import net from 'node:net';
import {
  clockTicksPerSecond, command, fmtFixed, fmtInt, median, numberOption, parseOptions, printTable, progress, readCpuTicks,
  readRssBytes, sleep, startBenchServers, usedMemory, type ServerHandle,
} from './lib.ts';

const USAGE = `usage: node bench/zset.ts [--members N] [--shards N] [--requests N] [--reps N]`;

function member(i: number): string {
  return 'member:' + String(i).padStart(12, '0');
}

/** Loads members [0, n) into key `z` with pipelined ZADDs of 100 members, 200 commands in flight at most. */
async function load(port: number, n: number): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  let acked = 0;
  let pending = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  sock.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    let at = 0;
    for (;;) {
      const eol = pending.indexOf(13, at);
      if (eol < 0) break;
      if (pending[at] === 45) throw new Error(pending.subarray(at, eol).toString());
      at = eol + 2;
      acked++;
    }
    pending = pending.subarray(at);
    while (waiters.length > 0) (waiters.shift() as () => void)();
  });
  let sent = 0;
  let seed = 12345;
  for (let i = 0; i < n; i += 100) {
    const parts: string[] = [];
    const end = Math.min(n, i + 100);
    parts.push(`*${2 + 2 * (end - i)}\r\n$4\r\nZADD\r\n$1\r\nz\r\n`);
    for (let j = i; j < end; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const s = String(seed % 1000000);
      const m = member(j);
      parts.push(`$${s.length}\r\n${s}\r\n$${m.length}\r\n${m}\r\n`);
    }
    sock.write(parts.join(''));
    sent++;
    while (sent - acked > 200) await new Promise<void>((res) => waiters.push(res));
  }
  while (acked < sent) await new Promise<void>((res) => waiters.push(res));
  sock.destroy();
}

async function memoryRow(label: string, h: ServerHandle, n: number): Promise<string[]> {
  const u0 = (await usedMemory(h.port)) ?? 0;
  const r0 = readRssBytes(h.pid);
  const t0 = Date.now();
  await load(h.port, n);
  await sleep(1000);
  const u1 = (await usedMemory(h.port)) ?? 0;
  const r1 = readRssBytes(h.pid);
  progress(`${label}: loaded ${fmtInt(n)} members in ${Date.now() - t0} ms`);
  return [label, fmtFixed((u1 - u0) / n, 1), fmtFixed((r1 - r0) / n, 1)];
}

/** Runs redis-benchmark on a custom command (which must come last, after --csv). */
function benchCommand(port: number, opts: string[], cmd: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), ...opts, '--csv', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('close', (code) => (code === 0 && !out.includes('Error') ? resolve() : reject(new Error(out.slice(-500)))));
  });
}

async function cpuOf(h: ServerHandle, p: number, cmd: string[], requests: number): Promise<number> {
  const before = readCpuTicks(h.pid);
  await benchCommand(h.port, ['-n', String(requests), '-c', '50', '-r', '100000', '-P', String(p)], cmd);
  const after = readCpuTicks(h.pid);
  return (((after - before) / clockTicksPerSecond()) * 1e6) / requests;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), { members: 'number', shards: 'number', requests: 'number', reps: 'number' }, USAGE);
  const n = numberOption(opts, 'members', 1_000_000);
  const shards = numberOption(opts, 'shards', 1);
  const requests = numberOption(opts, 'requests', 200_000);
  const reps = numberOption(opts, 'reps', 3);
  const servers = await startBenchServers({ shards, selfTest: false });
  try {
    const rows = [await memoryRow('sabre', servers.sabre, n), await memoryRow('redis', servers.redis, n)];
    console.log(`\nOne sorted set of ${fmtInt(n)} members (member:<12 digits>, integer scores < 10^6), ${shards} shard(s):`);
    printTable(['server', 'used_memory B/member', 'RSS B/member'], rows);
    for (const h of [servers.sabre, servers.redis]) {
      await command(h.port, ['DEL', 'z']);
      await load(h.port, 100_000);
    }
    const tests: Array<[string, string[]]> = [
      ['GET (reference)', ['get', 'key:__rand_int__']],
      ['ZADD', ['zadd', 'z', '__rand_int__', 'member:__rand_int__']],
      ['ZRANK', ['zrank', 'z', 'member:__rand_int__']],
      ['ZSCORE', ['zscore', 'z', 'member:__rand_int__']],
      ['ZRANGE 0 9 WITHSCORES', ['zrange', 'z', '0', '9', 'withscores']],
    ];
    const cpuRows: string[][] = [];
    for (const [name, cmd] of tests) {
      for (const p of [1, 16]) {
        const s: number[] = [];
        const r: number[] = [];
        for (let k = 0; k < reps; k++) {
          s.push(await cpuOf(servers.sabre, p, cmd, requests));
          r.push(await cpuOf(servers.redis, p, cmd, requests));
        }
        const ms = median(s);
        const mr = median(r);
        cpuRows.push([name, String(p), fmtFixed(ms, 2), fmtFixed(mr, 2), fmtFixed(ms / mr, 2)]);
        progress(`${name} -P ${p}: sabre ${fmtFixed(ms, 2)} µs, redis ${fmtFixed(mr, 2)} µs`);
      }
    }
    console.log(`\nCPU per request (server process, µs), redis-benchmark -n ${fmtInt(requests)} -c 50 -r 100000, medians of ${reps}:`);
    printTable(['test', '-P', 'sabre', 'redis', 'ratio'], cpuRows);
  } finally {
    await servers.stop();
  }
}

await main();
