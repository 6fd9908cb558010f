import { ERR_NO_SUCH_KEY } from '../../commands/errors.ts';
import { parseCopyOptions } from '../../commands/keys.ts';
import * as resp from '../../protocol/resp.ts';
import type { Coordinator, FrontContext } from '../front-command.ts';
import { shardOf } from './shared.ts';

// RENAME, RENAMENX and COPY when the two keys live on different shards. The
// server holds both shards for the whole routine, so the phases below see
// one consistent state. The entry travels as the payload of __take/__put
// (Keyspace.dumpEntry): value, encoding, TTL and access clock.
//
// The source is deleted last, after the destination is written, so a failed
// write (an out-of-memory shard) loses nothing.

const ZERO = resp.integer(0);
const ONE = resp.integer(1);

/** The payload of a __take reply; null for nil; throws the shard's error through as a reply. */
function payloadOf(reply: Buffer): Buffer | null {
  if (reply[0] === 45) throw new ShardError(reply);
  if (reply[1] === 45) return null;
  const eol = reply.indexOf(13);
  return reply.subarray(eol + 2, reply.length - 2);
}

/** A shard answered with an error: that error is the client's reply. */
class ShardError extends Error {
  readonly reply: Buffer;
  constructor(reply: Buffer) {
    super(reply.toString('latin1', 1, reply.length - 2));
    this.reply = reply;
  }
}

async function renameGeneric(c: FrontContext, nx: boolean): Promise<Uint8Array> {
  const db = c.client.db;
  const src = Buffer.from(c.argv.bytes(1));
  const dst = Buffer.from(c.argv.bytes(2));
  const srcShard = shardOf(c, 1);
  const dstShard = shardOf(c, 2);
  try {
    const payload = payloadOf(await c.srv.callShard(srcShard, '__take', db, [src, 'WRITE']));
    if (payload === null) return resp.error(ERR_NO_SUCH_KEY);
    const put = await c.srv.callShard(dstShard, '__put', db, [dst, payload, nx ? '0' : '1', '1', '1']);
    if (put[0] === 45) return put;
    if (put.equals(ZERO)) return ZERO; // RENAMENX and the destination exists: the source stays.
    const del = await c.srv.callShard(srcShard, 'del', db, [src]);
    if (del[0] === 45) return del;
    return nx ? ONE : resp.OK;
  } catch (e) {
    if (e instanceof ShardError) return e.reply;
    throw e;
  }
}

const rename: Coordinator = (c) => renameGeneric(c, false);
const renamenx: Coordinator = (c) => renameGeneric(c, true);

const copy: Coordinator = async (c) => {
  const db = c.client.db;
  const opts = parseCopyOptions(c.argv, db, c.srv.config.databases);
  if (typeof opts === 'string') return resp.error(opts);
  // Different shards means different key names: never the "same object" error.
  const src = Buffer.from(c.argv.bytes(1));
  const dst = Buffer.from(c.argv.bytes(2));
  const srcShard = shardOf(c, 1);
  const dstShard = shardOf(c, 2);
  try {
    const payload = payloadOf(await c.srv.callShard(srcShard, '__take', db, [src, 'READ']));
    if (payload === null) return ZERO;
    // A copy keeps the TTL but is a new object: a fresh access clock.
    return await c.srv.callShard(dstShard, '__put', opts.dstDb, [dst, payload, opts.replace ? '1' : '0', '1', '0']);
  } catch (e) {
    if (e instanceof ShardError) return e.reply;
    throw e;
  }
};

/** Coordinated (multi-phase, cross-shard) keys commands, by command name. */
export const keyCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['rename', rename],
  ['renamenx', renamenx],
  ['copy', copy],
];
