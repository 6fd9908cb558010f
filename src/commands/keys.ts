import {
  ENC_EMBSTR, ENC_HASH_HASHTABLE, ENC_HASH_LISTPACKEX, ENC_INT, ENC_RAW, ENC_ZSET_SKIPLIST, TYPE_HASH, TYPE_LIST, TYPE_SET,
  TYPE_STREAM, TYPE_STRING, TYPE_ZSET,
} from '../../native-layout/layout.ts';
import { INT_UNSAFE, parseI64, parseI64Big, parseI64Status } from '../util/numbers.ts';
import {
  ERR_DB_INDEX, ERR_NO_SUCH_KEY, ERR_NOT_INTEGER, ERR_SAME_OBJECT, ERR_SYNTAX, errArity, errUnknownSubcommand,
} from './errors.ts';
import { parseExpireTime, UNIT_MS, UNIT_SECONDS } from './expiry-args.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// Generic keyspace commands (Redis's db.c, expire.c and the OBJECT/MEMORY
// introspection of object.c) that run on the shard owning the key(s). Keyless
// ones (KEYS, SCAN, DBSIZE, FLUSHALL, ...) are front commands fanning out to the
// internal commands of internal.ts; RENAME/RENAMENX/COPY across shards are
// coordinated by src/server/coordinators/keys.ts.

// -- argument helpers shared with the front thread -----------------------------

/** What both the shard's Args and the front's Argv offer. */
export interface ArgBytes {
  readonly u8: Uint8Array;
  readonly off: Int32Array;
  readonly len: Int32Array;
  readonly count: number;
  is(i: number, lower: string): boolean;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
export const ERR_INT_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';

/**
 * Redis's getIntFromObjectOrReply: a 32-bit integer. Returns the value, or the
 * error text (`msg` replaces both the syntax and the range error when given).
 */
export function parseIntArg(a: ArgBytes, i: number, msg?: string): number | string {
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (Number.isNaN(v)) {
    if (msg !== undefined) return msg;
    return parseI64Status() === INT_UNSAFE ? ERR_INT_RANGE : ERR_NOT_INTEGER;
  }
  if (v < INT_MIN || v > INT_MAX) return msg ?? ERR_INT_RANGE;
  return v;
}

/** A database index argument (MOVE, COPY DB): the integer errors, then the range. */
export function parseDbArg(a: ArgBytes, i: number, databases: number): number | string {
  const v = parseIntArg(a, i);
  if (typeof v === 'string') return v;
  if (v < 0 || v >= databases) return ERR_DB_INDEX;
  return v;
}

export interface CopyOptions {
  dstDb: number;
  replace: boolean;
}

/** COPY source destination [DB n] [REPLACE], parsed as copyCommand does; an error text on failure. */
export function parseCopyOptions(a: ArgBytes, db: number, databases: number): CopyOptions | string {
  const out: CopyOptions = { dstDb: db, replace: false };
  for (let j = 3; j < a.count; j++) {
    if (a.is(j, 'replace')) {
      out.replace = true;
    } else if (a.is(j, 'db') && j + 1 < a.count) {
      const v = parseDbArg(a, j + 1, databases);
      if (typeof v === 'string') return v;
      out.dstDb = v;
      j++;
    } else {
      return ERR_SYNTAX;
    }
  }
  return out;
}

export function sameBytes(a: ArgBytes, i: number, j: number): boolean {
  const n = a.len[i];
  if (n !== a.len[j]) return false;
  const b = a.u8;
  const oi = a.off[i];
  const oj = a.off[j];
  for (let k = 0; k < n; k++) if (b[oi + k] !== b[oj + k]) return false;
  return true;
}

/** TYPE's name for a value type ("none" for a missing key). */
export function typeName(type: number): string {
  switch (type) {
    case TYPE_STRING: return 'string';
    case TYPE_LIST: return 'list';
    case TYPE_SET: return 'set';
    case TYPE_ZSET: return 'zset';
    case TYPE_HASH: return 'hash';
    case TYPE_STREAM: return 'stream';
    default: return 'none';
  }
}

/** OBJECT ENCODING's name. Only strings are stored so far; other families extend this. */
export function encodingName(type: number, enc: number): string {
  if (type === TYPE_STRING) {
    if (enc === ENC_INT) return 'int';
    if (enc === ENC_EMBSTR) return 'embstr';
    if (enc === ENC_RAW) return 'raw';
  }
  if (type === TYPE_LIST) return 'quicklist'; // Redis 7.0 names every list so
  if (type === TYPE_HASH) return enc === ENC_HASH_HASHTABLE ? 'hashtable' : enc === ENC_HASH_LISTPACKEX ? 'listpackex' : 'listpack';
  if (type === TYPE_ZSET) return enc === ENC_ZSET_SKIPLIST ? 'skiplist' : 'listpack';
  return 'unknown';
}

/** Writes Redis's addReplyHelp: a header naming the command, the lines, then HELP's own lines. */
export function replyHelp(c: ShardContext, command: string, lines: readonly string[]): void {
  const r = c.reply;
  r.array(lines.length + 3);
  r.simple(`${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) r.simple(l);
  r.simple('HELP');
  r.simple('    Prints this help.');
}

function replyInt(c: ShardContext, n: number): void {
  if (Number.isSafeInteger(n)) c.reply.int(n);
  else c.reply.bigint(BigInt(n));
}

// -- DEL, UNLINK, EXISTS, TOUCH, TYPE -------------------------------------------

function delCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  let n = 0;
  for (let i = 1; i < a.count; i++) if (ks.deleteKey(c.db, a.u8, a.off[i], a.len[i])) n++;
  c.reply.int(n);
}

function existsCommand(c: ShardContext): void {
  const a = c.args;
  let n = 0;
  for (let i = 1; i < a.count; i++) if (c.ks.lookupReadNoTouch(c.db, a.u8, a.off[i], a.len[i]) !== 0) n++;
  c.reply.int(n);
}

function touchCommand(c: ShardContext): void {
  const a = c.args;
  let n = 0;
  for (let i = 1; i < a.count; i++) if (c.ks.lookupRead(c.db, a.u8, a.off[i], a.len[i]) !== 0) n++;
  c.reply.int(n);
}

function typeCommand(c: ShardContext): void {
  const a = c.args;
  const ref = c.ks.lookupReadNoTouch(c.db, a.u8, a.off[1], a.len[1]);
  c.reply.simple(ref === 0 ? 'none' : typeName(c.ks.typeOf(ref)));
}

// -- RENAME, RENAMENX, MOVE, COPY (keys on one shard) ---------------------------------

function renameGeneric(c: ShardContext, nx: boolean): void {
  const a = c.args;
  const ks = c.ks;
  const db = c.db;
  const src = ks.lookupWrite(db, a.u8, a.off[1], a.len[1]);
  if (src === 0) {
    c.reply.error(ERR_NO_SUCH_KEY);
    return;
  }
  if (sameBytes(a, 1, 2)) {
    if (nx) c.reply.int(0);
    else c.reply.ok();
    return;
  }
  if (ks.lookupWrite(db, a.u8, a.off[2], a.len[2]) !== 0 && nx) {
    c.reply.int(0);
    return;
  }
  // The value moves with its TTL and its access clock, as Redis moves the object
  // (a collection without a copy). The destination is replaced all or nothing;
  // only then does the source go.
  ks.renameEntry(db, src, a.u8, a.off[2], a.len[2], a.u8, a.off[1], a.len[1]);
  if (nx) c.reply.int(1);
  else c.reply.ok();
}

function renameCommand(c: ShardContext): void {
  renameGeneric(c, false);
}

function renamenxCommand(c: ShardContext): void {
  renameGeneric(c, true);
}

function moveCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const dst = parseDbArg(a, 2, ks.dbs.length);
  if (typeof dst === 'string') {
    c.reply.error(dst);
    return;
  }
  if (dst === c.db) {
    c.reply.error(ERR_SAME_OBJECT);
    return;
  }
  if (ks.lookupWrite(c.db, a.u8, a.off[1], a.len[1]) === 0) {
    c.reply.int(0);
    return;
  }
  const handle = ks.handle;
  if (ks.lookupWrite(dst, a.u8, a.off[1], a.len[1]) !== 0) {
    c.reply.int(0);
    return;
  }
  ks.moveEntry(c.db, handle, dst);
  c.reply.int(1);
}

function copyCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const opts = parseCopyOptions(a, c.db, ks.dbs.length);
  if (typeof opts === 'string') {
    c.reply.error(opts);
    return;
  }
  if (opts.dstDb === c.db && sameBytes(a, 1, 2)) {
    c.reply.error(ERR_SAME_OBJECT);
    return;
  }
  const src = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if (src === 0) {
    c.reply.int(0);
    return;
  }
  if (ks.lookupWrite(opts.dstDb, a.u8, a.off[2], a.len[2]) !== 0 && !opts.replace) {
    c.reply.int(0);
    return;
  }
  // A copy is a new object: same value, encoding and TTL, a fresh access clock.
  // It replaces the destination all or nothing.
  const ref = ks.cloneEntry(src, opts.dstDb, a.u8, a.off[2], a.len[2], true);
  ks.setLru(ref, ks.initialClock());
  c.reply.int(1);
}

// -- EXPIRE family, TTL family, PERSIST -------------------------------------------

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Parses NX/XX/GT/LT (parseExtendedExpireArgumentsOrReply); -1 after an error reply. */
function parseExpireFlags(c: ShardContext): number {
  const a = c.args;
  let flags = 0;
  for (let j = 3; j < a.count; j++) {
    if (a.is(j, 'nx')) flags |= EXPIRE_NX;
    else if (a.is(j, 'xx')) flags |= EXPIRE_XX;
    else if (a.is(j, 'gt')) flags |= EXPIRE_GT;
    else if (a.is(j, 'lt')) flags |= EXPIRE_LT;
    else {
      c.reply.error(`ERR Unsupported option ${cString(a.str(j))}`);
      return -1;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    c.reply.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return -1;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    c.reply.error('ERR GT and LT options at the same time are not compatible');
    return -1;
  }
  return flags;
}

/** What a C "%s" prints of an argument: the bytes up to the first NUL. */
function cString(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

function expireGeneric(c: ShardContext, relative: boolean, unit: number, cmd: string): void {
  const flags = parseExpireFlags(c);
  if (flags < 0) return;
  const ks = c.ks;
  const when = parseExpireTime(c, 2, unit, relative ? ks.now : 0, cmd);
  if (when === null) return;
  const a = c.args;
  const db = c.db;
  const ref = ks.lookupWrite(db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (flags !== 0) {
    const cur = ks.expireOf(ref);
    if (flags & EXPIRE_NX && cur !== -1) {
      c.reply.int(0);
      return;
    }
    if (flags & EXPIRE_XX && cur === -1) {
      c.reply.int(0);
      return;
    }
    // A key without a TTL counts as expiring never: GT always fails, LT always passes.
    if (flags & EXPIRE_GT && (cur === -1 || when <= BigInt(cur))) {
      c.reply.int(0);
      return;
    }
    if (flags & EXPIRE_LT && cur !== -1 && when >= BigInt(cur)) {
      c.reply.int(0);
      return;
    }
  }
  if (when <= BigInt(ks.now)) {
    ks.deleteAt(db, ks.handle);
  } else {
    ks.setExpire(db, ks.handle, ref, Number(when));
  }
  c.reply.int(1);
}

function expireCommand(c: ShardContext): void {
  expireGeneric(c, true, UNIT_SECONDS, 'expire');
}

function pexpireCommand(c: ShardContext): void {
  expireGeneric(c, true, UNIT_MS, 'pexpire');
}

function expireatCommand(c: ShardContext): void {
  expireGeneric(c, false, UNIT_SECONDS, 'expireat');
}

function pexpireatCommand(c: ShardContext): void {
  expireGeneric(c, false, UNIT_MS, 'pexpireat');
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME (ttlGenericCommand). */
function ttlGeneric(c: ShardContext, ms: boolean, absolute: boolean): void {
  const a = c.args;
  const ks = c.ks;
  const ref = ks.lookupReadNoTouch(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) {
    c.reply.int(-2);
    return;
  }
  const expire = ks.expireOf(ref);
  if (expire === -1) {
    c.reply.int(-1);
    return;
  }
  let ttl = absolute ? expire : expire - ks.now;
  if (ttl < 0) ttl = 0;
  replyInt(c, ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function ttlCommand(c: ShardContext): void {
  ttlGeneric(c, false, false);
}

function pttlCommand(c: ShardContext): void {
  ttlGeneric(c, true, false);
}

function expiretimeCommand(c: ShardContext): void {
  ttlGeneric(c, false, true);
}

function pexpiretimeCommand(c: ShardContext): void {
  ttlGeneric(c, true, true);
}

function persistCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const ref = ks.lookupWrite(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0 || !ks.hasExpire(ref)) {
    c.reply.int(0);
    return;
  }
  ks.setExpire(c.db, ks.handle, ref, -1);
  c.reply.int(1);
}

// -- OBJECT -----------------------------------------------------------------------

const OBJECT_HELP: readonly string[] = [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
];

const ERR_LFU_SELECTED = 'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const ERR_LFU_NOT_SELECTED = 'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
/** Redis's OBJ_SHARED_REFCOUNT: the refcount of shared integer objects 0..9999. */
const SHARED_REFCOUNT = 2147483647;
const SHARED_INTEGERS = 10000;
const LRU_CLOCK_MAX = 0xffffff;

/**
 * The refcount Redis would report: SET stores the integers 0..9999 as shared
 * objects. (A COPY of one is a private object in Redis; Sabre keeps no bit for
 * that and reports it as shared.)
 */
function refcountOf(c: ShardContext, ref: number): number {
  const ks = c.ks;
  if (ks.typeOf(ref) !== TYPE_STRING || ks.encodingOf(ref) !== ENC_INT) return 1;
  const v = parseI64(ks.arena.u8, ks.stringOffset(ref), ks.stringLength(ref));
  return v >= 0 && v < SHARED_INTEGERS ? SHARED_REFCOUNT : 1;
}

/** Seconds since the last access (estimateObjectIdleTime over the 24-bit LRU clock). */
function idleSeconds(c: ShardContext, ref: number): number {
  const clock = c.ks.lruClock;
  const lru = c.ks.lruOf(ref);
  return clock >= lru ? clock - lru : clock + (LRU_CLOCK_MAX - lru);
}

function objectCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  let sub = '';
  if (a.is(1, 'help')) sub = 'help';
  else if (a.is(1, 'encoding')) sub = 'encoding';
  else if (a.is(1, 'refcount')) sub = 'refcount';
  else if (a.is(1, 'idletime')) sub = 'idletime';
  else if (a.is(1, 'freq')) sub = 'freq';
  if (sub === '') {
    c.reply.error(errUnknownSubcommand(cString(a.str(1)).slice(0, 128), 'OBJECT'));
    return;
  }
  if (a.count !== (sub === 'help' ? 2 : 3)) {
    c.reply.error(errArity(`object|${sub}`));
    return;
  }
  if (sub === 'help') {
    replyHelp(c, 'OBJECT', OBJECT_HELP);
    return;
  }
  const ref = ks.lookupReadNoTouch(c.db, a.u8, a.off[2], a.len[2]);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  switch (sub) {
    case 'encoding':
      c.reply.bulkString(ks.typeOf(ref) === TYPE_SET ? ks.sets.encodingName(ks.valueRef(ref)) : encodingName(ks.typeOf(ref), ks.encodingOf(ref)));
      return;
    case 'refcount':
      c.reply.int(refcountOf(c, ref));
      return;
    case 'idletime':
      if (ks.lfuMode) c.reply.error(ERR_LFU_SELECTED);
      else c.reply.int(idleSeconds(c, ref));
      return;
    default: // freq
      if (!ks.lfuMode) c.reply.error(ERR_LFU_NOT_SELECTED);
      else c.reply.int(ks.lfuDecayed(ref));
  }
}

// -- MEMORY (the per-key and the allocator-free subcommands) --------------------------

const MEMORY_HELP: readonly string[] = [
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
];

const MEMORY_SUBCOMMANDS = ['help', 'usage', 'doctor', 'malloc-stats', 'purge', 'stats'];

function memoryCommand(c: ShardContext): void {
  const a = c.args;
  let sub = '';
  for (const s of MEMORY_SUBCOMMANDS) if (a.is(1, s)) sub = s;
  if (sub === '') {
    c.reply.error(errUnknownSubcommand(cString(a.str(1)).slice(0, 128), 'MEMORY'));
    return;
  }
  if (sub === 'usage' ? a.count < 3 : a.count !== 2) {
    c.reply.error(errArity(`memory|${sub}`));
    return;
  }
  switch (sub) {
    case 'help':
      replyHelp(c, 'MEMORY', MEMORY_HELP);
      return;
    case 'usage':
      memoryUsage(c);
      return;
    case 'malloc-stats':
      c.reply.bulkString('Stats not supported for the current allocator');
      return;
    case 'purge':
      c.reply.ok();
      return;
    default:
      // DOCTOR and STATS describe the whole server: they belong to the front thread.
      c.reply.error(`ERR MEMORY ${sub.toUpperCase()} is not supported by this shard`);
  }
}

/**
 * MEMORY USAGE key [SAMPLES n]: the entry's allocation plus its slot of the
 * index, and a collection's structure: every element with SAMPLES 0, else
 * extrapolated from n elements (5 by default, Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES).
 */
function memoryUsage(c: ShardContext): void {
  const a = c.args;
  let samples = 5;
  for (let j = 3; j < a.count; j++) {
    if (a.is(j, 'samples') && j + 1 < a.count) {
      const n = parseI64Big(a.u8, a.off[j + 1], a.len[j + 1]);
      if (n === null) {
        c.reply.error(ERR_NOT_INTEGER);
        return;
      }
      if (n < 0n) {
        c.reply.error(ERR_SYNTAX);
        return;
      }
      samples = n > 0x7fffffffn ? 0x7fffffff : Number(n);
      j++;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const ks = c.ks;
  // Like Redis's dictFind: a key whose time has passed still counts until it is reclaimed.
  const ref = ks.findAny(c.db, a.u8, a.off[2], a.len[2]);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  c.reply.int(ks.entryFootprint(c.db, ref, samples));
}

// -- the table ------------------------------------------------------------------------

function sub(name: string, arity: number, flags: readonly string[], firstKey: number, summary: string,
  extra: Partial<CommandSpec> = {}): CommandSpec {
  return {
    name, arity, flags, firstKey, lastKey: firstKey, keyStep: firstKey > 0 ? 1 : 0, group: 'generic',
    since: '2.2.3', summary, complexity: 'O(1)', ...extra,
  };
}

export const keyCommands: CommandSpec[] = [
  {
    name: 'del', arity: -2, flags: ['write'], firstKey: 1, lastKey: -1, keyStep: 1, group: 'generic', since: '1.0.0',
    summary: 'Delete a key',
    complexity: 'O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).',
    multi: 'sum', shard: delCommand,
  },
  {
    name: 'unlink', arity: -2, flags: ['write', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1, group: 'generic',
    since: '4.0.0', summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.',
    complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.',
    multi: 'sum', shard: delCommand,
  },
  {
    name: 'exists', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1, group: 'generic',
    since: '1.0.0', summary: 'Determine if a key exists', complexity: 'O(N) where N is the number of keys to check.',
    multi: 'sum', shard: existsCommand,
  },
  {
    name: 'touch', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1, group: 'generic',
    since: '3.2.1', summary: 'Alters the last access time of a key(s). Returns the number of existing keys specified.',
    complexity: 'O(N) where N is the number of keys that will be touched.', multi: 'sum', shard: touchCommand,
  },
  {
    name: 'type', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '1.0.0', summary: 'Determine the type stored at key', complexity: 'O(1)', shard: typeCommand,
  },
  {
    name: 'rename', arity: 3, flags: ['write'], firstKey: 1, lastKey: 2, keyStep: 1, group: 'generic', since: '1.0.0',
    summary: 'Rename a key', complexity: 'O(1)', multi: 'coordinated', shard: renameCommand,
  },
  {
    name: 'renamenx', arity: 3, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, keyStep: 1, group: 'generic',
    since: '1.0.0', summary: 'Rename a key, only if the new key does not exist', complexity: 'O(1)',
    multi: 'coordinated', shard: renamenxCommand,
  },
  {
    name: 'move', arity: 3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic', since: '1.0.0',
    summary: 'Move a key to another database', complexity: 'O(1)', shard: moveCommand,
  },
  {
    name: 'copy', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, keyStep: 1, group: 'generic',
    since: '6.2.0', summary: 'Copy a key',
    complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.',
    multi: 'coordinated', shard: copyCommand,
  },
  {
    // A container: Redis reports first/last key 0 for it and the key positions on
    // its subcommands; Sabre routes on the container, so it carries position 2.
    name: 'object', arity: -2, flags: [], firstKey: 2, lastKey: 2, keyStep: 1, group: 'generic', since: '2.2.3',
    summary: 'A container for object introspection commands', complexity: 'Depends on subcommand.',
    shard: objectCommand,
    subcommands: [
      sub('object|help', 2, ['loading', 'stale'], 0, 'Show helpful text about the different subcommands', { since: '6.2.0' }),
      sub('object|refcount', 3, ['readonly'], 2, 'Get the number of references to the value of the key'),
      sub('object|idletime', 3, ['readonly'], 2, 'Get the time since a Redis object was last accessed'),
      sub('object|encoding', 3, ['readonly'], 2, 'Inspect the internal encoding of a Redis object'),
      sub('object|freq', 3, ['readonly'], 2, 'Get the logarithmic access frequency counter of a Redis object', { since: '4.0.0' }),
    ],
  },
  {
    name: 'memory', arity: -2, flags: [], firstKey: 2, lastKey: 2, keyStep: 1, group: 'server', since: '4.0.0',
    summary: 'A container for memory diagnostics commands', complexity: 'Depends on subcommand.',
    shard: memoryCommand,
    subcommands: [
      sub('memory|doctor', 2, [], 0, 'Outputs memory problems report', { since: '4.0.0', group: 'server' }),
      sub('memory|help', 2, ['loading', 'stale'], 0, 'Show helpful text about the different subcommands', { since: '4.0.0', group: 'server' }),
      sub('memory|malloc-stats', 2, [], 0, 'Show allocator internal stats', { since: '4.0.0', group: 'server', complexity: 'Depends on how much memory is allocated, could be slow' }),
      sub('memory|purge', 2, [], 0, 'Ask the allocator to release memory', { since: '4.0.0', group: 'server', complexity: 'Depends on how much memory is allocated, could be slow' }),
      sub('memory|stats', 2, [], 0, 'Show memory usage details', { since: '4.0.0', group: 'server' }),
      sub('memory|usage', -3, ['readonly'], 2, 'Estimate the memory usage of a key', { since: '4.0.0', group: 'server', complexity: 'O(N) where N is the number of samples.' }),
    ],
  },
  {
    name: 'expire', arity: -3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '1.0.0', summary: 'Set a key\'s time to live in seconds', complexity: 'O(1)', shard: expireCommand,
  },
  {
    name: 'pexpire', arity: -3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '2.6.0', summary: 'Set a key\'s time to live in milliseconds', complexity: 'O(1)', shard: pexpireCommand,
  },
  {
    name: 'expireat', arity: -3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '1.2.0', summary: 'Set the expiration for a key as a UNIX timestamp', complexity: 'O(1)', shard: expireatCommand,
  },
  {
    name: 'pexpireat', arity: -3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '2.6.0', summary: 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', complexity: 'O(1)',
    shard: pexpireatCommand,
  },
  {
    name: 'ttl', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '1.0.0', summary: 'Get the time to live for a key in seconds', complexity: 'O(1)', shard: ttlCommand,
  },
  {
    name: 'pttl', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '2.6.0', summary: 'Get the time to live for a key in milliseconds', complexity: 'O(1)', shard: pttlCommand,
  },
  {
    name: 'expiretime', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key', complexity: 'O(1)',
    shard: expiretimeCommand,
  },
  {
    name: 'pexpiretime', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key in milliseconds', complexity: 'O(1)',
    shard: pexpiretimeCommand,
  },
  {
    name: 'persist', arity: 2, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group: 'generic',
    since: '2.2.0', summary: 'Remove the expiration from a key', complexity: 'O(1)', shard: persistCommand,
  },
];
