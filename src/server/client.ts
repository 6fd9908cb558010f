import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { RequestParser, type ParserLimits } from '../protocol/request-parser.ts';
import type { ReplySink } from '../router/merge.ts';
import type { InlineTarget } from '../router/shard-link.ts';
import type { Argv } from '../protocol/argv.ts';
import { OUTPUT_CLASS_NORMAL, OUTPUT_CLASS_PUBSUB, type OutputBufferLimit } from './config.ts';
import { logWarning } from './log.ts';

export const REPLY_ON = 0;
export const REPLY_OFF = 1;
export const REPLY_SKIP = 2;

// Why a client's next command cannot run yet (Client.blocked). Its commands run
// strictly one after another in its order; while one of these holds, nothing
// after it runs and the socket is not read beyond a small read-ahead.
/** Nothing: the next command runs as soon as it is parsed. */
export const BLOCK_NONE = 0;
/** `pending` could not start: a shard it needs is held, or a ring has no room. */
export const BLOCK_COMMAND = 1;
/** A command ran on the front, but its fan-out (`pendingSend`) waits for room in the rings. */
export const BLOCK_SEND = 2;
/** A command completes asynchronously (coordinated, SCAN): the next waits for its reply (`awaitSeq`). */
export const BLOCK_REPLY = 3;

/**
 * Error replies produced by shards, counted as they reach their client (the
 * front's own errors are counted by Server.replyError): INFO's
 * total_error_replies and errorstats add both.
 */
export const replyErrorStats = { count: 0, codes: new Map<string, number>() };

/** Counts an error reply that came from a shard (also for the blocking pops, which deliver shard replies themselves). */
export function countShardError(u8: Uint8Array, off: number, len: number): void {
  let end = off + 1;
  const stop = off + Math.min(len, 128);
  while (end < stop && u8[end] !== 32 && u8[end] !== 13) end++;
  const code = Buffer.from(u8.buffer, u8.byteOffset + off + 1, end - off - 1).toString('latin1');
  replyErrorStats.count++;
  replyErrorStats.codes.set(code, (replyErrorStats.codes.get(code) ?? 0) + 1);
}

/**
 * client-output-buffer-limit as numbers, one per class (OUTPUT_CLASS_*), shared
 * by every client of a server and updated in place by CONFIG SET.
 */
export class OutputLimits {
  hard = [0, 0, 0];
  soft = [0, 0, 0];
  softSeconds = [0, 0, 0];
  /** Per class: whether any limit is set (a client of an unlimited class skips the check). */
  limited = [false, false, false];
  /** The client as Redis's log line shows it (CLIENT LIST's line; set by the server). */
  describe: (c: Client) => string = (c) => `id=${c.id} addr=${c.addr}`;

  constructor(limits?: readonly OutputBufferLimit[]) {
    if (limits !== undefined) this.set(limits);
  }

  set(limits: readonly OutputBufferLimit[]): void {
    limits.forEach((l, cls) => {
      this.hard[cls] = Number(l.hardBytes);
      this.soft[cls] = Number(l.softBytes);
      this.softSeconds[cls] = l.softSeconds;
      this.limited[cls] = l.hardBytes !== 0n || l.softBytes !== 0n;
    });
  }
}

/**
 * Output staged in the client's own buffer that the limits do not count, like
 * Redis's fixed 16 KiB reply buffer (c->buf): only what overflows it (its reply
 * list) counts towards client-output-buffer-limit and CLIENT LIST's omem.
 */
const UNCOUNTED_STAGED_BYTES = 16 * 1024;
/** Most output an unauthenticated client may have pending (Redis's fix for CVE-2025-21605). */
const UNAUTHENTICATED_OUTPUT_LIMIT = 1024;
/** A reply at least this big that arrives in a buffer of its own is written from it, not copied. */
const OWNED_REPLY_MIN = 64 * 1024;

/** The largest output buffer a client keeps for its next replies once it is written. */
const OUT_KEPT_MAX = 128 * 1024;

/** How long (event-loop turns) and how much (bytes) output may wait for the rest of its pipeline. */
const MAX_HELD_TURNS = 4;
const MAX_HELD_BYTES = 64 * 1024;

/**
 * One connection's state on the front thread, and the place where replies are
 * put back in request order: every command takes a sequence number; a reply
 * for the next number to send goes straight into the output buffer, a reply
 * that arrives early (another shard was faster) is parked until its turn.
 */
export class Client implements ReplySink, InlineTarget {
  readonly id: number;
  readonly socket: Socket;
  readonly parser: RequestParser;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  readonly addr: string;
  readonly laddr: string;
  db = 0;
  resp = 2;
  name = '';
  libName = '';
  libVer = '';
  user = 'default';
  authenticated: boolean;
  noEvict = false;
  noTouch = false;
  replyMode = REPLY_ON;
  lastCommand = 'NULL';
  closed = false;
  /** BLOCK_*: what the client's next command waits for (see Server.resume). */
  blocked = BLOCK_NONE;
  /** BLOCK_COMMAND: the command that could not start, copied out of the read buffer. */
  pending: Argv | null = null;
  /** BLOCK_SEND: sends the rest of a command already run; false while the rings have no room. */
  pendingSend: (() => boolean) | null = null;
  /** Waiting on keys (BLPOP...: server/blocking.ts); CLIENT LIST flag b. */
  blockedOnKeys = false;
  /** BLOCK_REPLY: the sequence number whose reply ends the wait (-1: none). */
  awaitSeq = -1;
  /** Called once the awaited reply is delivered (set by the server). */
  onAwaitDone: ((c: Client) => void) | null = null;
  /** On the server's list of blocked clients to retry. */
  waiting = false;
  /** Reading paused because of backpressure (rings or our own output). */
  readPaused = false;
  /** Close the connection once the reply with this sequence number is written. */
  closeAfterSeq = -1;
  /** Set by CLIENT KILL and friends: close at the next flush. */
  killed = false;
  /**
   * Unparsed bytes when the current batch of reads started to be processed: Redis's
   * qbuf while one of them runs (its query buffer is trimmed only after the batch).
   */
  batchQueryBytes = 0;

  nextSeq = 0;
  private sendSeq = 0;
  private suppressed: Set<number> | null = null;
  /** Replies staged for the next socket write: bytes [0, outLen). A plain Uint8Array, as the shard's reply buffer is, since replies are written into it in place. */
  out: Uint8Array | null = null;
  outLen = 0;
  dirty = false;
  /** Total bytes of replies written, for INFO/CLIENT LIST tot-net-out. */
  netOut = 0;
  netIn = 0;
  private readonly markDirty: (c: Client) => void;

  /** client-output-buffer-limit (the server shares its own; none until it does). */
  outputLimits = NO_OUTPUT_LIMITS;
  /**
   * Channels and patterns subscribed to. Pub/sub does not exist yet; once it
   * does, a client with subscriptions is in the pubsub output class.
   */
  subscriptions = 0;
  /** Closed for overcoming its output buffer limits: replies are dropped, the socket goes at the next flush. */
  closeAsap = false;
  /** Unix second the soft limit was first seen exceeded, 0 when it is not (Redis's obuf_soft_limit_reached_time). */
  private softLimitSince = 0;
  /**
   * Output ready to go before `out`, in order: staged buffers that were sealed
   * and big replies written from their own buffers (no copy).
   */
  private queue: Uint8Array[] | null = null;
  private queuedBytes = 0;
  /** The queued replies whose buffers are theirs alone: freed as soon as the socket is done with them. */
  private queuedOwned: Set<Uint8Array> | null = null;
  /** Writes handed to the socket and not completed yet (CLIENT LIST oll). */
  private writesInFlight = 0;
  private readonly onWritten = (): void => {
    this.writesInFlight--;
  };
  /** The socket's libuv handle and its descriptor when output may be written to it directly (see writeDirect); fd -1 when not. */
  private readonly handle: object | null;
  private readonly fd: number;

  constructor(id: number, socket: Socket, limits: ParserLimits, authenticated: boolean, markDirty: (c: Client) => void) {
    this.id = id;
    this.socket = socket;
    this.parser = new RequestParser(limits);
    this.parser.authenticated = authenticated;
    this.authenticated = authenticated;
    this.markDirty = markDirty;
    this.addr = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.laddr = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
    this.handle = handleOf(socket);
    this.fd = directWriteFd(socket, this.handle);
  }

  /** Takes the next reply sequence number, honouring CLIENT REPLY OFF/SKIP. */
  takeSeq(): number {
    const seq = this.nextSeq++;
    if (this.replyMode !== REPLY_ON) {
      (this.suppressed ??= new Set()).add(seq);
      if (this.replyMode === REPLY_SKIP) this.replyMode = REPLY_ON;
    }
    return seq;
  }

  /** Lets the reply for `seq` through although it was taken while replies were off (CLIENT REPLY ON, RESET). */
  unsuppress(seq: number): void {
    this.suppressed?.delete(seq);
  }

  /** True once a reply for `seq` was delivered (written, or parked waiting for its turn). */
  hasReplied(seq: number): boolean {
    if (seq < this.sendSeq) return true;
    if (this.parkedOwned?.has(seq) === true) return true;
    const slots = this.parkSeq.length;
    return slots > 0 && this.parkSeq[seq % slots] === seq;
  }

  get pendingReplies(): number {
    return this.nextSeq - this.sendSeq;
  }

  inPlaceOutput(seq: number): Uint8Array | null {
    // The next reply to send and the last number taken (so nothing is parked after it).
    if (seq !== this.sendSeq || seq !== this.nextSeq - 1 || !this.repliesInPlace()) return null;
    return this.out ?? this.grow(0);
  }

  /** An open client whose replies are on: nothing to park, drop or close on. */
  private repliesInPlace(): boolean {
    return !this.closed && !this.closeAsap && this.closeAfterSeq < 0 && (this.suppressed === null || this.suppressed.size === 0);
  }

  /**
   * The output buffer for a batch of inline commands' replies, written in place from the next
   * number on (ShardLink.beginBatch), or null when they may not be: as inPlaceOutput, and with
   * replies on (the batch takes numbers without takeSeq) and no output limit that a reply could
   * reach (the limits are checked once, when the batch ends).
   */
  batchOutput(): Uint8Array | null {
    if (this.sendSeq !== this.nextSeq || this.replyMode !== REPLY_ON || this.killed || !this.repliesInPlace() || !this.authenticated
      || this.outputLimits.limited[this.outputClass()]) return null;
    return this.out ?? this.grow(0);
  }

  countReplyError(u8: Uint8Array, off: number, len: number): void {
    countShardError(u8, off, len);
  }

  wroteInPlace(seq: number, out: Uint8Array, end: number): void {
    this.out = out;
    this.outLen = end;
    this.sendSeq = seq + 1;
    this.flagDirty();
    this.checkOutputLimitsOnGrowth();
  }

  onShardReply(seq: number, u8: Uint8Array, off: number, len: number): void {
    if (len > 0 && u8[off] === 45) countShardError(u8, off, len);
    this.deliver(seq, u8, off, len);
  }

  /** A reply in a buffer of its own (a large record's body): a big one reaches the socket uncopied. */
  onShardReplyOwned(seq: number, body: Uint8Array): void {
    if (body.length > 0 && body[0] === 45) countShardError(body, 0, body.length);
    this.deliver(seq, body, 0, body.length, true);
  }

  /** `owned`: u8 is this reply's own buffer, which the client may keep and hand to the socket. */
  deliver(seq: number, u8: Uint8Array, off: number, len: number, owned = false): void {
    if (seq === this.awaitSeq) this.awaitDone();
    if (seq !== this.sendSeq) {
      this.park(seq, u8, off, len, owned);
      return;
    }
    this.emit(seq, u8, off, len, owned);
    if (this.parkedCount > 0) this.emitParked();
  }

  private awaitDone(): void {
    this.awaitSeq = -1;
    if (this.blocked === BLOCK_REPLY) this.blocked = BLOCK_NONE;
    this.onAwaitDone?.(this);
  }

  // Early replies wait in one staging buffer, indexed by sequence number in a
  // small circular table: no allocation per parked reply (with 4 shards at
  // -P 16 most replies of a pipeline arrive ahead of their turn).
  private parkBuf: Uint8Array = new Uint8Array(0);
  private parkUsed = 0;
  /** Bytes of the replies still parked (parkUsed minus what was already sent). */
  private parkLive = 0;
  private parkedCount = 0;
  private parkSeq = new Float64Array(0);
  private parkOff = new Int32Array(0);
  private parkLen = new Int32Array(0);
  /** Big early replies, kept in their own buffers rather than copied into parkBuf. */
  private parkedOwned: Map<number, Uint8Array> | null = null;
  private parkedOwnedBytes = 0;

  private park(seq: number, u8: Uint8Array, off: number, len: number, owned = false): void {
    if (owned && len >= OWNED_REPLY_MIN) {
      (this.parkedOwned ??= new Map()).set(seq, u8.subarray(off, off + len));
      this.parkedOwnedBytes += len;
      this.parkedCount++;
      this.checkOutputLimitsOnGrowth();
      return;
    }
    let slots = this.parkSeq.length;
    if (seq - this.sendSeq >= slots) this.growParkTable(seq - this.sendSeq + 1);
    slots = this.parkSeq.length;
    if (this.parkUsed + len > this.parkBuf.length) {
      let size = Math.max(4096, this.parkBuf.length * 2);
      while (size < this.parkUsed + len) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.parkBuf.subarray(0, this.parkUsed));
      this.parkBuf = next;
    }
    const i = seq % slots;
    this.parkSeq[i] = seq;
    this.parkOff[i] = this.parkUsed;
    this.parkLen[i] = len;
    const b = this.parkBuf;
    let p = this.parkUsed;
    if (len < 64) for (let k = 0; k < len; k++) b[p++] = u8[off + k];
    else { b.set(u8.subarray(off, off + len), p); p += len; }
    this.parkUsed = p;
    this.parkLive += len;
    this.parkedCount++;
    this.checkOutputLimitsOnGrowth();
  }

  private growParkTable(need: number): void {
    let size = Math.max(64, this.parkSeq.length * 2);
    while (size < need) size *= 2;
    const seqs = new Float64Array(size).fill(-1);
    const offs = new Int32Array(size);
    const lens = new Int32Array(size);
    const old = this.parkSeq.length;
    for (let i = 0; i < old; i++) {
      const q = this.parkSeq[i];
      if (q < 0) continue;
      const j = q % size;
      seqs[j] = q;
      offs[j] = this.parkOff[i];
      lens[j] = this.parkLen[i];
    }
    this.parkSeq = seqs;
    this.parkOff = offs;
    this.parkLen = lens;
  }

  private emitParked(): void {
    const slots = this.parkSeq.length;
    for (;;) {
      const owned = this.parkedOwned?.get(this.sendSeq);
      if (owned !== undefined) {
        this.parkedOwned?.delete(this.sendSeq);
        this.parkedOwnedBytes -= owned.length;
        this.parkedCount--;
        this.emit(this.sendSeq, owned, 0, owned.length, true);
        continue;
      }
      if (slots === 0) break;
      const i = this.sendSeq % slots;
      if (this.parkSeq[i] !== this.sendSeq) break;
      this.parkSeq[i] = -1;
      this.parkedCount--;
      this.parkLive -= this.parkLen[i];
      this.emit(this.sendSeq, this.parkBuf, this.parkOff[i], this.parkLen[i]);
    }
    if (this.parkedCount === 0) {
      this.parkUsed = 0;
      this.parkLive = 0;
      // A burst of huge early replies should not pin memory.
      if (this.parkBuf.length > 1 << 20) this.parkBuf = new Uint8Array(0);
    } else if (this.parkUsed > 256 * 1024 && this.parkUsed > 2 * this.parkLive) {
      // Only once at least half the bytes are dead: compacting costs the live
      // bytes, so doing it on every delivery would be quadratic in a long
      // pipeline where one shard lags and many replies stay parked.
      this.compactParked();
    }
  }

  /** Keeps only live parked bytes when replies never stop arriving early. */
  private compactParked(): void {
    const next = new Uint8Array(Math.max(4096, this.parkBuf.length));
    let p = 0;
    for (let i = 0; i < this.parkSeq.length; i++) {
      if (this.parkSeq[i] < 0) continue;
      const o = this.parkOff[i];
      const n = this.parkLen[i];
      next.set(this.parkBuf.subarray(o, o + n), p);
      this.parkOff[i] = p;
      p += n;
    }
    this.parkBuf = next;
    this.parkUsed = p;
  }

  /** Front-thread replies: take a sequence number and deliver at once. */
  replyBytes(b: Uint8Array): void {
    this.deliver(this.takeSeq(), b, 0, b.length);
  }

  private emit(seq: number, u8: Uint8Array, off: number, len: number, owned = false): void {
    this.sendSeq = seq + 1;
    if (this.suppressed !== null && this.suppressed.delete(seq)) {
      if (seq === this.closeAfterSeq) this.requestClose();
      return;
    }
    if (!this.closed && !this.closeAsap && len > 0) {
      if (owned && len >= OWNED_REPLY_MIN) {
        this.enqueue(u8.subarray(off, off + len));
      } else {
        let out = this.out;
        if (out === null || this.outLen + len > out.length) out = this.grow(len);
        if (len < 64) {
          let p = this.outLen;
          for (let i = 0; i < len; i++) out[p++] = u8[off + i];
        } else {
          out.set(u8.subarray(off, off + len), this.outLen);
        }
        this.outLen += len;
      }
      this.flagDirty();
      this.checkOutputLimitsOnGrowth();
    }
    if (seq === this.closeAfterSeq) this.requestClose();
  }

  /** Queues a reply's own buffer after what is staged, keeping reply order. */
  private enqueue(chunk: Uint8Array): void {
    const q = (this.queue ??= []);
    if (this.out !== null && this.outLen > 0) {
      q.push(this.out.subarray(0, this.outLen));
      this.queuedBytes += this.outLen;
      this.out = null;
      this.outLen = 0;
    }
    q.push(chunk);
    this.queuedBytes += chunk.length;
    if (chunk.byteOffset === 0) (this.queuedOwned ??= new Set()).add(chunk);
  }

  private grow(len: number): Uint8Array {
    const need = this.outLen + len;
    let size = this.out === null ? 2048 : this.out.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    if (this.out !== null && this.outLen > 0) next.set(this.out.subarray(0, this.outLen));
    this.out = next;
    return next;
  }

  private requestClose(): void {
    this.killed = true;
    this.flagDirty();
  }

  /** Puts this client on the reply pump's list of clients to write, once until it is written. */
  private flagDirty(): void {
    if (!this.dirty) {
      this.dirty = true;
      this.markDirty(this);
    }
  }

  /** Turns this client's output has waited for the rest of its pipeline. */
  private heldTurns = 0;

  /**
   * True when the output should wait for the replies still in flight: a
   * pipeline spread over several shards gets its replies in several turns,
   * and writing each part as it comes costs a write syscall (and a wake-up of
   * the client) per shard. The wait is bounded, in turns and in bytes, so a
   * slow shard or a long pipeline still gets its output moving.
   */
  holdOutput(): boolean {
    if (this.nextSeq !== this.sendSeq && this.heldTurns < MAX_HELD_TURNS && this.outLen + this.queuedBytes < MAX_HELD_BYTES
      && !this.killed && !this.closed) {
      this.heldTurns++;
      return true;
    }
    this.heldTurns = 0;
    return false;
  }

  /** Writes buffered output to the socket; returns false when the socket is backed up. */
  flush(): boolean {
    this.dirty = false;
    if (this.closeAsap) {
      // Redis frees such a client without writing what it still has.
      this.dropOutput();
      if (!this.closed) this.socket.destroy();
      return false;
    }
    let ok = true;
    const queue = this.queue;
    if (queue !== null && !this.closed) {
      const owned = this.queuedOwned;
      this.queue = null;
      this.queuedBytes = 0;
      this.queuedOwned = null;
      // One writev for the queue and what follows it.
      this.socket.cork();
      for (const chunk of queue) ok = this.write(chunk, chunk.length, owned !== null && owned.has(chunk));
    }
    if (this.out !== null && this.outLen > 0 && !this.closed) {
      const out = this.out;
      const len = this.outLen;
      // The socket keeps a reference to what it could not write at once: the next replies go to a new buffer...
      this.out = null;
      this.outLen = 0;
      ok = this.write(out, len);
      // ...unless it all went through to the kernel at once (nothing is left in the socket), the
      // usual case: then the buffer is free again, if it is not one a big reply grew (a client
      // keeps at most OUT_KEPT_MAX bytes between writes).
      if (queue === null && this.socket.writableLength === 0 && !this.closed && out.length <= OUT_KEPT_MAX) this.out = out;
    }
    if (queue !== null && !this.closed) this.socket.uncork();
    // Like Redis's close(): once the last reply is written the socket is gone, so a
    // peer that keeps sending (protocol desync) gets a reset instead of being read forever.
    if (this.killed && !this.closed && !this.socket.writableEnded) this.socket.destroySoon();
    return ok;
  }

  /**
   * Writes `buf[0, len)`: straight to the descriptor when it can, the rest through the socket.
   * `free`: the buffer is its chunk's alone, released once written (a big reply must not wait
   * for a GC).
   */
  private write(buf: Uint8Array, len: number, free = false): boolean {
    this.netOut += len;
    const done = this.writeDirect(buf, len);
    if (done === len) {
      if (free) detach(buf.buffer as ArrayBuffer);
      return true;
    }
    const chunk = Buffer.from(buf.buffer, buf.byteOffset + done, len - done);
    this.writesInFlight++;
    if (!free) return this.socket.write(chunk, this.onWritten);
    return this.socket.write(chunk, () => {
      this.writesInFlight--;
      detach(chunk.buffer as ArrayBuffer);
    });
  }

  /**
   * Bytes of `buf[0, len)` the kernel took from one write(2) on the socket's descriptor; 0 when
   * the socket still holds earlier output (they would pass it), when it is not a plain socket,
   * or when the write failed. A socket.write costs about 3,900 instructions per write in Node's
   * stream and handle layers before the system call, this about 1,900 (docs/architecture.md,
   * "Socket writes"). What the kernel did not take (its buffer is full: EAGAIN) goes through
   * socket.write, which waits for room; an error (the peer reset) is met again there and
   * reported as usual.
   *
   * Only while the socket still has the handle it had at the start: a destroyed socket drops it
   * at once, and its descriptor, closed then, may already be another connection's.
   */
  private writeDirect(buf: Uint8Array, len: number): number {
    const socket = this.socket;
    if (this.fd < 0 || handleOf(socket) !== this.handle || !socket.writable || socket.writableLength !== 0) return 0;
    try {
      return writeSync(this.fd, buf, 0, len);
    } catch {
      return 0;
    }
  }

  private dropOutput(): void {
    this.out = null;
    this.outLen = 0;
    this.queue = null;
    this.queuedBytes = 0;
    this.queuedOwned = null;
  }

  /** Bytes of output waiting: staged, queued, parked early, and still in the socket. */
  get pendingOutputBytes(): number {
    return this.outLen + this.queuedBytes + this.parkLive + this.parkedOwnedBytes + (this.socket.writableLength ?? 0);
  }

  /**
   * The output that client-output-buffer-limit counts (CLIENT LIST omem, INFO
   * client_recent_max_output_buffer): the pending output but the first 16 KiB
   * staged, which play the part of Redis's fixed reply buffer.
   */
  get outputBytes(): number {
    return this.pendingOutputBytes - Math.min(this.outLen, UNCOUNTED_STAGED_BYTES);
  }

  /** Output in order and waiting for the socket (staged past the fixed 16 KiB, queued, and in the socket). */
  private get unsentBytes(): number {
    return Math.max(0, this.outLen - UNCOUNTED_STAGED_BYTES) + this.queuedBytes + (this.socket.writableLength ?? 0);
  }

  /** Output chunks pending (CLIENT LIST oll): queued, parked early, and writes the socket has not completed. */
  get outputChunks(): number {
    return (this.queue?.length ?? 0) + this.parkedCount + (this.socket.writableLength > 0 ? this.writesInFlight : 0);
  }

  /**
   * The output class whose limits apply, as Redis's getClientType() picks it:
   * a subscribed client is pubsub, every other client normal (Sabre has no
   * replicas; a master link would count as normal; MONITOR clients are normal).
   */
  outputClass(): number {
    return this.subscriptions > 0 ? OUTPUT_CLASS_PUBSUB : OUTPUT_CLASS_NORMAL;
  }

  /** After output grew: closes the client asynchronously when it overcame its limits. */
  private checkOutputLimitsOnGrowth(): void {
    if (this.outputLimits.limited[this.outputClass()] || !this.authenticated) this.checkOutputLimits(true);
  }

  /**
   * Redis's closeClientOnOutputBufferLimitReached(): past the hard limit, or
   * past the soft limit for more than soft-seconds (counted in whole seconds,
   * from the first time it was seen past it), the client is closed: `async`
   * (as output grows) at the end of this turn, else (the once-a-second check)
   * at once. Returns true when it closed the client.
   */
  checkOutputLimits(async: boolean): boolean {
    if (this.closed || this.closeAsap) return false;
    const used = this.outputBytes;
    // Nothing beyond the fixed buffer: nothing to check (the soft clock is left as it is, as in Redis).
    if (used <= 0) return false;
    if (!this.overLimits(used)) return false;
    const info = this.outputLimits.describe(this);
    this.closeAsap = true;
    this.killed = true;
    this.dropOutput();
    if (async) {
      logWarning(`Client ${info} scheduled to be closed ASAP for overcoming of output buffer limits.`);
      this.flagDirty();
    } else {
      logWarning(`Client ${info} closed for overcoming of output buffer limits.`);
      this.socket.destroy();
    }
    return true;
  }

  /** Redis's checkClientOutputBufferLimits(). */
  private overLimits(used: number): boolean {
    // Replies parked for their turn are Sabre's reordering, not output Redis
    // would hold: the 1 KB cap counts only what waits for the socket.
    if (!this.authenticated && this.unsentBytes > UNAUTHENTICATED_OUTPUT_LIMIT) return true;
    const limits = this.outputLimits;
    const cls = this.outputClass();
    const hard = limits.hard[cls];
    const soft = limits.soft[cls];
    if (hard > 0 && used >= hard) return true;
    if (soft > 0 && used >= soft) {
      const now = Math.floor(Date.now() / 1000);
      if (this.softLimitSince === 0) {
        this.softLimitSince = now;
        return false;
      }
      return now - this.softLimitSince > limits.softSeconds[cls];
    }
    this.softLimitSince = 0;
    return false;
  }
}

/** The socket's libuv handle (Node sets it to null when it destroys the socket). */
function handleOf(socket: Socket): object | null {
  return (socket as unknown as { _handle?: object | null })._handle ?? null;
}

/**
 * The descriptor of a plain TCP or Unix socket's handle, or -1: a TLS socket's bytes must go
 * through its TLS layer, and a system without descriptors has none to give.
 */
function directWriteFd(socket: Socket, handle: object | null): number {
  if ((socket as Socket & { encrypted?: boolean }).encrypted === true || handle === null) return -1;
  const fd = (handle as { fd?: unknown }).fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : -1;
}

/** Frees a buffer nothing uses any more now, rather than at some later GC. */
function detach(b: ArrayBuffer): void {
  try {
    b.transfer(0);
  } catch {
    // Not detachable (never the case for a transferred reply): the GC frees it.
  }
}

/** No limits at all: a client's until its server hands it the configured ones. */
const NO_OUTPUT_LIMITS = new OutputLimits();
