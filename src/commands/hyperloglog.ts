import { ENC_RAW, TYPE_STRING } from '../../native-layout/layout.ts';
import { OutOfMemoryError } from '../store/arena.ts';
import {
  ERR_INVALID_HLL, ERR_NOT_HLL, HLL_DENSE, HLL_DENSE_BYTES, HLL_HEADER_BYTES, HLL_REGISTERS, HLL_SPARSE,
  SPARSE_INVALID, SPARSE_VAL_MAX_VALUE, cacheValid, cachedHi, cachedLo, countRaw, countValue, denseGet, densePack,
  denseRaise, denseSet, emptySparse, encodingOf, invalidateCache, isHllValue, maxInto, patIndex, patLen, sparseDecode,
  sparseMaxInto, sparseSet, sparseUpdated, storeCard,
} from '../store/hll.ts';
import { ERR_WRONGTYPE } from './errors.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// HyperLogLog commands (Redis 7.0's hyperloglog.c). An HLL is a raw string in
// Redis's exact byte format (src/store/hll.ts), changed in place in the arena:
// a dense PFADD touches two bytes, a sparse one shifts a few. Every write is
// all or nothing: a sparse value is copied aside before it changes, and put
// back if a growth or the promotion to dense runs out of memory.

/** Internal: each key's value, tagged, for PFCOUNT/PFMERGE across shards. */
export const PF_FETCH = '__pf_fetch';
/** Internal: PFCOUNT of several keys, some of them fetched from other shards. */
export const PF_COUNT_WITH = '__pfcount_with';
/** Internal: PFMERGE on the destination's shard, some sources fetched from other shards. */
export const PF_MERGE_WITH = '__pfmerge_with';

// Tags of a source in __pf_fetch replies and the *_with commands' arguments.
export const TAG_KEY = 'k';
export const TAG_VALUE = 'v';
export const TAG_MISSING = 'n';
export const TAG_WRONGTYPE = 'w';
export const TAG_NOT_HLL = 'x';
export const TAG_INVALID = 'i';

/** Longest sparse value that can cover 16384 registers (XZERO runs of 1: 2 bytes each). */
const SPARSE_MAX_VALID = HLL_HEADER_BYTES + 2 * HLL_REGISTERS;
const DEFAULT_SPARSE_MAX_BYTES = 3000;

/** Registers (one byte each) of the union being built. */
const regs = new Uint8Array(HLL_REGISTERS);
/** A sparse value's bytes before a write, to put back on OutOfMemoryError. */
let saved = new Uint8Array(4096);

// The value being written: its entry and slot (growth may move the entry).
let wRef = 0;
let wHandle = -1;

function sparseMaxBytes(c: ShardContext): number {
  return c.config.hllSparseMaxBytes ?? DEFAULT_SPARSE_MAX_BYTES;
}

/** Replies the error and returns false unless ref holds a valid HLL string (isHLLObjectOrReply). */
function checkHll(c: ShardContext, ref: number): boolean {
  const ks = c.ks;
  if (ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return false;
  }
  if (!isHllValue(ks.arena.u8, ks.stringOffset(ref), ks.stringLength(ref))) {
    c.reply.error(ERR_NOT_HLL);
    return false;
  }
  return true;
}

/** Grows the value at wRef so that `need` bytes fit (greedy, as sdsMakeRoomFor). */
function ensureRoom(c: ShardContext, need: number): void {
  if (c.ks.stringCapacity(wRef) < need) wRef = c.ks.growString(c.db, wHandle, wRef, need);
}

/** Converts the sparse value at wRef to dense (hllSparseToDense); false when it is corrupted. */
function promote(c: ShardContext): boolean {
  const ks = c.ks;
  const u8 = ks.arena.u8;
  const s = ks.stringOffset(wRef);
  const dense = new Uint8Array(HLL_REGISTERS);
  if (!sparseMaxInto(u8, s, ks.stringLength(wRef), dense)) return false;
  wRef = ks.growString(c.db, wHandle, wRef, HLL_DENSE_BYTES, false);
  const d = ks.stringOffset(wRef);
  u8[d + 4] = HLL_DENSE;
  densePack(dense, u8, d + HLL_HEADER_BYTES);
  ks.setStringLength(wRef, HLL_DENSE_BYTES);
  return true;
}

/**
 * Raises register `index` of the value at wRef to `count` (hllSparseSet /
 * hllDenseSet), promoting a sparse value when it must. Returns 1 when it
 * changed, 0 when not, -1 when the value is corrupted.
 */
function raise(c: ShardContext, index: number, count: number): number {
  const ks = c.ks;
  const u8 = ks.arena.u8;
  let s = ks.stringOffset(wRef);
  if (u8[s + 4] === HLL_DENSE) return denseRaise(u8, s + HLL_HEADER_BYTES, index, count);
  const len = ks.stringLength(wRef);
  if (count <= SPARSE_VAL_MAX_VALUE) {
    ensureRoom(c, len + 4);
    s = ks.stringOffset(wRef);
  }
  const r = sparseSet(u8, s, len, index, count, sparseMaxBytes(c));
  if (r >= 0) {
    ks.setStringLength(wRef, r);
    return sparseUpdated;
  }
  if (r === SPARSE_INVALID || !promote(c)) return -1;
  denseSet(u8, ks.stringOffset(wRef) + HLL_HEADER_BYTES, index, count);
  return 1;
}

/** Copies the sparse value at wRef aside (see restore). */
function save(c: ShardContext): number {
  const ks = c.ks;
  const len = ks.stringLength(wRef);
  if (saved.length < len) saved = new Uint8Array(Math.max(len, saved.length * 2));
  const s = ks.stringOffset(wRef);
  saved.set(ks.arena.u8.subarray(s, s + len));
  return len;
}

/** Puts back the value copied by save() (its entry may have moved since). */
function restore(c: ShardContext, len: number): void {
  const ks = c.ks;
  ks.arena.u8.set(saved.subarray(0, len), ks.stringOffset(wRef));
  ks.setStringLength(wRef, len);
}

function keyArgs(c: ShardContext, i: number): [Uint8Array, number, number] {
  const a = c.args;
  return [a.u8, a.off[i], a.len[i]];
}

/** Creates the key at argument i as an empty sparse HLL (lookup just before); sets wRef/wHandle. */
function createEmpty(c: ShardContext, i: number): void {
  const [kb, ko, kl] = keyArgs(c, i);
  const v = emptySparse();
  wRef = c.ks.putString(c.db, kb, ko, kl, v, 0, v.length, ENC_RAW, -1);
  wHandle = c.ks.handle;
}

// -- PFADD ------------------------------------------------------------------------------

function pfaddCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const [kb, ko, kl] = keyArgs(c, 1);
  let ref = ks.lookupWrite(c.db, kb, ko, kl);
  let updated = 0;
  const created = ref === 0;
  if (created) {
    createEmpty(c, 1);
    ref = wRef;
    updated = 1;
  } else {
    if (!checkHll(c, ref)) return;
    ks.setEncoding(ref, ENC_RAW);
    wRef = ref;
    wHandle = ks.handle;
  }
  const u8 = ks.arena.u8;
  let savedLen = -1;
  try {
    for (let j = 2; j < a.count; j++) {
      const count = patLen(a.u8, a.off[j], a.len[j]);
      const index = patIndex;
      let r: number;
      const s = ks.stringOffset(wRef);
      if (u8[s + 4] === HLL_DENSE) {
        r = denseRaise(u8, s + HLL_HEADER_BYTES, index, count);
      } else {
        if (savedLen < 0 && !created) savedLen = save(c);
        r = raise(c, index, count);
      }
      if (r < 0) {
        // Registers already raised stay so, with the cache as it was (as Redis leaves them).
        ks.dbs[c.db].touch(wHandle);
        c.reply.error(ERR_INVALID_HLL);
        return;
      }
      updated += r;
    }
  } catch (e) {
    if (e instanceof OutOfMemoryError) {
      if (created) ks.deleteAt(c.db, wHandle);
      else if (savedLen >= 0) restore(c, savedLen);
    }
    throw e;
  }
  if (updated > 0) {
    invalidateCache(u8, ks.stringOffset(wRef));
    ks.dbs[c.db].touch(wHandle);
  }
  c.reply.int(updated > 0 ? 1 : 0);
}

// -- PFCOUNT ----------------------------------------------------------------------------

/** A computed cardinality as Redis replies it: addReplyLongLong of a uint64 (2^63 comes out negative). */
function replyCard(c: ShardContext, card: number): void {
  if (card < 2 ** 53) c.reply.int(card);
  else c.reply.bigint(BigInt.asIntN(64, BigInt(card)));
}

function replyCached(c: ShardContext, u8: Uint8Array, s: number): void {
  const lo = cachedLo(u8, s);
  const hi = cachedHi(u8, s);
  if (hi < 0x200000) c.reply.int(hi * 4294967296 + lo);
  else c.reply.bigint((BigInt(hi) << 32n) | BigInt(lo));
}

/**
 * Merges the HLL at ref into regs. Returns -1 after an error reply, 1 when
 * the value was dense, 0 when sparse.
 */
function mergeRef(c: ShardContext, ref: number): number {
  if (!checkHll(c, ref)) return -1;
  const ks = c.ks;
  return mergeBytes(c, ks.arena.u8, ks.stringOffset(ref), ks.stringLength(ref));
}

function mergeBytes(c: ShardContext, u8: Uint8Array, s: number, len: number): number {
  if (!isHllValue(u8, s, len)) {
    c.reply.error(ERR_NOT_HLL);
    return -1;
  }
  if (!maxInto(u8, s, len, regs)) {
    c.reply.error(ERR_INVALID_HLL);
    return -1;
  }
  return encodingOf(u8, s) === HLL_DENSE ? 1 : 0;
}

function mergeKey(c: ShardContext, i: number): number {
  const [kb, ko, kl] = keyArgs(c, i);
  const ref = c.ks.lookupRead(c.db, kb, ko, kl);
  return ref === 0 ? 0 : mergeRef(c, ref);
}

/**
 * Merges a tagged source (TAG_* at argument i, its payload at i + 1) into
 * regs: the same answers as mergeKey, in the order of the original keys.
 */
function mergeTagged(c: ShardContext, i: number): number {
  const a = c.args;
  if (a.is(i, TAG_KEY)) return mergeKey(c, i + 1);
  if (a.is(i, TAG_VALUE)) return mergeBytes(c, a.u8, a.off[i + 1], a.len[i + 1]);
  if (a.is(i, TAG_MISSING)) return 0;
  c.reply.error(a.is(i, TAG_WRONGTYPE) ? ERR_WRONGTYPE : a.is(i, TAG_NOT_HLL) ? ERR_NOT_HLL : ERR_INVALID_HLL);
  return -1;
}

function pfcountCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  if (a.count > 2) {
    regs.fill(0);
    for (let j = 1; j < a.count; j++) if (mergeKey(c, j) < 0) return;
    replyCard(c, countRaw(regs));
    return;
  }
  const [kb, ko, kl] = keyArgs(c, 1);
  const ref = ks.lookupRead(c.db, kb, ko, kl);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (!checkHll(c, ref)) return;
  ks.setEncoding(ref, ENC_RAW);
  const u8 = ks.arena.u8;
  const s = ks.stringOffset(ref);
  if (cacheValid(u8, s)) {
    replyCached(c, u8, s);
    return;
  }
  const card = countValue(u8, s, ks.stringLength(ref));
  if (card < 0) {
    c.reply.error(ERR_INVALID_HLL);
    return;
  }
  storeCard(u8, s, card);
  ks.dbs[c.db].touch(ks.handle);
  replyCard(c, card);
}

/** __pfcount_with tag payload [tag payload ...]: PFCOUNT of several keys, run on one key's shard. */
function pfcountWithCommand(c: ShardContext): void {
  const a = c.args;
  regs.fill(0);
  for (let i = 1; i + 1 < a.count; i += 2) if (mergeTagged(c, i) < 0) return;
  replyCard(c, countRaw(regs));
}

// -- PFMERGE ----------------------------------------------------------------------------

/** Writes regs into the destination at argument destArg (pfmergeCommand after its merge loop). */
function storeMerged(c: ShardContext, destArg: number, useDense: boolean): void {
  const ks = c.ks;
  const [kb, ko, kl] = keyArgs(c, destArg);
  const ref = ks.lookupWrite(c.db, kb, ko, kl);
  const created = ref === 0;
  if (created) {
    createEmpty(c, destArg);
  } else {
    // Sources were checked: the destination is one of them, so it is a valid HLL.
    ks.setEncoding(ref, ENC_RAW);
    wRef = ref;
    wHandle = ks.handle;
  }
  const u8 = ks.arena.u8;
  let savedLen = -1;
  try {
    if (encodingOf(u8, ks.stringOffset(wRef)) === HLL_SPARSE) {
      if (!created) savedLen = save(c);
      if (useDense && !promote(c)) {
        c.reply.error(ERR_INVALID_HLL);
        return;
      }
    }
    const s = ks.stringOffset(wRef);
    if (encodingOf(u8, s) === HLL_DENSE) {
      // The destination was merged as a source: regs is already the max of both.
      densePack(regs, u8, s + HLL_HEADER_BYTES);
    } else {
      for (let j = 0; j < HLL_REGISTERS; j++) if (regs[j] !== 0) raise(c, j, regs[j]);
    }
  } catch (e) {
    if (e instanceof OutOfMemoryError) {
      if (created) ks.deleteAt(c.db, wHandle);
      else if (savedLen >= 0) restore(c, savedLen);
    }
    throw e;
  }
  invalidateCache(u8, ks.stringOffset(wRef));
  ks.dbs[c.db].touch(wHandle);
  c.reply.ok();
}

function pfmergeCommand(c: ShardContext): void {
  const a = c.args;
  regs.fill(0);
  let useDense = false;
  for (let j = 1; j < a.count; j++) {
    const r = mergeKey(c, j);
    if (r < 0) return;
    if (r === 1) useDense = true;
  }
  storeMerged(c, 1, useDense);
}

/** __pfmerge_with destkey tag payload [tag payload ...]: the sources in PFMERGE's order (the destination first). */
function pfmergeWithCommand(c: ShardContext): void {
  const a = c.args;
  regs.fill(0);
  let useDense = false;
  for (let i = 2; i + 1 < a.count; i += 2) {
    const r = mergeTagged(c, i);
    if (r < 0) return;
    if (r === 1) useDense = true;
  }
  storeMerged(c, 1, useDense);
}

/**
 * __pf_fetch key [key ...]: for each key a tag and a payload: "v" and the
 * value of a valid HLL, "n" (missing), "w" (not a string), "x" (a string
 * that is not an HLL), "i" (too long to be a valid sparse HLL).
 */
function pfFetchCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const u8 = ks.arena.u8;
  c.reply.array(2 * (a.count - 1));
  for (let i = 1; i < a.count; i++) {
    const ref = ks.lookupRead(c.db, a.u8, a.off[i], a.len[i]);
    let tag = TAG_VALUE;
    if (ref === 0) tag = TAG_MISSING;
    else if (ks.typeOf(ref) !== TYPE_STRING) tag = TAG_WRONGTYPE;
    else if (!isHllValue(u8, ks.stringOffset(ref), ks.stringLength(ref))) tag = TAG_NOT_HLL;
    else if (ks.stringLength(ref) > SPARSE_MAX_VALID) tag = TAG_INVALID;
    c.reply.bulkString(tag);
    if (tag === TAG_VALUE) c.reply.bulk(u8, ks.stringOffset(ref), ks.stringLength(ref));
    else c.reply.bulkString('');
  }
}

// -- PFDEBUG ----------------------------------------------------------------------------

function pfdebugCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const [kb, ko, kl] = keyArgs(c, 2);
  const ref = ks.lookupWrite(c.db, kb, ko, kl);
  if (ref === 0) {
    c.reply.error('ERR The specified key does not exist');
    return;
  }
  if (!checkHll(c, ref)) return;
  ks.setEncoding(ref, ENC_RAW);
  wRef = ref;
  wHandle = ks.handle;
  const u8 = ks.arena.u8;
  const s = ks.stringOffset(ref);
  if (a.is(1, 'getreg') || a.is(1, 'todense')) {
    const sparse = encodingOf(u8, s) === HLL_SPARSE;
    if (sparse) {
      if (!promote(c)) {
        c.reply.error(ERR_INVALID_HLL);
        return;
      }
      ks.dbs[c.db].touch(wHandle);
    }
    if (a.is(1, 'todense')) {
      c.reply.int(sparse ? 1 : 0);
      return;
    }
    const r = ks.stringOffset(wRef) + HLL_HEADER_BYTES;
    c.reply.array(HLL_REGISTERS);
    for (let j = 0; j < HLL_REGISTERS; j++) c.reply.int(denseGet(u8, r, j));
  } else if (a.is(1, 'decode')) {
    if (encodingOf(u8, s) !== HLL_SPARSE) {
      c.reply.error('ERR HLL encoding is not sparse');
      return;
    }
    c.reply.bulkString(sparseDecode(u8, s, ks.stringLength(ref)));
  } else if (a.is(1, 'encoding')) {
    c.reply.simple(encodingOf(u8, s) === HLL_DENSE ? 'dense' : 'sparse');
  } else {
    c.reply.error(`ERR Unknown PFDEBUG subcommand '${a.str(1)}'`);
  }
}

// -- PFSELFTEST -------------------------------------------------------------------------

/** A sparse-then-dense HLL in a private buffer (PFSELFTEST), with the same code as the arena's. */
class ScratchHll {
  buf = new Uint8Array(256);
  len = 0;

  constructor() {
    const v = emptySparse();
    this.buf.set(v);
    this.len = v.length;
  }

  raise(index: number, count: number, maxBytes: number): void {
    if (this.buf[4] === HLL_DENSE) {
      denseRaise(this.buf, HLL_HEADER_BYTES, index, count);
      return;
    }
    if (this.buf.length < this.len + 4) {
      const b = new Uint8Array((this.len + 4) * 2);
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
    }
    const r = sparseSet(this.buf, 0, this.len, index, count, maxBytes);
    if (r >= 0) {
      this.len = r;
      return;
    }
    const dense = new Uint8Array(HLL_REGISTERS);
    if (r === SPARSE_INVALID || !sparseMaxInto(this.buf, 0, this.len, dense)) throw new Error('corrupted scratch HLL');
    const b = new Uint8Array(HLL_DENSE_BYTES + 1);
    b.set(this.buf.subarray(0, HLL_HEADER_BYTES));
    b[4] = HLL_DENSE;
    densePack(dense, b, HLL_HEADER_BYTES);
    denseSet(b, HLL_HEADER_BYTES, index, count);
    this.buf = b;
    this.len = HLL_DENSE_BYTES;
  }
}

/** Redis's two self tests: register access, then 10M elements into a dense and a sparse HLL compared at powers of ten. */
function pfselftestCommand(c: ShardContext): void {
  const maxBytes = sparseMaxBytes(c);
  const dense = new Uint8Array(HLL_DENSE_BYTES + 1);
  const bytes = new Uint8Array(HLL_REGISTERS);
  for (let cycle = 0; cycle < 1000; cycle++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = (Math.random() * 64) | 0;
      bytes[i] = r;
      denseSet(dense, HLL_HEADER_BYTES, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(dense, HLL_HEADER_BYTES, i);
      if (v !== bytes[i]) {
        c.reply.error(`TESTFAILED Register ${i} should be ${bytes[i]} but is ${v}`);
        return;
      }
    }
  }
  dense.fill(0);
  dense.set(emptySparse().subarray(0, 4));
  dense[4] = HLL_DENSE;
  const sparse = new ScratchHll();
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedLo = (Math.random() * 4294967296) >>> 0;
  const seedHi = (Math.random() * 4294967296) >>> 0;
  const ele = new Uint8Array(8);
  const view = new DataView(ele.buffer);
  let checkpoint = 1;
  for (let j = 1; j <= 10_000_000; j++) {
    view.setUint32(0, (j ^ seedLo) >>> 0, true);
    view.setUint32(4, seedHi, true);
    const count = patLen(ele, 0, 8);
    denseRaise(dense, HLL_HEADER_BYTES, patIndex, count);
    sparse.raise(patIndex, count, maxBytes);
    if (j !== checkpoint) continue;
    if (j < Math.floor(maxBytes / 2) && sparse.buf[4] !== HLL_SPARSE) {
      c.reply.error('TESTFAILED sparse encoding not used');
      return;
    }
    const card = countValue(dense, 0, HLL_DENSE_BYTES);
    if (card !== countValue(sparse.buf, 0, sparse.len)) {
      c.reply.error('TESTFAILED dense/sparse disagree');
      return;
    }
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    const abserr = Math.abs(checkpoint - card);
    if (abserr > maxerr) {
      c.reply.error(`TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
      return;
    }
    checkpoint *= 10;
  }
  c.reply.ok();
}

// ---------------------------------------------------------------------------

function hll(spec: Omit<CommandSpec, 'group'>): CommandSpec {
  return { ...spec, group: 'hyperloglog' };
}

export const hyperloglogCommands: CommandSpec[] = [
  hll({
    name: 'pfadd', arity: -2, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '2.8.9',
    summary: 'Adds the specified elements to the specified HyperLogLog.', complexity: 'O(1) to add every element.',
    shard: pfaddCommand,
  }),
  hll({
    name: 'pfcount', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: -1, keyStep: 1, since: '2.8.9',
    summary: 'Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).',
    complexity: 'O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.',
    shard: pfcountCommand, multi: 'coordinated',
  }),
  hll({
    name: 'pfmerge', arity: -2, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, keyStep: 1, since: '2.8.9',
    summary: 'Merge N different HyperLogLogs into a single one.',
    complexity: 'O(N) to merge N HyperLogLogs, but with high constant times.',
    shard: pfmergeCommand, multi: 'coordinated',
  }),
  hll({
    name: 'pfdebug', arity: 3, flags: ['write', 'denyoom', 'admin'], firstKey: 2, lastKey: 2, keyStep: 1, since: '2.8.9',
    summary: 'Internal commands for debugging HyperLogLog values', complexity: 'N/A', shard: pfdebugCommand,
  }),
  hll({
    name: 'pfselftest', arity: 1, flags: ['admin'], firstKey: 0, lastKey: 0, keyStep: 0, since: '2.8.9',
    summary: 'An internal command for testing HyperLogLog values', complexity: 'N/A', shard: pfselftestCommand,
  }),
  hll({
    name: PF_FETCH, arity: -2, flags: ['readonly'], firstKey: 1, lastKey: -1, keyStep: 1, since: '7.0.0',
    summary: 'Internal: tagged values of PFCOUNT/PFMERGE sources on this shard.', shard: pfFetchCommand, internal: true,
  }),
  hll({
    name: PF_COUNT_WITH, arity: -3, flags: ['readonly'], firstKey: 0, lastKey: 0, keyStep: 0, since: '7.0.0',
    summary: 'Internal: PFCOUNT of keys on several shards, computed on one.', shard: pfcountWithCommand, internal: true,
  }),
  hll({
    name: PF_MERGE_WITH, arity: -4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1, since: '7.0.0',
    summary: 'Internal: PFMERGE computed and stored on the destination\'s shard.', shard: pfmergeWithCommand,
    internal: true,
  }),
];
