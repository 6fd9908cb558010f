import { BITOP_FETCH, BITOP_STORE, ERR_BITOP_NOT } from '../../commands/bitmaps.ts';
import { ERR_SYNTAX } from '../../commands/errors.ts';
import * as resp from '../../protocol/resp.ts';
import type { Coordinator, FrontContext } from '../front-command.ts';
import { readNumber } from './shared.ts';

// BITOP across shards. The front thread only moves bytes: phase 1 fetches the
// values of the sources that live on other shards than the destination
// (WRONGTYPE aborts), phase 2 sends them to the destination's shard, which
// reads its own sources, computes the result and stores it (__bitop_store).

const TAG_KEY = Buffer.from('k');
const TAG_VALUE = Buffer.from('v');
const TAG_NIL = Buffer.from('n');
const NOTHING = Buffer.alloc(0);

/**
 * Splits a __bitop_fetch reply (an array of bulk strings or nils) into views
 * of the values; null stands for nil. An error reply is returned as is.
 */
function splitValues(b: Buffer): Array<Buffer | null> | Buffer {
  if (b[0] !== 0x2a /* * */) return b;
  let [count, p] = readNumber(b, 1);
  p += 2;
  const out: Array<Buffer | null> = [];
  for (let i = 0; i < count; i++) {
    if (b[p] === 0x5f /* _ */) {
      out.push(null);
      p += 3;
      continue;
    }
    const [len, q] = readNumber(b, p + 1);
    p = q + 2;
    if (len < 0) {
      out.push(null);
      continue;
    }
    out.push(b.subarray(p, p + len));
    p += len + 2;
  }
  return out;
}

function isBitop(c: FrontContext): boolean {
  const a = c.argv;
  return a.is(1, 'and') || a.is(1, 'or') || a.is(1, 'xor') || a.is(1, 'not');
}

const bitopCoordinator: Coordinator = async (c, _shards) => {
  const a = c.argv;
  if (!isBitop(c)) return resp.error(ERR_SYNTAX);
  if (a.is(1, 'not') && a.count !== 4) return resp.error(ERR_BITOP_NOT);
  const d = c.srv.dispatcher;
  const db = c.client.db;
  const destShard = d.shardOf(a.u8, a.off[2], a.len[2]);
  // Sources on other shards, grouped per shard with their argument positions.
  const remote = new Map<number, number[]>();
  for (let i = 3; i < a.count; i++) {
    const s = d.shardOf(a.u8, a.off[i], a.len[i]);
    if (s === destShard) continue;
    let list = remote.get(s);
    if (list === undefined) remote.set(s, list = []);
    list.push(i);
  }
  const fetched = new Map<number, Buffer | null>();
  const groups = [...remote.entries()];
  const replies = await Promise.all(groups.map(([s, positions]) =>
    c.srv.callShard(s, BITOP_FETCH, db, positions.map((i) => a.bytes(i)))));
  for (let g = 0; g < groups.length; g++) {
    const values = splitValues(replies[g]);
    if (!Array.isArray(values)) return values;
    groups[g][1].forEach((pos, k) => fetched.set(pos, values[k] ?? null));
  }
  const args: Array<string | Uint8Array> = [a.bytes(1), a.bytes(2)];
  for (let i = 3; i < a.count; i++) {
    const v = fetched.get(i);
    if (v === undefined) args.push(TAG_KEY, a.bytes(i));
    else if (v === null) args.push(TAG_NIL, NOTHING);
    else args.push(TAG_VALUE, v);
  }
  return c.srv.callShard(destShard, BITOP_STORE, db, args);
};

/** Coordinated (multi-phase, cross-shard) bitmaps commands, by command name. */
export const bitmapCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['bitop', bitopCoordinator],
];
