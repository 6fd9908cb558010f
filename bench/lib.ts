// Shared pieces of the benchmarks: starting the servers, /proc readings,
// redis-benchmark runs, option parsing, medians and table printing.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  encodeCommand,
  getFreePort,
  rawCommand,
  redisServerPath,
  startRedis,
  startSabre,
  type ServerHandle,
} from '../test/helpers/servers.ts';

export type { ServerHandle } from '../test/helpers/servers.ts';
export { encodeCommand, rawCommand } from '../test/helpers/servers.ts';

// ---------------------------------------------------------------------------
// Options

export type OptionKind = 'number' | 'string' | 'boolean';
export type OptionValues = Map<string, number | string | boolean>;

/**
 * Parses `--name value`, `--name=value` and boolean `--flag` arguments.
 * Exits with the usage text on `--help` or on an unknown/malformed option.
 */
export function parseOptions(argv: ReadonlyArray<string>, spec: Record<string, OptionKind>, usage: string): OptionValues {
  const out: OptionValues = new Map();
  const die = (msg: string): never => {
    process.stderr.write(`${msg}\n\n${usage}\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (!arg.startsWith('--')) die(`unexpected argument: ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = spec[name];
    if (kind === undefined) die(`unknown option: --${name}`);
    if (kind === 'boolean') {
      out.set(name, eq >= 0 ? arg.slice(eq + 1) !== 'false' : true);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const nextArg = argv[i + 1];
      if (nextArg === undefined) die(`--${name} needs a value`);
      value = nextArg ?? '';
      i++;
    }
    if (kind === 'number') {
      const n = Number(value.replace(/_/g, ''));
      if (!Number.isFinite(n) || n <= 0) die(`--${name} needs a positive number, got ${JSON.stringify(value)}`);
      out.set(name, n);
    } else out.set(name, value);
  }
  return out;
}

export function numberOption(opts: OptionValues, name: string, fallback: number): number {
  const v = opts.get(name);
  return typeof v === 'number' ? v : fallback;
}

export function flagOption(opts: OptionValues, name: string): boolean {
  return opts.get(name) === true;
}

export function stringOption(opts: OptionValues, name: string, fallback: string): string {
  const v = opts.get(name);
  return typeof v === 'string' ? v : fallback;
}

// ---------------------------------------------------------------------------
// Servers

export interface BenchServers {
  /** The server under test; a second redis-server with --self-test. */
  sabre: ServerHandle;
  redis: ServerHandle;
  /** Label of the "sabre" side ("sabre" or "redis#2"). */
  sabreLabel: string;
  stop(): Promise<void>;
}

/** Starts Sabre (or, with selfTest, a second redis-server) and redis-server; stops both on SIGINT/SIGTERM. */
export async function startBenchServers(opts: {
  shards: number;
  selfTest: boolean;
  redisArgs?: string[];
  sabreArgs?: string[];
}): Promise<BenchServers> {
  if (redisServerPath() === null) throw new Error('redis-server is not on PATH (apt-get install redis-server)');
  const redisArgs = opts.redisArgs ?? [];
  const sabreStart = opts.selfTest
    ? startRedis({ args: redisArgs })
    : startSabre({ shards: opts.shards, args: opts.sabreArgs ?? [], warmup: true });
  const redisStart = startRedis({ args: redisArgs });
  if (sabreStart === null || redisStart === null) throw new Error('redis-server is not on PATH');
  const [s, r] = await Promise.allSettled([sabreStart, redisStart]);
  if (s.status === 'rejected' || r.status === 'rejected') {
    await Promise.all([
      s.status === 'fulfilled' ? s.value.stop() : undefined,
      r.status === 'fulfilled' ? r.value.stop() : undefined,
    ]);
    throw s.status === 'rejected' ? s.reason : (r as PromiseRejectedResult).reason;
  }
  const sabre = s.value;
  const redis = r.value;
  const stop = async (): Promise<void> => {
    await Promise.all([sabre.stop(), redis.stop()]);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: stopping servers\n`);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { sabre, redis, sabreLabel: opts.selfTest ? 'redis#2' : 'sabre', stop };
}

/** Sends one command and returns its raw reply bytes. */
export async function command(port: number, args: string[]): Promise<Buffer> {
  return rawCommand(port, encodeCommand(args), { replies: 1, timeoutMs: 60_000 });
}

/** Reads a bulk string reply (`$n\r\n...`) as text, or throws with the reply. */
export async function bulkCommand(port: number, args: string[]): Promise<string> {
  const reply = await command(port, args);
  const text = reply.toString('utf8');
  const m = /^\$(\d+)\r\n/.exec(text);
  if (m === null) throw new Error(`${args.join(' ')}: unexpected reply ${JSON.stringify(text.slice(0, 200))}`);
  return text.slice(m[0].length, m[0].length + Number(m[1]));
}

/** Reads an integer reply (`:n`), or throws with the reply. */
export async function integerCommand(port: number, args: string[]): Promise<number> {
  const text = (await command(port, args)).toString('utf8');
  const m = /^:(-?\d+)\r\n/.exec(text);
  if (m === null) throw new Error(`${args.join(' ')}: unexpected reply ${JSON.stringify(text.slice(0, 200))}`);
  return Number(m[1]);
}

/** `INFO memory` -> used_memory in bytes, or null if the server does not report it. */
export async function usedMemory(port: number): Promise<number | null> {
  try {
    const info = await bulkCommand(port, ['INFO', 'memory']);
    const m = /^used_memory:(\d+)\r?$/m.exec(info);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// /proc

let clkTckCache: number | null = null;

/** Clock ticks per second (`getconf CLK_TCK`, 100 if that fails). */
export function clockTicksPerSecond(): number {
  if (clkTckCache !== null) return clkTckCache;
  let v = 100;
  try {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const n = Number(out.trim());
    if (Number.isInteger(n) && n > 0) v = n;
  } catch {
    // keep 100
  }
  clkTckCache = v;
  return v;
}

/** utime + stime of a process in clock ticks (fields 14 and 15 of /proc/<pid>/stat; all threads). */
export function readCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Field 2 (comm) is in parentheses and may contain spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3, so field 14 is rest[11] and field 15 is rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return utime + stime;
}

/** One thread's CPU time: its name (`comm`) and utime + stime in clock ticks and, where the kernel has schedstat, in ns. */
export interface ThreadCpu {
  name: string;
  ticks: number;
  /** sum_exec_runtime from /proc/<pid>/task/<tid>/schedstat (the same accounting as utime+stime, in ns); NaN if absent. */
  ns: number;
}

/**
 * CPU time of every live thread of a process (/proc/<pid>/task/<tid>/stat and schedstat).
 * A 100k-request run at -P 16 lasts about 150 ms, 15 ticks of 10 ms: schedstat's
 * nanoseconds are what make a per-thread split of such a run readable.
 */
export function readThreadCpu(pid: number): Map<number, ThreadCpu> {
  const out = new Map<number, ThreadCpu>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(rest[11]) + Number(rest[12]);
      let ns = Number.NaN;
      try {
        ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      } catch {
        // no schedstat: ticks only
      }
      out.set(Number(tid), { name, ticks, ns });
    } catch {
      // the thread exited between readdir and read
    }
  }
  return out;
}

/** Which part of Sabre a thread is, from its name: the front (main thread), a shard, V8's helpers (compilers, GC), or other. */
export function threadGroup(name: string): 'front' | 'shards' | 'v8' | 'other' {
  if (name === 'MainThread' || name === 'node') return 'front';
  if (name.startsWith('shard-')) return 'shards';
  if (name.startsWith('V8') || name === 'DelayedTaskSche') return 'v8';
  return 'other';
}

/** CPU µs per thread group between two readings (threads born in between count from 0). */
export function threadCpuDelta(
  before: Map<number, ThreadCpu>,
  after: Map<number, ThreadCpu>,
): Record<'front' | 'shards' | 'v8' | 'other' | 'total', number> {
  const sums = { front: 0, shards: 0, v8: 0, other: 0, total: 0 };
  const tickUs = 1e6 / clockTicksPerSecond();
  for (const [tid, a] of after) {
    const b = before.get(tid);
    const useNs = Number.isFinite(a.ns) && (b === undefined || Number.isFinite(b.ns));
    const us = useNs ? (a.ns - (b?.ns ?? 0)) / 1000 : (a.ticks - (b?.ticks ?? 0)) * tickUs;
    sums[threadGroup(a.name)] += us;
    sums.total += us;
  }
  return sums;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

// ---------------------------------------------------------------------------
// redis-benchmark

export interface RedisBenchmarkRun {
  /** Test name as redis-benchmark prints it, e.g. "SET" or "MSET (10 keys)". */
  test: string;
  rps: number;
  p50Ms: number;
}

/** Runs redis-benchmark with `--csv` and returns its rows. Rejects with its output if it fails. */
export function redisBenchmark(port: number, args: string[]): Promise<RedisBenchmarkRun[]> {
  return new Promise<RedisBenchmarkRun[]>((resolve, reject) => {
    const fullArgs = ['-h', '127.0.0.1', '-p', String(port), ...args, '--csv'];
    const child = spawn('redis-benchmark', fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const rows: RedisBenchmarkRun[] = [];
      for (const line of out.split('\n')) {
        const m = /^"([^"]+)","([\d.]+)","[\d.]+","[\d.]+","([\d.]+)"/.exec(line.trim());
        if (m !== null) rows.push({ test: m[1] ?? '', rps: Number(m[2]), p50Ms: Number(m[3]) });
      }
      if (code !== 0 || rows.length === 0) {
        reject(
          new Error(
            `redis-benchmark ${fullArgs.join(' ')} failed (exit ${String(code)}):\n${out}\n${err.replace(/\r/g, '\n').slice(-2000)}`,
          ),
        );
        return;
      }
      resolve(rows);
    });
  });
}

export function redisBenchmarkAvailable(): boolean {
  try {
    execFileSync('redis-benchmark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Numbers and tables

export function median(values: ReadonlyArray<number>): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

export function fmtFixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

export function fmtRatio(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a';
}

export function fmtMiB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(1)} MiB` : 'n/a';
}

/** Prints rows as an aligned text table; columns listed in `leftAligned` are left aligned, the rest right aligned. */
export function printTable(headers: string[], rows: string[][], leftAligned: ReadonlyArray<number> = [0]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (leftAligned.includes(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export function sleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/** Progress output on stderr, so stdout stays the result table. */
export function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

// ---------------------------------------------------------------------------
// The minimal Node server (bench/minimal-node-server.ts): the "Node's own cost" anchor

/** The project's pinned node (node_modules/.bin/node), else the running one. */
export function projectNode(): string {
  const local = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  return existsSync(local) ? local : process.execPath;
}

/** Starts bench/minimal-node-server.ts with the project's node on a free port; resolves once it is ready. */
export async function startMinimalNode(): Promise<ServerHandle> {
  const script = fileURLToPath(new URL('./minimal-node-server.ts', import.meta.url));
  const port = await getFreePort();
  return new Promise<ServerHandle>((resolve, reject) => {
    const child = spawn(projectNode(), [script, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let ready = false;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const handle: ServerHandle = {
      port,
      pid: child.pid ?? -1,
      logs: () => log,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
    const onData = (c: Buffer): void => {
      log = (log + c.toString('utf8')).slice(-100_000);
      if (!ready && log.includes('Ready to accept connections')) {
        ready = true;
        resolve(handle);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`minimal node server exited (${String(code)}) before it was ready:\n${log}`));
    });
    process.once('exit', () => child.kill('SIGKILL'));
  });
}

// ---------------------------------------------------------------------------
// Per-thread CPU of Sabre from INFO cpu

/** `INFO cpu` as a map of field -> number (seconds for the used_cpu_* fields). */
export async function infoCpu(port: number): Promise<Map<string, number>> {
  const text = await bulkCommand(port, ['INFO', 'cpu']);
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_0-9]+):([-\d.]+)\r?$/.exec(line);
    if (m !== null) out.set(m[1] ?? '', Number(m[2]));
  }
  return out;
}

/** CPU seconds (user + sys) of each front thread and each shard, from one INFO cpu reading. */
export interface SabreThreadSeconds {
  fronts: number[];
  shards: number[];
  /** 'front' when used_cpu_*_front_<i> exist; else 'main_thread': front 0 is used_cpu_*_main_thread, the thread that served this INFO (bench/run.ts then reads the fronts from /proc instead). */
  frontSource: 'front' | 'main_thread';
}

export function sabreThreadSeconds(info: Map<string, number>): SabreThreadSeconds {
  const both = (kind: string, i: number): number | undefined => {
    const u = info.get(`used_cpu_user_${kind}_${i}`);
    const s = info.get(`used_cpu_sys_${kind}_${i}`);
    return u === undefined || s === undefined ? undefined : u + s;
  };
  const list = (kind: string): number[] => {
    const out: number[] = [];
    for (let i = 0; ; i++) {
      const v = both(kind, i);
      if (v === undefined) return out;
      out.push(v);
    }
  };
  const shards = list('shard');
  const fronts = list('front');
  if (fronts.length > 0) return { fronts, shards, frontSource: 'front' };
  const mainU = info.get('used_cpu_user_main_thread') ?? Number.NaN;
  const mainS = info.get('used_cpu_sys_main_thread') ?? Number.NaN;
  return { fronts: [mainU + mainS], shards, frontSource: 'main_thread' };
}

// ---------------------------------------------------------------------------
// The scaling model

/** Measured CPU µs per request on the two kinds of thread (whole-server sums divided by requests). */
export interface ThreadCosts {
  /** All front threads together, plus whatever else is charged to the front side (see scalingTable). */
  frontUs: number;
  /** All shards together. */
  shardUs: number;
}

export interface ScalingRow {
  cores: number;
  /** Cores left for Sabre's threads after the reserve. */
  usable: number;
  fronts: number;
  shards: number;
  opsPerSec: number;
  /** Which side limits: 'front' or 'shard'. */
  bound: 'front' | 'shard';
}

/**
 * The model: with F front threads and S shards on F + S = cores - reserve cores, each
 * thread on a core of its own, and the per-request costs constant (no contention, no
 * cache or NUMA effects, clients elsewhere), throughput = min(F / frontUs, S / shardUs)
 * requests per µs. The best split is the integer F >= 1, S >= 1 that maximises it.
 */
export function bestSplit(cores: number, reserve: number, c: ThreadCosts): ScalingRow {
  const usable = Math.max(2, cores - reserve);
  let best: ScalingRow = { cores, usable, fronts: 1, shards: usable - 1, opsPerSec: 0, bound: 'front' };
  for (let f = 1; f < usable; f++) {
    const s = usable - f;
    const byFront = (f / c.frontUs) * 1e6;
    const byShard = (s / c.shardUs) * 1e6;
    const ops = Math.min(byFront, byShard);
    if (ops > best.opsPerSec) best = { cores, usable, fronts: f, shards: s, opsPerSec: ops, bound: byFront <= byShard ? 'front' : 'shard' };
  }
  return best;
}

/** One server's medians in a cell of bench/run.ts. */
export interface SideMedians {
  rps: number;
  /** Whole-process CPU µs per request. */
  cpuUs: number;
  runs: number;
  failed: boolean;
}

/** bench/run.ts's medians (written with --json, read by bench/scaling.ts). */
export interface BenchResults {
  label: string;
  /** As the server reported them (CONFIG GET). */
  ioThreads: number | null;
  shards: number;
  /** Shards 0..n-1 run by fronts 0..n-1 (embedded-shards): not in shardUs, their work is in their front's. */
  embeddedShards?: number;
  clients: number;
  keyspace: number;
  reps: number;
  frontSource: 'front' | 'main_thread';
  cells: Array<{
    test: string;
    pipeline: number;
    requests: number;
    /** Median of the per-repetition sabre/redis throughput ratios. */
    ratio: number;
    sabre: SideMedians;
    redis: SideMedians;
    minimal: SideMedians;
    /** µs per request of each front thread / each shard with a thread of its own (INFO cpu). */
    frontUs: number[];
    shardUs: number[];
    frontSumUs: number;
    shardSumUs: number;
  }>;
}

/**
 * The costs the scaling model uses at one pipeline depth: memtier's default mix (1 SET : 10 GET)
 * when both cells were measured, else GET, else the first test. Everything of the process that
 * INFO does not attribute to a front or a shard (V8's helper threads, libuv) is charged to the
 * fronts' side, so frontUs + shardUs is the whole server's CPU per request.
 */
export function modelCosts(
  r: BenchResults,
  pipeline: number,
): { mix: string; costs: ThreadCosts; rawFrontUs: number; redisUs: number; redisRps: number; minimalUs: number; minimalRps: number } | null {
  const cells = r.cells.filter((c) => c.pipeline === pipeline && Number.isFinite(c.frontSumUs) && Number.isFinite(c.shardSumUs));
  const get = cells.find((c) => c.test === 'get');
  const set = cells.find((c) => c.test === 'set');
  const picked = get !== undefined && set !== undefined ? [{ c: set, w: 1 }, { c: get, w: 10 }] : [{ c: get ?? cells[0], w: 1 }];
  if (picked.some((p) => p.c === undefined)) return null;
  const wsum = picked.reduce((a, p) => a + p.w, 0);
  const avg = (f: (c: BenchResults['cells'][number]) => number): number =>
    picked.reduce((a, p) => a + (p.c === undefined ? Number.NaN : f(p.c) * p.w), 0) / wsum;
  // Throughput of a mix: requests over the time each kind takes.
  const avgRps = (f: (c: BenchResults['cells'][number]) => number): number =>
    wsum / picked.reduce((a, p) => a + (p.c === undefined ? Number.NaN : p.w / f(p.c)), 0);
  const frontUs = avg((c) => c.sabre.cpuUs - c.shardSumUs);
  return {
    mix: picked.length === 2 ? '1 SET : 10 GET' : (picked[0]?.c?.test ?? '?').toUpperCase(),
    costs: { frontUs, shardUs: avg((c) => c.shardSumUs) },
    rawFrontUs: avg((c) => c.frontSumUs),
    redisUs: avg((c) => c.redis.cpuUs),
    redisRps: avgRps((c) => c.redis.rps),
    minimalUs: avg((c) => c.minimal.cpuUs),
    minimalRps: avgRps((c) => c.minimal.rps),
  };
}

export const SCALING_CORES = [4, 8, 16, 64] as const;

/** Prints the scaling model's table for -P 1 and -P 16 from bench/run.ts's medians. */
export function printScalingTable(r: BenchResults, reserve: number): void {
  console.log(
    `Scaling model: throughput = min(F / front_us, S / shard_us) with F front threads + S shards = cores - ${reserve} ` +
      `(${reserve} core${reserve === 1 ? '' : 's'} kept for the kernel's network work, interrupts and the rest), clients on other machines, ` +
      'each thread on a core of its own, per-request costs as measured here and constant with the thread count ' +
      '(no lock or cache contention, no NUMA; rings grow as F x S but a request touches one). front_us = whole process ' +
      'minus the shards (fronts + V8 helpers + libuv), shard_us = all shards. Optimistic: an upper bound.',
  );
  const embedded = r.embeddedShards ?? 0;
  const allEmbedded = embedded > 0 && embedded >= r.shards;
  if (allEmbedded) {
    console.log(
      'Every shard is run by a front here (embedded-shards): the costs cannot be split, so each thread is both, ' +
        'and throughput = (cores - reserve) / (front_us + shard_us), shard_us being 0 here (its work is in front_us).',
    );
  } else if (embedded > 0) {
    console.log(`Shards 0..${embedded - 1} are run by fronts here: their work is counted in front_us, so the split below leans to fronts.`);
  }
  console.log('');
  const rows: string[][] = [];
  for (const p of [1, 16]) {
    const m = modelCosts(r, p);
    if (m === null) continue;
    const redisCeiling = 1e6 / m.redisUs;
    for (const cores of SCALING_CORES) {
      const usable = Math.max(1, cores - reserve);
      const b: ScalingRow = allEmbedded
        ? { cores, usable, fronts: usable, shards: usable, opsPerSec: (usable * 1e6) / (m.costs.frontUs + m.costs.shardUs), bound: 'front' }
        : bestSplit(cores, reserve, m.costs);
      rows.push([
        String(p),
        m.mix,
        fmtFixed(m.costs.frontUs, 2),
        fmtFixed(m.costs.shardUs, 2),
        String(cores),
        allEmbedded ? `${b.fronts} x both` : `${b.fronts} + ${b.shards}`,
        fmtInt(b.opsPerSec),
        allEmbedded ? '-' : b.bound,
        fmtInt(m.redisRps),
        fmtInt(redisCeiling),
        fmtRatio(b.opsPerSec / redisCeiling),
        fmtInt(1e6 / m.minimalUs),
      ]);
    }
  }
  printTable(
    ['P', 'mix', 'front µs', 'shard µs', 'cores', 'F + S', `${r.label} model ops/s`, 'bound by', 'redis measured', 'redis 1-core ceiling', 'model/redis', 'minimal 1-core ceiling'],
    rows,
    [1],
  );
  console.log(
    'redis measured = its ops/s in this run (one thread, clients on the same 2 cores); redis 1-core ceiling = 1e6 / its CPU µs per ' +
      'request (what one busy core gives; Redis 7 without io-threads does not go beyond it); minimal 1-core ceiling likewise.',
  );
}

/** CPU µs of each named thread of a process between two readThreadCpu readings, summed by name (e.g. "front-1", "shard-0"). */
export function threadCpuByName(before: Map<number, ThreadCpu>, after: Map<number, ThreadCpu>): Map<string, number> {
  const out = new Map<string, number>();
  const tickUs = 1e6 / clockTicksPerSecond();
  for (const [tid, a] of after) {
    const b = before.get(tid);
    const useNs = Number.isFinite(a.ns) && (b === undefined || Number.isFinite(b.ns));
    const us = useNs ? (a.ns - (b?.ns ?? 0)) / 1000 : (a.ticks - (b?.ticks ?? 0)) * tickUs;
    out.set(a.name, (out.get(a.name) ?? 0) + us);
  }
  return out;
}

/** Sabre's thread layout as the server reports it (CONFIG GET): front threads, shards, shards run by fronts. */
export interface SabreLayout {
  ioThreads: number;
  shards: number;
  /** Shards 0..embedded-1 are run by fronts 0..embedded-1 in their own threads (embedded-shards yes). */
  embedded: number;
}

/** CONFIG GET of one parameter as text, or null when the server does not have it. */
export async function configGet(port: number, name: string): Promise<string | null> {
  const text = (await command(port, ['CONFIG', 'GET', name])).toString('latin1');
  const m = /^\*2\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n([^\r]*)\r\n/.exec(text);
  return m === null ? null : (m[1] ?? null);
}

export async function sabreLayout(port: number, fallbackShards: number): Promise<SabreLayout> {
  const io = Number((await configGet(port, 'io-threads')) ?? '1');
  const shardsText = await configGet(port, 'shards');
  const shards = shardsText === null ? fallbackShards : Number(shardsText);
  const embedded = (await configGet(port, 'embedded-shards')) === 'yes' ? Math.min(io, shards) : 0;
  return { ioThreads: Number.isFinite(io) && io > 0 ? io : 1, shards, embedded };
}
