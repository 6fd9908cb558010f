import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LOG_LEVELS,
  formatLogLine,
  getLogFile,
  getLogLevel,
  logBanner,
  logDebug,
  logEnabled,
  logNotice,
  logRaw,
  logReady,
  logStarting,
  logVerbose,
  logWarning,
  serverLog,
  setLogFile,
  setLogLevel,
  setLogRole,
  setLogSink,
} from '../../src/server/log.ts';

// A Redis 7 log line, e.g. "4113:C 22 Nov 2026 04:41:07.493 # Fatal error, ..."
const LINE = /^(\d+):([MCSX]) (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{3}) ([.\-*#]) (.*)$/;

let tmp = '';
let out: string[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sabre-log-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  out = [];
  setLogSink((t) => out.push(t));
  setLogLevel('notice');
  setLogFile('');
  setLogRole('M');
});

afterEach(() => {
  setLogSink(null);
  setLogLevel('notice');
  setLogFile('');
  setLogRole('M');
});

function lines(): string[] {
  return out.join('').split('\n').filter((l) => l !== '');
}

describe('formatLogLine', () => {
  it('formats like Redis, with zero padding and milliseconds', () => {
    const d = new Date(2026, 10, 2, 4, 1, 7, 9);
    expect(formatLogLine('warning', 'Fatal error', { pid: 4113, role: 'C', now: d })).toBe(
      '4113:C 02 Nov 2026 04:01:07.009 # Fatal error',
    );
    const e = new Date(2025, 0, 31, 23, 59, 59, 999);
    expect(formatLogLine('notice', 'x', { pid: 1, now: e })).toBe('1:M 31 Jan 2025 23:59:59.999 * x');
    expect(formatLogLine('debug', 'x', { pid: 1, now: e })).toBe('1:M 31 Jan 2025 23:59:59.999 . x');
    expect(formatLogLine('verbose', 'x', { pid: 1, now: e })).toBe('1:M 31 Jan 2025 23:59:59.999 - x');
  });

  it('uses the current pid, role and time by default', () => {
    const m = LINE.exec(formatLogLine('notice', 'hello'));
    expect(m).not.toBeNull();
    expect(m?.[1]).toBe(String(process.pid));
    expect(m?.[2]).toBe('M');
    expect(m?.[10]).toBe('*');
    expect(m?.[11]).toBe('hello');
    setLogRole('S');
    expect(LINE.exec(formatLogLine('notice', 'x'))?.[2]).toBe('S');
  });
});

describe('verbosity', () => {
  it('filters by level', () => {
    logDebug('d');
    logVerbose('v');
    logNotice('n');
    logWarning('w');
    expect(lines().map((l) => LINE.exec(l)?.slice(10, 12).join(' '))).toEqual(['* n', '# w']);

    out = [];
    setLogLevel('debug');
    logDebug('d');
    logVerbose('v');
    expect(lines().map((l) => LINE.exec(l)?.[10])).toEqual(['.', '-']);

    out = [];
    setLogLevel('warning');
    logNotice('n');
    logWarning('w');
    expect(lines().length).toBe(1);

    out = [];
    setLogLevel('nothing');
    logWarning('w');
    logRaw('warning', 'raw');
    expect(out).toEqual([]);
    expect(getLogLevel()).toBe('nothing');
  });

  it('knows the levels in order', () => {
    expect(LOG_LEVELS).toEqual(['debug', 'verbose', 'notice', 'warning', 'nothing']);
    setLogLevel('verbose');
    expect(logEnabled('debug')).toBe(false);
    expect(logEnabled('verbose')).toBe(true);
    expect(logEnabled('warning')).toBe(true);
  });

  it('raw output has no prefix and no added newline', () => {
    logRaw('notice', 'abc');
    logRaw('debug', 'hidden');
    expect(out).toEqual(['abc']);
  });

  it('serverLog takes an explicit role', () => {
    serverLog('warning', 'loading', 'C');
    expect(LINE.exec(lines()[0] ?? '')?.[2]).toBe('C');
  });
});

describe('log file', () => {
  it('appends to the log file', () => {
    setLogSink(null);
    const path = join(tmp, 'sabre.log');
    setLogFile(path);
    expect(getLogFile()).toBe(path);
    logNotice('first');
    logWarning('second');
    logDebug('dropped');
    setLogFile('');
    const text = readFileSync(path, 'utf8');
    const got = text.split('\n').filter((l) => l !== '');
    expect(got.length).toBe(2);
    expect(LINE.exec(got[0] ?? '')?.[11]).toBe('first');
    expect(LINE.exec(got[1] ?? '')?.[11]).toBe('second');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('silently drops lines it cannot write', () => {
    setLogSink(null);
    setLogFile(join(tmp, 'missing-dir', 'x.log'));
    expect(() => logWarning('lost')).not.toThrow();
  });
});

describe('startup lines', () => {
  it('logStarting mirrors Redis', () => {
    logStarting({ version: '0.1.0', pid: 42, configFile: null, hasArguments: false, argv0: './sabre-server' });
    logStarting({ version: '0.1.0', pid: 42, configFile: '/etc/sabre.conf', hasArguments: true });
    const got = lines().map((l) => LINE.exec(l));
    expect(got.every((m) => m !== null && m[2] === 'C' && m[10] === '#')).toBe(true);
    expect(got.map((m) => m?.[11])).toEqual([
      'oO0OoO0OoO0Oo Sabre is starting oO0OoO0OoO0Oo',
      'Sabre version=0.1.0, bits=64, commit=00000000, modified=0, pid=42, just started',
      'Warning: no config file specified, using the default config. In order to specify a config file use ./sabre-server /path/to/sabre.conf',
      'oO0OoO0OoO0Oo Sabre is starting oO0OoO0OoO0Oo',
      'Sabre version=0.1.0, bits=64, commit=00000000, modified=0, pid=42, just started',
      'Configuration loaded',
    ]);
  });

  it('logBanner shows version, port, pid and shards, then "Server initialized"', () => {
    logBanner({ version: '0.1.0', port: 6390, pid: 77, shards: 4, arenaMb: 1024, bind: ['127.0.0.1'] });
    const text = out.join('');
    expect(text).toContain('Sabre 0.1.0');
    expect(text).toContain('Port: 6390 on 127.0.0.1');
    expect(text).toContain('PID: 77');
    expect(text).toContain('Shards: 4 worker threads, 1024 MiB arena each');
    const last = lines().at(-1) ?? '';
    expect(LINE.exec(last)?.slice(10, 12)).toEqual(['#', 'Server initialized']);
  });

  it('the banner is notice level; "Server initialized" is a warning', () => {
    setLogLevel('warning');
    logBanner({ version: '0.1.0', port: 1, shards: 1 });
    expect(lines().map((l) => LINE.exec(l)?.[11])).toEqual(['Server initialized']);
  });

  it('logReady', () => {
    logReady();
    expect(LINE.exec(lines()[0] ?? '')?.slice(10, 12)).toEqual(['*', 'Ready to accept connections tcp']);
  });
});
