import { parseSortOptions, sortNeedsLookups } from '../../commands/sort.ts';
import * as resp from '../../protocol/resp.ts';
import type { Coordinator, FrontContext } from '../front-command.ts';
import { shardOf } from './shared.ts';

// SORT and SORT_RO when their keys span shards: BY/GET patterns (their keys
// may be on any shard, so every shard is held) or a STORE key on another
// shard than the source. The phases are described in src/commands/sort.ts.
// The front forwards bytes between shards: the source's shard reads and sorts,
// every shard looks up the pattern keys it owns, the STORE key's shard writes.

/** The bytes of a bulk reply (null for a nil). */
function bulkBody(reply: Buffer): Buffer | null {
  if (reply[1] === 45 || reply[0] === 95) return null;
  const eol = reply.indexOf(13);
  return reply.subarray(eol + 2, reply.length - 2);
}

async function sortGeneric(c: FrontContext, shards: readonly number[], readonly: boolean): Promise<Uint8Array> {
  const a = c.argv;
  const db = c.client.db;
  const resp3 = c.client.resp === 3;
  const o = parseSortOptions(a, 0, readonly);
  if (typeof o === 'string') return resp.error(o);
  const argv: Buffer[] = [];
  for (let i = 0; i < a.count; i++) argv.push(Buffer.from(a.bytes(i)));
  const srcShard = shardOf(c, 1);
  const storeShard = o.store >= 0 ? shardOf(c, o.store) : -1;
  const ship = storeShard >= 0 && storeShard !== srcShard;
  const patterns: Buffer[] = [];
  if (o.by >= 0 && !o.dontsort) patterns.push(argv[o.by]);
  for (const g of o.gets) patterns.push(argv[g]);
  let lookups: Buffer[] = [];
  // Pattern keys live on the shards held: every shard, or those of hash-tagged patterns.
  if (sortNeedsLookups(a, o)) {
    const elements = await c.srv.callShard(srcShard, '__sort_elements', db, argv);
    if (elements[0] === 45) return elements;
    const packed = bulkBody(elements) as Buffer;
    const replies = await Promise.all(shards.map((s) => c.srv.callShard(s, '__sort_lookup', db, [packed, ...patterns])));
    for (const r of replies) if (r[0] === 45) return r;
    lookups = replies.map((r) => bulkBody(r) as Buffer);
  }
  const done = await c.srv.callShard(srcShard, '__sort_finish', db,
    [ship ? '1' : '0', String(lookups.length), ...lookups, ...argv], resp3);
  if (!ship || done[0] === 45) return done;
  // [count, list payload or nil]: the STORE key's shard writes it (or deletes the key).
  const first = done.indexOf(10) + 1;
  const countEnd = done.indexOf(13, first);
  const count = Number(done.toString('latin1', first + 1, countEnd));
  const payload = bulkBody(done.subarray(countEnd + 2));
  const key = argv[o.store];
  const written = payload === null
    ? await c.srv.callShard(storeShard, 'del', db, [key])
    : await c.srv.callShard(storeShard, '__put', db, [key, payload, '1', '0', '0']);
  if (written[0] === 45) return written;
  return resp.integer(count);
}

export const sortCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['sort', (c, shards) => sortGeneric(c, shards, false)],
  ['sort_ro', (c, shards) => sortGeneric(c, shards, true)],
];
