// redis-benchmark's default test list (no -t), as a new user runs it, against
// a freshly started Sabre (4 shards and 1 shard) and a freshly started
// redis-server, side by side.
//
//   npm run bench:default [-- --requests N] [--pipelines 1,16] [--shards 4,1] [--keyspace R] [--reps N]
//
// For every pipeline setting, each server is started fresh and runs the list
// once: that first run is what is reported. With --reps N, that is done N
// times (servers in turn, each fresh every time) and each cell is the median
// of the N first runs: this machine's noise moves a single run's cell by 30%. redis-benchmark prints a CSV row
// when a test ends (line-buffered through stdbuf); the server's CPU time (all
// threads, /proc/<pid>/task/*/schedstat) is read at each row, so each test
// gets the CPU spent since the previous row. redis-benchmark exits on the
// first error reply: the test that was running is marked as failed (with the
// error) and the rest of the list runs in a new redis-benchmark (-t with the
// remaining tests) against the same server. INFO errorstats is read after each
// redis-benchmark run, so errors are counted even where none stopped it.

import { spawn } from 'node:child_process';
import { startRedis, startSabre } from '../test/helpers/servers.ts';
import {
  bulkCommand,
  fmtFixed,
  fmtInt,
  fmtRatio,
  median,
  numberOption,
  parseOptions,
  progress,
  readThreadCpu,
  redisBenchmarkAvailable,
  stringOption,
  threadCpuDelta,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench:default -- [options]
  --requests N      redis-benchmark -n (default 100000, its own default)
  --pipelines LIST  -P values, comma separated (default 1,16)
  --shards LIST     Sabre shard counts, comma separated (default 4,1)
  --clients C       redis-benchmark -c (default 50)
  --keyspace R      redis-benchmark -r (default: none, as redis-benchmark's default)
  --reps N          fresh-server runs per server, cells are their medians (default 1)`;

/**
 * redis-benchmark 7.0's default list, in its order: the CSV name of each row
 * and the -t name that selects it (null: the LRANGE fill, which runs when any
 * LRANGE test is selected).
 */
const DEFAULT_TESTS: ReadonlyArray<{ row: string; t: string | null }> = [
  { row: 'PING_INLINE', t: 'ping_inline' },
  { row: 'PING_MBULK', t: 'ping_mbulk' },
  { row: 'SET', t: 'set' },
  { row: 'GET', t: 'get' },
  { row: 'INCR', t: 'incr' },
  { row: 'LPUSH', t: 'lpush' },
  { row: 'RPUSH', t: 'rpush' },
  { row: 'LPOP', t: 'lpop' },
  { row: 'RPOP', t: 'rpop' },
  { row: 'SADD', t: 'sadd' },
  { row: 'HSET', t: 'hset' },
  { row: 'SPOP', t: 'spop' },
  { row: 'ZADD', t: 'zadd' },
  { row: 'ZPOPMIN', t: 'zpopmin' },
  { row: 'LPUSH (needed to benchmark LRANGE)', t: null },
  { row: 'LRANGE_100 (first 100 elements)', t: 'lrange_100' },
  { row: 'LRANGE_300 (first 300 elements)', t: 'lrange_300' },
  { row: 'LRANGE_500 (first 500 elements)', t: 'lrange_500' },
  { row: 'LRANGE_600 (first 600 elements)', t: 'lrange_600' },
  { row: 'MSET (10 keys)', t: 'mset' },
];

interface TestResult {
  rps: number;
  cpuUsPerReq: number;
  /** Why it failed (redis-benchmark's "Error from server" line), or null. */
  error: string | null;
}

interface ListRun {
  results: Map<string, TestResult>;
  /** total_error_replies after the whole list, and the errorstats codes. */
  errorReplies: number;
  errorCodes: string;
}

/** One redis-benchmark run; calls onRow at each CSV row as it is printed. Resolves with its exit code and stderr. */
function streamBenchmark(port: number, args: string[], onRow: (row: string, rps: number) => void): Promise<{ code: number; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('stdbuf', ['-oL', 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), ...args, '--csv'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        const m = /^"([^"]+)","([\d.]+)"/.exec(line);
        if (m !== null) onRow(m[1] ?? '', Number(m[2]));
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, err }));
  });
}

async function errorStats(port: number): Promise<{ total: number; codes: string }> {
  const stats = await bulkCommand(port, ['INFO', 'stats']);
  const errs = await bulkCommand(port, ['INFO', 'errorstats']);
  const total = Number(/^total_error_replies:(\d+)/m.exec(stats)?.[1] ?? 'NaN');
  const codes = [...errs.matchAll(/^errorstat_([^:]+):count=(\d+)/gm)].map((m) => `${m[1]}=${m[2]}`).join(' ');
  return { total, codes };
}

/** Runs the default list once against `server`, continuing past failed tests. */
async function runList(server: ServerHandle, baseArgs: string[], requests: number): Promise<ListRun> {
  const results = new Map<string, TestResult>();
  let remaining = DEFAULT_TESTS.map((t) => t.row);
  let selectAll = true;
  while (remaining.length > 0) {
    const expected = [...remaining];
    let last = readThreadCpu(server.pid);
    const args = [...baseArgs];
    if (!selectAll) args.push('-t', [...new Set(expected.map((r) => DEFAULT_TESTS.find((t) => t.row === r)?.t).filter((t) => t != null))].join(','));
    const { code, err } = await streamBenchmark(server.port, args, (row, rps) => {
      const now = readThreadCpu(server.pid);
      const cpu = threadCpuDelta(last, now).total;
      last = now;
      results.set(row, { rps, cpuUsPerReq: cpu / requests, error: null });
      const i = expected.indexOf(row);
      if (i >= 0) expected.splice(0, i + 1);
      progress(`  ${row}: ${fmtInt(rps)} ops/s, ${fmtFixed(cpu / requests, 2)} µs CPU/req`);
    });
    if (code === 0) break;
    // The first test without a row is the one it died in.
    const failed = expected[0];
    if (failed === undefined) break;
    const why = /Error from server[^:]*: (.*)/.exec(err)?.[1]?.trim() ?? err.trim().split('\n').pop() ?? `exit ${code}`;
    results.set(failed, { rps: Number.NaN, cpuUsPerReq: Number.NaN, error: why });
    progress(`  ${failed}: ERROR ${why}`);
    let rest = expected.slice(1);
    if (failed.startsWith('LPUSH (needed')) {
      // Every LRANGE test would run (and fail in) the fill again.
      for (const r of rest.filter((x) => x.startsWith('LRANGE'))) results.set(r, { rps: Number.NaN, cpuUsPerReq: Number.NaN, error: 'not run: its LPUSH fill failed' });
      rest = rest.filter((x) => !x.startsWith('LRANGE'));
    }
    remaining = rest;
    selectAll = false;
  }
  const e = await errorStats(server.port);
  return { results, errorReplies: e.total, errorCodes: e.codes };
}

async function fresh(label: string, start: () => Promise<ServerHandle>, args: string[], requests: number): Promise<ListRun> {
  const server = await start();
  progress(`${label}: port ${server.port}, pid ${server.pid}`);
  try {
    return await runList(server, args, requests);
  } finally {
    await server.stop();
  }
}

/** Per test, the median of the runs' figures (an error in any run is the cell's). */
function medianRun(runs: readonly ListRun[]): ListRun {
  const results = new Map<string, TestResult>();
  for (const { row } of DEFAULT_TESTS) {
    const got = runs.map((r) => r.results.get(row)).filter((r): r is TestResult => r !== undefined);
    if (got.length === 0) continue;
    const failed = got.find((r) => r.error !== null);
    results.set(row, failed ?? {
      rps: median(got.map((r) => r.rps)), cpuUsPerReq: median(got.map((r) => r.cpuUsPerReq)), error: null,
    });
  }
  return {
    results,
    errorReplies: runs.reduce((n, r) => n + r.errorReplies, 0),
    errorCodes: [...new Set(runs.map((r) => r.errorCodes).filter((c) => c !== ''))].join(' '),
  };
}

function cell(r: TestResult | undefined, pick: (r: TestResult) => string): string {
  if (r === undefined) return 'n/a';
  return r.error !== null ? 'error' : pick(r);
}

async function main(): Promise<void> {
  const opts = parseOptions(
    process.argv.slice(2),
    { requests: 'number', pipelines: 'string', shards: 'string', clients: 'number', keyspace: 'number', reps: 'number' },
    USAGE,
  );
  const requests = Math.round(numberOption(opts, 'requests', 100_000));
  const pipelines = stringOption(opts, 'pipelines', '1,16').split(',').map(Number).filter((p) => p > 0);
  const shardCounts = stringOption(opts, 'shards', '4,1').split(',').map(Number).filter((s) => s > 0);
  const clients = Math.round(numberOption(opts, 'clients', 50));
  const keyspace = opts.has('keyspace') ? Math.round(numberOption(opts, 'keyspace', 0)) : 0;
  const reps = Math.max(1, Math.round(numberOption(opts, 'reps', 1)));
  if (!redisBenchmarkAvailable()) throw new Error('redis-benchmark is not on PATH (apt-get install redis-tools)');

  for (const pipeline of pipelines) {
    const args = ['-n', String(requests), '-c', String(clients), '-P', String(pipeline)];
    if (keyspace > 0) args.push('-r', String(keyspace));
    const sabreRuns = shardCounts.map(() => [] as ListRun[]);
    const redisRuns: ListRun[] = [];
    const runRedis = async (of: string): Promise<void> => {
      progress(`-P ${pipeline}, redis-server${of}`);
      redisRuns.push(await fresh('redis', () => {
        const p = startRedis();
        if (p === null) throw new Error('redis-server is not on PATH');
        return p;
      }, args, requests));
    };
    for (let rep = 1; rep <= reps; rep++) {
      const of = reps > 1 ? ` (run ${rep} of ${reps})` : '';
      // Every other repetition starts with Redis: a noisy stretch of the machine then falls on
      // either side, not always on the servers that run first.
      if (rep % 2 === 0) await runRedis(of);
      for (const [i, shards] of shardCounts.entries()) {
        progress(`-P ${pipeline}, Sabre with ${shards} shard${shards === 1 ? '' : 's'}${of}`);
        sabreRuns[i].push(await fresh(`sabre-${shards}`, () => startSabre({ shards, warmup: true }), args, requests));
      }
      if (rep % 2 === 1) await runRedis(of);
    }
    const sabre = shardCounts.map((shards, i) => ({ shards, run: medianRun(sabreRuns[i]) }));
    const redis = medianRun(redisRuns);

    const head = ['test'];
    for (const s of sabre) head.push(`sabre-${s.shards} ops/s`);
    head.push('redis ops/s');
    for (const s of sabre) head.push(`sabre-${s.shards}/redis ops`);
    for (const s of sabre) head.push(`sabre-${s.shards} µs CPU/req`);
    head.push('redis µs CPU/req');
    for (const s of sabre) head.push(`sabre-${s.shards}/redis CPU`);
    head.push('ran without errors');
    const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 || i === head.length - 1 ? '---' : '---:')).join(' | ')} |`];
    for (const { row } of DEFAULT_TESTS) {
      const r = redis.results.get(row);
      const cells = [row];
      for (const s of sabre) cells.push(cell(s.run.results.get(row), (x) => fmtInt(x.rps)));
      cells.push(cell(r, (x) => fmtInt(x.rps)));
      for (const s of sabre) {
        const x = s.run.results.get(row);
        cells.push(x?.error == null && r?.error == null && x !== undefined && r !== undefined ? fmtRatio(x.rps / r.rps) : '—');
      }
      for (const s of sabre) cells.push(cell(s.run.results.get(row), (x) => fmtFixed(x.cpuUsPerReq, 2)));
      cells.push(cell(r, (x) => fmtFixed(x.cpuUsPerReq, 2)));
      for (const s of sabre) {
        const x = s.run.results.get(row);
        cells.push(x?.error == null && r?.error == null && x !== undefined && r !== undefined ? fmtRatio(x.cpuUsPerReq / r.cpuUsPerReq) : '—');
      }
      const oks = [...sabre.map((s) => ({ name: `sabre-${s.shards}`, x: s.run.results.get(row) })), { name: 'redis', x: r }];
      const bad = oks.filter((o) => o.x === undefined || o.x.error !== null);
      // Servers failing the same way share one mention; an unknown command is named without its arguments.
      const byError = new Map<string, string[]>();
      for (const o of bad) {
        const why = (o.x?.error ?? 'no result').replace(/, with args beginning with:.*$/, '');
        byError.set(why, [...(byError.get(why) ?? []), o.name]);
      }
      cells.push(bad.length === 0 ? 'yes' : [...byError].map(([why, names]) => `no: ${names.join(', ')}: ${why}`).join('; ').replace(/\|/g, '\\|'));
      lines.push(`| ${cells.join(' | ')} |`);
    }
    const section = [
      `### -P ${pipeline} (redis-benchmark -n ${requests} -c ${clients}${keyspace > 0 ? ` -r ${keyspace}` : ''}, default test list, first run on a fresh server${reps > 1 ? `, medians of ${reps}` : ''})`,
      '',
      ...lines,
      '',
      `Error replies after the list${reps > 1 ? 's (all runs)' : ''} (INFO stats/errorstats): ${[...sabre.map((s) => `sabre-${s.shards} ${s.run.errorReplies}${s.run.errorCodes === '' ? '' : ` (${s.run.errorCodes})`}`), `redis ${redis.errorReplies}${redis.errorCodes === '' ? '' : ` (${redis.errorCodes})`}`].join(', ')}.`,
      '',
    ];
    console.log(section.join('\n'));
  }
  console.log('CPU = the server process\'s CPU time over all its threads (schedstat) between two CSV rows, / requests. ' +
    'Ratios are Sabre/Redis: higher is better for ops/s, lower is better for CPU.');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
