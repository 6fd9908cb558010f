import { ReplyBuffer } from '../../protocol/reply-buffer.ts';
import { ERR_SYNTAX } from '../../commands/errors.ts';
import { SHARD_COMMANDS } from '../../commands/registry.ts';
import * as resp from '../../protocol/resp.ts';
import { firstError } from '../../router/merge.ts';
import {
  catalogOf, getKeys, listCommands, writeCommandDocs, writeCommandInfo, type ListFilter,
} from '../command-docs.ts';
import type { FrontCommandSpec, FrontContext } from '../front-command.ts';
import { containerCommand, counted, helpReply, safeErrorText, type FrontSubcommandSpec } from '../front-dispatch.ts';
import { buildInfo, frontFigures, needsFronts, needsShardSync, resetInfoStats, selectSections, type FrontFigures } from '../info.ts';
import type { Server } from '../server.ts';
import { withPeers } from '../server-wide.ts';
import { logNotice, logWarning } from '../log.ts';
import { argInt64, isLocalClient } from './connection.ts';

// Server commands (Redis's server group) run on the front thread: INFO,
// CONFIG, COMMAND, TIME, LASTSAVE, DEBUG and SHUTDOWN.

function fail(c: FrontContext, msg: string): void {
  c.srv.replyError(c.client, c.seq, msg);
}

function reply(c: FrontContext, b: Uint8Array): void {
  c.srv.reply(c, b);
}

// ---------------------------------------------------------------------------
// INFO

function info(c: FrontContext): void {
  const sel = selectSections(c.argv.strings(1));
  const { srv } = c;
  const protocol = c.client.resp;
  // This front's counters as the command runs: like Redis's, they do not count this INFO yet.
  const local = needsFronts(sel) ? frontFigures(srv) : null;
  const answer = (remote: FrontFigures[]): void => {
    const fronts = local === null ? [] : [local, ...remote];
    const build = (): Buffer => ReplyBuffer.forClient(protocol).verbatim(buildInfo(srv, sel, fronts)).done();
    if (!needsShardSync(sel)) {
      reply(c, build());
      return;
    }
    // Every shard publishes its counters first, so the figures cover all the
    // commands answered before this INFO.
    srv.broadcast(c, '__stats_sync', [], build);
  };
  // Clients, counters and CPU of every front thread.
  if (needsFronts(sel)) withPeers(c, { kind: 'info' }, answer);
  else answer([]);
}

// ---------------------------------------------------------------------------
// TIME, LASTSAVE

function time(c: FrontContext): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const sec = Math.floor(us / 1e6);
  reply(c, resp.array([resp.bulk(String(sec)), resp.bulk(String(us - sec * 1e6))]));
}

function lastsave(c: FrontContext): void {
  reply(c, resp.integer(c.srv.lastSave));
}

// ---------------------------------------------------------------------------
// CONFIG

/** Parameters the shards keep a copy of (pushed with `__config` after CONFIG SET). */
const SHARD_PARAMS = [
  'hz', 'maxmemory-policy', 'lfu-log-factor', 'lfu-decay-time', 'proto-max-bulk-len', 'activerehashing',
  'active-expire-effort', 'slowlog-log-slower-than', 'list-max-listpack-size',
  'zset-max-listpack-entries', 'zset-max-listpack-value',
  'hll-sparse-max-bytes',
  'hash-max-listpack-entries', 'hash-max-listpack-value',
  'set-max-intset-entries', 'set-max-listpack-entries', 'set-max-listpack-value',
];

const hasShardConfig = SHARD_COMMANDS.some((s) => s.name === '__config');

function configGet(c: FrontContext): void {
  const pairs = c.srv.config.configGet(c.argv.strings(2));
  const out = ReplyBuffer.forClient(c.client.resp);
  out.map(pairs.length);
  for (const [k, v] of pairs) out.bulkOf(k).bulkOf(v);
  reply(c, out.done());
}

/**
 * Applies a CONFIG SET on this front: the settings, then what depends on
 * them here (clients' authentication, parser limits). Returns the error, or
 * the parameters (name, value, ...) that changed and that the shards keep a
 * copy of. Every front thread runs it (server-wide.ts); only the one that ran
 * the command sends the shards their part.
 */
export function applyConfigSet(srv: Server, pairs: ReadonlyArray<readonly [string, string]>, local: boolean):
  { error: string | null; push: string[] } {
  const config = srv.config;
  const before = new Map<string, string | undefined>();
  for (const p of [...SHARD_PARAMS, 'requirepass', 'proto-max-bulk-len', 'client-query-buffer-limit']) before.set(p, config.get(p));
  const err = config.configSet(pairs, { local });
  if (err !== null) return { error: err, push: [] };
  const changed = (p: string): boolean => config.get(p) !== before.get(p);
  if (changed('requirepass') && config.requirepass === '') {
    // The default user is "nopass" again: nobody needs to authenticate.
    for (const cl of srv.clients.values()) {
      cl.authenticated = true;
      cl.parser.authenticated = true;
    }
  }
  if (changed('proto-max-bulk-len') || changed('client-query-buffer-limit')) {
    for (const cl of srv.clients.values()) cl.parser.limits = srv.limits;
  }
  const push: string[] = [];
  for (const p of SHARD_PARAMS) {
    const v = config.get(p);
    if (v !== undefined && changed(p)) push.push(p, v);
  }
  return { error: null, push };
}

function configSet(c: FrontContext): void {
  const { argv, client, srv } = c;
  if (argv.count % 2 !== 0) {
    fail(c, ERR_SYNTAX);
    return;
  }
  const pairs: Array<[string, string]> = [];
  for (let i = 2; i < argv.count; i += 2) pairs.push([argv.str(i), argv.bytes(i + 1).toString('utf8')]);
  const { error, push } = applyConfigSet(srv, pairs, isLocalClient(client));
  if (error !== null) {
    fail(c, safeErrorText(error));
    return;
  }
  // Every front thread has the new values before the reply.
  withPeers(c, { kind: 'config-set', pairs }, () => {
    if (push.length === 0 || !hasShardConfig) {
      reply(c, resp.OK);
      return;
    }
    srv.broadcast(c, '__config', push, (parts) => {
      const e = firstError(parts);
      if (e !== null) logWarning(`A shard refused the new configuration: ${e.toString('latin1').trim()}`);
      return resp.OK;
    });
  });
}

/** CONFIG RESETSTAT on this front: its counters, the shard baselines it reads INFO against, its samples. */
export function resetStats(srv: Server): void {
  srv.stats.reset();
  resetInfoStats(srv);
}

function configResetstat(c: FrontContext): void {
  resetStats(c.srv);
  withPeers(c, { kind: 'reset-stat' }, () => reply(c, resp.OK));
}

function configRewrite(c: FrontContext): void {
  if (c.srv.config.configFile === null) {
    fail(c, 'ERR The server is running without a config file');
    return;
  }
  logWarning('CONFIG REWRITE failed: rewriting the configuration file is not implemented yet');
  fail(c, 'ERR Rewriting config file: not supported by Sabre yet');
}

const CONFIG_HELP = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
];

// ---------------------------------------------------------------------------
// SLOWLOG

/**
 * Runs `build` once every command sent before this one has been answered (a
 * no-op fanned out to every shard comes back after them), so that the slow
 * log already holds their entries, as it would in Redis.
 */
function afterEarlierCommands(c: FrontContext, build: () => Buffer): void {
  c.srv.broadcast(c, '__dbsize', [], () => {
    c.srv.checkSlowPending();
    return build();
  });
}

/** A slow-log entry as it travels between front threads (its arguments arrive as Uint8Arrays). */
export interface WireSlowEntry {
  readonly id: number;
  readonly time: number;
  readonly durationUs: number;
  readonly args: readonly Uint8Array[];
  readonly addr: string;
  readonly name: string;
}

/** This front's newest `count` slow-log entries (-1: all). */
export function slowEntries(srv: Server, count: number): WireSlowEntry[] {
  return [...srv.slowlog.newest(count)];
}

/**
 * The server's slow log seen from this front: with several front threads,
 * the union of their logs (ids are shared, so unique and in logging order),
 * newest first, cut at slowlog-max-len, which a log of its own would not
 * exceed (each front trims its own at its next command).
 */
function mergedEntries(srv: Server, count: number, remote: readonly WireSlowEntry[][]): readonly WireSlowEntry[] {
  const local = srv.slowlog.newest(count);
  if (remote.length === 0) return local;
  const all: WireSlowEntry[] = [...local];
  for (const r of remote) all.push(...r);
  all.sort((a, b) => b.id - a.id);
  const max = Math.min(srv.config.slowlogMaxLen, count < 0 ? Infinity : count);
  if (all.length > max) all.length = max;
  return all;
}

function slowlogGet(c: FrontContext): void {
  let count = 10;
  if (c.argv.count === 3) {
    const n = argInt64(c, 2);
    if (n === null || n < -1n) {
      fail(c, 'ERR count should be greater than or equal to -1');
      return;
    }
    count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
  } else if (c.argv.count > 3) {
    const sub = c.argv.str(1);
    fail(c, safeErrorText(
      `ERR unknown subcommand or wrong number of arguments for '${sub.length > 128 ? sub.slice(0, 128) : sub}'. Try SLOWLOG HELP.`));
    return;
  }
  const protocol = c.client.resp;
  withPeers<WireSlowEntry[]>(c, { kind: 'slowlog-get', count }, (remote) => afterEarlierCommands(c, () => {
    const entries = mergedEntries(c.srv, count, remote);
    const out = ReplyBuffer.forClient(protocol);
    out.array(entries.length);
    for (const e of entries) {
      out.array(6).int(e.id).int(e.time).int(e.durationUs).array(e.args.length);
      for (const a of e.args) out.bulkOf(a);
      out.bulkOf(e.addr).bulkOf(e.name);
    }
    return out.done();
  }));
}

function slowlogLen(c: FrontContext): void {
  withPeers<number>(c, { kind: 'slowlog-len' }, (remote) => afterEarlierCommands(c, () => {
    const n = remote.reduce((a, b) => a + b, c.srv.slowlog.length);
    return resp.integer(remote.length === 0 ? n : Math.min(n, c.srv.config.slowlogMaxLen));
  }));
}

function slowlogReset(c: FrontContext): void {
  withPeers(c, { kind: 'slowlog-reset' }, () => afterEarlierCommands(c, () => {
    c.srv.slowlog.reset();
    return resp.OK;
  }));
}

const SLOWLOG_HELP = [
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
];

// ---------------------------------------------------------------------------
// COMMAND

function commandAll(c: FrontContext): void {
  const cat = catalogOf(c.srv.commands);
  const out = ReplyBuffer.forClient(c.client.resp);
  out.array(cat.roots.length);
  for (const node of cat.roots) writeCommandInfo(out, node);
  reply(c, out.done());
}

function commandCount(c: FrontContext): void {
  reply(c, resp.integer(catalogOf(c.srv.commands).roots.length));
}

function commandInfo(c: FrontContext): void {
  if (c.argv.count === 2) {
    commandAll(c);
    return;
  }
  const cat = catalogOf(c.srv.commands);
  const out = ReplyBuffer.forClient(c.client.resp);
  out.array(c.argv.count - 2);
  for (let i = 2; i < c.argv.count; i++) writeCommandInfo(out, cat.lookup(c.argv.str(i)));
  reply(c, out.done());
}

function commandDocs(c: FrontContext): void {
  const cat = catalogOf(c.srv.commands);
  const nodes = c.argv.count === 2
    ? cat.roots
    : c.argv.strings(2).map((n) => cat.lookup(n)).filter((n) => n !== null);
  const out = ReplyBuffer.forClient(c.client.resp);
  out.map(nodes.length);
  for (const node of nodes) {
    out.bulkOf(node.fullName);
    writeCommandDocs(out, node);
  }
  reply(c, out.done());
}

function commandList(c: FrontContext): void {
  const { argv } = c;
  let filter: ListFilter = null;
  for (let i = 2; i < argv.count; i++) {
    const more = argv.count - 1 - i;
    if (argv.is(i, 'filterby') && more === 2) {
      const kind = argv.str(i + 1).toLowerCase();
      if (kind !== 'module' && kind !== 'aclcat' && kind !== 'pattern') {
        fail(c, ERR_SYNTAX);
        return;
      }
      filter = { kind, arg: argv.str(i + 2) };
      i += 2;
    } else {
      fail(c, ERR_SYNTAX);
      return;
    }
  }
  const names = listCommands(catalogOf(c.srv.commands), filter);
  reply(c, resp.array(names.map((n) => resp.bulk(n))));
}

function commandGetkeysImpl(c: FrontContext, withFlags: boolean): void {
  const { argv } = c;
  const found = getKeys(catalogOf(c.srv.commands), argv.strings(2));
  if (typeof found === 'string') {
    fail(c, found);
    return;
  }
  const out = ReplyBuffer.forClient(c.client.resp);
  out.array(found.length);
  for (const k of found) {
    if (withFlags) {
      out.array(2).bulkOf(argv.bytes(k.pos + 2)).set(k.flags.length);
      for (const f of k.flags) out.simple(f);
    } else {
      out.bulkOf(argv.bytes(k.pos + 2));
    }
  }
  reply(c, out.done());
}

const COMMAND_HELP = [
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
];

// ---------------------------------------------------------------------------
// DEBUG

const DEBUG_NOT_ALLOWED = 'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", ' +
  'you can run it from a local connection, otherwise you need to set this option in the configuration file, ' +
  'and then restart the server.';

/** The numeric prefix C's strtod() would read (0 when there is none). */
export function strtodPrefix(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:(inf(?:inity)?)|(nan)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))/i.exec(s);
  if (m === null) return 0;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[2] !== undefined) return sign * Infinity;
  if (m[3] !== undefined) return NaN;
  return sign * Number(m[4]);
}

const DEBUG_HELP = [
  'ERROR <string>',
  '    Return a Redis protocol error with <string> as message. Useful for clients',
  '    unit tests to simulate Redis errors.',
  'LOG <message>',
  '    Write <message> to the server log.',
  'PROTOCOL <type>',
  '    Reply with a test value of the specified type. <type> can be: string,',
  '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
  '    true, false.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
  '    default.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
];

function debugProtocol(c: FrontContext): void {
  const r3 = c.client.resp === 3;
  const name = c.argv.str(2).toLowerCase();
  let text: string;
  switch (name) {
    case 'string': text = '$11\r\nHello World\r\n'; break;
    case 'integer': text = ':12345\r\n'; break;
    case 'double': text = r3 ? ',3.141\r\n' : '$5\r\n3.141\r\n'; break;
    case 'bignum': text = r3 ? '(1234567999999999999999999999999999999\r\n' : '$37\r\n1234567999999999999999999999999999999\r\n'; break;
    case 'null': text = r3 ? '_\r\n' : '$-1\r\n'; break;
    case 'array': text = '*3\r\n:0\r\n:1\r\n:2\r\n'; break;
    case 'set': text = `${r3 ? '~' : '*'}3\r\n:0\r\n:1\r\n:2\r\n`; break;
    case 'map':
      text = r3 ? '%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n' : '*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n';
      break;
    case 'attrib':
      text = (r3 ? '|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n' : '') +
        '$39\r\nSome real reply following the attribute\r\n';
      break;
    case 'push':
      if (!r3) {
        fail(c, 'ERR RESP2 is not supported by this command');
        return;
      }
      text = '>2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n';
      break;
    case 'true': text = r3 ? '#t\r\n' : ':1\r\n'; break;
    case 'false': text = r3 ? '#f\r\n' : ':0\r\n'; break;
    case 'verbatim': text = r3 ? '=29\r\ntxt:This is a verbatim\nstring\r\n' : '$25\r\nThis is a verbatim\nstring\r\n'; break;
    default:
      fail(c, 'ERR Wrong protocol type name. Please use one of the following: ' +
        'string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false');
      return;
  }
  reply(c, Buffer.from(text, 'latin1'));
}

function debug(c: FrontContext): void {
  const { argv, client, srv } = c;
  if (!srv.config.allowsProtectedAction('enable-debug-command', isLocalClient(client))) {
    fail(c, DEBUG_NOT_ALLOWED);
    return;
  }
  if (argv.count === 2 && argv.is(1, 'help')) {
    reply(c, helpReply(c, DEBUG_HELP));
  } else if (argv.count === 3 && argv.is(1, 'sleep')) {
    const us = Math.trunc(strtodPrefix(argv.str(2)) * 1e6);
    if (!(us > 0)) {
      reply(c, resp.OK);
      return;
    }
    // Every shard stops (the front keeps accepting, but nothing keyed runs) and
    // the reply comes once all of them have slept.
    srv.broadcast(c, '__debug_sleep', [String(Math.min(us, Number.MAX_SAFE_INTEGER))], (parts) => firstError(parts) ?? resp.OK);
  } else if (argv.count === 3 && argv.is(1, 'set-active-expire')) {
    // atoi(): leading blanks, a sign and digits; anything else reads as 0 (off).
    const on = (parseInt(argv.str(2), 10) || 0) !== 0;
    srv.broadcast(c, '__active_expire', [on ? '1' : '0'], (parts) => firstError(parts) ?? resp.OK);
  } else if (argv.count === 3 && argv.is(1, 'log')) {
    logWarning(`DEBUG LOG: ${argv.str(2)}`);
    reply(c, resp.OK);
  } else if (argv.count === 3 && argv.is(1, 'error')) {
    srv.stats.errorReplies++;
    reply(c, Buffer.concat([Buffer.from('-'), Buffer.from(argv.bytes(2).toString('latin1').replace(/[\r\n]/g, ' '), 'latin1'),
      resp.CRLF]));
  } else if (argv.count === 3 && argv.is(1, 'protocol')) {
    debugProtocol(c);
  } else {
    const sub = argv.str(1);
    fail(c, safeErrorText(
      `ERR unknown subcommand or wrong number of arguments for '${sub.length > 128 ? sub.slice(0, 128) : sub}'. Try DEBUG HELP.`));
  }
}

// ---------------------------------------------------------------------------
// SHUTDOWN

function shutdown(c: FrontContext): void {
  const { argv, srv } = c;
  let nosave = false;
  let save = false;
  let now = false;
  let force = false;
  let abort = false;
  for (let i = 1; i < argv.count; i++) {
    if (argv.is(i, 'nosave')) nosave = true;
    else if (argv.is(i, 'save')) save = true;
    else if (argv.is(i, 'now')) now = true;
    else if (argv.is(i, 'force')) force = true;
    else if (argv.is(i, 'abort')) abort = true;
    else {
      fail(c, ERR_SYNTAX);
      return;
    }
  }
  if ((abort && (nosave || save || now || force)) || (nosave && save)) {
    fail(c, ERR_SYNTAX);
    return;
  }
  if (abort) {
    // Shutdown is immediate in Sabre: there is never one in progress to abort.
    fail(c, 'ERR No shutdown in progress.');
    return;
  }
  if (save) {
    logWarning('Error trying to save the DB: persistence is not implemented yet, SHUTDOWN SAVE refused');
    fail(c, 'ERR Errors trying to SHUTDOWN. Check logs.');
    return;
  }
  if (!nosave && srv.config.save.length > 0) {
    logWarning('Not saving the DB before exiting: persistence is not implemented yet');
  }
  srv.logShutdown();
  logNotice('Closing all client connections before exit');
  srv.shuttingDown = true;
  // The other front threads close their listeners and clients too (the main thread then ends the process).
  if (!srv.peers.single) srv.peers.tell({ kind: 'shutdown', code: 0 });
  srv.onShutdown(0);
}

// ---------------------------------------------------------------------------
// Tables

const ADMIN = ['admin', 'noscript', 'loading', 'stale'];
const ADMIN_LS = ['admin', 'loading', 'stale'];
const INTROSPECT = ['loading', 'stale'];

function top(name: string, arity: number, flags: string[], since: string, summary: string, complexity: string,
  front: (c: FrontContext) => void, extra: Partial<FrontCommandSpec> = {}): FrontCommandSpec {
  return {
    name, arity, flags, firstKey: 0, lastKey: 0, keyStep: 0, group: 'server', since, summary, complexity,
    ...extra, front: counted(name, front),
  };
}

function sub(name: string, arity: number, flags: string[], since: string, summary: string, complexity: string,
  front: (c: FrontContext) => void, aclCategories?: string[]): FrontSubcommandSpec {
  return {
    name, arity, flags, firstKey: 0, lastKey: 0, keyStep: 0, group: 'server', since, summary, complexity, front,
    ...(aclCategories === undefined ? {} : { aclCategories }),
  };
}

const configSubcommands: FrontSubcommandSpec[] = [
  sub('get', -3, ADMIN, '2.0.0', 'Returns the effective values of configuration parameters.',
    'O(N) when N is the number of configuration parameters provided', configGet),
  sub('set', -4, ADMIN, '2.0.0', 'Sets configuration parameters in-flight.',
    'O(N) when N is the number of configuration parameters provided', configSet),
  sub('resetstat', 2, ADMIN, '2.0.0', 'Resets the server\'s statistics.', 'O(1)', configResetstat),
  sub('rewrite', 2, ADMIN, '2.8.0', 'Persists the effective configuration to file.', 'O(1)', configRewrite),
  sub('help', 2, INTROSPECT, '5.0.0', 'Returns helpful text about the different subcommands.', 'O(1)',
    (c) => reply(c, helpReply(c, CONFIG_HELP))),
];

const CONN = ['connection'];

// In Redis's order (COMMAND INFO lists them so).
const slowlogSubcommands: FrontSubcommandSpec[] = [
  sub('len', 2, ADMIN_LS, '2.2.12', "Get the slow log's length", 'O(1)', slowlogLen),
  sub('get', -2, ADMIN_LS, '2.2.12', "Get the slow log's entries", 'O(N) where N is the number of entries returned', slowlogGet),
  sub('reset', 2, ADMIN_LS, '2.2.12', 'Clear all entries from the slow log', 'O(N) where N is the number of entries in the slowlog',
    slowlogReset),
  sub('help', 2, INTROSPECT, '6.2.0', 'Show helpful text about the different subcommands', 'O(1)',
    (c) => reply(c, helpReply(c, SLOWLOG_HELP))),
];

const commandSubcommands: FrontSubcommandSpec[] = [
  sub('count', 2, INTROSPECT, '2.8.13', 'Returns a count of commands.', 'O(1)', commandCount, CONN),
  sub('docs', -2, INTROSPECT, '7.0.0', 'Returns documentary information about one, multiple or all commands.',
    'O(N) where N is the number of commands to look up', commandDocs, CONN),
  sub('getkeys', -4, INTROSPECT, '2.8.13', 'Extracts the key names from an arbitrary command.',
    'O(N) where N is the number of arguments to the command', (c) => commandGetkeysImpl(c, false), CONN),
  sub('getkeysandflags', -4, INTROSPECT, '7.0.0', 'Extracts the key names and access flags for an arbitrary command.',
    'O(N) where N is the number of arguments to the command', (c) => commandGetkeysImpl(c, true), CONN),
  sub('help', 2, INTROSPECT, '5.0.0', 'Returns helpful text about the different subcommands.', 'O(1)',
    (c) => reply(c, helpReply(c, COMMAND_HELP)), CONN),
  sub('info', -2, INTROSPECT, '2.8.13', 'Returns information about one, multiple or all commands.',
    'O(N) where N is the number of commands to look up', commandInfo, CONN),
  sub('list', -2, INTROSPECT, '7.0.0', 'Returns a list of command names.',
    'O(N) where N is the total number of Redis commands', commandList, CONN),
];

export const serverCommands: FrontCommandSpec[] = [
  top('info', -1, INTROSPECT, '1.0.0', 'Returns information and statistics about the server.', 'O(1)', info,
    { aclCategories: ['dangerous'], allShards: true }),
  top('time', 1, ['loading', 'stale', 'fast'], '2.6.0', 'Returns the server time.', 'O(1)', time),
  top('lastsave', 1, ['loading', 'stale', 'fast'], '1.0.0', 'Returns the Unix timestamp of the last successful save to disk.',
    'O(1)', lastsave, { aclCategories: ['admin', 'dangerous'] }),
  top('debug', -2, ['admin', 'noscript', 'loading', 'stale', 'protected'], '1.0.0', 'A container for debugging commands.',
    'Depends on subcommand.', debug, { allShards: true }),
  top('shutdown', -1, ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], '1.0.0',
    'Synchronously saves the database(s) to disk and shuts down the Redis server.',
    'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)', shutdown),
  containerCommand({
    name: 'config', arity: -2, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'server', since: '2.0.0',
    summary: 'A container for server configuration commands.', complexity: 'Depends on subcommand.',
  }, configSubcommands),
  containerCommand({
    name: 'slowlog', arity: -2, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'server', since: '2.2.12',
    summary: 'A container for slow log commands', complexity: 'Depends on subcommand.', allShards: true,
  }, slowlogSubcommands),
  containerCommand({
    name: 'command', arity: -1, flags: INTROSPECT, firstKey: 0, lastKey: 0, keyStep: 0, group: 'server', since: '2.8.13',
    summary: 'Returns detailed information about all commands.', complexity: 'O(N) where N is the total number of Redis commands',
    aclCategories: CONN,
  }, commandSubcommands, commandAll),
];
