import { formatLongDoubleHuman, longDoubleFromNumber } from './numbers.ts';
import { asinExact, cosExact, sinExact } from './precise-trig.ts';

// Redis's geohash (geohash.c, geohash_helper.c): positions are 26+26 bit
// cells of the Web Mercator square (latitude limited to ±85.05112878), the
// 52-bit interleaving is a sorted-set score, and searches scan the score
// ranges of a centre cell and its eight neighbours at a step chosen from the
// radius. Every computation is done in doubles in the order Redis does it,
// so positions, distances and hashes come out bit-identical.
//
// A cell is kept as its two coordinates (lat, lon: integers below 2^step, or
// exactly 2^step when a point sits on the upper limit, as in Redis) rather
// than as the interleaved bits, so steps up to 26 stay exact in doubles.

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
/** The Earth's quadratic mean radius for WGS-84, as Redis uses it. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;

const TWO_26 = 67108864;
const TWO_32 = 4294967296;

/** A range of coordinates an encoding maps onto [0, 2^step). */
export interface CoordRange {
  readonly min: number;
  readonly max: number;
}

export const WGS84_LONG: CoordRange = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const WGS84_LAT: CoordRange = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };
/** The standard geohash ranges (GEOHASH's 11-character strings). */
export const STANDARD_LAT: CoordRange = { min: -90, max: 90 };

/** A geohash cell: its latitude and longitude indexes at `step` bits each. */
export interface GeoCell {
  lat: number;
  lon: number;
  step: number;
}

/** The bounds of a cell in degrees. */
export interface GeoArea {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

export function degToRad(ang: number): number {
  return ang * D_R;
}

export function radToDeg(ang: number): number {
  return ang / D_R;
}

// -- bit interleaving ------------------------------------------------------------

/** Spreads the low 16 bits of v to the even bit positions of a 32-bit result. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** Gathers the even bits of a 32-bit value into its low 16 bits. */
function compact16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/**
 * Interleaves two integers below 2^26: `lat` on the even bits, `lon` on the
 * odd bits (Redis's interleave64(lat, lon)). The result is below 2^52.
 */
export function interleave(lat: number, lon: number): number {
  const lo = (spread16(lat & 0x1fff) | (spread16(lon & 0x1fff) << 1)) >>> 0;
  const hi = (spread16(lat >>> 13) | (spread16(lon >>> 13) << 1)) >>> 0;
  return hi * TWO_26 + lo;
}

/** Interleaves any two uint32 values exactly, as a 64-bit integer. */
export function interleaveBig(lat: number, lon: number): bigint {
  const lo = (spread16(lat) | (spread16(lon) << 1)) >>> 0;
  const hi = (spread16(lat >>> 16) | (spread16(lon >>> 16) << 1)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Splits a 64-bit interleaving, given as its high and low 32-bit halves, into
 * its two uint32 coordinates (Redis's deinterleave64).
 */
export function deinterleave64(hi: number, lo: number, out: GeoCell): GeoCell {
  out.lat = (compact16(lo) | (compact16(hi) << 16)) >>> 0;
  out.lon = (compact16(lo >>> 1) | (compact16(hi >>> 1) << 16)) >>> 0;
  return out;
}

/** Splits an interleaving below 2^53 into its coordinates. */
export function deinterleave(bits: number, out: GeoCell): GeoCell {
  return deinterleave64(Math.floor(bits / TWO_32), bits % TWO_32 >>> 0, out);
}

// -- encode / decode ----------------------------------------------------------------

/**
 * The cell of (lon, lat) at `step` in the given ranges (geohashEncode), or
 * null when the point is outside the WGS84 limits or the ranges. A point on
 * the upper limit gets index 2^step, as in Redis.
 */
export function encodeCell(lon: number, lat: number, step: number, lonRange: CoordRange, latRange: CoordRange): GeoCell | null {
  if (!(lon <= GEO_LONG_MAX && lon >= GEO_LONG_MIN && lat <= GEO_LAT_MAX && lat >= GEO_LAT_MIN)) return null;
  if (lat < latRange.min || lat > latRange.max || lon < lonRange.min || lon > lonRange.max) return null;
  let latOffset = (lat - latRange.min) / (latRange.max - latRange.min);
  let lonOffset = (lon - lonRange.min) / (lonRange.max - lonRange.min);
  const scale = 2 ** step;
  latOffset *= scale;
  lonOffset *= scale;
  return { lat: Math.floor(latOffset), lon: Math.floor(lonOffset), step };
}

/**
 * The interleaved bits of a cell aligned to 52 bits (geohashAlign52Bits), as
 * the double Redis gets for it: exact below 2^53, rounded like C's
 * uint64-to-double conversion beyond (a cell on the upper limit at step 26).
 */
export function cellScore(lat: number, lon: number, step: number): number {
  if (lat < TWO_26 && lon < TWO_26) return interleave(lat, lon) * 2 ** (52 - step * 2);
  return Number(interleaveBig(lat, lon) << BigInt(52 - step * 2));
}

/** The sorted-set score of a position Redis accepts (GEOADD), or null when outside the limits. */
export function geoScore(lon: number, lat: number): number | null {
  const cell = encodeCell(lon, lat, GEO_STEP_MAX, WGS84_LONG, WGS84_LAT);
  return cell === null ? null : cellScore(cell.lat, cell.lon, GEO_STEP_MAX);
}

/** The bounds of a cell in the given ranges (geohashDecode). */
export function decodeCell(cell: GeoCell, lonRange: CoordRange, latRange: CoordRange, out: GeoArea): GeoArea {
  const latScale = latRange.max - latRange.min;
  const lonScale = lonRange.max - lonRange.min;
  const scale = 2 ** cell.step;
  out.latMin = latRange.min + (cell.lat / scale) * latScale;
  out.latMax = latRange.min + ((cell.lat + 1) / scale) * latScale;
  out.lonMin = lonRange.min + (cell.lon / scale) * lonScale;
  out.lonMax = lonRange.min + ((cell.lon + 1) / scale) * lonScale;
  return out;
}

/**
 * The two 32-bit halves of `(uint64_t)score` as x86-64 code computes it:
 * truncation toward zero, negative values wrap (two's complement), NaN and
 * values out of range give 2^63 below 2^63 and 0 from 2^64 on.
 */
function scoreToU64(score: number, out: Uint32Array): void {
  if (score >= 0 && score < 9007199254740992) {
    const t = Math.floor(score);
    out[0] = Math.floor(t / TWO_32);
    out[1] = t % TWO_32;
    return;
  }
  let v: bigint;
  if (!(score === score) || score <= -9223372036854775808) v = 1n << 63n;
  else if (score < 9223372036854775808) v = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  else if (score < 18446744073709551616) v = BigInt(score);
  else v = 0n;
  out[0] = Number(v >> 32n);
  out[1] = Number(v & 0xffffffffn);
}

const u64Scratch = new Uint32Array(2);
const LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN;
const LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN;

/**
 * The position stored in a sorted-set score (decodeGeohash): the centre of its
 * step-26 cell, clamped to the WGS84 limits. Writes [lon, lat] into `out`.
 * The arithmetic is decodeCell's, inlined (searches decode every candidate).
 */
export function decodeScore(score: number, out: Float64Array | number[]): void {
  let hi: number;
  let lo: number;
  if (score >= 0 && score < 9007199254740992) {
    const t = Math.floor(score);
    hi = Math.floor(t / TWO_32);
    lo = t >>> 0;
  } else {
    scoreToU64(score, u64Scratch);
    hi = u64Scratch[0];
    lo = u64Scratch[1];
  }
  const ilat = (compact16(lo) | (compact16(hi) << 16)) >>> 0;
  const ilon = (compact16(lo >>> 1) | (compact16(hi >>> 1) << 16)) >>> 0;
  const latMin = GEO_LAT_MIN + (ilat / TWO_26) * LAT_SCALE;
  const latMax = GEO_LAT_MIN + ((ilat + 1) / TWO_26) * LAT_SCALE;
  const lonMin = GEO_LONG_MIN + (ilon / TWO_26) * LONG_SCALE;
  const lonMax = GEO_LONG_MIN + ((ilon + 1) / TWO_26) * LONG_SCALE;
  let lon = (lonMin + lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (latMin + latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  out[0] = lon;
  out[1] = lat;
}

const GEO_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11-character string for a stored score: the decoded position
 * re-encoded in the standard [-90, 90] latitude range; the 11th character
 * stands for bits Redis does not have and is always '0'.
 */
export function geohashString(score: number): string {
  decodeScore(score, hashScratch);
  const cell = encodeCell(hashScratch[0], hashScratch[1], GEO_STEP_MAX, WGS84_LONG, STANDARD_LAT);
  if (cell === null) return '00000000000';
  // Only the low 52 bits are printed: an index of 2^26 contributes nothing.
  const bits = interleave(cell.lat & (TWO_26 - 1), cell.lon & (TWO_26 - 1));
  const at = (i: number): number => GEO_ALPHABET_CODES[Math.floor(bits / HASH_CHAR_SCALE[i]) & 0x1f];
  return String.fromCharCode(at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7), at(8), at(9), 48);
}

const hashScratch = new Float64Array(2);
const GEO_ALPHABET_CODES = Uint8Array.from(GEO_ALPHABET, (ch) => ch.charCodeAt(0));
/** 2^(52 - 5(i+1)): character i of a GEOHASH string is bits / this, mod 32. */
const HASH_CHAR_SCALE = Float64Array.from({ length: 10 }, (_, i) => 2 ** (52 - (i + 1) * 5));

// -- neighbours -------------------------------------------------------------------

/** The cell moved by dLon / dLat cells, wrapping around at 2^step (geohash_move_x / _y). */
export function moveCell(cell: GeoCell, dLon: number, dLat: number): GeoCell {
  const size = 2 ** cell.step;
  let { lat, lon } = cell;
  if (dLon !== 0) lon = (((lon + dLon) % size) + size) % size;
  if (dLat !== 0) lat = (((lat + dLat) % size) + size) % size;
  return { lat, lon, step: cell.step };
}

/** The eight neighbours in Redis's order: N, S, E, W, NE, NW, SE, SW. */
export function neighbours(cell: GeoCell): GeoCell[] {
  return [
    moveCell(cell, 0, 1),
    moveCell(cell, 0, -1),
    moveCell(cell, 1, 0),
    moveCell(cell, -1, 0),
    moveCell(cell, 1, 1),
    moveCell(cell, -1, 1),
    moveCell(cell, 1, -1),
    moveCell(cell, -1, -1),
  ];
}

// -- distances ----------------------------------------------------------------------

/** The distance between two latitudes on a meridian. */
export function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degToRad(lat2) - degToRad(lat1));
}

/** Haversine great-circle distance in meters (geohashGetDistance). */
export function geoDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degToRad(lon1);
  const lon2r = degToRad(lon2);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degToRad(lat1);
  const lat2r = degToRad(lat2);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/**
 * geoDistance with correctly rounded sin, cos and asin (src/util/precise-trig.ts):
 * the last bits as glibc gives them to Redis, for distances stored in full
 * (STOREDIST). About 5x slower than geoDistance.
 */
export function geoDistanceExact(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degToRad(lon1);
  const lon2r = degToRad(lon2);
  const v = sinExact((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degToRad(lat1);
  const lat2r = degToRad(lat2);
  const u = sinExact((lat2r - lat1r) / 2);
  const a = u * u + cosExact(lat1r) * cosExact(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * asinExact(Math.sqrt(a));
}

// -- search areas -----------------------------------------------------------------

/** A search shape: a circle of `radius` or a `width` x `height` box, in units of `conversion` meters. */
export interface GeoShape {
  readonly lon: number;
  readonly lat: number;
  readonly box: boolean;
  readonly radius: number;
  readonly width: number;
  readonly height: number;
  readonly conversion: number;
}

/** The step whose cells (centre + neighbours) cover a radius at a latitude (geohashEstimateStepsByRadius). */
export function estimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** [minLon, minLat, maxLon, maxLat] around the shape (geohashBoundingBox). */
export function boundingBox(shape: GeoShape): [number, number, number, number] {
  const { lon, lat } = shape;
  const height = shape.conversion * (shape.box ? shape.height / 2 : shape.radius);
  const width = shape.conversion * (shape.box ? shape.width / 2 : shape.radius);
  const latDelta = radToDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radToDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degToRad(lat + latDelta)));
  const lonDeltaBottom = radToDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degToRad(lat - latDelta)));
  const southern = lat < 0;
  return [
    southern ? lon - lonDeltaBottom : lon - lonDeltaTop,
    lat - latDelta,
    southern ? lon + lonDeltaBottom : lon + lonDeltaTop,
    lat + latDelta,
  ];
}

/**
 * The cells to scan for a shape (geohashCalculateAreasByShapeWGS84): the
 * centre first, then N, S, E, W, NE, NW, SE, SW, with null for a neighbour
 * the shape cannot reach.
 */
export function searchCells(shape: GeoShape): (GeoCell | null)[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  let radiusMeters = shape.box
    ? Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2))
    : shape.radius;
  radiusMeters *= shape.conversion;
  let steps = estimateStepsByRadius(radiusMeters, shape.lat);
  let centre = encodeCell(shape.lon, shape.lat, steps, WGS84_LONG, WGS84_LAT) ?? { lat: 0, lon: 0, step: steps };
  let around = neighbours(centre);
  const a: GeoArea = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };
  // The estimated step can leave the shape's edge beyond a neighbour: one step coarser then.
  let decrease = false;
  if (decodeCell(around[0], WGS84_LONG, WGS84_LAT, a).latMax < maxLat) decrease = true;
  if (decodeCell(around[1], WGS84_LONG, WGS84_LAT, a).latMin > minLat) decrease = true;
  if (decodeCell(around[2], WGS84_LONG, WGS84_LAT, a).lonMax < maxLon) decrease = true;
  if (decodeCell(around[3], WGS84_LONG, WGS84_LAT, a).lonMin > minLon) decrease = true;
  if (steps > 1 && decrease) {
    steps--;
    centre = encodeCell(shape.lon, shape.lat, steps, WGS84_LONG, WGS84_LAT) ?? { lat: 0, lon: 0, step: steps };
    around = neighbours(centre);
  }
  const cells: (GeoCell | null)[] = [centre, ...around];
  if (steps >= 2) {
    const area = decodeCell(centre, WGS84_LONG, WGS84_LAT, a);
    // Indexes into cells: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
    if (area.latMin < minLat) cells[2] = cells[8] = cells[7] = null;
    if (area.latMax > maxLat) cells[1] = cells[5] = cells[6] = null;
    if (area.lonMin < minLon) cells[4] = cells[8] = cells[6] = null;
    if (area.lonMax > maxLon) cells[3] = cells[7] = cells[5] = null;
  }
  return cells;
}

/** The score range [min, max) holding every point of a cell (scoresOfGeoHashBox). */
export function cellScoreRange(cell: GeoCell): [number, number] {
  const shift = 52 - cell.step * 2;
  if (cell.lat < TWO_26 && cell.lon < TWO_26 && cell.step < 26) {
    const bits = interleave(cell.lat, cell.lon);
    return [bits * 2 ** shift, (bits + 1) * 2 ** shift];
  }
  const bits = interleaveBig(cell.lat, cell.lon);
  return [Number(bits << BigInt(shift)), Number((bits + 1n) << BigInt(shift))];
}

/**
 * Whether stored positions are inside a shape (geoWithinShape), with their
 * distance in meters from the centre. What depends only on the centre (its
 * radians, the cosine of its latitude) is computed once: the same operations
 * on the same values as geoDistance, so the same bits.
 */
export class ShapeTest {
  private readonly shape: GeoShape;
  private readonly lonR: number;
  private readonly latR: number;
  private readonly cosLat: number;
  private readonly limit: number;
  private readonly halfWidth: number;
  private readonly halfHeight: number;

  constructor(shape: GeoShape) {
    this.shape = shape;
    this.lonR = degToRad(shape.lon);
    this.latR = degToRad(shape.lat);
    this.cosLat = Math.cos(this.latR);
    this.limit = shape.radius * shape.conversion;
    this.halfWidth = (shape.width * shape.conversion) / 2;
    this.halfHeight = (shape.height * shape.conversion) / 2;
  }

  /** The distance from the centre, or -1 when the point is outside the shape. */
  distance(lon: number, lat: number): number {
    if (!this.shape.box) {
      let d = this.fromCentre(lat, degToRad(lon), degToRad(lat), Math.cos(degToRad(lat)));
      // Within a few ulps of the radius, the last bits decide: take glibc's.
      if (Math.abs(d - this.limit) <= this.limit * 1e-12) d = geoDistanceExact(this.shape.lon, this.shape.lat, lon, lat);
      return d > this.limit ? -1 : d;
    }
    if (latDistance(lat, this.shape.lat) > this.halfHeight) return -1;
    const lonR = degToRad(lon);
    const latR = degToRad(lat);
    const cosLat = Math.cos(latR);
    // geoDistance(lon, lat, centre lon, lat): along the point's parallel.
    const v = Math.sin((this.lonR - lonR) / 2);
    let across: number;
    if (v === 0.0) across = latDistance(lat, lat);
    else {
      const u = Math.sin((latR - latR) / 2);
      const a = u * u + cosLat * cosLat * v * v;
      across = 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
    }
    if (Math.abs(across - this.halfWidth) <= this.halfWidth * 1e-12) across = geoDistanceExact(lon, lat, this.shape.lon, lat);
    if (across > this.halfWidth) return -1;
    return this.fromCentre(lat, lonR, latR, cosLat);
  }

  /** geoDistance(centre lon, centre lat, lon, lat). */
  private fromCentre(lat: number, lonR: number, latR: number, cosLat: number): number {
    const v = Math.sin((lonR - this.lonR) / 2);
    if (v === 0.0) return latDistance(this.shape.lat, lat);
    const u = Math.sin((latR - this.latR) / 2);
    const a = u * u + this.cosLat * cosLat * v * v;
    return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
  }
}

// -- reply formatting ---------------------------------------------------------------

/** C's llrint: nearest integer, ties to even. */
function rint(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** A distance as Redis replies it: fixed point with 4 decimals (fixedpoint_d2string). */
export function formatDistance(d: number): string {
  if (d === 0) return '0.0000';
  const v = rint(d * 10000);
  const neg = v < 0;
  const digits = String(Math.abs(v)).padStart(5, '0');
  return (neg ? '-' : '') + digits.slice(0, -4) + '.' + digits.slice(-4);
}

/**
 * A coordinate as Redis prints it (ld2string's human mode: "%.17Lf" of the
 * exact value, trailing zeros and a bare '.' removed, "-0" as "0").
 * toFixed(17) is exact too, but rounds ties up where printf rounds them to
 * even; a tie needs a value with exactly 18 fractional bits, which takes the
 * exact long-double path.
 */
export function formatCoordinate(x: number): string {
  if (Math.abs(x) < 34359738368 && Number.isInteger(x * 262144) && !Number.isInteger(x * 131072)) {
    return formatLongDoubleHuman(longDoubleFromNumber(x));
  }
  let s = x.toFixed(17);
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  s = s.slice(0, end);
  return s === '-0' ? '0' : s;
}

/**
 * formatDistance(d / conversion) where d came from geoDistance: when the
 * value is within a hair of a rounding tie, its last bits decide, so it is
 * taken from `exact` (geoDistanceExact, glibc's bits) instead.
 */
export function formatDistanceOf(d: number, conversion: number, exact: () => number): string {
  const scaled = (d / conversion) * 10000;
  const frac = scaled - Math.floor(scaled);
  if (Math.abs(frac - 0.5) < 1e-6) return formatDistance(exact() / conversion);
  return formatDistance(d / conversion);
}

/** printf("%.6f", x) exactly (for the invalid-pair error), rounding half to even on the exact value. */
export function formatFixed6(x: number): string {
  if (x !== x) return x < 0 ? '-nan' : 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const neg = x < 0 || Object.is(x, -0);
  let a = Math.abs(x);
  // a = m * 2^e exactly, m an integer.
  let e = 0;
  while (a >= 9007199254740992) {
    a /= 1024;
    e += 10;
  }
  while (!Number.isInteger(a)) {
    a *= 1024;
    e -= 10;
  }
  let q: bigint;
  const scaled = BigInt(a) * 1000000n;
  if (e >= 0) q = scaled << BigInt(e);
  else {
    const sh = BigInt(-e);
    q = scaled >> sh;
    const r = scaled - (q << sh);
    const half = 1n << (sh - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q++;
  }
  const s = q.toString().padStart(7, '0');
  return (neg ? '-' : '') + s.slice(0, -6) + '.' + s.slice(-6);
}
