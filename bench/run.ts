// Throughput and CPU cost: Sabre vs redis-server vs a minimal Node server under redis-benchmark.
//
//   npm run bench [-- --io-threads N] [--shards M] [--requests N] [--reps K] [--quick] [--self-test] ...
//
// For every (test, pipeline) cell and every repetition, redis-benchmark runs once
// against each server (the order rotates), and the server process's CPU time
// (utime + stime of all its threads, from /proc/<pid>/stat) is sampled around the
// run. For Sabre, INFO cpu is read as well before and after each run, for the CPU of
// each front thread (used_cpu_*_front_<i>; where the server has no per-front fields,
// the front threads' own /proc/<pid>/task entries, MainThread and front-<i>) and of
// each shard (used_cpu_*_shard_<i>). The
// shards publish their figures on their cron tick (1000/hz ms), so each reading waits
// a few ticks after the previous run. The tables show medians over the repetitions,
// and a scaling model computed from the per-thread figures closes the output.
//
// The minimal Node server (bench/minimal-node-server.ts: node:net, a Map, RESP for GET
// and SET) is the anchor for "nothing on top of Node's own cost"; it only runs the GET
// and SET cells.

import { writeFileSync } from 'node:fs';
import { defaultShardCount } from '../src/server/config.ts';
import {
  clockTicksPerSecond,
  command,
  flagOption,
  fmtFixed,
  fmtInt,
  fmtRatio,
  infoCpu,
  median,
  numberOption,
  parseOptions,
  printScalingTable,
  printTable,
  progress,
  readCpuTicks,
  readThreadCpu,
  redisBenchmark,
  redisBenchmarkAvailable,
  sabreLayout,
  sabreThreadSeconds,
  sleep,
  startBenchServers,
  startMinimalNode,
  stringOption,
  threadCpuByName,
  type BenchResults,
  type RedisBenchmarkRun,
  type ServerHandle,
} from './lib.ts';

const USAGE = `usage: npm run bench -- [options]
  --io-threads N Sabre's io-threads (front threads); default: Sabre's own default
                 (the option is not passed at all when omitted)
  --shards N     Sabre shard count (default: Sabre's own default, cores - 1)
  --embedded-shards  pass --embedded-shards yes (front i runs shard i in its own thread)
  --requests N   requests per redis-benchmark run at -P 1 (default 100000);
                 -P 16 runs use N x the pipeline scale
  --pipeline-scale F  request multiplier for -P 16 runs (default 5: pipelined
                 runs are much faster and CPU time is only sampled in ticks)
  --reps K       repetitions per cell, medians are reported (default 3)
  --tests LIST   comma-separated redis-benchmark tests (default set,get,incr,mset)
  --clients C    redis-benchmark -c (default 50)
  --keyspace R   redis-benchmark -r (default 100000)
  --no-minimal   do not run the minimal Node server
  --reserve K    cores the scaling model keeps for the kernel and the rest (default 1)
  --json FILE    also write the medians as JSON (bench/scaling.ts reads it)
  --quick        smoke run: 20000 requests, 1 repetition, no warm-up
  --self-test    run a second redis-server in place of Sabre (checks the harness)`;

const DEFAULT_TESTS = ['set', 'get', 'incr', 'mset'];
const MINIMAL_TESTS = new Set(['set', 'get']);
const PIPELINES = [1, 16] as const;
/** How long to wait before an INFO cpu reading: a few shard cron ticks at the default hz 10. */
const SETTLE_MS = 300;

type SideName = 'sabre' | 'redis' | 'minimal';

interface Sample {
  /** The repetition it belongs to (pairs the servers' runs for the ratio). */
  rep?: number;
  rps: number;
  cpuUsPerReq: number;
  /** Sabre only: µs per request of each front thread and each shard (INFO cpu). */
  frontUs?: number[];
  shardUs?: number[];
}

interface Cell {
  test: string;
  pipeline: number;
  requests: number;
  samples: Record<SideName, Sample[]>;
  /** Set when at least one run against that server failed (medians use the successful ones). */
  failed: Record<SideName, boolean>;
}

/** One redis-benchmark run; the error text if it failed (e.g. on an unsupported command). */
async function measure(
  server: ServerHandle,
  perThread: boolean,
  test: string,
  pipeline: number,
  requests: number,
  clients: number,
  keyspace: number,
): Promise<Sample | string> {
  if (perThread) await sleep(SETTLE_MS);
  const infoBefore = perThread ? sabreThreadSeconds(await infoCpu(server.port)) : null;
  const threadsBefore = perThread ? readThreadCpu(server.pid) : null;
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
  const threadsAfter = perThread ? readThreadCpu(server.pid) : null;
  const row = rows[0];
  if (row === undefined) return 'no result row';
  const cpuUs = ((after - before) / clockTicksPerSecond()) * 1e6;
  const sample: Sample = { rps: row.rps, cpuUsPerReq: cpuUs / requests };
  if (infoBefore !== null) {
    await sleep(SETTLE_MS);
    const infoAfter = sabreThreadSeconds(await infoCpu(server.port));
    const perReq = (a: number[], b: number[]): number[] =>
      a.map((v, i) => ((v - (b[i] ?? 0)) * 1e6) / requests);
    sample.frontUs = perReq(infoAfter.fronts, infoBefore.fronts);
    sample.shardUs = perReq(infoAfter.shards, infoBefore.shards);
    if (infoAfter.frontSource === 'main_thread' && threadsBefore !== null && threadsAfter !== null) {
      // No used_cpu_*_front_<i> in INFO: every front from /proc, by thread name (MainThread is front 0,
      // front-<i> the others). Not used_cpu_*_main_thread: with io-threads > 1 each INFO lands on
      // whichever front the kernel gave its connection, and that field is the serving thread's.
      const byName = threadCpuByName(threadsBefore, threadsAfter);
      sample.frontUs = [(byName.get('MainThread') ?? 0) / requests];
      for (let i = 1; byName.has(`front-${i}`); i++) sample.frontUs.push((byName.get(`front-${i}`) ?? 0) / requests);
    }
  }
  return sample;
}

function sum(xs: ReadonlyArray<number>): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Per-index medians of arrays (e.g. front_0's µs/req over the repetitions). */
function medians(arrays: ReadonlyArray<ReadonlyArray<number>>): number[] {
  const n = Math.max(0, ...arrays.map((a) => a.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(median(arrays.map((a) => a[i] ?? Number.NaN).filter(Number.isFinite)));
  return out;
}

async function main(): Promise<void> {
  const opts = parseOptions(
    process.argv.slice(2),
    {
      'io-threads': 'number',
      'embedded-shards': 'boolean',
      requests: 'number',
      'pipeline-scale': 'number',
      reps: 'number',
      shards: 'number',
      tests: 'string',
      clients: 'number',
      keyspace: 'number',
      'no-minimal': 'boolean',
      reserve: 'number',
      json: 'string',
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
  const ioThreadsOpt = opts.get('io-threads');
  const ioThreads = typeof ioThreadsOpt === 'number' ? Math.round(ioThreadsOpt) : null;
  const clients = Math.round(numberOption(opts, 'clients', 50));
  const keyspace = Math.round(numberOption(opts, 'keyspace', 100_000));
  const reserve = Math.round(numberOption(opts, 'reserve', 1));
  const tests = stringOption(opts, 'tests', DEFAULT_TESTS.join(','))
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  const jsonPath = stringOption(opts, 'json', '');
  const selfTest = flagOption(opts, 'self-test');
  const withMinimal = !flagOption(opts, 'no-minimal');

  if (!redisBenchmarkAvailable()) throw new Error('redis-benchmark is not on PATH (apt-get install redis-tools)');

  const sabreArgs = ioThreads === null ? [] : ['--io-threads', String(ioThreads)];
  if (flagOption(opts, 'embedded-shards')) sabreArgs.push('--embedded-shards', 'yes');
  const servers = await startBenchServers({ shards, selfTest, sabreArgs });
  let minimal: ServerHandle | null = null;
  const label = servers.sabreLabel;
  const perThread = !selfTest;
  const started = Date.now();
  try {
    if (withMinimal) minimal = await startMinimalNode();
    // What the server runs (the defaults included): fronts, shards, and shards run by fronts.
    const layout = selfTest ? { ioThreads: 1, shards, embedded: 0 } : await sabreLayout(servers.sabre.port, shards);
    const sides: Array<{ name: SideName; label: string; server: ServerHandle }> = [
      { name: 'sabre', label, server: servers.sabre },
      { name: 'redis', label: 'redis', server: servers.redis },
    ];
    if (minimal !== null) sides.push({ name: 'minimal', label: 'minimal', server: minimal });
    const setting = selfTest
      ? ''
      : `${layout.shards} shard${layout.shards === 1 ? '' : 's'}, io-threads ${layout.ioThreads}${ioThreads === null ? ' (default)' : ''}` +
        (layout.embedded > 0 ? `, embedded-shards yes (shards 0..${layout.embedded - 1} run by fronts 0..${layout.embedded - 1})` : '');
    progress(
      `${label}: port ${servers.sabre.port} pid ${servers.sabre.pid}${setting === '' ? '' : ` (${setting})`}; ` +
        `redis: port ${servers.redis.port} pid ${servers.redis.pid}; ` +
        `${minimal === null ? '' : `minimal node: port ${minimal.port} pid ${minimal.pid}; `}CLK_TCK ${clockTicksPerSecond()}`,
    );
    for (const side of sides) await command(side.server.port, ['FLUSHALL']);
    const runsOn = (side: SideName, test: string): boolean => side !== 'minimal' || MINIMAL_TESTS.has(test);

    if (!quick) {
      // Warm-up: lets V8 optimise the hot paths before anything is measured.
      progress('warm-up');
      const n = Math.max(10_000, Math.round(requests / 5));
      for (const side of sides) {
        for (const p of PIPELINES) {
          for (const test of tests) {
            if (runsOn(side.name, test)) await measure(side.server, false, test, p, n, clients, keyspace);
          }
        }
      }
    }

    const cells: Cell[] = [];
    for (const pipeline of PIPELINES) {
      for (const test of tests) {
        const n = pipeline === 1 ? requests : Math.round(requests * scale);
        cells.push({
          test,
          pipeline,
          requests: n,
          samples: { sabre: [], redis: [], minimal: [] },
          failed: { sabre: false, redis: false, minimal: false },
        });
      }
    }

    for (let rep = 0; rep < reps; rep++) {
      for (let c = 0; c < cells.length; c++) {
        const cell = cells[c];
        if (cell === undefined) continue;
        const k = (rep + c) % sides.length;
        const order = [...sides.slice(k), ...sides.slice(0, k)];
        for (const side of order) {
          if (!runsOn(side.name, cell.test)) continue;
          const s = await measure(
            side.server,
            perThread && side.name === 'sabre',
            cell.test,
            cell.pipeline,
            cell.requests,
            clients,
            keyspace,
          );
          const head =
            `[rep ${rep + 1}/${reps}] ${cell.test.toUpperCase().padEnd(4)} P${String(cell.pipeline).padEnd(2)} ` +
            `${side.label.padEnd(7)}`;
          if (typeof s === 'string') {
            cell.failed[side.name] = true;
            progress(`${head} FAILED: ${s}`);
            continue;
          }
          s.rep = rep;
          cell.samples[side.name].push(s);
          const threads =
            s.frontUs === undefined || s.shardUs === undefined
              ? ''
              : ` (fronts ${s.frontUs.map((x) => fmtFixed(x, 2)).join('+')}, shards ${s.shardUs.map((x) => fmtFixed(x, 2)).join('+')})`;
          progress(
            `${head} ${fmtInt(s.rps).padStart(10)} ops/s ${fmtFixed(s.cpuUsPerReq, 2).padStart(7)} µs CPU/req${threads}`,
          );
        }
      }
    }

    // Medians.
    const results: BenchResults = {
      label,
      ioThreads: layout.ioThreads,
      shards: layout.shards,
      embeddedShards: layout.embedded,
      clients,
      keyspace,
      reps,
      frontSource: 'front',
      cells: [],
    };
    if (perThread) {
      results.frontSource = sabreThreadSeconds(await infoCpu(servers.sabre.port)).frontSource;
    }
    for (const cell of cells) {
      const med = (side: SideName, f: (s: Sample) => number): number => median(cell.samples[side].map(f));
      const withThreads = cell.samples.sabre.filter((s) => s.frontUs !== undefined);
      const fronts = medians(withThreads.map((s) => s.frontUs ?? []));
      // A shard run by a front is that front's thread: its INFO figure is the whole thread's, already in the front's.
      const own = (xs: number[] | undefined): number[] => (xs ?? []).slice(layout.embedded);
      const shardsUs = medians(withThreads.map((s) => own(s.shardUs)));
      results.cells.push({
        test: cell.test,
        pipeline: cell.pipeline,
        requests: cell.requests,
        // The median of each repetition's ratio: both servers ran back to back in it, so a change of
        // load on the machine between repetitions cancels out.
        ratio: median(
          cell.samples.sabre
            .map((s) => s.rps / (cell.samples.redis.find((r) => r.rep === s.rep)?.rps ?? Number.NaN))
            .filter(Number.isFinite),
        ),
        sabre: { rps: med('sabre', (s) => s.rps), cpuUs: med('sabre', (s) => s.cpuUsPerReq), runs: cell.samples.sabre.length, failed: cell.failed.sabre },
        redis: { rps: med('redis', (s) => s.rps), cpuUs: med('redis', (s) => s.cpuUsPerReq), runs: cell.samples.redis.length, failed: cell.failed.redis },
        minimal: { rps: med('minimal', (s) => s.rps), cpuUs: med('minimal', (s) => s.cpuUsPerReq), runs: cell.samples.minimal.length, failed: cell.failed.minimal },
        frontUs: fronts,
        shardUs: shardsUs,
        // Medians of the per-run sums, not sums of the medians.
        frontSumUs: median(withThreads.map((s) => sum(s.frontUs ?? []))),
        shardSumUs: median(withThreads.map((s) => sum(own(s.shardUs)))),
      });
    }

    console.log('');
    console.log(
      `redis-benchmark -c ${clients} -r ${keyspace}; medians of ${reps} rep(s); ${label}${setting === '' ? '' : ` with ${setting}`}; ` +
        `CPU = server process utime+stime (all threads) / requests`,
    );
    console.log('');
    const mark = (r: { runs: number; failed: boolean }, text: string, ran: boolean): string =>
      !ran ? '-' : r.runs === 0 ? 'error' : r.failed ? `${text}*` : text;
    const testName = (t: string): string => t.toUpperCase() + (t === 'mset' ? ' (10 keys)' : '');
    printTable(
      [
        'test',
        'P',
        'requests',
        `${label} ops/s`,
        'redis ops/s',
        'ratio',
        'minimal ops/s',
        `${label} µs/req`,
        'redis µs/req',
        'minimal µs/req',
        'CPU vs redis',
        'CPU vs minimal',
      ],
      results.cells.map((c) => {
        const mRan = minimal !== null && MINIMAL_TESTS.has(c.test);
        return [
          testName(c.test),
          String(c.pipeline),
          fmtInt(c.requests),
          mark(c.sabre, fmtInt(c.sabre.rps), true),
          mark(c.redis, fmtInt(c.redis.rps), true),
          fmtRatio(c.ratio),
          mark(c.minimal, fmtInt(c.minimal.rps), mRan),
          mark(c.sabre, fmtFixed(c.sabre.cpuUs, 2), true),
          mark(c.redis, fmtFixed(c.redis.cpuUs, 2), true),
          mark(c.minimal, fmtFixed(c.minimal.cpuUs, 2), mRan),
          fmtRatio(c.sabre.cpuUs / c.redis.cpuUs),
          mRan ? fmtRatio(c.sabre.cpuUs / c.minimal.cpuUs) : '-',
        ];
      }),
    );
    if (cells.some((c) => c.failed.sabre || c.failed.redis || c.failed.minimal)) {
      console.log('error = every run failed (see the progress output); * = median of the runs that succeeded');
    }
    console.log(
      `ratio = median over the repetitions of ${label}/redis throughput in the same repetition (higher is better); CPU vs x = ${label}/x CPU per request (lower is better).`,
    );

    if (perThread) {
      const nFront = Math.max(0, ...results.cells.map((c) => c.frontUs.length));
      const nShard = Math.max(0, ...results.cells.map((c) => c.shardUs.length));
      console.log('');
      console.log(
        `${label} CPU µs per request by thread (INFO cpu before/after each run, medians)` +
          (results.frontSource === 'main_thread'
            ? '; no used_cpu_*_front_<i> in INFO: the fronts are their threads in /proc (MainThread, front-<i>)'
            : ''),
      );
      console.log('');
      const headers = ['test', 'P'];
      for (let i = 0; i < nFront; i++) headers.push(i < layout.embedded ? `front_${i}+shard_${i}` : `front_${i}`);
      headers.push('fronts');
      for (let i = 0; i < nShard; i++) headers.push(`shard_${i + layout.embedded}`);
      headers.push('shards', 'rest', 'whole');
      printTable(
        headers,
        results.cells.map((c) => {
          const row = [testName(c.test), String(c.pipeline)];
          for (let i = 0; i < nFront; i++) row.push(fmtFixed(c.frontUs[i] ?? Number.NaN, 2));
          row.push(fmtFixed(c.frontSumUs, 2));
          for (let i = 0; i < nShard; i++) row.push(fmtFixed(c.shardUs[i] ?? Number.NaN, 2));
          row.push(fmtFixed(c.shardSumUs, 2), fmtFixed(c.sabre.cpuUs - c.frontSumUs - c.shardSumUs, 2), fmtFixed(c.sabre.cpuUs, 2));
          return row;
        }),
      );
      console.log(
        'rest = whole process (/proc) minus the fronts and shards above: V8 helper threads (GC, compilers), libuv, signal handling.',
      );
      console.log('');
      printScalingTable(results, reserve);
    }
    if (jsonPath !== '') {
      writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
      progress(`medians written to ${jsonPath}`);
    }
    console.log('');
    console.log(`Total time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  } finally {
    await Promise.all([servers.stop(), minimal?.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
