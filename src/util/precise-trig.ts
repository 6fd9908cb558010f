// sin, cos and asin rounded correctly (to the double nearest the exact
// value), for the few places where the last bit of a result is visible:
// GEORADIUS ... STOREDIST stores full-precision distances as scores. V8's
// Math.sin/cos/asin (fdlibm) are within 1 ulp but differ from glibc's libm,
// which Redis uses, in a few percent of calls; glibc's results are the
// correctly rounded ones in all but about 0.1% of calls, so correct rounding
// is the closest match we can compute. The series are evaluated in
// double-double arithmetic (a value is hi + lo with |lo| <= ulp(hi) / 2).

const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter
const PI_HI = 3.141592653589793;
const PI_LO = 1.2246467991473532e-16;
const HALF_PI = PI_HI / 2;

// Results of the double-double helpers (no allocation per operation).
let rh = 0;
let rl = 0;

/** (ah + al) * (bh + bl) into rh, rl. */
function ddMul(ah: number, al: number, bh: number, bl: number): void {
  const p = ah * bh;
  let t = SPLIT * ah;
  const ahh = t - (t - ah);
  const ahl = ah - ahh;
  t = SPLIT * bh;
  const bhh = t - (t - bh);
  const bhl = bh - bhh;
  let e = ((ahh * bhh - p) + ahh * bhl + ahl * bhh) + ahl * bhl;
  e += ah * bl + al * bh;
  rh = p + e;
  rl = e - (rh - p);
}

/** (ah + al) + (bh + bl) into rh, rl. */
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  const s = ah + bh;
  const bb = s - ah;
  let e = (ah - (s - bb)) + (bh - bb);
  e += al + bl;
  rh = s + e;
  rl = e - (rh - s);
}

/** (ah + al) / d for a small integer d, into rh, rl. */
function ddDivSmall(ah: number, al: number, d: number): void {
  const q1 = ah / d;
  // Exact remainder ah - q1 * d: q1 * d split as a product.
  const p = q1 * d;
  let t = SPLIT * q1;
  const qh = t - (t - q1);
  const ql = q1 - qh;
  t = SPLIT * d;
  const dh = t - (t - d);
  const dl = d - dh;
  const pe = ((qh * dh - p) + qh * dl + ql * dh) + ql * dl;
  const r = ((ah - p) - pe) + al;
  const q2 = r / d;
  rh = q1 + q2;
  rl = q2 - (rh - q1);
}

const TERMS = 22;
/** (-1)^k / (2k+1)! and (-1)^k / (2k)! as double-doubles. */
const SIN_H = new Float64Array(TERMS);
const SIN_L = new Float64Array(TERMS);
const COS_H = new Float64Array(TERMS);
const COS_L = new Float64Array(TERMS);
{
  let h = 1;
  let l = 0;
  COS_H[0] = 1;
  SIN_H[0] = 1;
  for (let n = 1; n < 2 * TERMS; n++) {
    ddDivSmall(h, l, n + 1);
    h = rh;
    l = rl;
    const k = (n + 1) >> 1;
    const sign = k % 2 === 0 ? 1 : -1;
    if (n % 2 === 1 && k < TERMS) {
      COS_H[k] = sign * h;
      COS_L[k] = sign * l;
    } else if (n % 2 === 0 && k < TERMS) {
      SIN_H[k] = sign * h;
      SIN_L[k] = sign * l;
    }
  }
}

/** sin(xh + xl) for |x| <= pi/2, into rh, rl. */
function ddSinSmall(xh: number, xl: number): void {
  ddMul(xh, xl, xh, xl);
  const x2h = rh;
  const x2l = rl;
  let sh = SIN_H[TERMS - 1];
  let sl = SIN_L[TERMS - 1];
  for (let k = TERMS - 2; k >= 0; k--) {
    ddMul(sh, sl, x2h, x2l);
    ddAdd(rh, rl, SIN_H[k], SIN_L[k]);
    sh = rh;
    sl = rl;
  }
  ddMul(sh, sl, xh, xl);
}

/** cos(xh + xl) for |x| <= pi/2, into rh, rl. */
function ddCosSmall(xh: number, xl: number): void {
  ddMul(xh, xl, xh, xl);
  const x2h = rh;
  const x2l = rl;
  let ch = COS_H[TERMS - 1];
  let cl = COS_L[TERMS - 1];
  for (let k = TERMS - 2; k >= 0; k--) {
    ddMul(ch, cl, x2h, x2l);
    ddAdd(rh, rl, COS_H[k], COS_L[k]);
    ch = rh;
    cl = rl;
  }
}

/** sin(x) for |x| <= pi as a double-double into rh, rl. */
function ddSin(x: number): void {
  const ax = Math.abs(x);
  if (ax <= HALF_PI) {
    ddSinSmall(x, 0);
    return;
  }
  // sin(x) = sin(pi - x); pi - |x| is exact in its high part (Sterbenz).
  ddSinSmall(PI_HI - ax, PI_LO);
  if (x < 0) {
    rh = -rh;
    rl = -rl;
  }
}

/** sin(x), correctly rounded, for |x| <= pi (else Math.sin). */
export function sinExact(x: number): number {
  if (!(Math.abs(x) <= PI_HI)) return Math.sin(x);
  if (x === 0) return x;
  ddSin(x);
  return rh + rl;
}

/** cos(x), correctly rounded, for |x| <= pi/2 (else Math.cos). */
export function cosExact(x: number): number {
  if (!(Math.abs(x) <= HALF_PI)) return Math.cos(x);
  ddCosSmall(x, 0);
  return rh + rl;
}

/** asin(y), correctly rounded, for 0 <= |y| <= 1: one Newton step on Math.asin in double-double. */
export function asinExact(y: number): number {
  const t0 = Math.asin(y);
  if (!(Math.abs(y) < 1) || y === 0) return t0;
  ddSinSmall(t0, 0);
  // sin(t0) - y: the high parts nearly cancel, exactly (Sterbenz).
  const diff = (rh - y) + rl;
  ddCosSmall(t0, 0);
  return t0 - diff / (rh + rl);
}
