import type { Socket } from 'node:net';
import { RequestParser, type ParserLimits } from '../protocol/request-parser.ts';
import type { ReplySink } from '../router/dispatcher.ts';
import type { ReplyTarget } from '../router/shard-link.ts';
import type { Argv } from '../protocol/argv.ts';

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

function countShardError(u8: Uint8Array, off: number, len: number): void {
  let end = off + 1;
  const stop = off + Math.min(len, 128);
  while (end < stop && u8[end] !== 32 && u8[end] !== 13) end++;
  const code = Buffer.from(u8.buffer, u8.byteOffset + off + 1, end - off - 1).toString('latin1');
  replyErrorStats.count++;
  replyErrorStats.codes.set(code, (replyErrorStats.codes.get(code) ?? 0) + 1);
}

/** How long (event-loop turns) and how much (bytes) output may wait for the rest of its pipeline. */
const MAX_HELD_TURNS = 4;
const MAX_HELD_BYTES = 64 * 1024;

/**
 * One connection's state on the front thread, and the place where replies are
 * put back in request order: every command takes a sequence number; a reply
 * for the next number to send goes straight into the output buffer, a reply
 * that arrives early (another shard was faster) is parked until its turn.
 */
export class Client implements ReplySink, ReplyTarget {
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
  out: Buffer | null = null;
  outLen = 0;
  dirty = false;
  /** Total bytes of replies written, for INFO/CLIENT LIST tot-net-out. */
  netOut = 0;
  netIn = 0;
  private readonly markDirty: (c: Client) => void;

  constructor(id: number, socket: Socket, limits: ParserLimits, authenticated: boolean, markDirty: (c: Client) => void) {
    this.id = id;
    this.socket = socket;
    this.parser = new RequestParser(limits);
    this.parser.authenticated = authenticated;
    this.authenticated = authenticated;
    this.markDirty = markDirty;
    this.addr = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.laddr = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
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
    const slots = this.parkSeq.length;
    return slots > 0 && this.parkSeq[seq % slots] === seq;
  }

  get pendingReplies(): number {
    return this.nextSeq - this.sendSeq;
  }

  onShardReply(seq: number, u8: Uint8Array, off: number, len: number): void {
    if (len > 0 && u8[off] === 45) countShardError(u8, off, len);
    this.deliver(seq, u8, off, len);
  }

  deliver(seq: number, u8: Uint8Array, off: number, len: number): void {
    if (seq === this.awaitSeq) this.awaitDone();
    if (seq !== this.sendSeq) {
      this.park(seq, u8, off, len);
      return;
    }
    this.emit(seq, u8, off, len);
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

  private park(seq: number, u8: Uint8Array, off: number, len: number): void {
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

  private emit(seq: number, u8: Uint8Array, off: number, len: number): void {
    this.sendSeq = seq + 1;
    if (this.suppressed !== null && this.suppressed.delete(seq)) {
      if (seq === this.closeAfterSeq) this.requestClose();
      return;
    }
    if (!this.closed && len > 0) {
      let out = this.out;
      if (out === null || this.outLen + len > out.length) out = this.grow(len);
      if (len < 64) {
        let p = this.outLen;
        for (let i = 0; i < len; i++) out[p++] = u8[off + i];
      } else {
        out.set(u8.subarray(off, off + len), this.outLen);
      }
      this.outLen += len;
      if (!this.dirty) {
        this.dirty = true;
        this.markDirty(this);
      }
    }
    if (seq === this.closeAfterSeq) this.requestClose();
  }

  private grow(len: number): Buffer {
    const need = this.outLen + len;
    let size = this.out === null ? 2048 : this.out.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    if (this.out !== null && this.outLen > 0) this.out.copy(next, 0, 0, this.outLen);
    this.out = next;
    return next;
  }

  private requestClose(): void {
    this.killed = true;
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
    if (this.nextSeq !== this.sendSeq && this.heldTurns < MAX_HELD_TURNS && this.outLen < MAX_HELD_BYTES
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
    let ok = true;
    if (this.out !== null && this.outLen > 0 && !this.closed) {
      const chunk = this.out.subarray(0, this.outLen);
      this.netOut += this.outLen;
      // The socket keeps a reference to the chunk: the next replies go to a new buffer.
      this.out = null;
      this.outLen = 0;
      ok = this.socket.write(chunk);
    }
    // Like Redis's close(): once the last reply is written the socket is gone, so a
    // peer that keeps sending (protocol desync) gets a reset instead of being read forever.
    if (this.killed && !this.closed && !this.socket.writableEnded) this.socket.destroySoon();
    return ok;
  }

  /** Bytes of output waiting (ours plus the socket's), for CLIENT LIST omem. */
  get outputBytes(): number {
    return this.outLen + (this.socket.writableLength ?? 0);
  }
}
