import { ERR_LCS_TYPE, LCS_B_MISSING, LCS_B_STRING, LCS_B_WRONGTYPE } from '../../commands/strings.ts';
import { ERR_OOM, errArity } from '../../commands/errors.ts';
import { REQ_ARGS, REQF_MAY_USE_RESERVE } from '../../../native-layout/layout.ts';
import { LARGE_VALUE_BYTES } from '../../router/shard-link.ts';
import * as resp from '../../protocol/resp.ts';
import type { Coordinator } from '../front-command.ts';

// String commands whose keys span shards and need several phases. The server
// holds the shards for the whole routine, so the phases see one consistent
// state. The front only moves bytes; every lookup and computation runs on a
// shard.

const ONE = resp.integer(1);
const ZERO = resp.integer(0);

const OOM_REPLY = resp.error(ERR_OOM);

/** Bytes of the request record of an MSET with these arguments. */
function msetRecordBytes(args: readonly Buffer[]): number {
  let n = REQ_ARGS + 4 + 4; // header, then "mset"
  for (const a of args) n += 4 + a.length;
  return n;
}

/** Bytes of the values (every second argument) stored in runs of slabs. */
function largeValueBytes(pairs: readonly Buffer[]): number {
  let n = 0;
  for (let i = 1; i < pairs.length; i += 2) if (pairs[i].length >= LARGE_VALUE_BYTES) n += pairs[i].length;
  return n;
}

/**
 * MSETNX across shards: phase 1 asks each shard whether any of its keys
 * exists (__msetnx_probe); if none does, phase 2 sends each shard its
 * key/value pairs as an MSET.
 */
const msetnxCoordinator: Coordinator = async (c) => {
  const argv = c.argv;
  if (argv.count % 2 === 0) return resp.error(errArity('msetnx'));
  const d = c.srv.dispatcher;
  const db = c.client.db;
  // Key/value pairs per shard, in command order.
  const keys = new Map<number, Buffer[]>();
  const pairs = new Map<number, Buffer[]>();
  for (let j = 1; j < argv.count; j += 2) {
    const s = d.shardOf(argv.u8, argv.off[j], argv.len[j]);
    let k = keys.get(s);
    let p = pairs.get(s);
    if (k === undefined || p === undefined) {
      k = [];
      p = [];
      keys.set(s, k);
      pairs.set(s, p);
    }
    k.push(argv.bytes(j));
    p.push(argv.bytes(j), argv.bytes(j + 1));
  }
  const probes = await Promise.all([...keys].map(([s, k]) => c.srv.callShard(s, '__msetnx_probe', db, k)));
  for (const r of probes) {
    if (r[0] === 0x2d /* - */) return r;
  }
  for (const r of probes) {
    if (!r.equals(ZERO)) return ZERO;
  }
  // Phase 2 is all or nothing: sent only when every shard surely has room for
  // its part, which may then use the shard's reserve (docs/architecture.md,
  // "Memory exhaustion"). The shards are held, so nothing gets in between.
  const parts = [...pairs].map(([s, p]) => [s, msetRecordBytes(p), p.length / 2, largeValueBytes(p)] as const);
  if (!d.admitsWrite(parts)) return OOM_REPLY;
  const sets = await Promise.all([...pairs].map(([s, p]) => d.call(s, 'mset', db, REQF_MAY_USE_RESERVE, p)));
  for (const r of sets) {
    if (r[0] === 0x2d) return r;
  }
  return ONE;
};

/**
 * Splits a RESP2 bulk reply: the payload, null for nil, or undefined when the
 * reply is something else (an error).
 */
function bulkPayload(b: Buffer): Buffer | null | undefined {
  if (b[0] !== 0x24 /* $ */) return undefined;
  const cr = b.indexOf(13);
  const len = Number(b.toString('latin1', 1, cr));
  if (len < 0) return null;
  return b.subarray(cr + 2, cr + 2 + len);
}

const EMPTY = Buffer.alloc(0);
const LCS_TYPE_REPLY = resp.error(ERR_LCS_TYPE);

/**
 * LCS across shards: phase 1 fetches the second key's value from its shard
 * (__lcs_fetch), phase 2 runs the computation on the first key's shard with
 * that value passed in (__lcs_with), whose reply goes to the client as is.
 */
const lcsCoordinator: Coordinator = async (c) => {
  const argv = c.argv;
  const d = c.srv.dispatcher;
  const db = c.client.db;
  const shardA = d.shardOf(argv.u8, argv.off[1], argv.len[1]);
  const shardB = d.shardOf(argv.u8, argv.off[2], argv.len[2]);
  const fetched = await c.srv.callShard(shardB, '__lcs_fetch', db, [argv.bytes(2)]);
  const value = bulkPayload(fetched);
  let state: string;
  let bytes: Buffer;
  if (value === undefined) {
    // Only WRONGTYPE is expected here; anything else (OOM, internal) is returned as is.
    if (!fetched.equals(LCS_TYPE_REPLY)) return fetched;
    state = LCS_B_WRONGTYPE;
    bytes = EMPTY;
  } else if (value === null) {
    state = LCS_B_MISSING;
    bytes = EMPTY;
  } else {
    state = LCS_B_STRING;
    bytes = value;
  }
  const args: Array<string | Uint8Array> = [argv.bytes(1), state, bytes];
  for (let j = 3; j < argv.count; j++) args.push(argv.bytes(j));
  return c.srv.callShard(shardA, '__lcs_with', db, args, c.client.resp === 3);
};

/** Coordinated (multi-phase, cross-shard) strings commands, by command name. */
export const stringCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['msetnx', msetnxCoordinator],
  ['lcs', lcsCoordinator],
];
