import { globMatch } from '../util/glob.ts';
import { ERR_SYNTAX } from './errors.ts';
import { typeName } from './keys.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// Internal shard commands: sent by the front thread only (fan-outs of keyless
// commands, phases of coordinated commands, configuration pushes), never
// accepted from clients. Formats (every argument a bulk string):
//
//   __dbsize                         -> :keys in the db (expired, not yet reclaimed, included, as DBSIZE)
//   __flushdb [ASYNC]                -> +OK (ASYNC: the keys go at once, their memory in slices)
//   __flushall [ASYNC]               -> +OK (every db of the shard)
//   __keys <pattern>                 -> *n keys matching, expired skipped (not deleted)
//   __scan <cursor> <count> [MATCH <pattern>] [TYPE <type>]
//                                    -> *2 [$next-local-cursor, *n keys]; cursor is the shard-local
//                                       reverse-binary cursor of HashIndex.scan (0 = done)
//   __randomkey                      -> [:keys in the db, $random key or nil] (expired keys met on the way are deleted)
//   __swapdb <a> <b>                 -> +OK
//   __take <key> [READ|WRITE|DELETE] -> $payload (Keyspace.dumpEntry format) or nil when missing.
//                                       READ looks up like GET (hit/miss stats, touch), WRITE like
//                                       a write (touch only), DELETE also removes the key. Default WRITE.
//   __put <key> <payload> <replace 0|1> <keepttl 0|1> [<keepclock 0|1>]
//                                    -> :1 written, :0 when the key exists and replace is 0.
//                                       keepttl restores the payload's expiry (else persistent),
//                                       keepclock its LRU/LFU clock (else a new key's; default 1).
//   __config <name> <value> [<name> <value> ...]
//                                    -> +OK; names: hz, maxmemory-policy, lfu-log-factor,
//                                       lfu-decay-time, proto-max-bulk-len, activerehashing,
//                                       active-expire-effort, slowlog-log-slower-than,
//                                       list-max-listpack-size, set-max-intset-entries,
//                                       set-max-listpack-entries, set-max-listpack-value,
//                                       hash-max-listpack-entries, hash-max-listpack-value,
//                                       hll-sparse-max-bytes, zset-max-listpack-entries,
//                                       zset-max-listpack-value

function dbsizeInternal(c: ShardContext): void {
  c.reply.int(c.ks.dbs[c.db].size);
}

function flushdbInternal(c: ShardContext): void {
  c.ks.flushDb(c.db, c.args.count > 1 && c.args.is(1, 'async'));
  c.reply.ok();
}

function flushallInternal(c: ShardContext): void {
  const async = c.args.count > 1 && c.args.is(1, 'async');
  for (let db = 0; db < c.ks.dbs.length; db++) c.ks.flushDb(db, async);
  c.reply.ok();
}

/** True when the argument is exactly "*": KEYS and SCAN then skip matching (so even "" matches). */
function isMatchAll(c: ShardContext, i: number): boolean {
  return c.args.len[i] === 1 && c.args.u8[c.args.off[i]] === 42;
}

function keysInternal(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const all = isMatchAll(c, 1);
  const po = a.off[1];
  const pl = a.len[1];
  const pat = a.u8;
  const u8 = ks.arena.u8;
  const found: number[] = [];
  ks.dbs[c.db].forEach((ref) => {
    if (!all && !globMatch(pat, po, pl, u8, ks.keyOffset(ref), ks.keyLength(ref), false)) return;
    if (ks.isExpired(ref)) return;
    found.push(ref);
  });
  replyKeys(c, found);
}

function replyKeys(c: ShardContext, refs: readonly number[]): void {
  const ks = c.ks;
  const u8 = ks.arena.u8;
  c.reply.array(refs.length);
  for (const ref of refs) c.reply.bulk(u8, ks.keyOffset(ref), ks.keyLength(ref));
}

/** ASCII case-insensitive comparison of argument i with a lower-case name (strcasecmp). */
function argEqualsIgnoreCase(c: ShardContext, i: number, lower: string): boolean {
  return c.args.is(i, lower);
}

function scanInternal(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const cursorArg = Number(a.str(1));
  const count = a.int(2);
  if (!Number.isInteger(cursorArg) || cursorArg < 0 || !(count >= 1)) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  let patArg = -1;
  let typeArg = -1;
  for (let i = 3; i < a.count; i += 2) {
    if (i + 1 >= a.count) {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    if (a.is(i, 'match')) patArg = i + 1;
    else if (a.is(i, 'type')) typeArg = i + 1;
    else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  if (patArg >= 0 && isMatchAll(c, patArg)) patArg = -1;
  const index = ks.dbs[c.db];
  const found: number[] = [];
  // An empty table ends the iteration whatever the cursor (as dictScan does).
  let cursor = index.size === 0 ? 0 : cursorArg >>> 0;
  // Redis bounds the work by ten times COUNT buckets visited, then filters.
  let budget = count * 10;
  if (index.size !== 0) {
    do {
      cursor = index.scan(cursor, found);
    } while (cursor !== 0 && budget-- > 0 && found.length < count);
  }
  const u8 = ks.arena.u8;
  const kept: number[] = [];
  for (const ref of found) {
    const ko = ks.keyOffset(ref);
    const kl = ks.keyLength(ref);
    if (patArg >= 0 && !globMatch(a.u8, a.off[patArg], a.len[patArg], u8, ko, kl, false)) continue;
    const expired = ks.isExpired(ref);
    if (typeArg >= 0 && !argEqualsIgnoreCase(c, typeArg, expired ? 'none' : typeName(ks.typeOf(ref)))) continue;
    if (expired) {
      // Reclaim it, as SCAN's expireIfNeeded does; the key bytes live in the record being freed.
      ks.deleteKey(c.db, u8, ko, kl);
      continue;
    }
    kept.push(ref);
  }
  c.reply.array(2);
  c.reply.bulkString(String(cursor));
  replyKeys(c, kept);
}

/** [keys in this shard's database, one of them at random or nil]: the front weighs shards by the count. */
function randomkeyInternal(c: ShardContext): void {
  const ks = c.ks;
  const index = ks.dbs[c.db];
  for (;;) {
    const handle = index.randomHandle();
    if (handle < 0) {
      c.reply.array(2);
      c.reply.int(0);
      c.reply.nil();
      return;
    }
    const ref = index.refAt(handle);
    if (ks.hasExpire(ref) && ks.expireIfDue(c.db, handle)) continue;
    c.reply.array(2);
    c.reply.int(index.size);
    c.reply.bulk(ks.arena.u8, ks.keyOffset(ref), ks.keyLength(ref));
    return;
  }
}

function swapdbInternal(c: ShardContext): void {
  const x = c.args.int(1);
  const y = c.args.int(2);
  const n = c.ks.dbs.length;
  if (!(x >= 0 && x < n && y >= 0 && y < n)) {
    c.reply.error('ERR DB index is out of range');
    return;
  }
  if (x !== y) c.ks.swapDb(x, y);
  c.reply.ok();
}

function takeInternal(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  let mode = 'write';
  if (a.count > 2) {
    if (a.is(2, 'read')) mode = 'read';
    else if (a.is(2, 'delete')) mode = 'delete';
    else if (!a.is(2, 'write')) {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const ref = mode === 'read'
    ? ks.lookupRead(c.db, a.u8, a.off[1], a.len[1])
    : ks.lookupWrite(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) {
    c.reply.nil();
    return;
  }
  const payload = ks.dumpEntry(ref);
  if (mode === 'delete') ks.deleteAt(c.db, ks.handle);
  c.reply.bulk(payload, 0, payload.length);
}

function putInternal(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  if (a.count < 5 || !ks.validPayload(a.u8, a.off[2], a.len[2])) {
    c.reply.error('ERR invalid entry payload');
    return;
  }
  const replace = a.is(3, '1');
  const keepTtl = a.is(4, '1');
  const keepClock = a.count > 5 ? a.is(5, '1') : true;
  if (ks.lookupWrite(c.db, a.u8, a.off[1], a.len[1]) !== 0 && !replace) {
    c.reply.int(0);
    return;
  }
  ks.restoreEntry(c.db, a.u8, a.off[1], a.len[1], a.u8, a.off[2], a.len[2], keepTtl, keepClock);
  c.reply.int(1);
}

function configInternal(c: ShardContext): void {
  const a = c.args;
  const cfg = c.config;
  const ks = c.ks;
  if (a.count % 2 !== 1) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  for (let i = 1; i < a.count; i += 2) {
    const name = a.str(i).toLowerCase();
    const value = a.str(i + 1);
    const n = Number(value);
    switch (name) {
      case 'hz':
        if (Number.isFinite(n)) cfg.hz = Math.min(500, Math.max(1, Math.trunc(n)));
        break;
      case 'maxmemory-policy':
        cfg.maxmemoryPolicy = value.toLowerCase();
        ks.lfuMode = cfg.maxmemoryPolicy === 'allkeys-lfu' || cfg.maxmemoryPolicy === 'volatile-lfu';
        break;
      case 'lfu-log-factor':
        if (Number.isFinite(n)) ks.lfuLogFactor = cfg.lfuLogFactor = n;
        break;
      case 'lfu-decay-time':
        if (Number.isFinite(n)) ks.lfuDecayMinutes = cfg.lfuDecayTime = n;
        break;
      case 'proto-max-bulk-len':
        if (Number.isFinite(n)) cfg.protoMaxBulkLen = n;
        break;
      case 'activerehashing':
        cfg.activeRehashing = value.toLowerCase() === 'yes';
        break;
      case 'slowlog-log-slower-than':
        if (Number.isFinite(n)) cfg.slowlogLogSlowerThan = n;
        break;
      case 'list-max-listpack-size':
        if (Number.isFinite(n)) ks.lists.fill = cfg.listMaxListpackSize = n;
        break;
      case 'zset-max-listpack-entries':
        if (Number.isFinite(n)) ks.zsets.maxListpackEntries = cfg.zsetMaxListpackEntries = n;
        break;
      case 'zset-max-listpack-value':
        if (Number.isFinite(n)) ks.zsets.maxListpackValue = cfg.zsetMaxListpackValue = n;
        break;
      case 'hll-sparse-max-bytes':
        if (Number.isFinite(n)) cfg.hllSparseMaxBytes = n;
        break;
      case 'hash-max-listpack-entries':
        if (Number.isFinite(n)) ks.hashes.maxEntries = cfg.hashMaxListpackEntries = n;
        break;
      case 'hash-max-listpack-value':
        if (Number.isFinite(n)) ks.hashes.maxValue = cfg.hashMaxListpackValue = n;
        break;
      case 'set-max-intset-entries':
        if (Number.isFinite(n)) ks.sets.maxIntsetEntries = cfg.setMaxIntsetEntries = n;
        break;
      case 'set-max-listpack-entries':
        if (Number.isFinite(n)) ks.sets.maxListpackEntries = cfg.setMaxListpackEntries = n;
        break;
      case 'set-max-listpack-value':
        if (Number.isFinite(n)) ks.sets.maxListpackValue = cfg.setMaxListpackValue = n;
        break;
      case 'active-expire-effort':
        if (Number.isFinite(n)) cfg.activeExpireEffort = Math.min(10, Math.max(1, Math.trunc(n)));
        break;
      default:
        c.reply.error(`ERR unknown shard config '${name}'`);
        return;
    }
  }
  c.reply.ok();
}

function internal(name: string, arity: number, shard: (c: ShardContext) => void): CommandSpec {
  return {
    name, arity, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '0.1.0',
    summary: 'Sabre internal command.', internal: true, shard,
  };
}

export const internalCommands: CommandSpec[] = [
  internal('__dbsize', 1, dbsizeInternal),
  internal('__flushdb', -1, flushdbInternal),
  internal('__flushall', -1, flushallInternal),
  internal('__keys', 2, keysInternal),
  internal('__scan', -3, scanInternal),
  internal('__randomkey', 1, randomkeyInternal),
  internal('__swapdb', 3, swapdbInternal),
  internal('__take', -2, takeInternal),
  internal('__put', -5, putInternal),
  internal('__config', -3, configInternal),
  // A front thread's coordinated command takes the shard (io-threads > 1) and gives it back.
  // The shard's run loop answers both itself (shard/worker.ts); the handler never runs.
  internal('__lock', 1, lockedByRunLoop),
  internal('__unlock', 1, lockedByRunLoop),
];

function lockedByRunLoop(c: ShardContext): void {
  c.reply.error('ERR __lock and __unlock are answered by the shard run loop');
}
