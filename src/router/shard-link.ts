import { receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import {
  REP_BODY, REP_FLAGS, REPF_LARGE, REPF_PUSH, REPF_READY, REPF_SLOW, REQ_ARGC, REQ_ARGS, REQ_DB, REQ_FLAGS, REQ_OPCODE, REQF_LARGE,
  REQ_ORDER, REQF_AFTER, REQF_ORDERED, ORDER_TICKETS, ORDER_TICKET_MODULUS,
  READY_TRAILER_SIZE_FROM_END, SLOW_TRAILER_SIZE_FROM_END,
  MAX_SMALL_ALLOC, STAT_ARENA_CAPACITY, STAT_ARENA_COMMITTED, STAT_RESERVE_BYTES, STAT_USED_BYTES, STAT_WRITE_BYTES_DONE, requestRecordBytes,
} from '../../native-layout/layout.ts';
import { DENYOOM_OPCODES } from '../commands/registry.ts';
import { RingReader, RingWriter } from '../mailbox/ring.ts';
import type { Argv, ArgvParts } from '../protocol/argv.ts';
import type { EmbeddedShard } from '../shard/embedded.ts';


/**
 * Bytes a key/value pair may cost beyond twice its record bytes: the entry
 * header and TTL slot, its index slot and alignment (docs/architecture.md,
 * "Memory exhaustion").
 */
export const WRITE_KEY_ALLOWANCE = 64;

/**
 * A value at least this long is stored in a run of whole slabs (its entry
 * header and key come on top of it), not in a size class: see admitsWrite.
 */
export const LARGE_VALUE_BYTES = MAX_SMALL_ALLOC - 64;

/** Whoever waits for a shard's reply: a client (tag = reply sequence) or a merger (tag = part). */
export interface ReplyTarget {
  onShardReply(tag: number, u8: Uint8Array, off: number, len: number): void;
  /** A large reply, in a buffer the target may keep (it came over the side port); onShardReply when absent. */
  onShardReplyOwned?(tag: number, body: Uint8Array): void;
}

/** A client as a command run inline sees it: its reply may be written straight into its output. */
export interface InlineTarget extends ReplyTarget {
  /**
   * The output buffer the reply for `tag` may be written into, after its
   * first `outLen` bytes: it is the next reply to send and nothing would drop
   * or hold it. Null when it must be delivered (onShardReply).
   */
  inPlaceOutput(tag: number): Uint8Array | null;
  readonly outLen: number;
  /**
   * The replies up to `tag`'s were written in place: `out` (the buffer given, or a bigger one
   * that starts with the same bytes) now ends at `end`.
   */
  wroteInPlace(tag: number, out: Uint8Array, end: number): void;
  /** An error reply written in place in a batch (counted as onShardReply counts one). */
  countReplyError(u8: Uint8Array, off: number, len: number): void;
}

/** A front thread's rings to one shard, as they cross to that front (io-threads). */
export interface ShardLinkRings {
  requestRing: SharedArrayBuffer;
  replyRing: SharedArrayBuffer;
  /** The shard parks on this ring's signal (front 0's request ring): every front's publish rings it. */
  bell: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  arenaBytes: number;
  /** This front's STAT_WRITE_BYTES_DONE slot in `stats`. */
  doneSlot: number;
  /** Where the fronts' denyoom bytes sent are published (several fronts). */
  inFlight: InFlightSlots;
}

/**
 * With several front threads: the stats slot where this front publishes its
 * denyoom bytes sent, and each other front's (sent, done) slot pair.
 */
export interface InFlightSlots {
  sent: number;
  others: number[];
}

/**
 * The front thread's end of one shard: writes request records, reads reply
 * records, and remembers in FIFO order who waits for each reply (shards answer
 * in the order they were asked, so no id needs to travel).
 */
export class ShardLink {
  readonly id: number;
  /** The shard's thread (front 0 only: the other front threads do not own it). */
  readonly worker: Worker | null;
  readonly stats: Float64Array;
  private readonly requests: RingWriter;
  private readonly replies: RingReader;
  private readonly port: MessagePort;
  /** Who waits for each reply, in order: a circular queue whose size is a power of two. */
  private targets: (ReplyTarget | null)[] = new Array<ReplyTarget | null>(1024).fill(null);
  private tags = new Int32Array(1024);
  private qHead = 0;
  private qSize = 0;
  /** Scratch for a record being built. */
  private cur: Uint8Array;
  private pos = 0;
  private large: Uint8Array | null = null;
  /**
   * Called when handing a reply to its target threw (the record is consumed
   * first, so the replies after it still reach their own targets); null rethrows.
   */
  onDeliveryError: ((target: ReplyTarget | null, e: unknown) => void) | null = null;
  /** Called with a ready-keys trailer (`u8[start, end)`, native-layout REPF_READY) before its reply is handed over. */
  onReadyKeys: ((u8: Uint8Array, start: number, end: number, takePorted: () => Uint8Array) => void) | null = null;
  /** Called with a slow command's trailer (`u8[start, end)`, native-layout REPF_SLOW) before its reply is handed over. */
  onSlowReply: ((target: ReplyTarget | null, u8: Uint8Array, start: number, end: number) => void) | null = null;
  /** Size of the shard's arena (set by the pool; the shard also publishes it). */
  arenaBytes = 0;
  /**
   * Cumulative bytes of denyoom request records sent (REQ_ARGS + payload, the
   * whole record for a LARGE one), the front's side of STAT_WRITE_BYTES_DONE:
   * the difference is what the shard has yet to run.
   */
  denyoomBytesSent = 0;
  /** Where the shard publishes this front's STAT_WRITE_BYTES_DONE. */
  private readonly doneSlot: number;
  /** Several fronts: where this front publishes denyoomBytesSent (-1: one front), and the others' (sent, done) pairs. */
  private readonly sentSlot: number;
  private readonly otherFronts: Int32Array;
  /**
   * The order block (io-threads > 1), else null: then every record this front
   * writes carries an order field (native-layout REQ_ORDER).
   */
  private readonly order: Int32Array | null;
  /** The ticket of the next record written (set by the dispatcher for a multi-shard part), or -1. */
  ticket = -1;
  /** Commands this front ran on the shard inline (runInline), since the start or CONFIG RESETSTAT (INFO sabre). */
  inlineCommands = 0;
  /** Set when this front thread runs the shard itself (embedded-shards): it serves right after publishing. */
  embedded: EmbeddedShard | null = null;
  /** DENYOOM_OPCODES, read through a field: an imported binding costs a check per read on the hot path. */
  private readonly denyoom = DENYOOM_OPCODES;

  constructor(id: number, worker: Worker | null, requestRing: SharedArrayBuffer, replyRing: SharedArrayBuffer,
    port: MessagePort, stats: SharedArrayBuffer, bell?: SharedArrayBuffer, doneSlot = STAT_WRITE_BYTES_DONE,
    order: Int32Array | null = null, inFlight: InFlightSlots | null = null) {
    this.id = id;
    this.worker = worker;
    this.requests = new RingWriter(requestRing, bell);
    this.replies = new RingReader(replyRing);
    this.port = port;
    this.stats = new Float64Array(stats);
    this.cur = this.requests.u8;
    this.doneSlot = doneSlot;
    this.order = order;
    this.sentSlot = inFlight === null ? -1 : inFlight.sent;
    this.otherFronts = Int32Array.from(inFlight?.others ?? []);
  }

  /**
   * The flags and order field of the record being written: a multi-shard
   * part carries its ticket, any other record the tickets issued so far
   * (it must run after them). Nothing when this is the only front thread.
   */
  private orderHeader(u8: Uint8Array, at: number): void {
    const order = this.order;
    if (order === null) return;
    let v: number;
    if (this.ticket >= 0) {
      v = this.ticket;
      this.ticket = -1;
      u8[at + REQ_FLAGS] |= REQF_ORDERED;
    } else {
      v = Atomics.load(order, ORDER_TICKETS + 16 * this.id) & (ORDER_TICKET_MODULUS - 1);
      u8[at + REQ_FLAGS] |= REQF_AFTER;
    }
    u8[at + REQ_ORDER] = v;
    u8[at + REQ_ORDER + 1] = v >>> 8;
    u8[at + REQ_ORDER + 2] = v >>> 16;
  }

  get pending(): number {
    return this.qSize;
  }

  /** Bytes a record with these argument bytes occupies. */
  static recordBytes(payload: number): number {
    return REQ_ARGS + payload;
  }

  /** True when a record of `bytes` (or a large-record stub) fits right now. */
  canFit(bytes: number): boolean {
    const need = bytes > this.requests.maxRecord ? REQ_ARGS : bytes;
    return this.requests.hasRoom(2 * ((need + 7) & ~7) + 8);
  }

  /**
   * Starts a record; arguments follow with putArg(). The caller checked canFit().
   * `payload` is the sum over arguments of 4 + length.
   */
  begin(opcode: number, db: number, flags: number, argc: number, payload: number): void {
    const total = REQ_ARGS + payload;
    if (this.denyoom[opcode] === 1) {
      this.denyoomBytesSent += total;
      if (this.sentSlot >= 0) this.stats[this.sentSlot] = this.denyoomBytesSent;
    }
    let at: number;
    if (total > this.requests.maxRecord) {
      this.large = new Uint8Array(total);
      this.cur = this.large;
      at = 0;
      writeU32(this.cur, 0, total);
      flags |= REQF_LARGE;
    } else {
      at = this.requests.reserve(total);
      if (at < 0) throw new Error('request ring full: canFit() was not checked');
      this.cur = this.requests.u8;
    }
    writeHeader(this.cur, at, opcode, db, flags, argc);
    this.orderHeader(this.cur, at);
    this.pos = at + REQ_ARGS;
  }

  putArg(src: Uint8Array, off: number, len: number): void {
    const u8 = this.cur;
    let p = this.pos;
    writeU32(u8, p, len);
    p += 4;
    if (len < 48) {
      for (let i = 0; i < len; i++) u8[p + i] = src[off + i];
    } else {
      u8.set(src.subarray(off, off + len), p);
    }
    this.pos = p + len;
  }

  putArgv(argv: Argv, i: number): void {
    this.putArg(argv.u8, argv.off[i], argv.len[i]);
  }

  /** Finishes the record and remembers who waits for its reply. */
  end(target: ReplyTarget | null, tag: number): void {
    if (this.large !== null) {
      const payload = this.large;
      this.large = null;
      // The ring carries a stub with the same header; the worker takes the payload from the port.
      // The header is copied before the transfer detaches the payload's buffer.
      const at = this.requests.reserve(REQ_ARGS);
      if (at < 0) throw new Error('request ring full: canFit() was not checked');
      const u8 = this.requests.u8;
      for (let i = 4; i < REQ_ARGS; i++) u8[at + i] = payload[i];
      this.port.postMessage(payload, [payload.buffer as ArrayBuffer]);
      this.requests.commit(REQ_ARGS);
    } else {
      this.requests.commit(this.pos - this.requestStart());
    }
    this.cur = this.requests.u8;
    this.push(target, tag);
  }

  private requestStart(): number {
    // Records are contiguous: the start is the local tail's ring offset.
    return this.requests.tail & (this.requests.capacity - 1);
  }

  /** Sends a whole argv (or the listed argument indexes) as one record. */
  send(opcode: number, db: number, flags: number, argv: Argv, target: ReplyTarget | null, tag: number,
    pick?: ArrayLike<number>, pickCount?: number): void {
    const n = pick === undefined ? argv.count : (pickCount as number);
    let payload = 0;
    for (let k = 0; k < n; k++) payload += 4 + argv.len[pick === undefined ? k : pick[k]];
    this.begin(opcode, db, flags, n, payload);
    for (let k = 0; k < n; k++) this.putArgv(argv, pick === undefined ? k : pick[k]);
    this.end(target, tag);
  }

  /**
   * Sends the whole argv as one record if the ring has room now; false when
   * it does not (nothing is written). The single-shard fast path: the size is
   * computed once for the check and the write.
   */
  trySendAll(opcode: number, db: number, flags: number, argv: Argv, target: ReplyTarget | null, tag: number): boolean {
    const n = argv.count;
    let payload = 0;
    for (let k = 0; k < n; k++) payload += 4 + argv.len[k];
    if (!this.canFit(REQ_ARGS + payload)) return false;
    if (REQ_ARGS + payload > this.requests.maxRecord && argv.release !== null && this.sendReleased(opcode, db, flags, argv)) {
      this.push(target, tag);
      return true;
    }
    this.begin(opcode, db, flags, n, payload);
    for (let k = 0; k < n; k++) this.putArg(argv.u8, argv.off[k], argv.len[k]);
    this.end(target, tag);
    return true;
  }

  /**
   * A huge command sent in the very buffer it was parsed into: the buffer is
   * transferred to the shard with the arguments' places (ArgvParts), so a
   * 512 MB value crosses threads without a copy. False, with nothing written,
   * when the argv's owner keeps its buffer. The caller checked canFit().
   */
  private sendReleased(opcode: number, db: number, flags: number, argv: Argv): boolean {
    const release = argv.release;
    const u8 = release === null ? null : release();
    if (u8 === null) return false;
    const n = argv.count;
    const parts: ArgvParts = { u8, off: argv.off.slice(0, n), len: argv.len.slice(0, n) };
    try {
      this.port.postMessage(parts, [u8.buffer as ArrayBuffer]);
    } catch {
      // Not transferable after all: nothing was sent and u8 is intact, so the caller copies.
      return false;
    }
    const at = this.requests.reserve(REQ_ARGS);
    if (at < 0) throw new Error('request ring full: canFit() was not checked');
    writeHeader(this.requests.u8, at, opcode, db, flags | REQF_LARGE, n);
    this.orderHeader(this.requests.u8, at);
    this.requests.commit(REQ_ARGS);
    return true;
  }

  /**
   * The record bytes of a whole argv when this front may run it on the shard
   * at once (runInline), else -1: the shard is one this front thread runs
   * itself, no other front feeds it (their records could be ordered before
   * this one), nothing this front sent to it waits for its reply (the
   * command would pass them), nothing runs on it now, and the record is not
   * a large one (those cross by the side port).
   */
  inlineBytes(argv: Argv): number {
    return this.mayRunInline() ? this.inlineRecordBytes(argv) : -1;
  }

  /** The conditions of inlineBytes that do not depend on the command. */
  private mayRunInline(): boolean {
    const e = this.embedded;
    return e !== null && this.order === null && this.qSize === 0 && !this.draining && !e.runtime.busy;
  }

  /** The record bytes of argv when it is not a large record (those cross by the side port), else -1. */
  inlineRecordBytes(argv: Argv): number {
    const bytes = requestRecordBytes(argv.len, argv.count);
    return bytes > this.requests.maxRecord ? -1 : bytes;
  }

  /**
   * Runs a whole command on the shard this front runs itself, without a
   * record (inlineBytes said it may, `bytes` is what it returned), and hands
   * the reply to `target` before returning: written straight into its output
   * when it may be, else delivered. What a shard-side run would do besides
   * (blocked clients served, a slow-log entry) comes back as usual, on a
   * reply record drained at once.
   */
  runInline(opcode: number, db: number, flags: number, argv: Argv, target: InlineTarget, tag: number, bytes: number): void {
    const out = target.inPlaceOutput(tag);
    const reply = (this.embedded as EmbeddedShard).runtime.reply;
    if (out !== null) reply.borrow(out, target.outLen);
    const there = this.runOnShard(opcode, db, flags, argv, bytes);
    const start = reply.start;
    const end = reply.len;
    const buf = out !== null ? reply.giveBack() : reply.buf;
    if (!there) {
      this.takeRingReply(target, tag);
      return;
    }
    if (out !== null) countIfError(target, buf, start, end);
    this.handOver(target, tag, buf, end, out !== null);
  }

  /** Runs a whole command on the embedded shard (inlineBytes allowed it); true when its reply stayed where the shard's reply buffer wrote it. */
  private runOnShard(opcode: number, db: number, flags: number, argv: Argv, bytes: number): boolean {
    this.countInline(opcode, bytes);
    return (this.embedded as EmbeddedShard).runtime.runInline(opcode, db, flags, argv, bytes);
  }

  /** Counts a command run inline: INFO's figure, and the denyoom bytes the memory admission weighs against the shard's done count. */
  private countInline(opcode: number, bytes: number): void {
    this.inlineCommands++;
    if (this.denyoom[opcode] === 1) this.denyoomBytesSent += bytes;
  }

  /** A command run inline whose reply went into the ring (a trailer rides on it, or it is too large): delivered from there now. */
  private takeRingReply(target: InlineTarget, tag: number): void {
    this.push(target, tag);
    this.drain();
  }

  /** Hands replies read from the shard's reply buffer (or written in place into target's output) to target. */
  private handOver(target: InlineTarget, tag: number, buf: Uint8Array, end: number, inPlace: boolean): void {
    // The reply is read from the shard's buffer: nothing may run inline until it is handed over.
    this.draining = true;
    try {
      if (inPlace) target.wroteInPlace(tag, buf, end);
      else target.onShardReply(tag, buf, 0, end);
    } catch (e) {
      this.deliveryFailed(target, e ?? new Error('a reply target threw nothing'));
    } finally {
      this.draining = false;
    }
  }

  // -- a batch: one client's consecutive commands run inline into its output, borrowed once --

  /** Whether a batch may begin now: as inlineBytes for one command, and the shard's reply buffer is its own. */
  mayBatch(): boolean {
    return this.mayRunInline() && !(this.embedded as EmbeddedShard).runtime.reply.borrowed;
  }

  /**
   * Lends `out` (a client's output, its first `at` bytes staged) to the embedded shard's reply
   * buffer until endBatch, for the replies of runInBatch, whose commands all run in `db` with
   * `flags` (mayBatch said it may).
   */
  beginBatch(out: Uint8Array, at: number, db: number, flags: number): void {
    const runtime = (this.embedded as EmbeddedShard).runtime;
    runtime.reply.borrow(out, at);
    runtime.beginInlineRun(db, flags);
  }

  /**
   * Runs the batch's next command (inlineRecordBytes gave `bytes`); its reply follows the ones
   * before it in the lent buffer. A reply that could not stay there (it went into the ring) ends
   * the batch: the replies before it are handed to target, then it is delivered. Returns true
   * while the batch is open.
   */
  runInBatch(opcode: number, argv: Argv, target: InlineTarget, tag: number, bytes: number): boolean {
    const runtime = (this.embedded as EmbeddedShard).runtime;
    const reply = runtime.reply;
    this.countInline(opcode, bytes);
    if (runtime.runInRun(opcode, argv, bytes)) {
      countIfError(target, reply.buf, reply.start, reply.len);
      reply.start = reply.len;
      return true;
    }
    this.endBatch(target, tag - 1);
    this.takeRingReply(target, tag);
    return false;
  }

  /** Ends a batch: the replies written in it, up to and including `lastTag`'s (none when lastTag is below the first), go to target. */
  endBatch(target: InlineTarget, lastTag: number): void {
    const runtime = (this.embedded as EmbeddedShard).runtime;
    runtime.endInlineRun();
    const reply = runtime.reply;
    const end = reply.start;
    const buf = reply.giveBack();
    if (end > target.outLen) this.handOver(target, lastTag, buf, end, true);
  }

  /** Bytes needed to send argv (or a pick of it). */
  static sizeOf(argv: Argv, pick?: ArrayLike<number>, pickCount?: number): number {
    if (pick === undefined) return requestRecordBytes(argv.len, argv.count);
    const n = pickCount as number;
    let payload = REQ_ARGS;
    for (let k = 0; k < n; k++) payload += 4 + argv.len[pick[k]];
    return payload;
  }

  /**
   * Denyoom record bytes sent that the shard has not reported as run. Counts
   * everything sent while the shard does not publish STAT_WRITE_BYTES_DONE
   * (reads 0): an overestimate, never an underestimate. Read before
   * STAT_USED_BYTES: the shard stores used, then done, so a done value read
   * first is never newer than the used value read after it.
   */
  writeBytesInFlight(): number {
    const stats = this.stats;
    let d = this.denyoomBytesSent - stats[this.doneSlot];
    if (d < 0) d = 0;
    // The other front threads' records in flight to this shard count too. Their done is read
    // before their sent: a sent read later is never behind it.
    const o = this.otherFronts;
    for (let i = 0; i < o.length; i += 2) {
      const done = stats[o[i + 1]];
      const x = stats[o[i]] - done;
      if (x > 0) d += x;
    }
    return d;
  }

  /** The arena's size: what the shard publishes, else what the pool allocated. */
  capacity(): number {
    const c = this.stats[STAT_ARENA_CAPACITY];
    return c > 0 ? c : this.arenaBytes;
  }

  /** The shard's reserve as it publishes it; 0 while it does not (no reserve in force). */
  reserve(): number {
    return this.stats[STAT_RESERVE_BYTES];
  }

  /**
   * Whether this shard surely has room for a part of a multi-shard write:
   * `recordBytes` of request record holding `keys` key/value pairs. Each byte
   * of a record allocates at most two in the arena (size classes round up by
   * less than that), plus a per-key allowance; records sent but not run yet
   * are counted the same way. What the estimate misses, the shard's reserve
   * absorbs (an admitted part may use it).
   */
  admitsWrite(recordBytes: number, keys: number, largeBytes = 0): boolean {
    const inFlight = this.writeBytesInFlight();
    const used = this.stats[STAT_USED_BYTES];
    const capacity = this.capacity();
    if (used + 2 * inFlight + 2 * recordBytes + keys * WRITE_KEY_ALLOWANCE > capacity) return false;
    // A value past the small size classes needs a contiguous run of slabs,
    // which freed space below the allocator's high-water mark may not offer:
    // only the untouched arena above it surely does.
    return largeBytes === 0 || this.stats[STAT_ARENA_COMMITTED] + 2 * inFlight + 2 * largeBytes <= capacity;
  }

  /** Publishes the records written since the last publish (one store, one notify). */
  publish(): void {
    this.requests.publish();
  }

  private push(target: ReplyTarget | null, tag: number): void {
    if (this.qSize === this.targets.length) {
      const n = this.targets.length;
      const targets = new Array<ReplyTarget | null>(n * 2).fill(null);
      const tags = new Int32Array(n * 2);
      for (let i = 0; i < n; i++) {
        targets[i] = this.targets[(this.qHead + i) & (n - 1)];
        tags[i] = this.tags[(this.qHead + i) & (n - 1)];
      }
      this.targets = targets;
      this.tags = tags;
      this.qHead = 0;
    }
    const at = (this.qHead + this.qSize) & (this.targets.length - 1);
    this.targets[at] = target;
    this.tags[at] = tag;
    this.qSize++;
  }

  /** A served blocked client's reply that came over the side port (native-layout REPF_READY). */
  private readonly takePorted = (): Uint8Array => {
    const m = receiveMessageOnPort(this.port);
    if (m === undefined) throw new Error('blocked-client reply without its payload');
    return m.message as Uint8Array;
  };

  /** Handing a reply to `target` threw: onDeliveryError decides, or it is rethrown. */
  private deliveryFailed(target: ReplyTarget | null, failure: unknown): void {
    if (this.onDeliveryError === null) throw failure;
    this.onDeliveryError(target, failure);
  }

  /** Set while replies are handed over (a command run from there must not run inline: see inlineBytes). */
  private draining = false;

  /** Delivers every reply the shard has published; returns how many. */
  drain(): number {
    if (this.draining) return this.drainNested();
    this.draining = true;
    try {
      return this.drainNested();
    } finally {
      this.draining = false;
    }
  }

  private drainNested(): number {
    const r = this.replies;
    let n = 0;
    while (r.refresh()) {
      for (let idx = r.next(); idx >= 0; idx = r.next()) {
        const len = r.readU32(idx);
        const flags = r.readU32(idx + REP_FLAGS);
        if (flags & REPF_PUSH) {
          // Blocked clients of this front served by another front's write: no request waits for it.
          const end = idx + len;
          const trailer = end - r.readU32(end - READY_TRAILER_SIZE_FROM_END);
          let failure: unknown = undefined;
          try {
            this.onReadyKeys?.(r.u8, trailer, end, this.takePorted);
          } catch (e) {
            failure = e ?? new Error('a ready-keys handler threw nothing');
          }
          r.consume(idx);
          if (failure !== undefined) this.deliveryFailed(null, failure);
          continue;
        }
        const target = this.targets[this.qHead];
        const tag = this.tags[this.qHead];
        this.targets[this.qHead] = null;
        this.qHead = (this.qHead + 1) & (this.targets.length - 1);
        this.qSize--;
        let failure: unknown = undefined;
        try {
          let end = idx + len;
          if (flags & REPF_READY) {
            const trailer = end - r.readU32(end - READY_TRAILER_SIZE_FROM_END);
            this.onReadyKeys?.(r.u8, trailer, end, this.takePorted);
            end = trailer;
          }
          if (flags & REPF_SLOW) {
            const trailer = end - r.readU32(end - SLOW_TRAILER_SIZE_FROM_END);
            this.onSlowReply?.(target, r.u8, trailer, end);
            end = trailer;
          }
          if (flags & REPF_LARGE) {
            const m = receiveMessageOnPort(this.port);
            if (m === undefined) throw new Error('large reply record without its payload');
            const body = m.message as Uint8Array;
            if (target?.onShardReplyOwned !== undefined) target.onShardReplyOwned(tag, body);
            else if (target !== null) target.onShardReply(tag, body, 0, body.length);
          } else if (target !== null) {
            target.onShardReply(tag, r.u8, idx + REP_BODY, end - idx - REP_BODY);
          }
        } catch (e) {
          failure = e ?? new Error('a reply target threw nothing');
        }
        // Consumed whatever happened: leaving it would hand it to the next target.
        r.consume(idx);
        n++;
        if (failure !== undefined) this.deliveryFailed(target, failure);
      }
      r.release();
    }
    return n;
  }

  /** Signal value to sample before draining. */
  signal(): number {
    return this.replies.signal();
  }

  /** Resolves when the shard publishes after `seen`; null when it already has. */
  park(seen: number): Promise<unknown> | null {
    return this.replies.parkAsync(seen);
  }

  unpark(): void {
    this.replies.unpark();
  }
}

/** A request record's header after its length: opcode, db, flags, argc. */
function writeHeader(u8: Uint8Array, at: number, opcode: number, db: number, flags: number, argc: number): void {
  u8[at + REQ_OPCODE] = opcode & 0xff;
  u8[at + REQ_OPCODE + 1] = opcode >>> 8;
  u8[at + REQ_DB] = db & 0xff;
  u8[at + REQ_DB + 1] = db >>> 8;
  u8[at + REQ_FLAGS] = flags;
  writeU32(u8, at + REQ_ARGC, argc);
}

function writeU32(u8: Uint8Array, p: number, v: number): void {
  u8[p] = v;
  u8[p + 1] = v >>> 8;
  u8[p + 2] = v >>> 16;
  u8[p + 3] = v >>> 24;
}

/** Counts the reply in buf[start, end), written in place for target, in errorstats when it is an error. */
function countIfError(target: InlineTarget, buf: Uint8Array, start: number, end: number): void {
  if (end > start && buf[start] === 45) target.countReplyError(buf, start, end - start);
}
