import { getHeapStatistics } from 'node:v8';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  REC_LEN, REP_BODY, REP_FLAGS, REPF_LARGE, REPF_READY, REPF_SLOW, REQ_ARGC, REQ_ARGS, REQ_DB, REQ_FLAGS, REQ_OPCODE, REQF_LARGE, requestRecordBytes,
  REQF_MAY_USE_RESERVE, REQF_NO_TOUCH, REQF_RESP3, REQF_ORDERED, REQF_AFTER, REQ_ORDER, ORDER_TICKET_MODULUS, REPF_PUSH,
  RING_SIGNAL, RING_CONSUMER_PARKED, statWriteDoneOfFront, STAT_COMMANDS, STAT_CPU_SYS_US, STAT_CPU_USER_US,
  STAT_EXPIRE_CYCLE_MS, STAT_REHASHING, STAT_HEAP_USED, STAT_ARENA_CAPACITY, STAT_RESERVE_BYTES, STAT_USED_BYTES,
  shardReserveBytes,
} from '../../native-layout/layout.ts';
import { DENYOOM_OPCODES, SHARD_COMMANDS, opcodeOf } from '../commands/registry.ts';
import { blockedTrailer } from '../commands/blocking.ts';
import { ERR_OOM } from '../commands/errors.ts';
import type { ShardConfig, ShardContext, ShardHandler } from '../commands/types.ts';
import { RingReader, RingWriter } from '../mailbox/ring.ts';
import { Arena, OutOfMemoryError } from '../store/arena.ts';
import { Keyspace } from '../store/keyspace.ts';
import { Argv, type ArgvParts } from '../protocol/argv.ts';
import { ReplyBuffer } from '../protocol/reply-buffer.ts';
import { logWarning, setLogFile, setLogLevel, type LogLevelName } from '../server/log.ts';
import { SlowProbe } from './slow-probe.ts';
import { copyBytes } from '../util/bytes.ts';
import { sweepHashFields } from '../commands/hashes.ts';

/** Records looked ahead at (their keys hashed and their memory touched) at a time. */
const LOOKAHEAD = 16;
/** Databases the cron checks per tick for shrinking and rehashing, and publishes the counts of. */
const CRON_DB_WINDOW = 256;
/** Index groups the expire cycle sweeps per slice at active-expire-effort 1. */
const EXPIRE_SLICE_GROUPS = 4096;
/**
 * Lazy freeing (store/lazyfree.ts): units (allocations freed) after every
 * lookahead group of requests while requests keep coming, and the time spent
 * per idle turn before the ring is checked again. A unit costs about 0.1 µs.
 */
const LAZYFREE_UNITS_IN_BATCH = 128;
const LAZYFREE_IDLE_SLICE_MS = 1;
/** Units after each command run inline (LAZYFREE_UNITS_IN_BATCH spread over a lookahead group). */
const LAZYFREE_UNITS_INLINE = LAZYFREE_UNITS_IN_BATCH / LOOKAHEAD;

export interface ShardWorkerData {
  shardId: number;
  shardCount: number;
  /** Per front thread f (io-threads): its request ring, reply ring and side port. */
  requestRings: SharedArrayBuffer[];
  replyRings: SharedArrayBuffer[];
  /** Side channels for records too large for a ring (both directions), one per front. */
  ports: MessagePort[];
  /** The word every front's publish rings (RING_SIGNAL / RING_CONSUMER_PARKED of a ring-header-sized buffer). */
  bell: SharedArrayBuffer;
  arena: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  config: ShardConfig;
  seed: number;
  /**
   * Test-only fault injection (SABRE_TEST_FAULT, read by the front at start-up;
   * no client command can set it): `<what>@<shard>` makes that shard throw once
   * where named: cron, lookahead, rehash (the cron's incremental rehash), or
   * exit (out of its run loop after a batch of requests: the thread dies).
   */
  fault?: string;
}

/** What the run loop was doing when an error escaped, for the log line. */
type ShardActivity = 'looking ahead at the next requests' | 'running a request' | 'running the cron'
  | 'rehashing' | 'running the active expire cycle' | 'expiring hash fields' | 'freeing deleted values';

/** Records run from one front's ring before the next front's ring gets its turn. */
const SOURCE_TURN = 256;
/** Half the order field's range: an order field this far "ahead" of the shard's count is behind it (wrapped). */
const ORDER_HALF = ORDER_TICKET_MODULUS >>> 1;
const ORDER_MASK = ORDER_TICKET_MODULUS - 1;

/** One front thread's rings to this shard. */
interface Source {
  readonly front: number;
  readonly requests: RingReader;
  readonly replies: RingWriter;
  readonly port: MessagePort;
  /** Cumulative REC_LEN of this front's denyoom records taken off its ring, and where it is published. */
  writeBytesDone: number;
  readonly doneSlot: number;
}

/** Errors of one kind logged at most once per this many ms (a failing cron must not flood the log). */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * A shard: drains the request ring of every front thread (each in FIFO order,
 * and across them in the one order the tickets give), executes each command
 * against its keyspace, writes one reply record per request into the ring of
 * the front that sent it, and uses idle time for active expiry and incremental
 * rehashing. On a thread of its own (shard/worker.ts) it never returns to the
 * event loop: it parks in Atomics.wait between batches. Run by a front thread
 * (shard/embedded.ts), that front calls serveAvailable() and housekeeping().
 */
export class ShardRuntime implements ShardContext {
  readonly args = new Argv();
  readonly reply = new ReplyBuffer();
  readonly ks: Keyspace;
  db = 0;
  readonly shardId: number;
  readonly shardCount: number;
  readonly config: ShardConfig;
  /** One per front thread; `src` is the one whose record runs now. */
  private readonly sources: Source[];
  private src: Source;
  /** Every front's publish bumps this word: the shard parks on it. */
  private readonly bell: Int32Array;
  /** Ordered records run so far, modulo ORDER_TICKET_MODULUS (io-threads: see REQ_ORDER). */
  private ticketsRun = 0;
  /** The front whose coordinated command holds this shard (__lock ... __unlock), or -1. */
  private exclusive = -1;
  /**
   * The front thread that runs this shard in its own thread (shard/embedded.ts),
   * or -1, and how it drains its reply ring when that ring is full.
   */
  private ownerFront = -1;
  private drainOwner: (() => void) | null = null;
  /** The owner front's rings (runInline's source). */
  private ownerSource: Source | null = null;

  /** Makes `front` the front thread that runs this shard in its own thread, draining its replies with `drain`. */
  setOwner(front: number, drain: () => void): void {
    this.ownerFront = front;
    this.ownerSource = this.sources[front];
    this.drainOwner = drain;
  }

  private readonly lockOpcode = opcodeOf('__lock');
  private readonly unlockOpcode = opcodeOf('__unlock');
  private readonly handlers: (ShardHandler | undefined)[];
  /** DENYOOM_OPCODES, read through a field: an imported binding costs a check per read on the hot path. */
  private readonly denyoom = DENYOOM_OPCODES;
  private readonly statsF64: Float64Array;
  private nextCron = 0;
  private expireCursor: number[];
  private expireDb = 0;
  /** Field-expiry sweep: per database, the index cursor and whether the pass met a hash with field TTLs. */
  private fieldCursor: number[];
  private fieldPassSawTtl: Uint8Array;
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
  /** Test-only fault (see ShardWorkerData.fault): the activity that throws once, or null. */
  private fault: string | null;
  /** Set once the current record's reply is in the ring (an error after that must not reply twice). */
  private replied = false;
  private readonly lastErrorLog = new Map<string, number>();
  private readonly suppressedErrors = new Map<string, number>();
  /** Slow log timing (see slow-probe.ts). */
  private readonly slow = new SlowProbe(SHARD_COMMANDS);
  /** Where the cron's next window of databases starts. */
  private cronDbCursor = 0;
  /** Databases seen with a resize in progress (the cron steps them every tick). */
  private readonly rehashingDbs = new Set<number>();
  /** Set while a command runs (a ring's, or one run inline): nothing may run another meanwhile. */
  busy = false;
  /** The command running now was handed over by runInline; `inlineReply`: its reply stays in `reply`. */
  private inline = false;
  private inlineReply = false;
  /** The request flags of an open inline run's commands (beginInlineRun). */
  private runFlags = 0;
  /** Commands run since the start, published as STAT_COMMANDS with the batch's other figures (publishBatchStats, endInlineRun). */
  private commandsRun = 0;
  /** Arena bytes an unflagged denyoom command may fill up to: capacity - reserve. */
  private readonly admitLimit: number;

  constructor(d: ShardWorkerData) {
    this.shardId = d.shardId;
    this.shardCount = d.shardCount;
    this.config = d.config;
    this.sources = d.requestRings.map((ring, f) => ({
      front: f, requests: new RingReader(ring), replies: new RingWriter(d.replyRings[f]), port: d.ports[f],
      writeBytesDone: 0, doneSlot: statWriteDoneOfFront(d.config.databases, f),
    }));
    this.src = this.sources[0];
    this.bell = new Int32Array(d.bell);
    this.statsF64 = new Float64Array(d.stats);
    this.ks = new Keyspace(new Arena(d.arena), d.config.databases, this.statsF64, d.seed);
    this.applyConfig();
    this.handlers = SHARD_COMMANDS.map((s) => s.shard);
    this.firstKeyOf = Uint8Array.from(SHARD_COMMANDS, (s) => (s.firstKey > 0 && s.firstKey < 256 ? s.firstKey : 0));
    this.expireCursor = new Array<number>(d.config.databases).fill(0);
    this.fieldCursor = new Array<number>(d.config.databases).fill(0);
    this.fieldPassSawTtl = new Uint8Array(d.config.databases);
    const f = d.fault?.split('@');
    this.fault = f !== undefined && Number(f[1]) === d.shardId ? (f[0] ?? null) : null;
    if (d.config.logfile !== undefined) setLogFile(d.config.logfile);
    if (d.config.loglevel !== undefined) setLogLevel(d.config.loglevel as LogLevelName);
    const capacity = this.ks.alloc.capacityBytes;
    const reserve = shardReserveBytes(capacity);
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
    for (const src of this.sources) s[src.doneSlot] = src.writeBytesDone;
    s[STAT_COMMANDS] = this.commandsRun;
  }

  /** Throws the injected test fault if it is for `what` (once). */
  private injectFault(what: string): void {
    if (this.fault !== what) return;
    this.fault = null;
    throw new Error(`injected test fault (${what}, SABRE_TEST_FAULT)`);
  }

  /**
   * Logs an error that escaped outside a command handler, in the server log
   * with the shard and what it was doing; repeats of the same activity are
   * logged at most every ERROR_LOG_INTERVAL_MS.
   */
  private logFailure(activity: ShardActivity, e: unknown, consequence: string): void {
    const now = Date.now();
    const last = this.lastErrorLog.get(activity);
    if (last !== undefined && now - last < ERROR_LOG_INTERVAL_MS) {
      this.suppressedErrors.set(activity, (this.suppressedErrors.get(activity) ?? 0) + 1);
      return;
    }
    this.lastErrorLog.set(activity, now);
    const more = this.suppressedErrors.get(activity) ?? 0;
    this.suppressedErrors.delete(activity);
    const what = e instanceof Error ? (e.stack ?? e.message) : String(e);
    const since = more > 0 ? ` [${more} more error${more === 1 ? '' : 's'} while ${activity} since the last one logged]` : '';
    logWarning(`Shard ${this.shardId}: error while ${activity} (${consequence}): ${what}${since}`);
  }

  applyConfig(): void {
    const p = this.config.maxmemoryPolicy;
    this.ks.lfuMode = p === 'allkeys-lfu' || p === 'volatile-lfu';
    this.ks.lfuLogFactor = this.config.lfuLogFactor;
    this.ks.lfuDecayMinutes = this.config.lfuDecayTime;
    this.ks.lists.fill = this.config.listMaxListpackSize ?? -2;
    this.ks.hashes.maxEntries = this.config.hashMaxListpackEntries ?? 512;
    this.ks.hashes.maxValue = this.config.hashMaxListpackValue ?? 64;
    this.ks.sets.maxIntsetEntries = this.config.setMaxIntsetEntries ?? 512;
    this.ks.sets.maxListpackEntries = this.config.setMaxListpackEntries ?? 128;
    this.ks.sets.maxListpackValue = this.config.setMaxListpackValue ?? 64;
    this.ks.zsets.maxListpackEntries = this.config.zsetMaxListpackEntries ?? 128;
    this.ks.zsets.maxListpackValue = this.config.zsetMaxListpackValue ?? 64;
  }

  run(): void {
    for (;;) {
      // Sampled before the rings are read: a publish after it makes the park return at once.
      const seen = Atomics.load(this.bell, RING_SIGNAL);
      const executed = this.serveAvailable();
      if (!this.running) return;
      if (this.fault === 'exit' && executed > 0) this.injectFault('exit');
      const now = Date.now();
      if (this.housekeeping(now)) continue;
      // Nothing runnable: records that wait for another front's ordered
      // record stay in their ring, and that front's publish rings the bell.
      Atomics.store(this.bell, RING_CONSUMER_PARKED, 1);
      Atomics.wait(this.bell, RING_SIGNAL, seen, this.nextCron - now);
      Atomics.store(this.bell, RING_CONSUMER_PARKED, 0);
    }
  }

  /** Runs every record that may run now, ring after ring, until none is left; returns how many ran. */
  serveAvailable(): number {
    const sources = this.sources;
    let executed = 0;
    this.batchStart = true;
    this.busy = true;
    try {
      for (let progress = true; progress;) {
        progress = false;
        for (let f = 0; f < sources.length; f++) {
          if (this.exclusive >= 0 && f !== this.exclusive) continue;
          const ran = this.drainSource(sources[f]);
          if (ran > 0) {
            progress = true;
            executed += ran;
          }
        }
      }
    } finally {
      this.busy = false;
    }
    return executed;
  }

  /**
   * Idle-time work: the cron when it is due, else a slice of lazy freeing.
   * Returns true when it did something (the caller looks at the rings again
   * before parking).
   */
  housekeeping(now: number): boolean {
    if (now >= this.nextCron) {
      try {
        this.cron(now);
      } catch (e) {
        this.logFailure('running the cron', e, 'the shard keeps serving; the cron runs again next tick');
      }
      this.nextCron = now + Math.max(1, Math.floor(1000 / this.config.hz));
      return true;
    }
    if (!this.ks.lazy.empty) {
      // Idle with frees pending: a slice, then the rings again (no parking until done).
      this.lazyFreeSlice(Number.MAX_SAFE_INTEGER, LAZYFREE_IDLE_SLICE_MS);
      this.publishBatchStats();
      return true;
    }
    return false;
  }

  /** When the next cron is due (Date.now() scale). */
  get cronDue(): number {
    return this.nextCron;
  }

  /** True while deleted values wait in the lazy-free queue. */
  get freeing(): boolean {
    return !this.ks.lazy.empty;
  }

  /**
   * Whether the record at `idx` of `src`'s ring may run now (io-threads: see
   * native-layout REQ_ORDER). An ordered record runs when exactly its ticket's
   * predecessors have run; any other record of a front runs once the tickets
   * issued before it was written have run, so that a client who saw one part of
   * a multi-shard command never sees another shard without its part. The
   * front that holds the shard (__lock) is not checked: the records it sends
   * while it holds are its coordinator's phases.
   */
  private runnable(u8: Uint8Array, idx: number, front: number): boolean {
    const flags = u8[idx + REQ_FLAGS];
    if ((flags & (REQF_ORDERED | REQF_AFTER)) === 0) return true;
    const order = u8[idx + REQ_ORDER] | (u8[idx + REQ_ORDER + 1] << 8) | (u8[idx + REQ_ORDER + 2] << 16);
    if (flags & REQF_ORDERED) return order === this.ticketsRun;
    return front === this.exclusive || ((this.ticketsRun - order) & ORDER_MASK) < ORDER_HALF;
  }

  /**
   * Runs the runnable records of one front's ring, up to SOURCE_TURN of them,
   * stopping at the first that must wait; publishes their replies. Returns how
   * many ran.
   */
  private drainSource(src: Source): number {
    const reader = src.requests;
    if (!reader.refresh()) return 0;
    this.src = src;
    let ran = 0;
    const u8 = reader.u8;
    outer: for (let n = reader.lookahead(this.ahead, LOOKAHEAD); n > 0; n = reader.lookahead(this.ahead, LOOKAHEAD)) {
      if (this.config.slowlogLogSlowerThan >= 0) this.slow.mark = performance.now();
      try {
        this.prefetchAhead(n);
      } catch (e) {
        // Only a cache hint: the records run without it.
        this.aheadGroup.fill(-1);
        this.logFailure('looking ahead at the next requests', e, 'the requests run without lookahead');
      }
      for (let j = 0; j < n; j++) {
        if (!this.runnable(u8, this.ahead[j], src.front)) break outer;
        const idx = reader.next();
        this.replied = false;
        try {
          this.execute(idx, j);
        } catch (e) {
          // Outside the command handler (record decoding, side port, the
          // rehash step, the reply write): answer the request with an error
          // so that every later reply still reaches the client that waits for it.
          this.logFailure('running a request', e, 'the request was answered with an error');
          if (!this.replied) this.replyInternalError();
        }
        reader.consume(idx);
        ran++;
        // Long batches: hand replies over as we go so the front can start writing.
        if ((ran & 63) === 0) {
          reader.release();
          this.publishBatchStats();
          src.replies.publish();
        }
        // This front just took the shard, or gave it back: the other rings' turn comes from run().
        if (ran >= SOURCE_TURN || (this.exclusive >= 0 && this.exclusive !== src.front)) break outer;
      }
      // A big value deleted meanwhile is freed a little at a time, between requests.
      if (!this.ks.lazy.empty) this.lazyFreeSlice(LAZYFREE_UNITS_IN_BATCH, 0);
    }
    reader.release();
    this.publishBatchStats();
    src.replies.publish();
    return ran;
  }

  /**
   * Hashes the first key of each of the next `n` records, then loads their
   * index groups, then their records. A lookup is two dependent cache misses
   * (group, then record), about half of a GET's time on the shard with 100k
   * keys; loading a whole batch's groups, then its records, lets those misses
   * overlap, and the commands then find their memory in cache.
   */
  private prefetchAhead(n: number): void {
    if (this.fault !== null) this.injectFault('lookahead');
    const u8 = this.src.requests.u8;
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
    const src = this.src;
    const ringU8 = src.requests.u8;
    let u8 = ringU8;
    let base = idx;
    const flags = u8[idx + REQ_FLAGS];
    if (flags & REQF_ORDERED) this.ticketsRun = (this.ticketsRun + 1) & ORDER_MASK;
    // A large record's arguments come over the side port: packed like a record
    // (a Uint8Array), or in the buffer the front parsed them into (ArgvParts).
    // Either way the stub in the ring carries the header.
    let parts: ArgvParts | null = null;
    if (flags & REQF_LARGE) {
      const m = receiveMessageOnPort(src.port);
      if (m === undefined) throw new Error('large request record without its payload');
      const message = m.message as Uint8Array | ArgvParts;
      if (message instanceof Uint8Array) {
        u8 = message;
        base = 0;
      } else {
        parts = message;
      }
    }
    const opcode = u8[base + REQ_OPCODE] | (u8[base + REQ_OPCODE + 1] << 8);
    this.db = u8[base + REQ_DB] | (u8[base + REQ_DB + 1] << 8);
    const argc = readU32(u8, base + REQ_ARGC);
    const args = this.args;
    args.ensure(argc);
    args.count = argc;
    // What the slow log weighs the request by: a request whose arguments crossed in the
    // parser's own buffer has a small record, so its arguments are counted instead.
    let requestBytes = readU32(u8, base);
    if (parts !== null) {
      args.u8 = parts.u8;
      args.off.set(parts.off.subarray(0, argc));
      args.len.set(parts.len.subarray(0, argc));
      requestBytes = requestRecordBytes(parts.len, argc);
    } else {
      args.u8 = u8;
      let p = base + REQ_ARGS;
      for (let i = 0; i < argc; i++) {
        const l = readU32(u8, p);
        args.off[i] = p + 4;
        args.len[i] = l;
        p += 4 + l;
      }
    }
    if (base === idx && this.aheadGroup[slot] >= 0) {
      this.ks.hint(ringU8, this.aheadKeyOffset[slot], this.aheadKeyLength[slot], this.aheadHash[slot]);
    }
    try {
      this.runCommand(opcode, flags, readU32(u8, base + REC_LEN), requestBytes);
    } finally {
      this.ks.clearHint();
      if (args.u8 !== ringU8) {
        // A large record's buffer (up to proto-max-bulk-len) is freed now: this
        // thread rarely runs its GC, so dropping the reference alone would keep
        // it resident. Nothing holds a view of it past the command (values are
        // copied into the arena), and detaching it releases its memory at once.
        const payload = args.u8.buffer as ArrayBuffer;
        args.u8 = ringU8;
        try {
          payload.transfer(0);
        } catch {
          // Not detachable (never the case for a transferred buffer): the GC frees it.
        }
      }
    }
  }

  /**
   * Runs one command for the front thread that runs this shard (embedded),
   * straight from the arguments it parsed: no record crosses the ring. The
   * caller made sure that nothing it sent earlier still waits in its ring
   * (so the command runs in its turn), that no other front thread feeds this
   * shard, and that the shard is not running something already.
   *
   * The reply goes where `reply` writes: its own buffer, or one the caller
   * lent it (reply.borrow: a client's output, written in place). Returns
   * true when it is there; false when it went into the front's reply ring as
   * a record instead (a ready-keys or slow-log trailer rides on it, or it is
   * too large for the ring): the caller drains the ring. `recordBytes` is
   * what its record would have occupied (the memory admission counts it as
   * if it had crossed).
   */
  runInline(opcode: number, db: number, flags: number, argv: Argv, recordBytes: number): boolean {
    this.beginInlineRun(db, flags);
    const kept = this.runInRun(opcode, argv, recordBytes);
    this.endInlineRun();
    return kept;
  }

  /**
   * Opens a run of commands run inline (runInRun), until endInlineRun: a front's batch of one
   * client's commands sets the shard up and publishes its figures once for the batch, instead
   * of once per command. Nothing else runs on the shard meanwhile (busy), and the figures the
   * front reads between its turns (used bytes, write bytes done, commands run) are published
   * at the end, before the front reads them again. `db` and `flags` are the run's commands'
   * (one client's, which none of them changes): the database, the reply's protocol and the keys'
   * access clocks are set once; each command's reply starts where the one before it ended.
   */
  beginInlineRun(db: number, flags: number): void {
    this.db = db;
    this.runFlags = flags;
    this.setRequestFlags(flags);
    this.src = this.ownerSource as Source;
    this.busy = true;
    this.inline = true;
    this.inlineReply = true;
  }

  /**
   * A command of an open inline run (see runInline for what the caller made sure of and what
   * the result says). When it returns false the caller ends the run before draining the ring.
   */
  runInRun(opcode: number, argv: Argv, recordBytes: number): boolean {
    this.inlineReply = false;
    this.replied = false;
    // The arguments are copied as offsets: storing the front's Argv here would cost a write
    // barrier's slow path per command (it is a young object). The buffer is the front's
    // parser's, the same for the commands of one read: stored only when it changes.
    const argc = argv.count;
    const args = this.args;
    args.ensure(argc);
    args.count = argc;
    if (args.u8 !== argv.u8) args.u8 = argv.u8;
    const off = args.off;
    const len = args.len;
    const fromOff = argv.off;
    const fromLen = argv.len;
    // The name (every command has one) and the first key straight, the rest in a loop: most
    // commands have two or three.
    off[0] = fromOff[0];
    len[0] = fromLen[0];
    if (argc > 1) {
      off[1] = fromOff[1];
      len[1] = fromLen[1];
      for (let i = 2; i < argc; i++) {
        off[i] = fromOff[i];
        len[i] = fromLen[i];
      }
    }
    // As a lookahead group's start does in drainSource: the mark that bounds the time of untimed
    // commands is taken at a turn's first command, and every 16 after it.
    if (this.config.slowlogLogSlowerThan >= 0 && (this.batchStart || (this.clockCountdown & 15) === 0)) {
      this.slow.mark = performance.now();
    }
    try {
      this.runHandler(opcode, this.runFlags, recordBytes, recordBytes);
    } catch (e) {
      this.logFailure('running a request', e, 'the request was answered with an error');
      if (!this.replied) this.replyInternalError();
    }
    // A big value deleted meanwhile is freed a little at a time, between requests.
    if (!this.ks.lazy.empty) this.lazyFreeSlice(LAZYFREE_UNITS_INLINE, 0);
    return this.inlineReply;
  }

  /** Ends an inline run: publishes the figures the front reads, and the reply ring if the last command's reply went there. */
  endInlineRun(): void {
    const src = this.src;
    this.inline = false;
    this.busy = false;
    this.args.u8 = src.requests.u8;
    // publishBatchStats for the one front whose count moved (that one walks every front's slot).
    const stats = this.statsF64;
    stats[STAT_USED_BYTES] = this.ks.alloc.used;
    stats[src.doneSlot] = src.writeBytesDone;
    stats[STAT_COMMANDS] = this.commandsRun;
    if (!this.inlineReply) src.replies.publish();
  }

  /** The front thread's event loop starts a new turn: the next command run inline samples the clocks. */
  newTurn(): void {
    this.batchStart = true;
  }

  /**
   * Runs the command in `args` (db set) and writes its reply: the part of a
   * request's execution that does not depend on where its arguments came from.
   */
  private runCommand(opcode: number, flags: number, recordBytes: number, requestBytes: number): void {
    this.setRequestFlags(flags);
    if (opcode === this.lockOpcode || opcode === this.unlockOpcode) this.runLock(opcode);
    else this.runHandler(opcode, flags, recordBytes, requestBytes);
  }

  /** What a request's flags set for its run: the reply's protocol, and whether its lookups touch the keys' access clocks. */
  private setRequestFlags(flags: number): void {
    this.reply.reset((flags & REQF_RESP3) !== 0);
    this.ks.noTouch = (flags & REQF_NO_TOUCH) !== 0;
  }

  /**
   * runCommand for a command that is not __lock or __unlock, the reply reset and the flags set:
   * an inline run's commands come here straight (the front sends those two through its ring).
   */
  private runHandler(opcode: number, flags: number, recordBytes: number, requestBytes: number): void {
    const ks = this.ks;
    // The command clock is sampled every 32 commands of a batch: within a
    // batch (well under a millisecond) expiry decisions share one clock.
    if ((++this.clockCountdown & 31) === 0 || this.batchStart) {
      this.batchStart = false;
      ks.tick(Date.now());
    }
    const index = ks.dbs[this.db];
    if (index !== undefined && index.isRehashing) index.rehashStep(1);
    if (this.denyoom[opcode] === 1 && !this.admit(flags, recordBytes)) {
      this.writeReply();
      return;
    }
    const slowUs = this.config.slowlogLogSlowerThan;
    const slowStart = this.slow.start(slowUs, opcode, requestBytes);
    const handler = this.handlers[opcode];
    if (handler === undefined) this.reply.error(`ERR unknown shard opcode ${opcode}`);
    else {
      try {
        handler(this);
      } catch (e) {
        this.handlerFailed(e, opcode, flags);
      }
    }
    if (slowStart >= 0) this.slow.finish(slowStart, slowUs, this.reply.size, this.args);
    this.commandsRun++;
    this.writeReply();
  }

  // runCommand's rare paths live in methods of their own: kept small, runCommand is inlined
  // into its callers (V8 inlines functions of at most 460 bytes of bytecode).

  /** __lock / __unlock: a coordinated command from a front thread holds this shard until its __unlock (only that front's ring is read meanwhile). */
  private runLock(opcode: number): void {
    this.exclusive = opcode === this.lockOpcode ? this.src.front : -1;
    this.reply.simple('OK');
    this.writeReply();
  }

  /**
   * Redis refuses a denyoom command before it runs when memory is short; a
   * part of a multi-shard write the front admitted may use the reserve.
   * Returns false, with the OOM error written, when it is refused.
   */
  private admit(flags: number, recordBytes: number): boolean {
    this.src.writeBytesDone += recordBytes;
    if ((flags & REQF_MAY_USE_RESERVE) !== 0) return true;
    const ks = this.ks;
    // Memory still waiting in the lazy-free queue is given back first.
    if (ks.alloc.used + recordBytes > this.admitLimit && !ks.lazy.empty) this.drainLazyFree();
    if (ks.alloc.used + recordBytes <= this.admitLimit) return true;
    this.reply.error(ERR_OOM);
    this.commandsRun++;
    return false;
  }

  /**
   * The handler threw. Out of memory while deleted values still wait to be
   * freed: free them all now and run the command again (it changed nothing:
   * writes are all or nothing), so that deleting keeps making room at once.
   * Otherwise, or if it throws again, the error is the command's reply: an
   * OOM left the keyspace as it was; anything else is an internal error, logged.
   */
  private handlerFailed(e: unknown, opcode: number, flags: number): void {
    const reply = this.reply;
    let failure = e;
    if (failure instanceof OutOfMemoryError && !this.ks.lazy.empty) {
      this.drainLazyFree();
      reply.reset((flags & REQF_RESP3) !== 0);
      try {
        (this.handlers[opcode] as ShardHandler)(this);
        return;
      } catch (again) {
        failure = again;
      }
    }
    reply.reset((flags & REQF_RESP3) !== 0);
    if (failure instanceof OutOfMemoryError) reply.error(ERR_OOM);
    else {
      reply.error(`ERR internal error in '${SHARD_COMMANDS[opcode]?.name}': ${(failure as Error).message}`);
      logWarning(`Shard ${this.shardId}: internal error in '${SHARD_COMMANDS[opcode]?.name}': ${(failure as Error).stack ?? String(failure)}`);
    }
  }

  private writeReply(): void {
    // The usual inline run: nothing rides on the reply, and it stays where it was written.
    if (this.slow.trailer === null && this.ks.readyKeys.length === 0 && !this.ks.blockedOutput && this.keptInline()) return;
    this.writeReplyRecord();
  }

  /**
   * For a command run inline whose reply has nothing riding on it: true when
   * the reply stays where it was written (the caller takes it from there),
   * which a reply too large for a ring record does only in a borrowed buffer.
   */
  private keptInline(): boolean {
    const reply = this.reply;
    if (!this.inline || (!reply.borrowed && REP_BODY + reply.size > this.src.replies.maxRecord)) return false;
    this.inlineReply = true;
    this.replied = true;
    return true;
  }

  /** writeReply() for a reply that goes into the ring (or rides with a trailer). */
  private writeReplyRecord(): void {
    const reply = this.reply;
    // A slow command's trailer ends the record (native-layout: REPF_SLOW).
    let trailer = this.slow.trailer;
    this.slow.trailer = null;
    let trailerFlags = trailer === null ? 0 : REPF_SLOW;
    if (this.ks.readyKeys.length > 0 || this.ks.blockedOutput) {
      // Keys that blocked clients wait on got values: they are served now, before
      // the next request, and what they got rides on this reply (native-layout: REPF_READY).
      const ready = blockedTrailer(this, this.src.front, this.postLarge, this.pushTrailer);
      if (ready !== null) {
        trailer = trailer === null ? ready : concatBytes(trailer, ready);
        trailerFlags |= REPF_READY;
      }
    }
    const extra = trailer === null ? 0 : trailer.length;
    const n = reply.size;
    const total = REP_BODY + n + extra;
    const w = this.src.replies;
    // Ready keys with no waiter served leave nothing riding on it after all.
    if (trailer === null && this.keptInline()) return;
    if (total > w.maxRecord) {
      // The reply's own buffer travels (a big bulk grew it to its exact size), not a copy of it.
      const payload = reply.take();
      this.src.port.postMessage(payload, [payload.buffer as ArrayBuffer]);
      const at = this.reserveReply(REP_BODY + extra);
      w.writeU32(at + REP_FLAGS, REPF_LARGE | trailerFlags);
      if (trailer !== null) w.u8.set(trailer, at + REP_BODY);
      w.commit(REP_BODY + extra);
      this.replied = true;
      return;
    }
    const at = this.reserveReply(total);
    w.writeU32(at + REP_FLAGS, trailerFlags);
    const body = at + REP_BODY;
    copyBytes(reply.buf, reply.start, w.u8, body, n);
    if (trailer !== null) w.u8.set(trailer, body + n);
    w.commit(total);
    this.replied = true;
  }

  /** Replies to the current record with an internal error (when its own reply could not be written). */
  private replyInternalError(): void {
    try {
      this.slow.trailer = null;
      // The protocol is kept: an error reads the same in both, and an inline run's next command uses it.
      this.reply.reset(this.reply.resp3);
      this.reply.error(`ERR internal error in shard ${this.shardId}, see the server log`);
      this.writeReply();
    } catch (e) {
      // Nothing more can be done for this record without desynchronising the
      // replies: let the thread die, the front shuts the server down.
      throw new Error(`shard ${this.shardId} could not answer a failed request`, { cause: e });
    }
  }

  private reserveReply(total: number, src: Source = this.src): number {
    const w = src.replies;
    for (;;) {
      const at = w.reserve(total);
      if (at >= 0) return at;
      // The front has not drained yet: show it what we have, then wait for room.
      src.requests.release();
      w.publish();
      // A shard run by the front thread itself cannot wait for that thread: it drains now.
      if (src.front === this.ownerFront && this.drainOwner !== null) this.drainOwner();
      else w.waitForSpace(2 * total + 8, 50);
    }
  }

  /** A served blocked client's large reply, over its own front's side port. */
  private readonly postLarge = (front: number, bytes: Uint8Array): void => {
    this.sources[front].port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  };

  /**
   * Blocked clients of another front thread were served (or must be served by
   * their front): their trailer goes to that front in a record of its own
   * (native-layout REPF_PUSH), published at once.
   */
  private readonly pushTrailer = (front: number, trailer: Uint8Array): void => {
    const src = this.sources[front];
    const total = REP_BODY + trailer.length;
    const at = this.reserveReply(total, src);
    const w = src.replies;
    w.writeU32(at + REP_FLAGS, REPF_PUSH | REPF_READY);
    w.u8.set(trailer, at + REP_BODY);
    w.commit(total);
    w.publish();
  };

  /**
   * Frees queued lazy-free work: up to `units`, and when `ms` > 0 for up to
   * that long (checked every 256 units). Never throws: a failure is logged
   * and the rest waits for the next slice.
   */
  private lazyFreeSlice(units: number, ms: number): void {
    const ks = this.ks;
    try {
      if (ms <= 0) {
        ks.lazyFreeStep(units);
        return;
      }
      const until = performance.now() + ms;
      let left = units;
      while (left > 0 && !ks.lazyFreeStep(Math.min(256, left)) && performance.now() < until) left -= 256;
    } catch (e) {
      this.logFailure('freeing deleted values', e, 'the shard keeps serving; the rest is freed later');
    }
  }

  /** Frees everything the lazy-free queue holds, now (a write needs the room). */
  private drainLazyFree(): void {
    this.lazyFreeSlice(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  /** Periodic work, like Redis's serverCron + databasesCron, for this shard only. */
  private cron(now: number): void {
    const ks = this.ks;
    ks.tick(now);
    if (!ks.lazy.empty) this.lazyFreeSlice(LAZYFREE_UNITS_IN_BATCH, 0);
    const t0 = performance.now();
    if (this.config.activeExpire !== false) {
      try {
        this.activeExpireCycle(t0);
      } catch (e) {
        this.logFailure('running the active expire cycle', e, 'expired keys are still removed when accessed');
      }
      try {
        this.hashFieldExpireCycle();
      } catch (e) {
        this.logFailure('expiring hash fields', e, 'expired fields are still removed when accessed');
      }
    }
    // Databases are visited CRON_DB_WINDOW at a time, round robin (all of them
    // every tick up to that many): with 65536 databases a full pass cost each
    // shard 2 ms per tick. One found rehashing is then stepped every tick until done.
    const dbs = ks.dbs.length;
    const window = Math.min(dbs, CRON_DB_WINDOW);
    const first = this.cronDbCursor;
    this.cronDbCursor = (first + window) % dbs;
    const rehashUntil = performance.now() + 1;
    try {
      if (this.fault !== null) this.injectFault('rehash');
      for (let k = 0; k < window; k++) {
        const db = (first + k) % dbs;
        const index = ks.dbs[db];
        // Neither allocates anything it cannot do without: a failure leaves the table as it was.
        index.retryGrowth();
        if (!index.isRehashing) index.maybeShrink();
        if (index.isRehashing) this.rehashingDbs.add(db);
      }
      for (const db of this.rehashingDbs) {
        const index = ks.dbs[db];
        if (index.isRehashing && this.config.activeRehashing) {
          while (performance.now() < rehashUntil && index.rehashStep(100)) { /* 1 ms of rehash per tick */ }
        }
        if (!index.isRehashing) this.rehashingDbs.delete(db);
      }
    } catch (e) {
      this.logFailure('rehashing', e, 'the shard keeps serving; the rehash is tried again next tick');
    }
    if (this.fault !== null) this.injectFault('cron');
    const s = this.statsF64;
    s[STAT_REHASHING] = this.rehashingDbs.size;
    if (this.ownerFront < 0) {
      // A shard run by a front thread has no CPU of its own: INFO counts it in that front's.
      const cpu = process.threadCpuUsage();
      s[STAT_CPU_USER_US] = cpu.user;
      s[STAT_CPU_SYS_US] = cpu.system;
    }
    s[STAT_HEAP_USED] = getHeapStatistics().used_heap_size;
    s[STAT_ARENA_CAPACITY] = ks.alloc.capacityBytes;
    ks.publishStats(first, window);
  }

  /**
   * Active expiry of hash fields: walks the index of each database that may
   * hold hashes with field TTLs (Keyspace.fieldTtlDbs), in slices, for at most
   * 1 ms and 2000 fields per tick; a full pass that meets no such hash clears
   * the database's flag, so databases without field TTLs cost nothing.
   */
  private hashFieldExpireCycle(): void {
    const ks = this.ks;
    const flags = ks.fieldTtlDbs;
    const until = performance.now() + 1;
    const out = { sawTtl: false, expired: 0 };
    for (let db = 0; db < flags.length; db++) {
      if (flags[db] === 0) continue;
      for (;;) {
        out.sawTtl = false;
        const next = sweepHashFields(ks, db, this.fieldCursor[db], 64, 2000, out);
        if (out.sawTtl) this.fieldPassSawTtl[db] = 1;
        this.fieldCursor[db] = next;
        if (next === 0) {
          // 2: a hash got field TTLs during the pass (maybe behind the cursor).
          flags[db] = this.fieldPassSawTtl[db] !== 0 || flags[db] === 2 ? 1 : 0;
          this.fieldPassSawTtl[db] = 0;
          break;
        }
        if (out.expired >= 2000 || performance.now() > until) return;
      }
      if (out.expired >= 2000 || performance.now() > until) return;
    }
  }

  /**
   * Active expiry: sweeps the groups that hold volatile keys, a slice per
   * database per tick, and keeps going while many of the keys it meets have
   * expired, within 25% of the tick (Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC).
   */
  private activeExpireCycle(t0: number): void {
    const ks = this.ks;
    // active-expire-effort scales the work as Redis's activeExpireCycle does:
    // effort 0..9 adds a quarter of the base slice per step, 2% of the tick
    // to the time budget, and lowers the share of expired keys met (10%) that
    // is worth another slice by one point.
    const effort = Math.min(9, Math.max(0, (this.config.activeExpireEffort ?? 1) - 1));
    const groupsPerSlice = EXPIRE_SLICE_GROUPS + (EXPIRE_SLICE_GROUPS / 4) * effort;
    const budgetMs = ((25 + 2 * effort) * 10) / this.config.hz;
    const acceptableStalePercent = 10 - effort;
    const dbs = ks.dbs.length;
    for (let n = 0; n < dbs; n++) {
      const db = this.expireDb;
      this.expireDb = (this.expireDb + 1) % dbs;
      if (ks.volatileKeys[db] === 0) continue;
      const index = ks.dbs[db];
      for (;;) {
        let checked = 0;
        let expired = 0;
        this.expireCursor[db] = index.sweepVolatile(this.expireCursor[db], groupsPerSlice, (handle) => {
          checked++;
          if (ks.expireIfDue(db, handle)) expired++;
        });
        if (this.expireCursor[db] === 0 || checked === 0) break;
        if (Math.floor((expired * 100) / checked) <= acceptableStalePercent) break;
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


function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
