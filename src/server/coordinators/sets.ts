import { ERR_SYNTAX, ERR_WRONGTYPE } from '../../commands/errors.ts';
import { parseReply } from '../../protocol/reply-reader.ts';
import * as resp from '../../protocol/resp.ts';
import { INT_UNSAFE, parseI64, parseI64Status } from '../../util/numbers.ts';
import type { Coordinator, FrontContext } from '../front-command.ts';
import { bulkBody, isNil, shardOf } from './shared.ts';

// Set commands whose keys live on several shards. The server holds the shards
// for the whole routine, so the phases see one consistent state. The front
// only asks and forwards: every key's type and size is probed on its shard
// (__sprobe), the sets of the other shards are shipped to the one that does
// the work (__sexport), and that shard runs the operation (__setop): the
// destination's shard for the STORE forms, else the shard that holds the most
// members (so the smaller sets travel). SMOVE adds on the destination's shard
// before it removes from the source: an error there changes nothing.

function isError(reply: Uint8Array): boolean {
  return reply[0] === 45;
}

/** The integers of an array-of-integers reply. */
function intsOf(reply: Buffer): number[] {
  const parsed = parseReply(reply);
  if (parsed === null || !Array.isArray(parsed.value)) throw new Error('unexpected reply to __sprobe');
  return (parsed.value as unknown[]).map((v) => Number(v));
}

interface Probed {
  /** Per key argument (in order): -1 missing, -2 not a set, else its cardinality. */
  cards: number[];
  shards: number[];
}

/** Probes key arguments [from, to) on their shards, one call per shard. */
async function probe(c: FrontContext, from: number, to: number): Promise<Probed | Uint8Array> {
  const db = c.client.db;
  const byShard = new Map<number, number[]>();
  const shards: number[] = [];
  for (let i = from; i < to; i++) {
    const s = shardOf(c, i);
    shards.push(s);
    let list = byShard.get(s);
    if (list === undefined) byShard.set(s, (list = []));
    list.push(i);
  }
  const cards = new Array<number>(to - from).fill(-1);
  const calls = [...byShard].map(async ([s, args]) => {
    const reply = await c.srv.callShard(s, '__sprobe', db, args.map((i) => Buffer.from(c.argv.bytes(i))));
    if (isError(reply)) return reply;
    const ints = intsOf(reply);
    args.forEach((arg, k) => {
      cards[arg - from] = ints[k];
    });
    return null;
  });
  for (const r of await Promise.all(calls)) if (r !== null) return r;
  return { cards, shards };
}

/**
 * Runs a set operation over key arguments [from, to): ships the sets held
 * elsewhere to one shard and runs __setop there. dst: the destination's
 * argument index (-1 when none).
 */
async function setOperation(c: FrontContext, op: 'inter' | 'union' | 'diff' | 'card', dst: number, from: number, to: number,
  limit: number): Promise<Uint8Array> {
  const db = c.client.db;
  const resp3 = c.client.resp === 3;
  const probed = await probe(c, from, to);
  if (probed instanceof Uint8Array) return probed;
  const { cards, shards } = probed;
  if (cards.includes(-2)) return resp.error(ERR_WRONGTYPE);
  const dstKey = dst >= 0 ? Buffer.from(c.argv.bytes(dst)) : Buffer.alloc(0);
  if ((op === 'inter' || op === 'card') && cards.includes(-1)) {
    // An intersection with an empty set is empty: nothing to ship.
    if (dst >= 0) {
      const del = await c.srv.callShard(shardOf(c, dst), 'del', db, [dstKey]);
      if (isError(del)) return del;
      return resp.integer(0);
    }
    if (op === 'card') return resp.integer(0);
    return resp.set(c.client.resp, []);
  }
  let target: number;
  if (dst >= 0) target = shardOf(c, dst);
  else {
    const weight = new Map<number, number>();
    cards.forEach((n, k) => weight.set(shards[k], (weight.get(shards[k]) ?? 0) + Math.max(0, n)));
    target = shards[0];
    for (const [s, w] of weight) if (w > (weight.get(target) ?? 0)) target = s;
  }
  // Each distinct key held elsewhere is exported once.
  const exported = new Map<string, Promise<Buffer>>();
  const args: Array<string | Uint8Array> = [op, dstKey, String(limit)];
  const pending: Array<Promise<Buffer>> = [];
  const slots: number[] = [];
  for (let i = from; i < to; i++) {
    const k = i - from;
    const key = Buffer.from(c.argv.bytes(i));
    if (cards[k] === -1) {
      args.push('M', '');
    } else if (shards[k] === target) {
      args.push('L', key);
    } else {
      const name = key.toString('latin1');
      let p = exported.get(name);
      if (p === undefined) {
        p = c.srv.callShard(shards[k], '__sexport', db, [key]);
        exported.set(name, p);
      }
      args.push('P', '');
      slots.push(args.length - 1);
      pending.push(p);
    }
  }
  const payloads = await Promise.all(pending);
  for (let j = 0; j < payloads.length; j++) {
    const r = payloads[j];
    if (isError(r)) return r;
    if (isNil(r)) {
      args[slots[j] - 1] = 'M';
      continue;
    }
    args[slots[j]] = Buffer.from(bulkBody(r));
  }
  return c.srv.callShard(target, '__setop', db, args, resp3);
}

const sinter: Coordinator = (c) => setOperation(c, 'inter', -1, 1, c.argv.count, 0);
const sinterstore: Coordinator = (c) => setOperation(c, 'inter', 1, 2, c.argv.count, 0);
const sunion: Coordinator = (c) => setOperation(c, 'union', -1, 1, c.argv.count, 0);
const sunionstore: Coordinator = (c) => setOperation(c, 'union', 1, 2, c.argv.count, 0);
const sdiff: Coordinator = (c) => setOperation(c, 'diff', -1, 1, c.argv.count, 0);
const sdiffstore: Coordinator = (c) => setOperation(c, 'diff', 1, 2, c.argv.count, 0);

/** A signed 64-bit argument (ordered beyond 2^53), or null. */
function argLong(c: FrontContext, i: number): number | null {
  const a = c.argv;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (v === v) return v;
  if (parseI64Status() !== INT_UNSAFE) return null;
  return a.u8[a.off[i]] === 45 ? -Number.MAX_VALUE : Number.MAX_VALUE;
}

const sintercard: Coordinator = (c) => {
  // The router found the keys from numkeys, so numkeys is valid; LIMIT is checked here, as the shard would.
  const a = c.argv;
  const numkeys = Number(a.str(1));
  if (numkeys > a.count - 2) return Promise.resolve(resp.error("ERR Number of keys can't be greater than number of args"));
  let limit = 0;
  for (let j = 2 + numkeys; j < a.count; j++) {
    if (a.is(j, 'limit') && j + 1 < a.count) {
      j++;
      const v = argLong(c, j);
      if (v === null || v < 0) return Promise.resolve(resp.error("ERR LIMIT can't be negative"));
      limit = v;
    } else return Promise.resolve(resp.error(ERR_SYNTAX));
  }
  return setOperation(c, 'card', -1, 2, 2 + numkeys, limit);
};

const smove: Coordinator = async (c) => {
  const db = c.client.db;
  const a = c.argv;
  const src = Buffer.from(a.bytes(1));
  const dst = Buffer.from(a.bytes(2));
  const member = Buffer.from(a.bytes(3));
  const probed = await probe(c, 1, 3);
  if (probed instanceof Uint8Array) return probed;
  const [srcCard, dstCard] = probed.cards;
  if (srcCard === -1) return resp.integer(0);
  if (srcCard === -2 || dstCard === -2) return resp.error(ERR_WRONGTYPE);
  const srcShard = probed.shards[0];
  const isMember = await c.srv.callShard(srcShard, 'sismember', db, [src, member]);
  if (isError(isMember) || isMember[1] === 48 /* :0 */) return isMember;
  const added = await c.srv.callShard(probed.shards[1], 'sadd', db, [dst, member]);
  if (isError(added)) return added;
  const removed = await c.srv.callShard(srcShard, 'srem', db, [src, member]);
  if (isError(removed)) return removed;
  return resp.integer(1);
};

export const setCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['sinter', sinter],
  ['sinterstore', sinterstore],
  ['sunion', sunion],
  ['sunionstore', sunionstore],
  ['sdiff', sdiff],
  ['sdiffstore', sdiffstore],
  ['sintercard', sintercard],
  ['smove', smove],
];
