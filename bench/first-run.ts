// The first benchmark on a fresh server: Sabre's CPU per request in the first
// redis-benchmark run after start-up against the same run repeated (the 5th).
//
//   npm run bench:first-run [-- --requests N] [--runs K] [--shards N] [--tests set,get] [--pipelines 16,1]
//
// For every (test, pipeline) cell a fresh Sabre and a fresh redis-server are
// started; the test runs K times in a row against each. Reported per run: the
// server's CPU per request (all threads; Sabre's split into the front thread,
// the shards and V8's helper threads: compilers and GC), from
// /proc/<pid>/task/*/schedstat (ns) with /proc/<pid>/stat ticks as the total's
// cross-check, and the time from spawn until the port accepts ("Ready").

import { performance } from 'node:perf_hooks';
import { defaultShardCount } from '../src/server/config.ts';
import { startRedis, startSabre } from '../test/helpers/servers.ts';
import {
  clockTicksPerSecond,
  fmtFixed,
  fmtRatio,
  median,
  numberOption,
  parseOptions,
  printTable,
  progress,
  readCpuTicks,
  readThreadCpu,
  redisBenchmark,
  redisBenchmarkAvailable,
  stringOption,
  threadCpuDelta,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench:first-run -- [options]
  --requests N   requests per redis-benchmark run (default 100000, redis-benchmark's own default)
  --runs K       runs per fresh server (default 5; the table shows the 1st and the Kth)
  --shards N     Sabre shard count (default: Sabre's own default, cores - 1)
  --clients C    redis-benchmark -c (default 50)
  --keyspace R   redis-benchmark -r (default: none, redis-benchmark's default of one key per test)
  --tests LIST   comma-separated redis-benchmark tests (default set,get,incr,lpush,lpop,mset)
  --pipelines LIST  comma-separated -P values (default 16,1)
  --sabre-args "ARGS"  extra arguments for Sabre, space separated`;

interface RunCpu {
  rps: number;
  /** µs of CPU per request, per thread group, from schedstat (ticks where absent). */
  total: number;
  front: number;
  shards: number;
  v8: number;
  /** The same total from /proc/<pid>/stat ticks. */
  statTotal: number;
}

interface FreshResult {
  startMs: number;
  /** CPU the process spent before it accepted connections, in ms. */
  startCpuMs: number;
  runs: RunCpu[];
}

async function runOnce(server: ServerHandle, args: string[], requests: number): Promise<RunCpu> {
  const tBefore = readThreadCpu(server.pid);
  const ticksBefore = readCpuTicks(server.pid);
  const rows = await redisBenchmark(server.port, args);
  const ticksAfter = readCpuTicks(server.pid);
  const tAfter = readThreadCpu(server.pid);
  const d = threadCpuDelta(tBefore, tAfter);
  return {
    rps: rows[0]?.rps ?? Number.NaN,
    total: d.total / requests,
    front: d.front / requests,
    shards: d.shards / requests,
    v8: d.v8 / requests,
    statTotal: (((ticksAfter - ticksBefore) / clockTicksPerSecond()) * 1e6) / requests,
  };
}

async function fresh(
  start: () => Promise<ServerHandle>,
  args: string[],
  requests: number,
  runs: number,
  label: string,
): Promise<FreshResult> {
  const t0 = performance.now();
  const server = await start();
  const startMs = performance.now() - t0;
  const startCpuMs = (readCpuTicks(server.pid) / clockTicksPerSecond()) * 1000;
  try {
    const out: RunCpu[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await runOnce(server, args, requests);
      out.push(r);
      progress(
        `  ${label} run ${i + 1}: ${Math.round(r.rps).toLocaleString('en-US')} ops/s, ${fmtFixed(r.total, 2)} µs CPU/req ` +
          `(front ${fmtFixed(r.front, 2)}, shards ${fmtFixed(r.shards, 2)}, v8 ${fmtFixed(r.v8, 2)}; stat ${fmtFixed(r.statTotal, 2)})`,
      );
    }
    return { startMs, startCpuMs, runs: out };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(
    process.argv.slice(2),
    {
      requests: 'number',
      runs: 'number',
      shards: 'number',
      clients: 'number',
      keyspace: 'number',
      tests: 'string',
      pipelines: 'string',
      'sabre-args': 'string',
    },
    USAGE,
  );
  const requests = Math.round(numberOption(opts, 'requests', 100_000));
  const runs = Math.max(1, Math.round(numberOption(opts, 'runs', 5)));
  const shards = Math.round(numberOption(opts, 'shards', defaultShardCount()));
  const clients = Math.round(numberOption(opts, 'clients', 50));
  const keyspace = opts.has('keyspace') ? Math.round(numberOption(opts, 'keyspace', 0)) : 0;
  const tests = stringOption(opts, 'tests', 'set,get,incr,lpush,lpop,mset').split(',').filter((t) => t !== '');
  const pipelines = stringOption(opts, 'pipelines', '16,1').split(',').map(Number).filter((p) => p > 0);
  const sabreArgs = stringOption(opts, 'sabre-args', '').split(' ').filter((a) => a !== '');
  if (!redisBenchmarkAvailable()) throw new Error('redis-benchmark is not on PATH (apt-get install redis-tools)');

  const rows: string[][] = [];
  const startMs: number[] = [];
  const startCpuMs: number[] = [];
  const redisStartMs: number[] = [];
  for (const pipeline of pipelines) {
    for (const test of tests) {
      const args = ['-t', test, '-n', String(requests), '-c', String(clients), '-P', String(pipeline)];
      if (keyspace > 0) args.push('-r', String(keyspace));
      progress(`${test.toUpperCase()} -P ${pipeline}`);
      const s = await fresh(() => startSabre({ shards, args: sabreArgs, warmup: true }), args, requests, runs, 'sabre');
      const r = await fresh(() => {
        const p = startRedis();
        if (p === null) throw new Error('redis-server is not on PATH');
        return p;
      }, args, requests, runs, 'redis');
      startMs.push(s.startMs);
      startCpuMs.push(s.startCpuMs);
      redisStartMs.push(r.startMs);
      const s1 = s.runs[0];
      const sk = s.runs[runs - 1];
      const r1 = r.runs[0];
      const rk = r.runs[runs - 1];
      if (s1 === undefined || sk === undefined || r1 === undefined || rk === undefined) continue;
      const split = (x: RunCpu): string => `${fmtFixed(x.front, 2)}/${fmtFixed(x.shards, 2)}/${fmtFixed(x.v8, 2)}`;
      rows.push([
        test.toUpperCase(),
        String(pipeline),
        fmtFixed(s1.total, 2),
        split(s1),
        fmtFixed(sk.total, 2),
        split(sk),
        fmtRatio(s1.total / sk.total),
        fmtFixed(r1.total, 2),
        fmtFixed(rk.total, 2),
        fmtRatio(s1.total / r1.total),
        fmtRatio(sk.total / rk.total),
        `${Math.round(s1.rps).toLocaleString('en-US')}`,
        `${Math.round(r1.rps).toLocaleString('en-US')}`,
      ]);
    }
  }
  console.log('');
  console.log(
    `redis-benchmark -n ${requests} -c ${clients}${keyspace > 0 ? ` -r ${keyspace}` : ''}; a fresh Sabre (${shards} shard${shards === 1 ? '' : 's'}) ` +
      `and a fresh redis-server per cell, ${runs} runs each; µs of server CPU per request (all threads, schedstat).`,
  );
  console.log('');
  printTable(
    [
      'test',
      'P',
      'sabre run 1',
      'front/shards/v8',
      `sabre run ${runs}`,
      'front/shards/v8',
      `run 1/run ${runs}`,
      'redis run 1',
      `redis run ${runs}`,
      'run 1 vs redis',
      `run ${runs} vs redis`,
      'sabre ops/s run 1',
      'redis ops/s run 1',
    ],
    rows,
  );
  console.log('');
  console.log(
    `Start-up, spawn until the port accepts: Sabre median ${fmtFixed(median(startMs), 0)} ms ` +
      `(min ${fmtFixed(Math.min(...startMs), 0)}, max ${fmtFixed(Math.max(...startMs), 0)}; ` +
      `CPU until then median ${fmtFixed(median(startCpuMs), 0)} ms), redis-server median ${fmtFixed(median(redisStartMs), 0)} ms.`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
