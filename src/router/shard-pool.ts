import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { MAX_ARENA_BYTES, RING_HEADER_BYTES, shardReserveBytes, statSentOfFront, statSlots, statWriteDoneOfFront } from '../../native-layout/layout.ts';
import { EmbeddedShard } from '../shard/embedded.ts';
import { onThreadDeath } from '../util/threads.ts';
import type { ShardConfig } from '../commands/types.ts';
import { createRingBuffer } from '../mailbox/ring.ts';
import type { ShardWorkerData } from '../shard/runtime.ts';
import { ShardLink, type InFlightSlots, type ShardLinkRings } from './shard-link.ts';

export interface PoolOptions {
  shards: number;
  /** Size of each arena; ignored when `arenas` is given. */
  arenaBytes: number;
  /** Arenas allocated beforehand (allocateArenas), one per shard. */
  arenas?: SharedArrayBuffer[];
  ringBytes: number;
  config: ShardConfig;
  /** Test-only fault injection passed to the workers (see ShardWorkerData.fault). */
  fault?: string;
  /** Front threads (io-threads); each gets its own rings and side port to every shard. Default 1. */
  fronts?: number;
  /** The order block shared by the front threads (fronts > 1). */
  order?: Int32Array | null;
  /**
   * Shards run by front threads themselves (embedded-shards): shard s < this
   * count is run by front s, in that thread, instead of a thread of its own.
   */
  embedded?: number;
}

/** What another front thread needs to reach one shard: its rings (in a message) and its port (transferred). */
export interface FrontShardEnd {
  rings: ShardLinkRings;
  port: MessagePort;
  /** When this front runs the shard itself: the shard's own data (its ports travel with it). */
  runtime: ShardWorkerData | null;
}

export interface StartedShards {
  /** Front 0's (the main thread's) links. */
  links: ShardLink[];
  /** For front f >= 1: ends[f - 1][shard]. */
  ends: FrontShardEnd[][];
}

const MiB = 1024 * 1024;
/** Smallest arena start-up falls back to (shard-arena-mb's lower bound). */
export const MIN_ARENA_BYTES = 16 * MiB;

/** The reserve a shard keeps (native-layout shardReserveBytes), for arena sizing. */
export const reserveBytesFor = shardReserveBytes;

/**
 * Memory this process may use: the machine's, or its cgroup's limit when that
 * is lower (cgroup v2 memory.max, or v1 memory.limit_in_bytes). A container
 * that sees the host's memory would otherwise size its arenas for the host.
 */
export function machineMemory(read: (path: string) => string = (p) => readFileSync(p, 'latin1')): number {
  let limit = os.totalmem();
  const candidates = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
  try {
    // cgroup v2: this process's own group ("0::/path"), when it is not the root.
    const m = /^0::(\/\S*)$/m.exec(read('/proc/self/cgroup'));
    if (m !== null && m[1] !== '/') candidates.unshift(`/sys/fs/cgroup${m[1]}/memory.max`);
  } catch {
    // not Linux
  }
  for (const path of candidates) {
    let text: string;
    try {
      text = read(path).trim();
    } catch {
      continue;
    }
    // "max" (v2) or a huge page-rounded number (v1) mean no limit.
    const n = Number(text);
    if (/^\d+$/.test(text) && n > 0 && n < limit) limit = n;
  }
  return limit;
}

export interface ArenaChoice {
  /** Bytes per shard arena: a whole number of MiB. */
  bytes: number;
  /** Why, for the start-up log. */
  reason: string;
}

/**
 * Size of each shard's arena. `shard-arena-mb` (explicitMb > 0) wins. Otherwise
 * every shard gets room for all of maxmemory plus its reserve (hash tags can
 * put every key on one shard), or, without maxmemory, for all of the machine's
 * memory; both capped at what a shard can address. Arenas are committed only
 * as they are touched, so the sum may exceed the machine's memory.
 */
export function chooseArenaBytes(explicitMb: number, maxmemory: number, machineBytes: number,
  cap: number = MAX_ARENA_BYTES): ArenaChoice {
  const capMb = Math.floor(cap / MiB);
  if (explicitMb > 0) return { bytes: Math.min(explicitMb, capMb) * MiB, reason: 'shard-arena-mb' };
  let want: number;
  let reason: string;
  if (maxmemory > 0) {
    // Smallest capacity C with C - reserveBytesFor(C) >= maxmemory.
    const sixteenth = Math.ceil((maxmemory * 16) / 15);
    want = sixteenth / 16 <= 64 * MiB ? sixteenth : maxmemory + 64 * MiB;
    reason = `from maxmemory (${mib(maxmemory)}) plus the shard's reserve`;
  } else {
    want = machineBytes;
    reason = `from the machine's memory (${mib(machineBytes)})`;
  }
  // Up for maxmemory (it must fit); down for the machine's memory: Linux's overcommit check refuses
  // a single mapping larger than RAM + swap, and the total is rarely a whole number of MiB.
  let mb = maxmemory > 0 ? Math.ceil(want / MiB) : Math.floor(want / MiB);
  if (mb > capMb) {
    mb = capMb;
    reason += `, capped at the ${capMb} MiB a shard can address`;
  }
  return { bytes: Math.max(mb * MiB, MIN_ARENA_BYTES), reason };
}

function mib(n: number): string {
  return `${Math.round((n / MiB) * 100) / 100} MiB`;
}

/**
 * Allocates one arena per shard. When the system refuses (an overcommit limit,
 * a ulimit), halves the size and tries again, down to MIN_ARENA_BYTES; each
 * retry is reported through `onShrink`. Throws when even that fails.
 */
export function allocateArenas(count: number, bytes: number,
  onShrink: (failedBytes: number, nextBytes: number, err: Error) => void): SharedArrayBuffer[] {
  for (let size = bytes; ; ) {
    const arenas: SharedArrayBuffer[] = [];
    try {
      for (let i = 0; i < count; i++) arenas.push(new SharedArrayBuffer(size));
      return arenas;
    } catch (e) {
      arenas.length = 0;
      if (size <= MIN_ARENA_BYTES) throw e;
      const next = Math.max(MIN_ARENA_BYTES, Math.floor(size / 2 / MiB) * MiB);
      onShrink(size, next, e as Error);
      size = next;
    }
  }
}

/**
 * Starts the shard workers, each with its arena, rings, stats block and side
 * port. `onDeath` is called once per shard whose thread ends (an uncaught
 * error, or an exit), with why; a shard never ends on its own otherwise.
 */
export function startShards(opts: PoolOptions, onDeath: (shard: number, why: string) => void): StartedShards {
  const fronts = opts.fronts ?? 1;
  const links: ShardLink[] = [];
  const ends: FrontShardEnd[][] = Array.from({ length: fronts - 1 }, () => []);
  for (let id = 0; id < opts.shards; id++) {
    const owner = id < (opts.embedded ?? 0) ? id : -1;
    const requestRings: SharedArrayBuffer[] = [];
    const replyRings: SharedArrayBuffer[] = [];
    const channels: MessageChannel[] = [];
    for (let f = 0; f < fronts; f++) {
      requestRings.push(createRingBuffer(opts.ringBytes));
      replyRings.push(createRingBuffer(opts.ringBytes));
      channels.push(new MessageChannel());
    }
    // The word the shard parks on (or its owner watches): every front's publish rings it,
    // except the owner's own, which it runs right after writing.
    const bell = new SharedArrayBuffer(RING_HEADER_BYTES);
    const bellOf = (f: number): SharedArrayBuffer => (f === owner ? requestRings[f] : bell);
    const arena = opts.arenas?.[id] ?? new SharedArrayBuffer(opts.arenaBytes);
    const stats = new SharedArrayBuffer(statSlots(opts.config.databases, fronts) * 8);
    const shardPorts = channels.map((c) => c.port2);
    const data: ShardWorkerData = {
      shardId: id, shardCount: opts.shards, requestRings, replyRings, bell, arena, stats,
      ports: shardPorts, config: { ...opts.config }, seed: randomInt(0x7fffffff),
      ...(opts.fault === undefined ? {} : { fault: opts.fault }),
    };
    let worker: Worker | null = null;
    if (owner < 0) worker = startShardWorker(id, data, onDeath);
    const link = new ShardLink(id, worker, requestRings[0], replyRings[0], channels[0].port1, stats, bellOf(0),
      statWriteDoneOfFront(opts.config.databases, 0), opts.order ?? null, inFlightSlots(opts.config.databases, fronts, 0));
    link.arenaBytes = arena.byteLength;
    if (owner === 0) link.embedded = new EmbeddedShard(data, 0, () => link.drain());
    links.push(link);
    for (let f = 1; f < fronts; f++) {
      ends[f - 1].push({
        rings: {
          requestRing: requestRings[f], replyRing: replyRings[f], bell: bellOf(f), stats,
          arenaBytes: arena.byteLength, doneSlot: statWriteDoneOfFront(opts.config.databases, f),
          inFlight: inFlightSlots(opts.config.databases, fronts, f) as InFlightSlots,
        },
        port: channels[f].port1,
        runtime: owner === f ? data : null,
      });
    }
  }
  return { links, ends };
}

/** Front `front`'s in-flight slots in a shard's stats block, or null with one front thread. */
function inFlightSlots(databases: number, fronts: number, front: number): InFlightSlots | null {
  if (fronts === 1) return null;
  const others: number[] = [];
  for (let g = 0; g < fronts; g++) {
    if (g !== front) others.push(statSentOfFront(databases, fronts, g), statWriteDoneOfFront(databases, g));
  }
  return { sent: statSentOfFront(databases, fronts, front), others };
}

function startShardWorker(id: number, data: ShardWorkerData, onDeath: (shard: number, why: string) => void): Worker {
  const worker = new Worker(new URL('../shard/worker.ts', import.meta.url), {
    workerData: data, transferList: data.ports, name: `shard-${id}`,
    // Shards allocate almost nothing on the JS heap (the keyspace is in the arena): a
    // small young generation keeps each worker's RSS down without extra GC work.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  onThreadDeath(worker, (why) => onDeath(id, why));
  worker.unref();
  return worker;
}

/** Another front thread's link to one shard, from the end startShards made for it. */
export function linkFromEnd(id: number, end: FrontShardEnd, order: Int32Array | null, front: number): ShardLink {
  const r = end.rings;
  const link = new ShardLink(id, null, r.requestRing, r.replyRing, end.port, r.stats, r.bell, r.doneSlot, order, r.inFlight);
  link.arenaBytes = r.arenaBytes;
  if (end.runtime !== null) link.embedded = new EmbeddedShard(end.runtime, front, () => link.drain());
  return link;
}
