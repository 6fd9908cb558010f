import { TYPE_SET, TYPE_ZSET } from '../../native-layout/layout.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { compareBytes, type ZEntry, type ZSetStore } from '../store/zset.ts';
import { globMatch } from '../util/glob.ts';
import { formatDouble, INT_UNSAFE, parseDouble, parseI64, parseI64Big, parseI64Status, parseScanCursor } from '../util/numbers.ts';
import { Argv } from '../protocol/argv.ts';
import { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE } from './errors.ts';
import type { CommandSpec, ShardContext } from './types.ts';
import { lookupRead, lookupWrite, wrongTypeFor } from './key-args.ts';

const wrongType = (c: ShardContext, ref: number): boolean => wrongTypeFor(c, ref, TYPE_ZSET);

// Sorted-set commands (Redis 7.0's t_zset.c). Values live in
// src/store/zset.ts. Writes to an existing set keep an undo journal: when an
// insert runs out of memory, the earlier steps of the same command are undone
// (removals and score changes never allocate), so the command is all or
// nothing. A set emptied by a command loses its key.

const ERR_NAN = 'ERR resulting score is not a number (NaN)';
const ERR_RANGE_FLOAT = 'ERR min or max is not a float';
const ERR_RANGE_LEX = 'ERR min or max not valid string range item';
const ERR_XX_NX = 'ERR XX and NX options at the same time are not compatible';
const ERR_GT_LT_NX = 'ERR GT, LT, and/or NX options at the same time are not compatible';
const ERR_INCR_PAIR = 'ERR INCR option supports a single increment-element pair';
const ERR_LIMIT_RANK = 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX';
const ERR_WITHSCORES_LEX = 'ERR syntax error, WITHSCORES not supported in combination with BYLEX';
const ERR_NUMKEYS = 'ERR numkeys should be greater than 0';
const ERR_COUNT_POSITIVE = 'ERR count should be greater than 0';
const ERR_POSITIVE = 'ERR value is out of range, must be positive';
const ERR_OUT_OF_RANGE = 'ERR value is out of range';
const ERR_WEIGHT = 'ERR weight value is not a float';
const ERR_LIMIT_NEGATIVE = "ERR LIMIT can't be negative";
const ERR_INVALID_CURSOR = 'ERR invalid cursor';
const LONG_MAX = 9223372036854775807;
const LONG_MAX_BIG = 9223372036854775807n;
/** Most picks ZRANDMEMBER with a negative count answers (Sabre's bound, see zrandmemberCommand). */
const MAX_RANDOM_PICKS = 100_000_000n;

// -- set inputs ----------------------------------------------------------------

/**
 * What ZUNION/ZINTER/ZDIFF (and their STORE forms, ZINTERCARD) need from a
 * plain set (TYPE_SET) given as an input: every member counts with score 1.
 * The sets store registers one with registerSetReader(); until it does, a set
 * input answers WRONGTYPE.
 */
export interface SetReader {
  count(h: number): number;
  contains(h: number, b: Uint8Array, o: number, l: number): boolean;
  forEach(h: number, visit: (b: Uint8Array, o: number, l: number) => void): void;
}

let setReaderOf: ((ks: Keyspace) => SetReader) | null = null;

/** Wires plain sets in as inputs of the sorted-set algebra (called once at start-up by the sets module). */
export function registerSetReader(f: (ks: Keyspace) => SetReader): void {
  setReaderOf = f;
}

// -- argument helpers ------------------------------------------------------------

function argLong(c: ShardContext, i: number): number | null {
  const a = c.args;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (v === v) return v;
  if (parseI64Status() !== INT_UNSAFE) return null;
  const s = a.str(i);
  return s.startsWith('-') ? -LONG_MAX - 1 : LONG_MAX;
}

function argScore(c: ShardContext, i: number): number | null {
  const a = c.args;
  return parseDouble(a.u8, a.off[i], a.len[i]);
}

const FLOAT_SYNTAX = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A score-range bound as Redis's zslParseRange reads it (strtod over the
 * rest): leading blanks allowed, an empty string is 0, overflow is ±inf, NaN
 * and trailing bytes refused. null when invalid.
 */
function parseBound(b: Uint8Array, o: number, l: number): number | null {
  let i = o;
  const end = o + l;
  while (i < end && (b[i] === 32 || (b[i] >= 9 && b[i] <= 13))) i++;
  if (i === end) return 0;
  const v = parseDouble(b, i, end - i);
  if (v !== null) return v;
  const s = Buffer.from(b.buffer, b.byteOffset + i, end - i).toString('latin1');
  if (FLOAT_SYNTAX.test(s)) return Number(s); // out of double range: strtod's ±inf or ±0
  return null;
}

interface ScoreRange { min: number; minEx: boolean; max: number; maxEx: boolean }

function parseScoreRange(c: ShardContext, mi: number, xi: number): ScoreRange | null {
  const a = c.args;
  const one = (i: number): [number, boolean] | null => {
    const ex = a.len[i] > 0 && a.u8[a.off[i]] === 40; // (
    const v = parseBound(a.u8, a.off[i] + (ex ? 1 : 0), a.len[i] - (ex ? 1 : 0));
    return v === null ? null : [v, ex];
  };
  const lo = one(mi);
  const hi = one(xi);
  if (lo === null || hi === null) return null;
  return { min: lo[0], minEx: lo[1], max: hi[0], maxEx: hi[1] };
}

/** Lex bound: kind 0 '-', 1 '+', 2 '[x' inclusive, 3 '(x' exclusive; the member is args[i] from byte 1. */
interface LexBound { kind: number; i: number }

function parseLexBound(c: ShardContext, i: number): LexBound | null {
  const a = c.args;
  if (a.len[i] === 0) return null;
  const ch = a.u8[a.off[i]];
  if (ch === 45 && a.len[i] === 1) return { kind: 0, i }; // -
  if (ch === 43 && a.len[i] === 1) return { kind: 1, i }; // +
  if (ch === 91) return { kind: 2, i }; // [
  if (ch === 40) return { kind: 3, i }; // (
  return null;
}

// -- lookups ---------------------------------------------------------------------

/** Keeps the entry's encoding field in step with the structure (OBJECT ENCODING). */
function syncEncoding(c: ShardContext, ref: number): void {
  const ks = c.ks;
  const enc = ks.zsets.encoding(ks.valueRef(ref));
  if (ks.encodingOf(ref) !== enc) ks.setEncoding(ref, enc);
}

/** Deletes the key in argument keyArg when its set is empty; else syncs its encoding. */
function deleteIfEmpty(c: ShardContext, ref: number, keyArg: number): void {
  const ks = c.ks;
  if (ks.zsets.count(ks.valueRef(ref)) !== 0) {
    syncEncoding(c, ref);
    return;
  }
  lookupWrite(c, keyArg);
  ks.deleteAt(c.db, ks.handle);
}

/** Writes a built zset under the key in argument keyArg (replacing what it held). Frees it on failure. */
function storeZset(c: ShardContext, keyArg: number, h: number): void {
  const a = c.args;
  const ks = c.ks;
  ks.lookupWrite(c.db, a.u8, a.off[keyArg], a.len[keyArg]);
  ks.putNewStructure(c.db, a.u8, a.off[keyArg], a.len[keyArg], TYPE_ZSET, ks.zsets.encoding(h), ks.zsets, h, -1);
}

function replyMember(c: ShardContext, z: ZSetStore, h: number, p: number): void {
  c.reply.bulk(c.ks.arena.u8, z.memberOff(h, p), z.memberLen(p));
}

// -- ZADD / ZINCRBY ----------------------------------------------------------------

const F_NX = 1;
const F_XX = 2;
const F_GT = 4;
const F_LT = 8;
const F_CH = 16;
const F_INCR = 32;

// ZADD's scratch, reused by every call on this thread: scores parsed before the write.
const zaddScores = new Float64Array(128);

function zaddGeneric(c: ShardContext, incrOnly: boolean): void {
  const a = c.args;
  let flags = incrOnly ? F_INCR : 0;
  let si = 2;
  while (si < a.count) {
    if (a.is(si, 'nx')) flags |= F_NX;
    else if (a.is(si, 'xx')) flags |= F_XX;
    else if (a.is(si, 'ch')) flags |= F_CH;
    else if (a.is(si, 'incr')) flags |= F_INCR;
    else if (a.is(si, 'gt')) flags |= F_GT;
    else if (a.is(si, 'lt')) flags |= F_LT;
    else break;
    si++;
  }
  const nargs = a.count - si;
  if (nargs % 2 !== 0 || nargs === 0) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const n = nargs / 2;
  const nx = (flags & F_NX) !== 0;
  const xx = (flags & F_XX) !== 0;
  const gt = (flags & F_GT) !== 0;
  const lt = (flags & F_LT) !== 0;
  const incr = (flags & F_INCR) !== 0;
  if (nx && xx) {
    c.reply.error(ERR_XX_NX);
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    c.reply.error(ERR_GT_LT_NX);
    return;
  }
  if (incr && n > 1) {
    c.reply.error(ERR_INCR_PAIR);
    return;
  }
  const scores = n <= zaddScores.length ? zaddScores : new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const s = argScore(c, si + 2 * j);
    if (s === null) {
      c.reply.error(ERR_NOT_FLOAT);
      return;
    }
    scores[j] = s;
  }
  const ks = c.ks;
  const z = ks.zsets;
  const ref = lookupWrite(c, 1);
  if (wrongType(c, ref)) return;
  if (ref === 0 && xx) {
    if (incr) c.reply.nil();
    else c.reply.int(0);
    return;
  }
  let h: number;
  const fresh = ref === 0;
  if (fresh) {
    const firstLen = a.len[si + 1];
    h = z.create(z.maxListpackEntries === 0 || z.maxListpackValue < firstLen ? 1 : 0);
  } else {
    h = ks.valueRef(ref);
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  // Undo journal: member argument index and its previous score (NaN = was absent). New arrays:
  // shortening reused ones is a call into V8's runtime, dearer than allocating.
  const undoArg: number[] = [];
  const undoScore: number[] = [];
  try {
    for (let j = 0; j < n; j++) {
      const mi = si + 2 * j + 1;
      let score = scores[j];
      const mb = a.u8;
      const mo = a.off[mi];
      const ml = a.len[mi];
      const p = z.find(h, mb, mo, ml);
      if (p !== 0) {
        if (nx) continue;
        const cur = z.scoreAt(p);
        if (incr) {
          score += cur;
          if (score !== score) {
            undoAll(z, h, a, undoArg, undoScore);
            if (fresh) z.free(h);
            c.reply.error(ERR_NAN);
            return;
          }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) continue;
        last = score;
        processed++;
        if (score !== cur) {
          undoArg.push(mi);
          undoScore.push(cur);
          z.setScore(h, p, score);
          updated++;
        }
      } else if (!xx) {
        z.insert(h, mb, mo, ml, score);
        undoArg.push(mi);
        undoScore.push(NaN);
        last = score;
        processed++;
        added++;
      }
    }
  } catch (e) {
    if (fresh) z.free(h);
    else {
      undoAll(z, h, a, undoArg, undoScore);
      // The members are as they were; a listpack converted on the way stays a skiplist: say so.
      syncEncoding(c, ref);
    }
    throw e;
  }
  if (fresh) {
    if (z.count(h) === 0) z.free(h);
    else storeZset(c, 1, h);
  } else {
    syncEncoding(c, ref);
  }
  if (incr) {
    if (processed > 0) c.reply.double(last);
    else c.reply.nil();
  } else {
    c.reply.int((flags & F_CH) !== 0 ? added + updated : added);
  }
}

function undoAll(z: ZSetStore, h: number, a: Argv, args: number[], scores: number[]): void {
  for (let k = args.length - 1; k >= 0; k--) {
    const i = args[k];
    const p = z.find(h, a.u8, a.off[i], a.len[i]);
    if (p === 0) continue;
    if (scores[k] !== scores[k]) z.remove(h, p);
    else z.setScore(h, p, scores[k]);
  }
}

function zincrbyCommand(c: ShardContext): void {
  // ZINCRBY key increment member: ZADD key INCR increment member.
  const a = c.args;
  const inc = argScore(c, 2);
  if (inc === null) {
    c.reply.error(ERR_NOT_FLOAT);
    return;
  }
  const ks = c.ks;
  const z = ks.zsets;
  const ref = lookupWrite(c, 1);
  if (wrongType(c, ref)) return;
  const mo = a.off[3];
  const ml = a.len[3];
  if (ref === 0) {
    const h = z.create(z.maxListpackEntries === 0 || z.maxListpackValue < ml ? 1 : 0);
    try {
      z.insert(h, a.u8, mo, ml, inc);
    } catch (e) {
      z.free(h);
      throw e;
    }
    storeZset(c, 1, h);
    c.reply.double(inc);
    return;
  }
  const h = ks.valueRef(ref);
  const p = z.find(h, a.u8, mo, ml);
  if (p === 0) {
    z.insert(h, a.u8, mo, ml, inc);
    syncEncoding(c, ref);
    c.reply.double(inc);
    return;
  }
  const score = z.scoreAt(p) + inc;
  if (score !== score) {
    c.reply.error(ERR_NAN);
    return;
  }
  if (score !== z.scoreAt(p)) z.setScore(h, p, score);
  c.reply.double(score);
}

// -- ZREM, reads -----------------------------------------------------------------

function zremCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const ref = lookupWrite(c, 1);
  if (wrongType(c, ref)) return;
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  const z = ks.zsets;
  const h = ks.valueRef(ref);
  let removed = 0;
  for (let i = 2; i < a.count; i++) {
    const p = z.find(h, a.u8, a.off[i], a.len[i]);
    if (p === 0) continue;
    z.remove(h, p);
    removed++;
    if (z.count(h) === 0) break;
  }
  deleteIfEmpty(c, ref, 1);
  c.reply.int(removed);
}

/** The zset header of key argument i for reading: 0 when missing, -1 after a WRONGTYPE reply. */
function readZset(c: ShardContext, i: number): number {
  const ref = lookupRead(c, i);
  if (ref === 0) return 0;
  if (wrongType(c, ref)) return -1;
  return c.ks.valueRef(ref);
}

function zcardCommand(c: ShardContext): void {
  const h = readZset(c, 1);
  if (h < 0) return;
  c.reply.int(h === 0 ? 0 : c.ks.zsets.count(h));
}

function zscoreCommand(c: ShardContext): void {
  const h = readZset(c, 1);
  if (h < 0) return;
  const a = c.args;
  const s = h === 0 ? NaN : c.ks.zsets.score(h, a.u8, a.off[2], a.len[2]);
  if (s !== s) c.reply.nil();
  else c.reply.double(s);
}

function zmscoreCommand(c: ShardContext): void {
  const h = readZset(c, 1);
  if (h < 0) return;
  const a = c.args;
  c.reply.array(a.count - 2);
  for (let i = 2; i < a.count; i++) {
    const s = h === 0 ? NaN : c.ks.zsets.score(h, a.u8, a.off[i], a.len[i]);
    if (s !== s) c.reply.nil();
    else c.reply.double(s);
  }
}

function zrankGeneric(c: ShardContext, rev: boolean): void {
  const h = readZset(c, 1);
  if (h < 0) return;
  if (h === 0) {
    c.reply.nil();
    return;
  }
  const a = c.args;
  const z = c.ks.zsets;
  const p = z.find(h, a.u8, a.off[2], a.len[2]);
  if (p === 0) {
    c.reply.nil();
    return;
  }
  const r = z.rankOf(h, p);
  c.reply.int(rev ? z.count(h) - 1 - r : r);
}

/** [start, end) ranks of a score range. */
function scoreSpan(z: ZSetStore, h: number, r: ScoreRange): [number, number] {
  const start = z.scoreRank(h, r.min, r.minEx);
  const end = z.scoreRank(h, r.max, !r.maxEx);
  return [start, Math.max(start, end)];
}

/** [start, end) ranks of a lex range. */
function lexSpan(c: ShardContext, z: ZSetStore, h: number, lo: LexBound, hi: LexBound): [number, number] {
  const a = c.args;
  const n = z.count(h);
  const rankOf = (b: LexBound, upper: boolean): number => {
    if (b.kind === 0) return 0;
    if (b.kind === 1) return n;
    const inclusive = b.kind === 2;
    // lower bound: elements before it are < x ([) or <= x ((); upper: <= x ([) or < x (().
    return z.lexRank(h, a.u8, a.off[b.i] + 1, a.len[b.i] - 1, upper ? inclusive : !inclusive);
  };
  const start = rankOf(lo, false);
  const end = rankOf(hi, true);
  return [start, Math.max(start, end)];
}

function zcountCommand(c: ShardContext): void {
  const r = parseScoreRange(c, 2, 3);
  if (r === null) {
    c.reply.error(ERR_RANGE_FLOAT);
    return;
  }
  const h = readZset(c, 1);
  if (h < 0) return;
  if (h === 0) {
    c.reply.int(0);
    return;
  }
  const [s, e] = scoreSpan(c.ks.zsets, h, r);
  c.reply.int(e - s);
}

function zlexcountCommand(c: ShardContext): void {
  const lo = parseLexBound(c, 2);
  const hi = parseLexBound(c, 3);
  if (lo === null || hi === null) {
    c.reply.error(ERR_RANGE_LEX);
    return;
  }
  const h = readZset(c, 1);
  if (h < 0) return;
  if (h === 0) {
    c.reply.int(0);
    return;
  }
  const [s, e] = lexSpan(c, c.ks.zsets, h, lo, hi);
  c.reply.int(e - s);
}

// -- ZRANGE family ------------------------------------------------------------------

const BY_RANK = 0;
const BY_SCORE = 1;
const BY_LEX = 2;

/** The elements a range selects, as ranks: `count` ranks from `first`, stepping by `step` (+1 or -1). */
interface Selection { first: number; count: number; step: number }

/**
 * Parses and resolves Z[REV]RANGE[BYSCORE|BYLEX] and ZRANGESTORE (argument
 * `src` is the source key). Replies errors itself and returns null; returns
 * the selection (count 0 when the key is missing) and the options otherwise.
 */
function rangeGeneric(c: ShardContext, src: number, store: boolean, type0: number, rev0: number,
  srcHeader?: number): { h: number; sel: Selection; withScores: boolean } | null {
  const a = c.args;
  let type = type0;
  let rev = rev0;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = src + 3; j < a.count; j++) {
    const left = a.count - j - 1;
    if (!store && a.is(j, 'withscores')) withScores = true;
    else if (a.is(j, 'limit') && left >= 2) {
      const o = argLong(c, j + 1);
      const l = argLong(c, j + 2);
      if (o === null || l === null) {
        c.reply.error(ERR_NOT_INTEGER);
        return null;
      }
      offset = o;
      limit = l;
      j += 2;
    } else if (rev < 0 && a.is(j, 'rev')) rev = 1;
    else if (type < 0 && a.is(j, 'bylex')) type = BY_LEX;
    else if (type < 0 && a.is(j, 'byscore')) type = BY_SCORE;
    else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  if (rev < 0) rev = 0;
  if (type < 0) type = BY_RANK;
  if (limit !== -1 && type === BY_RANK) {
    c.reply.error(ERR_LIMIT_RANK);
    return null;
  }
  if (withScores && type === BY_LEX) {
    c.reply.error(ERR_WITHSCORES_LEX);
    return null;
  }
  let mi = src + 1;
  let xi = src + 2;
  if (rev === 1 && type !== BY_RANK) {
    mi = src + 2;
    xi = src + 1;
  }
  let start = 0;
  let end = 0;
  let sr: ScoreRange | null = null;
  let lo: LexBound | null = null;
  let hi: LexBound | null = null;
  if (type === BY_RANK) {
    const s = argLong(c, mi);
    const e = argLong(c, xi);
    if (s === null || e === null) {
      c.reply.error(ERR_NOT_INTEGER);
      return null;
    }
    start = s;
    end = e;
  } else if (type === BY_SCORE) {
    sr = parseScoreRange(c, mi, xi);
    if (sr === null) {
      c.reply.error(ERR_RANGE_FLOAT);
      return null;
    }
  } else {
    lo = parseLexBound(c, mi);
    hi = parseLexBound(c, xi);
    if (lo === null || hi === null) {
      c.reply.error(ERR_RANGE_LEX);
      return null;
    }
  }
  let h: number;
  if (srcHeader !== undefined) h = srcHeader;
  else {
    h = readZset(c, src);
    if (h < 0) return null;
  }
  const none = { h, sel: { first: 0, count: 0, step: 1 }, withScores };
  if (h === 0) return none;
  const z = c.ks.zsets;
  const n = z.count(h);
  if (type === BY_RANK) {
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (start > end || start >= n) return none;
    if (end >= n) end = n - 1;
    const count = end - start + 1;
    return { h, sel: rev === 1 ? { first: n - 1 - start, count, step: -1 } : { first: start, count, step: 1 }, withScores };
  }
  const [s, e] = type === BY_SCORE ? scoreSpan(z, h, sr as ScoreRange) : lexSpan(c, z, h, lo as LexBound, hi as LexBound);
  let avail = e - s;
  // LIMIT: a negative offset selects nothing, a negative count everything after the offset.
  if (offset < 0) return none;
  if (offset > 0 && offset >= n) return none;
  avail -= offset;
  if (avail <= 0) return none;
  const count = limit < 0 ? avail : Math.min(limit, avail);
  if (count === 0) return none;
  return { h, sel: rev === 1 ? { first: e - 1 - offset, count, step: -1 } : { first: s + offset, count, step: 1 }, withScores };
}

/** Replies the selected elements (array, with scores as Redis shapes them for the protocol). */
function replySelection(c: ShardContext, h: number, sel: Selection, withScores: boolean): void {
  const r = c.reply;
  const resp3 = r.resp3;
  r.array(withScores && !resp3 ? sel.count * 2 : sel.count);
  if (sel.count === 0) return;
  const z = c.ks.zsets;
  let p = z.atRank(h, sel.first);
  for (let k = 0; k < sel.count; k++) {
    if (withScores && resp3) r.array(2);
    replyMember(c, z, h, p);
    if (withScores) r.double(z.scoreAt(p));
    p = sel.step > 0 ? z.next(h, p) : z.prev(h, p);
  }
}

function zrangeCommand(c: ShardContext, type: number, rev: number): void {
  const res = rangeGeneric(c, 1, false, type, rev);
  if (res === null) return;
  replySelection(c, res.h, res.sel, res.withScores);
}

/** The selected elements as entries (arena views), in (score, member) order. */
function selectionEntries(c: ShardContext, h: number, sel: Selection): ZEntry[] {
  const z = c.ks.zsets;
  const out: ZEntry[] = [];
  if (sel.count === 0) return out;
  let p = z.atRank(h, sel.first);
  for (let k = 0; k < sel.count; k++) {
    out.push({ score: z.scoreAt(p), u8: c.ks.arena.u8, off: z.memberOff(h, p), len: z.memberLen(p) });
    p = sel.step > 0 ? z.next(h, p) : z.prev(h, p);
  }
  if (sel.step < 0) out.reverse();
  return out;
}

/** Writes `entries` (sorted) under key argument dst, or deletes dst when empty; replies the count. */
function storeEntries(c: ShardContext, dst: number, entries: ZEntry[]): void {
  const ks = c.ks;
  const a = c.args;
  if (entries.length === 0) {
    if (ks.lookupWrite(c.db, a.u8, a.off[dst], a.len[dst]) !== 0) ks.deleteAt(c.db, ks.handle);
    c.reply.int(0);
    return;
  }
  const h = ks.zsets.build(entries);
  storeZset(c, dst, h);
  c.reply.int(entries.length);
}

function zrangestoreCommand(c: ShardContext): void {
  const shippedSrc = shippedSource(2);
  let srcHeader: number | undefined;
  let tmp = 0;
  if (shippedSrc !== undefined) {
    if (shippedSrc.kind === SRC_WRONGTYPE) {
      // Parse errors come first, as on one shard: resolve them with a missing source, then answer.
      const probe = rangeGeneric(c, 2, true, -1, -1, 0);
      if (probe === null) return;
      c.reply.error(ERR_WRONGTYPE);
      return;
    }
    if (shippedSrc.kind === SRC_MISSING) srcHeader = 0;
    else srcHeader = tmp = c.ks.zsets.build(shippedSrc.entries as ZEntry[]);
  }
  try {
    const res = rangeGeneric(c, 2, true, -1, -1, srcHeader);
    if (res === null) return;
    storeEntries(c, 1, res.h === 0 ? [] : selectionEntries(c, res.h, res.sel));
  } finally {
    if (tmp !== 0) c.ks.zsets.free(tmp);
  }
}

// -- removals by range ---------------------------------------------------------------

function zremrangeGeneric(c: ShardContext, type: number): void {
  let start = 0;
  let end = 0;
  let sr: ScoreRange | null = null;
  let lo: LexBound | null = null;
  let hi: LexBound | null = null;
  if (type === BY_RANK) {
    const s = argLong(c, 2);
    const e = argLong(c, 3);
    if (s === null || e === null) {
      c.reply.error(ERR_NOT_INTEGER);
      return;
    }
    start = s;
    end = e;
  } else if (type === BY_SCORE) {
    sr = parseScoreRange(c, 2, 3);
    if (sr === null) {
      c.reply.error(ERR_RANGE_FLOAT);
      return;
    }
  } else {
    lo = parseLexBound(c, 2);
    hi = parseLexBound(c, 3);
    if (lo === null || hi === null) {
      c.reply.error(ERR_RANGE_LEX);
      return;
    }
  }
  const ks = c.ks;
  const ref = lookupWrite(c, 1);
  if (wrongType(c, ref)) return;
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  const z = ks.zsets;
  const h = ks.valueRef(ref);
  const n = z.count(h);
  let first: number;
  let count: number;
  if (type === BY_RANK) {
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (start > end || start >= n) {
      c.reply.int(0);
      return;
    }
    if (end >= n) end = n - 1;
    first = start;
    count = end - start + 1;
  } else {
    const [s, e] = type === BY_SCORE ? scoreSpan(z, h, sr as ScoreRange) : lexSpan(c, z, h, lo as LexBound, hi as LexBound);
    first = s;
    count = e - s;
  }
  let p = count > 0 ? z.atRank(h, first) : 0;
  for (let k = 0; k < count; k++) {
    const next = z.next(h, p);
    z.remove(h, p);
    // A listpack closes the gap: the next element moved to p.
    p = z.encoding(h) === 0 ? p : next;
  }
  deleteIfEmpty(c, ref, 1);
  c.reply.int(count);
}

// -- pops --------------------------------------------------------------------------

/**
 * Pops up to `count` elements from the set of key argument keyArg at the low
 * (max = false) or high end and replies them: flat member/score pairs, or
 * nested [member, score] arrays when `nested`; with the key first when
 * `emitKey` (ZMPOP: [key, [[m, s], ...]]; BZPOPMIN: [key, m, s]). The key
 * must exist and hold a zset (ref). Deletes an emptied key. Blocking pops
 * reuse it.
 */
export function replyZPop(c: ShardContext, keyArg: number, ref: number, max: boolean, count: number,
  nested: boolean, emitKey: boolean): void {
  const ks = c.ks;
  const z = ks.zsets;
  const h = ks.valueRef(ref);
  const n = Math.min(count, z.count(h));
  const r = c.reply;
  const a = c.args;
  if (!nested && !emitKey) r.array(n * 2);
  else if (nested && !emitKey) r.array(n);
  else if (!nested && emitKey) {
    r.array(n * 2 + 1);
    r.bulk(a.u8, a.off[keyArg], a.len[keyArg]);
  } else {
    r.array(2);
    r.bulk(a.u8, a.off[keyArg], a.len[keyArg]);
    r.array(n);
  }
  for (let k = 0; k < n; k++) {
    const p = max ? z.last(h) : z.first(h);
    if (nested) r.array(2);
    replyMember(c, z, h, p);
    r.double(z.scoreAt(p));
    z.remove(h, p);
  }
  deleteIfEmpty(c, ref, keyArg);
}

function zpopCommand(c: ShardContext, max: boolean): void {
  const a = c.args;
  if (a.count > 3) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  let count = -1;
  if (a.count === 3) {
    const v = argLong(c, 2);
    if (v === null || v < 0) {
      c.reply.error(ERR_POSITIVE);
      return;
    }
    count = v;
  }
  const nested = c.reply.resp3 && count !== -1;
  const ref = lookupWrite(c, 1);
  if (wrongType(c, ref)) return;
  if (ref === 0 || count === 0) {
    c.reply.array(0);
    return;
  }
  replyZPop(c, 1, ref, max, count === -1 ? 1 : count, nested, false);
}

/** ZMPOP's arguments from numkeys at argument `at`: null after an error reply. */
export function parseZmpop(c: ShardContext, at: number): { numkeys: number; max: boolean; count: number } | null {
  const a = c.args;
  const numkeys = argLong(c, at);
  if (numkeys === null) {
    c.reply.error(ERR_NUMKEYS);
    return null;
  }
  if (numkeys < 1) {
    c.reply.error(ERR_NUMKEYS);
    return null;
  }
  const whereAt = at + numkeys + 1;
  if (whereAt >= a.count) {
    c.reply.error(ERR_SYNTAX);
    return null;
  }
  let max: boolean;
  if (a.is(whereAt, 'min')) max = false;
  else if (a.is(whereAt, 'max')) max = true;
  else {
    c.reply.error(ERR_SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = whereAt + 1; j < a.count; j++) {
    if (count === -1 && a.is(j, 'count') && j + 1 < a.count) {
      j++;
      const v = argLong(c, j);
      if (v === null || v < 1) {
        c.reply.error(ERR_COUNT_POSITIVE);
        return null;
      }
      count = v;
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  return { numkeys, max, count: count === -1 ? 1 : count };
}

function zmpopCommand(c: ShardContext): void {
  const p = parseZmpop(c, 1);
  if (p === null) return;
  for (let i = 2; i < 2 + p.numkeys; i++) {
    const ref = lookupWrite(c, i);
    if (ref === 0) continue;
    if (wrongType(c, ref)) return;
    replyZPop(c, i, ref, p.max, p.count, true, true);
    return;
  }
  c.reply.nilArray();
}

// -- ZRANDMEMBER -----------------------------------------------------------------

function zrandmemberCommand(c: ShardContext): void {
  const a = c.args;
  const r = c.reply;
  if (a.count >= 3) {
    const big = parseI64Big(a.u8, a.off[2], a.len[2]);
    if (big === null) {
      r.error(ERR_NOT_INTEGER);
      return;
    }
    if (big < -LONG_MAX_BIG) {
      r.error(`ERR value is out of range, value must between -${LONG_MAX_BIG} and ${LONG_MAX_BIG}`);
      return;
    }
    let withScores = false;
    if (a.count > 4 || (a.count === 4 && !a.is(3, 'withscores'))) {
      r.error(ERR_SYNTAX);
      return;
    }
    if (a.count === 4) {
      withScores = true;
      if (big < -LONG_MAX_BIG / 2n || big > LONG_MAX_BIG / 2n) {
        r.error(ERR_OUT_OF_RANGE);
        return;
      }
    }
    // A reply of more than this many repeated picks cannot be built (Redis would fill its memory).
    if (big < -MAX_RANDOM_PICKS) {
      r.error(ERR_OUT_OF_RANGE);
      return;
    }
    const l = Number(big);
    const h = readZset(c, 1);
    if (h < 0) return;
    if (h === 0 || l === 0) {
      r.array(0);
      return;
    }
    const z = c.ks.zsets;
    const size = z.count(h);
    const emit = (p: number): void => {
      if (withScores && r.resp3) r.array(2);
      replyMember(c, z, h, p);
      if (withScores) r.double(z.scoreAt(p));
    };
    if (l < 0 || l === 1) {
      const count = l < 0 ? -l : 1;
      r.array(withScores && !r.resp3 ? count * 2 : count);
      for (let k = 0; k < count; k++) emit(z.atRank(h, Math.floor(Math.random() * size)));
      return;
    }
    const count = l;
    const n = Math.min(count, size);
    r.array(withScores && !r.resp3 ? n * 2 : n);
    if (count >= size) {
      // Redis's set iterator walks from the highest element down.
      for (let p = z.last(h); p !== 0; p = z.prev(h, p)) emit(p);
      return;
    }
    // Distinct ranks: a partial Fisher-Yates over the ranks.
    const ranks = new Map<number, number>();
    for (let k = 0; k < n; k++) {
      const j = k + Math.floor(Math.random() * (size - k));
      const vj = ranks.get(j) ?? j;
      ranks.set(j, ranks.get(k) ?? k);
      emit(z.atRank(h, vj));
    }
    return;
  }
  const h = readZset(c, 1);
  if (h < 0) return;
  if (h === 0) {
    r.nil();
    return;
  }
  const z = c.ks.zsets;
  replyMember(c, z, h, z.atRank(h, Math.floor(Math.random() * z.count(h))));
}

// -- ZSCAN -------------------------------------------------------------------------

function zscanCommand(c: ShardContext): void {
  const a = c.args;
  const r = c.reply;
  const cs = parseScanCursor(a.u8, a.off[2], a.len[2]);
  if (cs === null) {
    r.error(ERR_INVALID_CURSOR);
    return;
  }
  const h = readZset(c, 1);
  if (h < 0) return;
  if (h === 0) {
    r.array(2);
    r.bulkString('0');
    r.array(0);
    return;
  }
  let count = 10;
  let pat = -1;
  for (let i = 3; i < a.count; i++) {
    const left = a.count - i - 1;
    if (a.is(i, 'count') && left >= 1) {
      const v = argLong(c, i + 1);
      if (v === null) {
        r.error(ERR_NOT_INTEGER);
        return;
      }
      if (v < 1) {
        r.error(ERR_SYNTAX);
        return;
      }
      count = v;
      i++;
    } else if (a.is(i, 'match') && left >= 1) {
      pat = i + 1;
      i++;
    } else {
      r.error(ERR_SYNTAX);
      return;
    }
  }
  if (pat >= 0 && a.len[pat] === 1 && a.u8[a.off[pat]] === 42) pat = -1; // "*"
  const z = c.ks.zsets;
  const found: number[] = [];
  let cursor = 0;
  if (z.encoding(h) === 0) {
    for (let p = z.first(h); p !== 0; p = z.next(h, p)) found.push(p);
  } else {
    cursor = Number(cs & 0xffffffffn);
    let budget = count * 10;
    do {
      cursor = z.scanStep(h, cursor, found);
    } while (cursor !== 0 && budget-- > 0 && found.length < count);
  }
  const u8 = c.ks.arena.u8;
  const kept = pat < 0 ? found : found.filter((p) => globMatch(a.u8, a.off[pat], a.len[pat], u8, z.memberOff(h, p), z.memberLen(p), false));
  r.array(2);
  r.bulkString(String(cursor));
  r.array(kept.length * 2);
  for (const p of kept) {
    replyMember(c, z, h, p);
    r.bulkString(formatDouble(z.scoreAt(p)));
  }
}

// -- set algebra -------------------------------------------------------------------

const OP_UNION = 0;
const OP_INTER = 1;
const OP_DIFF = 2;
const AGG_SUM = 0;
const AGG_MIN = 1;
const AGG_MAX = 2;

const SRC_MISSING = 0;
const SRC_ZSET = 1;
const SRC_SET = 2;
const SRC_SHIPPED = 3;
const SRC_WRONGTYPE = 4;

/** One input of a set operation. */
interface Source {
  kind: number;
  /** Header of a local zset or set. */
  h: number;
  /** Elements of a shipped input, in order; their lookup table is built on first use. */
  entries?: ZEntry[];
  map?: Map<string, number>;
  weight: number;
  size: number;
}

/** Shipped inputs (key argument index -> payload), while a __zwith request runs. */
let shipped: Map<number, Source> | null = null;

/** The input shipped for key argument i by the running __zwith, if any. */
function shippedSource(i: number): Source | undefined {
  return shipped?.get(i);
}

function sourceOf(c: ShardContext, i: number): Source {
  const s = shippedSource(i);
  if (s !== undefined) return { ...s, weight: 1 };
  const ref = lookupRead(c, i);
  if (ref === 0) return { kind: SRC_MISSING, h: 0, weight: 1, size: 0 };
  const ks = c.ks;
  const type = ks.typeOf(ref);
  if (type === TYPE_ZSET) {
    const h = ks.valueRef(ref);
    return { kind: SRC_ZSET, h, weight: 1, size: ks.zsets.count(h) };
  }
  if (type === TYPE_SET && setReaderOf !== null) {
    const h = ks.valueRef(ref);
    return { kind: SRC_SET, h, weight: 1, size: setReaderOf(ks).count(h) };
  }
  return { kind: SRC_WRONGTYPE, h: 0, weight: 1, size: 0 };
}

const latin1 = (b: Uint8Array, o: number, l: number): string => Buffer.from(b.buffer, b.byteOffset + o, l).toString('latin1');

function sourceScore(c: ShardContext, s: Source, b: Uint8Array, o: number, l: number): number {
  switch (s.kind) {
    case SRC_ZSET: return c.ks.zsets.score(s.h, b, o, l);
    case SRC_SET: return (setReaderOf as (ks: Keyspace) => SetReader)(c.ks).contains(s.h, b, o, l) ? 1 : NaN;
    case SRC_SHIPPED: {
      if (s.map === undefined) {
        s.map = new Map();
        for (const e of s.entries as ZEntry[]) s.map.set(latin1(e.u8, e.off, e.len), e.score);
      }
      return s.map.get(latin1(b, o, l)) ?? NaN;
    }
    default: return NaN;
  }
}

function sourceEach(c: ShardContext, s: Source, visit: (b: Uint8Array, o: number, l: number, score: number) => void): void {
  if (s.kind === SRC_ZSET) {
    const z = c.ks.zsets;
    const u8 = c.ks.arena.u8;
    for (let p = z.first(s.h); p !== 0; p = z.next(s.h, p)) visit(u8, z.memberOff(s.h, p), z.memberLen(p), z.scoreAt(p));
  } else if (s.kind === SRC_SET) {
    (setReaderOf as (ks: Keyspace) => SetReader)(c.ks).forEach(s.h, (b, o, l) => visit(b, o, l, 1));
  } else if (s.kind === SRC_SHIPPED) {
    for (const e of s.entries as ZEntry[]) visit(e.u8, e.off, e.len, e.score);
  }
}

function aggregate(target: number, v: number, agg: number): number {
  if (agg === AGG_SUM) {
    const t = target + v;
    return t !== t ? 0 : t; // inf + -inf counts as 0, as Redis
  }
  if (agg === AGG_MIN) return v < target ? v : target;
  return v > target ? v : target;
}

function sortEntries(out: ZEntry[]): void {
  out.sort((x, y) => (x.score !== y.score ? (x.score < y.score ? -1 : 1) : compareBytes(x.u8, x.off, x.len, y.u8, y.off, y.len)));
}

/**
 * ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD. `numAt` is the numkeys
 * argument; `dst` the destination key argument (0: reply the result).
 */
function zsetOpCommand(c: ShardContext, op: number, numAt: number, dst: number, cardOnly: boolean): void {
  const a = c.args;
  const r = c.reply;
  const name = a.lower(0);
  const setnum = argLong(c, numAt);
  if (setnum === null) {
    r.error(ERR_NOT_INTEGER);
    return;
  }
  if (setnum < 1) {
    r.error(`ERR at least 1 input key is needed for '${name}' command`);
    return;
  }
  if (setnum > a.count - (numAt + 1)) {
    r.error(ERR_SYNTAX);
    return;
  }
  const src: Source[] = [];
  for (let i = 0; i < setnum; i++) {
    const s = sourceOf(c, numAt + 1 + i);
    if (s.kind === SRC_WRONGTYPE) {
      r.error(ERR_WRONGTYPE);
      return;
    }
    src.push(s);
  }
  let agg = AGG_SUM;
  let withScores = false;
  let limit = 0;
  let j = numAt + 1 + setnum;
  while (j < a.count) {
    const remaining = a.count - j;
    if (op !== OP_DIFF && !cardOnly && remaining >= setnum + 1 && a.is(j, 'weights')) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = argScore(c, j);
        if (w === null) {
          r.error(ERR_WEIGHT);
          return;
        }
        src[i].weight = w;
      }
    } else if (op !== OP_DIFF && !cardOnly && remaining >= 2 && a.is(j, 'aggregate')) {
      j++;
      if (a.is(j, 'sum')) agg = AGG_SUM;
      else if (a.is(j, 'min')) agg = AGG_MIN;
      else if (a.is(j, 'max')) agg = AGG_MAX;
      else {
        r.error(ERR_SYNTAX);
        return;
      }
      j++;
    } else if (remaining >= 1 && dst === 0 && !cardOnly && a.is(j, 'withscores')) {
      j++;
      withScores = true;
    } else if (cardOnly && remaining >= 2 && a.is(j, 'limit')) {
      j++;
      const l = argLong(c, j);
      if (l === null || l < 0) {
        r.error(ERR_LIMIT_NEGATIVE);
        return;
      }
      limit = l;
      j++;
    } else {
      r.error(ERR_SYNTAX);
      return;
    }
  }
  // Smallest inputs first (a stable sort, as glibc's qsort merge sort is), as Redis orders them.
  const order = op === OP_DIFF ? src : src.map((s, i) => ({ s, i })).sort((x, y) => x.s.size - y.s.size || x.i - y.i).map((x) => x.s);
  const out: ZEntry[] = [];
  let cardinality = 0;
  if (op === OP_INTER) {
    if (order[0].size > 0) {
      const first = order[0];
      let stop = false;
      sourceEach(c, first, (b, o, l, s0) => {
        if (stop) return;
        let score = first.weight * s0;
        if (score !== score) score = 0;
        let k = 1;
        for (; k < order.length; k++) {
          const other = order[k];
          const v = other === first || (other.kind === first.kind && other.h === first.h && other.kind !== SRC_SHIPPED)
            ? s0 : sourceScore(c, other, b, o, l);
          if (v !== v) break;
          score = aggregate(score, v * other.weight, agg);
        }
        if (k < order.length) return;
        if (cardOnly) {
          cardinality++;
          if (limit > 0 && cardinality >= limit) stop = true;
        } else {
          out.push({ score, u8: b, off: o, len: l });
        }
      });
    }
  } else if (op === OP_UNION) {
    const acc = new Map<string, number>();
    for (const s of order) {
      if (s.size === 0) continue;
      sourceEach(c, s, (b, o, l, s0) => {
        let score = s.weight * s0;
        if (score !== score) score = 0;
        const key = latin1(b, o, l);
        const at = acc.get(key);
        if (at === undefined) {
          acc.set(key, out.length);
          out.push({ score, u8: b, off: o, len: l });
        } else {
          out[at].score = aggregate(out[at].score, score, agg);
        }
      });
    }
  } else {
    const first = src[0];
    if (first.size > 0) {
      sourceEach(c, first, (b, o, l, s0) => {
        for (let k = 1; k < src.length; k++) {
          const v = src[k].kind === SRC_MISSING ? NaN : sourceScore(c, src[k], b, o, l);
          if (v === v) return;
        }
        out.push({ score: s0, u8: b, off: o, len: l });
      });
    }
  }
  if (cardOnly) {
    r.int(cardinality);
    return;
  }
  sortEntries(out);
  if (dst !== 0) {
    storeEntries(c, dst, out);
    return;
  }
  r.array(withScores && !r.resp3 ? out.length * 2 : out.length);
  for (const e of out) {
    if (withScores && r.resp3) r.array(2);
    r.bulk(e.u8, e.off, e.len);
    if (withScores) r.double(e.score);
  }
}

// -- internal commands for cross-shard coordinators ----------------------------------

/**
 * __zdump <key> <zonly>: the key's elements for another shard: "N" when
 * missing, "W" when of the wrong type (anything but a zset, or a set when
 * zonly is 1), else "Z" then the zset serialization (ZSetStore.serialize;
 * a set's members get score 1).
 */
function zdumpInternal(c: ShardContext): void {
  const ks = c.ks;
  const ref = lookupRead(c, 1);
  const zonly = c.args.is(2, '1');
  if (ref === 0) {
    c.reply.bulkString('N');
    return;
  }
  const type = ks.typeOf(ref);
  let body: Uint8Array;
  if (type === TYPE_ZSET) body = ks.zsets.serialize(ks.valueRef(ref));
  else if (type === TYPE_SET && !zonly && setReaderOf !== null) {
    const entries: ZEntry[] = [];
    setReaderOf(ks).forEach(ks.valueRef(ref), (b, o, l) => entries.push({ score: 1, u8: b, off: o, len: l }));
    sortEntries(entries);
    body = serializeEntries(entries);
  } else {
    c.reply.bulkString('W');
    return;
  }
  const out = new Uint8Array(body.length + 1);
  out[0] = 90; // Z
  out.set(body, 1);
  c.reply.bulk(out, 0, out.length);
}

function serializeEntries(entries: readonly ZEntry[]): Uint8Array {
  let size = 8;
  for (const e of entries) size += 12 + e.len;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, entries.length, true);
  let w = 8;
  for (const e of entries) {
    dv.setFloat64(w, e.score, true);
    dv.setUint32(w + 8, e.len, true);
    out.set(e.u8.subarray(e.off, e.off + e.len), w + 12);
    w += 12 + e.len;
  }
  return out;
}

function parseShipped(b: Uint8Array, o: number, l: number): Source | null {
  if (l === 1 && b[o] === 78) return { kind: SRC_MISSING, h: 0, weight: 1, size: 0 };
  if (l === 1 && b[o] === 87) return { kind: SRC_WRONGTYPE, h: 0, weight: 1, size: 0 };
  if (l < 9 || b[o] !== 90) return null;
  const dv = new DataView(b.buffer, b.byteOffset + o + 1, l - 1);
  const count = dv.getUint32(0, true);
  const entries: ZEntry[] = [];
  let p = 8;
  for (let i = 0; i < count; i++) {
    if (p + 12 > l - 1) return null;
    const score = dv.getFloat64(p, true);
    const len = dv.getUint32(p + 8, true);
    if (p + 12 + len > l - 1) return null;
    entries.push({ score, u8: b, off: o + 1 + p + 12, len });
    p += 12 + len;
  }
  return { kind: SRC_SHIPPED, h: 0, entries, weight: 1, size: count };
}

/**
 * __zwith <n> (<argIndex> <payload>) x n <command> <args...>: runs a
 * sorted-set command whose inputs at those argument positions were shipped
 * from other shards (payloads from __zdump), as if they were local keys.
 */
function zwithInternal(c: ShardContext): void {
  const a = c.args;
  const n = Number(a.str(1));
  const map = new Map<number, Source>();
  for (let k = 0; k < n; k++) {
    const idx = Number(a.str(2 + 2 * k));
    const pi = 3 + 2 * k;
    const src = parseShipped(a.u8, a.off[pi], a.len[pi]);
    if (src === null) {
      c.reply.error('ERR internal: bad shipped sorted set');
      return;
    }
    map.set(idx, src);
  }
  const base = 2 + 2 * n;
  const inner = new Argv(a.u8, a.off.subarray(base), a.len.subarray(base), a.count - base);
  const spec = zsetCommands.find((s) => inner.is(0, s.name));
  if (spec === undefined || spec.shard === undefined) {
    c.reply.error('ERR internal: __zwith of an unknown command');
    return;
  }
  const ctx: ShardContext = {
    args: inner, reply: c.reply, ks: c.ks, db: c.db, shardId: c.shardId, shardCount: c.shardCount, config: c.config,
  };
  shipped = map;
  try {
    spec.shard(ctx);
  } finally {
    shipped = null;
  }
}

// -- table -----------------------------------------------------------------------

const zset = (s: Omit<CommandSpec, 'group'>): CommandSpec => ({ ...s, group: 'sorted-set' });
const K1 = { firstKey: 1, lastKey: 1, keyStep: 1 };

export const zsetCommands: readonly CommandSpec[] = [
  zset({ name: 'zadd', arity: -4, flags: ['write', 'denyoom', 'fast'], ...K1, since: '1.2.0',
    summary: 'Add one or more members to a sorted set, or update its score if it already exists',
    complexity: 'O(log(N)) for each item added, where N is the number of elements in the sorted set.',
    shard: (c) => zaddGeneric(c, false) }),
  zset({ name: 'zincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], ...K1, since: '1.2.0',
    summary: 'Increment the score of a member in a sorted set', complexity: 'O(log(N))', shard: zincrbyCommand }),
  zset({ name: 'zrem', arity: -3, flags: ['write', 'fast'], ...K1, since: '1.2.0',
    summary: 'Remove one or more members from a sorted set', complexity: 'O(M*log(N))', shard: zremCommand }),
  zset({ name: 'zcard', arity: 2, flags: ['readonly', 'fast'], ...K1, since: '1.2.0',
    summary: 'Get the number of members in a sorted set', complexity: 'O(1)', shard: zcardCommand }),
  zset({ name: 'zcount', arity: 4, flags: ['readonly', 'fast'], ...K1, since: '2.0.0',
    summary: 'Count the members in a sorted set with scores within the given values', complexity: 'O(log(N))', shard: zcountCommand }),
  zset({ name: 'zlexcount', arity: 4, flags: ['readonly', 'fast'], ...K1, since: '2.8.9',
    summary: 'Count the number of members in a sorted set between a given lexicographical range', complexity: 'O(log(N))',
    shard: zlexcountCommand }),
  zset({ name: 'zscore', arity: 3, flags: ['readonly', 'fast'], ...K1, since: '1.2.0',
    summary: 'Get the score associated with the given member in a sorted set', complexity: 'O(1)', shard: zscoreCommand }),
  zset({ name: 'zmscore', arity: -3, flags: ['readonly', 'fast'], ...K1, since: '6.2.0',
    summary: 'Get the score associated with the given members in a sorted set', complexity: 'O(N)', shard: zmscoreCommand }),
  zset({ name: 'zrank', arity: 3, flags: ['readonly', 'fast'], ...K1, since: '2.0.0',
    summary: 'Determine the index of a member in a sorted set', complexity: 'O(log(N))', shard: (c) => zrankGeneric(c, false) }),
  zset({ name: 'zrevrank', arity: 3, flags: ['readonly', 'fast'], ...K1, since: '2.0.0',
    summary: 'Determine the index of a member in a sorted set, with scores ordered from high to low', complexity: 'O(log(N))',
    shard: (c) => zrankGeneric(c, true) }),
  zset({ name: 'zrange', arity: -4, flags: ['readonly'], ...K1, since: '1.2.0',
    summary: 'Return a range of members in a sorted set', complexity: 'O(log(N)+M)', shard: (c) => zrangeCommand(c, -1, -1) }),
  zset({ name: 'zrangestore', arity: -5, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, keyStep: 1, since: '6.2.0',
    summary: 'Store a range of members from sorted set into another key', complexity: 'O(log(N)+M)',
    shard: zrangestoreCommand, multi: 'coordinated' }),
  zset({ name: 'zrevrange', arity: -4, flags: ['readonly'], ...K1, since: '1.2.0',
    summary: 'Return a range of members in a sorted set, by index, with scores ordered from high to low', complexity: 'O(log(N)+M)',
    shard: (c) => zrangeCommand(c, BY_RANK, 1) }),
  zset({ name: 'zrangebyscore', arity: -4, flags: ['readonly'], ...K1, since: '1.0.5',
    summary: 'Return a range of members in a sorted set, by score', complexity: 'O(log(N)+M)',
    shard: (c) => zrangeCommand(c, BY_SCORE, 0) }),
  zset({ name: 'zrevrangebyscore', arity: -4, flags: ['readonly'], ...K1, since: '2.2.0',
    summary: 'Return a range of members in a sorted set, by score, with scores ordered from high to low', complexity: 'O(log(N)+M)',
    shard: (c) => zrangeCommand(c, BY_SCORE, 1) }),
  zset({ name: 'zrangebylex', arity: -4, flags: ['readonly'], ...K1, since: '2.8.9',
    summary: 'Return a range of members in a sorted set, by lexicographical range', complexity: 'O(log(N)+M)',
    shard: (c) => zrangeCommand(c, BY_LEX, 0) }),
  zset({ name: 'zrevrangebylex', arity: -4, flags: ['readonly'], ...K1, since: '2.8.9',
    summary: 'Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.',
    complexity: 'O(log(N)+M)', shard: (c) => zrangeCommand(c, BY_LEX, 1) }),
  zset({ name: 'zremrangebyrank', arity: 4, flags: ['write'], ...K1, since: '2.0.0',
    summary: 'Remove all members in a sorted set within the given indexes', complexity: 'O(log(N)+M)',
    shard: (c) => zremrangeGeneric(c, BY_RANK) }),
  zset({ name: 'zremrangebyscore', arity: 4, flags: ['write'], ...K1, since: '1.2.0',
    summary: 'Remove all members in a sorted set within the given scores', complexity: 'O(log(N)+M)',
    shard: (c) => zremrangeGeneric(c, BY_SCORE) }),
  zset({ name: 'zremrangebylex', arity: 4, flags: ['write'], ...K1, since: '2.8.9',
    summary: 'Remove all members in a sorted set between the given lexicographical range', complexity: 'O(log(N)+M)',
    shard: (c) => zremrangeGeneric(c, BY_LEX) }),
  zset({ name: 'zpopmin', arity: -2, flags: ['write', 'fast'], ...K1, since: '5.0.0',
    summary: 'Remove and return members with the lowest scores in a sorted set', complexity: 'O(log(N)*M)',
    shard: (c) => zpopCommand(c, false) }),
  zset({ name: 'zpopmax', arity: -2, flags: ['write', 'fast'], ...K1, since: '5.0.0',
    summary: 'Remove and return members with the highest scores in a sorted set', complexity: 'O(log(N)*M)',
    shard: (c) => zpopCommand(c, true) }),
  zset({ name: 'zmpop', arity: -4, flags: ['write'], firstKey: 2, lastKey: -2, keyStep: 1, keyNumArg: 1, since: '7.0.0',
    summary: 'Remove and return members with scores in a sorted set', complexity: 'O(K) + O(M*log(N))',
    shard: zmpopCommand, multi: 'coordinated' }),
  zset({ name: 'zrandmember', arity: -2, flags: ['readonly'], ...K1, since: '6.2.0',
    summary: 'Get one or multiple random elements from a sorted set', complexity: 'O(N)', shard: zrandmemberCommand }),
  zset({ name: 'zunion', arity: -3, flags: ['readonly'], firstKey: 2, lastKey: -2, keyStep: 1, keyNumArg: 1, since: '6.2.0',
    summary: 'Add multiple sorted sets', complexity: 'O(N)+O(M*log(M))',
    shard: (c) => zsetOpCommand(c, OP_UNION, 1, 0, false), multi: 'coordinated' }),
  zset({ name: 'zinter', arity: -3, flags: ['readonly'], firstKey: 2, lastKey: -2, keyStep: 1, keyNumArg: 1, since: '6.2.0',
    summary: 'Intersect multiple sorted sets', complexity: 'O(N*K)+O(M*log(M))',
    shard: (c) => zsetOpCommand(c, OP_INTER, 1, 0, false), multi: 'coordinated' }),
  zset({ name: 'zdiff', arity: -3, flags: ['readonly'], firstKey: 2, lastKey: -2, keyStep: 1, keyNumArg: 1, since: '6.2.0',
    summary: 'Subtract multiple sorted sets', complexity: 'O(L + (N-K)log(N))',
    shard: (c) => zsetOpCommand(c, OP_DIFF, 1, 0, false), multi: 'coordinated' }),
  zset({ name: 'zunionstore', arity: -4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -2, keyStep: 1, keyNumArg: 2, since: '2.0.0',
    summary: 'Add multiple sorted sets and store the resulting sorted set in a new key', complexity: 'O(N)+O(M log(M))',
    shard: (c) => zsetOpCommand(c, OP_UNION, 2, 1, false), multi: 'coordinated' }),
  zset({ name: 'zinterstore', arity: -4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -2, keyStep: 1, keyNumArg: 2, since: '2.0.0',
    summary: 'Intersect multiple sorted sets and store the resulting sorted set in a new key', complexity: 'O(N*K)+O(M*log(M))',
    shard: (c) => zsetOpCommand(c, OP_INTER, 2, 1, false), multi: 'coordinated' }),
  zset({ name: 'zdiffstore', arity: -4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -2, keyStep: 1, keyNumArg: 2, since: '6.2.0',
    summary: 'Subtract multiple sorted sets and store the resulting sorted set in a new key', complexity: 'O(L + (N-K)log(N))',
    shard: (c) => zsetOpCommand(c, OP_DIFF, 2, 1, false), multi: 'coordinated' }),
  zset({ name: 'zintercard', arity: -3, flags: ['readonly'], firstKey: 2, lastKey: -2, keyStep: 1, keyNumArg: 1, since: '7.0.0',
    summary: 'Intersect multiple sorted sets and return the cardinality of the result', complexity: 'O(N*K) worst case',
    shard: (c) => zsetOpCommand(c, OP_INTER, 1, 0, true), multi: 'coordinated' }),
  zset({ name: 'zscan', arity: -3, flags: ['readonly'], ...K1, since: '2.8.0',
    summary: 'Incrementally iterate sorted sets elements and associated scores', complexity: 'O(1) for every call. O(N) for a complete iteration.',
    shard: zscanCommand }),
  { name: '__zdump', arity: 3, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '0.1.0',
    summary: 'Sabre internal command.', internal: true, shard: zdumpInternal },
  { name: '__zwith', arity: -4, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '0.1.0',
    summary: 'Sabre internal command.', internal: true, shard: zwithInternal },
];

