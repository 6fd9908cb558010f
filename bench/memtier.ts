// memtier_benchmark's default pattern against Sabre and Redis: the throughput targets of issue 8.
//
//   npm run bench:memtier -- [--io-threads N] [--shards M] [--reps K] [--seconds S] ...
//
// memtier's defaults (1:10 SET:GET, 32-byte values, random keys up to 10,000,000, 50
// connections) with one memtier thread (--threads 1: the machine has 2 cores), at -P 1
// and -P 16. Each repetition runs memtier once against each server (the order
// alternates); the table shows medians, the median of the per-repetition Sabre/Redis ratios and the target
// next to it. Server CPU per request comes from /proc/<pid>/stat around each run.
//
// memtier runs for a fixed time (--test-time), and throughput is its request count over its
// run's duration, both read from its JSON output. With a fixed request count per connection
// (--requests) instead, memtier's "Ops/sec" divides the total by the average of the
// connections' own durations: a server that serves some connections ahead of others finishes
// those early and shortens that average, and single runs then reported 2.3M and 4.8M ops/s on
// this machine, where neither server passes 1.2M.
//
// memtier_benchmark is looked for on PATH and in /tmp/memtier-src (how to build it:
// /work/shared/bench-tools/memtier.md). Without it, redis-benchmark runs SET and GET
// with 50 and 500 connections instead, and the output says so.

import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultShardCount } from '../src/server/config.ts';
import {
  clockTicksPerSecond,
  command,
  flagOption,
  fmtFixed,
  fmtInt,
  fmtRatio,
  median,
  numberOption,
  parseOptions,
  printTable,
  progress,
  readCpuTicks,
  redisBenchmark,
  redisBenchmarkAvailable,
  sabreLayout,
  startBenchServers,
  startMinimalNode,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench:memtier -- [options]
  --io-threads N     Sabre's io-threads (not passed when omitted: Sabre's default)
  --shards M         Sabre's shards (not passed when omitted: Sabre's default)
  --embedded-shards  pass --embedded-shards yes (front i runs shard i in its own thread)
  --reps K           repetitions, medians are reported (default 3)
  --seconds S        memtier --test-time of each run (default 3)
  --requests N       redis-benchmark fallback: requests per connection at -P 1 (default 4000)
  --pipeline-scale F redis-benchmark fallback: request multiplier at -P 16 (default 5)
  --clients C        connections of the memtier thread (default 50, memtier's default)
  --memtier-threads T memtier --threads (default 1)
  --minimal          also run the minimal Node server (bench/minimal-node-server.ts)
  --redis-benchmark  use the redis-benchmark fallback even if memtier_benchmark is there
  --quick            1 repetition of 1 second`;

/** The targets on this machine, Sabre/Redis throughput with the default settings. */
const TARGETS: Record<number, number> = { 1: 0.9, 16: 1.0 };
const PIPELINES = [1, 16] as const;

/** memtier_benchmark on PATH or in /tmp/memtier-src, or null. */
function findMemtier(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/tmp/memtier-src'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'memtier_benchmark');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

interface Sample extends RunResult {
  cpuUsPerReq: number;
}

/** Runs memtier once for `seconds`; resolves with its request count and its run's throughput. */
function memtier(bin: string, port: number, seconds: number, args: string[]): Promise<RunResult> {
  const jsonFile = path.join(tmpdir(), `sabre-memtier-${process.pid}.json`);
  return new Promise((resolve, reject) => {
    const full = ['-s', '127.0.0.1', '-p', String(port), '--protocol', 'redis', '--hide-histogram'];
    full.push('--test-time', String(seconds), '--json-out-file', jsonFile, ...args);
    const child = spawn(bin, full, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-4000)));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) => {
      const result = code === 0 ? readMemtierJson(jsonFile) : null;
      rmSync(jsonFile, { force: true });
      if (result === null) {
        reject(new Error(`memtier_benchmark ${full.join(' ')} failed (exit ${String(code)}):\n${out.slice(-2000)}\n${err.replace(/\r/g, '\n').slice(-1500)}`));
        return;
      }
      resolve(result);
    });
  });
}

/** The total request count and the run's duration from memtier's --json-out-file, or null. */
function readMemtierJson(file: string): RunResult | null {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      'ALL STATS'?: { Totals?: { Count?: unknown }; Runtime?: { 'Total duration'?: unknown } };
    };
    const count = doc['ALL STATS']?.Totals?.Count;
    const ms = doc['ALL STATS']?.Runtime?.['Total duration'];
    if (typeof count !== 'number' || typeof ms !== 'number' || count <= 0 || ms <= 0) return null;
    return { requests: count, rps: count / (ms / 1000) };
  } catch {
    return null;
  }
}

interface RunResult {
  /** Requests the run made. */
  requests: number;
  /** Requests per second over the run. */
  rps: number;
}

interface Workload {
  /** Row label, e.g. "memtier 1:10 SET:GET -c 50" or "redis-benchmark GET -c 500". */
  name: string;
  pipeline: number;
  run(server: ServerHandle): Promise<RunResult>;
}

async function measure(server: ServerHandle, w: Workload): Promise<Sample> {
  const before = readCpuTicks(server.pid);
  const { rps, requests } = await w.run(server);
  const after = readCpuTicks(server.pid);
  return { rps, requests, cpuUsPerReq: (((after - before) / clockTicksPerSecond()) * 1e6) / requests };
}

async function main(): Promise<void> {
  const opts = parseOptions(
    process.argv.slice(2),
    {
      'io-threads': 'number',
      shards: 'number',
      'embedded-shards': 'boolean',
      reps: 'number',
      seconds: 'number',
      requests: 'number',
      'pipeline-scale': 'number',
      clients: 'number',
      'memtier-threads': 'number',
      minimal: 'boolean',
      'redis-benchmark': 'boolean',
      quick: 'boolean',
    },
    USAGE,
  );
  const quick = flagOption(opts, 'quick');
  const reps = Math.round(numberOption(opts, 'reps', quick ? 1 : 3));
  const seconds = Math.max(1, Math.round(numberOption(opts, 'seconds', quick ? 1 : 3)));
  const perClient = Math.round(numberOption(opts, 'requests', quick ? 1000 : 4000));
  const scale = numberOption(opts, 'pipeline-scale', 5);
  const clients = Math.round(numberOption(opts, 'clients', 50));
  const mtThreads = Math.round(numberOption(opts, 'memtier-threads', 1));
  const ioThreads = opts.get('io-threads');
  const shardsOpt = opts.get('shards');
  const sabreArgs = typeof ioThreads === 'number' ? ['--io-threads', String(Math.round(ioThreads))] : [];
  const shards = typeof shardsOpt === 'number' ? Math.round(shardsOpt) : defaultShardCount();
  if (flagOption(opts, 'embedded-shards')) sabreArgs.push('--embedded-shards', 'yes');
  const defaults = sabreArgs.length === 0 && typeof shardsOpt !== 'number';

  const bin = flagOption(opts, 'redis-benchmark') ? null : findMemtier();
  if (bin === null && !redisBenchmarkAvailable()) throw new Error('neither memtier_benchmark nor redis-benchmark is on this machine');

  const workloads: Workload[] = [];
  if (bin !== null) {
    let version = '';
    try {
      version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
    } catch {
      // keep ''
    }
    progress(`memtier_benchmark: ${bin} (${version})`);
    for (const p of PIPELINES) {
      workloads.push({
        name: `memtier 1:10 SET:GET -c ${clients} --threads ${mtThreads}`,
        pipeline: p,
        run: (s) => memtier(bin, s.port, seconds, ['--threads', String(mtThreads), '--clients', String(clients), '--pipeline', String(p)]),
      });
    }
  } else {
    progress('memtier_benchmark not found (PATH, /tmp/memtier-src): FALLING BACK to redis-benchmark SET and GET with 50 and 500 connections');
    for (const p of PIPELINES) {
      for (const c of [50, 500]) {
        for (const t of ['set', 'get']) {
          const n = clients * perClient * (p === 1 ? 1 : scale);
          workloads.push({
            name: `redis-benchmark ${t.toUpperCase()} -c ${c}`,
            pipeline: p,
            run: async (s) => {
              const rows = await redisBenchmark(s.port, ['-t', t, '-n', String(Math.round(n)), '-c', String(c), '-P', String(p), '-r', '100000']);
              return { rps: rows[0]?.rps ?? Number.NaN, requests: Math.round(n) };
            },
          });
        }
      }
    }
  }

  const servers = await startBenchServers({ shards, selfTest: false, sabreArgs });
  let minimal: ServerHandle | null = null;
  const started = Date.now();
  try {
    if (flagOption(opts, 'minimal')) minimal = await startMinimalNode();
    const sides: Array<{ name: string; server: ServerHandle }> = [
      { name: 'sabre', server: servers.sabre },
      { name: 'redis', server: servers.redis },
    ];
    if (minimal !== null) sides.push({ name: 'minimal', server: minimal });
    const layout = await sabreLayout(servers.sabre.port, shards);
    const setting =
      `${layout.shards} shard${layout.shards === 1 ? '' : 's'}, io-threads ${layout.ioThreads}` +
      (layout.embedded > 0 ? ', embedded-shards yes' : '');
    progress(`sabre: port ${servers.sabre.port} pid ${servers.sabre.pid} (${setting}); redis: port ${servers.redis.port} pid ${servers.redis.pid}`);

    // Warm-up (Sabre also ran its own start-up warm-up): one unmeasured run of the first pipelined workload.
    const warm = workloads.find((w) => w.pipeline > 1);
    if (!quick && warm !== undefined) {
      progress('warm-up');
      for (const side of sides) await warm.run(side.server);
    }

    const samples = new Map<string, Sample[]>();
    const key = (w: number, side: string): string => `${w}/${side}`;
    for (let rep = 0; rep < reps; rep++) {
      for (let wi = 0; wi < workloads.length; wi++) {
        const w = workloads[wi];
        if (w === undefined) continue;
        const k = (rep + wi) % sides.length;
        for (const side of [...sides.slice(k), ...sides.slice(0, k)]) {
          await command(side.server.port, ['FLUSHALL']);
          const s = await measure(side.server, w);
          const list = samples.get(key(wi, side.name)) ?? [];
          list.push(s);
          samples.set(key(wi, side.name), list);
          progress(
            `[rep ${rep + 1}/${reps}] ${w.name} -P ${String(w.pipeline).padEnd(2)} ${side.name.padEnd(7)} ` +
              `${fmtInt(s.rps).padStart(10)} ops/s ${fmtFixed(s.cpuUsPerReq, 2).padStart(6)} µs CPU/req`,
          );
        }
      }
    }

    console.log('');
    console.log(
      bin !== null
        ? `memtier_benchmark default pattern (1:10 SET:GET, 32-byte values, random keys up to 10M), ${clients} connections, --threads ${mtThreads}, --test-time ${seconds}; medians of ${reps} rep(s)`
        : `FALLBACK (memtier_benchmark not found): redis-benchmark SET/GET -r 100000; medians of ${reps} rep(s)`,
    );
    console.log(`sabre with ${setting}${defaults ? ' (default settings: the targets apply)' : ' (not the default settings: targets shown for reference)'}; redis 7 (one thread)`);
    console.log('');
    const rows = workloads.map((w, wi) => {
      const med = (side: string, f: (s: Sample) => number): number => median((samples.get(key(wi, side)) ?? []).map(f));
      // The median of each repetition's ratio: a repetition runs both servers back to back, so a
      // change of load on the machine between repetitions cancels out of its ratio.
      const sabreRuns = samples.get(key(wi, 'sabre')) ?? [];
      const redisRuns = samples.get(key(wi, 'redis')) ?? [];
      const ratios = sabreRuns.map((s, i) => s.rps / (redisRuns[i]?.rps ?? Number.NaN));
      const ratio = median(ratios);
      const target = TARGETS[w.pipeline] ?? Number.NaN;
      const row = [
        w.name,
        String(w.pipeline),
        fmtInt(med('sabre', (s) => s.requests)),
        fmtInt(med('sabre', (s) => s.rps)),
        fmtInt(med('redis', (s) => s.rps)),
        fmtRatio(ratio),
        `${fmtRatio(Math.min(...ratios))}-${fmtRatio(Math.max(...ratios))}`,
        `>= ${fmtRatio(target)}`,
        ratio >= target ? 'met' : 'NOT met',
        fmtFixed(med('sabre', (s) => s.cpuUsPerReq), 2),
        fmtFixed(med('redis', (s) => s.cpuUsPerReq), 2),
      ];
      if (minimal !== null) row.push(fmtInt(med('minimal', (s) => s.rps)), fmtFixed(med('minimal', (s) => s.cpuUsPerReq), 2));
      return row;
    });
    const headers = ['workload', 'P', 'sabre requests', 'sabre ops/s', 'redis ops/s', 'ratio', 'per rep', 'target', '', 'sabre µs/req', 'redis µs/req'];
    if (minimal !== null) headers.push('minimal ops/s', 'minimal µs/req');
    printTable(headers, rows);
    console.log('');
    console.log(`ratio = median over the repetitions of sabre/redis throughput in the same repetition (per rep: the lowest and highest); µs/req = server process CPU (/proc utime+stime) / requests. Total time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  } finally {
    await Promise.all([servers.stop(), minimal?.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
