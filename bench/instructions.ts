// Instructions and simulated L1 cache misses per request, Sabre against
// redis-server, counted by valgrind's callgrind: measures this noisy 2-core
// machine does not move. CPU time per request moves 10-30% from run to run here
// (the VM's neighbours, the hour); the count of user-space instructions a
// request executes does not, so an A/B of a change to a hot path reads in one
// run. Neither is time: a loop of simple instructions runs faster than a chain
// of loads, the kernel's half of a request (the socket reads and writes, the
// same for both servers) is not counted, and the caches are simulated
// (callgrind's model of the host's L1 and last level, with no kernel code
// evicting lines between requests). The instruction-cache misses are what
// tells the two servers apart most (see docs/architecture.md, "Instructions and
// cache misses per request"); they depend on where V8 placed the code, so they
// move between fresh servers where the instruction count does not. Read these
// beside the CPU-time benchmarks, not instead of them.
//
//   npm run bench:instructions [-- --tests set,get,incr] [--requests 48000] [--warm 300000] [--top 12] [--dir DIR]
//
// Each server runs under callgrind with instrumentation off (about 5x slower,
// so Sabre's start-up warm-up may stop early; the warm run below makes up for
// it): the whole test list first runs --warm requests per test at -P 16 with
// 50 clients, so V8 has compiled the hot paths, then each test runs --requests
// more with instrumentation on, and the count is read from callgrind's dump.
// Sabre runs with one shard (inline, the default on this machine). --top N
// lists Sabre's N most expensive functions per test, JIT code named from V8's
// perf map. --dir runs the Sabre of another checkout (its src/main.ts), for an
// A/B against this one's figures from a previous run.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fmtFixed,
  fmtRatio,
  numberOption,
  parseOptions,
  printTable,
  progress,
  projectNode,
  redisBenchmark,
  sleep,
  stringOption,
} from './lib.ts';
import { getFreePort, untilProcessGone } from '../test/helpers/servers.ts';

const USAGE = 'usage: node bench/instructions.ts [--tests a,b] [--requests N] [--warm N] [--top N] [--dir DIR]';
const opts = parseOptions(
  process.argv.slice(2),
  { tests: 'string', requests: 'number', warm: 'number', top: 'number', dir: 'string' },
  USAGE,
);
const tests = stringOption(opts, 'tests', 'ping_mbulk,set,get,incr,lpush,lpop,sadd,hset,spop,zadd,zpopmin,mset').split(',');
const requests = numberOption(opts, 'requests', 48_000);
const warm = numberOption(opts, 'warm', 300_000);
const top = numberOption(opts, 'top', 0);
const root = stringOption(opts, 'dir', fileURLToPath(new URL('..', import.meta.url)));

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

for (const cmd of ['valgrind', 'callgrind_control', 'callgrind_annotate', 'redis-server', 'redis-benchmark']) {
  if (!have(cmd)) {
    console.error(`bench/instructions.ts needs ${cmd} (apt-get install -y valgrind redis-server)`);
    process.exit(1);
  }
}

interface Instrumented {
  name: 'sabre' | 'redis';
  child: ChildProcess;
  /** The pid callgrind runs as (valgrind execs the target in its own process). */
  pid: number;
  port: number;
  outDir: string;
}

/** Starts `argv` under callgrind, instrumentation off, and waits until it answers PING. */
async function startInstrumented(name: 'sabre' | 'redis', argv: string[], port: number, cwd: string): Promise<Instrumented> {
  const outDir = mkdtempSync(join(tmpdir(), `sabre-cg-${name}-`));
  const child = spawn('valgrind', [
    '--tool=callgrind', '--cache-sim=yes', '--instr-atstart=no', '--smc-check=all-non-file',
    `--callgrind-out-file=${join(outDir, 'cg.%p')}`, ...argv,
  ], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (c: Buffer) => (log += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (log += c.toString('utf8')));
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited under valgrind:\n${log.slice(-2000)}`);
    if (/Ready to accept connections/.test(log)) break;
    if (Date.now() > deadline) throw new Error(`${name} did not start under valgrind in 180 s:\n${log.slice(-2000)}`);
    await sleep(250);
  }
  // Both servers log "<pid>:M ..." lines: that pid is the one callgrind_control talks to.
  const m = /^(\d+):[MC] /m.exec(log);
  if (m === null) throw new Error(`no pid in ${name}'s log:\n${log.slice(-2000)}`);
  return { name, child, pid: Number(m[1]), port, outDir };
}

function control(s: Instrumented, args: string[]): void {
  execFileSync('callgrind_control', [...args, String(s.pid)], { stdio: 'ignore' });
}

/** The dump callgrind wrote for `tag` (the newest file of the run). */
async function dumpFile(s: Instrumented, before: ReadonlySet<string>): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const files = readdirSync(s.outDir).filter((f) => !before.has(f) && /\.\d+$/.test(f));
    if (files.length > 0) return join(s.outDir, files.sort().at(-1) as string);
    await sleep(250);
  }
  throw new Error(`callgrind wrote no dump for ${s.name}`);
}

interface Counts { ir: number; i1: number; d1: number }

/** Instructions and L1 misses (instruction; data, reads and writes) of a dump, from its "events:" and "summary:" lines. */
function countsOf(file: string): Counts {
  const text = readFileSync(file, 'utf8');
  const ev = /^events: (.*)$/m.exec(text);
  const sum = /^(?:summary|totals): (.*)$/m.exec(text);
  if (ev === null || sum === null) throw new Error(`no totals in ${file}`);
  const names = (ev[1] ?? '').trim().split(/\s+/);
  const values = (sum[1] ?? '').trim().split(/\s+/).map(Number);
  const get = (name: string): number => values[names.indexOf(name)] ?? NaN;
  return { ir: get('Ir'), i1: get('I1mr'), d1: get('D1mr') + get('D1mw') };
}

interface PerfMapEntry { start: number; end: number; name: string }

function readPerfMap(pid: number): PerfMapEntry[] {
  const path = `/tmp/perf-${pid}.map`;
  if (!existsSync(path)) return [];
  const entries: PerfMapEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m === null) continue;
    const start = parseInt(m[1] ?? '0', 16);
    entries.push({ start, end: start + parseInt(m[2] ?? '0', 16), name: m[3] ?? '' });
  }
  return entries.sort((a, b) => a.start - b.start);
}

function jitName(map: readonly PerfMapEntry[], addr: number): string | null {
  let lo = 0;
  let hi = map.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = map[mid] as PerfMapEntry;
    if (addr < e.start) hi = mid - 1;
    else if (addr >= e.end) lo = mid + 1;
    else return e.name;
  }
  return null;
}

/** The `n` most expensive functions of a dump (self cost), JIT code named from the perf map. */
function topFunctions(file: string, map: readonly PerfMapEntry[], n: number): Array<[string, number]> {
  const out = execFileSync('callgrind_annotate', ['--threshold=99', '--show=Ir', '--sort=Ir', file],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rows: Array<[string, number]> = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (m === null || (m[2] ?? '').includes('PROGRAM TOTALS')) continue;
    let fn = m[2] ?? '';
    const a = /^\?\?\?:0x([0-9a-f]+)/.exec(fn);
    if (a !== null) fn = jitName(map, parseInt(a[1] ?? '0', 16)) ?? fn;
    fn = fn.replace(/file:\/\/\/\S*\/src\//, 'src/').replace(/ \[\/\S+\]$/, '');
    rows.push([fn, Number((m[1] ?? '0').replace(/,/g, ''))]);
    if (rows.length >= n) break;
  }
  return rows;
}

interface TestResult { perRequest: Counts; top: Array<[string, number]> }

async function measure(s: Instrumented): Promise<Map<string, TestResult>> {
  progress(`${s.name}: warm run, ${warm} requests per test`);
  await redisBenchmark(s.port, ['-P', '16', '-c', '50', '-n', String(warm), '-t', tests.join(',')]);
  const map = s.name === 'sabre' && top > 0 ? readPerfMap(s.pid) : [];
  const results = new Map<string, TestResult>();
  for (const t of tests) {
    const before = new Set(readdirSync(s.outDir));
    control(s, ['-z']);
    control(s, ['-i', 'on']);
    await redisBenchmark(s.port, ['-P', '16', '-c', '50', '-n', String(requests), '-t', t]);
    control(s, ['-d', t]);
    control(s, ['-i', 'off']);
    const file = await dumpFile(s, before);
    const c = countsOf(file);
    const perRequest = { ir: c.ir / requests, i1: c.i1 / requests, d1: c.d1 / requests };
    results.set(t, { perRequest, top: top > 0 ? topFunctions(file, s.name === 'sabre' ? readPerfMap(s.pid) : map, top) : [] });
    progress(`${s.name} ${t}: ${perRequest.ir.toFixed(0)} instructions, ${perRequest.i1.toFixed(1)} I1 and ${perRequest.d1.toFixed(1)} D1 misses per request`);
  }
  return results;
}

async function stop(s: Instrumented): Promise<void> {
  try {
    process.kill(s.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  await untilProcessGone(s.pid, 20_000);
  rmSync(s.outDir, { recursive: true, force: true });
  rmSync(`/tmp/perf-${s.pid}.map`, { force: true });
}

const sabrePort = await getFreePort();
const sabre = await startInstrumented('sabre', [
  projectNode(), '--perf-basic-prof', '--max-semi-space-size=1', join(root, 'src/main.ts'),
  '--port', String(sabrePort), '--save', '', '--appendonly', 'no', '--shards', '1',
], sabrePort, root);
let sabreResults;
try {
  sabreResults = await measure(sabre);
} finally {
  await stop(sabre);
}
const redisPort = await getFreePort();
const redis = await startInstrumented('redis', [
  'redis-server', '--port', String(redisPort), '--save', '', '--appendonly', 'no',
], redisPort, tmpdir());
let redisResults;
try {
  redisResults = await measure(redis);
} finally {
  await stop(redis);
}

console.log(`\nPer request, user space (callgrind, simulated L1), -P 16, 50 clients, ${requests} requests per test after ${warm} warm`);
printTable(['test', 'Sabre instr', 'Redis instr', 'ratio', 'Sabre I1 miss', 'Redis I1 miss', 'Sabre D1 miss', 'Redis D1 miss'],
  tests.map((t) => {
    const a = sabreResults.get(t)?.perRequest;
    const b = redisResults.get(t)?.perRequest;
    if (a === undefined || b === undefined) return [t, '-', '-', '-', '-', '-', '-', '-'];
    return [t, fmtFixed(a.ir, 0), fmtFixed(b.ir, 0), fmtRatio(a.ir / b.ir), fmtFixed(a.i1, 1), fmtFixed(b.i1, 1),
      fmtFixed(a.d1, 1), fmtFixed(b.d1, 1)];
  }));
if (top > 0) {
  for (const t of tests) {
    console.log(`\nSabre, ${t}: the ${top} most expensive functions (instructions per request, self)`);
    for (const [fn, n] of sabreResults.get(t)?.top ?? []) console.log(`${fmtFixed(n / requests, 1).padStart(8)}  ${fn.slice(0, 140)}`);
  }
}
