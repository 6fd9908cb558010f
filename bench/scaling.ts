// The scaling model of issue 8: what 4, 8, 16 and 64 cores would give with the best split of
// front threads and shards, from the per-thread CPU per request that bench/run.ts measures.
//
//   npm run bench:scaling -- --from results.json [--reserve K]
//   npm run bench:scaling -- [--reserve K] [any bench/run.ts option, e.g. --io-threads 2 --shards 1]
//
// With --from, it reads the medians `npm run bench -- --json FILE` wrote; otherwise it runs
// bench/run.ts for GET and SET (memtier's 1:10 SET:GET mix is weighted from them) and reads
// its output. The model (printed with the table): throughput = min(F / front_us, S / shard_us)
// with F + S = cores - reserve, each thread on its own core, per-request costs constant.
// The table also lists each cost's throughput limit per thread, and Redis's one-thread
// figures from the same run.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fmtFixed,
  fmtInt,
  modelCosts,
  printScalingTable,
  printTable,
  progress,
  projectNode,
  type BenchResults,
} from './lib.ts';

const USAGE = `usage: npm run bench:scaling -- [--from FILE] [--reserve K] [bench/run.ts options]
  --from FILE   medians written by \`npm run bench -- --json FILE\` (no measuring)
  --reserve K   cores kept for the kernel and the rest (default 1)
  anything else is passed to bench/run.ts (default there: --tests get,set)`;

async function runBench(args: string[]): Promise<BenchResults> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sabre-scaling-'));
  const json = path.join(dir, 'results.json');
  try {
    const script = fileURLToPath(new URL('./run.ts', import.meta.url));
    const full = [script, '--tests', 'get,set', ...args, '--json', json];
    progress(`running ${path.basename(projectNode())} bench/run.ts ${full.slice(1).join(' ')}`);
    await new Promise<void>((resolve, reject) => {
      // bench/run.ts's tables go to our stdout as well: the model below comes from them.
      const child = spawn(projectNode(), full, { stdio: ['ignore', 'inherit', 'inherit'] });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench/run.ts exited with ${String(code)}`))));
    });
    return JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  let from = '';
  let reserve = 1;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--from') from = argv[++i] ?? '';
    else if (a.startsWith('--from=')) from = a.slice('--from='.length);
    else if (a === '--reserve') reserve = Number(argv[++i]);
    else if (a.startsWith('--reserve=')) reserve = Number(a.slice('--reserve='.length));
    else rest.push(a);
  }
  if (!Number.isInteger(reserve) || reserve < 0) throw new Error(`--reserve needs a whole number >= 0\n\n${USAGE}`);
  if (from !== '' && rest.length > 0) throw new Error(`--from reads results: ${rest.join(' ')} would not be used\n\n${USAGE}`);
  const r = from !== '' ? (JSON.parse(readFileSync(from, 'utf8')) as BenchResults) : await runBench(rest);

  console.log('');
  console.log(
    `Scaling model from ${from !== '' ? from : 'this run'}: ${r.label} with ${r.shards} shard(s), io-threads ${r.ioThreads ?? 'default'}, ` +
      `redis-benchmark -c ${r.clients}, medians of ${r.reps} rep(s).`,
  );
  console.log('');
  // The measured inputs, and what one thread of each kind would serve on its own.
  const inputs: string[][] = [];
  for (const p of [1, 16]) {
    const m = modelCosts(r, p);
    if (m === null) continue;
    inputs.push([
      String(p),
      m.mix,
      fmtFixed(m.rawFrontUs, 2),
      fmtFixed(m.costs.frontUs, 2),
      fmtFixed(m.costs.shardUs, 2),
      fmtInt(1e6 / m.costs.frontUs),
      fmtInt(1e6 / m.costs.shardUs),
      fmtFixed(m.redisUs, 2),
      fmtInt(m.redisRps),
      fmtFixed(m.minimalUs, 2),
    ]);
  }
  printTable(
    ['P', 'mix', 'fronts µs', 'front side µs', 'shards µs', 'ops/s per front', 'ops/s per shard', 'redis µs', 'redis ops/s', 'minimal µs'],
    inputs,
    [1],
  );
  console.log('front side = the fronts plus what INFO leaves unattributed (V8 helpers, libuv): the model charges it to the fronts.');
  console.log('');
  printScalingTable(r, reserve);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
