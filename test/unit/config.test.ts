import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Config,
  ConfigError,
  ERR_EVICTION_POLICY,
  MAX_ARENA_MB,
  PARAMS,
  SABRE_VERSION,
  configFromString,
  findParam,
  isSensitiveConfig,
  optionsToConfigText,
  parseArgs,
  parseLongLong,
  parseMemory,
  reprArg,
  splitArgs,
  type ArgsEnv,
} from '../../src/server/config.ts';
import { getLogLevel, setLogLevel } from '../../src/server/log.ts';

// The expected error texts below were checked against redis-server 7.0.15
// (with "Redis 7.0.15" in place of "Sabre 0.1.0").

let tmp = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sabre-config-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

interface Captured {
  stdout: string;
  stderr: string;
  logs: string[];
}

const SAVE_REFUSED = 'persistence is not implemented yet: only save "" (no snapshots) is supported';
const BUSY_REFUSED = 'scripts and functions are not implemented yet: only the default (5000) is supported';
const NO_REBIND =
  "Sabre can't change its listening sockets at runtime yet: set bind and port in the configuration and restart";

function env(extra: Partial<ArgsEnv> = {}): { env: Partial<ArgsEnv>; out: Captured } {
  const out: Captured = { stdout: '', stderr: '', logs: [] };
  return {
    out,
    env: {
      cwd: () => tmp,
      readStdin: () => '',
      stdout: (t) => {
        out.stdout += t;
      },
      stderr: (t) => {
        out.stderr += t;
      },
      exit: (code) => {
        throw new Exit(code);
      },
      log: (m) => {
        out.logs.push(m);
      },
      ...extra,
    },
  };
}

function args(argv: string[], extra: Partial<ArgsEnv> = {}): Config {
  return parseArgs(argv, env(extra).env);
}

/** The text of the ConfigError thrown by fn. */
function errorText(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.text;
    throw e;
  }
  throw new Error('no ConfigError thrown');
}

function fatalAt(line: number, text: string, err: string): string {
  return (
    `\n*** FATAL CONFIG FILE ERROR (Sabre ${SABRE_VERSION}) ***\n` +
    `Reading the configuration file, at line ${line}\n>>> '${text}'\n${err}\n`
  );
}

function file(name: string, content: string): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

describe('parseMemory (memtoull)', () => {
  it('parses units case-insensitively, k = 1000 and kb = 1024', () => {
    expect(parseMemory('0')).toBe(0n);
    expect(parseMemory('123')).toBe(123n);
    expect(parseMemory('10b')).toBe(10n);
    expect(parseMemory('1k')).toBe(1000n);
    expect(parseMemory('1kb')).toBe(1024n);
    expect(parseMemory('1K')).toBe(1000n);
    expect(parseMemory('1KB')).toBe(1024n);
    expect(parseMemory('2m')).toBe(2_000_000n);
    expect(parseMemory('512mb')).toBe(512n * 1024n * 1024n);
    expect(parseMemory('3g')).toBe(3_000_000_000n);
    expect(parseMemory('1gb')).toBe(1024n ** 3n);
    expect(parseMemory('1Gb')).toBe(1024n ** 3n);
  });

  it('rejects what Redis rejects', () => {
    for (const bad of ['-1', '1xb', '1.5gb', ' 1gb', '1gb ', '+1', '1 gb', '1tb', 'abc', '1kbb']) {
      expect(parseMemory(bad), bad).toBeNull();
    }
    expect(parseMemory('1'.repeat(128))).toBeNull();
  });

  it('keeps memtoull quirks: empty digits are 0, overflow saturates then wraps', () => {
    expect(parseMemory('')).toBe(0n);
    expect(parseMemory('kb')).toBe(0n);
    expect(parseMemory('99999999999999999999999')).toBe(2n ** 64n - 1n);
    expect(parseMemory('20000000000gb')).toBe(3028092406290448384n);
  });
});

describe('parseLongLong (string2ll)', () => {
  it('is strict', () => {
    expect(parseLongLong('0')).toBe(0n);
    expect(parseLongLong('-5')).toBe(-5n);
    expect(parseLongLong('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseLongLong('-9223372036854775808')).toBe(-9223372036854775808n);
    for (const bad of ['', '05', '-0', '+5', ' 5', '5 ', '1e3', '9223372036854775808', '-', 'x']) {
      expect(parseLongLong(bad), bad).toBeNull();
    }
  });
});

describe('splitArgs (sdssplitargs) and reprArg (sdscatrepr)', () => {
  it('splits on blanks and understands both quote styles', () => {
    expect(splitArgs('  set  a   b ')).toEqual(['set', 'a', 'b']);
    expect(splitArgs('a "b c" \'d e\'')).toEqual(['a', 'b c', 'd e']);
    expect(splitArgs('"\\n\\r\\t\\b\\a\\"\\\\\\q"')).toEqual(['\n\r\t\b\x07"\\q']);
    expect(splitArgs('"\\x41\\x4a\\xc3\\xa9"')).toEqual(['AJé']);
    expect(splitArgs("'it\\'s' 'a\\nb'")).toEqual(["it's", 'a\\nb']);
    expect(splitArgs('""')).toEqual(['']);
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('a"b c"')).toEqual(['ab c']);
    expect(splitArgs('héllo wörld')).toEqual(['héllo', 'wörld']);
  });

  it('returns null for unbalanced or badly closed quotes', () => {
    expect(splitArgs('"abc')).toBeNull();
    expect(splitArgs("'abc")).toBeNull();
    expect(splitArgs('"abc"x')).toBeNull();
    expect(splitArgs("'abc'x")).toBeNull();
    expect(splitArgs('"abc\\')).toBeNull();
  });

  it('quotes like sdscatrepr, escaping UTF-8 bytes', () => {
    expect(reprArg('bar')).toBe('"bar"');
    expect(reprArg('x\ny\x01"\\')).toBe('"x\\ny\\x01\\"\\\\"');
    expect(reprArg('é')).toBe('"\\xc3\\xa9"');
    for (const s of ['plain', 'a b', 'q"uote', 'back\\slash', 'nl\n\r\t\x07\b', 'ünï', '\x00\x7f']) {
      expect(splitArgs(reprArg(s))).toEqual([s]);
    }
  });
});

describe('defaults and CONFIG GET rendering', () => {
  it('has the documented defaults', () => {
    const c = new Config('/');
    expect(c.bind).toEqual(['127.0.0.1', '-::1']);
    expect(c.port).toBe(6379);
    expect(c.requirepass).toBe('');
    expect(c.databases).toBe(16);
    expect(c.maxclients).toBe(10000);
    expect(c.shards).toBeGreaterThanOrEqual(1);
    expect(c.shards).toBeLessThanOrEqual(256);
    expect(c.shardArenaMb).toBe(0); // automatic until start-up resolves it
    expect(c.dir).toBe('/');
    expect(c.loglevel).toBe('notice');
    expect(c.logfile).toBe('');
    expect(c.hz).toBe(10);
    expect(c.protoMaxBulkLen).toBe(512 * 1024 * 1024);
    expect(c.clientQueryBufferLimit).toBe(1024 * 1024 * 1024);
    expect(c.timeout).toBe(0);
    expect(c.tcpKeepalive).toBe(300);
    expect(c.tcpBacklog).toBe(511);
    expect(c.maxmemory).toBe(0);
    expect(c.maxmemoryPolicy).toBe('noeviction');
    expect(c.enableDebugCommand).toBe('local');
    expect(c.enableProtectedConfigs).toBe('no');
    // No persistence yet: Sabre's default is "" where Redis's is "3600 1 300 100 60 10000".
    expect(c.save).toEqual([]);
    expect(c.lfuLogFactor).toBe(10);
    expect(c.lfuDecayTime).toBe(1);
    expect(c.activeExpireEffort).toBe(1);
    expect(c.busyReplyThreshold).toBe(5000);
    expect(c.slowlogLogSlowerThan).toBe(10000);
    expect(c.slowlogMaxLen).toBe(128);
    expect(c.activerehashing).toBe(true);
    expect(c.lazyfreeLazyUserFlush).toBe(false);
    expect(c.protectedMode).toBe(true);
    expect(c.appendonly).toBe(false);
  });

  it('renders like Redis: bytes for memory, yes/no for bools', () => {
    const c = new Config('/tmp');
    expect(c.configGet(['proto-max-bulk-len', 'client-query-buffer-limit', 'maxmemory'])).toEqual([
      ['proto-max-bulk-len', '536870912'],
      ['client-query-buffer-limit', '1073741824'],
      ['maxmemory', '0'],
    ]);
    expect(c.configGet(['protected-mode', 'daemonize', 'save', 'bind', 'requirepass', 'pidfile'])).toEqual([
      ['protected-mode', 'yes'],
      ['daemonize', 'no'],
      ['save', ''],
      ['bind', '127.0.0.1 -::1'],
      ['requirepass', ''],
      ['pidfile', ''],
    ]);
  });

  it('every parameter is reachable and renders', () => {
    const c = new Config('/');
    for (const p of PARAMS) {
      expect(c.get(p.name), p.name).toBeTypeOf('string');
      for (const a of p.aliases ?? []) expect(c.get(a)).toBe(c.get(p.name));
    }
    expect(c.get('nope')).toBeUndefined();
    expect(findParam('LUA-TIME-LIMIT')?.name).toBe('busy-reply-threshold');
    expect(isSensitiveConfig('requirepass')).toBe(true);
    expect(isSensitiveConfig('port')).toBe(false);
  });
});

describe('CONFIG GET', () => {
  it('echoes exact names as spelled, once per parameter', () => {
    const c = new Config('/');
    expect(c.configGet(['HZ'])).toEqual([['HZ', '10']]);
    expect(c.configGet(['hz', 'HZ', 'hz'])).toEqual([['hz', '10']]);
    expect(c.configGet(['nonexistent'])).toEqual([]);
    expect(c.configGet([])).toEqual([]);
  });

  it('globs case-insensitively over names and aliases', () => {
    const c = new Config('/');
    const maxmemoryFamily = ['maxmemory', 'maxmemory-policy', 'maxmemory-clients', 'maxmemory-samples', 'maxmemory-eviction-tenacity'];
    expect(c.configGet(['max*']).map(([k]) => k)).toEqual(['maxclients', ...maxmemoryFamily]);
    expect(c.configGet(['MAXMEM*']).map(([k]) => k)).toEqual(maxmemoryFamily);
    expect(c.configGet(['h?'])).toEqual([['hz', '10']]);
    expect(c.configGet(['h[a-z]'])).toEqual([['hz', '10']]);
    expect(c.configGet(['lua*'])).toEqual([['lua-time-limit', '5000']]);
    expect(c.configGet(['*time-limit*', 'busy-reply-threshold'])).toEqual([
      ['lua-time-limit', '5000'],
      ['busy-reply-threshold', '5000'],
    ]);
    const all = c.configGet(['*']);
    const names = all.map(([k]) => k);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('lua-time-limit');
    expect(names.length).toBe(PARAMS.length + PARAMS.reduce((n, p) => n + (p.aliases?.length ?? 0), 0));
    // a pattern after an exact lookup does not repeat it
    expect(c.configGet(['maxmemory', 'maxmemory*']).map(([k]) => k)).toEqual(maxmemoryFamily);
  });
});

describe('CONFIG SET', () => {
  const failed = (name: string, err: string): string =>
    `ERR CONFIG SET failed (possibly related to argument '${name}') - ${err}`;

  it('sets values and renders them back', () => {
    const c = new Config('/');
    expect(c.configSet([['maxmemory', '1GB']])).toBeNull();
    expect(c.configGet(['maxmemory'])).toEqual([['maxmemory', '1073741824']]);
    expect(c.maxmemory).toBe(1073741824);
    expect(c.configSet([['maxmemory', '20000000000gb']])).toBeNull();
    expect(c.get('maxmemory')).toBe('3028092406290448384');
    expect(c.configSet([['maxmemory', '99999999999999999999999']])).toBeNull();
    expect(c.get('maxmemory')).toBe('18446744073709551615');
    expect(c.configSet([['maxmemory', 'kb']])).toBeNull();
    expect(c.get('maxmemory')).toBe('0');
    expect(c.configSet([['maxmemory-policy', 'NOEVICTION']])).toBeNull();
    expect(c.get('maxmemory-policy')).toBe('noeviction');
    expect(c.configSet([['maxmemory-samples', '10'], ['maxmemory-eviction-tenacity', '0']])).toBeNull();
    expect(c.configGet(['maxmemory-samples', 'maxmemory-eviction-tenacity'])).toEqual([
      ['maxmemory-samples', '10'],
      ['maxmemory-eviction-tenacity', '0'],
    ]);
    expect(c.configSet([['maxmemory-clients', '0%']])).toBeNull();
    expect(c.get('maxmemory-clients')).toBe('0');
    expect(c.configSet([['activerehashing', 'No']])).toBeNull();
    expect(c.activerehashing).toBe(false);
    expect(c.configSet([['requirepass', 's3cret']])).toBeNull();
    expect(c.requirepass).toBe('s3cret');
    expect(c.configSet([['requirepass', '']])).toBeNull();
    expect(c.requirepass).toBe('');
    // The listeners are not re-bound at runtime: a new port or bind is refused
    // instead of pretending; the current value is accepted, as Redis does.
    expect(c.configSet([['bind', '0.0.0.0 ::1']])).toBe(failed('bind', NO_REBIND));
    expect(c.configSet([['port', '7000']])).toBe(failed('port', NO_REBIND));
    expect(c.bind).toEqual(['127.0.0.1', '-::1']);
    expect(c.port).toBe(6379);
    expect(c.configSet([['bind', '127.0.0.1 -::1'], ['port', '6379']])).toBeNull();
    expect(c.configSet([['lfu-log-factor', '0'], ['lfu-decay-time', '30'], ['active-expire-effort', '10']])).toBeNull();
    expect([c.lfuLogFactor, c.lfuDecayTime, c.activeExpireEffort]).toEqual([0, 30, 10]);
  });

  it('clamps hz into 1..500 like Redis', () => {
    const c = new Config('/');
    expect(c.configSet([['hz', '1000']])).toBeNull();
    expect(c.get('hz')).toBe('500');
    expect(c.configSet([['hz', '0']])).toBeNull();
    expect(c.hz).toBe(1);
  });

  it('handles save: parsed as Redis does, refused unless empty (no persistence yet)', () => {
    const c = new Config('/');
    expect(c.configSet([['save', '100 10 20 30']])).toBe(failed('save', SAVE_REFUSED));
    expect(c.configSet([['save', '+5 1']])).toBe(failed('save', SAVE_REFUSED));
    expect(c.get('save')).toBe('');
    expect(c.configSet([['save', '']])).toBeNull();
    expect(c.get('save')).toBe('');
    for (const bad of ['1 2 3', '100  10', ' 100 10', '0 1', '1 -1', 'a 1']) {
      expect(c.configSet([['save', bad]]), bad).toBe(failed('save', 'Invalid save parameters'));
    }
  });

  it('refuses what it cannot do, keeping the default', () => {
    const c = new Config('/');
    expect(c.configSet([['lazyfree-lazy-user-flush', 'yes']])).toBeNull();
    expect(c.configSet([['lazyfree-lazy-user-flush', 'no']])).toBeNull();
    expect(c.configSet([['busy-reply-threshold', '100']])).toBe(failed('busy-reply-threshold', BUSY_REFUSED));
    expect(c.configSet([['lua-time-limit', '100']])).toBe(failed('lua-time-limit', BUSY_REFUSED));
    expect(c.configSet([['busy-reply-threshold', '5000']])).toBeNull();
    expect(c.configGet(['lazyfree-lazy-user-flush', 'busy-reply-threshold'])).toEqual([
      ['lazyfree-lazy-user-flush', 'no'],
      ['busy-reply-threshold', '5000'],
    ]);
    expect(configFromString('lazyfree-lazy-user-flush yes', '/').lazyfreeLazyUserFlush).toBe(true);
    expect(errorText(() => configFromString('lua-time-limit 100', '/'))).toBe(fatalAt(1, 'lua-time-limit 100', BUSY_REFUSED));
  });

  it('returns the exact Redis errors', () => {
    const c = new Config('/');
    expect(c.configSet([['foo', 'bar']])).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    expect(c.configSet([['databases', '3']])).toBe(failed('databases', "can't set immutable config"));
    expect(c.configSet([['DATABASES', '3']])).toBe(failed('DATABASES', "can't set immutable config"));
    expect(c.configSet([['shards', '3']])).toBe(failed('shards', "can't set immutable config"));
    expect(c.configSet([['dir', '/tmp']])).toBe(failed('dir', "can't set protected config"));
    expect(c.configSet([['hz', 'abc']])).toBe(failed('hz', "argument couldn't be parsed into an integer"));
    expect(c.configSet([['hz', '05']])).toBe(failed('hz', "argument couldn't be parsed into an integer"));
    expect(c.configSet([['LUA-TIME-LIMIT', 'x']])).toBe(
      failed('lua-time-limit', "argument couldn't be parsed into an integer"),
    );
    expect(c.configSet([['tcp-keepalive', '-1']])).toBe(failed('tcp-keepalive', 'argument must be between 0 and 2147483647 inclusive'));
    expect(c.configSet([['maxclients', '-1']])).toBe(
      failed('maxclients', 'argument must be between 1 and 4294967295 inclusive'),
    );
    expect(c.configSet([['maxclients', '4294967296']])).toBe(
      failed('maxclients', 'argument must be between 1 and 4294967295 inclusive'),
    );
    expect(c.configSet([['slowlog-log-slower-than', '-2']])).toBe(
      failed('slowlog-log-slower-than', 'argument must be between -1 and 9223372036854775807 inclusive'),
    );
    expect(c.configSet([['slowlog-max-len', '-1']])).toBe(
      failed('slowlog-max-len', 'argument must be between 0 and 9223372036854775807 inclusive'),
    );
    expect(c.configSet([['proto-max-bulk-len', '100']])).toBe(
      failed('proto-max-bulk-len', 'argument must be between 1048576 and 9223372036854775807 inclusive'),
    );
    expect(c.configSet([['proto-max-bulk-len', '99999999999999999999gb']])).toBe(
      failed('proto-max-bulk-len', 'argument must be between 1048576 and 9223372036854775807 inclusive'),
    );
    expect(c.configSet([['maxmemory', '-1']])).toBe(failed('maxmemory', 'argument must be a memory value'));
    expect(c.configSet([['maxmemory', '1.5gb']])).toBe(failed('maxmemory', 'argument must be a memory value'));
    expect(c.configSet([['appendonly', 'maybe']])).toBe(failed('appendonly', "argument must be 'yes' or 'no'"));
    expect(c.configSet([['maxmemory-policy', 'lru']])).toBe(
      failed(
        'maxmemory-policy',
        'argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction',
      ),
    );
    for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random']) {
      expect(c.configSet([['maxmemory-policy', policy]])).toBe(failed('maxmemory-policy', ERR_EVICTION_POLICY));
    }
    expect(c.maxmemoryPolicy).toBe('noeviction');
    expect(c.configSet([['maxmemory-samples', '0']])).toBe(
      failed('maxmemory-samples', 'argument must be between 1 and 2147483647 inclusive'),
    );
    expect(c.configSet([['maxmemory-eviction-tenacity', '101']])).toBe(
      failed('maxmemory-eviction-tenacity', 'argument must be between 0 and 100 inclusive'),
    );
    expect(c.configSet([['maxmemory-clients', 'abc']])).toBe(
      failed('maxmemory-clients', 'argument must be a memory or percent value'),
    );
    expect(c.configSet([['maxmemory-clients', '101%']])).toBe(
      failed('maxmemory-clients', 'percentage argument must be less or equal to 100'),
    );
    expect(c.configSet([['maxmemory-clients', '10%']])).toBe(
      failed('maxmemory-clients', 'client eviction is not implemented yet: only 0 (off) is supported'),
    );
    expect(c.configSet([['loglevel', 'notice warning']])).toBe(
      failed('loglevel', 'argument(s) must be one of the following: debug, verbose, notice, warning, nothing'),
    );
    expect(c.configSet([['active-expire-effort', '11']])).toBe(
      failed('active-expire-effort', 'argument must be between 1 and 10 inclusive'),
    );
    expect(c.configSet([['appendonly', 'yes']])).toBe(
      failed('appendonly', 'appendonly yes is not supported by Sabre yet: there is no persistence'),
    );
  });

  it('reports the first problem, name lookups before values', () => {
    const c = new Config('/');
    expect(c.configSet([['hz', '5'], ['HZ', '6']])).toBe(failed('HZ', 'duplicate parameter'));
    expect(c.configSet([['foo', '1'], ['databases', '3']])).toBe(
      "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
    );
    expect(c.configSet([['databases', '3'], ['foo', '1']])).toBe(failed('databases', "can't set immutable config"));
    expect(c.configSet([['hz', 'abc'], ['foo', '1']])).toBe(
      "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
    );
    expect(c.configSet([['maxclients', 'abc'], ['hz', 'x']])).toBe(failed('maxclients', "argument couldn't be parsed into an integer"));
  });

  it('is all or nothing', () => {
    const c = new Config('/');
    expect(c.configSet([['hz', '7'], ['maxmemory', '1mb'], ['maxclients', 'abc']])).not.toBeNull();
    expect(c.hz).toBe(10);
    expect(c.maxmemory).toBe(0);
    expect(c.maxclients).toBe(10000);
    expect(c.configSet([['hz', '7'], ['maxmemory', '1mb'], ['maxclients', '7000']])).toBeNull();
    expect([c.hz, c.maxmemory, c.maxclients]).toEqual([7, 1048576, 7000]);
    // an alias and its parameter are distinct names: both are parsed, in order
    expect(c.configSet([['lua-time-limit', '5000'], ['busy-reply-threshold', '5000']])).toBeNull();
    expect(c.busyReplyThreshold).toBe(5000);
  });

  it('rolls back when an apply hook fails, and notifies listeners on success', () => {
    const c = new Config('/');
    const seen: Array<[string, string]> = [];
    const off = c.onChange('timeout', (n, v) => seen.push([n, v]));
    c.onChange('hz', (n, v) => seen.push([n, v]));
    const appliedTimeouts: number[] = [];
    c.addApplyHook('timeout', (cfg) => {
      appliedTimeouts.push(cfg.timeout);
      return null;
    });
    const removeHook = c.addApplyHook('tcp-keepalive', (cfg) => (cfg.tcpKeepalive === 13 ? 'unlucky number' : null));

    expect(c.configSet([['timeout', '30'], ['tcp-keepalive', '13']])).toBe(failed('tcp-keepalive', 'unlucky number'));
    expect(c.timeout).toBe(0);
    expect(c.tcpKeepalive).toBe(300);
    expect(appliedTimeouts).toEqual([30, 0]); // applied, then re-applied with the old value
    expect(seen).toEqual([]);

    expect(c.configSet([['timeout', '30'], ['hz', '100']])).toBeNull();
    expect(seen).toEqual([
      ['timeout', '30'],
      ['hz', '100'],
    ]);
    // unchanged values neither apply nor notify
    expect(c.configSet([['timeout', '30']])).toBeNull();
    expect(seen.length).toBe(2);
    off();
    removeHook();
    expect(c.configSet([['timeout', '31'], ['tcp-keepalive', '13']])).toBeNull();
    expect(seen.length).toBe(2);
    expect(() => c.onChange('nope', () => undefined)).toThrow();
  });

  it('loglevel applies to the logger', () => {
    const before = getLogLevel();
    try {
      const c = new Config('/');
      expect(c.configSet([['loglevel', 'WARNING']])).toBeNull();
      expect(c.loglevel).toBe('warning');
      expect(getLogLevel()).toBe('warning');
    } finally {
      setLogLevel(before);
    }
  });

  it('allows protected configs only as enable-protected-configs says', () => {
    const dir = mkdtempSync(join(tmp, 'd-'));
    const local = configFromString('enable-protected-configs local', '/');
    expect(local.configSet([['dir', dir]])).toBe(failed('dir', "can't set protected config"));
    expect(local.configSet([['dir', dir]], { local: true })).toBeNull();
    expect(local.dir).toBe(dir);
    const yes = configFromString('enable-protected-configs yes', '/');
    expect(yes.configSet([['dir', '/nonexistent-dir']])).toBe(failed('dir', 'No such file or directory'));
    expect(yes.configSet([['dir', join(tmp, 'nope', 'x')]])).toBe(failed('dir', 'No such file or directory'));
    expect(yes.configSet([['dir', '/etc/hostname']])).toBe(failed('dir', 'Not a directory'));
    expect(yes.configSet([['dir', '']])).toBe(failed('dir', 'No such file or directory'));
    expect(yes.dir).toBe('/');
    expect(yes.allowsProtectedAction('enable-debug-command', false)).toBe(false);
    expect(yes.allowsProtectedAction('enable-debug-command', true)).toBe(true);
  });
});

describe('config file parsing', () => {
  it('handles comments, blank lines, quotes and case-insensitive names', () => {
    const c = configFromString(
      [
        '# a comment',
        '',
        '   ',
        'PORT 7000',
        '  HZ   "20"  ',
        "requirepass 'it\\'s a \"secret\"'",
        'requirepass "two\\twords\\x21"',
        'maxmemory 2GB\r',
        'bind 0.0.0.0 "::1"',
        'dir /tmp',
      ].join('\n'),
      '/',
    );
    expect(c.port).toBe(7000);
    expect(c.hz).toBe(20);
    expect(c.requirepass).toBe('two\twords!');
    expect(c.maxmemory).toBe(2 * 1024 ** 3);
    expect(c.bind).toEqual(['0.0.0.0', '::1']);
    expect(c.dir).toBe('/tmp');
  });

  it('refuses save points at load (no persistence yet) and accepts save ""', () => {
    expect(errorText(() => configFromString('save 900 1\nsave 300 10', '/'))).toBe(fatalAt(1, 'save 900 1', SAVE_REFUSED));
    expect(errorText(() => configFromString('save "900 1 300 10"', '/'))).toBe(
      fatalAt(1, 'save "900 1 300 10"', SAVE_REFUSED),
    );
    expect(errorText(() => configFromString('port 1\nsave ""\nsave 60 5', '/'))).toBe(fatalAt(3, 'save 60 5', SAVE_REFUSED));
    expect(configFromString('save ""', '/').save).toEqual([]);
    expect(configFromString('save ""\nsave ""', '/').save).toEqual([]);
    expect(configFromString('port 1', '/').get('save')).toBe('');
  });

  it('clamps hz at load', () => {
    expect(configFromString('hz 0', '/').hz).toBe(1);
    expect(configFromString('hz 100000', '/').hz).toBe(500);
  });

  it('reports errors with line numbers and the trimmed line', () => {
    expect(errorText(() => configFromString('port 0\nfoo "bar"', '/'))).toBe(
      fatalAt(2, 'foo "bar"', 'Bad directive or wrong number of arguments'),
    );
    expect(errorText(() => configFromString('# c\n\nport 0\n  hz   "abc"  \n', '/'))).toBe(
      fatalAt(4, 'hz   "abc"', "argument couldn't be parsed into an integer"),
    );
    expect(errorText(() => configFromString('foo "bar', '/'))).toBe(
      fatalAt(1, 'foo "bar', 'Unbalanced quotes in configuration line'),
    );
    expect(errorText(() => configFromString('foo "bar"x', '/'))).toBe(
      fatalAt(1, 'foo "bar"x', 'Unbalanced quotes in configuration line'),
    );
    expect(errorText(() => configFromString('port', '/'))).toBe(fatalAt(1, 'port', 'wrong number of arguments'));
    expect(errorText(() => configFromString('databases 1 2', '/'))).toBe(
      fatalAt(1, 'databases 1 2', 'wrong number of arguments'),
    );
    expect(errorText(() => configFromString('include', '/'))).toBe(
      fatalAt(1, 'include', 'Bad directive or wrong number of arguments'),
    );
    expect(errorText(() => configFromString('databases 0', '/'))).toBe(
      fatalAt(1, 'databases 0', 'argument must be between 1 and 2147483647 inclusive'),
    );
    expect(errorText(() => configFromString('maxmemory 1xb', '/'))).toBe(
      fatalAt(1, 'maxmemory 1xb', 'argument must be a memory value'),
    );
    expect(errorText(() => configFromString('daemonize maybe', '/'))).toBe(
      fatalAt(1, 'daemonize maybe', "argument must be 'yes' or 'no'"),
    );
    expect(errorText(() => configFromString('shards 0', '/'))).toBe(
      fatalAt(1, 'shards 0', 'argument must be between 1 and 256 inclusive'),
    );
    const tooBig = `shard-arena-mb ${MAX_ARENA_MB + 1n}`;
    expect(errorText(() => configFromString(tooBig, '/'))).toBe(
      fatalAt(1, tooBig, `argument must be between 0 and ${MAX_ARENA_MB} inclusive`),
    );
    expect(errorText(() => configFromString('shard-arena-mb 8', '/'))).toBe(
      fatalAt(1, 'shard-arena-mb 8', `argument must be 0 (automatic) or between 16 and ${MAX_ARENA_MB} inclusive`),
    );
    // Only noeviction until eviction is implemented; an unknown name still gets Redis's list.
    expect(errorText(() => configFromString('maxmemory-policy allkeys-lru', '/'))).toBe(
      fatalAt(1, 'maxmemory-policy allkeys-lru', ERR_EVICTION_POLICY),
    );
    expect(errorText(() => configFromString('save 10', '/'))).toBe(fatalAt(1, 'save 10', 'Invalid save parameters'));
    expect(errorText(() => configFromString('dir /nonexistent', '/'))).toBe(
      fatalAt(1, 'dir /nonexistent', 'No such file or directory'),
    );
    expect(errorText(() => configFromString('dir /etc/hostname', '/'))).toBe(
      fatalAt(1, 'dir /etc/hostname', 'Not a directory'),
    );
    expect(errorText(() => configFromString('rename-command FOO BAR', '/'))).toBe(
      fatalAt(1, 'rename-command FOO BAR', 'Bad directive or wrong number of arguments'),
    );
  });

  it('refuses daemonize yes and appendonly yes with an explanation', () => {
    expect(errorText(() => configFromString('daemonize yes', '/'))).toBe(
      fatalAt(
        1,
        'daemonize yes',
        "Sabre can't daemonize: only 'daemonize no' is supported, run it under a process supervisor instead",
      ),
    );
    expect(errorText(() => configFromString('appendonly yes', '/'))).toBe(
      fatalAt(1, 'appendonly yes', 'appendonly yes is not supported by Sabre yet: there is no persistence'),
    );
    expect(configFromString('daemonize no\nappendonly no', '/').appendonly).toBe(false);
  });

  it('checks that the log file can be opened', () => {
    expect(errorText(() => configFromString('logfile /nonexistent/x.log', '/'))).toBe(
      `\n*** FATAL CONFIG FILE ERROR (Sabre ${SABRE_VERSION}) ***\nCan't open the log file: No such file or directory\n`,
    );
    const c = configFromString(`dir ${tmp}\nlogfile sabre.log`, '/');
    expect(c.logfile).toBe('sabre.log');
    expect(c.resolvePath(c.logfile)).toBe(join(tmp, 'sabre.log'));
  });

  it('includes files, with line numbers counted per file', () => {
    const inc = file('inc.conf', 'hz 33\n\nmaxmemory 1mb\n');
    const c = configFromString(`port 1\ninclude ${inc}\nport 2`, '/');
    expect([c.port, c.hz, c.maxmemory]).toEqual([2, 33, 1048576]);
    const bad = file('bad.conf', '\n\nfoo bar baz\n');
    expect(errorText(() => configFromString(`port 0\ninclude ${bad}\nhz 5`, '/'))).toBe(
      fatalAt(3, 'foo bar baz', 'Bad directive or wrong number of arguments'),
    );
    // relative includes resolve against dir
    const rel = configFromString(`dir ${tmp}\ninclude inc.conf`, '/');
    expect(rel.hz).toBe(33);
    // a missing include is fatal, reported as a log line like Redis
    const missing = errorText(() => configFromString(`include ${join(tmp, 'missing.conf')}`, '/'));
    expect(missing).toMatch(
      new RegExp(
        `^\\d+:C \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{3} # Fatal error, can't open config file '${join(tmp, 'missing.conf')}': No such file or directory\\n$`,
      ),
    );
  });

  it('includes glob patterns, sorted, as one text; no match is fine', () => {
    const d = join(tmp, 'conf.d');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, '10-a.conf'), 'hz 11\nport 11\n');
    writeFileSync(join(d, '20-b.conf'), 'hz 22\n');
    writeFileSync(join(d, '.hidden.conf'), 'hz 99\n');
    writeFileSync(join(d, 'skip.txt'), 'hz 98\n');
    const c = configFromString(`include ${d}/*.conf`, '/');
    expect([c.hz, c.port]).toEqual([22, 11]);
    expect(configFromString(`include ${d}/*.none\nhz 3`, '/').hz).toBe(3);
    writeFileSync(join(d, '30-c.conf'), 'bogus\n');
    expect(errorText(() => configFromString(`include ${d}/*.conf`, '/'))).toBe(
      fatalAt(4, 'bogus', 'Bad directive or wrong number of arguments'),
    );
    rmSync(join(d, '30-c.conf'));
  });

  it('stops include loops', () => {
    const loop = file('loop.conf', `include ${join(tmp, 'loop.conf')}\n`);
    expect(errorText(() => configFromString(`include ${loop}`, '/'))).toContain('Too many nested includes');
  });
});

describe('command line', () => {
  it('returns defaults without arguments', () => {
    const c = args([]);
    expect(c.hasArguments).toBe(false);
    expect(c.configFile).toBeNull();
    expect(c.port).toBe(6379);
    expect(c.dir).toBe(tmp);
  });

  it('turns options into config lines like redis-server', () => {
    expect(optionsToConfigText(['--port', '0', '--foo', 'a b', 'c']).text).toBe('port "0" \nfoo "a b" "c" ');
    expect(optionsToConfigText(['--port 0', '--hz', '5']).text).toBe('port 0 \nhz "5" ');
    expect(optionsToConfigText(['--port', '--hz']).text).toBe('port "--hz" ');
    expect(optionsToConfigText(['--save', '--port', '1']).text).toBe('save ""\nport "1" ');
    expect(optionsToConfigText(['--port', '1', '--save']).text).toBe('port "1" \nsave ""');
    expect(optionsToConfigText(['-', '--port', '1'])).toEqual({ text: 'port "1" ', fromStdin: true });
    expect(optionsToConfigText(['--port', '1', '-'])).toEqual({ text: 'port "1" ', fromStdin: true });
    expect(optionsToConfigText(['-', '--port', '1'], true)).toEqual({ text: '"-" \nport "1" ', fromStdin: false });
    expect(optionsToConfigText(['--hz', '1', '-', '--port', '2'])).toEqual({
      text: 'hz "1" "-" \nport "2" ',
      fromStdin: false,
    });
  });

  it('parses overrides, multi-word values and memory units', () => {
    const c = args(['--port', '7777', '--save', '', '--maxmemory', '100k', '--bind', '127.0.0.1', '::1']);
    expect(c.hasArguments).toBe(true);
    expect(c.port).toBe(7777);
    expect(c.get('save')).toBe('');
    expect(c.maxmemory).toBe(100000);
    expect(c.bind).toEqual(['127.0.0.1', '::1']);
    expect(errorText(() => args(['--save', '900', '1', '300', '10']))).toBe(fatalAt(2, 'save "900" "1" "300" "10"', SAVE_REFUSED));
    expect(errorText(() => args(['--save', '900 1 300 10']))).toBe(fatalAt(2, 'save "900 1 300 10"', SAVE_REFUSED));
    expect(args(['--save', '', '--port', '1']).save).toEqual([]);
    expect(args(['--save', '--port', '1']).save).toEqual([]);
    expect(args(['--port', '1', '--save']).save).toEqual([]);
    expect(args(['--requirepass', 'a "quoted" \\ pass']).requirepass).toBe('a "quoted" \\ pass');
    expect(args(['--requirepass', 'pässwörd']).requirepass).toBe('pässwörd');
    expect(args(['--PORT', '1']).port).toBe(1);
    expect(args(['--port', '0', '--']).port).toBe(0);
  });

  it('reads the config file first, then stdin, then the options', () => {
    const conf = file('main.conf', 'port 1000\nhz 20\nmaxclients 5\n');
    const c = args(['main.conf', '--port', '2000', '-'], { readStdin: () => 'hz 30\nport 1500\n' });
    expect(c.configFile).toBe(conf);
    expect([c.port, c.hz, c.maxclients]).toEqual([2000, 30, 5]);
    const e = env({ readStdin: () => 'timeout 9' });
    expect(parseArgs(['-'], e.env).timeout).toBe(9);
    expect(e.out.logs).toEqual(['Reading config from stdin']);
  });

  it('reports errors at the line of the generated text', () => {
    expect(errorText(() => args(['--port', '0', '--foo', 'bar']))).toBe(
      fatalAt(3, 'foo "bar"', 'Bad directive or wrong number of arguments'),
    );
    expect(errorText(() => args(['--hz', 'abc']))).toBe(
      fatalAt(2, 'hz "abc"', "argument couldn't be parsed into an integer"),
    );
    expect(errorText(() => args(['--loglevel', 'foo']))).toBe(
      fatalAt(2, 'loglevel "foo"', 'argument(s) must be one of the following: debug, verbose, notice, warning, nothing'),
    );
    expect(errorText(() => args(['--port']))).toBe(fatalAt(2, 'port', 'wrong number of arguments'));
    expect(errorText(() => args(['--port', '0', '--foo', 'a b', 'c']))).toBe(
      fatalAt(3, 'foo "a b" "c"', 'Bad directive or wrong number of arguments'),
    );
    expect(errorText(() => args(['--foo bar']))).toBe(fatalAt(2, 'foo bar', 'Bad directive or wrong number of arguments'));
    expect(errorText(() => args(['--port', '--hz']))).toBe(
      fatalAt(2, 'port "--hz"', "argument couldn't be parsed into an integer"),
    );
    expect(errorText(() => args(['--foo', 'x\ny\x01"\\é']))).toBe(
      fatalAt(2, 'foo "x\\ny\\x01\\"\\\\\\xc3\\xa9"', 'Bad directive or wrong number of arguments'),
    );
    expect(errorText(() => args(['-x']))).toBe(fatalAt(2, '"-x"', 'Bad directive or wrong number of arguments'));
    expect(errorText(() => args(['--save', '--foo']))).toBe(fatalAt(3, 'foo', 'Bad directive or wrong number of arguments'));
    expect(errorText(() => args(['--hz', '1', '-', '--foo']))).toBe(
      fatalAt(2, 'hz "1" "-"', 'wrong number of arguments'),
    );
    expect(errorText(() => args(['--port', '0', '--hz']))).toBe(fatalAt(3, 'hz', 'wrong number of arguments'));
    expect(errorText(() => args(['--databases', '1', '2']))).toBe(
      fatalAt(2, 'databases "1" "2"', 'wrong number of arguments'),
    );
    expect(errorText(() => args(['--save', '1 2 3']))).toBe(fatalAt(2, 'save "1 2 3"', 'Invalid save parameters'));
    expect(errorText(() => args(['--daemonize', 'yes']))).toContain("Sabre can't daemonize");
  });

  it('counts lines across the file, stdin and options', () => {
    file('three.conf', 'port 1\nhz 2\nmaxclients 3');
    // no newline at the end of the file: the options start on line 4
    expect(errorText(() => args(['three.conf', '--hz', 'x']))).toBe(
      fatalAt(4, 'hz "x"', "argument couldn't be parsed into an integer"),
    );
    file('four.conf', 'port 1\nhz 2\nmaxclients 3\n');
    expect(errorText(() => args(['four.conf', '--foo', '1', '-'], { readStdin: () => 'hz 7\n' }))).toBe(
      fatalAt(6, 'foo "1"', 'Bad directive or wrong number of arguments'),
    );
    // after a config file, a "-" that is not last is just a value
    expect(errorText(() => args(['three.conf', '-', '--foo', '1'], { readStdin: () => 'hz 7\n' }))).toBe(
      fatalAt(4, '"-"', 'Bad directive or wrong number of arguments'),
    );
    expect(errorText(() => args(['-'], { readStdin: () => 'foo bar\n' }))).toBe(
      fatalAt(1, 'foo bar', 'Bad directive or wrong number of arguments'),
    );
  });

  it('reports an unreadable config file as a log line with its absolute path', () => {
    const text = errorText(() => args(['missing.conf', '--port', '1']));
    expect(text).toMatch(/^\d+:C \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} # /);
    expect(text.endsWith(`# Fatal error, can't open config file '${join(tmp, 'missing.conf')}': No such file or directory\n`)).toBe(
      true,
    );
  });

  it('reads a directory as an empty config file, like fopen() on Linux', () => {
    const c = args(['', '--port', '5']);
    expect(c.configFile).toBe(tmp);
    expect(c.port).toBe(5);
    expect(configFromString(`include ${tmp}\nhz 4`, '/').hz).toBe(4);
  });

  it('handles --version and --help like redis-server', () => {
    for (const flag of ['-v', '--version']) {
      const e = env();
      expect(() => parseArgs([flag], e.env)).toThrow(new Exit(0));
      expect(e.out.stdout).toMatch(new RegExp(`^Sabre server v=${SABRE_VERSION.replace(/\./g, '\\.')} `));
      expect(e.out.stdout.endsWith('\n')).toBe(true);
    }
    for (const flag of ['-h', '--help']) {
      const e = env();
      expect(() => parseArgs([flag, '--port', '1'], e.env)).toThrow(new Exit(1));
      expect(e.out.stderr).toMatch(/^Usage: \.\/sabre-server \[\/path\/to\/sabre\.conf\] \[options\] \[-\]\n/);
      expect(e.out.stdout).toBe('');
    }
    // only as the first argument
    expect(errorText(() => args(['--port', '1', '--version']))).toBe(
      fatalAt(3, 'version', 'Bad directive or wrong number of arguments'),
    );
  });
});
