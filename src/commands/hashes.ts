import { TYPE_HASH } from '../../native-layout/layout.ts';
import type { Piece } from '../store/list.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { globMatch } from '../util/glob.ts';
import {
  incrByFloatLongDouble, LD_ZERO, longDoubleIsFinite, parseI64, parseI64Big, parseI64Status, parseLongDouble, INT_UNSAFE, type LongDouble,
  parseScanCursor,
} from '../util/numbers.ts';
import { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE, errArity, errInvalidExpire } from './errors.ts';
import { argPiece, setArgPiece } from './key-args.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// Hash commands (Redis 7.0's t_hash.c) and field expiry (Redis 7.4's
// HEXPIRE family). Values live in src/store/hash.ts. A hash command first
// drops the fields of its hash that have expired (lazy expiry), so no reply
// ever shows one and HLEN does not count them; a hash emptied that way, or by
// a command, loses its key. The shard's cron sweeps the rest (sweepHashFields).

const ERR_HASH_NOT_INT = 'ERR hash value is not an integer';
const ERR_HASH_NOT_FLOAT = 'ERR hash value is not a float';
const ERR_OVERFLOW = 'ERR increment or decrement would overflow';
const ERR_NAN_INF = 'ERR value is NaN or Infinity';
const ERR_INCR_NAN = 'ERR increment would produce NaN or Infinity';
const ERR_OUT_OF_RANGE = 'ERR value is out of range';
const ERR_INVALID_CURSOR = 'ERR invalid cursor';
const ERR_FIELDS_MISSING = 'ERR Mandatory argument FIELDS is missing or not at the right position';
const ERR_NUMFIELDS_POSITIVE = 'ERR Number of fields must be a positive integer';
const ERR_NUMFIELDS_GT0 = 'ERR Parameter `numFields` should be greater than 0';
const ERR_NUMFIELDS_MATCH = 'ERR The `numfields` parameter must match the number of arguments';
const ERR_EXPIRE_NEGATIVE = 'ERR invalid expire time, must be >= 0';
/** Redis 7.4's HFE_MAX_ABS_TIME_MSEC: (2^48 - 1) >> 2. */
const HFE_MAX_ABS_TIME_MSEC = 70368744177663;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const LONG_MAX = 9223372036854775807n;
/** HRANDFIELD with a negative count returns at most this many fields (a reply Redis would cut by closing the client). */
const MAX_REPEATED_SAMPLES = 100_000_000n;

/**
 * The pieces of HSET's usual single pair, reused: the store copies their bytes
 * before it returns, and HSET is by far the most common hash write (two
 * objects and an array per call were a tenth of its handler).
 */
const ONE_PAIR: Piece[] = [{ u8: new Uint8Array(0), off: 0, len: 0 }, { u8: new Uint8Array(0), off: 0, len: 0 }];

/**
 * The hash at key argument 1, expired fields dropped: its entry, 0 when
 * missing (or emptied by expiry), -1 once WRONGTYPE was replied.
 */
function openHash(c: ShardContext, write: boolean): number {
  const a = c.args;
  const ks = c.ks;
  const ref = write ? ks.lookupWrite(c.db, a.u8, a.off[1], a.len[1]) : ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) return 0;
  if (ks.typeOf(ref) !== TYPE_HASH) {
    c.reply.error(ERR_WRONGTYPE);
    return -1;
  }
  return expireFields(ks, c.db, ref, a.u8, a.off[1], a.len[1]);
}

/** Drops a hash's expired fields; deletes the key when none is left. Returns the entry or 0. */
function expireFields(ks: Keyspace, db: number, ref: number, kb: Uint8Array, ko: number, kl: number): number {
  const hs = ks.hashes;
  const h = ks.valueRef(ref);
  if (!hs.hasTtl(h)) return ref;
  const due = hs.nextExpire(h);
  if (due === 0 || due > ks.now) return ref;
  hs.purgeExpired(h, ks.now);
  if (hs.count(h) > 0) return ref;
  ks.lookupWrite(db, kb, ko, kl);
  ks.deleteAt(db, ks.handle);
  return 0;
}

/** Stores a hash's (possibly moved) ref and encoding in its entry. */
function commit(ks: Keyspace, ref: number, h: number): void {
  ks.setValueRef(ref, h);
  ks.setEncoding(ref, ks.hashes.encodingOf(h));
}

/** Deletes key argument 1 when its hash is empty. */
function deleteIfEmpty(c: ShardContext, ref: number): void {
  const ks = c.ks;
  if (ks.hashes.count(ks.valueRef(ref)) !== 0) return;
  const a = c.args;
  ks.lookupWrite(c.db, a.u8, a.off[1], a.len[1]);
  ks.deleteAt(c.db, ks.handle);
}

/**
 * Writes pairs (field, value, ...) into the hash at key argument 1, creating
 * it when missing (ref 0; the key was looked up for writing just before).
 * All or nothing. Returns the fields created.
 */
function writePairs(c: ShardContext, ref: number, pairs: Piece[]): number {
  const ks = c.ks;
  const hs = ks.hashes;
  const a = c.args;
  if (ref === 0) {
    const h = hs.createFrom(pairs);
    const created = hs.created;
    ks.putNewStructure(c.db, a.u8, a.off[1], a.len[1], TYPE_HASH, hs.encodingOf(h), hs, h, -1);
    return created;
  }
  const h = hs.setMany(ks.valueRef(ref), pairs, 0);
  commit(ks, ref, h);
  return hs.created;
}

// -- writes -----------------------------------------------------------------------

function hsetGeneric(c: ShardContext, hmset: boolean): void {
  const a = c.args;
  if (a.count % 2 === 1) {
    c.reply.error(errArity(hmset ? 'hmset' : 'hset'));
    return;
  }
  const ref = openHash(c, true);
  if (ref < 0) return;
  let pairs: Piece[];
  if (a.count === 4) {
    pairs = ONE_PAIR;
    setArgPiece(pairs[0], c, 2);
    setArgPiece(pairs[1], c, 3);
  } else {
    pairs = [];
    for (let i = 2; i < a.count; i++) pairs.push(argPiece(c, i));
  }
  const created = writePairs(c, ref, pairs);
  if (hmset) c.reply.ok();
  else c.reply.int(created);
}

function hsetnxCommand(c: ShardContext): void {
  const ref = openHash(c, true);
  if (ref < 0) return;
  const ks = c.ks;
  const hs = ks.hashes;
  const f = argPiece(c, 2);
  const v = argPiece(c, 3);
  if (ref !== 0 && hs.find(ks.valueRef(ref), f.u8, f.off, f.len)) {
    c.reply.int(0);
    return;
  }
  writePairs(c, ref, [f, v]);
  c.reply.int(1);
}

function hdelCommand(c: ShardContext): void {
  const a = c.args;
  const ref = openHash(c, true);
  if (ref < 0) return;
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  const ks = c.ks;
  const h = ks.valueRef(ref);
  let deleted = 0;
  for (let i = 2; i < a.count; i++) {
    if (ks.hashes.delete(h, a.u8, a.off[i], a.len[i])) deleted++;
    if (ks.hashes.count(h) === 0) break;
  }
  deleteIfEmpty(c, ref);
  c.reply.int(deleted);
}

/** A signed 64-bit integer argument as a bigint, or null. */
function argI64(c: ShardContext, i: number): bigint | null {
  const a = c.args;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (v === v) return BigInt(v);
  if (parseI64Status() !== INT_UNSAFE) return null;
  return parseI64Big(a.u8, a.off[i], a.len[i]);
}

function hincrbyCommand(c: ShardContext): void {
  const incr = argI64(c, 3);
  if (incr === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return;
  }
  const ref = openHash(c, true);
  if (ref < 0) return;
  const ks = c.ks;
  const hs = ks.hashes;
  const f = argPiece(c, 2);
  let value = 0n;
  if (ref !== 0 && hs.find(ks.valueRef(ref), f.u8, f.off, f.len)) {
    const u8 = ks.arena.u8;
    const n = parseI64(u8, hs.vOff, hs.vLen);
    const v = n === n ? BigInt(n) : parseI64Status() === INT_UNSAFE ? parseI64Big(u8, hs.vOff, hs.vLen) : null;
    if (v === null) {
      c.reply.error(ERR_HASH_NOT_INT);
      return;
    }
    value = v;
  }
  const sum = value + incr;
  if (sum < I64_MIN || sum > I64_MAX) {
    c.reply.error(ERR_OVERFLOW);
    return;
  }
  const bytes = Buffer.from(sum.toString(), 'latin1');
  writePairs(c, ref, [f, { u8: bytes, off: 0, len: bytes.length }]);
  if (sum >= BigInt(Number.MIN_SAFE_INTEGER) && sum <= BigInt(Number.MAX_SAFE_INTEGER)) c.reply.int(Number(sum));
  else c.reply.bigint(sum);
}

function hincrbyfloatCommand(c: ShardContext): void {
  const a = c.args;
  const incr = parseLongDouble(a.u8, a.off[3], a.len[3]);
  if (incr === null) {
    c.reply.error(ERR_NOT_FLOAT);
    return;
  }
  if (!longDoubleIsFinite(incr)) {
    c.reply.error(ERR_NAN_INF);
    return;
  }
  const ref = openHash(c, true);
  if (ref < 0) return;
  const ks = c.ks;
  const hs = ks.hashes;
  const f = argPiece(c, 2);
  let cur: LongDouble | null = LD_ZERO;
  if (ref !== 0 && hs.find(ks.valueRef(ref), f.u8, f.off, f.len)) {
    cur = parseLongDouble(ks.arena.u8, hs.vOff, hs.vLen);
    if (cur === null) {
      c.reply.error(ERR_HASH_NOT_FLOAT);
      return;
    }
  }
  const s = cur === null ? null : incrByFloatLongDouble(cur, incr);
  if (s === null) {
    c.reply.error(ERR_INCR_NAN);
    return;
  }
  const bytes = Buffer.from(s, 'latin1');
  writePairs(c, ref, [f, { u8: bytes, off: 0, len: bytes.length }]);
  c.reply.bulk(bytes, 0, bytes.length);
}

// -- reads ------------------------------------------------------------------------

function hgetCommand(c: ShardContext): void {
  const ref = openHash(c, false);
  if (ref < 0) return;
  const ks = c.ks;
  const f = argPiece(c, 2);
  if (ref !== 0 && ks.hashes.find(ks.valueRef(ref), f.u8, f.off, f.len)) {
    c.reply.bulk(ks.arena.u8, ks.hashes.vOff, ks.hashes.vLen);
  } else {
    c.reply.nil();
  }
}

function hmgetCommand(c: ShardContext): void {
  const a = c.args;
  const ref = openHash(c, false);
  if (ref < 0) return;
  const ks = c.ks;
  const hs = ks.hashes;
  c.reply.array(a.count - 2);
  for (let i = 2; i < a.count; i++) {
    if (ref !== 0 && hs.find(ks.valueRef(ref), a.u8, a.off[i], a.len[i])) c.reply.bulk(ks.arena.u8, hs.vOff, hs.vLen);
    else c.reply.nil();
  }
}

function hlenCommand(c: ShardContext): void {
  const ref = openHash(c, false);
  if (ref < 0) return;
  c.reply.int(ref === 0 ? 0 : c.ks.hashes.count(c.ks.valueRef(ref)));
}

function hstrlenCommand(c: ShardContext): void {
  const ref = openHash(c, false);
  if (ref < 0) return;
  const ks = c.ks;
  const f = argPiece(c, 2);
  c.reply.int(ref !== 0 && ks.hashes.find(ks.valueRef(ref), f.u8, f.off, f.len) ? ks.hashes.vLen : 0);
}

function hexistsCommand(c: ShardContext): void {
  const ref = openHash(c, false);
  if (ref < 0) return;
  const ks = c.ks;
  const f = argPiece(c, 2);
  c.reply.int(ref !== 0 && ks.hashes.find(ks.valueRef(ref), f.u8, f.off, f.len) ? 1 : 0);
}

const KEYS = 1;
const VALUES = 2;

function hgetallGeneric(c: ShardContext, what: number): void {
  const ref = openHash(c, false);
  if (ref < 0) return;
  const both = what === (KEYS | VALUES);
  if (ref === 0) {
    if (both) c.reply.map(0);
    else c.reply.array(0);
    return;
  }
  const ks = c.ks;
  const h = ks.valueRef(ref);
  const n = ks.hashes.count(h);
  if (both) c.reply.map(n);
  else c.reply.array(n);
  const u8 = ks.arena.u8;
  const r = c.reply;
  ks.hashes.forEach(h, (fo, fl, vo, vl) => {
    if (what & KEYS) r.bulk(u8, fo, fl);
    if (what & VALUES) r.bulk(u8, vo, vl);
  });
}

// -- HRANDFIELD ---------------------------------------------------------------------

function hrandfieldCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const hs = ks.hashes;
  if (a.count >= 3) {
    const l = argI64(c, 2);
    if (l === null) {
      c.reply.error(ERR_NOT_INTEGER);
      return;
    }
    if (l < -LONG_MAX) {
      c.reply.error(`ERR value is out of range, value must between -${LONG_MAX} and ${LONG_MAX}`);
      return;
    }
    let withValues = false;
    if (a.count > 4 || (a.count === 4 && a.lower(3) !== 'withvalues')) {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    if (a.count === 4) {
      withValues = true;
      if (l < -LONG_MAX / 2n || l > LONG_MAX / 2n) {
        c.reply.error(ERR_OUT_OF_RANGE);
        return;
      }
    }
    const ref = openHash(c, false);
    if (ref < 0) return;
    if (ref === 0) {
      c.reply.array(0);
      return;
    }
    randomWithCount(c, ks.valueRef(ref), l, withValues);
    return;
  }
  const ref = openHash(c, false);
  if (ref < 0) return;
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  hs.random(ks.valueRef(ref), Math.random);
  c.reply.bulk(ks.arena.u8, hs.fOff, hs.fLen);
}

function randomWithCount(c: ShardContext, h: number, l: bigint, withValues: boolean): void {
  const ks = c.ks;
  const hs = ks.hashes;
  const u8 = ks.arena.u8;
  const r = c.reply;
  const resp3 = r.resp3;
  const size = hs.count(h);
  if (l === 0n) {
    r.array(0);
    return;
  }
  const uniq = l > 0n;
  const count = uniq ? l : -l;
  const emit = (): void => {
    if (withValues && resp3) r.array(2);
    r.bulk(u8, hs.fOff, hs.fLen);
    if (withValues) r.bulk(u8, hs.vOff, hs.vLen);
  };
  if (!uniq || count === 1n) {
    // Redis would fill the client's output buffer until it is closed; refuse instead.
    if (count > MAX_REPEATED_SAMPLES) {
      r.error(ERR_OUT_OF_RANGE);
      return;
    }
    const n = Number(count);
    r.array(withValues && !resp3 ? n * 2 : n);
    for (let i = 0; i < n; i++) {
      hs.random(h, Math.random);
      emit();
    }
    return;
  }
  const want = count < BigInt(size) ? Number(count) : size;
  r.array(withValues && !resp3 ? want * 2 : want);
  if (want === size) {
    hs.forEach(h, (fo, fl, vo, vl) => {
      if (withValues && resp3) r.array(2);
      r.bulk(u8, fo, fl);
      if (withValues) r.bulk(u8, vo, vl);
    });
    return;
  }
  // Distinct fields: pick `want` of the `size` positions (Floyd's sampling), then emit them.
  if (!hs.isTable(h)) {
    const picked = new Uint8Array(size);
    for (let j = size - want; j < size; j++) {
      const t = Math.floor(Math.random() * (j + 1));
      if (picked[t] === 0) picked[t] = 1;
      else picked[j] = 1;
    }
    let i = 0;
    hs.forEach(h, (fo, fl, vo, vl) => {
      if (picked[i++] === 0) return;
      if (withValues && resp3) r.array(2);
      r.bulk(u8, fo, fl);
      if (withValues) r.bulk(u8, vo, vl);
    });
    return;
  }
  const seen = new Set<string>();
  while (seen.size < want) {
    hs.random(h, Math.random);
    const s = Buffer.from(u8.buffer, u8.byteOffset + hs.fOff, hs.fLen).toString('latin1');
    if (seen.has(s)) continue;
    seen.add(s);
    emit();
  }
}

// -- HSCAN ------------------------------------------------------------------------

/** A cursor as Redis's strtoul reads it (a negative one wraps modulo 2^64); null when invalid. */
function hscanCommand(c: ShardContext): void {
  const a = c.args;
  const cursor = parseScanCursor(a.u8, a.off[2], a.len[2]);
  if (cursor === null) {
    c.reply.error(ERR_INVALID_CURSOR);
    return;
  }
  // Redis answers a missing key before it reads the options.
  const ref = openHash(c, false);
  if (ref < 0) return;
  if (ref === 0) {
    c.reply.array(2).bulkString('0').array(0);
    return;
  }
  let count = 10;
  let matchArg = -1;
  for (let i = 3; i < a.count;) {
    const more = a.count - i >= 2;
    const opt = a.lower(i);
    if (more && opt === 'count') {
      const v = argI64(c, i + 1);
      if (v === null) {
        c.reply.error(ERR_NOT_INTEGER);
        return;
      }
      if (v < 1n) {
        c.reply.error(ERR_SYNTAX);
        return;
      }
      count = v > 1_000_000n ? 1_000_000 : Number(v);
      i += 2;
    } else if (more && opt === 'match') {
      const p = a.off[i + 1];
      matchArg = a.len[i + 1] === 1 && a.u8[p] === 42 ? -1 : i + 1;
      i += 2;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const ks = c.ks;
  const u8 = ks.arena.u8;
  const found: number[] = [];
  const next = ks.hashes.scan(ks.valueRef(ref), Number(cursor & 0xffffffffn), count, (fo, fl, vo, vl) => {
    if (matchArg >= 0 && !globMatch(a.u8, a.off[matchArg], a.len[matchArg], u8, fo, fl, false)) return;
    found.push(fo, fl, vo, vl);
  });
  c.reply.array(2).bulkString(String(next)).array(found.length / 2);
  for (let k = 0; k < found.length; k += 2) c.reply.bulk(u8, found[k], found[k + 1]);
}

// -- field expiry (Redis 7.4) -------------------------------------------------------

/** Reads "FIELDS numfields f1 f2 ..." at `at`; returns the first field's index, or -1 once an error was replied. */
function fieldsArg(c: ShardContext, at: number, positiveMsg: string): number {
  const a = c.args;
  if (at >= a.count || a.lower(at) !== 'fields') {
    c.reply.error(ERR_FIELDS_MISSING);
    return -1;
  }
  const n = at + 1 < a.count ? argI64(c, at + 1) : null;
  if (n === null || n < 1n) {
    c.reply.error(positiveMsg);
    return -1;
  }
  if (n !== BigInt(a.count - at - 2)) {
    c.reply.error(ERR_NUMFIELDS_MATCH);
    return -1;
  }
  return at + 2;
}

const COND_NONE = 0;
const COND_NX = 1;
const COND_XX = 2;
const COND_GT = 3;
const COND_LT = 4;

function hexpireGeneric(c: ShardContext, name: string, relative: boolean, unitMs: number): void {
  const a = c.args;
  const ks = c.ks;
  const hs = ks.hashes;
  const ref = openHash(c, true);
  if (ref < 0) return;
  const t = argI64(c, 2);
  if (t === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return;
  }
  if (t < 0n) {
    c.reply.error(ERR_EXPIRE_NEGATIVE);
    return;
  }
  let expire = t;
  if (unitMs === 1000) {
    if (expire > BigInt(Math.floor(HFE_MAX_ABS_TIME_MSEC / 1000))) {
      c.reply.error(errInvalidExpire(name));
      return;
    }
    expire *= 1000n;
  }
  const base = relative ? BigInt(ks.now) : 0n;
  if (expire > BigInt(HFE_MAX_ABS_TIME_MSEC) - base) {
    c.reply.error(errInvalidExpire(name));
    return;
  }
  const at = Number(expire + base);
  let cond = COND_NONE;
  let fieldsAt = 3;
  if (a.count > 3) {
    const o = a.lower(3);
    cond = o === 'nx' ? COND_NX : o === 'xx' ? COND_XX : o === 'gt' ? COND_GT : o === 'lt' ? COND_LT : COND_NONE;
    if (cond !== COND_NONE) fieldsAt = 4;
  }
  const first = fieldsArg(c, fieldsAt, ERR_NUMFIELDS_GT0);
  if (first < 0) return;
  const n = a.count - first;
  if (ref === 0) {
    c.reply.array(n);
    for (let i = 0; i < n; i++) c.reply.int(-2);
    return;
  }
  // Room for an expiry on every named field first (may allocate), then no write can fail.
  const pieces: Piece[] = [];
  for (let i = first; i < a.count; i++) pieces.push(argPiece(c, i));
  let h = hs.ensureTtlSlots(ks.valueRef(ref), pieces, 0, pieces.length);
  commit(ks, ref, h);
  c.reply.array(n);
  let set = 0;
  for (const f of pieces) {
    if (hs.count(h) === 0 || !hs.find(h, f.u8, f.off, f.len)) {
      c.reply.int(-2);
      continue;
    }
    const prev = hs.exp;
    if (prev === 0) {
      if (cond === COND_XX || cond === COND_GT) {
        c.reply.int(0);
        continue;
      }
    } else if ((cond === COND_GT && prev >= at) || (cond === COND_LT && prev <= at) || cond === COND_NX) {
      c.reply.int(0);
      continue;
    }
    if (at <= ks.now) {
      hs.deleteCurrent(h);
      c.reply.int(2);
      continue;
    }
    hs.writeExpire(h, at);
    set++;
    c.reply.int(1);
  }
  h = ks.valueRef(ref);
  if (set > 0) ks.fieldTtlDbs[c.db] = 2;
  commit(ks, ref, h);
  deleteIfEmpty(c, ref);
}

function httlGeneric(c: ShardContext, relative: boolean, unitMs: number): void {
  const a = c.args;
  const ks = c.ks;
  const hs = ks.hashes;
  const ref = openHash(c, false);
  if (ref < 0) return;
  const first = fieldsArg(c, 2, ERR_NUMFIELDS_POSITIVE);
  if (first < 0) return;
  c.reply.array(a.count - first);
  for (let i = first; i < a.count; i++) {
    if (ref === 0 || !hs.find(ks.valueRef(ref), a.u8, a.off[i], a.len[i])) {
      c.reply.int(-2);
      continue;
    }
    const e = hs.exp;
    if (e === 0) {
      c.reply.int(-1);
      continue;
    }
    const base = relative ? ks.now : 0;
    c.reply.int(unitMs === 1000 ? Math.floor((e + 999 - base) / 1000) : e - base);
  }
}

function hpersistCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const hs = ks.hashes;
  const ref = openHash(c, true);
  if (ref < 0) return;
  const first = fieldsArg(c, 2, ERR_NUMFIELDS_POSITIVE);
  if (first < 0) return;
  c.reply.array(a.count - first);
  for (let i = first; i < a.count; i++) {
    if (ref === 0 || !hs.find(ks.valueRef(ref), a.u8, a.off[i], a.len[i])) {
      c.reply.int(-2);
      continue;
    }
    if (hs.exp === 0) {
      c.reply.int(-1);
      continue;
    }
    hs.writeExpire(ks.valueRef(ref), 0);
    c.reply.int(1);
  }
  if (ref !== 0) commit(ks, ref, ks.valueRef(ref));
}

// -- active expiry of fields (the shard's cron) ---------------------------------------

/**
 * One slice of the field-expiry sweep of a database: walks up to `steps`
 * home groups of its index from `cursor` and drops the expired fields of the
 * hashes met there (at most `fieldBudget` fields in all), deleting keys left
 * empty. Returns the next cursor (0 after a full pass; the database's
 * fieldTtlDbs flag is then cleared when no hash with field TTLs was seen
 * since the pass began, tracked by the caller through `sawTtl`).
 */
export function sweepHashFields(ks: Keyspace, db: number, cursor: number, steps: number, fieldBudget: number,
  out: { sawTtl: boolean; expired: number }): number {
  const index = ks.dbs[db];
  const refs: number[] = [];
  const hs = ks.hashes;
  let cur = cursor;
  for (let s = 0; s < steps && out.expired < fieldBudget; s++) {
    refs.length = 0;
    cur = index.scan(cur, refs);
    for (const ref of refs) {
      if (ks.typeOf(ref) !== TYPE_HASH) continue;
      const h = ks.valueRef(ref);
      if (!hs.hasTtl(h)) continue;
      out.sawTtl = true;
      const due = hs.nextExpire(h);
      if (due === 0 || due > ks.now) continue;
      out.expired += hs.purgeExpired(h, ks.now, fieldBudget - out.expired);
      ks.setEncoding(ref, hs.encodingOf(h));
      if (hs.count(h) === 0) {
        const u8 = ks.arena.u8;
        if (ks.lookupWrite(db, u8, ks.keyOffset(ref), ks.keyLength(ref)) === ref) ks.deleteAt(db, ks.handle);
      }
    }
    if (cur === 0) break;
  }
  return cur;
}

// -- table --------------------------------------------------------------------------

function hash(spec: Omit<CommandSpec, 'group'>): CommandSpec {
  return { ...spec, group: 'hash' };
}

const K1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;

export const hashCommands: readonly CommandSpec[] = [
  hash({
    name: 'hset', arity: -4, flags: ['write', 'denyoom', 'fast'], ...K1, since: '2.0.0',
    summary: 'Set the string value of a hash field', complexity: 'O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.',
    shard: (c) => hsetGeneric(c, false),
  }),
  hash({
    name: 'hsetnx', arity: 4, flags: ['write', 'denyoom', 'fast'], ...K1, since: '2.0.0',
    summary: 'Set the value of a hash field, only if the field does not exist', complexity: 'O(1)', shard: hsetnxCommand,
  }),
  hash({
    name: 'hmset', arity: -4, flags: ['write', 'denyoom', 'fast'], ...K1, since: '2.0.0',
    summary: 'Set multiple hash fields to multiple values', complexity: 'O(N) where N is the number of fields being set.',
    shard: (c) => hsetGeneric(c, true),
  }),
  hash({
    name: 'hget', arity: 3, flags: ['readonly', 'fast'], ...K1, since: '2.0.0',
    summary: 'Get the value of a hash field', complexity: 'O(1)', shard: hgetCommand,
  }),
  hash({
    name: 'hmget', arity: -3, flags: ['readonly', 'fast'], ...K1, since: '2.0.0',
    summary: 'Get the values of all the given hash fields', complexity: 'O(N) where N is the number of fields being requested.',
    shard: hmgetCommand,
  }),
  hash({
    name: 'hgetall', arity: 2, flags: ['readonly'], ...K1, since: '2.0.0',
    summary: 'Get all the fields and values in a hash', complexity: 'O(N) where N is the size of the hash.',
    shard: (c) => hgetallGeneric(c, KEYS | VALUES),
  }),
  hash({
    name: 'hkeys', arity: 2, flags: ['readonly'], ...K1, since: '2.0.0',
    summary: 'Get all the fields in a hash', complexity: 'O(N) where N is the size of the hash.',
    shard: (c) => hgetallGeneric(c, KEYS),
  }),
  hash({
    name: 'hvals', arity: 2, flags: ['readonly'], ...K1, since: '2.0.0',
    summary: 'Get all the values in a hash', complexity: 'O(N) where N is the size of the hash.',
    shard: (c) => hgetallGeneric(c, VALUES),
  }),
  hash({
    name: 'hdel', arity: -3, flags: ['write', 'fast'], ...K1, since: '2.0.0',
    summary: 'Delete one or more hash fields', complexity: 'O(N) where N is the number of fields to be removed.', shard: hdelCommand,
  }),
  hash({
    name: 'hexists', arity: 3, flags: ['readonly', 'fast'], ...K1, since: '2.0.0',
    summary: 'Determine if a hash field exists', complexity: 'O(1)', shard: hexistsCommand,
  }),
  hash({
    name: 'hlen', arity: 2, flags: ['readonly', 'fast'], ...K1, since: '2.0.0',
    summary: 'Get the number of fields in a hash', complexity: 'O(1)', shard: hlenCommand,
  }),
  hash({
    name: 'hstrlen', arity: 3, flags: ['readonly', 'fast'], ...K1, since: '3.2.0',
    summary: 'Get the length of the value of a hash field', complexity: 'O(1)', shard: hstrlenCommand,
  }),
  hash({
    name: 'hincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], ...K1, since: '2.0.0',
    summary: 'Increment the integer value of a hash field by the given number', complexity: 'O(1)', shard: hincrbyCommand,
  }),
  hash({
    name: 'hincrbyfloat', arity: 4, flags: ['write', 'denyoom', 'fast'], ...K1, since: '2.6.0',
    summary: 'Increment the float value of a hash field by the given amount', complexity: 'O(1)', shard: hincrbyfloatCommand,
  }),
  hash({
    name: 'hrandfield', arity: -2, flags: ['readonly'], ...K1, since: '6.2.0',
    summary: 'Get one or multiple random fields from a hash', complexity: 'O(N) where N is the number of fields returned',
    shard: hrandfieldCommand,
  }),
  hash({
    name: 'hscan', arity: -3, flags: ['readonly'], ...K1, since: '2.8.0',
    summary: 'Incrementally iterate hash fields and associated values',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    shard: hscanCommand,
  }),
  hash({
    name: 'hexpire', arity: -6, flags: ['write', 'denyoom', 'fast'], ...K1, since: '7.4.0',
    summary: 'Set expiry for hash field using relative time to expire (seconds)', complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => hexpireGeneric(c, 'hexpire', true, 1000),
  }),
  hash({
    name: 'hpexpire', arity: -6, flags: ['write', 'denyoom', 'fast'], ...K1, since: '7.4.0',
    summary: 'Set expiry for hash field using relative time to expire (milliseconds)', complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => hexpireGeneric(c, 'hpexpire', true, 1),
  }),
  hash({
    name: 'hexpireat', arity: -6, flags: ['write', 'denyoom', 'fast'], ...K1, since: '7.4.0',
    summary: 'Set expiry for hash field using an absolute Unix timestamp (seconds)', complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => hexpireGeneric(c, 'hexpireat', false, 1000),
  }),
  hash({
    name: 'hpexpireat', arity: -6, flags: ['write', 'denyoom', 'fast'], ...K1, since: '7.4.0',
    summary: 'Set expiry for hash field using an absolute Unix timestamp (milliseconds)', complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => hexpireGeneric(c, 'hpexpireat', false, 1),
  }),
  hash({
    name: 'httl', arity: -5, flags: ['readonly', 'fast'], ...K1, since: '7.4.0',
    summary: "Returns the TTL in seconds of a hash field.", complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => httlGeneric(c, true, 1000),
  }),
  hash({
    name: 'hpttl', arity: -5, flags: ['readonly', 'fast'], ...K1, since: '7.4.0',
    summary: "Returns the TTL in milliseconds of a hash field.", complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => httlGeneric(c, true, 1),
  }),
  hash({
    name: 'hexpiretime', arity: -5, flags: ['readonly', 'fast'], ...K1, since: '7.4.0',
    summary: 'Returns the expiration time of a hash field as a Unix timestamp, in seconds.', complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => httlGeneric(c, false, 1000),
  }),
  hash({
    name: 'hpexpiretime', arity: -5, flags: ['readonly', 'fast'], ...K1, since: '7.4.0',
    summary: 'Returns the expiration time of a hash field as a Unix timestamp, in msec.', complexity: 'O(N) where N is the number of specified fields',
    shard: (c) => httlGeneric(c, false, 1),
  }),
  hash({
    name: 'hpersist', arity: -5, flags: ['write', 'fast'], ...K1, since: '7.4.0',
    summary: 'Removes the expiration time for each specified field', complexity: 'O(N) where N is the number of specified fields',
    shard: hpersistCommand,
  }),
];
