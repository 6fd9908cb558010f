// The slow log (SLOWLOG GET/LEN/RESET), as Redis keeps it: the newest entries
// first, at most slowlog-max-len of them, each with an id, the unix time, the
// duration in microseconds, the arguments (at most 32, each cut at 128 bytes,
// secrets redacted) and the client's address and name.
//
// Where the durations come from:
// - Shard commands are timed on their shard around the handler (what Redis
//   times: the execution, not the wait in a queue). A slow one comes back with
//   its reply flagged REPF_SLOW and a trailer (native-layout: slow-log
//   trailer) carrying its arguments and duration; the front adds the client.
// - Front commands are timed on the front, from dispatch to reply: directly
//   when they reply at once, and at the first turn after their reply when it
//   comes later (fan-outs such as KEYS, FLUSHALL, DEBUG SLEEP).

import { ORDER_NEXT_SLOWLOG_ID } from '../../native-layout/layout.ts';
import { SLOW_TRAILER_DURATION_FROM_END } from '../../native-layout/layout.ts';
import { slowlogArgs as cutArgs } from '../protocol/slowlog-args.ts';
import { isSensitiveConfig } from './config.ts';


const REDACTED = Buffer.from('(redacted)');

export interface SlowlogEntry {
  readonly id: number;
  /** Unix time in seconds when it was logged. */
  readonly time: number;
  readonly durationUs: number;
  readonly args: readonly Buffer[];
  readonly addr: string;
  readonly name: string;
}

/** Who ran the command (the client's state when the entry is made). */
export interface SlowlogClient {
  readonly addr: string;
  readonly name: string;
}

/** The arguments as an entry shows them (protocol/slowlog-args.ts), as Buffers. */
export function slowlogArgs(argc: number, arg: (i: number) => Uint8Array): Buffer[] {
  return cutArgs(argc, arg).map((a) => Buffer.from(a.buffer, a.byteOffset, a.length));
}

function lower(b: Buffer): string {
  return b.toString('latin1').toLowerCase();
}

/**
 * Hides secrets the way Redis redacts them before logging: AUTH's arguments,
 * HELLO's AUTH user and password, the value of a sensitive CONFIG SET
 * parameter (requirepass). Works on the (already cut) entry arguments.
 */
export function redactSecrets(args: Buffer[]): Buffer[] {
  if (args.length === 0) return args;
  const cmd = lower(args[0]);
  if (cmd === 'auth') {
    for (let i = 1; i < args.length; i++) args[i] = REDACTED;
  } else if (cmd === 'hello') {
    for (let i = 2; i < args.length; i++) {
      if (lower(args[i]) === 'auth') {
        for (let j = i + 1; j <= i + 2 && j < args.length; j++) args[j] = REDACTED;
        i += 2;
      }
    }
  } else if (cmd === 'config' && args.length > 1 && lower(args[1]) === 'set') {
    for (let i = 2; i + 1 < args.length; i += 2) {
      if (isSensitiveConfig(args[i].toString('latin1'))) args[i + 1] = REDACTED;
    }
  }
  return args;
}

export class Slowlog {
  /** Newest first. */
  private entries: SlowlogEntry[] = [];
  private nextId = 0;
  /** The order block when front threads share the id counter, else null. */
  private shared: Int32Array | null = null;

  /** Takes ids from the counter every front thread shares (io-threads > 1). */
  shareIds(order: Int32Array): void {
    this.shared = order;
  }

  private takeId(): number {
    return this.shared === null ? this.nextId++ : Atomics.add(this.shared, ORDER_NEXT_SLOWLOG_ID, 1) >>> 0;
  }

  get length(): number {
    return this.entries.length;
  }

  /**
   * Adds an entry when the duration reaches `slowerThanUs` (negative: off),
   * then trims to `maxLen`, as slowlogPushEntryIfNeeded() does (so max-len 0
   * empties the log at the next command).
   */
  push(slowerThanUs: number, maxLen: number, durationUs: number, args: () => Buffer[], client: SlowlogClient): void {
    if (slowerThanUs < 0) return;
    if (durationUs >= slowerThanUs) {
      this.entries.unshift({
        id: this.takeId(),
        time: Math.floor(Date.now() / 1000),
        durationUs: Math.floor(durationUs),
        args: redactSecrets(args()),
        addr: client.addr,
        name: client.name,
      });
    }
    this.trim(maxLen);
  }

  /** Keeps the newest `maxLen` entries. */
  trim(maxLen: number): void {
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  /** The newest `count` entries (all when count is -1). */
  newest(count: number): readonly SlowlogEntry[] {
    return count < 0 ? this.entries : this.entries.slice(0, count);
  }

  reset(): void {
    this.entries = [];
  }

  /** Empties the log and restarts its ids at 0, as on a fresh server (SLOWLOG RESET keeps counting ids, as Redis does). */
  forget(): void {
    this.entries = [];
    this.nextId = 0;
    if (this.shared !== null) Atomics.store(this.shared, ORDER_NEXT_SLOWLOG_ID, 0);
  }
}

/**
 * Reads a shard's slow-log trailer (native-layout, "slow-log trailer"): the
 * arguments, already cut, and the duration. `u8[start, end)` is the trailer.
 */
export function readSlowTrailer(u8: Uint8Array, start: number, end: number): { args: Buffer[]; durationUs: number } {
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  let p = start;
  const argc = view.getUint32(p, true);
  p += 4;
  const args: Buffer[] = [];
  for (let i = 0; i < argc; i++) {
    const len = view.getUint32(p, true);
    p += 4;
    args.push(Buffer.from(u8.subarray(p, p + len)));
    p += len;
  }
  const durationUs = view.getFloat64(end - SLOW_TRAILER_DURATION_FROM_END, true);
  return { args, durationUs };
}
