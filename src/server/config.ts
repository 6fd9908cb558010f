// Sabre's configuration: the parameter table, the command line and
// redis.conf-syntax file parsing, and the runtime side of CONFIG GET / SET.
//
// Semantics follow redis-server 7.0: the command line is turned into config
// file text ("--port 6380" becomes the line `port "6380"`) that is appended,
// after a newline, to the config file and stdin contents, and the whole text
// is parsed line by line. A bad line stops startup with Redis's FATAL CONFIG
// FILE ERROR report, which is thrown here as a ConfigError for main() to print.
//
// Deliberate differences from Redis, all documented where they happen:
//  - `dir` is not chdir()ed into here: the Config keeps the absolute path (as
//    CONFIG GET shows it) and main() is expected to process.chdir() into it.
//    Relative paths (`dir`, `include`, `logfile`) resolve against it.
//  - `enable-debug-command` defaults to "local" (Redis: "no") so that DEBUG
//    (e.g. DEBUG SLEEP, used by tests) works from loopback connections while
//    staying refused for remote clients.
//  - `loglevel` also accepts "nothing" (as Redis 7.2 does).
//  - `daemonize yes` and `appendonly yes` are refused with an explanation.
//  - Directives Sabre has no use for (rename-command, user, loadmodule,
//    sentinel, module configs) are "Bad directive" errors.

import { closeSync, openSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_ARENA_BYTES, MAX_FRONT_THREADS } from '../../native-layout/layout.ts';
import { globMatchString } from '../util/glob.ts';
import { formatLogLine, serverLog, setLogLevel, type LogLevelName } from './log.ts';


/**
 * The threads by core count, when not set (docs/architecture.md, "Front
 * threads: the defaults and the figures behind them").
 *
 * - Up to 2 cores, a shard cannot have a core of its own: front, shard and the
 *   clients share two. One front thread that runs the one shard itself
 *   (embedded) measured best there: memtier's 1:10 SET:GET at -P 1 at 1.03x
 *   Redis's throughput against 0.60x with the shard on its own thread, and no
 *   worse at -P 16; two front threads did not help (0.72x at -P 1).
 * - From 3 cores, the split follows the measured CPU per request of each
 *   kind of thread: a front thread costs about four times what a shard costs
 *   for the same request (socket work is most of a request's cost in Node), so
 *   four fifths of the cores go to front threads and the rest to shards, each
 *   on a thread of its own.
 */
export function defaultIoThreads(cores: number = availableParallelism()): number {
  return cores <= 2 ? 1 : Math.min(MAX_FRONT_THREADS, Math.max(1, Math.round((cores * 4) / 5)));
}

/** Shard workers when `shards` is not set: the cores the front threads leave, at least one (see defaultIoThreads). */
export function defaultShardCount(cores: number = availableParallelism()): number {
  return Math.min(256, Math.max(1, cores - defaultIoThreads(cores)));
}

/** Whether front threads run shards themselves when `embedded-shards` is not set: up to 2 cores (see defaultIoThreads). */
export function defaultEmbeddedShards(cores: number = availableParallelism()): boolean {
  return cores <= 2;
}

export const SABRE_VERSION = '0.1.0';

const INT_MAX = 2147483647n;
const UINT_MAX = 4294967295n;
const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;
const LONG_MAX = LLONG_MAX;
const ULLONG_MAX = 18446744073709551615n;
const KB = 1024n;
const MB = 1024n * 1024n;
const GB = 1024n * 1024n * 1024n;

/** Largest `shard-arena-mb`: the arena a shard can address, in whole MiB. */
export const MAX_ARENA_MB = BigInt(Math.floor(MAX_ARENA_BYTES / (1024 * 1024)));
/** Smallest explicit `shard-arena-mb` (tests use it to fill a shard). */
export const MIN_ARENA_MB = 16n;
/** Why a maxmemory-policy other than noeviction is refused (CONFIG SET and start-up). */
export const ERR_EVICTION_POLICY =
  "eviction is not implemented yet: only 'noeviction' is supported (writes are refused with OOM at maxmemory)";

/** Most addresses `bind` takes (Redis's CONFIG_BINDADDR_MAX). */
const BIND_MAX = 16;
/** Guard against include loops (Redis has none and would recurse forever). */
const MAX_INCLUDE_DEPTH = 32;

// ---------------------------------------------------------------------------
// Errors

/**
 * Startup configuration error. `text` is exactly what main() must write to
 * stderr before exiting with status 1.
 */
export class ConfigError extends Error {
  readonly text: string;
  constructor(text: string) {
    super(text.trim());
    this.name = 'ConfigError';
    this.text = text;
  }
}

function fatal(err: string, at?: { line: number; text: string }): ConfigError {
  let t = `\n*** FATAL CONFIG FILE ERROR (Sabre ${SABRE_VERSION}) ***\n`;
  if (at !== undefined) {
    t += `Reading the configuration file, at line ${at.line}\n>>> '${at.text}'\n`;
  }
  return new ConfigError(t + err + '\n');
}

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EROFS: 'Read-only file system',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ENOSPC: 'No space left on device',
  EIO: 'Input/output error',
};

/** The C library's strerror() text for a Node fs error. */
function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined) return STRERROR[code] ?? code;
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------
// Redis's string helpers (written from their documented behaviour)

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function eqNoCase(a: string, b: string): boolean {
  return asciiLower(a) === asciiLower(b);
}

function isSpaceChar(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

function isHexChar(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

function pushUtf8(out: number[], cp: number): void {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

const utf8Decoder = new TextDecoder('utf-8');

/**
 * Splits a line into arguments like Redis's sdssplitargs(): blanks separate
 * arguments; "double quotes" understand \n \r \t \b \a \xHH and \<any>;
 * 'single quotes' only understand \'; a closing quote must be followed by a
 * blank or the end. Returns null for unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  const n = line.length;
  let p = 0;
  for (;;) {
    while (p < n && isSpaceChar(line[p])) p++;
    if (p >= n) return out;
    let inq = false;
    let insq = false;
    let done = false;
    const bytes: number[] = [];
    while (!done) {
      const c = p < n ? line[p] : '';
      let step = 1;
      const pushHere = (): void => {
        const cp = line.codePointAt(p) ?? 0;
        step = cp > 0xffff ? 2 : 1;
        pushUtf8(bytes, cp);
      };
      if (inq) {
        if (c === '\\' && line[p + 1] === 'x' && isHexChar(line[p + 2]) && isHexChar(line[p + 3])) {
          bytes.push(parseInt(line.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === '\\' && p + 1 < n) {
          p++;
          const e = line[p];
          if (e === 'n') bytes.push(10);
          else if (e === 'r') bytes.push(13);
          else if (e === 't') bytes.push(9);
          else if (e === 'b') bytes.push(8);
          else if (e === 'a') bytes.push(7);
          else pushHere();
        } else if (c === '"') {
          if (p + 1 < n && !isSpaceChar(line[p + 1])) return null;
          done = true;
        } else if (c === '') {
          return null;
        } else {
          pushHere();
        }
      } else if (insq) {
        if (c === '\\' && line[p + 1] === "'") {
          p++;
          bytes.push(0x27);
        } else if (c === "'") {
          if (p + 1 < n && !isSpaceChar(line[p + 1])) return null;
          done = true;
        } else if (c === '') {
          return null;
        } else {
          pushHere();
        }
      } else if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '') {
        done = true;
      } else if (c === '"') {
        inq = true;
      } else if (c === "'") {
        insq = true;
      } else {
        pushHere();
      }
      if (p < n) p += step;
    }
    out.push(utf8Decoder.decode(new Uint8Array(bytes)));
  }
}

/**
 * Quotes a string like Redis's sdscatrepr(): double quotes around it, \\ \"
 * \n \r \t \a \b escaped, and every byte of its UTF-8 form outside printable
 * ASCII written as \xhh.
 */
export function reprArg(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x22) out += '\\"';
    else if (b === 10) out += '\\n';
    else if (b === 13) out += '\\r';
    else if (b === 9) out += '\\t';
    else if (b === 7) out += '\\a';
    else if (b === 8) out += '\\b';
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out + '"';
}

/**
 * Parses a memory size the way Redis's memtoull() does: digits followed by
 * nothing, b, k (1000), kb (1024), m, mb, g or gb (units case-insensitive).
 * Returns the value as an unsigned 64-bit integer (wrapping on overflow, as
 * Redis does), or null when the text is not a memory size. Note that, as in
 * Redis, an empty digit part counts as 0 ("" and "kb" are 0).
 */
export function parseMemory(s: string): bigint | null {
  if (s.startsWith('-')) return null;
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const unit = asciiLower(s.slice(i));
  let mul: bigint;
  if (unit === '' || unit === 'b') mul = 1n;
  else if (unit === 'k') mul = 1000n;
  else if (unit === 'kb') mul = KB;
  else if (unit === 'm') mul = 1000n * 1000n;
  else if (unit === 'mb') mul = MB;
  else if (unit === 'g') mul = 1000n * 1000n * 1000n;
  else if (unit === 'gb') mul = GB;
  else return null;
  if (i >= 128) return null;
  let v = i === 0 ? 0n : BigInt(s.slice(0, i));
  if (v > ULLONG_MAX) v = ULLONG_MAX; // strtoull() saturates
  return BigInt.asUintN(64, v * mul);
}

/**
 * Parses a signed 64-bit integer strictly, like Redis's string2ll(): no
 * blanks, no '+', no leading zeros, fits in a long long. Null otherwise.
 */
export function parseLongLong(s: string): bigint | null {
  if (s.length === 0 || s.length >= 21) return null;
  if (s === '0') return 0n;
  if (!/^-?[1-9][0-9]*$/.test(s)) return null;
  const v = BigInt(s);
  return v < LLONG_MIN || v > LLONG_MAX ? null : v;
}

/** strtoll(s, &end, 10) with the check that `end` is at the end of s. */
function strtollWhole(s: string): bigint | null {
  const m = /^[ \t\n\r\v\f]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return s === '' ? 0n : null; // no digits: end == s
  let v = BigInt(m[2] ?? '0');
  if (m[1] === '-') v = -v;
  if (v > LLONG_MAX) v = LLONG_MAX;
  if (v < LLONG_MIN) v = LLONG_MIN;
  return v;
}

function hasGlobChars(s: string): boolean {
  return /[*?[]/.test(s);
}

// ---------------------------------------------------------------------------
// Parameter table

export interface SaveRule {
  readonly seconds: number;
  readonly changes: number;
}

/** One class of client-output-buffer-limit (0 = no limit). */
export interface OutputBufferLimit {
  readonly hardBytes: bigint;
  readonly softBytes: bigint;
  readonly softSeconds: number;
}

/** Classes of client-output-buffer-limit, in Redis's order (its CLIENT_TYPE_* indexes). */
export const OUTPUT_CLASS_NORMAL = 0;
export const OUTPUT_CLASS_REPLICA = 1;
export const OUTPUT_CLASS_PUBSUB = 2;
/** The names CONFIG GET prints, by class. */
const OUTPUT_CLASS_NAMES = ['normal', 'slave', 'pubsub'];

export type ConfigValue = boolean | bigint | string | readonly string[] | readonly SaveRule[] | readonly OutputBufferLimit[];

export type SetResult = { ok: true; value: ConfigValue } | { ok: false; err: string };

/** What a special parameter's parser gets to see. */
export interface SpecialContext {
  /** The parameter's current value. */
  readonly current: ConfigValue;
  /** True while reading the config file / command line, false for CONFIG SET. */
  readonly fromFile: boolean;
  /** The current `dir`, for resolving relative paths. */
  readonly dir: string;
  /** For multi-line directives: true the first time it is asked per load. */
  firstInLoad(): boolean;
}

export type ParamType =
  | { readonly kind: 'bool' }
  | {
      readonly kind: 'int';
      readonly min: bigint;
      readonly max: bigint;
      /** Bounds are checked on the value taken as unsigned (C unsigned types). */
      readonly unsigned?: boolean;
      /** Accepted values outside this range are silently brought into it (hz). */
      readonly clamp?: readonly [bigint, bigint];
    }
  | { readonly kind: 'memory'; readonly min: bigint; readonly max: bigint; readonly unsigned?: boolean }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'string' }
  | {
      readonly kind: 'special';
      /** Takes several words (`save 3600 1 300 100`, `bind a b`). */
      readonly multiArg: boolean;
      parse(args: readonly string[], ctx: SpecialContext): SetResult;
      render(value: ConfigValue): string;
    };

export interface ParamDecl {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly type: ParamType;
  /** The default value, or a function computing it when a Config is created. */
  readonly default: ConfigValue | ((cwd: string) => ConfigValue);
  /** Whether CONFIG SET may change it. */
  readonly mutable: boolean;
  /** CONFIG SET only when enable-protected-configs allows it. */
  readonly protected?: boolean;
  /** Its value must be redacted from slowlog / MONITOR. */
  readonly sensitive?: boolean;
  /** Extra validation of a parsed value: an error text, or null if fine. */
  readonly validate?: (value: ConfigValue) => string | null;
  /**
   * Runs after a CONFIG SET changed the value (not during startup loading),
   * like Redis's apply functions. An error text makes the whole CONFIG SET
   * fail and be rolled back.
   */
  readonly apply?: (value: ConfigValue, config: Config) => string | null;
}

function saveParse(args: readonly string[], ctx: SpecialContext): SetResult {
  let list = args;
  let current = ctx.current as readonly SaveRule[];
  if (list.length === 1 && list[0] === '') {
    current = [];
    list = [];
  }
  const bad: SetResult = { ok: false, err: 'Invalid save parameters' };
  if (list.length % 2 !== 0) return bad;
  const nums: bigint[] = [];
  for (let j = 0; j < list.length; j++) {
    const v = strtollWhole(list[j] ?? '');
    if (v === null) return bad;
    if (j % 2 === 0 ? v < 1n : v < 0n) return bad;
    nums.push(v);
  }
  // In a config file the first `save` line replaces the defaults and later
  // ones add to it; CONFIG SET replaces everything.
  const base: SaveRule[] = ctx.fromFile && !ctx.firstInLoad() ? [...current] : [];
  for (let j = 0; j < nums.length; j += 2) {
    base.push({
      seconds: Number(nums[j] ?? 0n),
      changes: Number(BigInt.asIntN(32, nums[j + 1] ?? 0n)),
    });
  }
  return { ok: true, value: base };
}

function saveRender(v: ConfigValue): string {
  return (v as readonly SaveRule[]).map((r) => `${r.seconds} ${r.changes}`).join(' ');
}

function bindParse(args: readonly string[]): SetResult {
  if (args.length > BIND_MAX) return { ok: false, err: 'Too many bind addresses specified.' };
  if (args.length === 1 && args[0] === '') return { ok: true, value: [] };
  return { ok: true, value: [...args] };
}

function dirParse(args: readonly string[], ctx: SpecialContext): SetResult {
  const arg = args[0] ?? '';
  if (args.length !== 1) return { ok: false, err: 'wrong number of arguments' };
  if (arg === '') return { ok: false, err: STRERROR.ENOENT ?? 'No such file or directory' };
  const path = resolve(ctx.dir, arg);
  try {
    if (!statSync(path).isDirectory()) return { ok: false, err: STRERROR.ENOTDIR ?? 'Not a directory' };
    return { ok: true, value: realpathSync(path) };
  } catch (e) {
    return { ok: false, err: strerror(e) };
  }
}

/** maxmemory-clients: a memory value or a percentage of maxmemory (Redis's memory-or-percent type). */
function maxmemoryClientsParse(args: readonly string[]): SetResult {
  const arg = args[0] ?? '';
  const bad: SetResult = { ok: false, err: 'argument must be a memory or percent value' };
  if (arg.endsWith('%')) {
    const n = parseLongLong(arg.slice(0, -1));
    if (n === null || n < 0n) return bad;
    if (n > 100n) return { ok: false, err: 'percentage argument must be less or equal to 100' };
    return { ok: true, value: n === 0n ? '0' : `${n}%` };
  }
  const m = parseMemory(arg);
  if (m === null || m > LLONG_MAX) return bad;
  return { ok: true, value: String(m) };
}

/**
 * client-output-buffer-limit <class> <hard> <soft> <soft seconds> [...], as
 * Redis 7.0 reads it: the count must be a multiple of four; a class is normal,
 * slave/replica or pubsub (master is refused), case-insensitive; hard and soft
 * are memory values; soft seconds is strtoll() to the end of the word, kept as
 * a C int (so 4294967296 is 0) and refused when negative. Every group is
 * checked before any is applied; a later group of the same class wins.
 */
function outputLimitParse(args: readonly string[], ctx: SpecialContext): SetResult {
  if (args.length % 4 !== 0) return { ok: false, err: 'Wrong number of arguments in buffer limit configuration.' };
  const next = [...(ctx.current as readonly OutputBufferLimit[])];
  for (let j = 0; j < args.length; j += 4) {
    const name = asciiLower(args[j] ?? '');
    const cls = name === 'normal' ? OUTPUT_CLASS_NORMAL
      : name === 'slave' || name === 'replica' ? OUTPUT_CLASS_REPLICA
        : name === 'pubsub' ? OUTPUT_CLASS_PUBSUB : -1;
    if (cls < 0) return { ok: false, err: 'Invalid client class specified in buffer limit configuration.' };
    const hard = parseMemory(args[j + 1] ?? '');
    const soft = parseMemory(args[j + 2] ?? '');
    const seconds = strtollWhole(args[j + 3] ?? '');
    const softSeconds = seconds === null ? -1 : Number(BigInt.asIntN(32, seconds));
    if (hard === null || soft === null || softSeconds < 0) {
      return { ok: false, err: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
    next[cls] = { hardBytes: hard, softBytes: soft, softSeconds };
  }
  return { ok: true, value: next };
}

function outputLimitRender(v: ConfigValue): string {
  return (v as readonly OutputBufferLimit[])
    .map((l, cls) => `${OUTPUT_CLASS_NAMES[cls]} ${l.hardBytes} ${l.softBytes} ${l.softSeconds}`)
    .join(' ');
}

const yesNoLocal = ['no', 'yes', 'local'] as const;

const NO_RUNTIME_REBIND =
  "Sabre can't change its listening sockets at runtime yet: set bind and port in the configuration and restart";

/**
 * A parameter whose feature does not exist yet: its default (the value that
 * means "the feature is off or unused") is accepted, anything else is refused
 * with `why`, both at start-up (a fatal config error) and by CONFIG SET.
 */
function onlyDefault(render: (v: ConfigValue) => string, def: string, why: string): (v: ConfigValue) => string | null {
  return (v) => (render(v) === def ? null : why);
}

/** Every configuration parameter Sabre knows, in CONFIG GET * order. */
export const PARAMS: readonly ParamDecl[] = [
  {
    name: 'bind',
    type: { kind: 'special', multiArg: true, parse: bindParse, render: (v) => (v as readonly string[]).join(' ') },
    default: ['127.0.0.1', '-::1'],
    // Mutable in Redis; Sabre does not re-bind its listeners at runtime yet, so
    // a change is refused (setting the current value is fine, as in Redis).
    mutable: true,
    apply: () => NO_RUNTIME_REBIND,
  },
  {
    name: 'port',
    type: { kind: 'int', min: 0n, max: 65535n },
    default: 6379n,
    mutable: true,
    apply: () => NO_RUNTIME_REBIND,
  },
  { name: 'requirepass', type: { kind: 'string' }, default: '', mutable: true, sensitive: true },
  { name: 'databases', type: { kind: 'int', min: 1n, max: INT_MAX }, default: 16n, mutable: false },
  { name: 'maxclients', type: { kind: 'int', min: 1n, max: UINT_MAX, unsigned: true }, default: 10000n, mutable: true },
  {
    name: 'shards',
    type: { kind: 'int', min: 1n, max: 256n },
    default: () => BigInt(defaultShardCount()),
    mutable: false,
  },
  {
    // 0 (the default) means automatic: sized at start-up from maxmemory or the
    // machine's memory (router/shard-pool.ts chooseArenaBytes); the server then
    // stores the size it allocated, so CONFIG GET shows the real one.
    name: 'shard-arena-mb',
    type: { kind: 'int', min: 0n, max: MAX_ARENA_MB },
    default: 0n,
    mutable: false,
    validate: (v) =>
      (v as bigint) !== 0n && (v as bigint) < MIN_ARENA_MB
        ? `argument must be 0 (automatic) or between ${MIN_ARENA_MB} and ${MAX_ARENA_MB} inclusive`
        : null,
  },
  {
    // Network front threads (redis.conf's name): each accepts its share of
    // the connections on the same port (SO_REUSEPORT) and talks to every
    // shard through rings of its own. docs/architecture.md, "Front threads".
    name: 'io-threads',
    type: { kind: 'int', min: 1n, max: BigInt(MAX_FRONT_THREADS) },
    default: () => BigInt(defaultIoThreads()),
    mutable: false,
  },
  {
    // Sabre's own: front thread i runs shard i in its own thread (no hop for
    // its own requests), as Dragonfly's threads do; the other shards keep a
    // thread each. docs/architecture.md, "Front threads".
    name: 'embedded-shards',
    type: { kind: 'bool' },
    default: () => defaultEmbeddedShards(),
    mutable: false,
  },
  { name: 'shard-ring-kb', type: { kind: 'int', min: 4n, max: 1048576n }, default: 1024n, mutable: false },
  // Sabre's own: run the hot paths before accepting connections (server/warmup.ts).
  { name: 'warmup', type: { kind: 'bool' }, default: true, mutable: false },
  {
    name: 'dir',
    type: { kind: 'special', multiArg: false, parse: dirParse, render: (v) => v as string },
    default: (cwd) => cwd,
    mutable: true,
    protected: true,
  },
  {
    name: 'loglevel',
    type: { kind: 'enum', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'] },
    default: 'notice',
    mutable: true,
    apply: (v) => {
      setLogLevel(v as LogLevelName);
      return null;
    },
  },
  { name: 'logfile', type: { kind: 'string' }, default: '', mutable: false },
  { name: 'pidfile', type: { kind: 'string' }, default: '', mutable: false },
  {
    name: 'daemonize',
    type: { kind: 'bool' },
    default: false,
    mutable: false,
    validate: (v) =>
      v === true ? "Sabre can't daemonize: only 'daemonize no' is supported, run it under a process supervisor instead" : null,
  },
  { name: 'hz', type: { kind: 'int', min: 0n, max: INT_MAX, clamp: [1n, 500n] }, default: 10n, mutable: true },
  { name: 'timeout', type: { kind: 'int', min: 0n, max: INT_MAX }, default: 0n, mutable: true },
  { name: 'tcp-keepalive', type: { kind: 'int', min: 0n, max: INT_MAX }, default: 300n, mutable: true },
  { name: 'tcp-backlog', type: { kind: 'int', min: 0n, max: INT_MAX }, default: 511n, mutable: false },
  { name: 'protected-mode', type: { kind: 'bool' }, default: true, mutable: true },
  { name: 'proto-max-bulk-len', type: { kind: 'memory', min: MB, max: LONG_MAX }, default: 512n * MB, mutable: true },
  {
    name: 'client-query-buffer-limit',
    type: { kind: 'memory', min: MB, max: LONG_MAX, unsigned: true },
    default: GB,
    mutable: true,
  },
  {
    name: 'client-output-buffer-limit',
    type: { kind: 'special', multiArg: true, parse: outputLimitParse, render: outputLimitRender },
    default: [
      { hardBytes: 0n, softBytes: 0n, softSeconds: 0 },
      { hardBytes: 256n * MB, softBytes: 64n * MB, softSeconds: 60 },
      { hardBytes: 32n * MB, softBytes: 8n * MB, softSeconds: 60 },
    ],
    mutable: true,
  },
  { name: 'maxmemory', type: { kind: 'memory', min: 0n, max: ULLONG_MAX, unsigned: true }, default: 0n, mutable: true },
  {
    name: 'maxmemory-policy',
    type: {
      kind: 'enum',
      values: [
        'volatile-lru',
        'volatile-lfu',
        'volatile-random',
        'volatile-ttl',
        'allkeys-lru',
        'allkeys-lfu',
        'allkeys-random',
        'noeviction',
      ],
    },
    default: 'noeviction',
    mutable: true,
    // Every policy name is known (so a typo gets Redis's list), but only
    // noeviction works until eviction is implemented: the others are refused
    // rather than accepted and ignored.
    validate: (v) => (v === 'noeviction' ? null : ERR_EVICTION_POLICY),
  },
  // Eviction tuning, as in Redis; they have no effect under noeviction, the
  // only policy accepted for now.
  {
    // Client eviction: only 0 (off) until it is implemented.
    name: 'maxmemory-clients',
    type: { kind: 'special', multiArg: false, parse: maxmemoryClientsParse, render: (v) => v as string },
    default: '0',
    mutable: true,
    validate: (v) => (v === '0' ? null : 'client eviction is not implemented yet: only 0 (off) is supported'),
  },
  { name: 'maxmemory-samples', type: { kind: 'int', min: 1n, max: INT_MAX }, default: 5n, mutable: true },
  { name: 'maxmemory-eviction-tenacity', type: { kind: 'int', min: 0n, max: 100n }, default: 10n, mutable: true },
  {
    name: 'save',
    type: { kind: 'special', multiArg: true, parse: saveParse, render: saveRender },
    // Redis's default is "3600 1 300 100 60 10000". Sabre has no persistence
    // yet, so the honest default is "" (never save) and save points are refused.
    default: [],
    mutable: true,
    validate: onlyDefault(saveRender, '', 'persistence is not implemented yet: only save "" (no snapshots) is supported'),
  },
  {
    name: 'appendonly',
    type: { kind: 'bool' },
    default: false,
    mutable: true,
    validate: (v) => (v === true ? 'appendonly yes is not supported by Sabre yet: there is no persistence' : null),
  },
  { name: 'enable-debug-command', type: { kind: 'enum', values: yesNoLocal }, default: 'local', mutable: false },
  { name: 'enable-protected-configs', type: { kind: 'enum', values: yesNoLocal }, default: 'no', mutable: false },
  {
    name: 'slowlog-log-slower-than',
    type: { kind: 'int', min: -1n, max: LLONG_MAX },
    default: 10000n,
    mutable: true,
  },
  { name: 'slowlog-max-len', type: { kind: 'int', min: 0n, max: LONG_MAX }, default: 128n, mutable: true },
  {
    name: 'lazyfree-lazy-user-flush',
    type: { kind: 'bool' },
    default: false,
    mutable: true,
  },
  {
    name: 'busy-reply-threshold',
    aliases: ['lua-time-limit'],
    type: { kind: 'int', min: 0n, max: LONG_MAX },
    default: 5000n,
    mutable: true,
    validate: onlyDefault(String, '5000', 'scripts and functions are not implemented yet: only the default (5000) is supported'),
  },
  { name: 'activerehashing', type: { kind: 'bool' }, default: true, mutable: true },
  { name: 'lfu-log-factor', type: { kind: 'int', min: 0n, max: INT_MAX }, default: 10n, mutable: true },
  { name: 'lfu-decay-time', type: { kind: 'int', min: 0n, max: INT_MAX }, default: 1n, mutable: true },
  { name: 'active-expire-effort', type: { kind: 'int', min: 1n, max: 10n }, default: 1n, mutable: true },
  {
    name: 'list-max-listpack-size', aliases: ['list-max-ziplist-size'],
    type: { kind: 'int', min: -2147483648n, max: INT_MAX }, default: -2n, mutable: true,
  },
  // Redis 7.0 has set-max-intset-entries only; the two listpack settings are 7.2's (sets of short strings
  // are kept packed up to them; OBJECT ENCODING still says hashtable, as 7.0 does).
  { name: 'set-max-intset-entries', type: { kind: 'int', min: 0n, max: LONG_MAX }, default: 512n, mutable: true },
  { name: 'set-max-listpack-entries', type: { kind: 'int', min: 0n, max: LONG_MAX }, default: 128n, mutable: true },
  { name: 'set-max-listpack-value', type: { kind: 'int', min: 0n, max: LONG_MAX }, default: 64n, mutable: true },
  {
    name: 'zset-max-listpack-entries', aliases: ['zset-max-ziplist-entries'],
    type: { kind: 'int', min: 0n, max: LONG_MAX }, default: 128n, mutable: true,
  },
  {
    name: 'zset-max-listpack-value', aliases: ['zset-max-ziplist-value'],
    type: { kind: 'memory', min: 0n, max: LONG_MAX }, default: 64n, mutable: true,
  },
  {
    name: 'hll-sparse-max-bytes', type: { kind: 'memory', min: 0n, max: LONG_MAX, unsigned: true }, default: 3000n,
    mutable: true,
  },
  {
    name: 'hash-max-listpack-entries', aliases: ['hash-max-ziplist-entries'],
    type: { kind: 'int', min: 0n, max: LONG_MAX }, default: 512n, mutable: true,
  },
  {
    name: 'hash-max-listpack-value', aliases: ['hash-max-ziplist-value'],
    type: { kind: 'memory', min: 0n, max: LONG_MAX }, default: 64n, mutable: true,
  },
  {
    name: 'list-compress-depth', type: { kind: 'int', min: 0n, max: INT_MAX }, default: 0n, mutable: true,
    validate: onlyDefault(String, '0', 'list compression is not implemented yet: only 0 is supported'),
  },
];

interface Entry {
  /** The name it is registered under (the alias itself for alias entries). */
  readonly name: string;
  readonly decl: ParamDecl;
}

const ENTRIES: readonly Entry[] = PARAMS.flatMap((decl) => [
  { name: decl.name, decl },
  ...(decl.aliases ?? []).map((a) => ({ name: a, decl })),
]);

const BY_NAME: ReadonlyMap<string, Entry> = new Map(ENTRIES.map((e) => [e.name, e]));

function lookup(name: string): Entry | undefined {
  return BY_NAME.get(asciiLower(name));
}

/** The declaration of a parameter, by name or alias (case-insensitive). */
export function findParam(name: string): ParamDecl | undefined {
  return lookup(name)?.decl;
}

/** Whether a parameter's value must be hidden from logs (requirepass). */
export function isSensitiveConfig(name: string): boolean {
  return lookup(name)?.decl.sensitive === true;
}

function isMultiArg(decl: ParamDecl): boolean {
  return decl.type.kind === 'special' && decl.type.multiArg;
}

function renderValue(decl: ParamDecl, v: ConfigValue): string {
  const t = decl.type;
  switch (t.kind) {
    case 'bool':
      return v === true ? 'yes' : 'no';
    case 'int':
    case 'memory':
      return String(v);
    case 'enum':
    case 'string':
      return v as string;
    case 'special':
      return t.render(v);
  }
}

function parseNumeric(
  t: { readonly min: bigint; readonly max: bigint; readonly unsigned?: boolean },
  memory: boolean,
  arg: string,
): SetResult {
  let ll: bigint;
  if (memory) {
    const u = parseMemory(arg);
    if (u === null) return { ok: false, err: 'argument must be a memory value' };
    ll = BigInt.asIntN(64, u);
  } else {
    const v = parseLongLong(arg);
    if (v === null) return { ok: false, err: "argument couldn't be parsed into an integer" };
    ll = v;
  }
  const v = t.unsigned === true ? BigInt.asUintN(64, ll) : ll;
  if (v < t.min || v > t.max) {
    return { ok: false, err: `argument must be between ${t.min} and ${t.max} inclusive` };
  }
  return { ok: true, value: v };
}

function parseValue(decl: ParamDecl, args: readonly string[], ctx: SpecialContext): SetResult {
  const t = decl.type;
  const arg = args[0] ?? '';
  let r: SetResult;
  switch (t.kind) {
    case 'bool':
      if (eqNoCase(arg, 'yes')) r = { ok: true, value: true };
      else if (eqNoCase(arg, 'no')) r = { ok: true, value: false };
      else r = { ok: false, err: "argument must be 'yes' or 'no'" };
      break;
    case 'int': {
      r = parseNumeric(t, false, arg);
      if (r.ok && t.clamp !== undefined) {
        const v = r.value as bigint;
        const [lo, hi] = t.clamp;
        r = { ok: true, value: v < lo ? lo : v > hi ? hi : v };
      }
      break;
    }
    case 'memory':
      r = parseNumeric(t, true, arg);
      break;
    case 'enum': {
      const found = args.length === 1 ? t.values.find((x) => eqNoCase(x, arg)) : undefined;
      r =
        found === undefined
          ? { ok: false, err: `argument(s) must be one of the following: ${t.values.join(', ')}` }
          : { ok: true, value: found };
      break;
    }
    case 'string':
      r = { ok: true, value: arg };
      break;
    case 'special':
      r = t.parse(args, ctx);
      break;
  }
  if (r.ok && decl.validate !== undefined) {
    const err = decl.validate(r.value);
    if (err !== null) return { ok: false, err };
  }
  return r;
}

// ---------------------------------------------------------------------------
// Config

export type ChangeListener = (name: string, value: string) => void;
export type ApplyHook = (config: Config) => string | null;

export interface ConfigSetOptions {
  /** The client is on a local connection (for enable-protected-configs local). */
  local?: boolean;
}

export class Config {
  /** Absolute path of the config file given on the command line, or null. */
  configFile: string | null = null;
  /** Whether the command line had any argument at all. */
  hasArguments = false;

  readonly #values = new Map<ParamDecl, ConfigValue>();
  readonly #listeners = new Map<ParamDecl, ChangeListener[]>();
  readonly #applyHooks = new Map<ParamDecl, ApplyHook[]>();
  #firstInLoad = new Set<ParamDecl>();
  #includeDepth = 0;

  /** A configuration at its defaults; `cwd` is the default `dir`. */
  constructor(cwd: string = process.cwd()) {
    for (const decl of PARAMS) {
      const d = decl.default;
      this.#values.set(decl, typeof d === 'function' ? d(cwd) : d);
    }
  }

  // --- typed access -------------------------------------------------------

  #raw(name: string): ConfigValue {
    const decl = findParam(name);
    if (decl === undefined) throw new Error(`unknown config parameter '${name}'`);
    return this.#values.get(decl) as ConfigValue;
  }

  /** The value of a parameter as CONFIG GET renders it. */
  get(name: string): string | undefined {
    const decl = findParam(name);
    return decl === undefined ? undefined : renderValue(decl, this.#values.get(decl) as ConfigValue);
  }

  /** A numeric parameter (int or memory) as a number. */
  getNumber(name: string): number {
    return Number(this.getBigInt(name));
  }

  getBigInt(name: string): bigint {
    const v = this.#raw(name);
    if (typeof v !== 'bigint') throw new Error(`config parameter '${name}' is not numeric`);
    return v;
  }

  getBool(name: string): boolean {
    const v = this.#raw(name);
    if (typeof v !== 'boolean') throw new Error(`config parameter '${name}' is not a bool`);
    return v;
  }

  getString(name: string): string {
    const v = this.#raw(name);
    if (typeof v !== 'string') throw new Error(`config parameter '${name}' is not a string`);
    return v;
  }

  get bind(): readonly string[] {
    return this.#raw('bind') as readonly string[];
  }
  get port(): number {
    return this.getNumber('port');
  }
  /** "" when no password is set. */
  get requirepass(): string {
    return this.getString('requirepass');
  }
  get databases(): number {
    return this.getNumber('databases');
  }
  get maxclients(): number {
    return this.getNumber('maxclients');
  }
  get shards(): number {
    return this.getNumber('shards');
  }
  /** MiB per shard arena; 0 until start-up resolves the automatic size (setComputed). */
  get shardArenaMb(): number {
    return this.getNumber('shard-arena-mb');
  }
  /** Absolute path. */
  get dir(): string {
    return this.getString('dir');
  }
  get loglevel(): LogLevelName {
    return this.getString('loglevel') as LogLevelName;
  }
  /** As configured ("" = stdout); relative paths are relative to `dir`. */
  get logfile(): string {
    return this.getString('logfile');
  }
  get pidfile(): string {
    return this.getString('pidfile');
  }
  get hz(): number {
    return this.getNumber('hz');
  }
  get timeout(): number {
    return this.getNumber('timeout');
  }
  get tcpKeepalive(): number {
    return this.getNumber('tcp-keepalive');
  }
  get tcpBacklog(): number {
    return this.getNumber('tcp-backlog');
  }
  get protectedMode(): boolean {
    return this.getBool('protected-mode');
  }
  get protoMaxBulkLen(): number {
    return this.getNumber('proto-max-bulk-len');
  }
  get clientQueryBufferLimit(): number {
    return this.getNumber('client-query-buffer-limit');
  }
  /** client-output-buffer-limit, indexed by OUTPUT_CLASS_*. */
  get clientOutputBufferLimits(): readonly OutputBufferLimit[] {
    return this.#raw('client-output-buffer-limit') as readonly OutputBufferLimit[];
  }
  get maxmemory(): number {
    return this.getNumber('maxmemory');
  }
  get maxmemoryPolicy(): string {
    return this.getString('maxmemory-policy');
  }

  /**
   * Stores a value the server computed at start-up for a parameter whose
   * default is automatic (shard-arena-mb), so that CONFIG GET shows what is in
   * use. Bypasses mutability; not for values a user gave.
   */
  setComputed(name: string, value: bigint): void {
    const decl = findParam(name);
    if (decl === undefined) throw new Error(`unknown config parameter '${name}'`);
    this.#values.set(decl, value);
  }
  get save(): readonly SaveRule[] {
    return this.#raw('save') as readonly SaveRule[];
  }
  get appendonly(): boolean {
    return this.getBool('appendonly');
  }
  get enableDebugCommand(): 'no' | 'yes' | 'local' {
    return this.getString('enable-debug-command') as 'no' | 'yes' | 'local';
  }
  get enableProtectedConfigs(): 'no' | 'yes' | 'local' {
    return this.getString('enable-protected-configs') as 'no' | 'yes' | 'local';
  }
  get slowlogLogSlowerThan(): number {
    return this.getNumber('slowlog-log-slower-than');
  }
  get slowlogMaxLen(): number {
    return this.getNumber('slowlog-max-len');
  }
  get lazyfreeLazyUserFlush(): boolean {
    return this.getBool('lazyfree-lazy-user-flush');
  }
  get busyReplyThreshold(): number {
    return this.getNumber('busy-reply-threshold');
  }
  get activerehashing(): boolean {
    return this.getBool('activerehashing');
  }
  get activeExpireEffort(): number {
    return this.getNumber('active-expire-effort');
  }
  get lfuLogFactor(): number {
    return this.getNumber('lfu-log-factor');
  }
  get listMaxListpackSize(): number {
    return this.getNumber('list-max-listpack-size');
  }
  get zsetMaxListpackEntries(): number {
    return this.getNumber('zset-max-listpack-entries');
  }
  get zsetMaxListpackValue(): number {
    return this.getNumber('zset-max-listpack-value');
  }
  get hllSparseMaxBytes(): number {
    return this.getNumber('hll-sparse-max-bytes');
  }

  get hashMaxListpackEntries(): number {
    return this.getNumber('hash-max-listpack-entries');
  }

  get hashMaxListpackValue(): number {
    return this.getNumber('hash-max-listpack-value');
  }

  get setMaxIntsetEntries(): number {
    return this.getNumber('set-max-intset-entries');
  }
  get setMaxListpackEntries(): number {
    return this.getNumber('set-max-listpack-entries');
  }
  get setMaxListpackValue(): number {
    return this.getNumber('set-max-listpack-value');
  }

  get lfuDecayTime(): number {
    return this.getNumber('lfu-decay-time');
  }

  /**
   * Whether a protected action is allowed by `enable-debug-command` or
   * `enable-protected-configs` ("yes", or "local" for a local connection).
   */
  allowsProtectedAction(param: 'enable-debug-command' | 'enable-protected-configs', local: boolean): boolean {
    const v = this.getString(param);
    return v === 'yes' || (v === 'local' && local);
  }

  /** Resolves a path relative to `dir` (where Redis would have chdir()ed). */
  resolvePath(p: string): string {
    return resolve(this.dir, p);
  }

  // --- loading ------------------------------------------------------------

  #ctx(decl: ParamDecl, fromFile: boolean, current: ConfigValue): SpecialContext {
    return {
      current,
      fromFile,
      dir: this.dir,
      firstInLoad: () => {
        if (this.#firstInLoad.has(decl)) return false;
        this.#firstInLoad.add(decl);
        return true;
      },
    };
  }

  /**
   * Parses config file text (redis.conf syntax) into this configuration.
   * Throws ConfigError, with line numbers counted within `text`.
   */
  loadString(text: string): void {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] ?? '').replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '' || line.startsWith('#')) continue;
      const at = { line: i + 1, text: line };
      const argv = splitArgs(line);
      if (argv === null) throw fatal('Unbalanced quotes in configuration line', at);
      if (argv.length === 0) continue;
      const name = asciiLower(argv[0] ?? '');
      const entry = lookup(name);
      if (entry !== undefined) {
        const decl = entry.decl;
        const multi = isMultiArg(decl);
        if (!multi && argv.length !== 2) throw fatal('wrong number of arguments', at);
        let args = argv.slice(1);
        if (multi && argv.length === 2 && argv[1] !== '') {
          // `--save "3600 1 300 100"`: one argument holding several words.
          args = splitArgs(argv[1] ?? '') ?? [];
        }
        const r = parseValue(decl, args, this.#ctx(decl, true, this.#values.get(decl) as ConfigValue));
        if (!r.ok) throw fatal(r.err, at);
        this.#values.set(decl, r.value);
        continue;
      }
      if (name === 'include' && argv.length === 2) {
        this.#include(argv[1] ?? '', at);
        continue;
      }
      throw fatal('Bad directive or wrong number of arguments', at);
    }
    // Like Redis, check at the end of every load that the log file can be
    // opened (the server could not abort later for this).
    const logfile = this.logfile;
    if (logfile !== '') {
      try {
        closeSync(openSync(this.resolvePath(logfile), 'a'));
      } catch (e) {
        throw fatal(`Can't open the log file: ${strerror(e)}`);
      }
    }
  }

  /** Reads and loads one config file (an absolute or `dir`-relative path). */
  loadFile(path: string): void {
    this.loadString(readConfigFile(this.resolvePath(path), path));
  }

  #include(pattern: string, at: { line: number; text: string }): void {
    if (this.#includeDepth >= MAX_INCLUDE_DEPTH) {
      throw fatal(`Too many nested includes (more than ${MAX_INCLUDE_DEPTH})`, at);
    }
    this.#includeDepth++;
    try {
      if (hasGlobChars(pattern)) {
        // Like Redis: the matching files are read one after the other into a
        // single text (so line numbers run across them), and a pattern that
        // matches nothing is fine (an empty conf.d/).
        const files = expandGlob(this.resolvePath(pattern));
        if (files.length > 0) this.loadString(files.map((f) => readConfigFile(f, f)).join(''));
      } else {
        this.loadFile(pattern);
      }
    } finally {
      this.#includeDepth--;
    }
  }

  // --- CONFIG GET / SET ---------------------------------------------------

  /**
   * CONFIG GET: name/value pairs for every parameter matching one of the
   * patterns (case-insensitive glob; names without glob characters are looked
   * up directly and echoed as spelled). Each parameter appears once.
   */
  configGet(patterns: readonly string[]): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const pat of patterns) {
      if (!hasGlobChars(pat)) {
        const e = lookup(pat);
        if (e !== undefined && !seen.has(e.name)) {
          seen.add(e.name);
          out.push([pat, renderValue(e.decl, this.#values.get(e.decl) as ConfigValue)]);
        }
        continue;
      }
      for (const e of ENTRIES) {
        if (seen.has(e.name) || !globMatchString(pat, e.name, true)) continue;
        seen.add(e.name);
        out.push([e.name, renderValue(e.decl, this.#values.get(e.decl) as ConfigValue)]);
      }
    }
    return out;
  }

  /**
   * CONFIG SET: applies all pairs or none. Returns null on success or the
   * error reply text (starting with "ERR ").
   */
  configSet(pairs: ReadonlyArray<readonly [string, string]>, opts: ConfigSetOptions = {}): string | null {
    const failed = (name: string, err: string): string =>
      `ERR CONFIG SET failed (possibly related to argument '${name}') - ${err}`;

    // 1. Resolve names; the first problem wins.
    const items: Array<{ entry: Entry; value: string }> = [];
    const seen = new Set<string>();
    for (const [name, value] of pairs) {
      const entry = lookup(name);
      if (entry === undefined) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
      const decl = entry.decl;
      if (!decl.mutable) return failed(name, "can't set immutable config");
      if (decl.protected === true && !this.allowsProtectedAction('enable-protected-configs', opts.local === true)) {
        return failed(name, "can't set protected config");
      }
      if (seen.has(entry.name)) return failed(name, 'duplicate parameter');
      seen.add(entry.name);
      items.push({ entry, value });
    }

    // 2. Parse every value in order (a later one sees an earlier one, as when
    //    an alias and its parameter are both given).
    const staged = new Map<ParamDecl, ConfigValue>();
    for (const { entry, value } of items) {
      const decl = entry.decl;
      let args: string[] = [value];
      if (isMultiArg(decl)) args = value === '' ? [] : value.split(' ');
      const current = staged.has(decl) ? (staged.get(decl) as ConfigValue) : (this.#values.get(decl) as ConfigValue);
      const r = parseValue(decl, args, this.#ctx(decl, false, current));
      if (!r.ok) return failed(entry.name, r.err);
      staged.set(decl, r.value);
    }

    // 3. Commit, then run the apply hooks of what changed; undo on failure.
    const old = new Map<ParamDecl, ConfigValue>();
    const changed: ParamDecl[] = [];
    for (const [decl, v] of staged) {
      const prev = this.#values.get(decl) as ConfigValue;
      old.set(decl, prev);
      if (renderValue(decl, prev) !== renderValue(decl, v)) changed.push(decl);
      this.#values.set(decl, v);
    }
    const applied: ParamDecl[] = [];
    for (const decl of changed) {
      applied.push(decl);
      const err = this.#runApply(decl);
      if (err !== null) {
        for (const [d, v] of old) this.#values.set(d, v);
        for (const d of applied) this.#runApply(d);
        const entry = items.find((it) => it.entry.decl === decl)?.entry;
        return failed(entry?.name ?? decl.name, err);
      }
    }

    // 4. Tell the listeners.
    for (const decl of changed) {
      const fns = this.#listeners.get(decl);
      if (fns === undefined) continue;
      const rendered = renderValue(decl, this.#values.get(decl) as ConfigValue);
      for (const fn of [...fns]) fn(decl.name, rendered);
    }
    return null;
  }

  #runApply(decl: ParamDecl): string | null {
    const v = this.#values.get(decl) as ConfigValue;
    if (decl.apply !== undefined) {
      const err = decl.apply(v, this);
      if (err !== null) return err;
    }
    for (const hook of this.#applyHooks.get(decl) ?? []) {
      const err = hook(this);
      if (err !== null) return err;
    }
    return null;
  }

  /**
   * Calls `fn(canonicalName, renderedValue)` after a successful CONFIG SET
   * changed the parameter. Returns a function that removes the listener.
   */
  onChange(name: string, fn: ChangeListener): () => void {
    const decl = findParam(name);
    if (decl === undefined) throw new Error(`unknown config parameter '${name}'`);
    const list = this.#listeners.get(decl) ?? [];
    list.push(fn);
    this.#listeners.set(decl, list);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /**
   * Adds a hook run (after the table's own apply) when CONFIG SET changes the
   * parameter, before the change is final: returning an error text makes the
   * CONFIG SET fail and be rolled back (hooks are then run again with the old
   * values). Returns a function that removes the hook.
   */
  addApplyHook(name: string, fn: ApplyHook): () => void {
    const decl = findParam(name);
    if (decl === undefined) throw new Error(`unknown config parameter '${name}'`);
    const list = this.#applyHooks.get(decl) ?? [];
    list.push(fn);
    this.#applyHooks.set(decl, list);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }
}

// ---------------------------------------------------------------------------
// Files

// Like fopen()+fgets() on Linux, a directory opens fine and reads as empty.
function isDirError(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'EISDIR';
}

function readConfigFile(path: string, shown: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (isDirError(e)) return '';
    const msg = `Fatal error, can't open config file '${shown}': ${strerror(e)}`;
    throw new ConfigError(formatLogLine('warning', msg, { role: 'C' }) + '\n');
  }
}

// Expands a glob pattern over the file system (like glob(3): wildcards do not
// match a leading '.', results sorted).
function expandGlob(pattern: string): string[] {
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : '.'];
  for (let i = parts[0] === '' ? 1 : 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (part === '') continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!hasGlobChars(part)) {
        next.push(join(base, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const n of names) {
        if (n.startsWith('.') && !part.startsWith('.')) continue;
        if (globMatchString(part, n, false)) next.push(join(base, n));
      }
    }
    bases = next;
  }
  return bases
    .filter((p) => {
      try {
        statSync(p);
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

// ---------------------------------------------------------------------------
// Command line

export interface ArgsEnv {
  readFile(path: string): string;
  readStdin(): string;
  cwd(): string;
  stdout(text: string): void;
  stderr(text: string): void;
  exit(code: number): never;
  /** Logs the "Reading config from stdin" warning (default: the server log, role C). */
  log(message: string): void;
}

const defaultEnv: ArgsEnv = {
  readFile: (p) => readFileSync(p, 'utf8'),
  readStdin: () => readFileSync(0, 'utf8'),
  cwd: () => process.cwd(),
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  exit: (code) => process.exit(code),
  log: (message) => serverLog('warning', message, 'C'),
};

export function versionText(): string {
  return `Sabre server v=${SABRE_VERSION} sha=00000000:0 bits=64 node=${process.version}\n`;
}

export function usageText(): string {
  return [
    'Usage: ./sabre-server [/path/to/sabre.conf] [options] [-]',
    '       ./sabre-server - (read config from stdin)',
    '       ./sabre-server -v or --version',
    '       ./sabre-server -h or --help',
    '',
    'Examples:',
    '       ./sabre-server (run the server with default conf)',
    "       echo 'maxmemory 128mb' | ./sabre-server -",
    '       ./sabre-server /etc/sabre/6379.conf',
    '       ./sabre-server --port 7777',
    '       ./sabre-server --port 7777 --shards 4',
    '       ./sabre-server /etc/mysabre.conf --loglevel verbose -',
    '       ./sabre-server /etc/mysabre.conf --loglevel verbose',
    '',
    '',
  ].join('\n');
}

/**
 * Turns command line options (everything after the optional config file) into
 * config file text, the way redis-server 7 does: `--name` starts a line, each
 * following word is appended quoted; `--name value` given as one word is
 * taken as is; `-` as the very first or the last argument of the command
 * line means "read stdin too" (`afterConfigFile`: args follow a config file
 * path, so args[0] is not the first argument).
 */
export function optionsToConfigText(
  args: readonly string[],
  afterConfigFile = false,
): { text: string; fromStdin: boolean } {
  let text = '';
  let fromStdin = false;
  let handledLast = true;
  const n = args.length;
  for (let j = 0; j < n; j++) {
    const a = args[j] ?? '';
    if (a === '-' && ((j === 0 && !afterConfigFile) || j === n - 1)) {
      fromStdin = true;
    } else if (handledLast && a.startsWith('--')) {
      if (text.length > 0) text += '\n';
      text += a.slice(2) + ' ';
      const words = splitArgs(a);
      if (words !== null && words.length === 1) {
        // Only a name so far: the next word is its value, even if it starts
        // with "--" ... except for an empty `--save`.
        handledLast = false;
        const isSave = eqNoCase(a, '--save');
        if (isSave && j !== n - 1 && (args[j + 1] ?? '').startsWith('--')) {
          text += '""';
          handledLast = true;
        } else if (isSave && j === n - 1) {
          text += '""';
        }
      } else {
        handledLast = true;
      }
    } else {
      text += reprArg(a) + ' ';
      handledLast = true;
    }
  }
  return { text, fromStdin };
}

/**
 * Builds the configuration from the command line arguments (without the
 * program name, i.e. process.argv.slice(2)), exactly like redis-server:
 *   sabre-server [/path/to/sabre.conf] [--name value [value...]]... [-]
 * `-v`/`--version` prints the version and exits 0, `-h`/`--help` prints the
 * usage to stderr and exits 1 (through env.exit). Throws ConfigError.
 */
export function parseArgs(argv: readonly string[], env: Partial<ArgsEnv> = {}): Config {
  const e: ArgsEnv = { ...defaultEnv, ...env };
  const cwd = e.cwd();
  const config = new Config(cwd);
  if (argv.length === 0) return config;
  config.hasArguments = true;

  const first = argv[0] ?? '';
  if (first === '-v' || first === '--version') {
    e.stdout(versionText());
    e.exit(0);
  }
  if (first === '--help' || first === '-h') {
    e.stderr(usageText());
    e.exit(1);
  }

  let rest = argv;
  if (!first.startsWith('-')) {
    config.configFile = resolve(cwd, first);
    rest = argv.slice(1);
  }
  const { text: options, fromStdin } = optionsToConfigText(rest, config.configFile !== null);

  let text = '';
  if (config.configFile !== null) {
    const path = config.configFile;
    try {
      text += e.readFile(path);
    } catch (err) {
      if (!isDirError(err)) {
        const msg = `Fatal error, can't open config file '${path}': ${strerror(err)}`;
        throw new ConfigError(formatLogLine('warning', msg, { role: 'C' }) + '\n');
      }
    }
  }
  if (fromStdin) {
    e.log('Reading config from stdin');
    text += e.readStdin();
  }
  text += '\n' + options;
  config.loadString(text);
  return config;
}

/** A Config read from config file text alone (no command line). */
export function configFromString(text: string, cwd: string = process.cwd()): Config {
  const c = new Config(cwd);
  c.loadString(text);
  return c;
}
