import { TYPE_ZSET } from '../../native-layout/layout.ts';
import type { Argv } from '../protocol/argv.ts';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  cellScoreRange,
  decodeScore,
  ShapeTest,
  formatDistanceOf,
  formatCoordinate,
  formatFixed6,
  geoDistance,
  geoDistanceExact,
  geoScore,
  geohashString,
  searchCells,
  type GeoShape,
} from '../util/geohash.ts';
import { parseDouble, parseI64, parseI64Big, parseI64Status, INT_UNSAFE } from '../util/numbers.ts';
import { pqsort } from '../util/pqsort.ts';
import { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX } from './errors.ts';
import { geoZsetAdd, geoZsetMemberLen, geoZsetMemberOff, geoZsetRange, geoZsetScore, geoZsetStore } from './geo-zset.ts';
import type { CommandSpec, ShardContext } from './types.ts';
import { lookupRead, wrongTypeFor } from './key-args.ts';

const wrongType = (c: ShardContext, ref: number): boolean => wrongTypeFor(c, ref, TYPE_ZSET);

// Geo commands (Redis 7.0's geo.c): points are members of a sorted set whose
// score is the 52-bit geohash of their position (src/util/geohash.ts). A
// search scans the score ranges of nine cells, keeps the points inside the
// shape, then sorts and replies or stores. The sorted set itself is reached
// only through geo-zset.ts.
//
// GEOSEARCHSTORE and GEORADIUS[BYMEMBER] STORE whose two keys live on
// different shards run from server/coordinators/geo.ts: the search on the
// source's shard (__geosearch), the store on the destination's (__geostore).

const ERR_UNIT = 'ERR unsupported unit provided. please use M, KM, FT, MI';
const ERR_DECODE_MEMBER = 'ERR could not decode requested zset member';
const ERR_COUNT = 'ERR COUNT must be > 0';

// -- argument helpers ---------------------------------------------------------------

function argDouble(a: Argv, i: number): number | null {
  return parseDouble(a.u8, a.off[i], a.len[i]);
}

/** Reads a longitude, latitude pair at i, i+1 into xy; replies the error and returns false when invalid. */
function lonLatArg(c: ShardContext, i: number, xy: number[]): boolean {
  const lon = argDouble(c.args, i);
  if (lon === null) {
    c.reply.error(ERR_NOT_FLOAT);
    return false;
  }
  const lat = argDouble(c.args, i + 1);
  if (lat === null) {
    c.reply.error(ERR_NOT_FLOAT);
    return false;
  }
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    c.reply.error(`ERR invalid longitude,latitude pair ${formatFixed6(lon)},${formatFixed6(lat)}`);
    return false;
  }
  xy[0] = lon;
  xy[1] = lat;
  return true;
}

/** Meters per unit, or -1 after replying the error. */
function unitArg(c: ShardContext, i: number): number {
  const a = c.args;
  if (a.is(i, 'm')) return 1;
  if (a.is(i, 'km')) return 1000;
  if (a.is(i, 'ft')) return 0.3048;
  if (a.is(i, 'mi')) return 1609.34;
  c.reply.error(ERR_UNIT);
  return -1;
}

/** A long long argument (exact to 2^53, ordered beyond), or null when not an integer. */
function argLongLong(a: Argv, i: number): number | null {
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (v === v) return v;
  if (parseI64Status() !== INT_UNSAFE) return null;
  return Number(parseI64Big(a.u8, a.off[i], a.len[i]));
}

/** A coordinate as Redis replies it (addReplyHumanLongDouble): a bulk string, a RESP3 double. */
function replyCoord(c: ShardContext, x: number): void {
  const s = formatCoordinate(x);
  if (c.reply.resp3) c.reply.rawString(`,${s}\r\n`);
  else c.reply.bulkString(s);
}

// -- GEOADD ---------------------------------------------------------------------------

function geoaddCommand(c: ShardContext): void {
  const a = c.args;
  let nx = false;
  let xx = false;
  let ch = false;
  let first = 2;
  for (; first < a.count; first++) {
    if (a.is(first, 'nx')) nx = true;
    else if (a.is(first, 'xx')) xx = true;
    else if (a.is(first, 'ch')) ch = true;
    else break;
  }
  if ((a.count - first) % 3 !== 0 || (xx && nx)) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const n = (a.count - first) / 3;
  if (n === 0) {
    // Options only: the ZADD Redis hands them to has no element.
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const scores: number[] = [];
  const xy = [0, 0];
  for (let e = 0; e < n; e++) {
    if (!lonLatArg(c, first + e * 3, xy)) return;
    scores.push(geoScore(xy[0], xy[1]) ?? 0);
  }
  geoZsetAdd(c, 1, first, scores, nx, xx, ch);
}

// -- GEOPOS, GEODIST, GEOHASH --------------------------------------------------------------

function geoposCommand(c: ShardContext): void {
  const a = c.args;
  const ref = lookupRead(c, 1);
  if (wrongType(c, ref)) return;
  c.reply.array(a.count - 2);
  const xy = [0, 0];
  for (let j = 2; j < a.count; j++) {
    const score = ref === 0 ? NaN : geoZsetScore(c, ref, a.u8, a.off[j], a.len[j]);
    if (score !== score) {
      c.reply.nilArray();
      continue;
    }
    decodeScore(score, xy);
    c.reply.array(2);
    replyCoord(c, xy[0]);
    replyCoord(c, xy[1]);
  }
}

function geodistCommand(c: ShardContext): void {
  const a = c.args;
  let toMeters = 1;
  if (a.count === 5) {
    toMeters = unitArg(c, 4);
    if (toMeters < 0) return;
  } else if (a.count > 5) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  if (wrongType(c, ref)) return;
  const s1 = geoZsetScore(c, ref, a.u8, a.off[2], a.len[2]);
  const s2 = geoZsetScore(c, ref, a.u8, a.off[3], a.len[3]);
  if (s1 !== s1 || s2 !== s2) {
    c.reply.nil();
    return;
  }
  const p1 = [0, 0];
  const p2 = [0, 0];
  decodeScore(s1, p1);
  decodeScore(s2, p2);
  const d = geoDistance(p1[0], p1[1], p2[0], p2[1]);
  c.reply.bulkString(formatDistanceOf(d, toMeters, () => geoDistanceExact(p1[0], p1[1], p2[0], p2[1])));
}

function geohashCommand(c: ShardContext): void {
  const a = c.args;
  const ref = lookupRead(c, 1);
  if (wrongType(c, ref)) return;
  c.reply.array(a.count - 2);
  for (let j = 2; j < a.count; j++) {
    const score = ref === 0 ? NaN : geoZsetScore(c, ref, a.u8, a.off[j], a.len[j]);
    if (score !== score) c.reply.nil();
    else c.reply.bulkString(geohashString(score));
  }
}

// -- searches ---------------------------------------------------------------------------

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

const SORT_NONE = 0;
const SORT_ASC = 1;
const SORT_DESC = 2;

/** How each search command reads its arguments. */
export const SEARCH_FLAGS: Readonly<Record<string, number>> = {
  georadius: RADIUS_COORDS,
  georadiusbymember: RADIUS_MEMBER,
  georadius_ro: RADIUS_COORDS | RADIUS_NOSTORE,
  georadiusbymember_ro: RADIUS_MEMBER | RADIUS_NOSTORE,
  geosearch: GEOSEARCH,
  geosearchstore: GEOSEARCH | GEOSEARCHSTORE,
};

/** Where the options of a search start (after the key and the centre/radius arguments). */
function baseArgs(flags: number): number {
  if (flags & RADIUS_COORDS) return 6;
  if (flags & RADIUS_MEMBER) return 5;
  return flags & GEOSEARCHSTORE ? 3 : 2;
}

/**
 * The argument position of the key a search stores into, or -1: the
 * destination of GEOSEARCHSTORE, the last STORE/STOREDIST of GEORADIUS[BYMEMBER]
 * as the option parser reads them. Key routing uses it, so the command runs
 * where both of its keys are.
 */
export function searchStoreKeyPosition(a: Argv, flags: number): number {
  if (flags & GEOSEARCHSTORE) return 1;
  if (flags & (RADIUS_NOSTORE | GEOSEARCH)) return -1;
  const base = baseArgs(flags);
  let pos = -1;
  const remaining = a.count - base;
  for (let i = 0; i < remaining; i++) {
    const j = base + i;
    if (a.is(j, 'count') && i + 1 < remaining) i++;
    else if ((a.is(j, 'store') || a.is(j, 'storedist')) && i + 1 < remaining) {
      pos = j + 1;
      i++;
    }
  }
  return pos;
}

/** A parsed search: what to look for and what to do with the result. */
interface SearchRequest {
  shape: GeoShape;
  withDist: boolean;
  withHash: boolean;
  withCoord: boolean;
  sort: number;
  any: boolean;
  count: number;
  /** Position of the destination key, or -1 when the result is replied. */
  storeKey: number;
  storeDist: boolean;
}

/**
 * Parses a search exactly as georadiusGeneric does, looking up FROMMEMBER /
 * BYMEMBER centres in the source zset `ref` (0 when missing); `name` is the
 * command as typed, for error texts (null: argument 0). Null after
 * replying an error.
 */
function parseSearch(c: ShardContext, ref: number, flags: number, name: string | null): SearchRequest | null {
  const a = c.args;
  const xy = [0, 0];
  let radius = 0;
  let width = 0;
  let height = 0;
  let conversion = 1;
  let box = false;
  let storeKey = -1;
  let storeDist = false;
  const base = baseArgs(flags);
  if (flags & RADIUS_COORDS) {
    if (!lonLatArg(c, 2, xy)) return null;
    const r = distanceArgs(c, 4);
    if (r === null) return null;
    [radius, conversion] = r;
  } else if (flags & RADIUS_MEMBER) {
    if (ref !== 0) {
      if (!memberPosition(c, ref, 2, xy)) return null;
      const r = distanceArgs(c, 3);
      if (r === null) return null;
      [radius, conversion] = r;
    }
  } else if (flags & GEOSEARCHSTORE) {
    storeKey = 1;
  }
  let withDist = false;
  let withHash = false;
  let withCoord = false;
  let fromMember = false;
  let fromLoc = false;
  let byRadius = false;
  let byBox = false;
  let sort = SORT_NONE;
  let any = false;
  let count = 0;
  const remaining = a.count - base;
  for (let i = 0; i < remaining; i++) {
    const j = base + i;
    if (a.is(j, 'withdist')) withDist = true;
    else if (a.is(j, 'withhash')) withHash = true;
    else if (a.is(j, 'withcoord')) withCoord = true;
    else if (a.is(j, 'any')) any = true;
    else if (a.is(j, 'asc')) sort = SORT_ASC;
    else if (a.is(j, 'desc')) sort = SORT_DESC;
    else if (a.is(j, 'count') && i + 1 < remaining) {
      const n = argLongLong(a, j + 1);
      if (n === null) {
        c.reply.error(ERR_NOT_INTEGER);
        return null;
      }
      if (n <= 0) {
        c.reply.error(ERR_COUNT);
        return null;
      }
      count = n;
      i++;
    } else if (a.is(j, 'store') && i + 1 < remaining && !(flags & (RADIUS_NOSTORE | GEOSEARCH))) {
      storeKey = j + 1;
      storeDist = false;
      i++;
    } else if (a.is(j, 'storedist') && i + 1 < remaining && !(flags & (RADIUS_NOSTORE | GEOSEARCH))) {
      storeKey = j + 1;
      storeDist = true;
      i++;
    } else if (a.is(j, 'storedist') && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storeDist = true;
    } else if (a.is(j, 'frommember') && i + 1 < remaining && flags & GEOSEARCH && !fromLoc) {
      if (ref !== 0 && !memberPosition(c, ref, j + 1, xy)) return null;
      fromMember = true;
      i++;
    } else if (a.is(j, 'fromlonlat') && i + 2 < remaining && flags & GEOSEARCH && !fromMember) {
      if (!lonLatArg(c, j + 1, xy)) return null;
      fromLoc = true;
      i += 2;
    } else if (a.is(j, 'byradius') && i + 2 < remaining && flags & GEOSEARCH && !byBox) {
      const r = distanceArgs(c, j + 1);
      if (r === null) return null;
      [radius, conversion] = r;
      box = false;
      byRadius = true;
      i += 2;
    } else if (a.is(j, 'bybox') && i + 3 < remaining && flags & GEOSEARCH && !byRadius) {
      const w = argDouble(a, j + 1);
      if (w === null) {
        c.reply.error('ERR need numeric width');
        return null;
      }
      const h = argDouble(a, j + 2);
      if (h === null) {
        c.reply.error('ERR need numeric height');
        return null;
      }
      if (h < 0 || w < 0) {
        c.reply.error('ERR height or width cannot be negative');
        return null;
      }
      const u = unitArg(c, j + 3);
      if (u < 0) return null;
      width = w;
      height = h;
      conversion = u;
      box = true;
      byBox = true;
      i += 3;
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  if (storeKey >= 0 && (withDist || withHash || withCoord)) {
    const what = flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    c.reply.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    return null;
  }
  if (flags & GEOSEARCH && !(fromMember || fromLoc)) {
    c.reply.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${name ?? a.str(0)}`);
    return null;
  }
  if (flags & GEOSEARCH && !(byRadius || byBox)) {
    c.reply.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${name ?? a.str(0)}`);
    return null;
  }
  if (any && count === 0) {
    c.reply.error('ERR the ANY argument requires COUNT argument');
    return null;
  }
  const shape: GeoShape = { lon: xy[0], lat: xy[1], box, radius, width, height, conversion };
  return { shape, withDist, withHash, withCoord, sort, any, count, storeKey, storeDist };
}

/** Radius and unit at i, i+1: [radius, meters per unit], or null after replying the error. */
function distanceArgs(c: ShardContext, i: number): [number, number] | null {
  const d = argDouble(c.args, i);
  if (d === null) {
    c.reply.error('ERR need numeric radius');
    return null;
  }
  if (d < 0) {
    c.reply.error('ERR radius cannot be negative');
    return null;
  }
  const u = unitArg(c, i + 1);
  if (u < 0) return null;
  return [d, u];
}

/** The position of the member at argument i into xy; replies the error and returns false when missing. */
function memberPosition(c: ShardContext, ref: number, i: number, xy: number[]): boolean {
  const a = c.args;
  const score = geoZsetScore(c, ref, a.u8, a.off[i], a.len[i]);
  if (score !== score) {
    c.reply.error(ERR_DECODE_MEMBER);
    return false;
  }
  decodeScore(score, xy);
  return true;
}

/**
 * The points a search found, in scan order, as columns (no object per
 * point): the member's place in the arena (valid until the next write),
 * position, distance from the centre and score. One instance per shard,
 * reused by every search.
 */
class FoundPoints {
  n = 0;
  memberOff = new Int32Array(64);
  memberLen = new Int32Array(64);
  lon = new Float64Array(64);
  lat = new Float64Array(64);
  dist = new Float64Array(64);
  score = new Float64Array(64);

  push(off: number, len: number, lon: number, lat: number, dist: number, score: number): void {
    const i = this.n;
    if (i === this.lon.length) this.grow();
    this.memberOff[i] = off;
    this.memberLen[i] = len;
    this.lon[i] = lon;
    this.lat[i] = lat;
    this.dist[i] = dist;
    this.score[i] = score;
    this.n = i + 1;
  }

  private grow(): void {
    const size = this.lon.length * 2;
    const i32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.memberOff = i32(this.memberOff);
    this.memberLen = i32(this.memberLen);
    this.lon = f64(this.lon);
    this.lat = f64(this.lat);
    this.dist = f64(this.dist);
    this.score = f64(this.score);
  }
}

const found = new FoundPoints();

/** Fills `found` with the points of zset `ref` inside the shape, in scan order, at most `limit` (0 = all). */
function pointsInShape(c: ShardContext, ref: number, shape: GeoShape, limit: number): void {
  found.n = 0;
  const cells = searchCells(shape);
  const xy = new Float64Array(2);
  const test = new ShapeTest(shape);
  const visit = (pos: number, score: number): boolean => {
    decodeScore(score, xy);
    const dist = test.distance(xy[0], xy[1]);
    if (dist >= 0) found.push(geoZsetMemberOff(c, ref, pos), geoZsetMemberLen(c, pos), xy[0], xy[1], dist, score);
    return !(limit > 0 && found.n >= limit);
  };
  let last = -1;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === null) continue;
    // A huge radius can make neighbours the same cell: skip a repeat of the last one scanned.
    if (last > 0) {
      const prev = cells[last];
      if (prev !== null && prev.lat === cell.lat && prev.lon === cell.lon && prev.step === cell.step) continue;
    }
    if (found.n > 0 && limit > 0 && found.n >= limit) break;
    const [min, max] = cellScoreRange(cell);
    geoZsetRange(c, ref, min, max, visit);
    last = i;
  }
}

const byDistance = (x: number, y: number): number => {
  const a = found.dist[x];
  const b = found.dist[y];
  return a > b ? 1 : a === b ? 0 : -1;
};

const byDistanceDesc = (x: number, y: number): number => -byDistance(x, y);

/**
 * Runs a search on this shard. `flags` says which command; `storeHere`
 * false makes a store search reply its result as [member, score]... pairs
 * instead (the source phase of a cross-shard store: __geosearch).
 */
function searchGeneric(c: ShardContext, srcKey: number, flags: number, name: string | null, storeHere: boolean): void {
  const ref = lookupRead(c, srcKey);
  if (wrongType(c, ref)) return;
  const req = parseSearch(c, ref, flags, name);
  if (req === null) return;
  const storing = req.storeKey >= 0;
  if (ref === 0) {
    if (storing && storeHere) geoZsetStore(c, req.storeKey, [], []);
    else c.reply.array(0);
    return;
  }
  let sort = req.sort;
  if (req.count !== 0 && sort === SORT_NONE && !req.any) sort = SORT_ASC;
  pointsInShape(c, ref, req.shape, req.any ? req.count : 0);
  const total = found.n;
  if (total === 0 && !storing) {
    c.reply.array(0);
    return;
  }
  const n = req.count === 0 || total < req.count ? total : req.count;
  const order: number[] = new Array<number>(total);
  for (let i = 0; i < total; i++) order[i] = i;
  if (sort !== SORT_NONE) {
    const cmp = sort === SORT_ASC ? byDistance : byDistanceDesc;
    // Redis sorts everything with qsort (glibc's is a stable merge sort) and only the first
    // COUNT with pqsort, whose order among equal distances this reproduces.
    if (n === total) order.sort(cmp);
    else pqsort(order, cmp, 0, n - 1);
  }
  const u8 = c.ks.arena.u8;
  const conversion = req.shape.conversion;
  if (!storing) {
    const options = (req.withDist ? 1 : 0) + (req.withCoord ? 1 : 0) + (req.withHash ? 1 : 0);
    c.reply.array(n);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      if (options > 0) c.reply.array(options + 1);
      c.reply.bulk(u8, found.memberOff[i], found.memberLen[i]);
      if (req.withDist) {
        const shape = req.shape;
        const exact = (): number => geoDistanceExact(shape.lon, shape.lat, found.lon[i], found.lat[i]);
        c.reply.bulkString(formatDistanceOf(found.dist[i], conversion, exact));
      }
      if (req.withHash) replyScoreAsInteger(c, found.score[i]);
      if (req.withCoord) {
        c.reply.array(2);
        replyCoord(c, found.lon[i]);
        replyCoord(c, found.lat[i]);
      }
    }
    return;
  }
  const members: Uint8Array[] = [];
  const scores: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k];
    members.push(u8.subarray(found.memberOff[i], found.memberOff[i] + found.memberLen[i]));
    // Stored distances show every bit: computed again with libm-exact trigonometry.
    const dist = req.storeDist ? geoDistanceExact(req.shape.lon, req.shape.lat, found.lon[i], found.lat[i]) : 0;
    scores.push(req.storeDist ? dist / conversion : found.score[i]);
  }
  if (storeHere) {
    geoZsetStore(c, req.storeKey, members, scores);
    return;
  }
  // The source phase of a cross-shard store: the result, for __geostore on the destination's shard.
  c.reply.array(n * 2);
  for (let i = 0; i < n; i++) {
    c.reply.bulk(members[i], 0, members[i].length);
    c.reply.bulkString(String(scores[i]));
  }
}

/** WITHHASH: the score as `(long long)score`, an integer reply. */
function replyScoreAsInteger(c: ShardContext, score: number): void {
  const t = Math.trunc(score);
  if (Number.isSafeInteger(t)) c.reply.int(t);
  else if (t >= -9223372036854775808 && t < 9223372036854775808) c.reply.bigint(BigInt(t));
  else c.reply.bigint(-9223372036854775808n); // x86's answer for a double beyond the range
}

function searchCommand(flags: number, srcKey: number): (c: ShardContext) => void {
  return (c) => searchGeneric(c, srcKey, flags, null, true);
}

/**
 * __geosearch <the command's arguments...> <command name>: the search phase
 * of a store across shards, parsed as that command (its arguments keep their
 * positions). Replies its error, an empty array when the source is missing,
 * or [member, score, ...] in the order the result is stored, scores printed
 * to round-trip exactly.
 */
function geosearchInternal(c: ShardContext): void {
  const a = c.args;
  const count = a.count;
  const name = a.str(count - 1);
  const flags = SEARCH_FLAGS[name.toLowerCase()] ?? 0;
  a.count = count - 1;
  try {
    searchGeneric(c, flags & GEOSEARCHSTORE ? 2 : 1, flags, name, false);
  } finally {
    a.count = count;
  }
}

/**
 * __geostore <key> [<member> <score> ...]: replaces the key with a sorted set
 * of those members (deletes it when there are none); replies their count.
 */
function geostoreInternal(c: ShardContext): void {
  const a = c.args;
  const members: Uint8Array[] = [];
  const scores: number[] = [];
  for (let i = 2; i + 1 < a.count; i += 2) {
    members.push(a.u8.subarray(a.off[i], a.off[i] + a.len[i]));
    scores.push(Number(a.str(i + 1)));
  }
  geoZsetStore(c, 1, members, scores);
}

/** Key positions of GEORADIUS / GEORADIUSBYMEMBER: the source and its STORE/STOREDIST key. */
function radiusKeys(flags: number): (a: Argv, out: number[]) => boolean {
  return (a, out) => {
    if (a.count > 1) out.push(1);
    const s = searchStoreKeyPosition(a, flags);
    if (s > 0 && s < a.count) out.push(s);
    return false; // no keys besides the arguments
  };
}

// -- table ---------------------------------------------------------------------------------

const geo = (s: Omit<CommandSpec, 'group'>): CommandSpec => ({ ...s, group: 'geo' });

export const geoCommands: readonly CommandSpec[] = [
  geo({
    name: 'geoadd', arity: -5, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.0',
    summary: 'Add one or more geospatial items in the geospatial index represented using a sorted set',
    complexity: 'O(log(N)) for each item added, where N is the number of elements in the sorted set.',
    shard: geoaddCommand,
  }),
  geo({
    name: 'geopos', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.0',
    summary: 'Returns longitude and latitude of members of a geospatial index', complexity: 'O(N) where N is the number of members requested.',
    shard: geoposCommand,
  }),
  geo({
    name: 'geodist', arity: -4, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.0',
    summary: 'Returns the distance between two members of a geospatial index', complexity: 'O(log(N))',
    shard: geodistCommand,
  }),
  geo({
    name: 'geohash', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.0',
    summary: 'Returns members of a geospatial index as standard geohash strings', complexity: 'O(log(N)) for each member requested, where N is the number of elements in the sorted set.',
    shard: geohashCommand,
  }),
  geo({
    name: 'georadius', arity: -6, flags: ['write', 'denyoom', 'movablekeys'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.0',
    summary: 'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point',
    complexity: 'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.',
    shard: searchCommand(RADIUS_COORDS, 1), movableKeys: radiusKeys(RADIUS_COORDS), multi: 'coordinated',
  }),
  geo({
    name: 'georadiusbymember', arity: -5, flags: ['write', 'denyoom', 'movablekeys'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.0',
    summary: 'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member',
    complexity: 'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.',
    shard: searchCommand(RADIUS_MEMBER, 1), movableKeys: radiusKeys(RADIUS_MEMBER), multi: 'coordinated',
  }),
  geo({
    name: 'georadius_ro', arity: -6, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.10',
    summary: 'A read-only variant for GEORADIUS',
    complexity: 'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.',
    shard: searchCommand(RADIUS_COORDS | RADIUS_NOSTORE, 1),
  }),
  geo({
    name: 'georadiusbymember_ro', arity: -5, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '3.2.10',
    summary: 'A read-only variant for GEORADIUSBYMEMBER',
    complexity: 'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.',
    shard: searchCommand(RADIUS_MEMBER | RADIUS_NOSTORE, 1),
  }),
  geo({
    name: 'geosearch', arity: -7, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '6.2.0',
    summary: 'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.',
    complexity: 'O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape',
    shard: searchCommand(GEOSEARCH, 1),
  }),
  geo({
    name: 'geosearchstore', arity: -8, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, keyStep: 1, since: '6.2.0',
    summary: 'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.',
    complexity: 'O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape',
    shard: searchCommand(GEOSEARCH | GEOSEARCHSTORE, 2), multi: 'coordinated',
  }),
  geo({
    name: '__geosearch', arity: -3, flags: ['readonly'], firstKey: 0, lastKey: 0, keyStep: 0, since: '',
    summary: 'Internal: the search phase of a cross-shard geo store', internal: true, shard: geosearchInternal,
  }),
  geo({
    name: '__geostore', arity: -2, flags: ['write'], firstKey: 0, lastKey: 0, keyStep: 0, since: '',
    summary: 'Internal: the store phase of a cross-shard geo store', internal: true, shard: geostoreInternal,
  }),
];
