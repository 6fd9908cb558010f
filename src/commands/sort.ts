import {
  ENC_QUICKLIST, ENC_ZSET_LISTPACK, ENC_ZSET_SKIPLIST, TYPE_HASH, TYPE_LIST, TYPE_SET, TYPE_STRING, TYPE_ZSET,
} from '../../native-layout/layout.ts';
import type { Argv } from '../protocol/argv.ts';
import { PAYLOAD_ENCODING, PAYLOAD_FORMAT, PAYLOAD_HEADER_BYTES, PAYLOAD_TYPE, PAYLOAD_VERSION, type Keyspace } from '../store/keyspace.ts';
import { OutOfMemoryError } from '../store/arena.ts';
import type { Piece } from '../store/list.ts';
import { keyHashSlot } from '../util/crc16.ts';
import { INT_UNSAFE, parseI64, parseI64Big, parseI64Status } from '../util/numbers.ts';
import { ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE } from './errors.ts';
import { forEachSetMember } from './set-members.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// SORT and SORT_RO (Redis 7.0's sort.c), and the internal commands that run
// them when their keys span shards (src/server/coordinators/sort.ts).
//
// On one shard (the source, the BY/GET pattern keys and the STORE key all
// there, or a single-shard server) the `sort` handler does everything. When
// pattern keys may live anywhere, or STORE names a key on another shard, the
// front coordinates, holding every shard it needs:
//   1. __sort_elements <SORT argv...> on the source's shard: the elements to
//      sort, packed (u32 count, then u32 length + bytes each), in the order the
//      sort reads them; or the error (WRONGTYPE).
//   2. __sort_lookup <elements> <pattern>... on every shard: for each pattern,
//      for each element, the value of the substituted key when this shard owns
//      it: u8 0 (not mine), 1 (nil), or 2 then u32 length + bytes.
//   3. __sort_finish <ship 0|1> <n> <lookup reply x n> <SORT argv...> on the
//      source's shard: reads the same elements again, takes the pattern values
//      from the lookup replies, sorts, and replies as SORT does; with ship 1
//      (STORE on another shard) it answers [:count, $list-payload or nil]
//      instead, and the front writes the payload with __put (or deletes).
// The front only forwards bytes: no element is parsed or compared there.

// -- what a source type provides ---------------------------------------------------

/**
 * How SORT reads a collection (its "source"). One per type, in SORT_SOURCES.
 * Lists provide it now; sets and sorted sets add theirs:
 * - set: `ordered` false; length = SCARD; read(0, length, false) visits every
 *   member in the set's own iteration order (what SMEMBERS returns: intset
 *   order, listpack order, or hash-table order), which SORT ... BY nosort
 *   returns as is.
 * - zset: `ordered` true; read(start, count, reverse) visits `count` members
 *   from rank `start` in score order (reverse: from the highest score), which
 *   BY nosort returns as is with LIMIT applied to ranks.
 * Elements are visited as bytes (u8, off, len) that stay valid until the
 * command writes (numbers stored as integers are visited as their decimal text).
 */
export interface SortSource {
  readonly ordered: boolean;
  length(ks: Keyspace, h: number): number;
  read(ks: Keyspace, h: number, start: number, count: number, reverse: boolean,
    visit: (u8: Uint8Array, off: number, len: number) => void): void;
}

/**
 * A hash's field, for BY and GET patterns with `->field` (TYPE_HASH): sets
 * `out` to the field's value bytes and returns true, or false when the field
 * is missing. The hashes branch registers it as HASH_FIELD_READER.
 */
export interface HashFieldReader {
  field(ks: Keyspace, h: number, fb: Uint8Array, fo: number, fl: number, out: Piece): boolean;
}

const listSource: SortSource = {
  ordered: true,
  length: (ks, h) => ks.lists.count(h),
  read(ks, h, start, count, reverse, visit) {
    if (count <= 0) return;
    const u8 = ks.arena.u8;
    if (!reverse) {
      ks.lists.range(h, start, start + count - 1, (off, len) => visit(u8, off, len));
      return;
    }
    const n = ks.lists.count(h);
    const offs: number[] = [];
    const lens: number[] = [];
    ks.lists.range(h, n - start - count, n - 1 - start, (off, len) => {
      offs.push(off);
      lens.push(len);
    });
    for (let i = offs.length - 1; i >= 0; i--) visit(u8, offs[i], lens[i]);
  },
};

/** SORT's reader per TYPE_*: lists now; TYPE_SET and TYPE_ZSET join here. */
export const SORT_SOURCES: (SortSource | undefined)[] = [];
SORT_SOURCES[TYPE_LIST] = listSource;

/** The hash field reader for `->field` patterns (set by the hashes branch; until then such lookups find nothing). */
export const HASH_FIELD_READER: { reader: HashFieldReader | null } = { reader: null };

// Sets: every member in SMEMBERS order (start/count/reverse do not apply:
// an unordered source is always read whole).
SORT_SOURCES[TYPE_SET] = {
  ordered: false,
  length: (ks, h) => ks.sets.count(h),
  read(ks, h, _start, _count, _reverse, visit) {
    forEachSetMember(ks, h, visit);
  },
};

// Sorted sets: `count` members from rank `start`, from the highest score when reverse.
const zsetSource: SortSource = {
  ordered: true,
  length: (ks, h) => ks.zsets.count(h),
  read(ks, h, start, count, reverse, visit) {
    const z = ks.zsets;
    const n = z.count(h);
    if (count <= 0 || start >= n) return;
    const u8 = ks.arena.u8;
    let p = z.atRank(h, reverse ? n - 1 - start : start);
    for (let i = 0; i < count && p !== 0; i++) {
      visit(u8, z.memberOff(h, p), z.memberLen(p));
      p = reverse ? z.prev(h, p) : z.next(h, p);
    }
  },
};
SORT_SOURCES[TYPE_ZSET] = zsetSource;

// Hash fields for `key->field` patterns. A field whose TTL has passed reads as
// missing; it is not purged here (SORT is a read, and the vector points into the arena).
HASH_FIELD_READER.reader = {
  field(ks, h, fb, fo, fl, out) {
    const hs = ks.hashes;
    if (!hs.find(h, fb, fo, fl)) return false;
    if (hs.exp !== 0 && hs.exp <= ks.now) return false;
    out.u8 = ks.arena.u8;
    out.off = hs.vOff;
    out.len = hs.vLen;
    return true;
  },
};

// -- options --------------------------------------------------------------------

const ERR_SCORES = "ERR One or more scores can't be converted into double";

export interface SortOptions {
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  /** Argument index of the STORE key, or -1. */
  store: number;
  /** Argument index of the BY pattern, or -1. */
  by: number;
  /** BY names a constant (no '*'): nothing to sort by. */
  dontsort: boolean;
  /** Argument indexes of the GET patterns, in order. */
  gets: number[];
}

/** A 64-bit long argument (exact to 2^53, ordered beyond), or null. */
function argLong(a: Argv, i: number): number | null {
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (v === v) return v;
  if (parseI64Status() !== INT_UNSAFE) return null;
  const big = parseI64Big(a.u8, a.off[i], a.len[i]);
  return big === null ? null : Number(big);
}

/** Index of the first byte `c` in a C string (bytes up to the first NUL), or -1. */
function cIndexOf(u8: Uint8Array, off: number, len: number, from: number, c: number): number {
  for (let i = from; i < len; i++) {
    const b = u8[off + i];
    if (b === 0) return -1;
    if (b === c) return i;
  }
  return -1;
}

/**
 * Parses SORT's options from argv[base + 2] (argv[base] is SORT, argv[base+1]
 * the key), as sortCommandGeneric does: returns the options or an error text.
 */
export function parseSortOptions(a: Argv, base: number, readonly: boolean): SortOptions | string {
  const o: SortOptions = { desc: false, alpha: false, limitStart: 0, limitCount: -1, store: -1, by: -1, dontsort: false, gets: [] };
  for (let j = base + 2; j < a.count; j++) {
    const left = a.count - j - 1;
    if (a.is(j, 'asc')) o.desc = false;
    else if (a.is(j, 'desc')) o.desc = true;
    else if (a.is(j, 'alpha')) o.alpha = true;
    else if (a.is(j, 'limit') && left >= 2) {
      const s = argLong(a, j + 1);
      const n = s === null ? null : argLong(a, j + 2);
      if (s === null || n === null) return ERR_NOT_INTEGER;
      o.limitStart = s;
      o.limitCount = n;
      j += 2;
    } else if (!readonly && a.is(j, 'store') && left >= 1) {
      o.store = j + 1;
      j++;
    } else if (a.is(j, 'by') && left >= 1) {
      o.by = j + 1;
      o.dontsort = cIndexOf(a.u8, a.off[j + 1], a.len[j + 1], 0, 42 /* * */) < 0;
      j++;
    } else if (a.is(j, 'get') && left >= 1) {
      o.gets.push(j + 1);
      j++;
    } else {
      return ERR_SYNTAX;
    }
  }
  return o;
}

// -- patterns ---------------------------------------------------------------------

const PAT_SELF = 0; // "#": the element itself
const PAT_NONE = 1; // no '*': always nil
const PAT_KEY = 2; // prefix * suffix: a string key
const PAT_FIELD = 3; // prefix * suffix -> field: a hash field

interface Pattern {
  kind: number;
  u8: Uint8Array;
  off: number;
  /** '*' position (relative), suffix end (relative), field start and length. */
  star: number;
  suffixEnd: number;
  fieldOff: number;
  fieldLen: number;
}

/** lookupKeyByPattern's reading of a pattern (C-string rules for '#', '*' and '->'). */
function patternOf(u8: Uint8Array, off: number, len: number): Pattern {
  const p: Pattern = { kind: PAT_NONE, u8, off, star: -1, suffixEnd: len, fieldOff: 0, fieldLen: 0 };
  if (len >= 1 && u8[off] === 35 /* # */ && (len === 1 || u8[off + 1] === 0)) {
    p.kind = PAT_SELF;
    return p;
  }
  const star = cIndexOf(u8, off, len, 0, 42);
  if (star < 0) return p;
  p.star = star;
  p.kind = PAT_KEY;
  // "->" after the '*', followed by at least one byte of C string.
  for (let i = star + 1; i + 1 < len; i++) {
    const b = u8[off + i];
    if (b === 0) break;
    if (b === 45 /* - */ && u8[off + i + 1] === 62 /* > */) {
      if (i + 2 < len && u8[off + i + 2] !== 0) {
        p.kind = PAT_FIELD;
        p.suffixEnd = i;
        p.fieldOff = off + i + 2;
        p.fieldLen = len - i - 2;
      }
      break;
    }
  }
  return p;
}

/** Does any of these patterns need a key lookup? */
function needsLookup(p: Pattern): boolean {
  return p.kind === PAT_KEY || p.kind === PAT_FIELD;
}

/** The patterns a sort looks up, in order: BY (when it sorts by it), then every GET. */
function patternsOf(a: Argv, o: SortOptions): Pattern[] {
  const out: Pattern[] = [];
  if (o.by >= 0 && !o.dontsort) out.push(patternOf(a.u8, a.off[o.by], a.len[o.by]));
  for (const g of o.gets) out.push(patternOf(a.u8, a.off[g], a.len[g]));
  return out;
}

/**
 * True when SORT may read keys other than its source and STORE key (a BY or
 * GET pattern with '*'): such keys can be on any shard. Also fills `out` with
 * the positions of the source and STORE keys (Redis's sortGetKeys). A parse
 * error gives the source only (the shard answers the error).
 */
export function sortKeys(a: Argv, out: number[], readonly: boolean, routing: boolean): boolean {
  out.push(1);
  const o = parseSortOptions(a, 0, readonly);
  if (typeof o === 'string') return false;
  if (o.store >= 0) out.push(o.store);
  let anywhere = false;
  const args = o.by >= 0 && !o.dontsort ? [o.by, ...o.gets] : o.gets;
  for (const i of args) {
    const p = patternOf(a.u8, a.off[i], a.len[i]);
    if (!needsLookup(p)) continue;
    // A hash tag complete before the '*' fixes the slot of every key the
    // pattern names: the pattern's own slot. Such lookups stay on that shard.
    if (routing && hasTagBefore(a.u8, a.off[i], p.star)) out.push(i);
    else anywhere = true;
  }
  return anywhere;
}

/** True when bytes [off, off + n) hold a hash tag: '{', then a non-empty run, then '}'. */
function hasTagBefore(u8: Uint8Array, off: number, n: number): boolean {
  let open = -1;
  for (let i = 0; i < n; i++) {
    if (open < 0) {
      if (u8[off + i] === 123) open = i;
    } else if (u8[off + i] === 125) {
      return i > open + 1;
    }
  }
  return false;
}

/** Does SORT with these options read pattern keys (BY to sort by, or GET other than '#')? */
export function sortNeedsLookups(a: Argv, o: SortOptions): boolean {
  return patternsOf(a, o).some(needsLookup);
}

/** Builds the key a pattern names for an element into `scratch`; returns its length. */
function substitute(p: Pattern, eu8: Uint8Array, eo: number, el: number, scratch: { buf: Uint8Array }): number {
  const prefix = p.star;
  const suffix = p.suffixEnd - p.star - 1;
  const n = prefix + el + suffix;
  if (scratch.buf.length < n) scratch.buf = new Uint8Array(Math.max(n, scratch.buf.length * 2));
  const b = scratch.buf;
  // Byte loops: keys are short, and subarray views would cost an object each.
  const pu8 = p.u8;
  const po = p.off;
  for (let i = 0; i < prefix; i++) b[i] = pu8[po + i];
  if (el < 64) for (let i = 0; i < el; i++) b[prefix + i] = eu8[eo + i];
  else b.set(eu8.subarray(eo, eo + el), prefix);
  const so = po + p.star + 1;
  const at = prefix + el;
  for (let i = 0; i < suffix; i++) b[at + i] = pu8[so + i];
  return n;
}

const scratchKey = { buf: new Uint8Array(256) };

/**
 * Looks a substituted key up on this shard (lookupKeyRead): the string value,
 * or the hash field for `->` patterns, into `out`. False for nil.
 */
function lookupPattern(c: ShardContext, p: Pattern, kl: number, out: Piece): boolean {
  const ks = c.ks;
  const ref = ks.lookupRead(c.db, scratchKey.buf, 0, kl);
  if (ref === 0) return false;
  const type = ks.typeOf(ref);
  if (p.kind === PAT_FIELD) {
    const reader = HASH_FIELD_READER.reader;
    if (type !== TYPE_HASH || reader === null) return false;
    return reader.field(ks, ks.valueRef(ref), p.u8, p.fieldOff, p.fieldLen, out);
  }
  if (type !== TYPE_STRING) return false;
  out.u8 = ks.arena.u8;
  out.off = ks.stringOffset(ref);
  out.len = ks.stringLength(ref);
  return true;
}

// -- numbers as strtod reads them ------------------------------------------------------

function isCSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}

function lowerAt(u8: Uint8Array, i: number): number {
  const b = u8[i];
  return b >= 65 && b <= 90 ? b + 32 : b;
}

function matchesWord(u8: Uint8Array, i: number, end: number, word: string): boolean {
  if (end - i < word.length) return false;
  for (let k = 0; k < word.length; k++) if (lowerAt(u8, i + k) !== word.charCodeAt(k)) return false;
  return true;
}

const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * SORT's score of a value: strtod over the whole C string (bytes up to the
 * first NUL), refusing trailing bytes, overflow or underflow (ERANGE) and NaN.
 * Returns NaN when Redis would report "can't be converted into double".
 */
export function sortScore(u8: Uint8Array, off: number, len: number): number {
  // Fast path: a plain decimal integer of up to 15 digits (exact in a double).
  if (len > 0 && len <= 15) {
    let i = off;
    const neg = u8[i] === 45;
    if (neg) i++;
    let v = 0;
    const end = off + len;
    if (i < end) {
      for (; i < end; i++) {
        const d = u8[i] - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === end) return neg ? -v : v;
    }
  }
  let end = off + len;
  for (let i = off; i < end; i++) if (u8[i] === 0) { end = i; break; }
  if (end === off) return 0; // strtod("") converts nothing and stops at the terminator
  let i = off;
  while (i < end && isCSpace(u8[i])) i++;
  let neg = false;
  const signAt = i;
  if (i < end && (u8[i] === 43 || u8[i] === 45)) {
    neg = u8[i] === 45;
    i++;
  }
  let v: number;
  if (matchesWord(u8, i, end, 'inf')) {
    const j = matchesWord(u8, i, end, 'infinity') ? i + 8 : i + 3;
    if (j !== end) return NaN;
    v = Infinity;
  } else if (matchesWord(u8, i, end, 'nan')) {
    return NaN; // NaN is refused whatever follows
  } else if (i + 1 < end && u8[i] === 48 && (u8[i + 1] === 120 || u8[i + 1] === 88)) {
    v = hexFloat(u8, i + 2, end);
    if (v !== v) {
      // "0x" with no hex digits: strtod reads the "0" and stops at the 'x'.
      return NaN;
    }
  } else {
    let j = i;
    let digits = 0;
    let nonZero = false;
    while (j < end && u8[j] >= 48 && u8[j] <= 57) { if (u8[j] !== 48) nonZero = true; j++; digits++; }
    if (j < end && u8[j] === 46) {
      j++;
      while (j < end && u8[j] >= 48 && u8[j] <= 57) { if (u8[j] !== 48) nonZero = true; j++; digits++; }
    }
    if (digits === 0) return NaN; // nothing converted: the end pointer stays at the start (spaces or junk left)
    if (j < end && (u8[j] === 101 || u8[j] === 69)) {
      let k = j + 1;
      if (k < end && (u8[k] === 43 || u8[k] === 45)) k++;
      const expDigits = k;
      while (k < end && u8[k] >= 48 && u8[k] <= 57) k++;
      if (k > expDigits) j = k; // a malformed exponent is not consumed
    }
    if (j !== end) return NaN;
    v = simpleDecimal(u8, i, j);
    if (v !== v) v = Number(Buffer.from(u8.buffer, u8.byteOffset + i, j - i).toString('latin1'));
    if (!Number.isFinite(v)) return NaN; // ERANGE (overflow)
    if (nonZero && Math.abs(v) < MIN_NORMAL) return NaN; // ERANGE (underflow, glibc)
  }
  void signAt;
  return neg ? -v : v;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * digits[.digits] with at most 15 digits in all: the integer of its digits and
 * the power of ten are both exact doubles, so one division is correctly
 * rounded, as strtod is. NaN for anything else (the caller parses it fully).
 */
function simpleDecimal(u8: Uint8Array, i: number, end: number): number {
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < end; i++) {
    const b = u8[i];
    if (b === 46) {
      if (frac >= 0) return NaN;
      frac = 0;
      continue;
    }
    const d = b - 48;
    if (d < 0 || d > 9) return NaN;
    m = m * 10 + d;
    if (++digits > 15) return NaN;
    if (frac >= 0) frac++;
  }
  return frac > 0 ? m / POW10[frac] : m;
}

/** A hex float after "0x" up to end (strtod's format: digits, '.', 'p' exponent); NaN when malformed. */
function hexFloat(u8: Uint8Array, i: number, end: number): number {
  let mant = 0;
  let exp = 0;
  let digits = 0;
  const hex = (b: number): number => (b >= 48 && b <= 57 ? b - 48 : b >= 97 && b <= 102 ? b - 87 : b >= 65 && b <= 70 ? b - 55 : -1);
  while (i < end && hex(u8[i]) >= 0) { mant = mant * 16 + hex(u8[i]); i++; digits++; }
  if (i < end && u8[i] === 46) {
    i++;
    while (i < end && hex(u8[i]) >= 0) { mant = mant * 16 + hex(u8[i]); exp -= 4; i++; digits++; }
  }
  if (digits === 0) return NaN;
  if (i < end && (u8[i] === 112 || u8[i] === 80)) {
    let k = i + 1;
    let eneg = false;
    if (k < end && (u8[k] === 43 || u8[k] === 45)) { eneg = u8[k] === 45; k++; }
    let e = 0;
    const from = k;
    while (k < end && u8[k] >= 48 && u8[k] <= 57) { e = Math.min(e * 10 + u8[k] - 48, 100000); k++; }
    if (k > from) {
      exp += eneg ? -e : e;
      i = k;
    }
  }
  if (i !== end) return NaN;
  // Scaled in two steps: 2 ** exp alone underflows to 0 below -1074.
  const v = mant * 2 ** Math.max(exp, -1000) * 2 ** Math.min(exp + 1000, 0);
  if (!Number.isFinite(v)) return NaN;
  if (mant !== 0 && Math.abs(v) < MIN_NORMAL) {
    // glibc reports ERANGE for a subnormal result only when it is inexact:
    // exact when the mantissa's lowest set bit lands at or above 2^-1074.
    let tz = 0;
    for (let m = mant; m % 2 === 0; m /= 2) tz++;
    if (exp + tz < -1074) return NaN;
  }
  return v;
}

// -- comparing bytes ----------------------------------------------------------------------

/** compareStringObjects (binary): memcmp over the shorter, then the lengths. */
function compareBinary(a: Uint8Array, ao: number, al: number, b: Uint8Array, bo: number, bl: number): number {
  const n = al < bl ? al : bl;
  for (let i = 0; i < n; i++) {
    const d = a[ao + i] - b[bo + i];
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return al === bl ? 0 : al < bl ? -1 : 1;
}

/** strcoll in the C/C.UTF-8 locale: strcmp, each string ending at its first NUL. */
function compareCString(a: Uint8Array, ao: number, al: number, b: Uint8Array, bo: number, bl: number): number {
  for (let i = 0; ; i++) {
    const x = i < al ? a[ao + i] : 0;
    const y = i < bl ? b[bo + i] : 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x === 0) return 0;
  }
}

// -- pattern values: looked up here, or sent by the other shards ---------------------------

/** Where the values of a lookup pattern come from, per element index. */
interface PatternValues {
  /** Fills out with the value of pattern p for element i; false for nil. */
  value(p: number, i: number, out: Piece): boolean;
}

class LocalValues implements PatternValues {
  private readonly c: ShardContext;
  private readonly patterns: Pattern[];
  private readonly elements: Vector;
  constructor(c: ShardContext, patterns: Pattern[], elements: Vector) {
    this.c = c;
    this.patterns = patterns;
    this.elements = elements;
  }

  value(p: number, i: number, out: Piece): boolean {
    const pat = this.patterns[p];
    const e = this.elements;
    const kl = substitute(pat, e.u8[i], e.off[i], e.len[i], scratchKey);
    return lookupPattern(this.c, pat, kl, out);
  }
}

/** Values gathered by __sort_lookup on every shard: one reply per shard, merged by element. */
class RemoteValues implements PatternValues {
  private readonly u8: Uint8Array;
  private readonly off: Float64Array;
  private readonly len: Int32Array;
  private readonly n: number;

  constructor(u8: Uint8Array, replies: ReadonlyArray<readonly [number, number]>, patterns: Pattern[], n: number) {
    this.u8 = u8;
    this.n = n;
    const slots = patterns.length * n;
    this.off = new Float64Array(slots);
    this.len = new Int32Array(slots).fill(-1);
    for (const [ro, rl] of replies) {
      let q = ro;
      const end = ro + rl;
      for (let p = 0; p < patterns.length; p++) {
        if (!needsLookup(patterns[p])) continue;
        for (let i = 0; i < n; i++) {
          if (q >= end) throw new Error('short __sort_lookup reply');
          const status = u8[q++];
          if (status !== 2) continue;
          const l = readU32(u8, q);
          this.off[p * n + i] = q + 4;
          this.len[p * n + i] = l;
          q += 4 + l;
        }
      }
    }
  }

  value(p: number, i: number, out: Piece): boolean {
    const l = this.len[p * this.n + i];
    if (l < 0) return false;
    out.u8 = this.u8;
    out.off = this.off[p * this.n + i];
    out.len = l;
    return true;
  }
}

function readU32(u8: Uint8Array, p: number): number {
  return (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24)) >>> 0;
}

// -- the sort -----------------------------------------------------------------------

/** The elements to sort, as byte ranges (no copy). */
interface Vector {
  u8: Uint8Array[];
  off: number[];
  len: number[];
}

interface Plan {
  o: SortOptions;
  patterns: Pattern[];
  /** The elements, in the order read. */
  v: Vector;
  /** Output range over the (sorted) vector. */
  start: number;
  end: number;
}

/**
 * Looks the source up, checks its type and reads the elements as
 * sortCommandGeneric loads its vector (BY nosort reads only the LIMIT range of
 * a list or sorted set, from the end when DESC). Replies WRONGTYPE and returns
 * null on a key of another type.
 */
function plan(c: ShardContext, base: number, o: SortOptions): Plan | null {
  const a = c.args;
  const ks = c.ks;
  const ref = ks.lookupRead(c.db, a.u8, a.off[base + 1], a.len[base + 1]);
  let source: SortSource | undefined;
  let h = 0;
  if (ref !== 0) {
    source = SORT_SOURCES[ks.typeOf(ref)];
    if (source === undefined) {
      c.reply.error(ERR_WRONGTYPE);
      return null;
    }
    h = ks.valueRef(ref);
    // Redis converts a listpack sorted set to a skiplist before reading it
    // (visible in OBJECT ENCODING); when the arena has no room it stays as is.
    if (source === zsetSource && ks.zsets.encoding(h) === ENC_ZSET_LISTPACK) {
      try {
        ks.zsets.toSkiplist(h);
        ks.setEncoding(ref, ENC_ZSET_SKIPLIST);
      } catch (e) {
        if (!(e instanceof OutOfMemoryError)) throw e;
      }
    }
  }
  // A set sorted with nosort into STORE is sorted ALPHA for a stable result.
  if (o.dontsort && source !== undefined && !source.ordered && o.store >= 0) {
    o.dontsort = false;
    o.alpha = true;
    o.by = -1;
  }
  const patterns = patternsOf(a, o);
  let vectorLen = source === undefined ? 0 : source.length(ks, h);
  let start = Math.min(Math.max(o.limitStart, 0), vectorLen);
  const count = Math.min(Math.max(o.limitCount, -1), vectorLen);
  let end = count < 0 ? vectorLen - 1 : start + count - 1;
  if (start >= vectorLen) {
    start = vectorLen - 1;
    end = vectorLen - 2;
  }
  if (end >= vectorLen) end = vectorLen - 1;
  const v: Vector = { u8: [], off: [], len: [] };
  const push = (u8: Uint8Array, off: number, len: number): void => {
    v.u8.push(u8);
    v.off.push(off);
    v.len.push(len);
  };
  if (source !== undefined) {
    if (source.ordered && o.dontsort) {
      if (end >= start) source.read(ks, h, start, end - start + 1, o.desc, push);
      end -= start;
      start = 0;
    } else {
      source.read(ks, h, 0, vectorLen, false, push);
    }
  }
  vectorLen = v.off.length;
  return { o, patterns, v, start, end };
}

/**
 * Sorts the plan's vector (unless BY nosort) with the BY values from `values`,
 * then replies or stores. `ship`: STORE's key is on another shard: reply
 * [count, list payload or nil] for the front to write.
 */
function finish(c: ShardContext, base: number, pl: Plan, values: PatternValues, ship: boolean): void {
  const { o, v, patterns } = pl;
  const n = v.off.length;
  const order: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let conversionError = false;
  if (!o.dontsort) {
    const byPattern = o.by >= 0;
    const piece: Piece = { u8: v.u8[0] ?? c.args.u8, off: 0, len: 0 };
    const score = new Float64Array(n);
    const cmpU8: (Uint8Array | null)[] = [];
    const cmpOff = new Float64Array(n);
    const cmpLen = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let bu8: Uint8Array;
      let bo: number;
      let bl: number;
      if (byPattern) {
        if (!values.value(0, i, piece)) {
          cmpU8.push(null);
          continue;
        }
        bu8 = piece.u8;
        bo = piece.off;
        bl = piece.len;
      } else {
        bu8 = v.u8[i];
        bo = v.off[i];
        bl = v.len[i];
      }
      if (o.alpha) {
        cmpU8.push(byPattern ? bu8 : null);
        cmpOff[i] = bo;
        cmpLen[i] = bl;
      } else {
        cmpU8.push(null);
        const s = sortScore(bu8, bo, bl);
        if (s !== s) conversionError = true;
        else score[i] = s;
      }
    }
    const store = o.store >= 0;
    const sign = o.desc ? -1 : 1;
    let cmp: (x: number, y: number) => number;
    if (!o.alpha) {
      cmp = (x, y) => {
        const d = score[x] > score[y] ? 1 : score[x] < score[y] ? -1
          : compareBinary(v.u8[x], v.off[x], v.len[x], v.u8[y], v.off[y], v.len[y]);
        return sign * d;
      };
    } else if (byPattern) {
      const strcmp = store ? compareBinary : compareCString;
      cmp = (x, y) => {
        const ax = cmpU8[x];
        const ay = cmpU8[y];
        let d: number;
        if (ax === null || ay === null) d = ax === ay ? 0 : ax === null ? -1 : 1;
        else d = strcmp(ax, cmpOff[x], cmpLen[x], ay, cmpOff[y], cmpLen[y]);
        return sign * d;
      };
    } else {
      const strcmp = store ? compareBinary : compareCString;
      cmp = (x, y) => sign * strcmp(v.u8[x], v.off[x], v.len[x], v.u8[y], v.off[y], v.len[y]);
    }
    order.sort(cmp);
  }
  const start = pl.start;
  const end = pl.end;
  const getFirst = o.by >= 0 && !o.dontsort ? 1 : 0;
  const gets = patterns.length - getFirst;
  const outputLen = gets > 0 ? gets * (end - start + 1) : end - start + 1;
  if (conversionError) {
    c.reply.error(ERR_SCORES);
    return;
  }
  const r = c.reply;
  const piece: Piece = { u8: c.args.u8, off: 0, len: 0 };
  /** The output's k-th GET value for element x into piece; false for nil. */
  const getValue = (k: number, x: number): boolean => {
    const p = patterns[getFirst + k];
    if (p.kind === PAT_SELF) {
      piece.u8 = v.u8[x];
      piece.off = v.off[x];
      piece.len = v.len[x];
      return true;
    }
    if (p.kind === PAT_NONE) return false;
    return values.value(getFirst + k, x, piece);
  };
  if (o.store < 0) {
    r.array(Math.max(0, outputLen));
    for (let j = start; j <= end; j++) {
      const x = order[j];
      if (gets === 0) r.bulk(v.u8[x], v.off[x], v.len[x]);
      for (let k = 0; k < gets; k++) {
        if (getValue(k, x)) r.bulk(piece.u8, piece.off, piece.len);
        else r.nil();
      }
    }
    return;
  }
  // STORE: a list of the output (a missing GET value stored as "").
  const pieces: Piece[] = [];
  for (let j = start; j <= end; j++) {
    const x = order[j];
    if (gets === 0) pieces.push({ u8: v.u8[x], off: v.off[x], len: v.len[x] });
    for (let k = 0; k < gets; k++) {
      if (getValue(k, x)) pieces.push({ u8: piece.u8, off: piece.off, len: piece.len });
      else pieces.push({ u8: c.args.u8, off: 0, len: 0 });
    }
  }
  const count = Math.max(0, outputLen);
  if (ship) {
    r.array(2);
    r.int(count);
    if (count === 0) r.nil();
    else {
      const payload = listPayload(pieces);
      r.bulk(payload, 0, payload.length);
    }
    return;
  }
  const a = c.args;
  const ks = c.ks;
  const sk = o.store;
  if (count > 0) {
    const h = ks.lists.createFrom(pieces);
    ks.lookupWrite(c.db, a.u8, a.off[sk], a.len[sk]);
    ks.putNewStructure(c.db, a.u8, a.off[sk], a.len[sk], TYPE_LIST, ENC_QUICKLIST, ks.lists, h, -1);
  } else {
    ks.deleteKey(c.db, a.u8, a.off[sk], a.len[sk]);
  }
  r.int(count);
  void base;
}

/** A __put payload (Keyspace.dumpEntry format) of a persistent list holding pieces. */
function listPayload(pieces: readonly Piece[]): Uint8Array {
  let size = PAYLOAD_HEADER_BYTES + 4;
  for (const p of pieces) size += 4 + p.len;
  const out = new Uint8Array(size);
  out[PAYLOAD_VERSION] = PAYLOAD_FORMAT;
  out[PAYLOAD_TYPE] = TYPE_LIST;
  out[PAYLOAD_ENCODING] = ENC_QUICKLIST;
  const dv = new DataView(out.buffer);
  dv.setUint32(PAYLOAD_HEADER_BYTES, pieces.length, true);
  let q = PAYLOAD_HEADER_BYTES + 4;
  for (const p of pieces) {
    dv.setUint32(q, p.len, true);
    out.set(p.u8.subarray(p.off, p.off + p.len), q + 4);
    q += 4 + p.len;
  }
  return out;
}

// -- handlers ---------------------------------------------------------------------------

function sortGeneric(c: ShardContext, readonly: boolean): void {
  const o = parseSortOptions(c.args, 0, readonly);
  if (typeof o === 'string') {
    c.reply.error(o);
    return;
  }
  const pl = plan(c, 0, o);
  if (pl === null) return;
  finish(c, 0, pl, new LocalValues(c, pl.patterns, pl.v), false);
}

function sortCommand(c: ShardContext): void {
  sortGeneric(c, false);
}

function sortRoCommand(c: ShardContext): void {
  sortGeneric(c, true);
}

/** Is argv[base] SORT_RO (so STORE is refused)? */
function isReadonly(a: Argv, base: number): boolean {
  return a.is(base, 'sort_ro');
}

/** __sort_elements <SORT argv...>: the elements, packed; or the error SORT would give first. */
function sortElementsInternal(c: ShardContext): void {
  const a = c.args;
  const o = parseSortOptions(a, 1, isReadonly(a, 1));
  if (typeof o === 'string') {
    c.reply.error(o);
    return;
  }
  const pl = plan(c, 1, o);
  if (pl === null) return;
  const pieces: Piece[] = [];
  for (let i = 0; i < pl.v.off.length; i++) pieces.push({ u8: pl.v.u8[i], off: pl.v.off[i], len: pl.v.len[i] });
  const payload = listPayload(pieces).subarray(PAYLOAD_HEADER_BYTES);
  c.reply.bulk(payload, 0, payload.length);
}

/** __sort_lookup <elements> <pattern>...: the values of the pattern keys this shard owns. */
function sortLookupInternal(c: ShardContext): void {
  const a = c.args;
  const eo = a.off[1];
  const el = a.len[1];
  const u8 = a.u8;
  if (el < 4) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const n = readU32(u8, eo);
  const chunks: Uint8Array[] = [];
  let total = 0;
  let buf = new Uint8Array(4096);
  let q = 0;
  const ensure = (k: number): void => {
    if (q + k <= buf.length) return;
    chunks.push(buf.subarray(0, q));
    total += q;
    buf = new Uint8Array(Math.max(k, 65536));
    q = 0;
  };
  const piece: Piece = { u8, off: 0, len: 0 };
  for (let pi = 2; pi < a.count; pi++) {
    const p = patternOf(u8, a.off[pi], a.len[pi]);
    if (!needsLookup(p)) continue;
    let e = eo + 4;
    for (let i = 0; i < n; i++) {
      const len = readU32(u8, e);
      const kl = substitute(p, u8, e + 4, len, scratchKey);
      e += 4 + len;
      const slot = keyHashSlot(scratchKey.buf, 0, kl);
      if (Math.floor((slot * c.shardCount) / 16384) !== c.shardId) {
        ensure(1);
        buf[q++] = 0;
        continue;
      }
      if (!lookupPattern(c, p, kl, piece)) {
        ensure(1);
        buf[q++] = 1;
        continue;
      }
      ensure(5 + piece.len);
      buf[q] = 2;
      buf[q + 1] = piece.len & 0xff;
      buf[q + 2] = (piece.len >>> 8) & 0xff;
      buf[q + 3] = (piece.len >>> 16) & 0xff;
      buf[q + 4] = (piece.len >>> 24) & 0xff;
      buf.set(piece.u8.subarray(piece.off, piece.off + piece.len), q + 5);
      q += 5 + piece.len;
    }
  }
  chunks.push(buf.subarray(0, q));
  total += q;
  const out = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  c.reply.bulk(out, 0, out.length);
}

/** __sort_finish <ship 0|1> <n> <lookup reply x n> <SORT argv...>: the sort itself, on the source's shard. */
function sortFinishInternal(c: ShardContext): void {
  const a = c.args;
  const ship = a.is(1, '1');
  const nReplies = Number(a.str(2));
  const base = 3 + nReplies;
  if (!Number.isInteger(nReplies) || nReplies < 0 || base + 1 >= a.count) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const o = parseSortOptions(a, base, isReadonly(a, base));
  if (typeof o === 'string') {
    c.reply.error(o);
    return;
  }
  const pl = plan(c, base, o);
  if (pl === null) return;
  const replies: [number, number][] = [];
  for (let k = 0; k < nReplies; k++) replies.push([a.off[3 + k], a.len[3 + k]]);
  const values: PatternValues = nReplies > 0
    ? new RemoteValues(a.u8, replies, pl.patterns, pl.v.off.length)
    : new LocalValues(c, pl.patterns, pl.v);
  finish(c, base, pl, values, ship);
}

// -- the table ------------------------------------------------------------------------

const SORT_COMPLEXITY = 'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).';

function internal(name: string, shard: (c: ShardContext) => void): CommandSpec {
  return {
    name, arity: -2, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '0.1.0',
    summary: 'Sabre internal command.', internal: true, shard,
  };
}

export const sortCommands: CommandSpec[] = [
  {
    name: 'sort', arity: -2, flags: ['write', 'denyoom', 'movablekeys'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'generic', since: '1.0.0', summary: 'Sort the elements in a list, set or sorted set',
    complexity: SORT_COMPLEXITY, aclCategories: ['set', 'sortedset', 'list', 'dangerous'],
    multi: 'coordinated', movableKeys: (a, out, routing) => sortKeys(a, out, false, routing), shard: sortCommand,
  },
  {
    name: 'sort_ro', arity: -2, flags: ['readonly', 'movablekeys'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'generic', since: '7.0.0', summary: 'Sort the elements in a list, set or sorted set. Read-only variant of SORT.',
    complexity: SORT_COMPLEXITY, aclCategories: ['set', 'sortedset', 'list', 'dangerous'],
    multi: 'coordinated', movableKeys: (a, out, routing) => sortKeys(a, out, true, routing), shard: sortRoCommand,
  },
  internal('__sort_elements', sortElementsInternal),
  internal('__sort_lookup', sortLookupInternal),
  internal('__sort_finish', sortFinishInternal),
];
