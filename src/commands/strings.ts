import { ENC_EMBSTR, ENC_INT, ENC_RAW, TYPE_STRING } from '../../native-layout/layout.ts';
import { Keyspace } from '../store/keyspace.ts';
import { copyBytes } from '../util/bytes.ts';
import { lcsReply, optionIs, type LcsOptions } from './string-ops.ts';
import {
  INT_INVALID, INT_UNSAFE, incrByFloatLongDouble, LD_ZERO, parseI64, parseI64Big, parseI64Status, parseLongDouble,
  writeI64, writeI64Big,
} from '../util/numbers.ts';
import {
  ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_OVERFLOW, ERR_STRING_TOO_LONG, ERR_SYNTAX, ERR_WRONGTYPE, errArity,
} from './errors.ts';
import { parseExpireArg, UNIT_MS, UNIT_SECONDS } from './expiry-args.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// String commands (Redis's t_string.c). Values are stored inline in the entry.

const ERR_OFFSET_RANGE = 'ERR offset is out of range';
const ERR_DECR_OVERFLOW = 'ERR decrement would overflow';
const ERR_INCR_NAN = 'ERR increment would produce NaN or Infinity';
export const ERR_LCS_TYPE = 'ERR The specified keys must contain string values';
const ERR_LCS_LEN_IDX = 'ERR If you want both the length and indexes, please just use IDX.';

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
/** Stand-in for offsets beyond 2^53: larger than any string a shard can hold, exact enough for comparisons. */
const HUGE = 2 ** 62;
const EMPTY = new Uint8Array(0);
/** Scratch for decimal results (INCR family). */
const numBuf = new Uint8Array(32);

function replyValue(c: ShardContext, ref: number): void {
  const ks = c.ks;
  c.reply.bulk(ks.arena.u8, ks.stringOffset(ref), ks.stringLength(ref));
}

/**
 * lookupKeyWrite: finds a live key without counting hits/misses (the
 * keyspace touches its access clock, as Redis's lookupKey does for writes
 * too). Leaves the slot in ks.handle.
 */
function lookupWriteKey(c: ShardContext, keyArg: number): number {
  const a = c.args;
  return c.ks.lookupWrite(c.db, a.u8, a.off[keyArg], a.len[keyArg]);
}

/**
 * setKey/dbOverwrite: stores a whole new string value for the key found by
 * the lookup just before (the keyspace keeps an overwritten key's LFU
 * counter, like dbOverwrite). Returns the entry.
 */
function storeString(c: ShardContext, keyArg: number,
  vb: Uint8Array | null, vo: number, vl: number, enc: number, expireAt: number): number {
  const a = c.args;
  return c.ks.putString(c.db, a.u8, a.off[keyArg], a.len[keyArg], vb, vo, vl, enc, expireAt);
}

/** GET's core: replies the value, nil, or WRONGTYPE. Returns false after WRONGTYPE. */
export function getGeneric(c: ShardContext, keyArg: number): boolean {
  const a = c.args;
  const ref = c.ks.lookupRead(c.db, a.u8, a.off[keyArg], a.len[keyArg]);
  if (ref === 0) {
    c.reply.nil();
    return true;
  }
  if (c.ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return false;
  }
  replyValue(c, ref);
  return true;
}

function getCommand(c: ShardContext): void {
  getGeneric(c, 1);
}

// -- SET and GETEX options (parseExtendedStringArgumentsOrReply) ----------------

const OBJ_SET_NX = 1;
const OBJ_SET_XX = 2;
const OBJ_SET_GET = 4;
const OBJ_KEEPTTL = 8;
const OBJ_EX = 16;
const OBJ_PX = 32;
const OBJ_EXAT = 64;
const OBJ_PXAT = 128;
const OBJ_PERSIST = 256;

const COMMAND_GET = 0;
const COMMAND_SET = 1;

/** Results of the last parseExtendedArgs call. */
let optFlags = 0;
let optExpireArg = -1;

/**
 * Parses SET's or GETEX's options with Redis's exclusion rules (a repeated
 * option is accepted, the last expire value wins; NX/XX/GET/KEEPTTL are
 * SET-only, PERSIST is GETEX-only). Replies a syntax error and returns false
 * on a violation.
 */
function parseExtendedArgs(c: ShardContext, commandType: number): boolean {
  const a = c.args;
  const u8 = a.u8;
  let flags = 0;
  let expireArg = -1;
  const isSet = commandType === COMMAND_SET;
  for (let j = isSet ? 3 : 2; j < a.count; j++) {
    const o = a.off[j];
    const l = a.len[j];
    const next = j + 1 < a.count;
    if (isSet && !(flags & OBJ_SET_XX) && optionIs(u8, o, l, 'nx')) {
      flags |= OBJ_SET_NX;
    } else if (isSet && !(flags & OBJ_SET_NX) && optionIs(u8, o, l, 'xx')) {
      flags |= OBJ_SET_XX;
    } else if (isSet && optionIs(u8, o, l, 'get')) {
      flags |= OBJ_SET_GET;
    } else if (isSet && !(flags & (OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PX | OBJ_PXAT)) && optionIs(u8, o, l, 'keepttl')) {
      flags |= OBJ_KEEPTTL;
    } else if (!isSet && !(flags & (OBJ_EX | OBJ_EXAT | OBJ_PX | OBJ_PXAT | OBJ_KEEPTTL)) && optionIs(u8, o, l, 'persist')) {
      flags |= OBJ_PERSIST;
    } else if (next && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EXAT | OBJ_PX | OBJ_PXAT)) && optionIs(u8, o, l, 'ex')) {
      flags |= OBJ_EX;
      expireArg = ++j;
    } else if (next && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PXAT)) && optionIs(u8, o, l, 'px')) {
      flags |= OBJ_PX;
      expireArg = ++j;
    } else if (next && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_PX | OBJ_PXAT)) && optionIs(u8, o, l, 'exat')) {
      flags |= OBJ_EXAT;
      expireArg = ++j;
    } else if (next && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PX)) && optionIs(u8, o, l, 'pxat')) {
      flags |= OBJ_PXAT;
      expireArg = ++j;
    } else {
      c.reply.error(ERR_SYNTAX);
      return false;
    }
  }
  optFlags = flags;
  optExpireArg = expireArg;
  return true;
}

/** Absolute expiry for the parsed expire option (NaN after an error reply). */
function expireFromOptions(c: ShardContext, flags: number, expireArg: number, cmd: string): number {
  const unit = flags & (OBJ_PX | OBJ_PXAT) ? UNIT_MS : UNIT_SECONDS;
  return parseExpireArg(c, expireArg, unit, (flags & (OBJ_EX | OBJ_PX)) !== 0, cmd);
}

// Replies of setGeneric when the value is stored / not stored.
const R_OK = 0;
const R_NIL = 1;
const R_ONE = 2;
const R_ZERO = 3;

function replyCode(c: ShardContext, code: number): void {
  if (code === R_OK) c.reply.ok();
  else if (code === R_NIL) c.reply.nil();
  else c.reply.int(code === R_ONE ? 1 : 0);
}

/**
 * SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL], with the
 * argument checks in Redis's order: syntax, then the expire value, then GET's
 * type check, then NX/XX.
 */
function setCommand(c: ShardContext): void {
  if (!parseExtendedArgs(c, COMMAND_SET)) return;
  const flags = optFlags;
  let expireAt = -1;
  if (optExpireArg > 0) {
    expireAt = expireFromOptions(c, flags, optExpireArg, 'set');
    if (Number.isNaN(expireAt)) return;
  }
  if (flags & OBJ_SET_GET && !getGeneric(c, 1)) return;
  setGeneric(c, flags, 2, expireAt, R_OK, R_NIL);
}

/** setGenericCommand after the expire and GET handling. */
function setGeneric(c: ShardContext, flags: number, valArg: number, expireAt: number, okReply: number, abortReply: number): void {
  const a = c.args;
  const old = lookupWriteKey(c, 1);
  if ((flags & OBJ_SET_NX && old !== 0) || (flags & OBJ_SET_XX && old === 0)) {
    if (!(flags & OBJ_SET_GET)) replyCode(c, abortReply);
    return;
  }
  if (flags & OBJ_KEEPTTL && old !== 0) expireAt = c.ks.expireOf(old);
  const vo = a.off[valArg];
  const vl = a.len[valArg];
  storeString(c, 1, a.u8, vo, vl, Keyspace.stringEncoding(a.u8, vo, vl), expireAt);
  if (!(flags & OBJ_SET_GET)) replyCode(c, okReply);
}

function setnxCommand(c: ShardContext): void {
  setGeneric(c, OBJ_SET_NX, 2, -1, R_ONE, R_ZERO);
}

function setexCommand(c: ShardContext): void {
  const expireAt = expireFromOptions(c, OBJ_EX, 2, 'setex');
  if (Number.isNaN(expireAt)) return;
  setGeneric(c, 0, 3, expireAt, R_OK, R_NIL);
}

function psetexCommand(c: ShardContext): void {
  const expireAt = expireFromOptions(c, OBJ_PX, 2, 'psetex');
  if (Number.isNaN(expireAt)) return;
  setGeneric(c, 0, 3, expireAt, R_OK, R_NIL);
}

/**
 * GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]: syntax first, then the key
 * (nil when missing), then the expire value; the value is replied before the
 * TTL changes, and an EXAT/PXAT in the past deletes the key.
 */
function getexCommand(c: ShardContext): void {
  if (!parseExtendedArgs(c, COMMAND_GET)) return;
  const flags = optFlags;
  const expireArg = optExpireArg;
  const a = c.args;
  const ks = c.ks;
  const ref = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  if (ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const handle = ks.handle;
  let expireAt = -1;
  if (expireArg > 0) {
    expireAt = expireFromOptions(c, flags, expireArg, 'getex');
    if (Number.isNaN(expireAt)) return;
  }
  replyValue(c, ref);
  if (flags & (OBJ_EXAT | OBJ_PXAT) && expireAt <= ks.now) {
    ks.deleteAt(c.db, handle);
  } else if (expireArg > 0) {
    ks.setExpire(c.db, handle, ref, expireAt);
  } else if (flags & OBJ_PERSIST) {
    ks.setExpire(c.db, handle, ref, -1);
  }
}

function getdelCommand(c: ShardContext): void {
  if (!getGeneric(c, 1)) return;
  const ks = c.ks;
  // getGeneric's lookup left the slot in ks.handle (-1 when the key is missing).
  if (ks.handle >= 0) ks.deleteAt(c.db, ks.handle);
}

function getsetCommand(c: ShardContext): void {
  if (!getGeneric(c, 1)) return;
  const a = c.args;
  lookupWriteKey(c, 1); // positions the keyspace on the key for putString
  const vo = a.off[2];
  const vl = a.len[2];
  storeString(c, 1, a.u8, vo, vl, Keyspace.stringEncoding(a.u8, vo, vl), -1);
}

// -- multi-key ------------------------------------------------------------------

function mgetCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  c.reply.array(a.count - 1);
  for (let j = 1; j < a.count; j++) {
    const ref = ks.lookupRead(c.db, a.u8, a.off[j], a.len[j]);
    if (ref === 0 || ks.typeOf(ref) !== TYPE_STRING) c.reply.nil();
    else replyValue(c, ref);
  }
}

function msetGeneric(c: ShardContext, nx: boolean): void {
  const a = c.args;
  if (a.count % 2 === 0) {
    c.reply.error(errArity(nx ? 'msetnx' : 'mset'));
    return;
  }
  if (nx && anyKeyExists(c, 1, 2)) {
    c.reply.int(0);
    return;
  }
  // All pairs or none (an -OOM leaves every key as it was).
  c.ks.putStrings(c.db, a.u8, a.off, a.len, 1, a.count);
  if (nx) c.reply.int(1);
  else c.reply.ok();
}

/** True when one of the keys at first, first+step, ... exists (stops at the first one, like MSETNX). */
function anyKeyExists(c: ShardContext, first: number, step: number): boolean {
  for (let j = first; j < c.args.count; j += step) {
    if (lookupWriteKey(c, j) !== 0) return true;
  }
  return false;
}

function msetCommand(c: ShardContext): void {
  msetGeneric(c, false);
}

function msetnxCommand(c: ShardContext): void {
  msetGeneric(c, true);
}

/** __msetnx_probe key [key ...]: :1 if any of the keys exists, else :0 (MSETNX's first phase across shards). */
function msetnxProbeCommand(c: ShardContext): void {
  c.reply.int(anyKeyExists(c, 1, 1) ? 1 : 0);
}

// -- APPEND, STRLEN, ranges -----------------------------------------------------

/** checkStringLength: would a string of size + append bytes exceed proto-max-bulk-len? Replies the error if so. */
function tooLong(c: ShardContext, size: number, append: number): boolean {
  if (size + append > c.config.protoMaxBulkLen) {
    c.reply.error(ERR_STRING_TOO_LONG);
    return true;
  }
  return false;
}

function appendCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const vo = a.off[2];
  const vl = a.len[2];
  const old = lookupWriteKey(c, 1);
  if (old === 0) {
    storeString(c, 1, a.u8, vo, vl, Keyspace.stringEncoding(a.u8, vo, vl), -1);
    c.reply.int(vl);
    return;
  }
  if (ks.typeOf(old) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const olen = ks.stringLength(old);
  if (tooLong(c, olen, vl)) return;
  const total = olen + vl;
  const ref = ks.growString(c.db, ks.handle, old, total);
  copyBytes(a.u8, vo, ks.arena.u8, ks.stringOffset(ref) + olen, vl);
  ks.setStringLength(ref, total);
  ks.setEncoding(ref, ENC_RAW);
  c.reply.int(total);
}

function strlenCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const ref = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  c.reply.int(ks.stringLength(ref));
}

/** Results of the last parseLongLong call: the value (clamped to ±HUGE beyond 2^53) and, when beyond, the exact bigint. */
let llBig: bigint | null = null;

/**
 * getLongLongFromObjectOrReply for argument i: the value as a number (beyond
 * ±2^53 clamped to ±HUGE, with the exact value in llBig), or NaN after
 * replying "value is not an integer or out of range".
 */
function parseLongLong(c: ShardContext, i: number): number {
  const a = c.args;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  llBig = null;
  if (v === v) return v;
  if (parseI64Status() === INT_INVALID) {
    c.reply.error(ERR_NOT_INTEGER);
    return NaN;
  }
  llBig = parseI64Big(a.u8, a.off[i], a.len[i]);
  return (llBig as bigint) < 0n ? -HUGE : HUGE;
}

/** GETRANGE / SUBSTR key start end. */
function getrangeCommand(c: ShardContext): void {
  let start = parseLongLong(c, 2);
  if (Number.isNaN(start)) return;
  const startBig = llBig;
  let end = parseLongLong(c, 3);
  if (Number.isNaN(end)) return;
  const endBig = llBig;
  const a = c.args;
  const ks = c.ks;
  const ref = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) {
    c.reply.bulk(EMPTY, 0, 0);
    return;
  }
  if (ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const strlen = ks.stringLength(ref);
  if (start < 0 && end < 0) {
    const later = startBig !== null || endBig !== null
      ? (startBig ?? BigInt(start)) > (endBig ?? BigInt(end))
      : start > end;
    if (later) {
      c.reply.bulk(EMPTY, 0, 0);
      return;
    }
  }
  if (start < 0) start = strlen + start;
  if (end < 0) end = strlen + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= strlen) end = strlen - 1;
  if (start > end || strlen === 0) {
    c.reply.bulk(EMPTY, 0, 0);
    return;
  }
  c.reply.bulk(ks.arena.u8, ks.stringOffset(ref) + start, end - start + 1);
}

function setrangeCommand(c: ShardContext): void {
  const offset = parseLongLong(c, 2);
  if (Number.isNaN(offset)) return;
  if (offset < 0) {
    c.reply.error(ERR_OFFSET_RANGE);
    return;
  }
  const a = c.args;
  const ks = c.ks;
  const vo = a.off[3];
  const vl = a.len[3];
  const old = lookupWriteKey(c, 1);
  let ref: number;
  let olen: number;
  if (old === 0) {
    if (vl === 0) {
      c.reply.int(0);
      return;
    }
    if (tooLong(c, offset, vl)) return;
    // One allocation of the final size, zero-filled: nothing to undo if it fails.
    ref = storeString(c, 1, null, 0, offset + vl, ENC_RAW, -1);
    olen = 0;
  } else {
    if (ks.typeOf(old) !== TYPE_STRING) {
      c.reply.error(ERR_WRONGTYPE);
      return;
    }
    olen = ks.stringLength(old);
    if (vl === 0) {
      c.reply.int(olen);
      return;
    }
    if (tooLong(c, offset, vl)) return;
    ref = ks.growString(c.db, ks.handle, old, Math.max(olen, offset + vl));
  }
  const base = ks.stringOffset(ref);
  const u8 = ks.arena.u8;
  if (offset > olen) u8.fill(0, base + olen, base + offset);
  copyBytes(a.u8, vo, u8, base + offset, vl);
  const total = Math.max(olen, offset + vl);
  ks.setStringLength(ref, total);
  ks.setEncoding(ref, ENC_RAW);
  c.reply.int(total);
}

// -- counters -------------------------------------------------------------------

/**
 * Adds one to a canonical non-negative decimal of at most 18 digits in place
 * (no carry out of the first digit, so its length stays). False, with nothing
 * changed, for anything else: a sign, leading zeros, a non-digit, all nines,
 * or a value long enough to be near the 64-bit limit.
 */
function incrementDigits(u8: Uint8Array, off: number, len: number): boolean {
  if (len === 0 || len > 18) return false;
  const end = off + len;
  const first = u8[off];
  if (first === 0x30) {
    if (len !== 1) return false;
    u8[off] = 0x31;
    return true;
  }
  if (first < 0x31 || first > 0x39) return false;
  let lastBelowNine = -1;
  for (let i = off; i < end; i++) {
    const ch = u8[i];
    if (ch < 0x30 || ch > 0x39) return false;
    if (ch !== 0x39) lastBelowNine = i;
  }
  if (lastBelowNine < 0) return false;
  u8[lastBelowNine]++;
  for (let i = lastBelowNine + 1; i < end; i++) u8[i] = 0x30;
  return true;
}

/** A counter whose digits were rewritten where they are: an integer now, and its index group changed (WATCH). */
function counterChangedInPlace(c: ShardContext, ref: number): void {
  c.ks.setEncoding(ref, ENC_INT);
  c.ks.dbs[c.db].touch(c.ks.handle);
}

/** incrDecrCommand: adds `incr` (a safe integer, or `big` when beyond 2^53) to the key's integer value. */
function incrDecr(c: ShardContext, incr: number, big: bigint | null): void {
  const ks = c.ks;
  const old = lookupWriteKey(c, 1);
  let cur = 0;
  let curBig: bigint | null = null;
  let sl = 0;
  if (old !== 0) {
    if (ks.typeOf(old) !== TYPE_STRING) {
      c.reply.error(ERR_WRONGTYPE);
      return;
    }
    const so = ks.stringOffset(old);
    sl = ks.stringLength(old);
    if (incr === 1 && big === null && incrementDigits(ks.arena.u8, so, sl)) {
      // The common INCR: the digits change where they are (the TTL and access clock stay).
      counterChangedInPlace(c, old);
      c.reply.intDigits(ks.arena.u8, so, sl);
      return;
    }
    cur = parseI64(ks.arena.u8, so, sl);
    if (cur !== cur) {
      if (parseI64Status() !== INT_UNSAFE) {
        c.reply.error(ERR_NOT_INTEGER);
        return;
      }
      curBig = parseI64Big(ks.arena.u8, so, sl);
    }
  }
  const expireAt = old !== 0 ? ks.expireOf(old) : -1;
  if (curBig === null && big === null) {
    const sum = cur + incr;
    if (Number.isSafeInteger(sum)) {
      const n = writeI64(numBuf, 0, sum);
      // No more digits than before: they fit without asking the allocator.
      if (old !== 0 && (n <= sl || ks.stringCapacity(old) >= n)) {
        // The digits fit where the old ones were: update in place, as Redis
        // does for an unshared integer object (the TTL and access clock stay).
        const vo = ks.stringOffset(old);
        const u8 = ks.arena.u8;
        for (let i = 0; i < n; i++) u8[vo + i] = numBuf[i];
        ks.setStringLength(old, n);
        counterChangedInPlace(c, old);
      } else {
        storeString(c, 1, numBuf, 0, n, ENC_INT, expireAt);
      }
      c.reply.intDigits(numBuf, 0, n);
      return;
    }
  }
  const sum = (curBig ?? BigInt(cur)) + (big ?? BigInt(incr));
  if (sum > I64_MAX || sum < I64_MIN) {
    c.reply.error(ERR_OVERFLOW);
    return;
  }
  const n = writeI64Big(numBuf, 0, sum);
  storeString(c, 1, numBuf, 0, n, ENC_INT, expireAt);
  c.reply.bigint(sum);
}

function incrCommand(c: ShardContext): void {
  incrDecr(c, 1, null);
}

function decrCommand(c: ShardContext): void {
  incrDecr(c, -1, null);
}

function incrbyCommand(c: ShardContext): void {
  const v = parseLongLong(c, 2);
  if (Number.isNaN(v)) return;
  incrDecr(c, v, llBig);
}

function decrbyCommand(c: ShardContext): void {
  const v = parseLongLong(c, 2);
  if (Number.isNaN(v)) return;
  const big = llBig;
  if (big === I64_MIN) {
    c.reply.error(ERR_DECR_OVERFLOW);
    return;
  }
  incrDecr(c, -v, big === null ? null : -big);
}

/** INCRBYFLOAT: the sum is done in x87 long double and printed with %.17Lf minus trailing zeros, like Redis. */
function incrbyfloatCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const old = lookupWriteKey(c, 1);
  let cur = LD_ZERO;
  if (old !== 0) {
    if (ks.typeOf(old) !== TYPE_STRING) {
      c.reply.error(ERR_WRONGTYPE);
      return;
    }
    const v = parseLongDouble(ks.arena.u8, ks.stringOffset(old), ks.stringLength(old));
    if (v === null) {
      c.reply.error(ERR_NOT_FLOAT);
      return;
    }
    cur = v;
  }
  const incr = parseLongDouble(a.u8, a.off[2], a.len[2]);
  if (incr === null) {
    c.reply.error(ERR_NOT_FLOAT);
    return;
  }
  const s = incrByFloatLongDouble(cur, incr);
  if (s === null) {
    c.reply.error(ERR_INCR_NAN);
    return;
  }
  const bytes = Buffer.from(s, 'latin1');
  const expireAt = old !== 0 ? ks.expireOf(old) : -1;
  storeString(c, 1, bytes, 0, bytes.length, bytes.length <= 44 ? ENC_EMBSTR : ENC_RAW, expireAt);
  c.reply.bulk(bytes, 0, bytes.length);
}

// -- LCS ------------------------------------------------------------------------

const lcsOpts: LcsOptions = { getLen: false, getIdx: false, withMatchLen: false, minMatchLen: 0 };

/** Parses LCS options from argument `first` on into lcsOpts; replies the error and returns false when invalid. */
function parseLcsOptions(c: ShardContext, first: number): boolean {
  const a = c.args;
  const u8 = a.u8;
  lcsOpts.getLen = false;
  lcsOpts.getIdx = false;
  lcsOpts.withMatchLen = false;
  lcsOpts.minMatchLen = 0;
  for (let j = first; j < a.count; j++) {
    const o = a.off[j];
    const l = a.len[j];
    if (optionIs(u8, o, l, 'idx')) {
      lcsOpts.getIdx = true;
    } else if (optionIs(u8, o, l, 'len')) {
      lcsOpts.getLen = true;
    } else if (optionIs(u8, o, l, 'withmatchlen')) {
      lcsOpts.withMatchLen = true;
    } else if (j + 1 < a.count && optionIs(u8, o, l, 'minmatchlen')) {
      const v = parseLongLong(c, j + 1);
      if (Number.isNaN(v)) return false;
      lcsOpts.minMatchLen = v < 0 ? 0 : v;
      j++;
    } else {
      c.reply.error(ERR_SYNTAX);
      return false;
    }
  }
  if (lcsOpts.getLen && lcsOpts.getIdx) {
    c.reply.error(ERR_LCS_LEN_IDX);
    return false;
  }
  return true;
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], both keys on this shard. */
function lcsCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const refA = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  const refB = ks.lookupRead(c.db, a.u8, a.off[2], a.len[2]);
  if ((refA !== 0 && ks.typeOf(refA) !== TYPE_STRING) || (refB !== 0 && ks.typeOf(refB) !== TYPE_STRING)) {
    c.reply.error(ERR_LCS_TYPE);
    return;
  }
  if (!parseLcsOptions(c, 3)) return;
  const u8 = ks.arena.u8;
  lcsReply(c.reply, c.config.protoMaxBulkLen,
    u8, refA === 0 ? 0 : ks.stringOffset(refA), refA === 0 ? 0 : ks.stringLength(refA),
    u8, refB === 0 ? 0 : ks.stringOffset(refB), refB === 0 ? 0 : ks.stringLength(refB), lcsOpts);
}

/** LCS_B_* : what __lcs_with is told about the second key. */
export const LCS_B_MISSING = '0';
export const LCS_B_STRING = '1';
export const LCS_B_WRONGTYPE = '2';

/** __lcs_fetch key: the second key of a cross-shard LCS: its value, nil when missing, an error when not a string. */
function lcsFetchCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const ref = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) c.reply.nil();
  else if (ks.typeOf(ref) !== TYPE_STRING) c.reply.error(ERR_LCS_TYPE);
  else replyValue(c, ref);
}

/** __lcs_with key1 state value2 [options]: LCS run on key1's shard with the second key's value passed in. */
function lcsWithCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const refA = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if ((refA !== 0 && ks.typeOf(refA) !== TYPE_STRING) || a.is(2, LCS_B_WRONGTYPE)) {
    c.reply.error(ERR_LCS_TYPE);
    return;
  }
  if (!parseLcsOptions(c, 4)) return;
  lcsReply(c.reply, c.config.protoMaxBulkLen,
    ks.arena.u8, refA === 0 ? 0 : ks.stringOffset(refA), refA === 0 ? 0 : ks.stringLength(refA),
    a.u8, a.off[3], a.len[3], lcsOpts);
}

// -- table ----------------------------------------------------------------------

const RANGE_COMPLEXITY = 'O(N) where N is the length of the returned string. The complexity is ultimately determined by ' +
  'the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) ' +
  'for small strings.';

export const stringCommands: CommandSpec[] = [
  {
    name: 'get', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0', summary: 'Returns the string value of a key.', complexity: 'O(1)',
    shard: getCommand,
  },
  {
    name: 'set', arity: -3, flags: ['write', 'denyoom'], sizeBound: true, firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0',
    summary: 'Sets the string value of a key, ignoring its type. The key is created if it doesn\'t exist.',
    complexity: 'O(1)', shard: setCommand,
  },
  {
    name: 'getex', arity: -2, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '6.2.0', summary: 'Returns the string value of a key after setting its expiration time.',
    complexity: 'O(1)', shard: getexCommand,
  },
  {
    name: 'getdel', arity: 2, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '6.2.0', summary: 'Returns the string value of a key after deleting the key.',
    complexity: 'O(1)', shard: getdelCommand,
  },
  {
    name: 'getset', arity: 3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0',
    summary: 'Returns the previous string value of a key after setting it to a new value.',
    complexity: 'O(1)', shard: getsetCommand,
  },
  {
    name: 'setnx', arity: 3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0', summary: 'Set the string value of a key only when the key doesn\'t exist.',
    complexity: 'O(1)', shard: setnxCommand,
  },
  {
    name: 'setex', arity: 4, flags: ['write', 'denyoom'], sizeBound: true, firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '2.0.0',
    summary: 'Sets the string value and expiration time of a key. Creates the key if it doesn\'t exist.',
    complexity: 'O(1)', shard: setexCommand,
  },
  {
    name: 'psetex', arity: 4, flags: ['write', 'denyoom'], sizeBound: true, firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '2.6.0',
    summary: 'Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn\'t exist.',
    complexity: 'O(1)', shard: psetexCommand,
  },
  {
    name: 'mset', arity: -3, flags: ['write', 'denyoom'], sizeBound: true, firstKey: 1, lastKey: -1, keyStep: 2,
    group: 'string', since: '1.0.1', summary: 'Atomically creates or modifies the string values of one or more keys.',
    complexity: 'O(N) where N is the number of keys to set.', shard: msetCommand, multi: 'mset',
  },
  {
    name: 'msetnx', arity: -3, flags: ['write', 'denyoom'], sizeBound: true, firstKey: 1, lastKey: -1, keyStep: 2,
    group: 'string', since: '1.0.1',
    summary: 'Atomically modifies the string values of one or more keys only when all keys don\'t exist.',
    complexity: 'O(N) where N is the number of keys to set.', shard: msetnxCommand, multi: 'coordinated',
  },
  {
    name: 'mget', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1,
    group: 'string', since: '1.0.0', summary: 'Atomically returns the string values of one or more keys.',
    complexity: 'O(N) where N is the number of keys to retrieve.', shard: mgetCommand, multi: 'mget',
  },
  {
    name: 'append', arity: 3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '2.0.0', summary: 'Appends a string to the value of a key. Creates the key if it doesn\'t exist.',
    complexity: 'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already ' +
      'present value is of any size, since the dynamic string library used by Redis will double the free space ' +
      'available on every reallocation.',
    shard: appendCommand,
  },
  {
    name: 'strlen', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '2.2.0', summary: 'Returns the length of a string value.', complexity: 'O(1)',
    shard: strlenCommand,
  },
  {
    name: 'getrange', arity: 4, flags: ['readonly'], sizeBound: true, firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '2.4.0', summary: 'Returns a substring of the string stored at a key.',
    complexity: RANGE_COMPLEXITY, shard: getrangeCommand,
  },
  {
    name: 'substr', arity: 4, flags: ['readonly'], sizeBound: true, firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0', summary: 'Returns a substring from a string value.',
    complexity: RANGE_COMPLEXITY, shard: getrangeCommand,
  },
  {
    name: 'setrange', arity: 4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '2.2.0',
    summary: 'Overwrites a part of a string value with another by an offset. Creates the key if it doesn\'t exist.',
    complexity: 'O(1), not counting the time taken to copy the new string in place. Usually, this string is very ' +
      'small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.',
    shard: setrangeCommand,
  },
  {
    name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0',
    summary: 'Increments the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.',
    complexity: 'O(1)', shard: incrCommand,
  },
  {
    name: 'decr', arity: 2, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0',
    summary: 'Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.',
    complexity: 'O(1)', shard: decrCommand,
  },
  {
    name: 'incrby', arity: 3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0',
    summary: 'Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.',
    complexity: 'O(1)', shard: incrbyCommand,
  },
  {
    name: 'decrby', arity: 3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0',
    summary: 'Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn\'t exist.',
    complexity: 'O(1)', shard: decrbyCommand,
  },
  {
    name: 'incrbyfloat', arity: 3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '2.6.0',
    summary: 'Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.',
    complexity: 'O(1)', shard: incrbyfloatCommand,
  },
  {
    name: 'lcs', arity: -3, flags: ['readonly'], firstKey: 1, lastKey: 2, keyStep: 1,
    group: 'string', since: '7.0.0', summary: 'Finds the longest common substring.',
    complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively', shard: lcsCommand,
    multi: 'coordinated',
  },
  // Internal phases of MSETNX and LCS across shards (src/server/coordinators/strings.ts).
  {
    name: '__msetnx_probe', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1,
    group: 'string', since: '7.0.0', summary: 'MSETNX phase 1: does any of these keys exist?',
    shard: msetnxProbeCommand, internal: true,
  },
  {
    name: '__lcs_fetch', arity: 2, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '7.0.0', summary: 'LCS phase 1: the second key\'s value.',
    shard: lcsFetchCommand, internal: true,
  },
  {
    name: '__lcs_with', arity: -4, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '7.0.0', summary: 'LCS phase 2: runs LCS on the first key against a given value.',
    shard: lcsWithCommand, internal: true,
  },
];
