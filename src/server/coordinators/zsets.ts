import * as resp from '../../protocol/resp.ts';
import type { Coordinator, FrontContext } from '../front-command.ts';

// Sorted-set commands whose keys live on several shards. The server holds the
// shards for the whole routine, so the phases see one consistent state.
// The heavy work never runs on the front: the inputs that live elsewhere are
// dumped by their shards (__zdump) and shipped to the shard that runs the
// command (__zwith), which treats them as if they were its own keys.

function shardOf(c: FrontContext, i: number): number {
  const a = c.argv;
  return c.srv.dispatcher.shardOf(a.u8, a.off[i], a.len[i]);
}

function isNil(reply: Buffer): boolean {
  return (reply[0] === 36 || reply[0] === 42) && reply[1] === 45 || reply[0] === 95; // $-1, *-1, _
}

/** The bytes of a bulk reply. */
function bulkBody(reply: Buffer): Buffer {
  const eol = reply.indexOf(13);
  return reply.subarray(eol + 2, reply.length - 2);
}

/**
 * Runs the command on shard `exec`, with the keys at `inputs` (argument
 * indexes) that live on other shards shipped there first. `zonly`: an input
 * must be a sorted set (a plain set is of the wrong type).
 */
async function shipAndRun(c: FrontContext, exec: number, inputs: readonly number[], zonly: boolean): Promise<Uint8Array> {
  const db = c.client.db;
  const resp3 = c.client.resp === 3;
  const a = c.argv;
  const shippedArgs: Array<string | Uint8Array> = [];
  let n = 0;
  for (const i of inputs) {
    const s = shardOf(c, i);
    if (s === exec) continue;
    const dump = await c.srv.callShard(s, '__zdump', db, [Buffer.from(a.bytes(i)), zonly ? '1' : '0'], resp3);
    if (dump[0] === 45) return dump;
    shippedArgs.push(String(i), Buffer.from(bulkBody(dump)));
    n++;
  }
  const original: Buffer[] = [];
  for (let i = 0; i < a.count; i++) original.push(Buffer.from(a.bytes(i)));
  return c.srv.callShard(exec, '__zwith', db, [String(n), ...shippedArgs, ...original], resp3);
}

/** Argument indexes of the numkeys inputs after argument `numAt` (those present). */
function inputsAfter(c: FrontContext, numAt: number): number[] {
  const a = c.argv;
  const n = Number(a.str(numAt));
  const out: number[] = [];
  for (let i = numAt + 1; i <= numAt + n && i < a.count; i++) out.push(i);
  return out;
}

/** ZUNION, ZINTER, ZDIFF, ZINTERCARD: run on the first input's shard. */
const readOp: Coordinator = (c) => {
  const inputs = inputsAfter(c, 1);
  return shipAndRun(c, shardOf(c, inputs[0]), inputs, false);
};

/** ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: run on the destination's shard. */
const storeOp: Coordinator = (c) => shipAndRun(c, shardOf(c, 1), inputsAfter(c, 2), false);

/** ZRANGESTORE dst src ...: the source goes to the destination's shard. */
const zrangestore: Coordinator = (c) => shipAndRun(c, shardOf(c, 1), [2], true);

/** ZMPOP over keys on several shards: each key in turn, on its shard, until one pops (or errs). */
const zmpop: Coordinator = async (c) => {
  const a = c.argv;
  const db = c.client.db;
  const resp3 = c.client.resp === 3;
  const numkeys = Number(a.str(1));
  const rest: Buffer[] = [];
  for (let i = 2 + numkeys; i < a.count; i++) rest.push(Buffer.from(a.bytes(i)));
  let last: Buffer = resp.nilArray(c.client.resp);
  for (let i = 2; i < 2 + numkeys; i++) {
    last = await c.srv.callShard(shardOf(c, i), 'zmpop', db, ['1', Buffer.from(a.bytes(i)), ...rest], resp3);
    if (last[0] === 45 || !isNil(last)) return last;
  }
  return last;
};

export const zsetCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['zunion', readOp],
  ['zinter', readOp],
  ['zdiff', readOp],
  ['zintercard', readOp],
  ['zunionstore', storeOp],
  ['zinterstore', storeOp],
  ['zdiffstore', storeOp],
  ['zrangestore', zrangestore],
  ['zmpop', zmpop],
];
