import { TYPE_SET } from '../../native-layout/layout.ts';
import type { Piece } from '../store/list.ts';
import { SetStore } from '../store/set.ts';
import { globMatch } from '../util/glob.ts';
import { INT_UNSAFE, parseI64, parseI64Status, parseScanCursor } from '../util/numbers.ts';
import { ERR_NOT_INTEGER, ERR_SYNTAX } from './errors.ts';
import type { CommandSpec, ShardContext } from './types.ts';
import { argPiece, lookupRead, lookupWrite, wrongTypeFor } from './key-args.ts';

const wrongType = (c: ShardContext, ref: number): boolean => wrongTypeFor(c, ref, TYPE_SET);

// Set commands (Redis 7.0's t_set.c). Values live in src/store/set.ts; every
// write allocates before it changes anything, and a set emptied by a command
// loses its key. Commands over keys on several shards run from
// server/coordinators/sets.ts, which ships the other shards' sets here
// (__sexport) and runs the operation on one shard (__setop).

const ERR_POSITIVE = 'ERR value is out of range, must be positive';
const ERR_INVALID_CURSOR = 'ERR invalid cursor';
const LONG_MAX = 9223372036854775807;

/** A signed 64-bit argument as a number (ordered beyond 2^53); null when not an integer. */
function argLong(c: ShardContext, i: number): number | null {
  const a = c.args;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (v === v) return v;
  if (parseI64Status() !== INT_UNSAFE) return null;
  return a.u8[a.off[i]] === 45 ? -LONG_MAX - 1 : LONG_MAX;
}

/** Deletes the key of argument keyArg when its set is empty. */
function deleteIfEmpty(c: ShardContext, ref: number, keyArg: number): void {
  const ks = c.ks;
  if (ks.sets.count(ks.valueRef(ref)) !== 0) return;
  lookupWrite(c, keyArg);
  ks.deleteAt(c.db, ks.handle);
}

function replyMember(c: ShardContext): (b: Uint8Array, off: number, len: number) => void {
  return (b, off, len) => {
    c.reply.bulk(b, off, len);
  };
}

// -- single-key commands ------------------------------------------------------------

function saddCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const ref = lookupWrite(c, 1);
  if (wrongType(c, ref)) return;
  if (ref !== 0 && a.count === 3) {
    c.reply.int(ks.sets.add(ks.valueRef(ref), a.u8, a.off[2], a.len[2]));
    return;
  }
  const pieces: Piece[] = [];
  for (let i = 2; i < a.count; i++) pieces.push(argPiece(c, i));
  if (ref === 0) {
    const nref = ks.newSet(c.db, a.u8, a.off[1], a.len[1], pieces);
    c.reply.int(ks.sets.count(ks.valueRef(nref)));
    return;
  }
  c.reply.int(ks.sets.addMany(ks.valueRef(ref), pieces));
}

function sremCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (wrongType(c, ref)) return;
  const h = ks.valueRef(ref);
  let removed = 0;
  for (let i = 2; i < a.count && ks.sets.count(h) > 0; i++) removed += ks.sets.remove(h, a.u8, a.off[i], a.len[i]);
  deleteIfEmpty(c, ref, 1);
  c.reply.int(removed);
}

function sismemberCommand(c: ShardContext): void {
  const a = c.args;
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (wrongType(c, ref)) return;
  c.reply.int(c.ks.sets.has(c.ks.valueRef(ref), a.u8, a.off[2], a.len[2]) ? 1 : 0);
}

function smismemberCommand(c: ShardContext): void {
  const a = c.args;
  const ref = lookupRead(c, 1);
  if (wrongType(c, ref)) return;
  c.reply.array(a.count - 2);
  for (let i = 2; i < a.count; i++) {
    c.reply.int(ref !== 0 && c.ks.sets.has(c.ks.valueRef(ref), a.u8, a.off[i], a.len[i]) ? 1 : 0);
  }
}

function scardCommand(c: ShardContext): void {
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (wrongType(c, ref)) return;
  c.reply.int(c.ks.sets.count(c.ks.valueRef(ref)));
}

function smoveCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const src = lookupWrite(c, 1);
  const dst = lookupWrite(c, 2);
  if (src === 0) {
    c.reply.int(0);
    return;
  }
  if (wrongType(c, src) || wrongType(c, dst)) return;
  const sh = ks.valueRef(src);
  if (src === dst) {
    c.reply.int(ks.sets.has(sh, a.u8, a.off[3], a.len[3]) ? 1 : 0);
    return;
  }
  if (!ks.sets.has(sh, a.u8, a.off[3], a.len[3])) {
    c.reply.int(0);
    return;
  }
  // Into the destination first: out of memory there leaves both sets as they were.
  if (dst === 0) ks.newSet(c.db, a.u8, a.off[2], a.len[2], [argPiece(c, 3)]);
  else ks.sets.add(ks.valueRef(dst), a.u8, a.off[3], a.len[3]);
  const again = lookupWrite(c, 1);
  ks.sets.remove(ks.valueRef(again), a.u8, a.off[3], a.len[3]);
  deleteIfEmpty(c, again, 1);
  c.reply.int(1);
}

// -- random members ----------------------------------------------------------------------

/** Copies a member (the store's integer scratch is reused by the next call). */
function copyOut(b: Uint8Array, off: number, len: number): Piece {
  return { u8: b.slice(off, off + len), off: 0, len };
}

/**
 * A member to keep for the rest of the command: a member stored in the arena
 * stays where it is (a set operation changes no source set before it is done),
 * an integer formatted into the store's scratch is copied.
 */
function keep(c: ShardContext, b: Uint8Array, off: number, len: number): Piece {
  return b === c.ks.arena.u8 || b === c.args.u8 ? { u8: b, off, len } : copyOut(b, off, len);
}

/**
 * A source set of an operation: a set of this shard (its header; 0 = a
 * missing key), or a set shipped from another shard (its serialization,
 * SetStore.serialize, walked in place).
 */
type Source = number | Shipped;

interface Shipped { readonly u8: Uint8Array; readonly off: number; readonly len: number; readonly count: number }

/**
 * The source sets of one operation. Shipped members are only iterated where
 * that is enough (a union, the set a difference starts from, the smallest
 * set of an intersection); those that must answer lookups are built as
 * temporary sets in the arena first (prepare), never during a walk, and
 * freed after (release).
 */
class Sources {
  private readonly store: SetStore;
  private readonly built = new Map<Shipped, number>();

  constructor(store: SetStore) {
    this.store = store;
  }

  count(x: Source): number {
    if (typeof x !== 'number') return x.count;
    return x === 0 ? 0 : this.store.count(x);
  }

  forEach(x: Source, visit: (b: Uint8Array, off: number, len: number) => void): void {
    if (typeof x === 'number') {
      this.store.forEach(x, visit);
      return;
    }
    const u8 = x.u8;
    let p = x.off + 4;
    for (let i = 0; i < x.count; i++) {
      const l = (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24)) >>> 0;
      visit(u8, p + 4, l);
      p += 4 + l;
    }
  }

  /** Builds the shipped sets that will answer has(). All or nothing per set (OutOfMemoryError). */
  prepare(xs: readonly Source[]): void {
    for (const x of xs) {
      if (typeof x !== 'number' && !this.built.has(x)) this.built.set(x, this.store.deserialize(x.u8, x.off, x.len));
    }
  }

  has(x: Source, b: Uint8Array, off: number, len: number): boolean {
    const h = typeof x === 'number' ? x : this.built.get(x);
    if (h === undefined) throw new Error('set operation: a shipped set was not prepared');
    return this.store.has(h, b, off, len);
  }

  release(): void {
    for (const h of this.built.values()) this.store.free(h);
    this.built.clear();
  }
}

function spopCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  if (a.count > 3) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  if (a.count === 3) {
    spopWithCount(c);
    return;
  }
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  if (wrongType(c, ref)) return;
  const h = ks.valueRef(ref);
  ks.sets.step(h);
  const pos = ks.sets.randomPosition(h);
  spopTarget = c;
  ks.sets.at(h, pos, spopReply);
  ks.sets.removeAt(h, pos);
  deleteIfEmpty(c, ref, 1);
}

// SPOP's reply callback, made once rather than a closure per call.
let spopTarget: ShardContext | null = null;
function spopReply(b: Uint8Array, off: number, len: number): void {
  (spopTarget as ShardContext).reply.bulk(b, off, len);
}

/** How much bigger than the count the rest must be to pop members one by one (Redis's SPOP_MOVE_STRATEGY_MUL). */
const SPOP_MOVE_STRATEGY_MUL = 5;

function spopWithCount(c: ShardContext): void {
  const ks = c.ks;
  const sets = ks.sets;
  const count = argLong(c, 2);
  if (count === null || count < 0) {
    c.reply.error(ERR_POSITIVE);
    return;
  }
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    c.reply.set(0);
    return;
  }
  if (wrongType(c, ref)) return;
  if (count === 0) {
    c.reply.set(0);
    return;
  }
  const h = ks.valueRef(ref);
  sets.step(h);
  const size = sets.count(h);
  if (count >= size) {
    // The whole set, in its own order (sorted for an intset), then the key goes.
    c.reply.set(size);
    sets.forEach(h, replyMember(c));
    lookupWrite(c, 1);
    ks.deleteAt(c.db, ks.handle);
    return;
  }
  c.reply.set(count);
  const remaining = size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count || sets.isSmall(h)) {
    // Few to pop (or a small set): one random member at a time.
    for (let i = 0; i < count; i++) {
      sets.step(h);
      const pos = sets.randomPosition(h);
      sets.at(h, pos, replyMember(c));
      sets.removeAt(h, pos);
    }
    return;
  }
  // Most of a big set goes: pick the few that stay, give back the rest.
  const keep = new Set<number>();
  while (keep.size < remaining) keep.add(sets.randomPosition(h));
  if (sets.keepOnly(h, keep, replyMember(c))) return;
  for (let i = 0; i < count; i++) {
    const pos = sets.randomPosition(h);
    sets.at(h, pos, replyMember(c));
    sets.removeAt(h, pos);
  }
}

/** How much bigger than the count a set must be to pick members instead of dropping them (Redis's SRANDMEMBER_SUB_STRATEGY_MUL). */
const SRANDMEMBER_SUB_STRATEGY_MUL = 3;

function srandmemberCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const sets = ks.sets;
  if (a.count > 3) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  if (a.count === 2) {
    const ref = lookupRead(c, 1);
    if (ref === 0) {
      c.reply.nil();
      return;
    }
    if (wrongType(c, ref)) return;
    const h = ks.valueRef(ref);
    sets.at(h, sets.randomPosition(h), replyMember(c));
    return;
  }
  const l = argLong(c, 2);
  if (l === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return;
  }
  if (l < -LONG_MAX || (l === -LONG_MAX && c.args.len[2] === 20 && c.args.u8[c.args.off[2] + 19] === 56 /* ...808 */)) {
    c.reply.error('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
    return;
  }
  const uniq = l >= 0;
  const count = Math.abs(l);
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.array(0);
    return;
  }
  if (wrongType(c, ref)) return;
  if (count === 0) {
    c.reply.array(0);
    return;
  }
  const h = ks.valueRef(ref);
  sets.step(h);
  const size = sets.count(h);
  const emit = replyMember(c);
  if (!uniq || count === 1) {
    if (count > 0xffffffff) {
      // Redis would build this reply until memory runs out; refuse it instead.
      c.reply.error('ERR value is out of range');
      return;
    }
    c.reply.array(count);
    for (let i = 0; i < count; i++) sets.at(h, sets.randomPosition(h), emit);
    return;
  }
  if (count >= size) {
    c.reply.array(size);
    sets.forEach(h, emit);
    return;
  }
  c.reply.array(count);
  if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
    // Shuffle the positions partly (Fisher-Yates over the first `count`).
    const occupied = new Float64Array(size);
    let k = 0;
    sets.forEachPosition(h, (pos) => {
      occupied[k++] = pos;
    });
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const t = occupied[i];
      occupied[i] = occupied[j];
      occupied[j] = t;
      sets.at(h, occupied[i], emit);
    }
    return;
  }
  const picked = new Set<number>();
  while (picked.size < count) {
    const pos = sets.randomPosition(h);
    if (picked.has(pos)) continue;
    picked.add(pos);
    sets.at(h, pos, emit);
  }
}

// -- operations over several sets ------------------------------------------------------------

export const OP_INTER = 0;
export const OP_UNION = 1;
export const OP_DIFF = 2;

/**
 * Runs SINTER/SUNION/SDIFF (and their STORE and CARD forms) over set headers
 * (0 = missing key), on this shard. dstArg: the destination's argument index
 * (-1: reply the members); cardOnly: SINTERCARD's count with its limit (0: none).
 */
function runSetOp(c: ShardContext, op: number, sets: Source[], dstKey: Piece | null, cardOnly: boolean, limit: number): void {
  const src = new Sources(c.ks.sets);
  try {
    setOp(c, src, op, sets, dstKey, cardOnly, limit);
  } finally {
    src.release();
  }
}

function setOp(c: ShardContext, src: Sources, op: number, sets: Source[], dstKey: Piece | null, cardOnly: boolean,
  limit: number): void {
  const store = c.ks.sets;
  if (op === OP_INTER) {
    if (sets.some((h) => h === 0)) {
      if (dstKey !== null) {
        deleteDst(c, dstKey);
        c.reply.int(0);
      } else if (cardOnly) c.reply.int(0);
      else c.reply.set(0);
      return;
    }
    // Smallest first; on a tie a shipped set, which is then walked and never built.
    const order = sets.slice().sort((x, y) => (src.count(x) - src.count(y)) || ((typeof x === 'number' ? 1 : 0) - (typeof y === 'number' ? 1 : 0)));
    const first = order[0];
    src.prepare(order.slice(1));
    const found: Piece[] = [];
    let card = 0;
    let stop = false;
    src.forEach(first, (b, off, len) => {
      if (stop) return;
      for (let j = 1; j < order.length; j++) {
        if (order[j] === first) continue;
        if (!src.has(order[j], b, off, len)) return;
      }
      card++;
      if (cardOnly) {
        if (limit > 0 && card >= limit) stop = true;
        return;
      }
      found.push(keep(c, b, off, len));
    });
    if (cardOnly) {
      c.reply.int(card);
      return;
    }
    if (dstKey === null) {
      c.reply.set(found.length);
      for (const p of found) c.reply.bulk(p.u8, p.off, p.len);
      return;
    }
    storeResult(c, dstKey, found.length === 0 ? 0 : store.create(found));
    return;
  }
  // Union and difference go through a result set, as Redis builds them (an intset while every member is an integer).
  if (op === OP_DIFF) src.prepare(sets.slice(1).filter((x) => x !== 0));
  const result = store.createEmpty();
  try {
    if (op === OP_UNION) {
      for (const h of sets) {
        if (h === 0) continue;
        const batch: Piece[] = [];
        src.forEach(h, (b, off, len) => {
          batch.push(keep(c, b, off, len));
        });
        if (batch.length > 0) store.addMany(result, batch);
      }
    } else if (sets[0] !== 0 && !sets.slice(1).includes(sets[0])) {
      const batch: Piece[] = [];
      src.forEach(sets[0], (b, off, len) => {
        for (let j = 1; j < sets.length; j++) if (sets[j] !== 0 && src.has(sets[j], b, off, len)) return;
        batch.push(keep(c, b, off, len));
      });
      if (batch.length > 0) store.addMany(result, batch);
    }
  } catch (e) {
    store.free(result);
    throw e;
  }
  if (dstKey !== null) {
    if (store.count(result) === 0) {
      store.free(result);
      storeResult(c, dstKey, 0);
    } else storeResult(c, dstKey, result);
    return;
  }
  c.reply.set(store.count(result));
  store.forEach(result, replyMember(c));
  store.free(result);
}

function deleteDst(c: ShardContext, dst: Piece): void {
  if (c.ks.lookupWrite(c.db, dst.u8, dst.off, dst.len) !== 0) c.ks.deleteAt(c.db, c.ks.handle);
}

/** Stores a built result (0: empty, which deletes the destination) and replies its size. */
function storeResult(c: ShardContext, dst: Piece, h: number): void {
  const ks = c.ks;
  if (h === 0) {
    deleteDst(c, dst);
    c.reply.int(0);
    return;
  }
  const n = ks.sets.count(h);
  ks.lookupWrite(c.db, dst.u8, dst.off, dst.len);
  ks.putNewStructure(c.db, dst.u8, dst.off, dst.len, TYPE_SET, 0, ks.sets, h, -1);
  c.reply.int(n);
}

/** The set headers of key arguments [from, to) (0 for a missing key); null after replying WRONGTYPE. */
function setsOf(c: ShardContext, from: number, to: number): number[] | null {
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    const ref = lookupRead(c, i);
    if (wrongType(c, ref)) return null;
    out.push(ref === 0 ? 0 : c.ks.valueRef(ref));
  }
  return out;
}

function setOpCommand(op: number, store: boolean): (c: ShardContext) => void {
  return (c) => {
    const first = store ? 2 : 1;
    const sets = setsOf(c, first, c.args.count);
    if (sets === null) return;
    runSetOp(c, op, sets, store ? argPiece(c, 1) : null, false, 0);
  };
}

/** SINTERCARD's numkeys and LIMIT; null after replying an error. */
export function parseSintercard(c: ShardContext): { numkeys: number; limit: number } | null {
  const a = c.args;
  const numkeys = argLong(c, 1);
  if (numkeys === null || numkeys < 1) {
    c.reply.error('ERR numkeys should be greater than 0');
    return null;
  }
  if (numkeys > a.count - 2) {
    c.reply.error("ERR Number of keys can't be greater than number of args");
    return null;
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < a.count; j++) {
    if (a.is(j, 'limit') && j + 1 < a.count) {
      j++;
      const v = argLong(c, j);
      if (v === null || v < 0) {
        c.reply.error("ERR LIMIT can't be negative");
        return null;
      }
      limit = v;
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  return { numkeys, limit };
}

function sintercardCommand(c: ShardContext): void {
  const p = parseSintercard(c);
  if (p === null) return;
  const sets = setsOf(c, 2, 2 + p.numkeys);
  if (sets === null) return;
  runSetOp(c, OP_INTER, sets, null, true, p.limit);
}

function smembersCommand(c: ShardContext): void {
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.set(0);
    return;
  }
  if (wrongType(c, ref)) return;
  const h = c.ks.valueRef(ref);
  c.reply.set(c.ks.sets.count(h));
  c.ks.sets.forEach(h, replyMember(c));
}

// -- SSCAN ------------------------------------------------------------------------------------

/** A SCAN cursor as strtoul reads it (see server/commands/keyspace.ts); its low 32 bits, or -1 when invalid. */
/** SSCAN's cursor (Redis's strtoul rules); a set's walk uses its low 32 bits. -1 when invalid. */
function parseCursor(b: Uint8Array, off: number, len: number): number {
  const v = parseScanCursor(b, off, len);
  return v === null ? -1 : Number(v & 0xffffffffn);
}

function sscanCommand(c: ShardContext): void {
  const a = c.args;
  const cursor = parseCursor(a.u8, a.off[2], a.len[2]);
  if (cursor < 0) {
    c.reply.error(ERR_INVALID_CURSOR);
    return;
  }
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.array(2).bulkString('0').array(0);
    return;
  }
  if (wrongType(c, ref)) return;
  let count = 10;
  let pattern = -1;
  for (let i = 3; i < a.count; i++) {
    const more = a.count - i - 1;
    if (a.is(i, 'count') && more >= 1) {
      const v = argLong(c, i + 1);
      if (v === null) {
        c.reply.error(ERR_NOT_INTEGER);
        return;
      }
      if (v < 1) {
        c.reply.error(ERR_SYNTAX);
        return;
      }
      count = v;
      i++;
    } else if (a.is(i, 'match') && more >= 1) {
      pattern = i + 1;
      i++;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  // "*" matches everything: Redis skips the filter then.
  if (pattern >= 0 && a.len[pattern] === 1 && a.u8[a.off[pattern]] === 42) pattern = -1;
  const sets = c.ks.sets;
  const h = c.ks.valueRef(ref);
  const found: Piece[] = [];
  const take = (b: Uint8Array, off: number, len: number): void => {
    if (pattern >= 0 && !globMatch(a.u8, a.off[pattern], a.len[pattern], b, off, len, false)) return;
    found.push(copyOut(b, off, len));
  };
  let next = 0;
  if (sets.isSmall(h)) {
    // A small set (intset or listpack) answers whole, in one call, as Redis does.
    sets.forEach(h, take);
  } else {
    let v = cursor;
    let budget = count * 10;
    let seen = 0;
    do {
      v = sets.scanStep(h, v, (b, off, len) => {
        seen++;
        take(b, off, len);
      });
    } while (v !== 0 && seen < count && --budget > 0);
    next = v;
  }
  c.reply.array(2).bulkString(String(next)).array(found.length);
  for (const p of found) c.reply.bulk(p.u8, p.off, p.len);
}

// -- cross-shard helpers (server/coordinators/sets.ts) ------------------------------------------

/** __sprobe key...: per key, -1 missing, -2 not a set, else its cardinality. */
function sprobeInternal(c: ShardContext): void {
  const a = c.args;
  c.reply.array(a.count - 1);
  for (let i = 1; i < a.count; i++) {
    const ref = lookupRead(c, i);
    if (ref === 0) c.reply.int(-1);
    else if (c.ks.typeOf(ref) !== TYPE_SET) c.reply.int(-2);
    else c.reply.int(c.ks.sets.count(c.ks.valueRef(ref)));
  }
}

/** __sexport key: the set serialized (SetStore.serialize), nil when missing, WRONGTYPE when not a set. */
function sexportInternal(c: ShardContext): void {
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  if (wrongType(c, ref)) return;
  const bytes = c.ks.sets.serialize(c.ks.valueRef(ref));
  c.reply.bulk(bytes, 0, bytes.length);
}

/**
 * __setop <inter|union|diff|card> <dst or ""> <limit> then per source set
 * <kind> <key or payload>: kind L = a key of this shard, P = a shipped
 * serialization, M = a missing key. Runs the operation here; sets shipped in
 * are built in the arena for the command and freed after.
 */
function setopInternal(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const opName = a.lower(1);
  const op = opName === 'union' ? OP_UNION : opName === 'diff' ? OP_DIFF : OP_INTER;
  const hasDst = a.len[2] > 0;
  const limit = Number(a.str(3));
  const sets: Source[] = [];
  for (let i = 4; i + 1 < a.count; i += 2) {
    const kind = a.u8[a.off[i]];
    if (kind === 77 /* M */) sets.push(0);
    else if (kind === 76 /* L */) {
      const ref = lookupRead(c, i + 1);
      if (wrongType(c, ref)) return;
      sets.push(ref === 0 ? 0 : ks.valueRef(ref));
    } else {
      const off = a.off[i + 1];
      const len = a.len[i + 1];
      const count = SetStore.serializedCount(a.u8, off, len);
      if (count < 0) {
        c.reply.error('ERR internal: malformed set payload');
        return;
      }
      sets.push({ u8: a.u8, off, len, count });
    }
  }
  runSetOp(c, op, sets, hasDst ? argPiece(c, 2) : null, opName === 'card', limit);
}

// -- table --------------------------------------------------------------------------------------

const set = (s: Omit<CommandSpec, 'group'>): CommandSpec => ({ ...s, group: 'set' });

function internalSet(name: string, arity: number, shard: (c: ShardContext) => void): CommandSpec {
  return {
    name, arity, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '0.1.0',
    summary: 'Sabre internal command.', internal: true, shard,
  };
}

export const setCommands: readonly CommandSpec[] = [
  set({
    name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Add one or more members to a set', complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    shard: saddCommand,
  }),
  set({
    name: 'srem', arity: -3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Remove one or more members from a set', complexity: 'O(N) where N is the number of members to be removed.',
    shard: sremCommand,
  }),
  set({
    name: 'smembers', arity: 2, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Get all the members in a set', complexity: 'O(N) where N is the set cardinality.', shard: smembersCommand,
  }),
  set({
    name: 'sismember', arity: 3, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Determine if a given value is a member of a set', complexity: 'O(1)', shard: sismemberCommand,
  }),
  set({
    name: 'smismember', arity: -3, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '6.2.0',
    summary: 'Returns the membership associated with the given elements for a set', complexity: 'O(N) where N is the number of elements being checked for membership',
    shard: smismemberCommand,
  }),
  set({
    name: 'scard', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Get the number of members in a set', complexity: 'O(1)', shard: scardCommand,
  }),
  set({
    name: 'spop', arity: -2, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Remove and return one or multiple random members from a set', complexity: 'Without the count argument O(1), otherwise O(N) where N is the value of the passed count.',
    shard: spopCommand,
  }),
  set({
    name: 'srandmember', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Get one or multiple random members from a set', complexity: 'Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.',
    shard: srandmemberCommand,
  }),
  set({
    name: 'smove', arity: 4, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, keyStep: 1, since: '1.0.0',
    summary: 'Move a member from one set to another', complexity: 'O(1)', shard: smoveCommand, multi: 'coordinated',
  }),
  set({
    name: 'sinter', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: -1, keyStep: 1, since: '1.0.0',
    summary: 'Intersect multiple sets', complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.',
    shard: setOpCommand(OP_INTER, false), multi: 'coordinated',
  }),
  set({
    name: 'sintercard', arity: -3, flags: ['readonly'], firstKey: 2, lastKey: -2, keyStep: 1, keyNumArg: 1, since: '7.0.0',
    summary: 'Intersect multiple sets and return the cardinality of the result', complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.',
    shard: sintercardCommand, multi: 'coordinated',
  }),
  set({
    name: 'sinterstore', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, keyStep: 1, since: '1.0.0',
    summary: 'Intersect multiple sets and store the resulting set in a key', complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.',
    shard: setOpCommand(OP_INTER, true), multi: 'coordinated',
  }),
  set({
    name: 'sunion', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: -1, keyStep: 1, since: '1.0.0',
    summary: 'Add multiple sets', complexity: 'O(N) where N is the total number of elements in all given sets.',
    shard: setOpCommand(OP_UNION, false), multi: 'coordinated',
  }),
  set({
    name: 'sunionstore', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, keyStep: 1, since: '1.0.0',
    summary: 'Add multiple sets and store the resulting set in a key', complexity: 'O(N) where N is the total number of elements in all given sets.',
    shard: setOpCommand(OP_UNION, true), multi: 'coordinated',
  }),
  set({
    name: 'sdiff', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: -1, keyStep: 1, since: '1.0.0',
    summary: 'Subtract multiple sets', complexity: 'O(N) where N is the total number of elements in all given sets.',
    shard: setOpCommand(OP_DIFF, false), multi: 'coordinated',
  }),
  set({
    name: 'sdiffstore', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, keyStep: 1, since: '1.0.0',
    summary: 'Subtract multiple sets and store the resulting set in a key', complexity: 'O(N) where N is the total number of elements in all given sets.',
    shard: setOpCommand(OP_DIFF, true), multi: 'coordinated',
  }),
  set({
    name: 'sscan', arity: -3, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '2.8.0',
    summary: 'Incrementally iterate Set elements', complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.',
    shard: sscanCommand,
  }),
  internalSet('__sprobe', -2, sprobeInternal),
  internalSet('__sexport', 2, sexportInternal),
  internalSet('__setop', -6, setopInternal),
];

