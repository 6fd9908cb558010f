// INFO: the text Redis 7.0 produces, section by section, with Sabre's numbers.
// Shard figures come from each link's shared statistics block (native-layout
// STAT_* slots); the INFO command first asks every shard to publish them
// (`__stats_sync`) so counts include everything answered before it.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import {
  STAT_ARENA_COMMITTED, STAT_COMMANDS, STAT_CPU_SYS_US, STAT_CPU_USER_US, STAT_DB_BASE,
  STAT_EXPIRE_CYCLE_MS, STAT_EXPIRED_KEYS, STAT_LAZYFREE_PENDING, STAT_LAZYFREED_OBJECTS, STAT_HEAP_USED, STAT_KEYSPACE_HITS, STAT_KEYSPACE_MISSES, STAT_REHASHING,
  STAT_USED_BYTES,
} from '../../native-layout/layout.ts';
import { replyErrorStats } from './client.ts';
import type { Client } from './client.ts';
import { SABRE_VERSION } from './config.ts';
import { trackedContainers } from './front-dispatch.ts';
import type { Server } from './server.ts';
import { frontBufferReads } from './socket-reads.ts';

/** The Redis version Sabre reports (HELLO, INFO redis_version): clients gate features on it. */
export const REDIS_COMPAT_VERSION = '7.0.15';

const DEFAULT_SECTIONS = [
  'server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'module_list', 'errorstats',
  'cluster', 'keyspace', 'sabre',
];

/** Sections whose figures need fresh shard statistics. */
const SHARD_SECTIONS = ['memory', 'stats', 'keyspace', 'sabre'];

export interface InfoSelection {
  readonly sections: ReadonlySet<string>;
  readonly all: boolean;
  readonly everything: boolean;
}

/** INFO's arguments, like Redis's genInfoSectionDict (names are case-insensitive). */
export function selectSections(args: readonly string[]): InfoSelection {
  const sections = new Set<string>();
  let all = false;
  let everything = false;
  if (args.length === 0) for (const s of DEFAULT_SECTIONS) sections.add(s);
  for (const a of args) {
    const s = a.toLowerCase();
    if (s === 'default') for (const d of DEFAULT_SECTIONS) sections.add(d);
    else if (s === 'all') all = true;
    else if (s === 'everything') {
      all = true;
      everything = true;
    } else sections.add(s);
  }
  return { sections, all, everything };
}

export function needsShardSync(sel: InfoSelection): boolean {
  return sel.all || SHARD_SECTIONS.some((s) => sel.sections.has(s));
}

/** Sections whose figures every front thread contributes to (io-threads > 1: the others are asked). */
const FRONT_SECTIONS = ['clients', 'memory', 'stats', 'cpu', 'commandstats', 'errorstats', 'sabre'];

export function needsFronts(sel: InfoSelection): boolean {
  return sel.all || FRONT_SECTIONS.some((s) => sel.sections.has(s));
}

// ---------------------------------------------------------------------------
// Per-server state: instantaneous metrics, peak memory, RESETSTAT baselines

interface Sample {
  at: number;
  commands: number;
  netIn: number;
  netOut: number;
}

class InfoState {
  /** run_id and master_replid: front 0's on every front thread (adoptServerIdentity). */
  runId = randomBytes(20).toString('hex');
  replId = randomBytes(20).toString('hex');
  /** When the server started (uptime_in_seconds): front 0's, else this front's. */
  startTime: number | null = null;
  peakMemory = 0;
  /** Shard counters as they were at the last CONFIG RESETSTAT (they are only ever added to). */
  baseline: Float64Array[] = [];
  private last: Sample | null = null;
  private readonly ops: number[] = [];
  private readonly inKbps: number[] = [];
  private readonly outKbps: number[] = [];
  timer: NodeJS.Timeout | null = null;

  sample(srv: Server): void {
    const now = performance.now();
    const s: Sample = { at: now, commands: srv.stats.commandsProcessed, netIn: srv.stats.netInput, netOut: srv.stats.netOutput };
    const last = this.last;
    this.last = s;
    if (last !== null && now > last.at) {
      const dt = now - last.at;
      push16(this.ops, (Math.max(0, s.commands - last.commands) * 1000) / dt);
      push16(this.inKbps, (Math.max(0, s.netIn - last.netIn) * 1000) / dt / 1024);
      push16(this.outKbps, (Math.max(0, s.netOut - last.netOut) * 1000) / dt / 1024);
    }
    const used = memoryFigures(srv).used;
    if (used > this.peakMemory) this.peakMemory = used;
  }

  get opsPerSec(): number {
    return Math.trunc(mean(this.ops));
  }

  get inputKbps(): number {
    return mean(this.inKbps);
  }

  get outputKbps(): number {
    return mean(this.outKbps);
  }

  /** After RESETSTAT the stats counters restart, so the samples must too. */
  restartSamples(srv: Server): void {
    this.last = null;
    this.ops.length = 0;
    this.inKbps.length = 0;
    this.outKbps.length = 0;
    this.sample(srv);
  }
}

function push16(a: number[], v: number): void {
  a.push(v);
  if (a.length > 16) a.shift();
}

function mean(a: readonly number[]): number {
  if (a.length === 0) return 0;
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

const states = new WeakMap<Server, InfoState>();

function stateOf(srv: Server): InfoState {
  let st = states.get(srv);
  if (st === undefined) {
    st = new InfoState();
    states.set(srv, st);
  }
  return st;
}

/** What every front thread reports as the server's identity (front 0's): run_id, master_replid, start time. */
export interface ServerIdentity {
  runId: string;
  replId: string;
  startTime: number;
  lastSave: number;
}

export function serverIdentity(srv: Server): ServerIdentity {
  const st = stateOf(srv);
  return { runId: st.runId, replId: st.replId, startTime: st.startTime ?? srv.stats.startTime, lastSave: srv.lastSave };
}

/** Takes front 0's identity (on the other front threads). */
export function adoptServerIdentity(srv: Server, id: ServerIdentity): void {
  const st = stateOf(srv);
  st.runId = id.runId;
  st.replId = id.replId;
  st.startTime = id.startTime;
  srv.lastSave = id.lastSave;
}

/** Starts the 100 ms sampler behind instantaneous_ops_per_sec and the kbps figures (like Redis's trackInstantaneousMetric). */
export function startInfoSampler(srv: Server): void {
  const st = stateOf(srv);
  if (st.timer !== null) return;
  st.sample(srv);
  st.timer = setInterval(() => st.sample(srv), 100);
  st.timer.unref();
}

/** CONFIG RESETSTAT: the front counters are cleared by the caller; shard counters get a new baseline. */
export function resetInfoStats(srv: Server): void {
  const st = stateOf(srv);
  st.baseline = srv.links.map((l) => Float64Array.from(l.stats));
  for (const l of srv.links) l.inlineCommands = 0;
  st.peakMemory = 0;
  replyErrorStats.count = 0;
  replyErrorStats.codes.clear();
  st.restartSamples(srv);
}

/** A shard counter net of the RESETSTAT baseline, summed over shards. */
function shardCounter(srv: Server, slot: number): number {
  const base = stateOf(srv).baseline;
  let n = 0;
  srv.links.forEach((l, i) => {
    n += l.stats[slot] - (base[i]?.[slot] ?? 0);
  });
  return Math.max(0, n);
}

function shardSum(srv: Server, slot: number): number {
  let n = 0;
  for (const l of srv.links) n += l.stats[slot];
  return n;
}

// ---------------------------------------------------------------------------
// Figures

/** Memory a client holds on the front thread: buffers plus a fixed share for its state. */
export function clientMemory(c: Client): number {
  return 1024 + c.parser.buf.length + c.pendingOutputBytes;
}

/**
 * What one front thread counts for INFO: its clients, its counters, its CPU.
 * With io-threads N, INFO adds up (or lists) the figures of every front;
 * the others send theirs over the peer mesh (server-wide.ts), so every field
 * is structured-cloneable.
 */
export interface FrontFigures {
  index: number;
  clients: number;
  blocked: number;
  timed: number;
  maxInputBuffer: number;
  maxOutputBuffer: number;
  clientsMemory: number;
  connectionsReceived: number;
  rejectedConnections: number;
  commandsProcessed: number;
  netInput: number;
  netOutput: number;
  opsPerSec: number;
  inputKbps: number;
  outputKbps: number;
  errorTotal: number;
  errorCodes: Array<[string, number]>;
  /** name, calls, usec, rejected calls, failed calls. */
  commands: Array<[string, number, number, number, number]>;
  /** This thread's CPU time (process.threadCpuUsage), microseconds. */
  cpuSysUs: number;
  cpuUserUs: number;
  heapUsed: number;
}

/** This front's figures, now. */
export function frontFigures(srv: Server): FrontFigures {
  let maxIn = 0;
  let maxOut = 0;
  let mem = 0;
  for (const c of srv.clients.values()) {
    maxIn = Math.max(maxIn, c.parser.buf.length);
    maxOut = Math.max(maxOut, c.outputBytes);
    mem += clientMemory(c);
  }
  const st = stateOf(srv);
  const s = srv.stats;
  const errors = errorCounts(srv);
  const commands: FrontFigures['commands'] = [];
  for (const [name, c] of s.commands) commands.push([name, c.calls, c.usec, c.rejected, c.failed]);
  const cpu = process.threadCpuUsage();
  return {
    index: srv.peers.index,
    clients: srv.clients.size,
    blocked: srv.blocking.blockedClients,
    timed: srv.blocking.clientsWithTimeout,
    maxInputBuffer: maxIn,
    maxOutputBuffer: maxOut,
    clientsMemory: mem,
    connectionsReceived: s.connectionsReceived,
    rejectedConnections: s.rejectedConnections,
    commandsProcessed: s.commandsProcessed,
    netInput: s.netInput,
    netOutput: s.netOutput,
    opsPerSec: st.opsPerSec,
    inputKbps: st.inputKbps,
    outputKbps: st.outputKbps,
    errorTotal: errors.total,
    errorCodes: [...errors.codes],
    commands,
    cpuSysUs: cpu.system,
    cpuUserUs: cpu.user,
    heapUsed: process.memoryUsage().heapUsed,
  };
}

function sum(fronts: readonly FrontFigures[], field: (f: FrontFigures) => number): number {
  let n = 0;
  for (const f of fronts) n += field(f);
  return n;
}

interface MemoryFigures {
  used: number;
  startup: number;
  dataset: number;
  overhead: number;
  clientsNormal: number;
  committed: number;
}

/**
 * used_memory is the shards' allocator bytes plus the clients' buffers on the
 * front (MemoryGuard.usedMemory); the overhead is what the empty keyspaces
 * took at start-up plus those buffers, the rest is the dataset.
 */
function memoryFigures(srv: Server, fronts: readonly FrontFigures[] | null = null): MemoryFigures {
  const shards = shardSum(srv, STAT_USED_BYTES);
  let clientsNormal = 0;
  if (fronts === null) for (const c of srv.clients.values()) clientsNormal += clientMemory(c);
  else for (const f of fronts) clientsNormal += f.clientsMemory;
  const startup = Math.max(0, Math.min(srv.memory.startupBytes, shards));
  const overhead = startup + clientsNormal;
  const used = shards + clientsNormal;
  return {
    used, startup, dataset: used - overhead, overhead, clientsNormal,
    committed: shardSum(srv, STAT_ARENA_COMMITTED) + clientsNormal,
  };
}

/** Resident set size from /proc (Linux), else what Node reports. */
export function residentMemory(): number {
  try {
    const m = /VmRSS:\s*(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'latin1'));
    if (m !== null) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage.rss();
}

/** Redis's bytesToHuman(). */
export function bytesToHuman(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let d = n / 1024;
  for (const u of units) {
    if (d < 1024 || u === 'P') return `${d.toFixed(2)}${u}`;
    d /= 1024;
  }
  return `${n}B`;
}

function seconds(us: number): string {
  const s = Math.floor(us / 1e6);
  const frac = Math.floor(us % 1e6);
  return `${s}.${String(frac).padStart(6, '0')}`;
}

function ratio(a: number, b: number): string {
  return (b > 0 ? a / b : 0).toFixed(2);
}

function multiplexingApi(): string {
  switch (process.platform) {
    case 'linux': return 'epoll';
    case 'darwin':
    case 'freebsd':
    case 'openbsd': return 'kqueue';
    case 'sunos': return 'evport';
    default: return 'select';
  }
}

let executablePath = '';
function executable(): string {
  if (executablePath === '') executablePath = process.argv[1] ?? process.execPath;
  return executablePath;
}

// ---------------------------------------------------------------------------
// Sections

type Lines = Array<[string, string | number]>;

function section(title: string, lines: Lines): string {
  let s = `# ${title}\r\n`;
  for (const [k, v] of lines) s += `${k}:${v}\r\n`;
  return s;
}

function serverSection(srv: Server): string {
  const now = performance.timeOrigin + performance.now();
  const st = stateOf(srv);
  const uptime = Math.floor((Date.now() - (st.startTime ?? srv.stats.startTime)) / 1000);
  return section('Server', [
    ['redis_version', REDIS_COMPAT_VERSION],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', Buffer.from(`sabre-${SABRE_VERSION}`).toString('hex').slice(0, 16)],
    ['redis_mode', 'standalone'],
    ['os', `${os.type()} ${os.release()} ${os.machine()}`],
    ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', multiplexingApi()],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', st.runId],
    ['tcp_port', srv.port],
    ['server_time_usec', Math.floor(now * 1000)],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', srv.config.hz],
    ['configured_hz', srv.config.hz],
    ['lru_clock', Math.floor(Date.now() / 1000) & 0xffffff],
    ['executable', executable()],
    ['config_file', srv.config.configFile ?? ''],
    // Redis: 1 while its I/O threads run; Sabre's front threads always run when there are several.
    ['io_threads_active', srv.peers.single ? 0 : 1],
    ['sabre_version', SABRE_VERSION],
    ['node_version', process.version],
  ]);
}

function clientsSection(srv: Server, fronts: readonly FrontFigures[]): string {
  let maxIn = 0;
  let maxOut = 0;
  for (const f of fronts) {
    maxIn = Math.max(maxIn, f.maxInputBuffer);
    maxOut = Math.max(maxOut, f.maxOutputBuffer);
  }
  return section('Clients', [
    ['connected_clients', sum(fronts, (f) => f.clients)],
    ['cluster_connections', 0],
    ['maxclients', srv.config.maxclients],
    ['client_recent_max_input_buffer', maxIn],
    ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', sum(fronts, (f) => f.blocked)],
    ['tracking_clients', 0],
    ['clients_in_timeout_table', sum(fronts, (f) => f.timed)],
  ]);
}

function memorySection(srv: Server, fronts: readonly FrontFigures[]): string {
  const st = stateOf(srv);
  const m = memoryFigures(srv, fronts);
  if (m.used > st.peakMemory) st.peakMemory = m.used;
  const rss = residentMemory();
  const total = os.totalmem();
  const maxmemory = srv.config.maxmemory;
  // Redis: the dataset's share of what the server holds beyond its start-up memory.
  const net = m.used - m.startup;
  return section('Memory', [
    ['used_memory', m.used],
    ['used_memory_human', bytesToHuman(m.used)],
    ['used_memory_rss', rss],
    ['used_memory_rss_human', bytesToHuman(rss)],
    ['used_memory_peak', st.peakMemory],
    ['used_memory_peak_human', bytesToHuman(st.peakMemory)],
    ['used_memory_peak_perc', `${(st.peakMemory > 0 ? (m.used * 100) / st.peakMemory : 0).toFixed(2)}%`],
    ['used_memory_overhead', m.overhead],
    ['used_memory_startup', m.startup],
    ['used_memory_dataset', m.dataset],
    ['used_memory_dataset_perc', `${(net > 0 ? (m.dataset * 100) / net : 0).toFixed(2)}%`],
    ['allocator_allocated', m.used],
    ['allocator_active', m.committed],
    ['allocator_resident', m.committed],
    ['total_system_memory', total],
    ['total_system_memory_human', bytesToHuman(total)],
    ['used_memory_lua', 0],
    ['used_memory_vm_eval', 0],
    ['used_memory_lua_human', '0B'],
    ['used_memory_scripts_eval', 0],
    ['number_of_cached_scripts', 0],
    ['number_of_functions', 0],
    ['number_of_libraries', 0],
    ['used_memory_vm_functions', 0],
    ['used_memory_vm_total', 0],
    ['used_memory_vm_total_human', '0B'],
    ['used_memory_functions', 0],
    ['used_memory_scripts', 0],
    ['used_memory_scripts_human', '0B'],
    ['maxmemory', maxmemory],
    ['maxmemory_human', bytesToHuman(maxmemory)],
    ['maxmemory_policy', srv.config.maxmemoryPolicy],
    ['allocator_frag_ratio', ratio(m.committed, m.used)],
    ['allocator_frag_bytes', Math.max(0, m.committed - m.used)],
    ['allocator_rss_ratio', ratio(rss, m.committed)],
    ['allocator_rss_bytes', rss - m.committed],
    ['rss_overhead_ratio', ratio(rss, m.committed)],
    ['rss_overhead_bytes', rss - m.committed],
    ['mem_fragmentation_ratio', ratio(rss, m.used)],
    ['mem_fragmentation_bytes', rss - m.used],
    ['mem_not_counted_for_evict', 0],
    ['mem_replication_backlog', 0],
    ['mem_total_replication_buffers', 0],
    ['mem_clients_slaves', 0],
    ['mem_clients_normal', m.clientsNormal],
    ['mem_cluster_links', 0],
    ['mem_aof_buffer', 0],
    ['mem_allocator', 'sabre-arena'],
    ['active_defrag_running', 0],
    ['lazyfree_pending_objects', srv.links.reduce((n, l) => n + l.stats[STAT_LAZYFREE_PENDING], 0)],
    ['lazyfreed_objects', shardCounter(srv, STAT_LAZYFREED_OBJECTS)],
  ]);
}

function persistenceSection(srv: Server): string {
  return section('Persistence', [
    ['loading', 0],
    ['async_loading', 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ['current_save_keys_processed', 0],
    ['current_save_keys_total', 0],
    ['rdb_changes_since_last_save', 0],
    ['rdb_bgsave_in_progress', 0],
    ['rdb_last_save_time', srv.lastSave],
    ['rdb_last_bgsave_status', 'ok'],
    ['rdb_last_bgsave_time_sec', -1],
    ['rdb_current_bgsave_time_sec', -1],
    ['rdb_saves', 0],
    ['rdb_last_cow_size', 0],
    ['rdb_last_load_keys_expired', 0],
    ['rdb_last_load_keys_loaded', 0],
    ['aof_enabled', 0],
    ['aof_rewrite_in_progress', 0],
    ['aof_rewrite_scheduled', 0],
    ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1],
    ['aof_last_bgrewrite_status', 'ok'],
    ['aof_rewrites', 0],
    ['aof_rewrites_consecutive_failures', 0],
    ['aof_last_write_status', 'ok'],
    ['aof_last_cow_size', 0],
    ['module_fork_in_progress', 0],
    ['module_fork_last_cow_size', 0],
  ]);
}

/** Error replies: those the front made (srv.stats) plus those shards made (counted as they pass through clients). */
function errorCounts(srv: Server): { total: number; codes: Map<string, number> } {
  const codes = new Map<string, number>(srv.stats.errors);
  for (const [k, v] of replyErrorStats.codes) codes.set(k, (codes.get(k) ?? 0) + v);
  return { total: srv.stats.errorReplies + replyErrorStats.count, codes };
}

function statsSection(srv: Server, fronts: readonly FrontFigures[]): string {
  return section('Stats', [
    ['total_connections_received', sum(fronts, (f) => f.connectionsReceived)],
    ['total_commands_processed', sum(fronts, (f) => f.commandsProcessed)],
    ['instantaneous_ops_per_sec', sum(fronts, (f) => f.opsPerSec)],
    ['total_net_input_bytes', sum(fronts, (f) => f.netInput)],
    ['total_net_output_bytes', sum(fronts, (f) => f.netOutput)],
    ['total_net_repl_input_bytes', 0],
    ['total_net_repl_output_bytes', 0],
    ['instantaneous_input_kbps', sum(fronts, (f) => f.inputKbps).toFixed(2)],
    ['instantaneous_output_kbps', sum(fronts, (f) => f.outputKbps).toFixed(2)],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', sum(fronts, (f) => f.rejectedConnections)],
    ['sync_full', 0],
    ['sync_partial_ok', 0],
    ['sync_partial_err', 0],
    ['expired_keys', shardCounter(srv, STAT_EXPIRED_KEYS)],
    ['expired_stale_perc', '0.00'],
    ['expired_time_cap_reached_count', 0],
    ['expire_cycle_cpu_milliseconds', Math.round(shardCounter(srv, STAT_EXPIRE_CYCLE_MS))],
    ['evicted_keys', 0],
    ['evicted_clients', 0],
    ['total_eviction_exceeded_time', 0],
    ['current_eviction_exceeded_time', 0],
    ['keyspace_hits', shardCounter(srv, STAT_KEYSPACE_HITS)],
    ['keyspace_misses', shardCounter(srv, STAT_KEYSPACE_MISSES)],
    ['pubsub_channels', 0],
    ['pubsub_patterns', 0],
    ['pubsubshard_channels', 0],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', 0],
    ['slave_expires_tracked_keys', 0],
    ['active_defrag_hits', 0],
    ['active_defrag_misses', 0],
    ['active_defrag_key_hits', 0],
    ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0],
    ['current_active_defrag_time', 0],
    ['tracking_total_keys', 0],
    ['tracking_total_items', 0],
    ['tracking_total_prefixes', 0],
    ['unexpected_error_replies', 0],
    ['total_error_replies', sum(fronts, (f) => f.errorTotal)],
    ['dump_payload_sanitizations', 0],
    ['io_threaded_reads_processed', 0],
    ['io_threaded_writes_processed', 0],
    ['reply_buffer_shrinks', 0],
    ['reply_buffer_expands', 0],
  ]);
}

function replicationSection(srv: Server): string {
  return section('Replication', [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', stateOf(srv).replId],
    ['master_replid2', '0'.repeat(40)],
    ['master_repl_offset', 0],
    ['second_repl_offset', -1],
    ['repl_backlog_active', 0],
    ['repl_backlog_size', 1048576],
    ['repl_backlog_first_byte_offset', 0],
    ['repl_backlog_histlen', 0],
  ]);
}

function cpuSection(srv: Server, fronts: readonly FrontFigures[]): string {
  const all = process.cpuUsage();
  // The main thread is front 0 (the others are worker threads).
  const main = fronts.find((f) => f.index === 0) ?? fronts[0];
  const lines: Lines = [
    ['used_cpu_sys', seconds(all.system)],
    ['used_cpu_user', seconds(all.user)],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', seconds(main.cpuSysUs)],
    ['used_cpu_user_main_thread', seconds(main.cpuUserUs)],
  ];
  srv.links.forEach((l, i) => {
    lines.push([`used_cpu_sys_shard_${i}`, seconds(l.stats[STAT_CPU_SYS_US])]);
    lines.push([`used_cpu_user_shard_${i}`, seconds(l.stats[STAT_CPU_USER_US])]);
  });
  for (const f of fronts) {
    lines.push([`used_cpu_sys_front_${f.index}`, seconds(f.cpuSysUs)]);
    lines.push([`used_cpu_user_front_${f.index}`, seconds(f.cpuUserUs)]);
  }
  return section('CPU', lines);
}

function commandstatsSection(fronts: readonly FrontFigures[]): string {
  // Summed by name; in the order this front met them, then the others' (like Redis, no particular order).
  const merged = new Map<string, [number, number, number, number]>();
  for (const f of fronts) {
    for (const [name, calls, usec, rejected, failed] of f.commands) {
      const m = merged.get(name);
      if (m === undefined) merged.set(name, [calls, usec, rejected, failed]);
      else {
        m[0] += calls;
        m[1] += usec;
        m[2] += rejected;
        m[3] += failed;
      }
    }
  }
  let s = '# Commandstats\r\n';
  for (const [name, [calls, usec, rejected, failed]] of merged) {
    if (trackedContainers.has(name)) continue;
    if (calls === 0 && failed === 0 && rejected === 0) continue;
    const per = calls === 0 ? 0 : usec / calls;
    s += `cmdstat_${name}:calls=${calls},usec=${usec},usec_per_call=${per.toFixed(2)}` +
      `,rejected_calls=${rejected},failed_calls=${failed}\r\n`;
  }
  return s;
}

function errorstatsSection(fronts: readonly FrontFigures[]): string {
  const merged = new Map<string, number>();
  for (const f of fronts) for (const [code, n] of f.errorCodes) merged.set(code, (merged.get(code) ?? 0) + n);
  let s = '# Errorstats\r\n';
  const codes = [...merged].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [code, n] of codes) s += `errorstat_${code}:count=${n}\r\n`;
  return s;
}

function keyspaceSection(srv: Server): string {
  let s = '# Keyspace\r\n';
  const dbs = srv.config.databases;
  for (let d = 0; d < dbs; d++) {
    const keys = shardSum(srv, STAT_DB_BASE + 2 * d);
    const expires = shardSum(srv, STAT_DB_BASE + 2 * d + 1);
    if (keys > 0 || expires > 0) s += `db${d}:keys=${keys},expires=${expires},avg_ttl=0\r\n`;
  }
  return s;
}

function sabreSection(srv: Server, fronts: readonly FrontFigures[]): string {
  const guard = srv.memory;
  guard.tick(); // fresh figures (INFO synced the shards' statistics first)
  let fillMin = Infinity;
  let fillMax = 0;
  for (const l of srv.links) {
    const f = guard.fill(l);
    fillMin = Math.min(fillMin, f);
    fillMax = Math.max(fillMax, f);
  }
  const perc = (f: number): string => `${(Number.isFinite(f) ? f * 100 : 0).toFixed(2)}%`;
  const lines: Lines = [
    ['sabre_version', SABRE_VERSION],
    ['shards', srv.links.length],
    // Network front threads (io-threads), and the one serving the connection that asked.
    ['io_threads', srv.peers.count],
    ['client_front', srv.peers.index],
    // How sockets are read: into each front thread's one reused buffer, or a new buffer per read
    // (a Node version without the socket fields it needs; server/socket-reads.ts).
    ['socket_reads', frontBufferReads ? 'shared_buffer' : 'per_read'],
    ['shard_arena_bytes', srv.config.shardArenaMb * 1024 * 1024],
    // Every front thread's heap.
    ['front_heap_used', sum(fronts, (f) => f.heapUsed)],
    // A shard is full from 95% of its usable arena (capacity minus reserve):
    // writes to its keys are refused with OOM, whatever room the others have.
    ['shards_full', guard.fullCount()],
    ['shard_fill_min_perc', perc(fillMin)],
    ['shard_fill_max_perc', perc(fillMax)],
  ];
  // Counted since the last CONFIG RESETSTAT (or the start-up warm-up), like total_commands_processed.
  const base = stateOf(srv).baseline;
  srv.links.forEach((l, i) => {
    const s = l.stats;
    let keys = 0;
    let expires = 0;
    for (let d = 0; d < srv.config.databases; d++) {
      keys += s[STAT_DB_BASE + 2 * d];
      expires += s[STAT_DB_BASE + 2 * d + 1];
    }
    lines.push([`shard${i}`,
      `keys=${keys},expires=${expires},arena_used=${s[STAT_USED_BYTES]},arena_committed=${s[STAT_ARENA_COMMITTED]}` +
      `,arena_capacity=${l.capacity()},heap_used=${s[STAT_HEAP_USED]},commands=${s[STAT_COMMANDS] - (base[i]?.[STAT_COMMANDS] ?? 0)}` +
      `,rehashing=${s[STAT_REHASHING]},arena_reserve=${l.reserve()},fill_perc=${perc(guard.fill(l))}` +
      `,full=${guard.full[i] ? 1 : 0},inline_commands=${l.inlineCommands}`]);
  });
  for (const f of fronts) lines.push([`front_${f.index}_connected_clients`, f.clients]);
  return section('Sabre', lines);
}

/**
 * The INFO text for a selection, like genRedisInfoString (sections separated
 * by an empty line). `given`: every front thread's figures (this one's taken
 * when the command ran, the others' as they answered), else this front's now.
 */
export function buildInfo(srv: Server, sel: InfoSelection, given: readonly FrontFigures[] = []): string {
  const want = (name: string, ...alts: string[]): boolean =>
    sel.all || sel.sections.has(name) || alts.some((a) => sel.sections.has(a));
  let figures: FrontFigures[] | null = null;
  const fronts = (): FrontFigures[] => {
    figures ??= given.length === 0 ? [frontFigures(srv)] : [...given].sort((a, b) => a.index - b.index);
    return figures;
  };
  const parts: string[] = [];
  if (want('server')) parts.push(serverSection(srv));
  if (want('clients')) parts.push(clientsSection(srv, fronts()));
  if (want('memory')) parts.push(memorySection(srv, fronts()));
  if (want('persistence')) parts.push(persistenceSection(srv));
  if (want('stats')) parts.push(statsSection(srv, fronts()));
  if (want('replication')) parts.push(replicationSection(srv));
  if (want('cpu')) parts.push(cpuSection(srv, fronts()));
  if (want('module_list', 'modules')) parts.push('# Modules\r\n');
  if (want('commandstats')) parts.push(commandstatsSection(fronts()));
  if (want('errorstats')) parts.push(errorstatsSection(fronts()));
  if (want('latencystats')) parts.push('# Latencystats\r\n');
  if (want('cluster')) parts.push(section('Cluster', [['cluster_enabled', 0]]));
  if (want('keyspace')) parts.push(keyspaceSection(srv));
  if (want('sabre')) parts.push(sabreSection(srv, fronts()));
  return parts.join('\r\n');
}
