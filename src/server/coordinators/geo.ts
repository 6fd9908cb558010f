import { SEARCH_FLAGS, searchStoreKeyPosition } from '../../commands/geo.ts';
import { parseReply } from '../../protocol/reply-reader.ts';
import type { Coordinator } from '../front-command.ts';
import { shardOf } from './shared.ts';

// GEOSEARCHSTORE and GEORADIUS[BYMEMBER] STORE/STOREDIST whose source and
// destination live on different shards. Both shards are held for the whole
// routine (one atomic step for every other client): the source's shard parses
// and runs the search (__geosearch, the command's own arguments, so errors and
// their order are the shard command's), then the destination's shard replaces
// the key with the result, or deletes it when the result is empty
// (__geostore), and replies the count.

const geoStore: Coordinator = async (c) => {
  const a = c.argv;
  const db = c.client.db;
  const name = a.str(0);
  const flags = SEARCH_FLAGS[name.toLowerCase()];
  const srcPos = name.toLowerCase() === 'geosearchstore' ? 2 : 1;
  const dstPos = searchStoreKeyPosition(a, flags);
  const args: Uint8Array[] = [];
  for (let i = 1; i < a.count; i++) args.push(Buffer.from(a.bytes(i)));
  args.push(Buffer.from(name, 'latin1'));
  const found = await c.srv.callShard(shardOf(c, srcPos), '__geosearch', db, args, false);
  if (found[0] === 45) return found; // an error: the command's own
  const parsed = parseReply(found);
  const items = parsed !== null && Array.isArray(parsed.value) ? parsed.value : [];
  const put: Uint8Array[] = [Buffer.from(a.bytes(dstPos))];
  for (const item of items) if (Buffer.isBuffer(item)) put.push(item);
  return c.srv.callShard(shardOf(c, dstPos), '__geostore', db, put, false);
};

export const geoCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['georadius', geoStore],
  ['georadiusbymember', geoStore],
  ['geosearchstore', geoStore],
];
