import { ERR_SYNTAX } from '../../commands/errors.ts';
import * as resp from '../../protocol/resp.ts';
import type { Coordinator, FrontContext } from '../front-command.ts';
import { bulkBody, isNil, popFromFirstNonEmpty, shardOf } from './shared.ts';

// LMOVE, RPOPLPUSH and LMPOP when their keys live on different shards. The
// server holds the shards for the whole routine, so the phases see one
// consistent state. LMOVE reads the element (LINDEX), pushes it on the
// destination's shard, and pops it from the source last: a destination out of
// memory (or of the wrong type) leaves both lists as they were.

async function moveGeneric(c: FrontContext, fromLeft: boolean, toLeft: boolean): Promise<Uint8Array> {
  const db = c.client.db;
  const resp3 = c.client.resp === 3;
  const src = Buffer.from(c.argv.bytes(1));
  const dst = Buffer.from(c.argv.bytes(2));
  const srcShard = shardOf(c, 1);
  const dstShard = shardOf(c, 2);
  const peek = await c.srv.callShard(srcShard, 'lindex', db, [src, fromLeft ? '0' : '-1'], resp3);
  if (peek[0] === 45 || isNil(peek)) return peek;
  const element = Buffer.from(bulkBody(peek));
  const pushed = await c.srv.callShard(dstShard, toLeft ? 'lpush' : 'rpush', db, [dst, element], resp3);
  if (pushed[0] === 45) return pushed;
  const popped = await c.srv.callShard(srcShard, fromLeft ? 'lpop' : 'rpop', db, [src], resp3);
  if (popped[0] === 45) return popped;
  return resp.bulk(element);
}

const lmove: Coordinator = (c) => {
  const a = c.argv;
  const side = (i: number): number => (a.is(i, 'left') ? 1 : a.is(i, 'right') ? 0 : -1);
  const from = side(3);
  const to = side(4);
  if (from < 0 || to < 0) return Promise.resolve(resp.error(ERR_SYNTAX));
  return moveGeneric(c, from === 1, to === 1);
};

const rpoplpush: Coordinator = (c) => moveGeneric(c, false, true);

/** LMPOP over keys on several shards: each key in turn, on its shard, until one pops. */
const lmpop: Coordinator = (c) => popFromFirstNonEmpty(c, 'lmpop');

export const listCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['lmove', lmove],
  ['rpoplpush', rpoplpush],
  ['lmpop', lmpop],
];
