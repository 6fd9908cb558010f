// Differential testing: run the same command sequence against Sabre and the real
// redis-server and compare the reply bytes.

import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RespReplyScanner,
  RespScanError,
  encodeCommand,
  startRedis,
  startSabre,
  type ServerHandle,
} from './servers.ts';
import { redisForComparison, shardOfKey } from './suites.ts';

export { RespReplyScanner, RespScanError, encodeCommand, respReplyEnd, splitReplies } from './servers.ts';

/**
 * One step of a sequence:
 * - `string[]`: a command, sent as a multibulk; one reply is read.
 * - `Buffer`: raw bytes sent as is (inline commands, odd framing); one reply is read.
 * - `{ send, replies }`: either of the above, but `replies` replies are read (0 = read
 *   nothing, e.g. the first half of a split command; 2+ = e.g. SUBSCRIBE a b). The
 *   step's result is all of those replies concatenated.
 */
export type Step = string[] | Buffer | { send: string[] | Buffer | string; replies: number };

export interface SequenceOptions {
  /** Send `HELLO 3` first (its reply is read and dropped) so replies use RESP3. */
  resp3?: boolean;
  /** How long to wait for each reply; default 10 s. */
  replyTimeoutMs?: number;
}

function stepBytes(step: Step): { bytes: Buffer; replies: number } {
  if (Array.isArray(step)) return { bytes: encodeCommand(step), replies: 1 };
  if (Buffer.isBuffer(step)) return { bytes: step, replies: 1 };
  const send = step.send;
  const bytes = Array.isArray(send)
    ? encodeCommand(send)
    : Buffer.isBuffer(send)
      ? send
      : Buffer.from(send, 'utf8');
  return { bytes, replies: step.replies };
}

/** Human-readable label of a step for diffs. */
export function describeStep(step: Step): string {
  if (Array.isArray(step)) return step.map((a) => quoteArg(a)).join(' ');
  if (Buffer.isBuffer(step)) return `raw ${escapeBytes(step, 200)}`;
  const inner = Array.isArray(step.send)
    ? step.send.map((a) => quoteArg(a)).join(' ')
    : `raw ${escapeBytes(Buffer.isBuffer(step.send) ? step.send : Buffer.from(step.send, 'utf8'), 200)}`;
  return `${inner}  (${step.replies} replies)`;
}

function quoteArg(a: string): string {
  return /^[\x21-\x7e]+$/.test(a) && !a.includes('"') ? a : `"${escapeBytes(Buffer.from(a, 'utf8'), 200)}"`;
}

/** Escapes bytes like a C string: printable ASCII as is, \r \n \t \\ \" and \xHH otherwise. */
export function escapeBytes(buf: Buffer, max = 2000): string {
  let out = '';
  const n = Math.min(buf.length, max);
  for (let i = 0; i < n; i++) {
    const c = buf[i] ?? 0;
    if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x22) out += '\\"';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  if (buf.length > max) out += `… (${buf.length - max} more bytes)`;
  return out;
}

/**
 * Reads replies from one connection. Replies are framed with the RESP scanner;
 * if the server sends garbage or closes, the pending read resolves with what is
 * there (the caller sees the bytes in the diff).
 */
class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  private scanner = new RespReplyScanner(0);
  private closed = false;
  private broken = false;
  private waiter: (() => void) | null = null;

  constructor(sock: net.Socket) {
    sock.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.wake();
    });
    const onClose = (): void => {
      this.closed = true;
      this.wake();
    };
    sock.on('end', onClose);
    sock.on('close', onClose);
    sock.on('error', onClose);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Takes one complete reply; on close or garbage returns whatever bytes are buffered (maybe empty). */
  async next(timeoutMs: number, what: string): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.broken) {
        try {
          const end = this.scanner.scan(this.buf);
          if (end >= 0) {
            const reply = this.buf.subarray(0, end);
            this.buf = this.buf.subarray(end);
            this.scanner.reset(0);
            return reply;
          }
        } catch (err) {
          if (!(err instanceof RespScanError)) throw err;
          this.broken = true;
        }
      }
      if (this.closed || this.broken) {
        // Garbage: give the peer a moment to send the rest of it, then hand it all over.
        if (this.broken && !this.closed) await this.wait(Math.max(0, Math.min(200, deadline - Date.now())));
        const rest = this.buf;
        this.buf = Buffer.alloc(0);
        this.scanner.reset(0);
        return rest;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for the reply to ${what}; buffered: "${escapeBytes(this.buf)}"`,
        );
      }
      await this.wait(left);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, ms);
      this.waiter = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.setNoDelay(true);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/**
 * Sends each step on one fresh connection, waiting for its reply (or replies)
 * before sending the next, and returns one Buffer per step with the exact bytes.
 * If the server closes the connection, the remaining steps get whatever was left
 * (usually an empty Buffer) and are not sent.
 */
export async function runSequence(
  port: number,
  commands: ReadonlyArray<Step>,
  opts: SequenceOptions = {},
): Promise<Buffer[]> {
  const timeoutMs = opts.replyTimeoutMs ?? 10_000;
  const sock = await connect(port);
  sock.on('error', () => {
    // reported through ReplyReader as a close
  });
  const reader = new ReplyReader(sock);
  const out: Buffer[] = [];
  try {
    if (opts.resp3 === true) {
      sock.write(encodeCommand(['HELLO', '3']));
      await reader.next(timeoutMs, 'HELLO 3');
    }
    for (const step of commands) {
      const { bytes, replies } = stepBytes(step);
      if (!sock.destroyed && sock.writable) sock.write(bytes);
      const parts: Buffer[] = [];
      for (let i = 0; i < replies; i++) parts.push(await reader.next(timeoutMs, describeStep(step)));
      out.push(parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts));
    }
  } finally {
    sock.destroy();
  }
  return out;
}

export interface CompareOptions extends SequenceOptions {
  /** Label for error messages; default "sabre" / "redis". */
  labels?: { actual: string; expected: string };
}

/**
 * Runs `commands` against both servers (each on its own connection, in parallel)
 * and throws a readable diff if any reply differs byte-wise.
 */
export async function expectSameReplies(
  sabrePort: number,
  redisPort: number,
  commands: ReadonlyArray<Step>,
  opts: CompareOptions = {},
): Promise<void> {
  const [actual, expected] = await Promise.all([
    runSequence(sabrePort, commands, opts),
    runSequence(redisPort, commands, opts),
  ]);
  const diff = diffReplies(commands, expected, actual, opts.labels);
  if (diff !== null) throw new Error(diff);
}

/** Returns null when equal, else a multi-line description of every differing step. */
export function diffReplies(
  commands: ReadonlyArray<Step>,
  expected: ReadonlyArray<Buffer>,
  actual: ReadonlyArray<Buffer>,
  labels: { actual: string; expected: string } = { actual: 'sabre', expected: 'redis' },
): string | null {
  const width = Math.max(labels.actual.length, labels.expected.length);
  const lines: string[] = [];
  let mismatches = 0;
  for (let i = 0; i < commands.length; i++) {
    const e = expected[i] ?? Buffer.alloc(0);
    const a = actual[i] ?? Buffer.alloc(0);
    if (e.equals(a)) continue;
    mismatches++;
    const step = commands[i];
    lines.push(`  #${i} ${step === undefined ? '?' : describeStep(step)}`);
    lines.push(`      ${labels.expected.padEnd(width)}: "${escapeBytes(e)}"`);
    lines.push(`      ${labels.actual.padEnd(width)}: "${escapeBytes(a)}"`);
    let k = 0;
    while (k < e.length && k < a.length && e[k] === a[k]) k++;
    lines.push(`      first difference at byte ${k}`);
  }
  if (mismatches === 0) return null;
  return (
    `${mismatches} of ${commands.length} replies differ (${labels.expected} = expected, ${labels.actual} = actual):\n` +
    lines.join('\n')
  );
}

// ---------------------------------------------------------------------------
// describeDifferential

export interface DifferentialContext {
  /** Port of the server under test (Sabre). Only valid inside tests/hooks. */
  readonly sabrePort: number;
  /** Port of the reference redis-server. Only valid inside tests/hooks. */
  readonly redisPort: number;
  readonly sabre: ServerHandle;
  readonly redis: ServerHandle;
  /** expectSameReplies against this file's two servers. */
  expectSame(commands: ReadonlyArray<Step>, opts?: CompareOptions): Promise<void>;
  /** Runs a sequence against one of the servers only (setup, or asserting on Redis itself). */
  run(target: 'sabre' | 'redis', commands: ReadonlyArray<Step>, opts?: SequenceOptions): Promise<Buffer[]>;
}

export interface DifferentialOptions {
  /** Sabre shard count; default 4. */
  shards?: number;
  /** Extra Sabre arguments. */
  sabreArgs?: string[];
  /** Extra redis-server arguments. */
  redisArgs?: string[];
}

/**
 * Like `describe`, but starts Sabre (4 shards) and redis-server once for the block,
 * FLUSHALLs both before each test, and stops them afterwards. When redis-server is
 * not installed the block fails under CI (the CI variable set) and is skipped with
 * a warning elsewhere (see redisForComparison).
 *
 * Setting SABRE_DIFF_SELF_TEST=1 replaces Sabre with a second redis-server, which
 * checks the harness itself (every differential test must then pass).
 */
export function describeDifferential(
  name: string,
  fn: (ctx: DifferentialContext) => void,
  options: DifferentialOptions = {},
): void {
  let sabre: ServerHandle | null = null;
  let redis: ServerHandle | null = null;
  const need = (h: ServerHandle | null, what: string): ServerHandle => {
    if (h === null) throw new Error(`differential: ${what} is not running (use the context only inside tests and hooks)`);
    return h;
  };
  const ctx: DifferentialContext = {
    get sabrePort() {
      return need(sabre, 'sabre').port;
    },
    get redisPort() {
      return need(redis, 'redis').port;
    },
    get sabre() {
      return need(sabre, 'sabre');
    },
    get redis() {
      return need(redis, 'redis');
    },
    expectSame: (commands, opts) =>
      expectSameReplies(need(sabre, 'sabre').port, need(redis, 'redis').port, commands, opts),
    run: (target, commands, opts) =>
      runSequence(need(target === 'sabre' ? sabre : redis, target).port, commands, opts),
  };

  if (!redisForComparison(`[differential] "${name}"`)) {
    describe.skip(name, () => fn(ctx));
    return;
  }

  const selfTest = process.env.SABRE_DIFF_SELF_TEST === '1';
  describe(name, () => {
    beforeAll(async () => {
      const redisStart = startRedis({ args: options.redisArgs });
      const sabreStart = selfTest
        ? startRedis({ args: options.redisArgs })
        : startSabre({ shards: options.shards ?? 4, args: options.sabreArgs });
      if (redisStart === null || sabreStart === null) throw new Error('redis-server vanished from PATH');
      const [s, r] = await Promise.allSettled([sabreStart, redisStart]);
      if (s.status === 'fulfilled') sabre = s.value;
      if (r.status === 'fulfilled') redis = r.value;
      if (s.status === 'rejected' || r.status === 'rejected') {
        await Promise.all([sabre?.stop(), redis?.stop()]);
        sabre = null;
        redis = null;
        throw s.status === 'rejected' ? s.reason : (r as PromiseRejectedResult).reason;
      }
    });
    afterAll(async () => {
      await Promise.all([sabre?.stop(), redis?.stop()]);
      sabre = null;
      redis = null;
    });
    beforeEach(async () => {
      const flush = async (h: ServerHandle | null, what: string): Promise<void> => {
        const [reply] = await runSequence(need(h, what).port, [['FLUSHALL']]);
        if (reply === undefined || reply.toString('latin1') !== '+OK\r\n') {
          throw new Error(`FLUSHALL on ${what} replied "${escapeBytes(reply ?? Buffer.alloc(0))}"`);
        }
      };
      await Promise.all([flush(sabre, 'sabre'), flush(redis, 'redis')]);
    });
    fn(ctx);
  });
}

// ---------------------------------------------------------------------------
// Shared by the per-family differential suites

/** A member with the bytes RESP framing and UTF-8 handling get wrong most easily. */
export const BINARY_ARG = '\x00\xff\r\n\x01bin';

/** Steps sent as one pipeline (one write), their replies read after. */
export function pipelined(steps: string[][]): Step {
  return { send: Buffer.concat(steps.map((s) => encodeCommand(s))), replies: steps.length };
}

/**
 * A test guarding the cross-shard cases of a suite: keys a, b, c and d sit on
 * four different shards of 4, and {t}a and {t}b on one.
 */
export function expectKeysSpanFourShards(): void {
  it('test keys really span four shards (guard for the cross-shard cases)', () => {
    const shardOf = (k: string): number => shardOfKey(k, 4);
    expect(new Set(['a', 'b', 'c', 'd'].map(shardOf)).size).toBe(4);
    expect(shardOf('{t}a')).toBe(shardOf('{t}b'));
  });
}
