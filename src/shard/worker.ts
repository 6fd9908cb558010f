import { getHeapStatistics } from 'node:v8';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  REC_LEN, REP_BODY, REP_FLAGS, REPF_LARGE, REQ_ARGC, REQ_ARGS, REQ_DB, REQ_FLAGS, REQ_OPCODE, REQF_LARGE,
  REQF_MAY_USE_RESERVE, REQF_NO_TOUCH, REQF_RESP3, STAT_COMMANDS, STAT_CPU_SYS_US, STAT_CPU_USER_US,
  STAT_EXPIRE_CYCLE_MS, STAT_REHASHING, STAT_HEAP_USED, STAT_ARENA_CAPACITY, STAT_RESERVE_BYTES, STAT_USED_BYTES,
  STAT_WRITE_BYTES_DONE,
} from '../../native-layout/layout.ts';
import { SHARD_COMMANDS } from '../commands/registry.ts';
import { ERR_OOM } from '../commands/errors.ts';
import type { ShardConfig, ShardContext, ShardHandler } from '../commands/types.ts';
import { RingReader, RingWriter } from '../mailbox/ring.ts';
import { Arena, OutOfMemoryError } from '../store/arena.ts';
import { Keyspace } from '../store/keyspace.ts';
import { Argv } from '../protocol/argv.ts';
import { ReplyBuffer } from '../protocol/reply-buffer.ts';

/** Records looked ahead at (their keys hashed and their memory touched) at a time. */
const LOOKAHEAD = 16;
/** The reserve kept for admitted multi-shard writes: min(64 MiB, capacity / 16). */
const RESERVE_MAX_BYTES = 64 * 1024 * 1024;

/** Bytes a shard with this arena keeps back from unflagged denyoom commands. */
function reserveBytesFor(capacity: number): number {
  return Math.min(RESERVE_MAX_BYTES, Math.floor(capacity / 16));
}

export interface ShardWorkerData {
  shardId: number;
  shardCount: number;
  requestRing: SharedArrayBuffer;
  replyRing: SharedArrayBuffer;
  arena: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  /** Side channel for records too large for a ring (both directions). */
  port: MessagePort;
  config: ShardConfig;
  seed: number;
}

/**
 * A shard's thread: drains its request ring in FIFO order, executes each
 * command against its keyspace, writes one reply record per request, and uses
 * idle time for active expiry and incremental rehashing. It never returns to
 * the event loop: it parks in Atomics.wait between batches.
 */
class ShardRuntime implements ShardContext {
  readonly args = new Argv();
  readonly reply = new ReplyBuffer();
  readonly ks: Keyspace;
  db = 0;
  readonly shardId: number;
  readonly shardCount: number;
  readonly config: ShardConfig;
  private readonly requests: RingReader;
  private readonly replies: RingWriter;
  private readonly port: MessagePort;
  private readonly handlers: (ShardHandler | undefined)[];
  private readonly statsF64: Float64Array;
  private nextCron = 0;
  private expireCursor: number[];
  private expireDb = 0;
  running = true;
  private clockCountdown = 0;
  private batchStart = true;
  // Lookahead (prefetchAhead): the next records' offsets, and for each the
  // first key's place in the ring, its hash, its db and its home group (-1: none).
  private readonly ahead = new Int32Array(LOOKAHEAD);
  private readonly aheadKeyOffset = new Int32Array(LOOKAHEAD);
  private readonly aheadKeyLength = new Int32Array(LOOKAHEAD);
  private readonly aheadHash = new Uint32Array(LOOKAHEAD);
  private readonly aheadDb = new Uint16Array(LOOKAHEAD);
  private readonly aheadGroup = new Float64Array(LOOKAHEAD);
  /** Per opcode: the argument index of the first key, 0 for none. */
  private readonly firstKeyOf: Uint8Array;
  /** Values loaded only to warm the cache (kept so that the loads stay). */
  prefetchSink = 0;
  /** Per opcode: 1 when the command is flagged denyoom (admission applies). */
  private readonly denyOom: Uint8Array;
  /** Arena bytes an unflagged denyoom command may fill up to: capacity - reserve. */
  private readonly admitLimit: number;
  /** Cumulative REC_LEN of the denyoom records taken off the ring (STAT_WRITE_BYTES_DONE). */
  private writeBytesDone = 0;

  constructor(d: ShardWorkerData) {
    this.shardId = d.shardId;
    this.shardCount = d.shardCount;
    this.config = d.config;
    this.requests = new RingReader(d.requestRing);
    this.replies = new RingWriter(d.replyRing);
    this.port = d.port;
    this.statsF64 = new Float64Array(d.stats);
    this.ks = new Keyspace(new Arena(d.arena), d.config.databases, this.statsF64, d.seed);
    this.applyConfig();
    this.handlers = SHARD_COMMANDS.map((s) => s.shard);
    this.firstKeyOf = Uint8Array.from(SHARD_COMMANDS, (s) => (s.firstKey > 0 && s.firstKey < 256 ? s.firstKey : 0));
    this.denyOom = Uint8Array.from(SHARD_COMMANDS, (s) => (s.flags.includes('denyoom') ? 1 : 0));
    this.expireCursor = new Array<number>(d.config.databases).fill(0);
    const capacity = this.ks.alloc.capacityBytes;
    const reserve = reserveBytesFor(capacity);
    this.admitLimit = capacity - reserve;
    this.statsF64[STAT_ARENA_CAPACITY] = capacity;
    this.statsF64[STAT_RESERVE_BYTES] = reserve;
    this.publishBatchStats();
  }

  /**
   * The admission figures the front reads (used bytes, then denyoom bytes
   * done): plain stores, before the replies are published.
   */
  private publishBatchStats(): void {
    const s = this.statsF64;
    s[STAT_USED_BYTES] = this.ks.alloc.used;
    s[STAT_WRITE_BYTES_DONE] = this.writeBytesDone;
  }

  applyConfig(): void {
    const p = this.config.maxmemoryPolicy;
    this.ks.lfuMode = p === 'allkeys-lfu' || p === 'volatile-lfu';
    this.ks.lfuLogFactor = this.config.lfuLogFactor;
    this.ks.lfuDecayMinutes = this.config.lfuDecayTime;
  }

  run(): void {
    const reader = this.requests;
    for (;;) {
      const seen = reader.signal();
      let executed = 0;
      this.batchStart = true;
      while (reader.refresh()) {
        for (let n = reader.lookahead(this.ahead, LOOKAHEAD); n > 0; n = reader.lookahead(this.ahead, LOOKAHEAD)) {
          this.prefetchAhead(n);
          for (let j = 0; j < n; j++) {
            const idx = reader.next();
            this.execute(idx, j);
            reader.consume(idx);
            executed++;
            // Long batches: hand replies over as we go so the front can start writing.
            if ((executed & 63) === 0) {
              reader.release();
              this.publishBatchStats();
              this.replies.publish();
            }
          }
        }
        reader.release();
        this.publishBatchStats();
        this.replies.publish();
      }
      if (!this.running) return;
      const now = Date.now();
      if (now >= this.nextCron) {
        this.cron(now);
        this.nextCron = now + Math.max(1, Math.floor(1000 / this.config.hz));
        continue;
      }
      reader.park(seen, this.nextCron - now);
    }
  }

  /**
   * Hashes the first key of each of the next `n` records, then loads their
   * index groups, then their records. A lookup is two dependent cache misses
   * (group, then record), about half of a GET's time on the shard with 100k
   * keys; loading a whole batch's groups, then its records, lets those misses
   * overlap, and the commands then find their memory in cache.
   */
  private prefetchAhead(n: number): void {
    const u8 = this.requests.u8;
    const ks = this.ks;
    const groups = this.aheadGroup;
    for (let j = 0; j < n; j++) {
      const idx = this.ahead[j];
      groups[j] = -1;
      if ((u8[idx + REQ_FLAGS] & REQF_LARGE) !== 0) continue;
      const k = this.firstKeyOf[u8[idx + REQ_OPCODE] | (u8[idx + REQ_OPCODE + 1] << 8)];
      if (k === undefined || k === 0 || k >= readU32(u8, idx + REQ_ARGC)) continue;
      let p = idx + REQ_ARGS;
      for (let i = 0; i < k; i++) p += 4 + readU32(u8, p);
      const kl = readU32(u8, p);
      const db = u8[idx + REQ_DB] | (u8[idx + REQ_DB + 1] << 8);
      groups[j] = ks.homeGroupOf(db, u8, p + 4, kl);
      this.aheadKeyOffset[j] = p + 4;
      this.aheadKeyLength[j] = kl;
      this.aheadHash[j] = ks.hash;
      this.aheadDb[j] = db;
    }
    let sink = 0;
    for (let j = 0; j < n; j++) if (groups[j] >= 0) sink ^= ks.dbs[this.aheadDb[j]].touchGroup(groups[j]);
    for (let j = 0; j < n; j++) if (groups[j] >= 0) sink ^= ks.dbs[this.aheadDb[j]].touchRecord(groups[j], this.aheadHash[j]);
    this.prefetchSink = sink;
  }

  /** Runs the record at `idx`, the `slot`-th of the current lookahead. */
  private execute(idx: number, slot: number): void {
    const ringU8 = this.requests.u8;
    let u8 = ringU8;
    let base = idx;
    const flags = u8[idx + REQ_FLAGS];
    if (flags & REQF_LARGE) {
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) throw new Error('large request record without its payload');
      u8 = m.message as Uint8Array;
      base = 0;
    }
    const opcode = u8[base + REQ_OPCODE] | (u8[base + REQ_OPCODE + 1] << 8);
    this.db = u8[base + REQ_DB] | (u8[base + REQ_DB + 1] << 8);
    const argc = readU32(u8, base + REQ_ARGC);
    const args = this.args;
    args.ensure(argc);
    args.u8 = u8;
    args.count = argc;
    let p = base + REQ_ARGS;
    for (let i = 0; i < argc; i++) {
      const l = readU32(u8, p);
      args.off[i] = p + 4;
      args.len[i] = l;
      p += 4 + l;
    }
    const reply = this.reply;
    reply.reset((flags & REQF_RESP3) !== 0);
    const ks = this.ks;
    ks.noTouch = (flags & REQF_NO_TOUCH) !== 0;
    // The command clock is sampled every 32 commands of a batch: within a
    // batch (well under a millisecond) expiry decisions share one clock.
    if ((++this.clockCountdown & 31) === 0 || this.batchStart) {
      this.batchStart = false;
      ks.tick(Date.now());
    }
    const index = ks.dbs[this.db];
    if (index !== undefined && index.isRehashing) index.rehashStep(1);
    const handler = this.handlers[opcode];
    if (this.denyOom[opcode] === 1) {
      // Redis refuses a denyoom command before it runs when memory is short.
      // A part of a multi-shard write the front admitted may use the reserve.
      const recordBytes = readU32(u8, base + REC_LEN);
      this.writeBytesDone += recordBytes;
      if ((flags & REQF_MAY_USE_RESERVE) === 0 && ks.alloc.used + recordBytes > this.admitLimit) {
        reply.error(ERR_OOM);
        this.statsF64[STAT_COMMANDS]++;
        this.writeReply();
        return;
      }
    }
    if (base === idx && this.aheadGroup[slot] >= 0) {
      ks.hint(ringU8, this.aheadKeyOffset[slot], this.aheadKeyLength[slot], this.aheadHash[slot]);
    }
    try {
      if (handler === undefined) reply.error(`ERR unknown shard opcode ${opcode}`);
      else handler(this);
    } catch (e) {
      reply.reset((flags & REQF_RESP3) !== 0);
      // Every keyspace write is all or nothing: an OOM left the keyspace as it was.
      if (e instanceof OutOfMemoryError) reply.error(ERR_OOM);
      else {
        reply.error(`ERR internal error in '${SHARD_COMMANDS[opcode]?.name}': ${(e as Error).message}`);
        console.error(`shard ${this.shardId}: internal error in '${SHARD_COMMANDS[opcode]?.name}':`, e);
      }
    }
    ks.clearHint();
    this.statsF64[STAT_COMMANDS]++;
    this.writeReply();
  }

  private writeReply(): void {
    const reply = this.reply;
    const total = REP_BODY + reply.len;
    const w = this.replies;
    if (total > w.maxRecord) {
      const payload = reply.buf.slice(0, reply.len);
      this.port.postMessage(payload, [payload.buffer as ArrayBuffer]);
      const at = this.reserveReply(REP_BODY);
      w.writeU32(at + REP_FLAGS, REPF_LARGE);
      w.commit(REP_BODY);
      reply.reset(false);
      reply.trim(64 * 1024);
      return;
    }
    const at = this.reserveReply(total);
    w.writeU32(at + REP_FLAGS, 0);
    const n = reply.len;
    if (n < 128) {
      const src = reply.buf;
      const dst = w.u8;
      const base = at + REP_BODY;
      for (let i = 0; i < n; i++) dst[base + i] = src[i];
    } else {
      w.u8.set(reply.buf.subarray(0, n), at + REP_BODY);
    }
    w.commit(total);
  }

  private reserveReply(total: number): number {
    const w = this.replies;
    for (;;) {
      const at = w.reserve(total);
      if (at >= 0) return at;
      // The front has not drained yet: show it what we have, then wait for room.
      this.requests.release();
      w.publish();
      w.waitForSpace(2 * total + 8, 50);
    }
  }

  /** Periodic work, like Redis's serverCron + databasesCron, for this shard only. */
  private cron(now: number): void {
    const ks = this.ks;
    ks.tick(now);
    const t0 = performance.now();
    if (this.config.activeExpire !== false) this.activeExpireCycle(t0);
    let rehashing = 0;
    const rehashUntil = performance.now() + 1;
    for (const index of ks.dbs) {
      // Neither allocates anything it cannot do without: a failure leaves the table as it was.
      index.retryGrowth();
      if (!index.isRehashing) index.maybeShrink();
      if (index.isRehashing) {
        if (this.config.activeRehashing) {
          while (performance.now() < rehashUntil && index.rehashStep(100)) { /* 1 ms of rehash per tick */ }
        }
        if (index.isRehashing) rehashing++;
      }
    }
    const s = this.statsF64;
    s[STAT_REHASHING] = rehashing;
    const cpu = process.threadCpuUsage();
    s[STAT_CPU_USER_US] = cpu.user;
    s[STAT_CPU_SYS_US] = cpu.system;
    s[STAT_HEAP_USED] = getHeapStatistics().used_heap_size;
    s[STAT_ARENA_CAPACITY] = ks.alloc.capacityBytes;
    ks.publishStats();
  }

  /**
   * Active expiry: sweeps the groups that hold volatile keys, a slice per
   * database per tick, and keeps going while many of the keys it meets have
   * expired, within 25% of the tick (Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC).
   */
  private activeExpireCycle(t0: number): void {
    const ks = this.ks;
    const budgetMs = 250 / this.config.hz;
    const dbs = ks.dbs.length;
    for (let n = 0; n < dbs; n++) {
      const db = this.expireDb;
      this.expireDb = (this.expireDb + 1) % dbs;
      if (ks.volatileKeys[db] === 0) continue;
      const index = ks.dbs[db];
      for (;;) {
        let checked = 0;
        let expired = 0;
        this.expireCursor[db] = index.sweepVolatile(this.expireCursor[db], 4096, (handle) => {
          checked++;
          if (ks.expireIfDue(db, handle)) expired++;
        });
        if (this.expireCursor[db] === 0 || checked === 0 || expired * 10 < checked) break;
        if (performance.now() - t0 > budgetMs) break;
      }
      if (performance.now() - t0 > budgetMs) break;
    }
    this.statsF64[STAT_EXPIRE_CYCLE_MS] += performance.now() - t0;
  }
}

function readU32(u8: Uint8Array, p: number): number {
  return (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24)) >>> 0;
}

const runtime = new ShardRuntime(workerData as ShardWorkerData);
export type { ShardRuntime };
runtime.run();
