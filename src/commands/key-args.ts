import type { Piece } from '../store/list.ts';
import { ERR_WRONGTYPE } from './errors.ts';
import type { ShardContext } from './types.ts';

// Reading a command's key and value arguments, shared by the collection
// families: the lookup of key argument i, an argument as a byte piece, and
// the WRONGTYPE check every family makes before it touches a value.

/** The live entry of key argument i for writing (0 when missing); leaves its slot in ks.handle. */
export function lookupWrite(c: ShardContext, i: number): number {
  const a = c.args;
  return c.ks.lookupWrite(c.db, a.u8, a.off[i], a.len[i]);
}

/** The live entry of key argument i for reading (0 when missing). */
export function lookupRead(c: ShardContext, i: number): number {
  const a = c.args;
  return c.ks.lookupRead(c.db, a.u8, a.off[i], a.len[i]);
}

/** Argument i as a byte piece of the request (valid for the command). */
export function argPiece(c: ShardContext, i: number): Piece {
  const a = c.args;
  return { u8: a.u8, off: a.off[i], len: a.len[i] };
}

/** argPiece into an existing piece (a handler's reused scratch). */
export function setArgPiece(p: Piece, c: ShardContext, i: number): void {
  const a = c.args;
  p.u8 = a.u8;
  p.off = a.off[i];
  p.len = a.len[i];
}

/** Replies WRONGTYPE and returns true when entry ref exists and holds another type than `type`. */
export function wrongTypeFor(c: ShardContext, ref: number, type: number): boolean {
  if (ref !== 0 && c.ks.typeOf(ref) !== type) {
    c.reply.error(ERR_WRONGTYPE);
    return true;
  }
  return false;
}
