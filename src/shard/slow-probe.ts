import { SLOW_TRAILER_DURATION_FROM_END, SLOW_TRAILER_SIZE_FROM_END } from '../../native-layout/layout.ts';
import type { CommandSpec } from '../commands/types.ts';
import type { Argv } from '../protocol/argv.ts';
import { slowlogArgs } from '../protocol/slowlog-args.ts';

// The shard's half of the slow log: times commands around their handler and,
// for one at least slowlog-log-slower-than µs, builds the trailer that rides
// on its reply record (native-layout: slow-log trailer) for the front to log.
//
// Timing every command costs two clock reads (about 50 ns each here, 15% of
// a GET on the shard; 0.2 µs of a SET's whole cost measured at -P 16), so at
// the usual thresholds (1 ms and more; the default is 10 ms) the commands
// Redis flags "fast", and those whose work follows their request and reply
// bytes (CommandSpec.sizeBound: SET, MSET), are not timed when their request
// and reply are small: they cannot take that long unless the thread is
// descheduled. A fast command with a big request or reply is timed, and so is
// every command when the threshold is below 1 ms (slowlog-log-slower-than 0
// logs everything, as in Redis).

/** Below this threshold (µs) every command is timed. */
const TIME_EVERYTHING_BELOW_US = 1000;
/** A request or reply at least this big makes a fast command worth timing. */
const BIG_BYTES = 16 * 1024;

/** Fast or size-bound: timed only when its request or reply is big, or at a threshold below 1 ms (the front's commands too: Server.runFront). */
export function timedOnlyWhenBig(spec: CommandSpec): boolean {
  return spec.flags.includes('fast') || spec.sizeBound === true;
}

/** A threshold low enough (and the log on) for every command to be timed. */
export function timesEverything(thresholdUs: number): boolean {
  return thresholdUs >= 0 && thresholdUs < TIME_EVERYTHING_BELOW_US;
}

const NEVER = 0;
const IF_BIG = 1;
const ALWAYS = 2;

export class SlowProbe {
  /** Per opcode: NEVER (internal commands: their front command is timed instead), IF_BIG (fast or size-bound), ALWAYS. */
  private readonly kind: Uint8Array;
  /** When the current stretch of untimed commands started (a batch, or the last timed command's end). */
  mark = 0;
  /** The trailer for the reply being written, or null. */
  trailer: Uint8Array | null = null;

  constructor(commands: readonly CommandSpec[]) {
    this.kind = Uint8Array.from(commands, (s) =>
      s.internal === true ? NEVER : timedOnlyWhenBig(s) ? IF_BIG : ALWAYS);
  }

  /**
   * Before a handler: the start time when the command is to be timed, 0 when
   * only a big reply would make it worth timing, -1 when not timed at all.
   */
  start(thresholdUs: number, opcode: number, requestBytes: number): number {
    this.trailer = null;
    if (thresholdUs < 0) return -1;
    const kind = this.kind[opcode] ?? NEVER;
    if (kind === NEVER) return -1;
    if (kind === ALWAYS || timesEverything(thresholdUs) || requestBytes >= BIG_BYTES) return performance.now();
    return 0;
  }

  /** After the handler: builds the trailer if the command took at least the threshold. */
  finish(started: number, thresholdUs: number, replyBytes: number, args: Argv): void {
    let from = started;
    if (from === 0) {
      if (replyBytes < BIG_BYTES) return;
      from = this.mark; // an upper bound: it includes the small commands since the mark
    }
    const now = performance.now();
    this.mark = now;
    const us = (now - from) * 1000;
    if (us >= thresholdUs) this.trailer = buildTrailer(args, us);
  }
}

/**
 * [u32 argc][argc x (u32 length, bytes)][f64 duration µs][u32 trailer bytes]:
 * the arguments cut as the slow log shows them (the 32nd says how many more).
 */
function buildTrailer(args: Argv, durationUs: number): Uint8Array {
  const parts = slowlogArgs(args.count, (i) => args.u8.subarray(args.off[i], args.off[i] + args.len[i]));
  let size = 4 + SLOW_TRAILER_DURATION_FROM_END;
  for (const p of parts) size += 4 + p.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  view.setUint32(p, parts.length, true);
  p += 4;
  for (const part of parts) {
    view.setUint32(p, part.length, true);
    out.set(part, p + 4);
    p += 4 + part.length;
  }
  view.setFloat64(size - SLOW_TRAILER_DURATION_FROM_END, durationUs, true);
  view.setUint32(size - SLOW_TRAILER_SIZE_FROM_END, size, true);
  return out;
}
