import { ERR_DB_INDEX, ERR_NOT_INTEGER, ERR_SYNTAX } from '../../commands/errors.ts';
import { parseIntArg } from '../../commands/keys.ts';
import * as resp from '../../protocol/resp.ts';
import { arrayElements, combineOk, combineSum, firstError, intOf } from '../../router/merge.ts';
import { parseI64Big, parseScanCursor } from '../../util/numbers.ts';
import type { FrontCommandSpec, FrontContext } from '../front-command.ts';

// Keyless keyspace commands: the front thread validates the arguments like
// Redis's db.c, then fans out to the shards' internal commands (internal.ts).

const ERR_INVALID_CURSOR = 'ERR invalid cursor';
/** The most keys one SCAN call asks a shard to visit, whatever COUNT says. */
const SCAN_COUNT_CAP = 1_000_000;


/** The bytes of a bulk-string reply, or null for a nil. */
function bulkBody(b: Buffer): Buffer | null {
  if (b[1] === 45) return null; // $-1
  const eol = b.indexOf(13);
  return b.subarray(eol + 2, b.length - 2);
}

/** Concatenates array replies of keys into one array (KEYS). */
function combineArrays(parts: Buffer[]): Buffer {
  const err = firstError(parts);
  if (err) return err;
  let total = 0;
  const bodies: Buffer[] = [];
  for (const p of parts) {
    const eol = p.indexOf(13);
    total += Number(p.toString('latin1', 1, eol));
    bodies.push(p.subarray(eol + 2));
  }
  return Buffer.concat([resp.arrayHeader(total), ...bodies]);
}

function keys(c: FrontContext): void {
  c.srv.broadcast(c, '__keys', [Buffer.from(c.argv.bytes(1))], combineArrays);
}

function dbsize(c: FrontContext): void {
  c.srv.broadcast(c, '__dbsize', [], combineSum);
}

/**
 * FLUSHDB/FLUSHALL [SYNC|ASYNC] (getFlushCommandFlags): the shards' argument,
 * ASYNC (keys unlinked at once, memory freed in slices by each shard) or
 * SYNC; without a flag, lazyfree-lazy-user-flush decides. Null after an error reply.
 */
function flushMode(c: FrontContext): string | null {
  const a = c.argv;
  if (a.count === 1) return c.srv.config.lazyfreeLazyUserFlush ? 'ASYNC' : 'SYNC';
  if (a.count === 2 && a.is(1, 'sync')) return 'SYNC';
  if (a.count === 2 && a.is(1, 'async')) return 'ASYNC';
  c.srv.replyError(c.client, c.seq, ERR_SYNTAX);
  return null;
}

function flushdb(c: FrontContext): void {
  const mode = flushMode(c);
  if (mode !== null) c.srv.broadcast(c, '__flushdb', [mode], combineOk);
}

function flushall(c: FrontContext): void {
  const mode = flushMode(c);
  if (mode !== null) c.srv.broadcast(c, '__flushall', [mode], combineOk);
}

function swapdb(c: FrontContext): void {
  const first = parseIntArg(c.argv, 1, 'ERR invalid first DB index');
  if (typeof first === 'string') {
    c.srv.replyError(c.client, c.seq, first);
    return;
  }
  const second = parseIntArg(c.argv, 2, 'ERR invalid second DB index');
  if (typeof second === 'string') {
    c.srv.replyError(c.client, c.seq, second);
    return;
  }
  const n = c.srv.config.databases;
  if (first < 0 || first >= n || second < 0 || second >= n) {
    c.srv.replyError(c.client, c.seq, ERR_DB_INDEX);
    return;
  }
  c.srv.broadcast(c, '__swapdb', [String(first), String(second)], combineOk);
}

// -- SCAN ---------------------------------------------------------------------------

/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor names a
 * shard and that shard's own reverse-binary cursor: cursor = local * shards +
 * shard. Shards are iterated one after another; each step asks one shard, and
 * moves on to the next shard in the same call only when a shard finishes
 * before COUNT keys were found (so an empty database still answers 0 at once).
 */
function scan(c: FrontContext): void {
  const a = c.argv;
  const cursor = parseScanCursor(a.bytes(1));
  if (cursor === null) {
    c.srv.replyError(c.client, c.seq, ERR_INVALID_CURSOR);
    return;
  }
  let count = 10;
  const opts: Buffer[] = [];
  for (let i = 2; i < a.count;) {
    const more = a.count - i >= 2;
    if (more && a.is(i, 'count')) {
      const v = parseI64Big(a.u8, a.off[i + 1], a.len[i + 1]);
      if (v === null) {
        c.srv.replyError(c.client, c.seq, ERR_NOT_INTEGER);
        return;
      }
      if (v < 1n) {
        c.srv.replyError(c.client, c.seq, ERR_SYNTAX);
        return;
      }
      count = v > BigInt(SCAN_COUNT_CAP) ? SCAN_COUNT_CAP : Number(v);
      i += 2;
    } else if (more && a.is(i, 'match')) {
      opts.push(Buffer.from('MATCH'), Buffer.from(a.bytes(i + 1)));
      i += 2;
    } else if (more && a.is(i, 'type')) {
      opts.push(Buffer.from('TYPE'), Buffer.from(a.bytes(i + 1)));
      i += 2;
    } else {
      c.srv.replyError(c.client, c.seq, ERR_SYNTAX);
      return;
    }
  }
  const n = BigInt(c.srv.dispatcher.shardCount);
  const shard = Number(cursor % n);
  const local = Number((cursor / n) & 0xffffffffn);
  scanShards(c, c.client.db, shard, local, count, opts).then(
    (reply) => c.srv.reply(c, reply),
    (e: Error) => c.srv.replyError(c.client, c.seq, `ERR ${e.message}`),
  ).finally(() => c.srv.afterBatch());
}

async function scanShards(c: FrontContext, db: number, shard: number, local: number, count: number,
  opts: readonly Buffer[]): Promise<Buffer> {
  const shards = c.srv.dispatcher.shardCount;
  const found: Buffer[] = [];
  let s = shard;
  let cur = local;
  let next: bigint;
  for (;;) {
    const want = Math.max(1, count - found.length);
    const r = await c.srv.callShard(s, '__scan', db, [String(cur), String(want), ...opts]);
    if (r[0] === 45) return r;
    const [cursorPart, keysPart] = arrayElements(r);
    const localNext = Number((bulkBody(cursorPart) as Buffer).toString('latin1'));
    for (const k of arrayElements(keysPart)) found.push(k);
    if (localNext !== 0) {
      next = BigInt(localNext) * BigInt(shards) + BigInt(s);
      break;
    }
    if (s + 1 >= shards) {
      next = 0n;
      break;
    }
    s++;
    cur = 0;
    if (found.length >= count) {
      next = BigInt(s);
      break;
    }
  }
  return Buffer.concat([resp.arrayHeader(2), resp.bulk(String(next)), resp.arrayHeader(found.length), ...found]);
}

// -- RANDOMKEY --------------------------------------------------------------------

/**
 * Every shard answers with its key count and one random key, in the same
 * fan-out (so at one point of the command order); the front picks a shard
 * with probability proportional to its count, which makes the choice uniform
 * over all keys, as Redis's dictGetFairRandomKey aims to be.
 */
function randomkey(c: FrontContext): void {
  // Read now: the merge runs after the client's next commands (a HELLO 3) may have run.
  const protocol = c.client.resp;
  c.srv.broadcast(c, '__randomkey', [], (parts) => {
    const err = firstError(parts);
    if (err) return err;
    const answers = parts.map((p) => arrayElements(p));
    const counts = answers.map((el) => intOf(el[0]));
    const total = counts.reduce((x, y) => x + y, 0);
    if (total === 0) return resp.nil(protocol);
    let r = Math.floor(Math.random() * total);
    let pick = 0;
    while (r >= counts[pick]) {
      r -= counts[pick];
      pick++;
    }
    return Buffer.from(answers[pick][1]);
  });
}

export const keyspaceCommands: FrontCommandSpec[] = [
  {
    name: 'keys', arity: 2, flags: ['readonly'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'generic', since: '1.0.0',
    summary: 'Find all keys matching the given pattern',
    complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.',
    aclCategories: ['dangerous'], front: keys, allShards: true,
  },
  {
    name: 'scan', arity: -2, flags: ['readonly'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'generic', since: '2.8.0',
    summary: 'Incrementally iterate the keys space',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.',
    front: scan, allShards: true,
  },
  {
    name: 'randomkey', arity: 1, flags: ['readonly'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'generic',
    since: '1.0.0', summary: 'Return a random key from the keyspace', complexity: 'O(1)',
    front: randomkey, allShards: true,
  },
  {
    name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'server',
    since: '1.0.0', summary: 'Return the number of keys in the selected database', complexity: 'O(1)',
    front: dbsize, allShards: true,
  },
  {
    name: 'flushdb', arity: -1, flags: ['write'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'server', since: '1.0.0',
    summary: 'Remove all keys from the current database', complexity: 'O(N) where N is the number of keys in the selected database',
    aclCategories: ['dangerous'], front: flushdb, allShards: true,
  },
  {
    name: 'flushall', arity: -1, flags: ['write'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'server', since: '1.0.0',
    summary: 'Remove all keys from all databases', complexity: 'O(N) where N is the total number of keys in all databases',
    aclCategories: ['dangerous'], front: flushall, allShards: true,
  },
  {
    name: 'swapdb', arity: 3, flags: ['write', 'fast'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'server',
    since: '4.0.0', summary: 'Swaps two Redis databases',
    complexity: 'O(N) where N is the count of clients watching or blocking on keys from both databases.',
    aclCategories: ['dangerous'], front: swapdb, allShards: true,
  },
];
