import { TYPE_LIST } from '../../native-layout/layout.ts';
import { HEAD, TAIL, type Piece } from '../store/list.ts';
import { INT_UNSAFE, parseI64, parseI64Big, parseI64Status } from '../util/numbers.ts';
import { ERR_NO_SUCH_KEY, ERR_NOT_INTEGER, ERR_OUT_OF_RANGE, ERR_SYNTAX, errArity } from './errors.ts';
import type { CommandSpec, ShardContext } from './types.ts';
import { argPiece, lookupRead, lookupWrite, wrongTypeFor } from './key-args.ts';

const wrongType = (c: ShardContext, ref: number): boolean => wrongTypeFor(c, ref, TYPE_LIST);

// List commands (Redis 7.0's t_list.c). Values live in src/store/list.ts;
// every write allocates before it changes anything, and a list emptied by a
// command loses its key.

const ERR_POSITIVE = 'ERR value is out of range, must be positive';
const ERR_COUNT_POSITIVE = 'ERR count should be greater than 0';
const ERR_NUMKEYS = 'ERR numkeys should be greater than 0';
const ERR_RANK_ZERO = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

/** A signed 64-bit argument as a number (exact up to 2^53, ordered beyond); null when not an integer. */
function argLong(c: ShardContext, i: number): number | null {
  const a = c.args;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (v === v) return v;
  if (parseI64Status() !== INT_UNSAFE) return null;
  return Number(parseI64Big(a.u8, a.off[i], a.len[i]));
}

/** Deletes the key at ks.handle when its list is empty (lookup just before). */
function deleteIfEmpty(c: ShardContext, ref: number, keyArg: number): void {
  const ks = c.ks;
  if (ks.lists.count(ks.valueRef(ref)) !== 0) return;
  lookupWrite(c, keyArg);
  ks.deleteAt(c.db, ks.handle);
}

function replyElements(c: ShardContext): (off: number, len: number) => void {
  const u8 = c.ks.arena.u8;
  return (off, len) => {
    c.reply.bulk(u8, off, len);
  };
}

// -- pushes --------------------------------------------------------------------

function pushGeneric(c: ShardContext, side: number, onlyExisting: boolean): void {
  const a = c.args;
  const ks = c.ks;
  const ref = lookupWrite(c, 1);
  if (wrongType(c, ref)) return;
  if (ref !== 0 && a.count === 3) {
    const h = ks.valueRef(ref);
    if (ks.lists.pushOne(h, side, a.u8, a.off[2], a.len[2])) {
      c.reply.int(ks.lists.count(h));
      return;
    }
  }
  const pieces: Piece[] = [];
  for (let i = 2; i < a.count; i++) pieces.push(argPiece(c, i));
  if (ref === 0) {
    if (onlyExisting) {
      c.reply.int(0);
      return;
    }
    ks.newList(c.db, a.u8, a.off[1], a.len[1], side, pieces);
    c.reply.int(pieces.length);
    return;
  }
  const h = ks.valueRef(ref);
  ks.lists.push(h, side, pieces);
  c.reply.int(ks.lists.count(h));
}

// -- pops ----------------------------------------------------------------------

function popGeneric(c: ShardContext, side: number): void {
  const a = c.args;
  if (a.count > 3) {
    c.reply.error(errArity(a.lower(0)));
    return;
  }
  let count = 1;
  const hasCount = a.count === 3;
  if (hasCount) {
    const n = argLong(c, 2);
    if (n === null || n < 0) {
      c.reply.error(ERR_POSITIVE);
      return;
    }
    count = n;
  }
  const ks = c.ks;
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    if (hasCount) c.reply.nilArray();
    else c.reply.nil();
    return;
  }
  if (wrongType(c, ref)) return;
  const h = ks.valueRef(ref);
  if (hasCount && count === 0) {
    c.reply.array(0);
    return;
  }
  if (hasCount) c.reply.array(Math.min(count, ks.lists.count(h)));
  ks.lists.pop(h, side, count, replyElements(c));
  deleteIfEmpty(c, ref, 1);
}

// -- reads ---------------------------------------------------------------------

function llenCommand(c: ShardContext): void {
  const ref = lookupRead(c, 1);
  if (wrongType(c, ref)) return;
  c.reply.int(ref === 0 ? 0 : c.ks.lists.count(c.ks.valueRef(ref)));
}

function lrangeCommand(c: ShardContext): void {
  let start = argLong(c, 2);
  let end = argLong(c, 3);
  if (start === null || end === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return;
  }
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.array(0);
    return;
  }
  if (wrongType(c, ref)) return;
  const ks = c.ks;
  const h = ks.valueRef(ref);
  const len = ks.lists.count(h);
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) {
    c.reply.array(0);
    return;
  }
  if (end >= len) end = len - 1;
  c.reply.array(end - start + 1);
  ks.lists.range(h, start, end, replyElements(c));
}

/**
 * Argument 2 as an index into the list at `ref` (negative counts from the
 * tail): the index, -1 when it is out of range, or null once an error was
 * replied (WRONGTYPE, not an integer). LINDEX and LSET read it alike.
 */
function indexArg(c: ShardContext, ref: number): number | null {
  if (wrongType(c, ref)) return null;
  let i = argLong(c, 2);
  if (i === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return null;
  }
  const len = c.ks.lists.count(c.ks.valueRef(ref));
  if (i < 0) i += len;
  return i < 0 || i >= len ? -1 : i;
}

function lindexCommand(c: ShardContext): void {
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  const i = indexArg(c, ref);
  if (i === null) return;
  if (i < 0) {
    c.reply.nil();
    return;
  }
  const ks = c.ks;
  const p = ks.lists.elementAt(ks.valueRef(ref), i);
  c.reply.bulk(ks.arena.u8, p + 4, ks.lists.elemLen(p));
}

// -- in-place writes -------------------------------------------------------------

function lsetCommand(c: ShardContext): void {
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    c.reply.error(ERR_NO_SUCH_KEY);
    return;
  }
  const i = indexArg(c, ref);
  if (i === null) return;
  if (i < 0) {
    c.reply.error(ERR_OUT_OF_RANGE);
    return;
  }
  c.ks.lists.set(c.ks.valueRef(ref), i, argPiece(c, 3));
  c.reply.ok();
}

function linsertCommand(c: ShardContext): void {
  const a = c.args;
  let after: boolean;
  if (a.is(2, 'after')) after = true;
  else if (a.is(2, 'before')) after = false;
  else {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (wrongType(c, ref)) return;
  const ks = c.ks;
  const h = ks.valueRef(ref);
  const at = ks.lists.indexOf(h, argPiece(c, 3));
  if (at < 0) {
    c.reply.int(-1);
    return;
  }
  ks.lists.insertAt(h, at, after, argPiece(c, 4));
  c.reply.int(ks.lists.count(h));
}

function lremCommand(c: ShardContext): void {
  const count = argLong(c, 2);
  if (count === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return;
  }
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  if (wrongType(c, ref)) return;
  const ks = c.ks;
  const removed = ks.lists.remove(ks.valueRef(ref), count, argPiece(c, 3));
  deleteIfEmpty(c, ref, 1);
  c.reply.int(removed);
}

function ltrimCommand(c: ShardContext): void {
  let start = argLong(c, 2);
  let end = argLong(c, 3);
  if (start === null || end === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return;
  }
  const ref = lookupWrite(c, 1);
  if (ref === 0) {
    c.reply.ok();
    return;
  }
  if (wrongType(c, ref)) return;
  const ks = c.ks;
  const h = ks.valueRef(ref);
  const len = ks.lists.count(h);
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  let left: number;
  let right: number;
  if (start > end || start >= len) {
    left = len;
    right = 0;
  } else {
    if (end >= len) end = len - 1;
    left = start;
    right = len - end - 1;
  }
  ks.lists.pop(h, HEAD, left, null);
  ks.lists.pop(h, TAIL, right, null);
  deleteIfEmpty(c, ref, 1);
  c.reply.ok();
}

// -- LPOS ----------------------------------------------------------------------

function lposCommand(c: ShardContext): void {
  const a = c.args;
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < a.count; j++) {
    const more = a.count - j - 1;
    if (a.is(j, 'rank') && more > 0) {
      j++;
      const v = argLong(c, j);
      if (v === null) {
        c.reply.error(ERR_NOT_INTEGER);
        return;
      }
      if (v === 0) {
        c.reply.error(ERR_RANK_ZERO);
        return;
      }
      rank = v;
    } else if (a.is(j, 'count') && more > 0) {
      j++;
      const v = argLong(c, j);
      if (v === null || v < 0) {
        c.reply.error(v === null ? ERR_NOT_INTEGER : "ERR COUNT can't be negative");
        return;
      }
      count = v;
    } else if (a.is(j, 'maxlen') && more > 0) {
      j++;
      const v = argLong(c, j);
      if (v === null || v < 0) {
        c.reply.error(v === null ? ERR_NOT_INTEGER : "ERR MAXLEN can't be negative");
        return;
      }
      maxlen = v;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const ref = lookupRead(c, 1);
  if (ref === 0) {
    if (count >= 0) c.reply.array(0);
    else c.reply.nil();
    return;
  }
  if (wrongType(c, ref)) return;
  const ks = c.ks;
  const h = ks.valueRef(ref);
  const want = argPiece(c, 2);
  const found: number[] = [];
  const limit = count === 0 ? Infinity : count < 0 ? 1 : count;
  // Redis 7.0 negates RANK in a signed long: -2^63 stays negative and then
  // matches from the first hit at the tail, as RANK -1 does.
  if (rank <= -9223372036854775808) rank = -1;
  let toSkip = Math.abs(rank) - 1;
  let seen = 0;
  const visit = (off: number, len: number, index: number): boolean => {
    if (maxlen !== 0 && seen >= maxlen) return false;
    seen++;
    if (ks.lists.equals(off, len, want)) {
      if (toSkip > 0) toSkip--;
      else {
        found.push(index);
        if (found.length >= limit) return false;
      }
    }
    return true;
  };
  if (rank > 0) {
    let index = 0;
    let stop = false;
    const total = ks.lists.count(h);
    ks.lists.range(h, 0, total - 1, (off, len) => {
      if (!stop && !visit(off, len, index)) stop = true;
      index++;
    });
  } else {
    ks.lists.reverse(h, visit);
  }
  if (count < 0) {
    if (found.length === 0) c.reply.nil();
    else c.reply.int(found[0]);
    return;
  }
  c.reply.array(found.length);
  for (const i of found) c.reply.int(i);
}

// -- LMOVE, RPOPLPUSH, LMPOP (one shard; across shards see server/coordinators/lists.ts) ----

function parseSide(c: ShardContext, i: number): number {
  const a = c.args;
  if (a.is(i, 'left')) return HEAD;
  if (a.is(i, 'right')) return TAIL;
  return -1;
}

function moveGeneric(c: ShardContext, from: number, to: number): void {
  const a = c.args;
  const ks = c.ks;
  const src = lookupWrite(c, 1);
  if (src === 0) {
    c.reply.nil();
    return;
  }
  if (wrongType(c, src)) return;
  const dst = lookupWrite(c, 2);
  if (wrongType(c, dst)) return;
  const sh = ks.valueRef(src);
  // The element is copied into the destination before it leaves the source
  // (so an OOM changes nothing); copy it out first, as the source may be the destination.
  const p = from === HEAD ? ks.lists.elementAt(sh, 0) : ks.lists.elementAt(sh, ks.lists.count(sh) - 1);
  const len = ks.lists.elemLen(p);
  const value = ks.arena.u8.slice(p + 4, p + 4 + len);
  const piece: Piece = { u8: value, off: 0, len };
  if (dst === 0) ks.newList(c.db, a.u8, a.off[2], a.len[2], to, [piece]);
  else ks.lists.push(ks.valueRef(dst), to, [piece]);
  const again = lookupWrite(c, 1);
  ks.lists.pop(ks.valueRef(again), from, 1, null);
  deleteIfEmpty(c, again, 1);
  c.reply.bulk(value, 0, len);
}

function lmoveCommand(c: ShardContext): void {
  const from = parseSide(c, 3);
  const to = parseSide(c, 4);
  if (from < 0 || to < 0) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  moveGeneric(c, from, to);
}

function rpoplpushCommand(c: ShardContext): void {
  moveGeneric(c, TAIL, HEAD);
}

/** Parses LMPOP's arguments: numkeys, side, count; null after replying an error. */
export function parseLmpop(c: ShardContext): { numkeys: number; side: number; count: number } | null {
  const a = c.args;
  const numkeys = argLong(c, 1);
  if (numkeys === null || numkeys <= 0) {
    c.reply.error(ERR_NUMKEYS);
    return null;
  }
  const sidePos = 2 + numkeys;
  if (sidePos >= a.count) {
    c.reply.error(ERR_SYNTAX);
    return null;
  }
  const side = parseSide(c, sidePos);
  if (side < 0) {
    c.reply.error(ERR_SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = sidePos + 1; j < a.count; j++) {
    if (count < 0 && a.is(j, 'count') && j + 1 < a.count) {
      j++;
      const v = argLong(c, j);
      if (v === null || v <= 0) {
        c.reply.error(ERR_COUNT_POSITIVE);
        return null;
      }
      count = v;
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  return { numkeys, side, count: count < 0 ? 1 : count };
}

function lmpopCommand(c: ShardContext): void {
  const p = parseLmpop(c);
  if (p === null) return;
  const ks = c.ks;
  for (let i = 2; i < 2 + p.numkeys; i++) {
    const ref = lookupWrite(c, i);
    if (ref === 0) continue;
    if (wrongType(c, ref)) return;
    const h = ks.valueRef(ref);
    const n = Math.min(p.count, ks.lists.count(h));
    c.reply.array(2);
    c.reply.bulk(c.args.u8, c.args.off[i], c.args.len[i]);
    c.reply.array(n);
    ks.lists.pop(h, p.side, n, replyElements(c));
    deleteIfEmpty(c, ref, i);
    return;
  }
  c.reply.nilArray();
}

// -- table -----------------------------------------------------------------------

const list = (s: Omit<CommandSpec, 'group'>): CommandSpec => ({ ...s, group: 'list' });

export const listCommands: readonly CommandSpec[] = [
  list({
    name: 'lpush', arity: -3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Prepend one or multiple elements to a list', complexity: 'O(1) for each element added',
    shard: (c) => pushGeneric(c, HEAD, false),
  }),
  list({
    name: 'rpush', arity: -3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Append one or multiple elements to a list', complexity: 'O(1) for each element added',
    shard: (c) => pushGeneric(c, TAIL, false),
  }),
  list({
    name: 'lpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '2.2.0',
    summary: 'Prepend an element to a list, only if the list exists', complexity: 'O(1) for each element added',
    shard: (c) => pushGeneric(c, HEAD, true),
  }),
  list({
    name: 'rpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '2.2.0',
    summary: 'Append an element to a list, only if the list exists', complexity: 'O(1) for each element added',
    shard: (c) => pushGeneric(c, TAIL, true),
  }),
  list({
    name: 'lpop', arity: -2, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Remove and get the first elements in a list', complexity: 'O(N) where N is the number of elements returned',
    shard: (c) => popGeneric(c, HEAD),
  }),
  list({
    name: 'rpop', arity: -2, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Remove and get the last elements in a list', complexity: 'O(N) where N is the number of elements returned',
    shard: (c) => popGeneric(c, TAIL),
  }),
  list({
    name: 'llen', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Get the length of a list', complexity: 'O(1)', shard: llenCommand,
  }),
  list({
    name: 'lrange', arity: 4, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Get a range of elements from a list', complexity: 'O(S+N)', shard: lrangeCommand,
  }),
  list({
    name: 'lindex', arity: 3, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Get an element from a list by its index', complexity: 'O(N)', shard: lindexCommand,
  }),
  list({
    name: 'lset', arity: 4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Set the value of an element in a list by its index', complexity: 'O(N)', shard: lsetCommand,
  }),
  list({
    name: 'linsert', arity: 5, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1, since: '2.2.0',
    summary: 'Insert an element before or after another element in a list', complexity: 'O(N)', shard: linsertCommand,
  }),
  list({
    name: 'lrem', arity: 4, flags: ['write'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Remove elements from a list', complexity: 'O(N+M)', shard: lremCommand,
  }),
  list({
    name: 'ltrim', arity: 4, flags: ['write'], firstKey: 1, lastKey: 1, keyStep: 1, since: '1.0.0',
    summary: 'Trim a list to the specified range', complexity: 'O(N)', shard: ltrimCommand,
  }),
  list({
    name: 'lpos', arity: -3, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, since: '6.0.6',
    summary: 'Return the index of matching elements on a list', complexity: 'O(N)', shard: lposCommand,
  }),
  list({
    name: 'lmove', arity: 5, flags: ['write', 'denyoom'], sizeBound: true, firstKey: 1, lastKey: 2, keyStep: 1, since: '6.2.0',
    summary: 'Pop an element from a list, push it to another list and return it', complexity: 'O(1)',
    shard: lmoveCommand, multi: 'coordinated',
  }),
  list({
    name: 'rpoplpush', arity: 3, flags: ['write', 'denyoom'], sizeBound: true, firstKey: 1, lastKey: 2, keyStep: 1, since: '1.2.0',
    summary: 'Remove the last element in a list, prepend it to another list and return it', complexity: 'O(1)',
    shard: rpoplpushCommand, multi: 'coordinated',
  }),
  list({
    name: 'lmpop', arity: -4, flags: ['write'], firstKey: 2, lastKey: -2, keyStep: 1, keyNumArg: 1, since: '7.0.0',
    summary: 'Pop elements from a list', complexity: 'O(N+M)', shard: lmpopCommand, multi: 'coordinated',
  }),
];
