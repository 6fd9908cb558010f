import * as resp from '../../protocol/resp.ts';
import type { FrontContext } from '../front-command.ts';

// What the coordinators of every family read from their arguments and from the
// RESP replies of the internal calls they make.

/** The shard that owns argument i (a key). */
export function shardOf(c: FrontContext, i: number): number {
  const a = c.argv;
  return c.srv.dispatcher.shardOf(a.u8, a.off[i], a.len[i]);
}

/** A nil reply: `$-1`, `*-1` (RESP2) or `_` (RESP3). */
export function isNil(reply: Buffer): boolean {
  return ((reply[0] === 36 || reply[0] === 42) && reply[1] === 45) || reply[0] === 95;
}

/** The bytes of a bulk reply (not nil). */
export function bulkBody(reply: Buffer): Buffer {
  const eol = reply.indexOf(13);
  return reply.subarray(eol + 2, reply.length - 2);
}

/** The integer written from p up to its CR, and the CR's position. */
export function readNumber(b: Buffer, p: number): [number, number] {
  let neg = false;
  if (b[p] === 0x2d) {
    neg = true;
    p++;
  }
  let n = 0;
  while (b[p] !== 0x0d) n = n * 10 + (b[p++] - 0x30);
  return [neg ? -n : n, p];
}

/**
 * LMPOP / ZMPOP numkeys key... over keys on several shards: each key in turn,
 * on its shard, as the same command with that one key, until one pops or errs
 * (Redis tries the keys in order too).
 */
export async function popFromFirstNonEmpty(c: FrontContext, command: string): Promise<Buffer> {
  const a = c.argv;
  const db = c.client.db;
  const resp3 = c.client.resp === 3;
  const numkeys = Number(a.str(1));
  const rest: Buffer[] = [];
  for (let i = 2 + numkeys; i < a.count; i++) rest.push(Buffer.from(a.bytes(i)));
  let last: Buffer = resp.nilArray(c.client.resp);
  for (let i = 2; i < 2 + numkeys; i++) {
    last = await c.srv.callShard(shardOf(c, i), command, db, ['1', Buffer.from(a.bytes(i)), ...rest], resp3);
    if (last[0] === 45 || !isNil(last)) return last;
  }
  return last;
}
