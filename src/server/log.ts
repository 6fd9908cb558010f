// Sabre's server log, in Redis's line format:
//
//   <pid>:<role> <dd> <Mon> <yyyy> <hh:mm:ss.mmm> <level-char> <message>
//
// role: M = main (front) thread, C = before the server is up (config
// loading, as Redis prints it), S = replica, X = sentinel. Level chars:
// '.' debug, '-' verbose, '*' notice, '#' warning. Lines below the current
// verbosity are dropped ('nothing' drops everything). The log goes to stdout
// when the log file is "" and is otherwise appended to the file, which is
// opened and closed for every line as Redis does (so rotation just works).
// Everything is synchronous: a log line is on its way before the call returns.

import { appendFileSync, writeSync } from 'node:fs';

export type LogLevelName = 'debug' | 'verbose' | 'notice' | 'warning' | 'nothing';
/** A level a line can be written at ('nothing' is only a verbosity). */
export type LineLevel = Exclude<LogLevelName, 'nothing'>;
export type LogRole = 'M' | 'C' | 'S' | 'X';

/** Verbosity names in increasing order, as `loglevel` accepts them. */
export const LOG_LEVELS: readonly LogLevelName[] = ['debug', 'verbose', 'notice', 'warning', 'nothing'];

const LEVEL_CHAR = '.-*#';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let verbosity = 2; // notice
let logFile = '';
let role: LogRole = 'M';
let sink: ((text: string) => void) | null = null;

function rank(level: LogLevelName): number {
  return LOG_LEVELS.indexOf(level);
}

export function setLogLevel(level: LogLevelName): void {
  verbosity = rank(level);
}

export function getLogLevel(): LogLevelName {
  return LOG_LEVELS[verbosity] ?? 'notice';
}

/** "" logs to stdout; anything else is a path appended to for every line. */
export function setLogFile(path: string): void {
  logFile = path;
}

export function getLogFile(): string {
  return logFile;
}

export function setLogRole(r: LogRole): void {
  role = r;
}

/**
 * Redirects all log output to `fn` (for tests); null restores stdout / the
 * log file.
 */
export function setLogSink(fn: ((text: string) => void) | null): void {
  sink = fn;
}

/** True when a line at `level` would be written with the current verbosity. */
export function logEnabled(level: LineLevel): boolean {
  return rank(level) >= verbosity;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export interface LogLineOptions {
  pid?: number;
  role?: LogRole;
  now?: Date;
}

/** One formatted log line, without the trailing newline. */
export function formatLogLine(level: LineLevel, message: string, opts: LogLineOptions = {}): string {
  const d = opts.now ?? new Date();
  const stamp =
    `${pad(d.getDate(), 2)} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
  const pid = opts.pid ?? process.pid;
  return `${pid}:${opts.role ?? role} ${stamp} ${LEVEL_CHAR[rank(level)]} ${message}`;
}

// Writes the whole text to stdout, retrying when a non-blocking pipe is full.
function writeStdout(text: string): void {
  let buf = Buffer.from(text, 'utf8');
  let spins = 0;
  while (buf.length > 0) {
    try {
      const n = writeSync(1, buf);
      buf = buf.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++spins > 10000) return;
    }
  }
}

function emit(text: string): void {
  if (sink !== null) {
    sink(text);
  } else if (logFile === '') {
    writeStdout(text);
  } else {
    // Like Redis: if the file can't be opened the line is lost.
    try {
      appendFileSync(logFile, text);
    } catch {
      // nothing sensible to do
    }
  }
}

/** Logs one line at `level`, honouring the verbosity. */
export function serverLog(level: LineLevel, message: string, r?: LogRole): void {
  if (!logEnabled(level)) return;
  emit(formatLogLine(level, message, r === undefined ? {} : { role: r }) + '\n');
}

/** Writes `text` as is (no prefix, no newline added), honouring the verbosity. */
export function logRaw(level: LineLevel, text: string): void {
  if (!logEnabled(level)) return;
  emit(text);
}

export function logDebug(message: string): void {
  serverLog('debug', message);
}
export function logVerbose(message: string): void {
  serverLog('verbose', message);
}
export function logNotice(message: string): void {
  serverLog('notice', message);
}
export function logWarning(message: string): void {
  serverLog('warning', message);
}

export interface StartingInfo {
  version: string;
  pid?: number;
  /** Absolute path of the config file, or null. */
  configFile: string | null;
  /** Whether the command line had any argument (Redis warns when it had none). */
  hasArguments: boolean;
  /** The program name to show in the "no config file" warning. */
  argv0?: string;
}

/** The first lines Redis prints, before the server is set up. */
export function logStarting(info: StartingInfo): void {
  const pid = info.pid ?? process.pid;
  serverLog('warning', 'oO0OoO0OoO0Oo Sabre is starting oO0OoO0OoO0Oo', 'C');
  serverLog('warning', `Sabre version=${info.version}, bits=64, commit=00000000, modified=0, pid=${pid}, just started`, 'C');
  if (!info.hasArguments) {
    serverLog(
      'warning',
      `Warning: no config file specified, using the default config. In order to specify a config file use ${info.argv0 ?? 'sabre-server'} /path/to/sabre.conf`,
      'C',
    );
  } else {
    serverLog('warning', 'Configuration loaded', 'C');
  }
}

export interface BannerInfo {
  version: string;
  port: number;
  pid?: number;
  shards: number;
  /** Size of each shard's arena in MiB, when known. */
  arenaMb?: number;
  /** Addresses being listened on, when known. */
  bind?: readonly string[];
  /** Shards run by front threads themselves (embedded-shards); the others have a thread each. */
  embedded?: number;
}

/**
 * Sabre's start banner (a notice-level raw block, like Redis's logo) followed
 * by "Server initialized".
 */
/** "4 worker threads", or "1 run by a front thread" / "4 (2 run by front threads, 2 worker threads)". */
function shardThreads(shards: number, embedded: number): string {
  const workers = shards - embedded;
  const threads = (n: number): string => `${n} worker thread${n === 1 ? '' : 's'}`;
  if (embedded === 0) return threads(shards);
  const run = embedded === 1 ? '1 run by a front thread' : `${embedded} run by front threads`;
  return workers === 0 ? run : `${shards} (${run}, ${threads(workers)})`;
}

export function logBanner(info: BannerInfo): void {
  const pid = info.pid ?? process.pid;
  const arena = info.arenaMb === undefined ? '' : `, ${info.arenaMb} MiB arena each`;
  const where = info.bind === undefined || info.bind.length === 0 ? '' : ` on ${info.bind.join(' ')}`;
  const col = '                                       ';
  const lines = [
    '',
    `  o=[]:::::::::::::::::::::::::::::>  Sabre ${info.version} (64 bit), Redis-compatible`,
    `${col}Running in standalone mode`,
    `${col}Port: ${info.port}${where}`,
    `${col}PID: ${pid}`,
    `${col}Shards: ${shardThreads(info.shards, info.embedded ?? 0)}${arena}`,
    '',
    '',
  ];
  logRaw('notice', lines.join('\n'));
  serverLog('warning', 'Server initialized');
}

/** The line printed once the listening socket is up. */
export function logReady(): void {
  serverLog('notice', 'Ready to accept connections tcp');
}
