// Memory accounting and admission on the front thread: used_memory (what INFO
// reports and maxmemory is compared with), Redis's refusal of denyoom commands
// over maxmemory, and the watch that reports a shard whose arena fills while
// others have room. Multi-shard writes are admitted part by part in the
// dispatcher (ShardLink.admitsWrite); see docs/architecture.md, "Memory
// exhaustion".

import { STAT_USED_BYTES } from '../../native-layout/layout.ts';
import { ERR_OOM } from '../commands/errors.ts';
import type { CommandSpec } from '../commands/types.ts';
import type { ShardLink } from '../router/shard-link.ts';
import type { Client } from './client.ts';
import type { Config } from './config.ts';
import { bytesToHuman as human, clientMemory } from './info.ts';
import { logNotice, logWarning } from './log.ts';

/** A shard counts as full from this share of its usable arena (capacity minus reserve)... */
const FULL_FRACTION = 0.95;
/** ...and has room again below this one (so a shard at the edge is not reported every tick). */
const ROOM_FRACTION = 0.9;
/** How often front buffers are summed and shard fill is checked. */
const TICK_MS = 100;

/** What the guard needs from the server (the Server class, kept abstract for tests). */
export interface GuardedServer {
  readonly config: Config;
  readonly links: readonly ShardLink[];
  readonly clients: ReadonlyMap<number, Client>;
  replyError(client: Client, seq: number, msg: string): void;
}

/** A command's INFO commandstats counters (server.ts CommandStat). */
interface RejectableStat {
  rejected: number;
}

export class MemoryGuard {
  /** maxmemory > 0: denyoom commands are checked (one field test on the hot path otherwise). */
  limited = false;
  maxmemory = 0;
  /** Client buffers on this front, summed every tick (Redis counts them in used_memory). */
  private ownFrontBytes = 0;
  /** With several front threads: every front's buffer bytes (order block), this one's at `frontIndex`. */
  private frontSlots: Float64Array | null = null;
  private frontIndex = 0;
  /** Shards' allocator bytes when they first published (empty keyspaces): used_memory_startup. */
  startupBytes = -1;
  /** Per shard: true while reported full (FULL_FRACTION until ROOM_FRACTION). */
  readonly full: boolean[];
  private readonly srv: GuardedServer;
  private readonly timer: NodeJS.Timeout;

  constructor(srv: GuardedServer) {
    this.srv = srv;
    this.full = srv.links.map(() => false);
    this.setMaxmemory(srv.config.maxmemory);
    srv.config.onChange('maxmemory', () => {
      this.setMaxmemory(srv.config.maxmemory);
      const used = this.usedMemory();
      if (this.limited && this.maxmemory < used) {
        logWarning(`WARNING: the new maxmemory value set via CONFIG SET (${this.maxmemory}) is smaller than the ` +
          `current memory usage (${used}). This will result in key eviction and/or the inability to accept new ` +
          'write commands depending on the maxmemory-policy.');
      }
      this.warnIfArenasSmaller();
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private setMaxmemory(n: number): void {
    this.maxmemory = n;
    this.limited = n > 0;
  }

  /** Sum of the shards' allocator bytes, as last published. */
  shardBytes(): number {
    let n = 0;
    for (const l of this.srv.links) n += l.stats[STAT_USED_BYTES];
    return n;
  }

  /**
   * used_memory: the shards' allocator bytes (entries, values, index tables)
   * plus the clients' query and output buffers on the front. Rings, the V8
   * heaps and untouched arena pages are not counted (they show in RSS), as
   * Redis does not count its own binary and stacks.
   */
  /** Shares this front's client-buffer bytes with the other front threads (io-threads > 1). */
  shareFrontBytes(slots: Float64Array, index: number): void {
    this.frontSlots = slots;
    this.frontIndex = index;
  }

  /** Client buffers of every front thread. */
  get frontBytes(): number {
    const slots = this.frontSlots;
    if (slots === null) return this.ownFrontBytes;
    let n = 0;
    for (let i = 0; i < slots.length; i++) n += slots[i];
    return n;
  }

  usedMemory(): number {
    return this.shardBytes() + this.frontBytes;
  }

  /**
   * True when a denyoom command must be refused: maxmemory is set and
   * used_memory is above it (Redis's processCommand). Denyoom records already
   * sent but not run count as used once the shards report what they ran, so a
   * pipeline stops at the limit as it does in Redis instead of overshooting
   * by a whole batch.
   */
  refuses(spec: CommandSpec): boolean {
    if (!spec.flags.includes('denyoom')) return false;
    let used = this.frontBytes;
    for (const l of this.srv.links) {
      used += l.stats[STAT_USED_BYTES];
      // Without the shard's count of what it ran (no reserve published), every
      // record ever sent would look in flight: count only what is published.
      if (l.reserve() > 0) used += l.writeBytesInFlight();
    }
    return used > this.maxmemory;
  }

  /**
   * Answers Redis's OOM error for a command refused before it started; counts
   * it as a rejected call and an OOM error, as Redis's rejectCommand does.
   * Returns true (the command is done) for run()'s convenience.
   */
  reject(client: Client, seq: number, stat: RejectableStat): true {
    stat.rejected++;
    this.srv.replyError(client, seq, ERR_OOM);
    return true;
  }

  /** Front buffers, startup figure, and the shard-fill watch. */
  tick(): void {
    let front = 0;
    for (const c of this.srv.clients.values()) front += clientMemory(c);
    this.ownFrontBytes = front;
    if (this.frontSlots !== null) this.frontSlots[this.frontIndex] = front;
    const links = this.srv.links;
    if (this.startupBytes < 0 && links.every((l) => l.stats[STAT_USED_BYTES] > 0)) this.startupBytes = this.shardBytes();
    this.watchFill();
  }

  /** A shard's used share of what it may fill (capacity minus reserve), 0..1+. */
  fill(link: ShardLink): number {
    const usable = link.capacity() - link.reserve();
    return usable > 0 ? link.stats[STAT_USED_BYTES] / usable : 0;
  }

  /** Shards currently reported full. */
  fullCount(): number {
    let n = 0;
    for (const f of this.full) if (f) n++;
    return n;
  }

  /** Logs once when a shard crosses into full, and once when it has room again (front 0 only logs). */
  private watchFill(): void {
    const links = this.srv.links;
    const logs = this.frontIndex === 0;
    for (let i = 0; i < links.length; i++) {
      const f = this.fill(links[i]);
      if (!this.full[i] && f >= FULL_FRACTION) {
        this.full[i] = true;
        if (logs) logWarning(this.fullMessage(i));
      } else if (this.full[i] && f < ROOM_FRACTION) {
        this.full[i] = false;
        if (logs) logNotice(`Shard ${i}'s arena has room again (${pct(f)} of its usable size in use)`);
      }
    }
  }

  private fullMessage(i: number): string {
    const links = this.srv.links;
    const link = links[i];
    const head = `WARNING: shard ${i}'s arena is full (${human(link.stats[STAT_USED_BYTES])} used of ` +
      `${human(link.capacity() - link.reserve())} usable): writes to its keys are refused with OOM`;
    let emptiest = -1;
    for (let j = 0; j < links.length; j++) {
      if (j !== i && !this.full[j] && (emptiest < 0 || this.fill(links[j]) < this.fill(links[emptiest]))) emptiest = j;
    }
    if (emptiest < 0) return `${head}, and so are all the other shards. Raise shard-arena-mb (or maxmemory).`;
    return `${head} while other shards have room (shard ${emptiest} is ${pct(this.fill(links[emptiest]))} full). ` +
      'Keys are not spread evenly (hash tags put keys on one shard): spread them, or raise shard-arena-mb.';
  }

  /** CONFIG SET maxmemory beyond what the arenas can hold: say so (they are sized at start-up). */
  private warnIfArenasSmaller(): void {
    if (!this.limited) return;
    let total = 0;
    for (const l of this.srv.links) total += l.capacity() - l.reserve();
    if (this.maxmemory > total) {
      logWarning(`WARNING: maxmemory (${this.maxmemory}) is more than the shards' arenas can hold (${total} bytes in all): ` +
        'writes will be refused with OOM when the arenas fill. Arenas are sized at start-up (shard-arena-mb).');
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

function pct(f: number): string {
  return `${(f * 100).toFixed(2)}%`;
}
