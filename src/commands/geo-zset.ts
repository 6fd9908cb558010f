import { TYPE_ZSET } from '../../native-layout/layout.ts';
import { OutOfMemoryError } from '../store/arena.ts';
import { compareBytes, type ZEntry } from '../store/zset.ts';
import { ERR_WRONGTYPE } from './errors.ts';
import type { ShardContext } from './types.ts';

// What the geo commands need of a sorted set, on the zset store
// (src/store/zset.ts): a member's score, the members of a score range in
// order, ZADD's core for GEOADD, and replacing a key with a new set (STORE).
// Kept apart so geo.ts never depends on the store's layout.

/** The score of a member of the zset at entry `ref`, NaN when absent. */
export function geoZsetScore(c: ShardContext, ref: number, b: Uint8Array, o: number, l: number): number {
  const ks = c.ks;
  return ks.zsets.score(ks.valueRef(ref), b, o, l);
}

/**
 * Visits the elements with min <= score < max in set order (score, then
 * member bytes) as (position, score); `visit` returns false to stop. A
 * position names the element until the next write (geoZsetMemberOff/Len).
 */
export function geoZsetRange(c: ShardContext, ref: number, min: number, max: number,
  visit: (pos: number, score: number) => boolean): void {
  const zs = c.ks.zsets;
  const h = c.ks.valueRef(ref);
  const rank = zs.scoreRank(h, min, false);
  if (rank >= zs.count(h)) return;
  for (let p = zs.atRank(h, rank); p !== 0; p = zs.next(h, p)) {
    const score = zs.scoreAt(p);
    if (!(score < max)) return;
    if (!visit(p, score)) return;
  }
}

/** Where the member of the element at `pos` of the zset at entry `ref` starts in the arena. */
export function geoZsetMemberOff(c: ShardContext, ref: number, pos: number): number {
  return c.ks.zsets.memberOff(c.ks.valueRef(ref), pos);
}

/** The length of the member of the element at `pos`. */
export function geoZsetMemberLen(c: ShardContext, pos: number): number {
  return c.ks.zsets.memberLen(pos);
}

/**
 * GEOADD's ZADD: members at arguments first+2, first+5, ... get `scores`,
 * with NX / XX / CH as ZADD reads them. Replies the count. All or nothing: an
 * OutOfMemoryError undoes what the command had done before rethrowing.
 */
export function geoZsetAdd(c: ShardContext, keyArg: number, first: number, scores: readonly number[],
  nx: boolean, xx: boolean, ch: boolean): void {
  const a = c.args;
  const ks = c.ks;
  const zs = ks.zsets;
  let ref = ks.lookupWrite(c.db, a.u8, a.off[keyArg], a.len[keyArg]);
  if (ref !== 0 && ks.typeOf(ref) !== TYPE_ZSET) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  if (ref === 0) {
    if (xx || scores.length === 0) {
      c.reply.int(0);
      return;
    }
    const m = first + 2;
    const h = zs.create(zs.encodingFor(1, a.len[m]));
    try {
      zs.insert(h, a.u8, a.off[m], a.len[m], scores[0]);
    } catch (e) {
      zs.free(h);
      throw e;
    }
    ref = ks.putNewStructure(c.db, a.u8, a.off[keyArg], a.len[keyArg], TYPE_ZSET, zs.encoding(h), zs, h, -1);
    if (scores.length === 1) {
      c.reply.int(1);
      return;
    }
    addMembers(c, ref, first, scores, 1, nx, xx, ch, 1);
    return;
  }
  addMembers(c, ref, first, scores, 0, nx, xx, ch, 0);
}

function addMembers(c: ShardContext, ref: number, first: number, scores: readonly number[], from: number,
  nx: boolean, xx: boolean, ch: boolean, addedBefore: number): void {
  const a = c.args;
  const ks = c.ks;
  const zs = ks.zsets;
  const h = ks.valueRef(ref);
  let added = addedBefore;
  let updated = 0;
  // What to undo on OutOfMemoryError: argument index of a member, its old score (NaN: it was new).
  const undoArg: number[] = [];
  const undoScore: number[] = [];
  try {
    for (let e = from; e < scores.length; e++) {
      const m = first + e * 3 + 2;
      const p = zs.find(h, a.u8, a.off[m], a.len[m]);
      if (p !== 0) {
        if (nx) continue;
        const old = zs.scoreAt(p);
        if (old !== scores[e]) {
          zs.setScore(h, p, scores[e]);
          undoArg.push(m);
          undoScore.push(old);
          updated++;
        }
      } else {
        if (xx) continue;
        zs.insert(h, a.u8, a.off[m], a.len[m], scores[e]);
        undoArg.push(m);
        undoScore.push(NaN);
        added++;
      }
    }
  } catch (err) {
    if (err instanceof OutOfMemoryError) {
      for (let i = undoArg.length - 1; i >= 0; i--) {
        const m = undoArg[i];
        const p = zs.find(h, a.u8, a.off[m], a.len[m]);
        if (undoScore[i] !== undoScore[i]) zs.remove(h, p);
        else zs.setScore(h, p, undoScore[i]);
      }
      if (addedBefore > 0) {
        // The key was created by this command: it goes too.
        ks.lookupWrite(c.db, a.u8, a.off[1], a.len[1]);
        ks.deleteAt(c.db, ks.handle);
      } else {
        // An insert may have converted the set before the one that failed.
        ks.setEncoding(ref, zs.encoding(h));
      }
    }
    throw err;
  }
  ks.setEncoding(ref, zs.encoding(h));
  c.reply.int(ch ? added + updated : added);
}

/**
 * Replaces the key at argument `keyArg` with a new sorted set of the members
 * and scores (deleting it when there are none), as Redis's STORE options do,
 * whatever the key held; replies the count. All or nothing.
 */
export function geoZsetStore(c: ShardContext, keyArg: number, members: readonly Uint8Array[], scores: readonly number[]): void {
  const a = c.args;
  const ks = c.ks;
  const zs = ks.zsets;
  const ref = ks.lookupWrite(c.db, a.u8, a.off[keyArg], a.len[keyArg]);
  if (members.length === 0) {
    if (ref !== 0) ks.deleteAt(c.db, ks.handle);
    c.reply.int(0);
    return;
  }
  const entries: ZEntry[] = members.map((m, i) => ({ score: scores[i], u8: m, off: 0, len: m.length }));
  entries.sort((x, y) => (x.score < y.score ? -1 : x.score > y.score ? 1 : compareBytes(x.u8, 0, x.len, y.u8, 0, y.len)));
  const h = zs.build(entries);
  // The lookup just above left the key's slot (or its absence) for putStructure.
  ks.lookupWrite(c.db, a.u8, a.off[keyArg], a.len[keyArg]);
  ks.putNewStructure(c.db, a.u8, a.off[keyArg], a.len[keyArg], TYPE_ZSET, zs.encoding(h), zs, h, -1);
  c.reply.int(members.length);
}
