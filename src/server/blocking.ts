import { ERR_SYNTAX } from '../commands/errors.ts';
import type { Argv } from '../protocol/argv.ts';
import { parseReply, replyLength, RespDouble, type RespValue } from '../protocol/reply-reader.ts';
import * as resp from '../protocol/resp.ts';
import { BLOCK_REPLY, countShardError, type Client } from './client.ts';
import { logWarning } from './log.ts';
import type { Server } from './server.ts';

// Blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
// BZMPOP, as Redis 7.0's blocked.c / t_list.c / t_zset.c do them.
//
// - A blocking command runs from the front with its keys' shards held: it
//   tries the keys in order with the ordinary pops (LMPOP, ZMPOP, LMOVE's
//   phases), one call per run of keys on one shard. A key that has
//   something serves at once. Otherwise the client becomes a waiter: it is
//   queued on each of its keys (first come first served per key), the
//   shards are told to watch those keys (__bwatch), and the holds go.
// - The client stays BLOCK_REPLY on the command's sequence number, so what
//   it pipelined after waits behind it (one client, one order).
// - A shard reports, on the reply of the command that did it, every watched
//   key that got a collection value (REPF_READY: new list or zset, LMOVE,
//   RENAME, COPY, MOVE, SWAPDB, anything that goes through the keyspace),
//   as Redis's signalKeyAsReady does. The key's shard is held from then on,
//   and the ready keys are served in the order they came (one at a time):
//   each waiter of the key in turn pops, until a pop finds nothing.
// - A timeout is one timer per waiter. A waiter that times out, is
//   unblocked, or whose client closes leaves every queue at once; a pop for
//   a client that closed while the pop was in flight is pushed back where
//   it came from (the key's shard is still held), so nothing is lost.
// - An idle waiter costs nothing: no polling, no per-tick work.

type PopKind = 'list' | 'zset';

/** What one blocking command does, parsed from its arguments. */
interface BlockingRequest {
  readonly name: string;
  readonly kind: PopKind;
  /** Keys to try and wait on, in the command's order. */
  readonly keys: Buffer[];
  /** ms to wait, 0 = forever. */
  readonly timeoutMs: number;
  /** LEFT/RIGHT for lists, MIN/MAX for zsets. */
  readonly where: string;
  /** COUNT of BLMPOP/BZMPOP, -1 for the single-element forms. */
  readonly count: number;
  /** BLMOVE/BRPOPLPUSH: destination and its side. */
  readonly dst: Buffer | null;
  readonly dstWhere: string;
  /** BLMPOP/BZMPOP reply as LMPOP/ZMPOP do; the others flatten [key, element(s)]. */
  readonly nested: boolean;
}

interface Waiter {
  readonly client: Client;
  readonly seq: number;
  readonly db: number;
  readonly resp: number;
  readonly req: BlockingRequest;
  /** db:key of each distinct key it waits on. */
  readonly ids: string[];
  readonly deadline: number;
  timer: NodeJS.Timeout | null;
  /** A pop for it is in flight: a timeout or unblock waits for its outcome. */
  busy: boolean;
  /** Answered or forgotten: out of every queue. */
  gone: boolean;
  /** A timeout or CLIENT UNBLOCK that came while busy. */
  endWhenIdle: 'timeout' | 'error' | null;
}

/** What a pop attempt gave. */
type Outcome =
  | { readonly t: 'reply'; readonly bytes: Buffer; readonly popped: RespValue | null; readonly key: Buffer | null }
  | { readonly t: 'nil' }
  /** The source key holds another type: an error at once, but a waiter woken on it stays blocked (Redis 7.0). */
  | { readonly t: 'wrongtype'; readonly bytes: Buffer };

const ERR_TIMEOUT_NOT_FLOAT = 'ERR timeout is not a float or out of range';
const ERR_TIMEOUT_NEGATIVE = 'ERR timeout is negative';
const ERR_UNBLOCKED = 'UNBLOCKED client unblocked via CLIENT UNBLOCK';
/** The longest setTimeout delay Node honours; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const LIST_WHERE = new Set(['left', 'right']);
const ZSET_WHERE = new Set(['min', 'max']);

/** Parses a blocking command's arguments with Redis's checks in Redis's order; a string is the error. */
export function parseBlocking(name: string, a: Argv): BlockingRequest | string {
  const keysOf = (from: number, to: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let i = from; i < to; i++) out.push(Buffer.from(a.bytes(i)));
    return out;
  };
  const plain = (kind: PopKind, where: string): BlockingRequest | string => {
    const t = parseTimeout(a.bytes(a.count - 1));
    if (typeof t === 'string') return t;
    return { name, kind, keys: keysOf(1, a.count - 1), timeoutMs: t, where, count: -1, dst: null, dstWhere: '', nested: false };
  };
  switch (name) {
    case 'blpop': return plain('list', 'left');
    case 'brpop': return plain('list', 'right');
    case 'bzpopmin': return plain('zset', 'min');
    case 'bzpopmax': return plain('zset', 'max');
    case 'brpoplpush': {
      const t = parseTimeout(a.bytes(3));
      if (typeof t === 'string') return t;
      return { name, kind: 'list', keys: keysOf(1, 2), timeoutMs: t, where: 'right', count: -1, dst: Buffer.from(a.bytes(2)), dstWhere: 'left', nested: false };
    }
    case 'blmove': {
      const from = a.str(3).toLowerCase();
      const to = a.str(4).toLowerCase();
      if (!LIST_WHERE.has(from) || !LIST_WHERE.has(to)) return ERR_SYNTAX;
      const t = parseTimeout(a.bytes(5));
      if (typeof t === 'string') return t;
      return { name, kind: 'list', keys: keysOf(1, 2), timeoutMs: t, where: from, count: -1, dst: Buffer.from(a.bytes(2)), dstWhere: to, nested: false };
    }
    case 'blmpop':
    case 'bzmpop': {
      const kind: PopKind = name === 'blmpop' ? 'list' : 'zset';
      const numkeys = parseRangeLong(a.str(2));
      if (numkeys === null) return 'ERR numkeys should be greater than 0';
      const whereIdx = 2 + numkeys + 1;
      if (whereIdx >= a.count) return ERR_SYNTAX;
      const where = a.str(whereIdx).toLowerCase();
      if (!(kind === 'list' ? LIST_WHERE : ZSET_WHERE).has(where)) return ERR_SYNTAX;
      let count = -1;
      for (let j = whereIdx + 1; j < a.count; j++) {
        if (count === -1 && a.is(j, 'count') && j + 1 < a.count) {
          j++;
          const n = parseRangeLong(a.str(j));
          if (n === null) return 'ERR count should be greater than 0';
          count = n;
        } else {
          return ERR_SYNTAX;
        }
      }
      const t = parseTimeout(a.bytes(1));
      if (typeof t === 'string') return t;
      return { name, kind, keys: keysOf(3, 3 + numkeys), timeoutMs: t, where, count: count === -1 ? 1 : count, dst: null, dstWhere: '', nested: true };
    }
    default:
      return `ERR internal: '${name}' is not a blocking command`;
  }
}

/** getRangeLongFromObjectOrReply(1, LONG_MAX): a canonical integer, at least 1. */
function parseRangeLong(s: string): number | null {
  if (!/^-?[0-9]+$/.test(s) || (s.length > 1 && (s[0] === '0' || s.startsWith('-0')))) return null;
  const n = BigInt(s);
  if (n < 1n || n > 0x7fffffffffffffffn) return null;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/**
 * Redis 7.0's getTimeoutFromObjectOrReply in seconds: strtold's syntax (no
 * leading space, nothing after, no NaN, no overflow or underflow), then
 * ceil(seconds * 1000) as a long long (a value past its range turns
 * negative there), negative refused. Returns milliseconds, 0 = forever.
 */
export function parseTimeout(b: Uint8Array): number | string {
  const s = Buffer.from(b).toString('latin1');
  const v = parseLongDouble(s);
  if (v === null) return ERR_TIMEOUT_NOT_FLOAT;
  if (!Number.isFinite(v.value) || Math.abs(v.value) * 1000 >= 9223372036854775808) return ERR_TIMEOUT_NEGATIVE;
  let ms = Math.ceil(v.value * 1000);
  // A long double too small for a double is still above zero there: ceil gives 1 ms.
  if (v.value === 0 && v.tinyPositive) ms = 1;
  if (ms < 0) return ERR_TIMEOUT_NEGATIVE;
  return ms === 0 ? 0 : ms;
}

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/;
const INFINITY = /^[+-]?(?:inf|infinity)$/i;

/** strtold as string2ld uses it; tinyPositive: a non-zero value below the double range. */
function parseLongDouble(s: string): { value: number; tinyPositive: boolean } | null {
  if (s.length === 0 || s.length >= 5 * 1024) return null;
  if (INFINITY.test(s)) return { value: s[0] === '-' ? -Infinity : Infinity, tinyPositive: false };
  if (DECIMAL.test(s)) {
    const value = Number(s);
    const m = /[eE]([+-]?[0-9]+)$/.exec(s);
    const mantissa = s.replace(/[eE].*$/, '');
    const nonZero = /[1-9]/.test(mantissa);
    if (nonZero) {
      // Position of the first significant digit, then the decimal exponent of the value.
      const digits = mantissa.replace(/^[+-]/, '');
      const dot = digits.indexOf('.');
      const intPart = dot < 0 ? digits : digits.slice(0, dot);
      const lead = intPart.replace(/^0+/, '');
      let exp10 = lead.length > 0 ? lead.length - 1 : -((dot < 0 ? '' : digits.slice(dot + 1)).search(/[1-9]/) + 1);
      if (m !== null) exp10 += Number(m[1]);
      // long double: overflow (ERANGE, HUGE_VAL) above ~1.19e4932, underflow (ERANGE, 0) below ~3.6e-4951.
      if (exp10 > 4932 || exp10 < -4951) return null;
    }
    return { value, tinyPositive: nonZero && value === 0 && s[0] !== '-' };
  }
  const h = HEX.exec(s);
  if (h !== null && (h[2].length > 0 || (h[3] ?? '').length > 0)) {
    let value = 0;
    for (const d of h[2]) value = value * 16 + parseInt(d, 16);
    let scale = 1 / 16;
    for (const d of h[3] ?? '') {
      value += parseInt(d, 16) * scale;
      scale /= 16;
    }
    if (h[4] !== undefined) value *= 2 ** Number(h[4]);
    return { value: h[1] === '-' ? -value : value, tinyPositive: false };
  }
  return null;
}

/** The key's id in the waiter tables: database and key bytes. */
function keyId(db: number, key: Uint8Array): string {
  return db + ':' + Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function isError(reply: Buffer): boolean {
  return reply[0] === 45;
}

function isNil(reply: Buffer): boolean {
  return ((reply[0] === 36 || reply[0] === 42) && reply[1] === 45) || reply[0] === 95; // $-1, *-1, _
}

const WRONGTYPE_PREFIX = Buffer.from('-WRONGTYPE');

function isWrongType(reply: Buffer): boolean {
  return reply.subarray(0, WRONGTYPE_PREFIX.length).equals(WRONGTYPE_PREFIX);
}

/** The raw bytes of the elements of an array reply (one level). */
function arrayItems(reply: Buffer): Buffer[] {
  const eol = reply.indexOf(13);
  const n = Number(reply.subarray(1, eol).toString('latin1'));
  const out: Buffer[] = [];
  let p = eol + 2;
  for (let i = 0; i < n; i++) {
    const l = replyLength(reply, p, reply.length);
    if (l < 0) throw new Error('malformed reply from a shard');
    out.push(reply.subarray(p, p + l));
    p += l;
  }
  return out;
}

function bulkBody(reply: Buffer): Buffer {
  const eol = reply.indexOf(13);
  return reply.subarray(eol + 2, reply.length - 2);
}

/** Hands a reply to the client; an error from a shard counts in errorstats as the shard's own replies do. */
function deliver(client: Client, seq: number, reply: Buffer): void {
  if (isError(reply)) countShardError(reply, 0, reply.length);
  client.deliver(seq, reply, 0, reply.length);
}

/**
 * The waiter registry and the pops. One per server (Server.blocking).
 */
export class Blocking {
  private readonly srv: Server;
  /** Waiters per key, first come first served. */
  private readonly byKey = new Map<string, Waiter[]>();
  private readonly byClient = new Map<number, Waiter>();
  /** Ready keys to serve, in the order the shards reported them; their shards are held meanwhile. */
  private readonly ready: Array<{ id: string; db: number; key: Buffer; shard: number }> = [];
  private readonly readyIds = new Set<string>();
  private serving = false;
  /** Waiters with a timeout (INFO clients_in_timeout_table). */
  private timed = 0;

  constructor(srv: Server) {
    this.srv = srv;
    for (const link of srv.links) link.onReadyKeys = (u8, start, end) => this.onReadyKeys(u8, start, end);
  }

  /** INFO blocked_clients. */
  get blockedClients(): number {
    return this.byClient.size;
  }

  /** INFO clients_in_timeout_table. */
  get clientsWithTimeout(): number {
    return this.timed;
  }

  /** Keys with at least one waiter (Redis 7.2's total_blocking_keys; not in 7.0's INFO). */
  get blockingKeys(): number {
    return this.byKey.size;
  }

  isBlocked(client: Client): boolean {
    return this.byClient.has(client.id);
  }

  get hasReady(): boolean {
    return this.ready.length > 0 && !this.serving;
  }

  private shardOf(key: Uint8Array): number {
    return this.srv.dispatcher.shardOf(key, 0, key.length);
  }

  private call(shard: number, name: string, db: number, args: ReadonlyArray<string | Uint8Array>, resp3: boolean): Promise<Buffer> {
    return this.srv.callShard(shard, name, db, args, resp3);
  }

  // -- running a blocking command ---------------------------------------------------

  /**
   * Runs a blocking command (called by Server.run with its shards free):
   * serves it now, or leaves its client waiting. Its sequence number is
   * taken now; the client's next command waits for its reply.
   *
   * Keys all on one shard (the common case) need no hold: one __bpop pops,
   * or finds nothing and starts watching the keys, in one step on the
   * shard, so a write after it reports them. Keys on several shards are
   * tried in order with those shards held, so that the first key in the
   * command's order that has something is the one served.
   */
  start(client: Client, argv: Argv, name: string): void {
    const seq = client.takeSeq();
    const req = parseBlocking(name, argv);
    if (typeof req === 'string') {
      this.srv.replyError(client, seq, req);
      return;
    }
    const shards: number[] = [];
    for (const k of req.keys) {
      const s = this.shardOf(k);
      if (!shards.includes(s)) shards.push(s);
    }
    if (req.dst !== null) {
      const ds = this.shardOf(req.dst);
      if (!shards.includes(ds)) shards.push(ds);
    }
    const held = shards.length > 1 ? shards : [];
    const d = this.srv.dispatcher;
    d.hold(held);
    client.blocked = BLOCK_REPLY;
    client.awaitSeq = seq;
    const db = client.db;
    const respVersion = client.resp;
    const ids = distinctIds(db, req.keys);
    this.addPending(ids);
    const watched: string[] = [];
    this.firstTry(db, respVersion, req, watched).then(
      (reply) => this.started(client, seq, db, respVersion, req, ids, reply, held, watched),
      (e: Error) => {
        logWarning(`Blocking '${name}' failed: ${e.stack ?? e.message}`);
        this.started(client, seq, db, respVersion, req, ids, resp.error(`ERR ${e.message}`), held, watched);
      },
    );
  }

  /**
   * The keys in order, one __bpop per run of keys on one shard, until one
   * gives something or errs. `watched` collects the ids whose shards now
   * watch them (runs that found nothing).
   */
  private async firstTry(db: number, respVersion: number, req: BlockingRequest, watched: string[]): Promise<Buffer | null> {
    const resp3 = respVersion === 3;
    if (req.dst !== null) {
      const src = req.keys[0];
      const srcShard = this.shardOf(src);
      if (srcShard === this.shardOf(req.dst)) {
        const reply = await this.call(srcShard, '__bpop', db,
          ['1', src, 'lmove', src, req.dst, req.where, req.dstWhere], resp3);
        if (!isNil(reply)) return reply;
        watched.push(keyId(db, src));
        return null;
      }
      const out = await this.move(db, resp3, req, src, () => false, true);
      if (out.t !== 'nil') return out.bytes;
      watched.push(keyId(db, src));
      return null;
    }
    let i = 0;
    while (i < req.keys.length) {
      const shard = this.shardOf(req.keys[i]);
      let j = i + 1;
      while (j < req.keys.length && this.shardOf(req.keys[j]) === shard) j++;
      const run = req.keys.slice(i, j);
      const out = await this.pop(shard, db, resp3, req, run, true);
      if (out.t !== 'nil') return out.bytes;
      for (const k of run) watched.push(keyId(db, k));
      i = j;
    }
    return null;
  }

  private started(client: Client, seq: number, db: number, respVersion: number, req: BlockingRequest,
    ids: string[], reply: Buffer | null, held: number[], watched: string[]): void {
    const d = this.srv.dispatcher;
    if (reply !== null || client.closed) {
      this.removePending(ids);
      // Keys a run found empty are watched on their shards: unwatched unless someone else waits on them.
      this.unwatchUnused(db, watched);
      d.release(held);
      if (reply !== null) deliver(client, seq, reply);
      if (held.length > 0) this.srv.pump();
      return;
    }
    // Nothing to pop: the client waits on its keys (its shards watch them already).
    const w: Waiter = {
      client, seq, db, resp: respVersion, req, ids, deadline: req.timeoutMs > 0 ? Date.now() + req.timeoutMs : 0,
      timer: null, busy: false, gone: false, endWhenIdle: null,
    };
    this.byClient.set(client.id, w);
    client.blockedOnKeys = true;
    for (const id of ids) {
      const q = this.byKey.get(id);
      if (q === undefined) this.byKey.set(id, [w]);
      else q.push(w);
    }
    this.removePending(ids);
    if (w.deadline > 0) {
      this.timed++;
      this.armTimer(w);
    }
    d.release(held);
    if (held.length > 0) this.srv.pump();
  }

  // Attempts in flight, per key id: a key reported ready meanwhile is served
  // once they have settled (their client may be about to wait on it), and a
  // key is not unwatched while one may still wait on it.
  private readonly pending = new Map<string, number>();
  private readonly settleWaiters = new Map<string, Array<() => void>>();

  private addPending(ids: readonly string[]): void {
    for (const id of ids) this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
  }

  private removePending(ids: readonly string[]): void {
    for (const id of ids) {
      const n = (this.pending.get(id) ?? 1) - 1;
      if (n > 0) {
        this.pending.set(id, n);
        continue;
      }
      this.pending.delete(id);
      const ws = this.settleWaiters.get(id);
      if (ws !== undefined) {
        this.settleWaiters.delete(id);
        for (const resolve of ws) resolve();
      }
    }
  }

  /** Resolves once no attempt on the key is in flight. */
  private settled(id: string): Promise<void> {
    if (!this.pending.has(id)) return Promise.resolve();
    return new Promise((resolve) => {
      const ws = this.settleWaiters.get(id);
      if (ws === undefined) this.settleWaiters.set(id, [resolve]);
      else ws.push(resolve);
    });
  }

  /** __bunwatch for the keys nobody waits on and no attempt may still wait on. */
  private unwatchUnused(db: number, ids: readonly string[]): void {
    const unwatch = new Map<number, Buffer[]>();
    for (const id of ids) {
      if (this.byKey.has(id) || this.pending.has(id)) continue;
      const key = Buffer.from(id.slice(id.indexOf(':') + 1), 'latin1');
      const s = this.shardOf(key);
      const list = unwatch.get(s);
      if (list === undefined) unwatch.set(s, [key]);
      else if (!list.some((k) => k.equals(key))) list.push(key);
    }
    for (const [s, list] of unwatch) void this.call(s, '__bunwatch', db, list, false);
  }

  private armTimer(w: Waiter): void {
    const left = Math.max(0, w.deadline - Date.now());
    w.timer = setTimeout(() => {
      w.timer = null;
      if (w.deadline - Date.now() > 0) {
        this.armTimer(w);
        return;
      }
      this.end(w, 'timeout');
    }, Math.min(left, MAX_TIMER_MS));
  }

  // -- pops ---------------------------------------------------------------------------

  /**
   * LMPOP / ZMPOP on keys of one shard, the reply rewritten as the blocking
   * command gives it. `watch`: through __bpop, which watches the keys when
   * they have nothing.
   */
  private async pop(shard: number, db: number, resp3: boolean, req: BlockingRequest, keys: Buffer[], watch: boolean): Promise<Outcome> {
    const args: Array<string | Uint8Array> = [req.kind === 'list' ? 'lmpop' : 'zmpop', String(keys.length), ...keys, req.where];
    if (req.nested) args.push('COUNT', String(req.count));
    const reply = watch
      ? await this.call(shard, '__bpop', db, [String(keys.length), ...keys, ...args], resp3)
      : await this.call(shard, args[0] as string, db, args.slice(1), resp3);
    if (isError(reply)) return isWrongType(reply) ? { t: 'wrongtype', bytes: reply } : { t: 'reply', bytes: reply, popped: null, key: null };
    if (isNil(reply)) return { t: 'nil' };
    const [keyBytes, elements] = arrayItems(reply);
    const key = Buffer.from(bulkBody(keyBytes));
    const popped = parseReply(elements)?.value ?? null;
    if (req.nested) return { t: 'reply', bytes: reply, popped, key };
    const items = arrayItems(elements);
    if (req.kind === 'list') return { t: 'reply', bytes: resp.array([keyBytes, items[0]]), popped, key };
    // ZMPOP's [[member, score]] (RESP3: score a double) -> BZPOPMIN's [key, member, score].
    const pair = arrayItems(items[0]);
    return { t: 'reply', bytes: resp.array([keyBytes, pair[0], pair[1]]), popped, key };
  }

  /**
   * BLMOVE's move, as the cross-shard LMOVE does it: read the element, push it
   * on the destination, then pop it from the source; a destination of the
   * wrong type leaves both lists as they were. `gone` is asked before the
   * push: a client that left takes nothing. `watch`: the read is a __bpop.
   */
  private async move(db: number, resp3: boolean, req: BlockingRequest, src: Buffer, gone: () => boolean, watch = false): Promise<Outcome> {
    const dst = req.dst as Buffer;
    const fromLeft = req.where === 'left';
    const srcShard = this.shardOf(src);
    const index = fromLeft ? '0' : '-1';
    const peek = watch
      ? await this.call(srcShard, '__bpop', db, ['1', src, 'lindex', src, index], resp3)
      : await this.call(srcShard, 'lindex', db, [src, index], resp3);
    if (isError(peek)) return isWrongType(peek) ? { t: 'wrongtype', bytes: peek } : { t: 'reply', bytes: peek, popped: null, key: null };
    if (isNil(peek) || gone()) return { t: 'nil' };
    const element = Buffer.from(bulkBody(peek));
    const pushed = await this.call(this.shardOf(dst), req.dstWhere === 'left' ? 'lpush' : 'rpush', db, [dst, element], resp3);
    if (isError(pushed)) return { t: 'reply', bytes: pushed, popped: null, key: null };
    const popped = await this.call(srcShard, fromLeft ? 'lpop' : 'rpop', db, [src], resp3);
    if (isError(popped)) return { t: 'reply', bytes: popped, popped: null, key: null };
    // Moved: the element is in the destination, so nothing is lost if the client has left meanwhile.
    return { t: 'reply', bytes: resp.bulk(element), popped: null, key: null };
  }

  /** Puts back what a pop took for a client that left while it was in flight (its shard is still held). */
  private async pushBack(db: number, req: BlockingRequest, key: Buffer, popped: RespValue): Promise<void> {
    if (!Array.isArray(popped) || popped.length === 0) return;
    const shard = this.shardOf(key);
    if (req.kind === 'list') {
      // Popped from the left in order e1..en: LPUSH en..e1 restores them (likewise on the right).
      const elements = (popped as RespValue[]).map((e) => e as Uint8Array).reverse();
      await this.call(shard, req.where === 'left' ? 'lpush' : 'rpush', db, [key, ...elements], false);
    } else {
      const args: Array<string | Uint8Array> = [key];
      for (const pair of popped as RespValue[]) {
        const [member, score] = pair as RespValue[];
        args.push(score instanceof RespDouble ? String(score.value) : Buffer.from(score as Uint8Array), member as Uint8Array);
      }
      await this.call(shard, 'zadd', db, args, false);
    }
  }

  // -- waking ---------------------------------------------------------------------------

  /** A shard's ready-keys trailer (native-layout REPF_READY), met while draining its replies. */
  private onReadyKeys(u8: Uint8Array, start: number, end: number): void {
    const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const n = v.getUint32(start, true);
    let p = start + 4;
    for (let i = 0; i < n && p + 8 <= end; i++) {
      const db = v.getUint32(p, true);
      const len = v.getUint32(p + 4, true);
      const key = Buffer.from(u8.subarray(p + 8, p + 8 + len));
      p += 8 + len;
      this.signal(db, key);
    }
  }

  /** A key some client waits on got a value: hold its shard until its waiters are served. */
  private signal(db: number, key: Buffer): void {
    const id = keyId(db, key);
    if ((!this.byKey.has(id) && !this.pending.has(id)) || this.readyIds.has(id)) return;
    const shard = this.shardOf(key);
    this.srv.dispatcher.hold([shard]);
    this.readyIds.add(id);
    this.ready.push({ id, db, key, shard });
  }

  /**
   * Serves the ready keys, one after another (called by Server.pump after a
   * drain, before anything that waited runs; and again whenever a key
   * becomes ready while the previous ones are served).
   */
  serveReady(): void {
    if (this.serving || this.ready.length === 0) return;
    this.serving = true;
    this.serveLoop().catch((e: unknown) => {
      logWarning(`Error while serving blocked clients: ${(e as Error).stack ?? String(e)}`);
    }).finally(() => {
      this.serving = false;
      if (this.ready.length > 0) this.serveReady();
      this.srv.pump();
    });
  }

  private async serveLoop(): Promise<void> {
    while (this.ready.length > 0) {
      const r = this.ready.shift() as { id: string; db: number; key: Buffer; shard: number };
      this.readyIds.delete(r.id);
      try {
        await this.serveKey(r.id, r.db, r.key);
      } finally {
        this.srv.dispatcher.release([r.shard]);
      }
    }
  }

  /** Each waiter of the key in turn (first come first served) pops, until a pop finds nothing. */
  private async serveKey(id: string, db: number, key: Buffer): Promise<void> {
    await this.settled(id);
    const queue = this.byKey.get(id);
    if (queue === undefined) return;
    for (const w of queue.slice()) {
      if (w.gone) continue;
      w.busy = true;
      let out: Outcome;
      let extra: number[] = [];
      try {
        if (w.req.dst !== null) {
          const ds = this.shardOf(w.req.dst);
          if (ds !== this.shardOf(key)) extra = [ds];
          this.srv.dispatcher.hold(extra);
          out = await this.move(db, w.resp === 3, w.req, key, () => w.gone);
        } else {
          out = await this.pop(this.shardOf(key), db, w.resp === 3, w.req, [key], false);
        }
      } finally {
        this.srv.dispatcher.release(extra);
        w.busy = false;
      }
      if (out.t === 'nil') {
        this.endIfAsked(w);
        return;
      }
      if (out.t === 'wrongtype') {
        // Redis serves a key's waiters only for the type it now holds: this one waits on.
        this.endIfAsked(w);
        continue;
      }
      if (w.gone) {
        if (out.popped !== null && out.key !== null) await this.pushBack(db, w.req, out.key, out.popped);
        continue;
      }
      this.finish(w, out.bytes);
    }
  }

  // -- leaving ---------------------------------------------------------------------------

  /** A timeout or CLIENT UNBLOCK that came during a pop that found nothing. */
  private endIfAsked(w: Waiter): void {
    if (w.endWhenIdle !== null && !w.gone) this.end(w, w.endWhenIdle);
  }

  /** Times out or unblocks a waiter: its nil reply (as a timeout gives) or the UNBLOCKED error. */
  private end(w: Waiter, how: 'timeout' | 'error'): void {
    if (w.gone) return;
    if (w.busy) {
      w.endWhenIdle = how;
      return;
    }
    if (how === 'error') {
      this.forget(w);
      this.srv.replyError(w.client, w.seq, ERR_UNBLOCKED);
      return;
    }
    // Redis 7.0 times out every list and zset pop with a null array, BLMOVE's included.
    this.finish(w, resp.nilArray(w.resp));
  }

  private finish(w: Waiter, reply: Buffer): void {
    this.forget(w);
    deliver(w.client, w.seq, reply);
  }

  /** Takes a waiter out of every table; keys nobody waits on any more are unwatched on their shards. */
  private forget(w: Waiter): void {
    if (w.gone) return;
    w.gone = true;
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    if (w.deadline > 0) this.timed--;
    this.byClient.delete(w.client.id);
    w.client.blockedOnKeys = false;
    for (const id of w.ids) {
      const q = this.byKey.get(id);
      if (q === undefined) continue;
      const at = q.indexOf(w);
      if (at >= 0) q.splice(at, 1);
      if (q.length === 0) this.byKey.delete(id);
    }
    this.unwatchUnused(w.db, w.ids);
  }

  /** The client closed (or was killed): it is forgotten; a pop in flight for it is put back. */
  clientClosed(client: Client): void {
    const w = this.byClient.get(client.id);
    if (w !== undefined) this.forget(w);
  }

  /** CLIENT UNBLOCK: true when the client was blocked on keys. */
  unblock(clientId: number, how: 'timeout' | 'error'): boolean {
    const w = this.byClient.get(clientId);
    if (w === undefined || w.gone) return false;
    this.end(w, how);
    return true;
  }
}

/** db:key ids of the distinct keys, in order. */
function distinctIds(db: number, keys: readonly Buffer[]): string[] {
  const ids: string[] = [];
  for (const k of keys) {
    const id = keyId(db, k);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}
