import { replyLength } from '../protocol/reply-reader.ts';
import type { ReplyTarget } from './shard-link.ts';

// Merging the replies of a command split over shards (MGET, DEL, MSET,
// fan-outs) into the one reply its client gets, and awaiting one shard's
// reply for a coordinator's phase.

/** Who receives a finished reply: a client, identified by reply sequence number. */
export interface ReplySink {
  deliver(seq: number, u8: Uint8Array, off: number, len: number): void;
}

/** Combines the sub-replies of a fanned-out command into one RESP reply. */
export type Combine = (parts: Buffer[]) => Buffer;

/** Collects one reply per part and hands the combination to the sink. */
export class Gather implements ReplyTarget {
  private readonly parts: Buffer[];
  private remaining: number;
  /** Public so that the slow log can name the client of a part. */
  readonly sink: ReplySink;
  private readonly seq: number;
  private readonly combine: Combine;

  constructor(n: number, sink: ReplySink, seq: number, combine: Combine) {
    this.parts = new Array<Buffer>(n);
    this.remaining = n;
    this.sink = sink;
    this.seq = seq;
    this.combine = combine;
  }

  onShardReply(tag: number, u8: Uint8Array, off: number, len: number): void {
    this.parts[tag] = Buffer.from(u8.subarray(off, off + len));
    if (--this.remaining === 0) {
      let out: Buffer;
      try {
        out = this.combine(this.parts);
      } catch (e) {
        // A merge bug answers this one command with an error instead of crashing the front.
        out = Buffer.from(`-ERR internal error merging shard replies: ${(e as Error).message.replace(/[\r\n]/g, ' ')}\r\n`);
      }
      this.sink.deliver(this.seq, out, 0, out.length);
    }
  }
}

/** Resolves a promise with a copy of the reply (coordinated commands await their phases). */
export class Awaiting implements ReplyTarget {
  resolve: (b: Buffer) => void = () => {};
  onShardReply(_tag: number, u8: Uint8Array, off: number, len: number): void {
    this.resolve(Buffer.from(u8.subarray(off, off + len)));
  }
}

/**
 * Merges the replies of a split command that only needs a count or an
 * acknowledgement (DEL, EXISTS, MSET): no copies of the parts, just the
 * running sum and the first error.
 */
export class Tally implements ReplyTarget {
  private remaining: number;
  private total = 0;
  private error: Buffer | null = null;
  /** Public so that the slow log can name the client of a part. */
  readonly sink: ReplySink;
  private readonly seq: number;
  private readonly sum: boolean;

  constructor(n: number, sink: ReplySink, seq: number, sum: boolean) {
    this.remaining = n;
    this.sink = sink;
    this.seq = seq;
    this.sum = sum;
  }

  onShardReply(_tag: number, u8: Uint8Array, off: number, len: number): void {
    if (u8[off] === 45) {
      this.error ??= Buffer.from(u8.subarray(off, off + len));
    } else if (this.sum && u8[off] === 58) {
      let n = 0;
      for (let p = off + 1; p < off + len && u8[p] !== 13; p++) n = n * 10 + (u8[p] - 48);
      this.total += n;
    }
    if (--this.remaining > 0) return;
    const out = this.error ?? (this.sum ? Buffer.from(`:${this.total}\r\n`) : OK_REPLY);
    this.sink.deliver(this.seq, out, 0, out.length);
  }
}

const OK_REPLY = Buffer.from('+OK\r\n');

/** MGET across shards: puts each shard's values back at their keys' positions. */
export function combineInterleaved(parts: Buffer[], order: number[][], nkeys: number): Buffer {
  const err = firstError(parts);
  if (err) return err;
  const slots = new Array<Buffer>(nkeys);
  parts.forEach((p, k) => {
    const items = arrayElements(p);
    order[k].forEach((pos, j) => { slots[pos] = items[j]; });
  });
  return Buffer.concat([Buffer.from(`*${nkeys}\r\n`), ...slots]);
}

/** First error among the parts, if any. */
export function firstError(parts: Buffer[]): Buffer | null {
  for (const p of parts) if (p[0] === 45) return p;
  return null;
}

/** Integer value of a ':' reply. */
export function intOf(b: Buffer): number {
  return Number(b.toString('latin1', 1, b.length - 2));
}

export const combineSum: Combine = (parts) => {
  const err = firstError(parts);
  if (err) return err;
  let n = 0;
  for (const p of parts) n += intOf(p);
  return Buffer.from(`:${n}\r\n`);
};

export const combineOk: Combine = (parts) => firstError(parts) ?? Buffer.from('+OK\r\n');

/** Splits a RESP array reply into its elements (copies not needed: slices of b). */
export function arrayElements(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  if (b[0] !== 42 && b[0] !== 126) return out;
  let p = b.indexOf(13);
  const n = Number(b.toString('latin1', 1, p));
  p += 2;
  for (let i = 0; i < n; i++) {
    const l = replyLength(b, p, b.length);
    out.push(b.subarray(p, p + l));
    p += l;
  }
  return out;
}

