import {
  REC_PAD_FLAG, RING_ALIGN, RING_CONSUMER_PARKED, RING_HEADER_BYTES, RING_HEAD, RING_PRODUCER_WAITING,
  RING_SIGNAL, RING_SPACE_SIGNAL, RING_TAIL,
} from '../../native-layout/layout.ts';

/**
 * Single-producer single-consumer byte ring in a SharedArrayBuffer. Records are
 * [u32 length][payload], 8-aligned, never split: a record that would cross the
 * end is preceded by a padding record and starts again at offset 0. Positions
 * are free-running u32 byte counters; only the producer writes TAIL, only the
 * consumer writes HEAD.
 *
 * Nothing is visible to the other side until publish()/release(): the producer
 * batches many records and publishes them with one store and at most one notify.
 */
export function createRingBuffer(capacity: number): SharedArrayBuffer {
  if ((capacity & (capacity - 1)) !== 0 || capacity < 4096) throw new Error('ring capacity must be a power of two >= 4096');
  return new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
}

function align(n: number): number {
  return (n + RING_ALIGN - 1) & ~(RING_ALIGN - 1);
}

export class RingWriter {
  readonly ctl: Int32Array;
  readonly u8: Uint8Array;
  readonly capacity: number;
  private readonly mask: number;
  /** Local tail: records written but maybe not yet published. */
  tail: number;
  private published: number;
  /** The consumer's HEAD as last read: room is re-read from HEAD only when this says the ring is full. */
  private headSeen: number;
  /**
   * Where publishes ring: this ring's own header, or (a shard fed by several
   * front threads) the header of the ring its consumer parks on.
   */
  private readonly bell: Int32Array;

  /** `bell`: another ring's buffer whose RING_SIGNAL the consumer parks on (default: this ring's). */
  constructor(sab: SharedArrayBuffer, bell?: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, RING_HEADER_BYTES >> 2);
    this.bell = bell === undefined || bell === sab ? this.ctl : new Int32Array(bell, 0, RING_HEADER_BYTES >> 2);
    this.u8 = new Uint8Array(sab, RING_HEADER_BYTES);
    this.capacity = this.u8.length;
    this.mask = this.capacity - 1;
    this.tail = Atomics.load(this.ctl, RING_TAIL) >>> 0;
    this.published = this.tail;
    this.headSeen = Atomics.load(this.ctl, RING_HEAD) >>> 0;
  }

  /** Largest record this ring carries inline; bigger payloads go over the side port. */
  get maxRecord(): number {
    return this.capacity >>> 2;
  }

  /** Bytes the producer may still write. */
  freeBytes(): number {
    this.headSeen = Atomics.load(this.ctl, RING_HEAD) >>> 0;
    return this.capacity - ((this.tail - this.headSeen) >>> 0);
  }

  /**
   * True when `bytes` can be written now. Reads the consumer's HEAD only when
   * the last value seen does not leave enough room (HEAD only moves forward,
   * so a stale value errs on the side of "full").
   */
  hasRoom(bytes: number): boolean {
    return this.capacity - ((this.tail - this.headSeen) >>> 0) >= bytes || this.freeBytes() >= bytes;
  }

  /**
   * Reserves a record of `len` bytes (length header included) and returns the
   * offset in u8 where it starts, or -1 when the ring lacks room now. The
   * caller fills it (bytes 0..3 are the length, written here) and calls commit().
   */
  reserve(len: number): number {
    const need = align(len);
    let idx = this.tail & this.mask;
    const toEnd = this.capacity - idx;
    const pad = toEnd < need ? toEnd : 0;
    if (!this.hasRoom(pad + need)) return -1;
    if (pad !== 0) {
      this.writeU32(idx, (pad | REC_PAD_FLAG) >>> 0);
      this.tail = (this.tail + pad) >>> 0;
      idx = 0;
    }
    this.writeU32(idx, len);
    return idx;
  }

  commit(len: number): void {
    this.tail = (this.tail + align(len)) >>> 0;
  }

  /** Publishes every committed record; wakes the consumer if it is parked. */
  publish(): boolean {
    if (this.tail === this.published) return false;
    this.published = this.tail;
    Atomics.store(this.ctl, RING_TAIL, this.tail | 0);
    const bell = this.bell;
    Atomics.add(bell, RING_SIGNAL, 1);
    if (Atomics.load(bell, RING_CONSUMER_PARKED) !== 0) Atomics.notify(bell, RING_SIGNAL);
    return true;
  }

  get hasUnpublished(): boolean {
    return this.tail !== this.published;
  }

  /**
   * Blocks (worker threads only) until the consumer frees at least `bytes` or
   * the timeout passes. The signal is sampled before the room is re-checked,
   * so a release that lands in between makes the wait return at once.
   */
  waitForSpace(bytes: number, timeoutMs: number): void {
    const seen = Atomics.load(this.ctl, RING_SPACE_SIGNAL);
    Atomics.store(this.ctl, RING_PRODUCER_WAITING, 1);
    if (this.freeBytes() < bytes) Atomics.wait(this.ctl, RING_SPACE_SIGNAL, seen, timeoutMs);
    Atomics.store(this.ctl, RING_PRODUCER_WAITING, 0);
  }

  writeU32(idx: number, v: number): void {
    const u8 = this.u8;
    u8[idx] = v;
    u8[idx + 1] = v >>> 8;
    u8[idx + 2] = v >>> 16;
    u8[idx + 3] = v >>> 24;
  }
}

export class RingReader {
  readonly ctl: Int32Array;
  readonly u8: Uint8Array;
  readonly capacity: number;
  private readonly mask: number;
  head: number;
  private limit: number;
  private released: number;

  constructor(sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, RING_HEADER_BYTES >> 2);
    this.u8 = new Uint8Array(sab, RING_HEADER_BYTES);
    this.capacity = this.u8.length;
    this.mask = this.capacity - 1;
    this.head = Atomics.load(this.ctl, RING_HEAD) >>> 0;
    this.limit = this.head;
    this.released = this.head;
  }

  /** Samples the producer's published position; returns true when records are waiting. */
  refresh(): boolean {
    this.limit = Atomics.load(this.ctl, RING_TAIL) >>> 0;
    return this.limit !== this.head;
  }

  /** Offset in u8 of the next record (its u32 length first), or -1 when none is left before the sampled limit. */
  next(): number {
    this.head = this.skipPadding(this.head);
    return this.head === this.limit ? -1 : this.head & this.mask;
  }

  /** The first position at or after `pos` that is not a padding record (or the limit). */
  private skipPadding(pos: number): number {
    while (pos !== this.limit) {
      const len = this.readU32(pos & this.mask);
      if ((len & REC_PAD_FLAG) === 0) break;
      pos = (pos + (len & ~REC_PAD_FLAG)) >>> 0;
    }
    return pos;
  }

  /**
   * Offsets of up to `max` records from the next one on, without consuming
   * them (the shard looks ahead to overlap its cache misses). Returns how many.
   */
  lookahead(out: Int32Array, max: number): number {
    let n = 0;
    for (let pos = this.skipPadding(this.head); pos !== this.limit && n < max; pos = this.skipPadding(pos)) {
      const idx = pos & this.mask;
      out[n++] = idx;
      pos = (pos + align(this.readU32(idx))) >>> 0;
    }
    return n;
  }

  /** Consumes the record returned by next(). */
  consume(idx: number): void {
    this.head = (this.head + align(this.readU32(idx))) >>> 0;
  }

  /** Gives consumed bytes back to the producer (one store, one notify if it waits). */
  release(): void {
    if (this.head === this.released) return;
    this.released = this.head;
    Atomics.store(this.ctl, RING_HEAD, this.head | 0);
    Atomics.add(this.ctl, RING_SPACE_SIGNAL, 1);
    if (Atomics.load(this.ctl, RING_PRODUCER_WAITING) !== 0) Atomics.notify(this.ctl, RING_SPACE_SIGNAL);
  }

  /** Current value of the wake-up counter: sample it before draining, then park on it. */
  signal(): number {
    return Atomics.load(this.ctl, RING_SIGNAL);
  }

  /** Parks a worker thread until the producer publishes or the timeout passes. */
  park(seen: number, timeoutMs: number): void {
    Atomics.store(this.ctl, RING_CONSUMER_PARKED, 1);
    if (!this.refresh()) Atomics.wait(this.ctl, RING_SIGNAL, seen, timeoutMs);
    Atomics.store(this.ctl, RING_CONSUMER_PARKED, 0);
  }

  /** Front-thread variant: resolves when the producer publishes after `seen`. */
  parkAsync(seen: number): Promise<unknown> | null {
    Atomics.store(this.ctl, RING_CONSUMER_PARKED, 1);
    if (this.refresh()) {
      Atomics.store(this.ctl, RING_CONSUMER_PARKED, 0);
      return null;
    }
    const r = Atomics.waitAsync(this.ctl, RING_SIGNAL, seen);
    if (!r.async) {
      Atomics.store(this.ctl, RING_CONSUMER_PARKED, 0);
      return null;
    }
    return r.value;
  }

  unpark(): void {
    Atomics.store(this.ctl, RING_CONSUMER_PARKED, 0);
  }

  readU32(idx: number): number {
    const u8 = this.u8;
    return (u8[idx] | (u8[idx + 1] << 8) | (u8[idx + 2] << 16) | (u8[idx + 3] << 24)) >>> 0;
  }
}
