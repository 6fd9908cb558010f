// Helpers for integration and differential tests: free ports, spawning Sabre and
// the real redis-server as child processes, and raw TCP round trips.
//
// Nothing here depends on vitest, so the benchmarks in bench/ reuse it as well.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the project root (the directory holding package.json). */
export const PROJECT_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));

const READY_MARKER = 'Ready to accept connections';
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
/** Keep at most this many characters of a server's output (the newest ones). */
const MAX_LOG_CHARS = 1_000_000;

export interface ServerHandle {
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** Everything the process wrote to stdout and stderr so far (capped at the newest 1 MB). */
  logs(): string;
}

export interface StartSabreOptions {
  /** Number of shard worker threads; default 4. */
  shards?: number;
  /**
   * Extra `--name value` arguments, appended after the defaults (so they win).
   * Without `--io-threads` among them, SABRE_TEST_IO_THREADS (if set) adds it.
   */
  args?: string[];
  /** Use this port instead of picking a free one. */
  port?: number;
  /** How long to wait for `Ready to accept connections`; default 20 s. */
  readyTimeoutMs?: number;
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  /**
   * Run the start-up warm-up (server/warmup.ts), as `npm start` does. Off by
   * default here: it costs about a second of CPU per start, and the suite
   * starts many servers; test/integration/warmup.test.ts and the benchmarks
   * turn it on.
   */
  warmup?: boolean;
  /** Another checkout's root to run src/main.ts from (an A/B benchmark's baseline); default this one. */
  root?: string;
}

export interface StartRedisOptions {
  /** Extra `--name value` arguments, appended after the defaults (so they win). */
  args?: string[];
  /** Use this port instead of picking a free one. */
  port?: number;
  /** How long to wait for `Ready to accept connections`; default 20 s. */
  readyTimeoutMs?: number;
}

// ---------------------------------------------------------------------------
// Ports

/** Asks the kernel for a currently unused TCP port on 127.0.0.1. */
export function getFreePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('getFreePort: unexpected server address'));
        return;
      }
      const port = addr.port;
      srv.close((err) => {
        if (err) reject(err);
        else resolve(port);
      });
    });
  });
}

// ---------------------------------------------------------------------------
// Child process bookkeeping

const liveChildren = new Set<ChildProcess>();
/** Temp dirs of children that have not exited yet (removed by the exit hooks). */
const pendingDirs = new Set<string>();
let exitHookInstalled = false;

function killAllChildren(): void {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of pendingDirs) rmSync(dir, { recursive: true, force: true });
  pendingDirs.clear();
}

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave servers behind when the test or bench process goes away. A
  // normal exit runs 'exit' listeners; a signal (vitest stops its fork workers
  // with SIGTERM) does not, hence the signal listeners. When nobody else listens
  // for the signal, exit the way the default action would have.
  process.on('exit', killAllChildren);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAllChildren();
      if (process.listenerCount(sig) === 1) process.exit(128 + (os.constants.signals[sig] ?? 15));
    });
  }
}

/** The Node binary used to run src/main.ts: the current one if it can strip types, else node_modules/.bin/node. */
export function nodeBinary(): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 24) return process.execPath;
  const local = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
}

interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  port: number;
  readyTimeoutMs: number;
  /** A directory to delete once the process exited. */
  tempDir?: string;
}

class StartError extends Error {
  readonly addressInUse: boolean;
  constructor(message: string, addressInUse: boolean) {
    super(message);
    this.name = 'StartError';
    this.addressInUse = addressInUse;
  }
}

function indent(text: string): string {
  const trimmed = text.length > 20_000 ? '…' + text.slice(-20_000) : text;
  return trimmed
    .split('\n')
    .map((l) => '    | ' + l)
    .join('\n');
}

function spawnServer(spec: SpawnSpec): Promise<ServerHandle> {
  return new Promise<ServerHandle>((resolve, reject) => {
    let log = '';
    let ready = false;
    let exited = false;
    let exitInfo = '';
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    if (spec.tempDir !== undefined) pendingDirs.add(spec.tempDir);

    const exitPromise = new Promise<void>((res) => {
      child.once('exit', (code, signal) => {
        exited = true;
        exitInfo = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
        if (spec.tempDir !== undefined) {
          pendingDirs.delete(spec.tempDir);
          rmSync(spec.tempDir, { recursive: true, force: true });
        }
        res();
      });
    });

    const shellQuote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
    const describe = (): string => `${spec.name} (${[spec.command, ...spec.args].map(shellQuote).join(' ')})`;

    const fail = (why: string): void => {
      if (ready) return;
      ready = true; // settle only once
      clearTimeout(timer);
      const inUse = /EADDRINUSE|address already in use/i.test(log);
      if (!exited) child.kill('SIGKILL');
      reject(new StartError(`${describe()} ${why}\n  captured output:\n${indent(log)}`, inUse));
    };

    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      if (log.length > MAX_LOG_CHARS) log = log.slice(-MAX_LOG_CHARS);
      if (!ready && log.includes(READY_MARKER)) {
        ready = true;
        clearTimeout(timer);
        resolve(handle);
      }
    };
    // Keep draining both pipes for the whole life of the process, otherwise a
    // chatty server would block once the pipe buffer fills up.
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    const timer = setTimeout(() => {
      fail(`did not print "${READY_MARKER}" within ${spec.readyTimeoutMs} ms`);
    }, spec.readyTimeoutMs);

    child.once('error', (err) => fail(`failed to spawn: ${err.message}`));
    // 'close' comes after 'exit' once stdout/stderr are drained, so the log is complete.
    child.once('close', () => fail(`exited before it was ready (${exitInfo})`));

    let stopping: Promise<void> | null = null;
    const handle: ServerHandle = {
      port: spec.port,
      pid: child.pid ?? -1,
      logs: () => log,
      stop: () => {
        if (stopping !== null) return stopping;
        if (exited) {
          stopping = Promise.resolve();
          return stopping;
        }
        child.kill('SIGTERM');
        const killer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, STOP_GRACE_MS);
        stopping = exitPromise.then(() => clearTimeout(killer));
        return stopping;
      },
    };
  });
}

/** Retries with a new port when the one we picked got taken in between (only if the caller did not fix the port). */
async function startWithPortRetry(
  fixedPort: number | undefined,
  build: (port: number) => SpawnSpec,
): Promise<ServerHandle> {
  const attempts = fixedPort === undefined ? 3 : 1;
  let lastError: unknown = null;
  for (let i = 0; i < attempts; i++) {
    const port = fixedPort ?? (await getFreePort());
    try {
      return await spawnServer(build(port));
    } catch (err) {
      lastError = err;
      if (!(err instanceof StartError) || !err.addressInUse) throw err;
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------
// Sabre

/**
 * The io-threads every Sabre of this process starts with, from the environment
 * variable SABRE_TEST_IO_THREADS (the vitest project "io-threads-2" sets it);
 * undefined when it is unset or empty (the server's own default then).
 */
export function testIoThreads(): number | undefined {
  const v = process.env.SABRE_TEST_IO_THREADS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`SABRE_TEST_IO_THREADS must be a positive integer, not ${JSON.stringify(v)}`);
  return n;
}

/**
 * Starts Sabre: `node src/main.ts --port P --shards N --bind 127.0.0.1 --save "" ...args`
 * from the project root, and waits until it prints `Ready to accept connections`.
 */
export function startSabre(opts: StartSabreOptions = {}): Promise<ServerHandle> {
  const shards = opts.shards ?? 4;
  const ioThreads = testIoThreads();
  const extra = opts.args ?? [];
  // SABRE_TEST_IO_THREADS runs a suite with that many front threads, unless the test chose its own.
  const ioArgs = ioThreads !== undefined && !extra.includes('--io-threads') ? ['--io-threads', String(ioThreads)] : [];
  return startWithPortRetry(opts.port, (port) => ({
    name: 'sabre',
    command: nodeBinary(),
    args: [
      // Same flag as `npm start` (see src/main.ts).
      '--max-semi-space-size=1',
      path.join(opts.root ?? PROJECT_ROOT, 'src', 'main.ts'),
      '--port',
      String(port),
      '--shards',
      String(shards),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--warmup',
      opts.warmup === true ? 'yes' : 'no',
      ...ioArgs,
      ...extra,
    ],
    cwd: opts.root ?? PROJECT_ROOT,
    env: opts.env,
    port,
    readyTimeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
  }));
}

// ---------------------------------------------------------------------------
// Real Redis

let redisPathCache: string | null | undefined;

/** Full path of `redis-server` on PATH, or null. */
export function redisServerPath(): string | null {
  if (redisPathCache !== undefined) return redisPathCache;
  redisPathCache = null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'redis-server');
    try {
      accessSync(candidate, fsConstants.X_OK);
      redisPathCache = candidate;
      break;
    } catch {
      // not here
    }
  }
  return redisPathCache;
}

/** True when a `redis-server` executable is on PATH. */
export function redisAvailable(): boolean {
  return redisServerPath() !== null;
}

/**
 * Starts the real redis-server (`--save '' --appendonly no --enable-debug-command yes`,
 * bound to 127.0.0.1, working directory in a fresh temp dir that is removed on exit).
 * Returns null (synchronously) when redis-server is not on PATH.
 */
export function startRedis(opts: StartRedisOptions = {}): Promise<ServerHandle> | null {
  const bin = redisServerPath();
  if (bin === null) return null;
  return startWithPortRetry(opts.port, (port) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sabre-redis-'));
    return {
      name: 'redis-server',
      command: bin,
      args: [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'yes',
        '--dir',
        dir,
        ...(opts.args ?? []),
      ],
      cwd: dir,
      port,
      readyTimeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      tempDir: dir,
    };
  });
}

// ---------------------------------------------------------------------------
// RESP reply scanning
//
// An incremental scanner that finds where one complete reply ends, without
// building values. It understands RESP2 and RESP3:
//   simple lines  + - : _ , # (
//   bulk-like     $ ! =        ($-1 is a null)
//   aggregates    * ~ >        (n elements, *-1 is a null)
//                 %            (n key/value pairs)
//                 |            (attribute: n pairs that precede the real reply
//                              and are part of it, not an element of their own)

/** Thrown when the bytes cannot be RESP. */
export class RespScanError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'RespScanError';
    this.offset = offset;
  }
}

interface OpenAggregate {
  remaining: number;
  attribute: boolean;
}

/**
 * Finds the end of one reply that starts at `start` of a growing buffer.
 * Call `scan(buf)` every time more bytes were appended to `buf`; it resumes where it
 * stopped and returns the end offset (exclusive) once the reply is complete, else -1.
 * After a complete reply call `reset(nextStart)` to scan the following one.
 */
export class RespReplyScanner {
  private pos: number;
  private stack: OpenAggregate[] = [{ remaining: 1, attribute: false }];

  constructor(start = 0) {
    this.pos = start;
  }

  reset(start = 0): void {
    this.pos = start;
    this.stack = [{ remaining: 1, attribute: false }];
  }

  scan(buf: Buffer): number {
    for (;;) {
      const lineStart = this.pos;
      if (lineStart >= buf.length) return -1;
      const cr = buf.indexOf('\r\n', lineStart + 1, 'latin1');
      if (cr < 0) return -1;
      const type = buf[lineStart];
      const header = buf.toString('latin1', lineStart + 1, cr);
      let next = cr + 2;
      switch (type) {
        case 0x2b: // +
        case 0x2d: // -
        case 0x3a: // :
        case 0x5f: // _
        case 0x2c: // ,
        case 0x23: // #
        case 0x28: // (
          break;
        case 0x24: // $
        case 0x21: // !
        case 0x3d: {
          // =
          const len = parseLength(header, lineStart);
          if (len >= 0) {
            if (buf.length < next + len + 2) return -1;
            if (buf[next + len] !== 0x0d || buf[next + len + 1] !== 0x0a) {
              throw new RespScanError('bulk payload not followed by CRLF', next + len);
            }
            next += len + 2;
          }
          break;
        }
        case 0x2a: // *
        case 0x7e: // ~
        case 0x3e: // >
        case 0x25: // %
        case 0x7c: {
          // |
          const n = parseLength(header, lineStart);
          this.pos = next;
          if (n > 0) {
            const pairs = type === 0x25 || type === 0x7c;
            this.stack.push({ remaining: pairs ? 2 * n : n, attribute: type === 0x7c });
            continue;
          }
          if (type === 0x7c) continue; // empty attribute: the real reply still follows
          break; // empty or null aggregate counts as one finished element
        }
        default:
          throw new RespScanError(
            `unexpected type byte 0x${(type ?? 0).toString(16).padStart(2, '0')}`,
            lineStart,
          );
      }
      this.pos = next;
      if (this.finishElement()) return this.pos;
    }
  }

  /** Marks one element complete; returns true when the top-level reply is complete. */
  private finishElement(): boolean {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) throw new RespScanError('scanner stack underflow', this.pos);
      top.remaining--;
      if (top.remaining > 0) return false;
      this.stack.pop();
      if (this.stack.length === 0) return true;
      // A finished attribute is not an element of its parent: the value it
      // annotates still has to come.
      if (top.attribute) return false;
    }
  }
}

function parseLength(text: string, offset: number): number {
  if (!/^-?\d+$/.test(text)) throw new RespScanError(`bad length ${JSON.stringify(text)}`, offset);
  const n = Number(text);
  if (n < -1) throw new RespScanError(`negative length ${n}`, offset);
  return n;
}

/** End offset (exclusive) of the complete reply starting at `start`, or -1 if incomplete. Throws RespScanError on garbage. */
export function respReplyEnd(buf: Buffer, start = 0): number {
  return new RespReplyScanner(start).scan(buf);
}

/** Splits a buffer into complete replies; `rest` holds trailing bytes that are not a complete reply. */
export function splitReplies(buf: Buffer): { replies: Buffer[]; rest: Buffer } {
  const replies: Buffer[] = [];
  let start = 0;
  for (;;) {
    const end = respReplyEnd(buf, start);
    if (end < 0) break;
    replies.push(buf.subarray(start, end));
    start = end;
  }
  return { replies, rest: buf.subarray(start) };
}

// ---------------------------------------------------------------------------
// Raw TCP

export interface RawCommandOptions {
  /** Stop once this many complete RESP replies arrived. Without it, read until close or idle. */
  replies?: number;
  /** Stop after this long without new bytes. Default 2000 ms if `replies` is given, else 250 ms. */
  idleMs?: number;
  /** Hard limit for the whole exchange; default 10 s. Resolves with what arrived (does not reject). */
  timeoutMs?: number;
  host?: string;
  /** Half-close our side right after sending (the server sees EOF). */
  endAfterWrite?: boolean;
}

/**
 * Opens a raw TCP connection, sends `bytes` as is, and returns every byte received
 * until `replies` complete replies arrived, the peer closed, or the idle timeout hit.
 * If the received bytes are not valid RESP, reply counting stops and the function
 * waits for close/idle instead.
 */
export function rawCommand(
  port: number,
  bytes: Buffer | string,
  opts: RawCommandOptions = {},
): Promise<Buffer> {
  const want = opts.replies;
  const idleMs = opts.idleMs ?? (want === undefined ? 250 : 2000);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received: Buffer = Buffer.alloc(0);
    let count = 0;
    let countingBroken = false;
    const scanner = new RespReplyScanner(0);
    let settled = false;
    let idleTimer: NodeJS.Timeout | null = null;

    const sock = net.connect({ port, host: opts.host ?? '127.0.0.1' });
    const hardTimer = setTimeout(() => finish(), timeoutMs);

    function finish(): void {
      if (settled) return;
      settled = true;
      clearTimeout(hardTimer);
      if (idleTimer !== null) clearTimeout(idleTimer);
      sock.destroy();
      resolve(Buffer.concat(chunks));
    }
    function armIdle(): void {
      if (idleTimer !== null) clearTimeout(idleTimer);
      idleTimer = setTimeout(finish, idleMs);
    }

    sock.once('connect', () => {
      sock.write(bytes);
      if (opts.endAfterWrite === true) sock.end();
      armIdle();
    });
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      armIdle();
      if (want === undefined || countingBroken) return;
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      try {
        for (;;) {
          const end = scanner.scan(received);
          if (end < 0) break;
          count++;
          if (count >= want) {
            finish();
            return;
          }
          scanner.reset(end);
        }
      } catch (err) {
        if (err instanceof RespScanError) countingBroken = true;
        else throw err;
      }
    });
    sock.once('end', finish);
    sock.once('close', finish);
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      // A reset after some bytes arrived is just the peer closing on us.
      if (chunks.length > 0 || err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        finish();
        return;
      }
      settled = true;
      clearTimeout(hardTimer);
      if (idleTimer !== null) clearTimeout(idleTimer);
      reject(err);
    });
  });
}

/** Encodes one command as a RESP multibulk. */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------
// Processes

/** True while a process with this pid exists (signal 0 checks without sending). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true once the process is gone, false if it still runs after `ms`. */
export async function untilProcessGone(pid: number, ms = 5000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!processAlive(pid)) return true;
  }
  return !processAlive(pid);
}
