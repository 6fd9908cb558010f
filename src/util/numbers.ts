/**
 * Redis-exact number parsing and formatting over bytes.
 *
 * Integers follow `string2ll` (util.c); doubles follow `string2d` (strtod,
 * used by ZADD & co.) and `string2ld` (strtold, used by INCRBYFLOAT and
 * HINCRBYFLOAT).  Redis does INCRBYFLOAT arithmetic in x87 80-bit long
 * double; the `LongDouble` helpers below emulate that format exactly with
 * BigInt (64-bit significand, round-to-nearest-even, glibc's correctly
 * rounded strtold/printf), so INCRBYFLOAT results are byte-identical to
 * Redis 7.0 on x86-64.
 */

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_MINUS = 0x2d;
const CH_PLUS = 0x2b;
const CH_DOT = 0x2e;

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

/** parseI64 status: the bytes are a Redis integer within ±(2^53-1). */
export const INT_OK = 0;
/** parseI64 status: not a valid Redis integer (or outside signed 64-bit). */
export const INT_INVALID = 1;
/** parseI64 status: a valid signed 64-bit integer, but not a safe JS integer; use parseI64Big. */
export const INT_UNSAFE = 2;

let intStatus = INT_OK;

/** Status of the most recent parseI64 call (INT_OK, INT_INVALID or INT_UNSAFE). */
export function parseI64Status(): number {
  return intStatus;
}

/** Byte values of "9223372036854775807" (INT64_MAX). */
const I64_MAX_DIGITS: number[] = Array.from('9223372036854775807', (c) => c.charCodeAt(0));

/**
 * Range check for the `nd` digits at b[start..] (no sign, first digit 1-9,
 * all digits already validated): true if they fit in signed 64-bit.
 */
function fitsI64(b: Uint8Array, start: number, nd: number, neg: boolean): boolean {
  if (nd < 19) return true;
  if (nd > 19) return false;
  for (let k = 0; k < 18; k++) {
    const d = b[start + k];
    const m = I64_MAX_DIGITS[k];
    if (d !== m) return d < m;
  }
  // Same first 18 digits as INT64_MAX: last digit up to 7 (8 for INT64_MIN).
  return b[start + 18] <= (neg ? 0x38 : 0x37);
}

/**
 * Parse a Redis integer (`string2ll` rules: optional '-', no '+', no spaces,
 * no leading zeros except "0" itself, no "-0", must fit in signed 64-bit).
 * Returns the value when it is also a safe JS integer (|v| <= 2^53-1) and
 * sets the status to INT_OK.  Otherwise returns NaN and the status tells
 * INT_INVALID (reject) from INT_UNSAFE (valid; re-parse with parseI64Big).
 * Never allocates.
 *
 *   const v = parseI64(b, off, len);
 *   if (v !== v) {                       // NaN: not a safe integer
 *     if (parseI64Status() !== INT_UNSAFE) return notAnInteger();
 *     const big = parseI64Big(b, off, len)!; // slow path, full int64 range
 *   }
 */
export function parseI64(b: Uint8Array, off: number, len: number): number {
  if (len <= 0 || len > 20) {
    intStatus = INT_INVALID;
    return NaN;
  }
  let i = off;
  const end = off + len;
  if (len === 1 && b[i] === CH_0) {
    intStatus = INT_OK;
    return 0;
  }
  const neg = b[i] === CH_MINUS;
  if (neg) {
    i++;
    if (i === end) {
      intStatus = INT_INVALID;
      return NaN;
    }
  }
  const start = i;
  let c = b[i];
  if (c < 0x31 || c > CH_9) {
    intStatus = INT_INVALID;
    return NaN;
  }
  let v = c - CH_0;
  i++;
  const nd = end - start;
  if (nd <= 15) {
    for (; i < end; i++) {
      c = b[i];
      if (c < CH_0 || c > CH_9) {
        intStatus = INT_INVALID;
        return NaN;
      }
      v = v * 10 + (c - CH_0);
    }
    intStatus = INT_OK;
    return neg ? -v : v;
  }
  for (; i < end; i++) {
    c = b[i];
    if (c < CH_0 || c > CH_9) {
      intStatus = INT_INVALID;
      return NaN;
    }
    // Exact while below 2^53; above that the value is only used to decide "unsafe".
    v = v * 10 + (c - CH_0);
  }
  if (nd === 16 && v <= Number.MAX_SAFE_INTEGER) {
    intStatus = INT_OK;
    return neg ? -v : v;
  }
  intStatus = fitsI64(b, start, nd, neg) ? INT_UNSAFE : INT_INVALID;
  return NaN;
}

/** Parse a Redis integer (`string2ll` rules) over the full signed 64-bit range. */
export function parseI64Big(b: Uint8Array, off: number, len: number): bigint | null {
  const v = parseI64(b, off, len);
  if (intStatus === INT_OK) return BigInt(v);
  if (intStatus === INT_INVALID) return null;
  let s = '';
  for (let i = off; i < off + len; i++) s += String.fromCharCode(b[i]);
  return BigInt(s);
}

/** Number of bytes writeI64 produces for the safe integer `v` (sign included). */
export function i64Length(v: number): number {
  let n = 1;
  if (v < 0) {
    n = 2;
    v = -v;
  }
  let p = 10;
  while (v >= p && p <= 1e15) {
    n++;
    p *= 10;
  }
  return n;
}

/**
 * Write the decimal form of the safe integer `v` (|v| <= 2^53-1) into `buf`
 * at `off`; returns the offset just past the last digit.  -0 is written as
 * "0".  Does not allocate.  Use writeI64Big for values beyond 2^53.
 */
export function writeI64(buf: Uint8Array, off: number, v: number): number {
  if (v < 0) {
    buf[off++] = CH_MINUS;
    v = -v;
  }
  const n = i64Length(v);
  const stop = off + n;
  let i = stop - 1;
  while (v >= 4294967296) {
    const q = Math.floor(v / 10);
    buf[i--] = CH_0 + (v - q * 10);
    v = q;
  }
  let u = v >>> 0;
  do {
    const q = (u / 10) >>> 0;
    buf[i--] = CH_0 + (u - q * 10);
    u = q;
  } while (u !== 0);
  return stop;
}

const BIG_1E15 = 1000000000000000n;
const BIG_1E30 = BIG_1E15 * BIG_1E15;
const BIG_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Number of bytes writeI64Big produces for `v`. */
export function i64BigLength(v: bigint): number {
  if (v <= BIG_SAFE && v >= -BIG_SAFE) return i64Length(Number(v));
  const a = v < 0n ? -v : v;
  const sign = v < 0n ? 1 : 0;
  if (a < BIG_1E30) return sign + i64Length(Number(a / BIG_1E15)) + 15;
  return sign + a.toString().length;
}

/**
 * Write the decimal form of a bigint (any size; int64/uint64 without string
 * allocation; |v| >= 10^30 falls back to toString) into `buf` at `off`;
 * returns the new offset.
 */
export function writeI64Big(buf: Uint8Array, off: number, v: bigint): number {
  if (v <= BIG_SAFE && v >= -BIG_SAFE) return writeI64(buf, off, Number(v));
  let a = v;
  if (a < 0n) {
    buf[off++] = CH_MINUS;
    a = -a;
  }
  if (a < BIG_1E30) {
    // Two safe halves: high part, then exactly 15 low digits.
    off = writeI64(buf, off, Number(a / BIG_1E15));
    let lo = Number(a % BIG_1E15);
    for (let i = off + 14; i >= off; i--) {
      const q = Math.floor(lo / 10);
      buf[i] = CH_0 + (lo - q * 10);
      lo = q;
    }
    return off + 15;
  }
  const s = a.toString();
  for (let i = 0; i < s.length; i++) buf[off + i] = s.charCodeAt(i);
  return off + s.length;
}

// ---------------------------------------------------------------------------
// Floating point syntax (glibc strtod/strtold grammar, whole string)
// ---------------------------------------------------------------------------

const F_INVALID = 0;
const F_DEC = 1;
const F_HEX = 2;
const F_INF = 3;

// Results of the last scanFloat call (module scratch: no allocation).
let scNeg = false;
let scIntStart = 0; // first mantissa digit before the point
let scIntEnd = 0;
let scFracStart = 0; // first mantissa digit after the point
let scFracEnd = 0;
let scExp = 0; // explicit exponent (decimal for DEC, binary for HEX), saturated

const EXP_CAP = 1000000000;
const INITY = [0x69, 0x6e, 0x69, 0x74, 0x79]; // "inity"

function lowerByte(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

function isHex(c: number): boolean {
  return (c >= CH_0 && c <= CH_9) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Parses "[eEpP][+-]digits" at i, returns the index after it or -1 if malformed. */
function scanExponent(b: Uint8Array, i: number, end: number): number {
  i++;
  let negExp = false;
  if (i < end && (b[i] === CH_PLUS || b[i] === CH_MINUS)) {
    negExp = b[i] === CH_MINUS;
    i++;
  }
  if (i === end || b[i] < CH_0 || b[i] > CH_9) return -1;
  let e = 0;
  while (i < end && b[i] >= CH_0 && b[i] <= CH_9) {
    if (e < EXP_CAP) e = e * 10 + (b[i] - CH_0);
    i++;
  }
  if (e > EXP_CAP) e = EXP_CAP;
  scExp = negExp ? -e : e;
  return i;
}

/**
 * Classifies b[off..off+len) under the strtod grammar requiring the whole
 * input to be consumed with no leading whitespace (the checks string2d and
 * string2ld add).  "nan" forms are reported invalid since Redis rejects NaN.
 */
function scanFloat(b: Uint8Array, off: number, len: number): number {
  const end = off + len;
  let i = off;
  scNeg = false;
  scExp = 0;
  if (len <= 0) return F_INVALID;
  if (b[i] === CH_PLUS || b[i] === CH_MINUS) {
    scNeg = b[i] === CH_MINUS;
    i++;
  }
  if (i === end) return F_INVALID;
  const c0 = lowerByte(b[i]);
  if (c0 === 0x69) {
    // "inf" or "infinity", case-insensitive
    if (end - i < 3 || lowerByte(b[i + 1]) !== 0x6e || lowerByte(b[i + 2]) !== 0x66) return F_INVALID;
    i += 3;
    if (i === end) return F_INF;
    if (end - i !== 5) return F_INVALID;
    for (let k = 0; k < 5; k++) if (lowerByte(b[i + k]) !== INITY[k]) return F_INVALID;
    return F_INF;
  }
  if (b[i] === CH_0 && end - i >= 2 && lowerByte(b[i + 1]) === 0x78) {
    // Hex float.  Without at least one hex digit strtod stops after "0",
    // leaving "x..." unconsumed, so that is invalid here.
    let j = i + 2;
    scIntStart = j;
    while (j < end && isHex(b[j])) j++;
    scIntEnd = j;
    scFracStart = scFracEnd = j;
    if (j < end && b[j] === CH_DOT) {
      j++;
      scFracStart = j;
      while (j < end && isHex(b[j])) j++;
      scFracEnd = j;
    }
    if (scIntEnd === scIntStart && scFracEnd === scFracStart) return F_INVALID;
    if (j < end && lowerByte(b[j]) === 0x70) {
      j = scanExponent(b, j, end);
      if (j < 0) return F_INVALID;
    }
    return j === end ? F_HEX : F_INVALID;
  }
  let j = i;
  scIntStart = j;
  while (j < end && b[j] >= CH_0 && b[j] <= CH_9) j++;
  scIntEnd = j;
  scFracStart = scFracEnd = j;
  if (j < end && b[j] === CH_DOT) {
    j++;
    scFracStart = j;
    while (j < end && b[j] >= CH_0 && b[j] <= CH_9) j++;
    scFracEnd = j;
  }
  if (scIntEnd === scIntStart && scFracEnd === scFracStart) return F_INVALID;
  if (j < end && lowerByte(b[j]) === 0x65) {
    j = scanExponent(b, j, end);
    if (j < 0) return F_INVALID;
  }
  return j === end ? F_DEC : F_INVALID;
}

/** After a F_DEC scan: number of significant digits (leading zeros skipped), 0 if the value is zero. */
let decSig = 0;
/** After decDigits(): exponent such that value = digits * 10^decE10. */
let decE10 = 0;
/** Index (in the int+frac digit sequence) of the first nonzero digit. */
let decFirst = 0;

/** Computes decSig/decE10/decFirst for the last F_DEC scan. */
function decDigits(b: Uint8Array): void {
  const nInt = scIntEnd - scIntStart;
  const nFrac = scFracEnd - scFracStart;
  const total = nInt + nFrac;
  let k = 0;
  while (k < total && b[k < nInt ? scIntStart + k : scFracStart + k - nInt] === CH_0) k++;
  decFirst = k;
  decSig = total - k;
  decE10 = scExp - nFrac;
}

function decDigitAt(b: Uint8Array, k: number): number {
  const nInt = scIntEnd - scIntStart;
  return b[k < nInt ? scIntStart + k : scFracStart + k - nInt] - CH_0;
}

/** The significant digits of the last F_DEC scan as a BigInt. */
function decBigInt(b: Uint8Array): bigint {
  const total = decFirst + decSig;
  if (decSig <= 15) {
    let v = 0;
    for (let k = decFirst; k < total; k++) v = v * 10 + decDigitAt(b, k);
    return BigInt(v);
  }
  let s = '';
  for (let k = decFirst; k < total; k++) s += String.fromCharCode(CH_0 + decDigitAt(b, k));
  return BigInt(s);
}

const POW10: number[] = [];
for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10.push(p);

/** Correctly rounded double value of the last F_DEC scan (sign applied). */
function decToNumber(b: Uint8Array): number {
  let v: number;
  if (decSig === 0) {
    v = 0;
  } else if (decSig <= 15 && decE10 >= -22 && decE10 <= 22) {
    // Clinger's fast path: exact significand and exact power of ten, one rounding.
    let m = 0;
    const total = decFirst + decSig;
    for (let k = decFirst; k < total; k++) m = m * 10 + decDigitAt(b, k);
    v = decE10 >= 0 ? m * POW10[decE10] : m / POW10[-decE10];
  } else {
    let s = '';
    const total = decFirst + decSig;
    for (let k = decFirst; k < total; k++) s += String.fromCharCode(CH_0 + decDigitAt(b, k));
    v = Number(s + 'e' + decE10);
  }
  return scNeg ? -v : v;
}

// ---------------------------------------------------------------------------
// Exact binary rounding with BigInt
// ---------------------------------------------------------------------------

function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const s = x.toString(16);
  return (s.length - 1) * 4 + (32 - Math.clz32(parseInt(s[0], 16)));
}

/** Exponent of the last roundBinary result. */
let rbE = 0;

/**
 * Rounds the exact positive value N/D * 2^E to `prec` significant bits
 * (nearest, ties to even) with exponent range [eMin, eMax] for the
 * significand-as-integer form m * 2^e (subnormals at eMin).  Returns m and
 * sets rbE; returns -1n on overflow.  m may be 0n (underflow).
 */
function roundBinary(N: bigint, D: bigint, E: number, prec: number, eMin: number, eMax: number): bigint {
  const limit = 1n << BigInt(prec);
  let e = bitLength(N) - bitLength(D) + E - prec;
  if (e < eMin) e = eMin;
  for (;;) {
    const s = E - e;
    let num = N;
    let den = D;
    if (s >= 0) num <<= BigInt(s);
    else den <<= BigInt(-s);
    let q = num / den;
    if (q >= limit) {
      e++;
      continue;
    }
    const r2 = (num - q * den) * 2n;
    if (r2 > den || (r2 === den && (q & 1n) === 1n)) q++;
    if (q === limit) {
      q = limit >> 1n;
      e++;
    }
    if (e > eMax) return -1n;
    rbE = e;
    return q;
  }
}

const DBL_PREC = 53;
const DBL_EMIN = -1074;
const DBL_EMAX = 971;
const LD_PREC = 64;
const LD_EMIN = -16445;
const LD_EMAX = 16320;

/** The exact value of the last F_HEX scan as N * 2^E (N >= 0); sets hexE. */
let hexE = 0;
function hexBigInt(b: Uint8Array): bigint {
  let s = '';
  for (let i = scIntStart; i < scIntEnd; i++) s += String.fromCharCode(b[i]);
  for (let i = scFracStart; i < scFracEnd; i++) s += String.fromCharCode(b[i]);
  hexE = scExp - 4 * (scFracEnd - scFracStart);
  return BigInt('0x' + s);
}

function pow2(e: number): number {
  // 2^e for e in [-1074, 1023] without overflow/underflow of intermediates.
  if (e < -1022) return Math.pow(2, e + 60) / 1152921504606846976;
  return Math.pow(2, e);
}

// ---------------------------------------------------------------------------
// string2d: doubles as ZADD, ZINCRBY, GEOADD, ... parse them
// ---------------------------------------------------------------------------

/**
 * Parse a double with Redis `string2d` rules (strtod over the whole string):
 * optional sign, decimal or hex (0x...p...) floats, "inf"/"infinity" in any
 * case; rejects empty input, any whitespace, NaN, trailing bytes, and
 * results that overflow to infinity or underflow to zero.  Returns null if
 * invalid.
 */
export function parseDouble(b: Uint8Array, off: number, len: number): number | null {
  const kind = scanFloat(b, off, len);
  if (kind === F_DEC) {
    decDigits(b);
    const v = decToNumber(b);
    if (v === Infinity || v === -Infinity) return null;
    if (v === 0 && decSig !== 0) return null;
    return v;
  }
  if (kind === F_INF) return scNeg ? -Infinity : Infinity;
  if (kind === F_HEX) {
    const n = hexBigInt(b);
    if (n === 0n) return scNeg ? -0 : 0;
    const m = roundBinary(n, 1n, hexE, DBL_PREC, DBL_EMIN, DBL_EMAX);
    if (m <= 0n) return null;
    const v = Number(m) * pow2(rbE);
    return scNeg ? -v : v;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Long double (x87 80-bit) emulation
// ---------------------------------------------------------------------------

/**
 * An x87 extended-precision value: (-1)^neg * m * 2^e with 0 <= m < 2^64
 * (normalised: m >= 2^63 unless subnormal), or infinity / NaN.
 */
export type LongDouble = {
  readonly neg: boolean;
  readonly m: bigint;
  readonly e: number;
  /** 0 = finite (m = 0n means zero), 1 = infinity, 2 = NaN */
  readonly cls: number;
};

const LD_FINITE = 0;
const LD_INF = 1;
const LD_NAN = 2;

export const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, cls: LD_FINITE };

function ldFinite(neg: boolean, m: bigint, e: number): LongDouble {
  return { neg, m, e, cls: LD_FINITE };
}

/** Max bytes string2ld accepts (MAX_LONG_DOUBLE_CHARS - 1). */
const LD_MAX_INPUT = 5 * 1024 - 1;

/**
 * Exact `string2ld` (strtold) parse, as INCRBYFLOAT / HINCRBYFLOAT do it:
 * same syntax as parseDouble, at most 5119 bytes, range of the 80-bit long
 * double (so "1e400" is valid, "1e5000" and "1e-5000" are not).  Returns null
 * when Redis would reply "value is not a valid float".
 */
export function parseLongDouble(b: Uint8Array, off: number, len: number): LongDouble | null {
  if (len > LD_MAX_INPUT) return null;
  const kind = scanFloat(b, off, len);
  if (kind === F_INF) return { neg: scNeg, m: 0n, e: 0, cls: LD_INF };
  if (kind === F_DEC) {
    decDigits(b);
    if (decSig === 0) return ldFinite(scNeg, 0n, 0);
    // 10^(decSig-1+decE10) <= |v| < 10^(decSig+decE10)
    if (decSig - 1 + decE10 >= 4933) return null; // > LDBL_MAX (1.19e4932)
    if (decSig + decE10 <= -4952) return null; // rounds to zero (< 3.6e-4951 / 2)
    const d = decBigInt(b);
    let m: bigint;
    if (decE10 >= 0) m = roundBinary(d * 5n ** BigInt(decE10), 1n, decE10, LD_PREC, LD_EMIN, LD_EMAX);
    else m = roundBinary(d, 5n ** BigInt(-decE10), decE10, LD_PREC, LD_EMIN, LD_EMAX);
    if (m <= 0n) return null;
    return ldFinite(scNeg, m, rbE);
  }
  if (kind === F_HEX) {
    const n = hexBigInt(b);
    if (n === 0n) return ldFinite(scNeg, 0n, 0);
    const top = bitLength(n) + hexE;
    if (top > 16384 + 1) return null;
    if (top < LD_EMIN - 2) return null;
    const m = roundBinary(n, 1n, hexE, LD_PREC, LD_EMIN, LD_EMAX);
    if (m <= 0n) return null;
    return ldFinite(scNeg, m, rbE);
  }
  return null;
}

/** Long double from a (safe or unsafe) integer, exactly as `(long double)ll`. */
export function longDoubleFromInt(v: number | bigint): LongDouble {
  let a = BigInt(v);
  const neg = a < 0n;
  if (neg) a = -a;
  if (a === 0n) return LD_ZERO;
  const m = roundBinary(a, 1n, 0, LD_PREC, LD_EMIN, LD_EMAX);
  return ldFinite(neg, m, rbE);
}

/** Long double holding exactly the double `x` (every double is representable). */
export function longDoubleFromNumber(x: number): LongDouble {
  if (x !== x) return { neg: false, m: 0n, e: 0, cls: LD_NAN };
  if (x === Infinity || x === -Infinity) return { neg: x < 0, m: 0n, e: 0, cls: LD_INF };
  const neg = x < 0 || Object.is(x, -0);
  let a = Math.abs(x);
  if (a === 0) return ldFinite(neg, 0n, 0);
  // Scale to an integer significand exactly (powers of two are exact).
  let e = 0;
  while (a >= 9007199254740992) {
    a /= 1024;
    e += 10;
  }
  while (!Number.isInteger(a)) {
    a *= 1024;
    e -= 10;
  }
  const m = roundBinary(BigInt(a), 1n, e, LD_PREC, LD_EMIN, LD_EMAX);
  return ldFinite(neg, m, rbE);
}

/** Nearest double to a long double (infinite when beyond the double range). */
export function longDoubleToNumber(x: LongDouble): number {
  if (x.cls === LD_NAN) return NaN;
  if (x.cls === LD_INF) return x.neg ? -Infinity : Infinity;
  if (x.m === 0n) return x.neg ? -0 : 0;
  const top = bitLength(x.m) + x.e;
  let v: number;
  if (top > 1025) v = Infinity;
  else if (top < -1076) v = 0;
  else {
    const m = roundBinary(x.m, 1n, x.e, DBL_PREC, DBL_EMIN, DBL_EMAX);
    v = m < 0n ? Infinity : Number(m) * pow2(rbE);
  }
  return x.neg ? -v : v;
}

export function longDoubleIsFinite(x: LongDouble): boolean {
  return x.cls === LD_FINITE;
}

/** IEEE addition in long double (round to nearest even); may yield inf or NaN. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.cls === LD_NAN || b.cls === LD_NAN) return { neg: false, m: 0n, e: 0, cls: LD_NAN };
  if (a.cls === LD_INF || b.cls === LD_INF) {
    if (a.cls === LD_INF && b.cls === LD_INF && a.neg !== b.neg) return { neg: true, m: 0n, e: 0, cls: LD_NAN };
    return a.cls === LD_INF ? a : b;
  }
  if (a.m === 0n) {
    if (b.m === 0n) return ldFinite(a.neg && b.neg, 0n, 0);
    return b;
  }
  if (b.m === 0n) return a;
  const topA = bitLength(a.m) + a.e;
  const topB = bitLength(b.m) + b.e;
  // A much smaller addend is below a quarter ulp of the larger one and
  // cannot change the rounded sum.
  if (topA - topB >= 68) return a;
  if (topB - topA >= 68) return b;
  const emin = a.e < b.e ? a.e : b.e;
  const A = a.m << BigInt(a.e - emin);
  const B = b.m << BigInt(b.e - emin);
  const S = (a.neg ? -A : A) + (b.neg ? -B : B);
  if (S === 0n) return LD_ZERO;
  const neg = S < 0n;
  const m = roundBinary(neg ? -S : S, 1n, emin, LD_PREC, LD_EMIN, LD_EMAX);
  if (m < 0n) return { neg, m: 0n, e: 0, cls: LD_INF };
  return ldFinite(neg, m, rbE);
}

const BIG_1E17 = 100000000000000000n;

/**
 * `ld2string(..., LD_STR_HUMAN)`: printf("%.17Lf") (exact value, rounded
 * half-to-even like glibc) with trailing zeros and a bare '.' removed, and
 * "-0" turned into "0".  Infinities print as "inf"/"-inf", NaN as "nan".
 */
export function formatLongDoubleHuman(x: LongDouble): string {
  if (x.cls === LD_INF) return x.neg ? '-inf' : 'inf';
  if (x.cls === LD_NAN) return 'nan';
  if (x.m === 0n) return '0';
  if (x.e >= 0) return (x.neg ? '-' : '') + (x.m << BigInt(x.e)).toString();
  const sh = BigInt(-x.e);
  const scaled = x.m * BIG_1E17;
  let q = scaled >> sh;
  const r = scaled - (q << sh);
  const half = 1n << (sh - 1n);
  if (r > half || (r === half && (q & 1n) === 1n)) q++;
  if (q === 0n) return '0';
  const ip = q / BIG_1E17;
  let fp = q % BIG_1E17;
  let out = (x.neg ? '-' : '') + ip.toString();
  if (fp !== 0n) {
    let fd = 17;
    while (fp % 10n === 0n) {
      fp /= 10n;
      fd--;
    }
    out += '.' + fp.toString().padStart(fd, '0');
  }
  return out;
}

/**
 * INCRBYFLOAT / HINCRBYFLOAT core: current + increment in long double,
 * formatted like Redis stores and returns it.  Returns null when the sum is
 * NaN or infinite ("increment would produce NaN or Infinity").
 */
export function incrByFloatLongDouble(current: LongDouble, incr: LongDouble): string | null {
  const sum = addLongDouble(current, incr);
  if (sum.cls !== LD_FINITE) return null;
  return formatLongDoubleHuman(sum);
}

/**
 * Parse a float with Redis `string2ld` rules (INCRBYFLOAT, HINCRBYFLOAT),
 * returning the nearest double, or null when Redis rejects the input.
 * Accepts "inf", "-inf", "+inf", "infinity" (any case), hex floats, leading
 * '+', ".5" and "5."; rejects whitespace anywhere, NaN, trailing garbage,
 * inputs of 5120+ bytes and values outside the 80-bit long double range.
 * Values that are finite as long double but beyond the double range come
 * back as ±Infinity / ±0 (use parseLongDouble for exactness).
 */
export function parseRedisDouble(b: Uint8Array, off: number, len: number): number | null {
  if (len > LD_MAX_INPUT) return null;
  const kind = scanFloat(b, off, len);
  if (kind === F_DEC) {
    decDigits(b);
    const v = decToNumber(b);
    if (decSig === 0 || (v !== 0 && v !== Infinity && v !== -Infinity)) return v;
    // Out of double range: decide validity on the long double range.
    return parseLongDouble(b, off, len) === null ? null : v;
  }
  if (kind === F_INF) return scNeg ? -Infinity : Infinity;
  if (kind === F_HEX) {
    const ld = parseLongDouble(b, off, len);
    return ld === null ? null : longDoubleToNumber(ld);
  }
  return null;
}

/**
 * What INCRBYFLOAT would print for a result equal to the double `x`:
 * the shortest round-trip decimal of `x` is taken as the value, converted to
 * long double and printed with %.17Lf minus trailing zeros.  So 10.5+0.1
 * gives "10.6", 3.0e3 gives "3000", but 1000.1 gives
 * "1000.09999999999999998" exactly like Redis.  Differences with Redis come
 * only from doing the addition in double (e.g. 0.1+0.2 is 0.30000000000000004
 * as a double, while Redis's long double sum prints "0.3"); use
 * incrByFloatLongDouble for exact results.
 */
export function formatIncrByFloat(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return '0';
  if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) return String(x);
  const s = String(Math.abs(x));
  let mant = s;
  let e10 = 0;
  const ePos = s.indexOf('e');
  if (ePos >= 0) {
    mant = s.slice(0, ePos);
    e10 = Number(s.slice(ePos + 1));
  }
  const dot = mant.indexOf('.');
  if (dot >= 0) {
    e10 -= mant.length - dot - 1;
    mant = mant.slice(0, dot) + mant.slice(dot + 1);
  }
  const d = BigInt(mant);
  let m: bigint;
  if (e10 >= 0) m = roundBinary(d * 5n ** BigInt(e10), 1n, e10, LD_PREC, LD_EMIN, LD_EMAX);
  else m = roundBinary(d, 5n ** BigInt(-e10), e10, LD_PREC, LD_EMIN, LD_EMAX);
  return formatLongDoubleHuman(ldFinite(x < 0, m, rbE));
}

// ---------------------------------------------------------------------------
// %.17g (Redis 7.0 addReplyDouble)
// ---------------------------------------------------------------------------

const BIG_5_POW: bigint[] = [];
const BIG_5_POW_NUM: number[] = [];
for (let k = 0, p = 1n, q = 1; k <= 25; k++, p *= 5n, q *= 5) {
  BIG_5_POW.push(p);
  BIG_5_POW_NUM.push(q);
}

/** Formats 17 significant digits `digits` with decimal exponent `x10` in C %g style. */
function gStyle(neg: boolean, digits: string, x10: number): string {
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === CH_0) end--;
  const d = digits.slice(0, end);
  let out = neg ? '-' : '';
  if (x10 < -4 || x10 >= 17) {
    out += d[0];
    if (d.length > 1) out += '.' + d.slice(1);
    const ax = x10 < 0 ? -x10 : x10;
    out += (x10 < 0 ? 'e-' : 'e+') + (ax < 10 ? '0' : '') + ax;
  } else if (x10 < 0) {
    out += '0.' + '0'.repeat(-x10 - 1) + d;
  } else if (d.length <= x10 + 1) {
    out += d + '0'.repeat(x10 + 1 - d.length);
  } else {
    out += d.slice(0, x10 + 1) + '.' + d.slice(x10 + 1);
  }
  return out;
}

/**
 * A double as Redis 7.0 puts it in replies (addReplyDouble: ZSCORE, ZINCRBY,
 * WITHSCORES, RESP3 ',' doubles): printf("%.17g") with glibc's exact
 * half-to-even rounding, "inf"/"-inf", "nan".  E.g. 0.1 -> "0.10000000000000001",
 * 1e20 -> "1e+20", 2.5 -> "2.5".
 */
export function formatDouble(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const neg = x < 0;
  const a = neg ? -x : x;
  if (Number.isInteger(a) && a < 1e17) {
    // Integers below 10^17 print in full; beyond 2^53 String() would round.
    return (neg ? '-' : '') + (a <= Number.MAX_SAFE_INTEGER ? String(a) : BigInt(a).toString());
  }
  // An exact tie at the 17th digit needs a decimal expansion of exactly 18
  // significant digits, which only happens for non-integers with at most 25
  // fractional bits.  V8 rounds such ties away from zero, glibc to even, so
  // those are done exactly.
  if (!Number.isInteger(a) && Number.isInteger(a * 33554432)) {
    let k = 0;
    let n = a;
    while (!Number.isInteger(n)) {
      n *= 2;
      k++;
    }
    if (n * BIG_5_POW_NUM[k] >= 9e16) {
      const exact = BigInt(n) * BIG_5_POW[k]; // a = exact / 10^k
      const s = exact.toString();
      let x10 = s.length - 1 - k;
      let digits: string;
      if (s.length <= 17) {
        digits = s;
      } else {
        const drop = s.length - 17;
        const p10 = 10n ** BigInt(drop);
        let q = exact / p10;
        const r2 = (exact - q * p10) * 2n;
        if (r2 > p10 || (r2 === p10 && (q & 1n) === 1n)) q++;
        digits = q.toString();
        if (digits.length > 17) {
          digits = digits.slice(0, 17);
          x10++;
        }
      }
      return gStyle(neg, digits, x10);
    }
  }
  const s = a.toExponential(16);
  const ePos = s.indexOf('e');
  return gStyle(neg, s[0] + s.slice(2, ePos), Number(s.slice(ePos + 1)));
}

/**
 * A SCAN cursor as Redis's parseScanCursorOrReply reads it with strtoul: no
 * leading space, optional sign (a negative number wraps modulo 2^64), decimal
 * digits, nothing after them (the string ends at a NUL byte, as in C), no
 * overflow. Returns null for an invalid cursor. SCAN, HSCAN, SSCAN and ZSCAN all read it so.
 */
export function parseScanCursor(b: Uint8Array, off = 0, len = b.length - off): bigint | null {
  let end = off + len;
  for (let k = off; k < end; k++) if (b[k] === 0) { end = k; break; }
  if (end > off && (b[off] === 32 || (b[off] >= 9 && b[off] <= 13))) return null;
  let i = off;
  let neg = false;
  if (i < end && (b[i] === 43 || b[i] === 45)) {
    neg = b[i] === 45;
    i++;
  }
  const digits = i;
  let v = 0n;
  while (i < end && b[i] >= 48 && b[i] <= 57) {
    v = v * 10n + BigInt(b[i] - 48);
    if (v > 0xffffffffffffffffn) return null;
    i++;
  }
  // No digits at all: strtoul leaves the end pointer at the start (only "" is then valid).
  if (i === digits) return end === off ? 0n : null;
  if (i !== end) return null;
  return neg && v !== 0n ? (0x10000000000000000n - v) : v;
}
