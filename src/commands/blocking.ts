import { MAX_FRONT_THREADS, TYPE_LIST, TYPE_ZSET } from '../../native-layout/layout.ts';
import { Argv } from '../protocol/argv.ts';
import { ReplyBuffer } from '../protocol/reply-buffer.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { OutOfMemoryError } from '../store/arena.ts';
import { ERR_OOM, ERR_SYNTAX } from './errors.ts';
import { opcodeOf, SHARD_COMMANDS } from './registry.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
// BZMPOP), the shard's side. The front (server/blocking.ts) runs the
// commands; each shard keeps, per key, the clients that wait on it, first
// come first served, and serves them itself right after the write that gave
// the key elements, before its next request, as Redis's
// handleClientsBlockedOnKeys does after each command. Every waiter is popped
// for here ("servable"), except a BLMOVE to another shard: when that one
// comes first, it is reported to the front, and the key's queue waits for
// the front's verdict (__bnext).
//
// Internal commands:
//   __bpop <token> <servable 0|1> <resp3 0|1> <n> <key1..keyn> <command> <args...>
//        -> the reply of <command> (LMPOP, ZMPOP, LMOVE, LINDEX) run here; when it
//           is nil, the waiter <token> is queued on the n keys, in the same step.
//   __bcancel <token>       -> +OK; the waiter leaves every queue of this shard.
//   __bnext <key> <token> <drop|skip>
//        -> +OK; the front dealt with the reported waiter: drop takes it out
//           (served, or gone), skip leaves it waiting; the key's queue is
//           served on from its head.
//
// What waiters got travels on the reply record of the request that served
// them (native-layout REPF_READY): "served" entries (token, the pop's reply
// bytes; from 16 KiB on, the bytes go over the side port instead) and
// "ready" entries (db, key, the token of the waiter the front must serve).

const SERVED = 1;
const READY = 2;
/** A served reply too big for the ring: its bytes went over the side port, in entry order. */
const SERVED_PORTED = 3;
/** A trailer keeps served replies inline up to this size; the others travel over the side port (ring records stay small). */
const PORTED_FROM_BYTES = 16 * 1024;

interface ShardWaiter {
  readonly token: number;
  readonly db: number;
  readonly servable: boolean;
  readonly resp3: boolean;
  /** Ids (db:key) of its keys on this shard. */
  readonly ids: string[];
  /** The pop for one key: [command, ...args] with the key at keyAt. */
  readonly pop: Uint8Array[];
  readonly keyAt: number;
  /** TYPE_LIST or TYPE_ZSET: a key of another type does not serve it. */
  readonly type: number;
}

type Entry =
  | { readonly kind: typeof SERVED; readonly token: number; readonly reply: Uint8Array }
  | { readonly kind: typeof READY; readonly db: number; readonly key: Uint8Array; readonly token: number };

/** One shard's waiters. */
class ShardWaiters {
  readonly byKey = new Map<string, ShardWaiter[]>();
  readonly byToken = new Map<number, ShardWaiter>();
  /** Output for the reply being written. */
  entries: Entry[] = [];
  /** Keys reported to the front whose queue waits for __bnext (id -> token). */
  readonly parked = new Map<string, number>();
  readonly scratchReply = new ReplyBuffer(1024);
}

const perKeyspace = new WeakMap<Keyspace, ShardWaiters>();

function waitersOf(ks: Keyspace): ShardWaiters {
  let w = perKeyspace.get(ks);
  if (w === undefined) {
    w = new ShardWaiters();
    perKeyspace.set(ks, w);
  }
  return w;
}

function idOf(db: number, key: Uint8Array): string {
  return db + ':' + Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function keyOfId(id: string): { db: number; key: Buffer } {
  const colon = id.indexOf(':');
  return { db: Number(id.slice(0, colon)), key: Buffer.from(id.slice(colon + 1), 'latin1') };
}

function isNilReply(r: ReplyBuffer): boolean {
  return r.len > 0 && (r.buf[0] === 95 || ((r.buf[0] === 42 || r.buf[0] === 36) && r.buf[1] === 45)); // _, *-1, $-1
}

/** Takes a waiter out of every queue of this shard; keys left without waiters are no longer watched. */
function removeWaiter(ks: Keyspace, sw: ShardWaiters, w: ShardWaiter): void {
  sw.byToken.delete(w.token);
  for (const id of w.ids) {
    const q = sw.byKey.get(id);
    if (q === undefined) continue;
    const at = q.indexOf(w);
    if (at >= 0) q.splice(at, 1);
    if (q.length === 0) {
      sw.byKey.delete(id);
      sw.parked.delete(id);
      const { db, key } = keyOfId(id);
      ks.unwatchKey(db, key, 0, key.length);
    }
  }
}

/** Runs a shard command with its own arguments and reply buffer, as the waiter's client would. */
function runFor(c: ShardContext, sw: ShardWaiters, w: ShardWaiter, key: Uint8Array): ReplyBuffer {
  const parts = w.pop.slice();
  parts[w.keyAt] = key;
  const args = Argv.fromStrings(parts);
  const reply = sw.scratchReply;
  reply.reset(w.resp3);
  const ctx: ShardContext = { args, reply, ks: c.ks, db: w.db, shardId: c.shardId, shardCount: c.shardCount, config: c.config };
  const spec = SHARD_COMMANDS[opcodeOf(Buffer.from(parts[0]).toString('latin1'))];
  try {
    spec.shard?.(ctx);
  } catch (e) {
    // Writes are all or nothing: an OOM left the keyspace as it was, and the waiter is told so.
    reply.reset(w.resp3);
    reply.error(e instanceof OutOfMemoryError ? ERR_OOM : `ERR internal error in '${spec.name}': ${(e as Error).message}`);
  }
  return reply;
}

/**
 * Serves the waiters of one key, first come first served, while it has
 * elements: each servable waiter pops here; the first one that is not
 * servable is reported to the front and the key waits for __bnext. Waiters
 * of another type than the key's are passed over (they wait on), as in Redis.
 */
function serveKey(c: ShardContext, sw: ShardWaiters, id: string, skip: number): void {
  if (sw.parked.has(id)) return;
  const q = sw.byKey.get(id);
  if (q === undefined) return;
  const { db, key } = keyOfId(id);
  const ks = c.ks;
  let i = 0;
  while (i < q.length) {
    const w = q[i];
    const ref = ks.peek(db, key, 0, key.length);
    if (ref === 0) return;
    if (w.token === skip || ks.typeOf(ref) !== w.type) {
      i++;
      continue;
    }
    if (!w.servable) {
      sw.parked.set(id, w.token);
      sw.entries.push({ kind: READY, db, key, token: w.token });
      ks.blockedOutput = true;
      return;
    }
    const reply = runFor(c, sw, w, key);
    if (isNilReply(reply)) return;
    sw.entries.push({ kind: SERVED, token: w.token, reply: reply.buf.slice(0, reply.len) });
    ks.blockedOutput = true;
    removeWaiter(ks, sw, w);
    // The queue may have changed under us (the waiter left it): start again from the head.
    i = 0;
  }
}

/**
 * The trailer for the reply being written (native-layout REPF_READY), or
 * null: first serves every watched key that got elements during the command
 * (and those its serving fed in turn, as BLMOVE into a watched key).
 */
export function blockedTrailer(c: ShardContext, front: number, postLarge: (front: number, bytes: Uint8Array) => void,
  pushToFront: (front: number, trailer: Uint8Array) => void): Uint8Array | null {
  const ks = c.ks;
  ks.blockedOutput = false;
  const sw = perKeyspace.get(ks);
  if (sw === undefined) {
    ks.readyKeys.length = 0;
    return null;
  }
  for (let guard = 0; ks.readyKeys.length > 0 && guard < 1_000_000; guard++) {
    const r = ks.readyKeys.shift() as { db: number; key: Uint8Array };
    serveKey(c, sw, idOf(r.db, r.key), -1);
  }
  ks.blockedOutput = false;
  if (sw.entries.length === 0) return null;
  const entries = sw.entries;
  sw.entries = [];
  // Each waiter's token names its front thread: the entries of the front
  // whose request this is ride on its reply; another front's go to it in a
  // record of their own (native-layout REPF_PUSH).
  let mine: Entry[] | null = null;
  let others: Map<number, Entry[]> | null = null;
  for (const e of entries) {
    const f = e.token % MAX_FRONT_THREADS;
    if (f === front) (mine ??= []).push(e);
    else {
      others ??= new Map();
      const list = others.get(f);
      if (list === undefined) others.set(f, [e]);
      else list.push(e);
    }
  }
  if (others !== null) for (const [f, list] of others) pushToFront(f, encodeTrailer(list, (b) => postLarge(f, b)));
  return mine === null ? null : encodeTrailer(mine, (b) => postLarge(front, b));
}

/** The REPF_READY trailer of these entries; served replies past PORTED_FROM_BYTES go to `postLarge`, in entry order. */
function encodeTrailer(entries: Entry[], postLarge: (bytes: Uint8Array) => void): Uint8Array {
  // Served replies go inline while the trailer stays small; the rest go over the side port.
  let size = 8;
  const ported: boolean[] = [];
  for (const e of entries) {
    const viaPort = e.kind === SERVED && size + e.reply.length >= PORTED_FROM_BYTES;
    ported.push(viaPort);
    if (e.kind === READY) size += 16 + e.key.length;
    else size += viaPort ? 12 : 12 + e.reply.length;
  }
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, entries.length, true);
  let p = 4;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    v.setUint32(p, e.kind, true);
    if (e.kind === SERVED && ported[i]) {
      // Posted now, before the record's own large reply (if any): the front takes them in this order.
      v.setUint32(p, SERVED_PORTED, true);
      v.setUint32(p + 4, e.token, true);
      v.setUint32(p + 8, 0, true);
      postLarge(e.reply);
      p += 12;
    } else if (e.kind === SERVED) {
      v.setUint32(p + 4, e.token, true);
      v.setUint32(p + 8, e.reply.length, true);
      out.set(e.reply, p + 12);
      p += 12 + e.reply.length;
    } else {
      v.setUint32(p + 4, e.db, true);
      v.setUint32(p + 8, e.token, true);
      v.setUint32(p + 12, e.key.length, true);
      out.set(e.key, p + 16);
      p += 16 + e.key.length;
    }
  }
  v.setUint32(p, size, true);
  return out;
}

// -- internal commands ---------------------------------------------------------------

function bpopInternal(c: ShardContext): void {
  const a = c.args;
  const token = Number(a.str(1));
  const servable = a.str(2) === '1';
  const resp3 = a.str(3) === '1';
  const n = Number(a.str(4));
  const skip = 5 + n;
  if (!Number.isSafeInteger(token) || !Number.isSafeInteger(n) || n < 1 || skip >= a.count) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  // Copies (Buffer.from; a Buffer's slice() is a view): the waiter keeps its pop past this
  // request, whose bytes the ring or the read buffer reuses.
  const keys: Uint8Array[] = [];
  for (let i = 5; i < skip; i++) keys.push(Buffer.from(a.bytes(i)));
  const inner: Uint8Array[] = [];
  for (let i = skip; i < a.count; i++) inner.push(Buffer.from(a.bytes(i)));
  // The inner command sees its own arguments: shift them down in place.
  for (let i = skip; i < a.count; i++) {
    a.off[i - skip] = a.off[i];
    a.len[i - skip] = a.len[i];
  }
  a.count -= skip;
  const name = Buffer.from(inner[0]).toString('latin1').toLowerCase();
  // A key whose queue waits for the front's verdict on its first waiter is
  // that waiter's: a newcomer queues behind it instead of taking from it.
  const parked = n === 1 && perKeyspace.get(c.ks)?.parked.has(idOf(c.db, keys[0])) === true;
  if (parked) (c.reply as ReplyBuffer).nilArray();
  else SHARD_COMMANDS[opcodeOf(name)].shard?.(c);
  if (!isNilReply(c.reply)) return;
  // Nothing to pop: the waiter queues on its keys of this shard.
  const sw = waitersOf(c.ks);
  // The pop for one key: LMPOP/ZMPOP 1 <key> <rest after the keys>; LMOVE <key> <rest>.
  let pop: Uint8Array[];
  let keyAt: number;
  if (name === 'lmpop' || name === 'zmpop') {
    const nk = Number(Buffer.from(inner[1]).toString('latin1'));
    pop = [inner[0], Buffer.from('1'), inner[2], ...inner.slice(2 + nk)];
    keyAt = 2;
  } else {
    pop = inner.slice();
    keyAt = 1;
  }
  const ids: string[] = [];
  for (const k of keys) {
    const id = idOf(c.db, k);
    if (!ids.includes(id)) ids.push(id);
  }
  const w: ShardWaiter = { token, db: c.db, servable, resp3, ids, pop, keyAt, type: name === 'zmpop' ? TYPE_ZSET : TYPE_LIST };
  sw.byToken.set(token, w);
  for (let i = 0; i < ids.length; i++) {
    const q = sw.byKey.get(ids[i]);
    if (q === undefined) {
      sw.byKey.set(ids[i], [w]);
      const { key } = keyOfId(ids[i]);
      c.ks.watchKey(c.db, key, 0, key.length);
    } else {
      q.push(w);
    }
  }
}

function bcancelInternal(c: ShardContext): void {
  const sw = perKeyspace.get(c.ks);
  const w = sw?.byToken.get(Number(c.args.str(1)));
  if (sw !== undefined && w !== undefined) {
    const ids = w.ids;
    removeWaiter(c.ks, sw, w);
    // A key that waited for the front's verdict on this waiter goes on.
    for (const id of ids) if (sw.parked.get(id) === w.token) {
      sw.parked.delete(id);
      serveKey(c, sw, id, -1);
    }
  }
  c.reply.ok();
}

function bnextInternal(c: ShardContext): void {
  const a = c.args;
  const sw = perKeyspace.get(c.ks);
  const token = Number(a.str(2));
  const id = idOf(c.db, a.bytes(1));
  if (sw !== undefined) {
    if (sw.parked.get(id) === token) sw.parked.delete(id);
    const w = sw.byToken.get(token);
    const drop = a.is(3, 'drop');
    if (drop && w !== undefined) removeWaiter(c.ks, sw, w);
    serveKey(c, sw, id, drop ? -1 : token);
  }
  c.reply.ok();
}

// -- tables ---------------------------------------------------------------------------

function notOnShard(c: ShardContext): void {
  c.reply.error(`ERR internal: '${c.args.str(0)}' runs from the front`);
}

const listBlocking = (s: Omit<CommandSpec, 'group' | 'shard'>): CommandSpec => ({ ...s, group: 'list', shard: notOnShard });
const zsetBlocking = (s: Omit<CommandSpec, 'group' | 'shard'>): CommandSpec => ({ ...s, group: 'sorted-set', shard: notOnShard });

function internal(name: string, arity: number, shard: (c: ShardContext) => void): CommandSpec {
  return {
    name, arity, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '0.1.0',
    summary: 'Sabre internal command.', internal: true, shard,
  };
}

/** The blocking commands' entries (COMMAND, the router, the front), and their internal shard commands. */
export const blockingCommands: readonly CommandSpec[] = [
  listBlocking({
    name: 'blpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, keyStep: 1, since: '2.0.0',
    summary: 'Remove and get the first element in a list, or block until one is available',
    complexity: 'O(N) where N is the number of provided keys.',
  }),
  listBlocking({
    name: 'brpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, keyStep: 1, since: '2.0.0',
    summary: 'Remove and get the last element in a list, or block until one is available',
    complexity: 'O(N) where N is the number of provided keys.',
  }),
  listBlocking({
    name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], firstKey: 1, lastKey: 2, keyStep: 1,
    since: '6.2.0', summary: 'Pop an element from a list, push it to another list and return it; or block until one is available',
    complexity: 'O(1)',
  }),
  listBlocking({
    name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], firstKey: 1, lastKey: 2, keyStep: 1,
    since: '2.2.0', summary: 'Pop an element from a list, push it to another list and return it; or block until one is available',
    complexity: 'O(1)',
  }),
  listBlocking({
    name: 'blmpop', arity: -5, flags: ['write', 'blocking'], firstKey: 3, lastKey: -2, keyStep: 1, keyNumArg: 2, since: '7.0.0',
    summary: 'Pop elements from a list, or block until one is available',
    complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.',
  }),
  zsetBlocking({
    name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, keyStep: 1,
    since: '5.0.0', summary: 'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.',
  }),
  zsetBlocking({
    name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, keyStep: 1,
    since: '5.0.0', summary: 'Remove and return the member with the highest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.',
  }),
  zsetBlocking({
    name: 'bzmpop', arity: -5, flags: ['write', 'blocking'], firstKey: 3, lastKey: -2, keyStep: 1, keyNumArg: 2, since: '7.0.0',
    summary: 'Remove and return members with scores in a sorted set or block until one is available',
    complexity: 'O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.',
  }),
  internal('__bpop', -7, bpopInternal),
  internal('__bcancel', 2, bcancelInternal),
  internal('__bnext', 4, bnextInternal),
];
