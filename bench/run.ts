// Throughput and CPU cost: Sabre vs redis-server under redis-benchmark.
//
//   npm run bench [-- --requests N] [--reps K] [--shards N] [--quick] [--self-test]
//
// For every (test, pipeline) cell and every repetition, redis-benchmark runs once
// against each server (the order alternates), and the server process's CPU time
// (utime + stime of all its threads, from /proc/<pid>/stat) is sampled around the
// run. The table shows medians over the repetitions.

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
  startBenchServers,
  type RedisBenchmarkRun,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench -- [options]
  --requests N   requests per redis-benchmark run at -P 1 (default 100000);
                 -P 16 runs use N x the pipeline scale
  --pipeline-scale F  request multiplier for -P 16 runs (default 5: pipelined
                 runs are much faster and CPU time is only sampled in ticks)
  --reps K       repetitions per cell, medians are reported (default 3)
  --shards N     Sabre shard count (default: Sabre's own default, cores - 1)
  --clients C    redis-benchmark -c (default 50)
  --keyspace R   redis-benchmark -r (default 100000)
  --quick        smoke run: 20000 requests, 1 repetition, no warm-up
  --self-test    run a second redis-server in place of Sabre (checks the harness)`;

const TESTS = ['set', 'get', 'incr', 'mset'] as const;
const PIPELINES = [1, 16] as const;

interface Sample {
  rps: number;
  cpuUsPerReq: number;
}

interface Cell {
  test: string;
  pipeline: number;
  requests: number;
  sabre: Sample[];
  redis: Sample[];
  /** Set when at least one run against that server failed (medians use the successful ones). */
  failed: { sabre: boolean; redis: boolean };
}

/** One redis-benchmark run; the error text if it failed (e.g. on an unsupported command). */
async function measure(
  server: ServerHandle,
  test: string,
  pipeline: number,
  requests: number,
  clients: number,
  keyspace: number,
): Promise<Sample | string> {
  const before = readCpuTicks(server.pid);
  let rows: RedisBenchmarkRun[];
  try {
    rows = await redisBenchmark(server.port, [
      '-t',
      test,
      '-n',
      String(requests),
      '-c',
      String(clients),
      '-P',
      String(pipeline),
      '-r',
      String(keyspace),
    ]);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const serverError = /Error from server: (.*)/.exec(text);
    const msg = serverError?.[1]?.trim() ?? text.split('\n')[0] ?? 'failed';
    return msg.length > 100 ? `${msg.slice(0, 100)}…` : msg;
  }
  const after = readCpuTicks(server.pid);
  const row = rows[0];
  if (row === undefined) return 'no result row';
  const cpuUs = ((after - before) / clockTicksPerSecond()) * 1e6;
  return { rps: row.rps, cpuUsPerReq: cpuUs / requests };
}

async function main(): Promise<void> {
  const opts = parseOptions(
    process.argv.slice(2),
    {
      requests: 'number',
      'pipeline-scale': 'number',
      reps: 'number',
      shards: 'number',
      clients: 'number',
      keyspace: 'number',
      quick: 'boolean',
      'self-test': 'boolean',
    },
    USAGE,
  );
  const quick = flagOption(opts, 'quick');
  const requests = Math.round(numberOption(opts, 'requests', quick ? 20_000 : 100_000));
  const scale = numberOption(opts, 'pipeline-scale', 5);
  const reps = Math.round(numberOption(opts, 'reps', quick ? 1 : 3));
  const shards = Math.round(numberOption(opts, 'shards', defaultShardCount()));
  const clients = Math.round(numberOption(opts, 'clients', 50));
  const keyspace = Math.round(numberOption(opts, 'keyspace', 100_000));
  const selfTest = flagOption(opts, 'self-test');

  if (!redisBenchmarkAvailable()) throw new Error('redis-benchmark is not on PATH (apt-get install redis-tools)');

  const servers = await startBenchServers({ shards, selfTest });
  const label = servers.sabreLabel;
  const sides: Array<{ name: 'sabre' | 'redis'; server: ServerHandle }> = [
    { name: 'sabre', server: servers.sabre },
    { name: 'redis', server: servers.redis },
  ];
  const started = Date.now();
  try {
    progress(
      `${label}: port ${servers.sabre.port} pid ${servers.sabre.pid}${selfTest ? '' : ` (${shards} shard${shards === 1 ? '' : 's'})`}; ` +
        `redis: port ${servers.redis.port} pid ${servers.redis.pid}; CLK_TCK ${clockTicksPerSecond()}`,
    );
    for (const side of sides) await command(side.server.port, ['FLUSHALL']);

    if (!quick) {
      // Warm-up: lets V8 optimise the hot paths before anything is measured.
      progress('warm-up');
      const n = Math.max(10_000, Math.round(requests / 5));
      for (const side of sides) {
        for (const p of PIPELINES) {
          for (const test of TESTS) await measure(side.server, test, p, n, clients, keyspace);
        }
      }
    }

    const cells: Cell[] = [];
    for (const pipeline of PIPELINES) {
      for (const test of TESTS) {
        const n = pipeline === 1 ? requests : Math.round(requests * scale);
        cells.push({ test, pipeline, requests: n, sabre: [], redis: [], failed: { sabre: false, redis: false } });
      }
    }

    for (let rep = 0; rep < reps; rep++) {
      for (let c = 0; c < cells.length; c++) {
        const cell = cells[c];
        if (cell === undefined) continue;
        const order = (rep + c) % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) {
          const s = await measure(side.server, cell.test, cell.pipeline, cell.requests, clients, keyspace);
          const head =
            `[rep ${rep + 1}/${reps}] ${cell.test.toUpperCase().padEnd(4)} P${String(cell.pipeline).padEnd(2)} ` +
            `${(side.name === 'sabre' ? label : 'redis').padEnd(7)}`;
          if (typeof s === 'string') {
            cell.failed[side.name] = true;
            progress(`${head} FAILED: ${s}`);
            continue;
          }
          cell[side.name].push(s);
          progress(
            `${head} ${fmtInt(s.rps).padStart(10)} ops/s ${fmtFixed(s.cpuUsPerReq, 2).padStart(7)} µs CPU/req`,
          );
        }
      }
    }

    console.log('');
    console.log(
      `redis-benchmark -c ${clients} -r ${keyspace}; medians of ${reps} rep(s); ` +
        `${label}${selfTest ? '' : ` with ${shards} shard${shards === 1 ? '' : 's'}`}; CPU = server process utime+stime (all threads) / requests`,
    );
    console.log('');
    const rows: string[][] = cells.map((cell) => {
      const sRps = median(cell.sabre.map((x) => x.rps));
      const rRps = median(cell.redis.map((x) => x.rps));
      const sCpu = median(cell.sabre.map((x) => x.cpuUsPerReq));
      const rCpu = median(cell.redis.map((x) => x.cpuUsPerReq));
      // A side with no successful run shows "error"; with some failures, a "*".
      const mark = (failed: boolean, samples: number, text: string): string =>
        samples === 0 ? 'error' : failed ? `${text}*` : text;
      return [
        cell.test.toUpperCase() + (cell.test === 'mset' ? ' (10 keys)' : ''),
        String(cell.pipeline),
        fmtInt(cell.requests),
        mark(cell.failed.sabre, cell.sabre.length, fmtInt(sRps)),
        mark(cell.failed.redis, cell.redis.length, fmtInt(rRps)),
        fmtRatio(sRps / rRps),
        mark(cell.failed.sabre, cell.sabre.length, fmtFixed(sCpu, 2)),
        mark(cell.failed.redis, cell.redis.length, fmtFixed(rCpu, 2)),
        fmtRatio(sCpu / rCpu),
      ];
    });
    printTable(
      [
        'test',
        'pipeline',
        'requests',
        `${label} ops/s`,
        'redis ops/s',
        'ratio',
        `${label} µs CPU/req`,
        'redis µs CPU/req',
        'CPU ratio',
      ],
      rows,
    );
    if (cells.some((c) => c.failed.sabre || c.failed.redis)) {
      console.log('error = every run failed (see the progress output); * = median of the runs that succeeded');
    }
    console.log('');
    console.log(
      `ratio = ${label}/redis throughput (higher is better); CPU ratio = ${label}/redis CPU per request (lower is better). ` +
        `Total time ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    );
  } finally {
    await servers.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
