import { MAX_FRONT_THREADS, REQF_RESP3 } from '../../native-layout/layout.ts';
import { ERR_SYNTAX } from '../commands/errors.ts';
import type { Argv } from '../protocol/argv.ts';
import { parseReply, replyLength, RespDouble, type RespValue } from '../protocol/reply-reader.ts';
import * as resp from '../protocol/resp.ts';
import { BLOCK_REPLY, countShardError, type Client } from './client.ts';
import { logWarning } from './log.ts';
import type { Server } from './server.ts';

// Blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
// BZMPOP, as Redis 7.0's blocked.c / t_list.c / t_zset.c do them. The front's
// side; the shards' side is commands/blocking.ts.
//
// - A blocking command runs from the front. Its first try is one __bpop per
//   run of its keys on one shard (in key order, with the shards held when
//   there are several): the shard pops as LMPOP / ZMPOP / LMOVE would, or,
//   finding nothing, queues the waiter (a token) on those keys in the same
//   step, so any later write sees it.
// - The client stays BLOCK_REPLY on the command's sequence number, so what
//   it pipelined after waits behind it (one client, one order).
// - Each shard serves its keys' queues itself, first come first served,
//   right after the write that gave a key elements (any write: pushes, LMOVE,
//   RENAME, COPY, MOVE, SWAPDB...), before its next request, as Redis's
//   handleClientsBlockedOnKeys does after each command. The reply of that
//   write carries what the waiters got (REPF_READY trailer), and the front
//   hands it over. A waiter on keys of several shards is queued on each, and
//   two shards may pop for it at once: the front keeps the first pop and
//   pushes the other back. A BLMOVE to another shard is not popped for by a
//   shard (the move would not be atomic): when it comes first, its shard
//   reports the key and parks that queue; the front holds the shard, moves
//   the element (serveKey), and tells the shard to go on (__bnext).
// - A timeout is one timer per waiter. A waiter that times out, is unblocked,
//   or whose client closes is cancelled on its shards (__bcancel); a pop the
//   shard made for it meanwhile is pushed back where it came from, so
//   nothing is lost.
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

interface Waiter {
  readonly token: number;
  readonly client: Client;
  readonly seq: number;
  readonly db: number;
  readonly resp: number;
  readonly req: BlockingRequest;
  readonly ids: string[];
  /**
   * Its shards pop for it themselves, right after the write that fed a key
   * (all but a BLMOVE to another shard). A waiter on keys of several shards
   * can then be popped for by two of them at once: the front keeps the first
   * and pushes the other back.
   */
  readonly servable: boolean;
  /** Shards where it is queued (runs of its first try that found nothing). */
  readonly queuedOn: number[];
  readonly deadline: number;
  timer: NodeJS.Timeout | null;
  state: 'trying' | 'waiting' | 'done';
  /** What a shard popped for it while its first try was still in flight. */
  early: Buffer | null;
  /** The front pops for it now: a timeout or unblock waits for the outcome. */
  busy: boolean;
  endWhenIdle: 'timeout' | 'error' | null;
  readonly settled: Promise<void>;
  settle: () => void;
}

/** Hands a reply to the client; an error from a shard counts in errorstats as the shard's own replies do. */
function deliver(client: Client, seq: number, reply: Buffer): void {
  if (isError(reply)) countShardError(reply, 0, reply.length);
  client.deliver(seq, reply, 0, reply.length);
}

/**
 * What a pop gave, as the blocking command replies: LMPOP / ZMPOP replies
 * ([key, elements]) become BLPOP's [key, element] and BZPOPMIN's [key,
 * member, score]; BLMPOP / BZMPOP and BLMOVE reply as the shard did.
 */
function outcomeOf(req: BlockingRequest, reply: Buffer): Outcome {
  if (isError(reply)) return isWrongType(reply) ? { t: 'wrongtype', bytes: reply } : { t: 'reply', bytes: reply, popped: null, key: null };
  if (isNil(reply)) return { t: 'nil' };
  if (req.dst !== null) return { t: 'reply', bytes: reply, popped: null, key: null };
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

/** db:key ids of the distinct keys, in order. */
function distinctIds(db: number, keys: readonly Buffer[]): string[] {
  const ids: string[] = [];
  for (const k of keys) {
    const id = keyId(db, k);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

interface ReadyKey {
  readonly id: string;
  readonly db: number;
  readonly key: Buffer;
  readonly token: number;
  readonly shard: number;
}

/**
 * The waiters, their first tries, and the front's share of the wake-ups.
 * One per server (Server.blocking).
 */
export class Blocking {
  private readonly srv: Server;
  /**
   * Waiter tokens name their front thread in their low bits (token modulo
   * MAX_FRONT_THREADS): a shard sends what a waiter got to that front.
   */
  private nextToken: number;
  /** Every waiter a shard may still name: trying, waiting, or done with cancels in flight. */
  private readonly byToken = new Map<number, Waiter>();
  /** Waiting clients (INFO blocked_clients, CLIENT UNBLOCK). */
  private readonly byClient = new Map<number, Waiter>();
  /** Keys reported for the front to serve, in order; their shards are held meanwhile. */
  private readonly ready: ReadyKey[] = [];
  private serving = false;
  /** Waiters with a timeout (INFO clients_in_timeout_table). */
  private timed = 0;

  constructor(srv: Server) {
    this.srv = srv;
    this.nextToken = srv.peers.index + MAX_FRONT_THREADS;
    for (const link of srv.links) link.onReadyKeys = (u8, start, end, takePorted) => this.onTrailer(u8, start, end, takePorted);
  }

  /** INFO blocked_clients. */
  get blockedClients(): number {
    return this.byClient.size;
  }

  /** INFO clients_in_timeout_table. */
  get clientsWithTimeout(): number {
    return this.timed;
  }

  get hasReady(): boolean {
    return this.ready.length > 0 && !this.serving;
  }

  private shardOf(key: Uint8Array): number {
    return this.srv.dispatcher.shardOf(key, 0, key.length);
  }

  /** One shard call, published with the turn's other records (the flush this asks for). */
  private call(shard: number, name: string, db: number, args: ReadonlyArray<string | Uint8Array>, resp3: boolean): Promise<Buffer> {
    const p = this.srv.dispatcher.call(shard, name, db, resp3 ? REQF_RESP3 : 0, args, true);
    this.srv.afterBatch();
    return p;
  }

  // -- running a blocking command ---------------------------------------------------

  /**
   * Runs a blocking command (called by Server.run with its shards free):
   * serves it now, or leaves its client waiting. Its sequence number is
   * taken now; the client's next command waits for its reply. Keys all on
   * one shard (the common case) need no hold: their __bpop is one step
   * there. Keys on several shards are tried in order with those shards
   * held, so the first key in the command's order that has something serves.
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
    const keyShards = shards.length;
    if (req.dst !== null) {
      const ds = this.shardOf(req.dst);
      if (!shards.includes(ds)) shards.push(ds);
    }
    const held = shards.length > 1 ? shards : [];
    this.srv.dispatcher.sequencer.hold(held);
    // Other front threads are kept off those shards too while the first try runs (a ring
    // without room now leaves this one try ordered on this front only).
    const locked = held.length > 0 && this.srv.dispatcher.lockShards(held) ? held : [];
    client.blocked = BLOCK_REPLY;
    client.awaitSeq = seq;
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => { settle = resolve; });
    const w: Waiter = {
      token: this.takeToken(), client, seq, db: client.db, resp: client.resp, req, ids: distinctIds(client.db, req.keys),
      servable: req.dst === null || (keyShards === 1 && shards.length === 1), queuedOn: [],
      deadline: req.timeoutMs > 0 ? Date.now() + req.timeoutMs : 0, timer: null, state: 'trying', early: null,
      busy: false, endWhenIdle: null, settled, settle,
    };
    this.byToken.set(w.token, w);
    this.firstTry(w).then(
      (reply) => this.started(w, reply, held, locked),
      (e: Error) => {
        logWarning(`Blocking '${name}' failed: ${e.stack ?? e.message}`);
        this.started(w, resp.error(`ERR ${e.message}`), held, locked);
      },
    );
  }

  private takeToken(): number {
    const t = this.nextToken;
    // u32 on the wire; after 2^32 the count starts again at this front's index.
    this.nextToken = t + MAX_FRONT_THREADS >= 2 ** 32 ? this.srv.peers.index + MAX_FRONT_THREADS : t + MAX_FRONT_THREADS;
    return t;
  }

  /** The __bpop prefix: token, servable, protocol, the keys to queue on. */
  private bpop(w: Waiter, keys: readonly Buffer[]): Array<string | Uint8Array> {
    return [String(w.token), w.servable ? '1' : '0', w.resp === 3 ? '1' : '0', String(keys.length), ...keys];
  }

  /** The keys in order, one __bpop per run of keys on one shard, until one gives something or errs. */
  private async firstTry(w: Waiter): Promise<Buffer | null> {
    const { req, db } = w;
    const resp3 = w.resp === 3;
    if (req.dst !== null) {
      const src = req.keys[0];
      const srcShard = this.shardOf(src);
      if (w.servable) {
        const reply = await this.call(srcShard, '__bpop', db,
          [...this.bpop(w, [src]), 'lmove', src, req.dst, req.where, req.dstWhere], resp3);
        if (!isNil(reply)) return reply;
        w.queuedOn.push(srcShard);
        return null;
      }
      const out = await this.move(w, src, true);
      if (out.t !== 'nil') return out.bytes;
      w.queuedOn.push(srcShard);
      return null;
    }
    let i = 0;
    while (i < req.keys.length) {
      const shard = this.shardOf(req.keys[i]);
      let j = i + 1;
      while (j < req.keys.length && this.shardOf(req.keys[j]) === shard) j++;
      const run = req.keys.slice(i, j);
      const pop: Array<string | Uint8Array> = [req.kind === 'list' ? 'lmpop' : 'zmpop', String(run.length), ...run, req.where];
      if (req.nested) pop.push('COUNT', String(req.count));
      const out = outcomeOf(req, await this.call(shard, '__bpop', db, [...this.bpop(w, run), ...pop], resp3));
      if (out.t !== 'nil') return out.bytes;
      w.queuedOn.push(shard);
      i = j;
    }
    return null;
  }

  private started(w: Waiter, reply: Buffer | null, held: number[], locked: number[]): void {
    const client = w.client;
    this.srv.dispatcher.unlockShards(locked);
    if (reply !== null || client.closed || w.early !== null) {
      // Served now (by the first try, or by its shard right after it queued), or its client left.
      if (reply === null && w.early !== null) {
        const out = outcomeOf(w.req, w.early);
        if (client.closed) void this.pushBack(w, w.early);
        else reply = out.t === 'nil' ? resp.nilArray(w.resp) : out.bytes;
      } else if (w.early !== null) {
        // A later run served it, and a shard where an earlier run queued it popped for it meanwhile.
        void this.pushBack(w, w.early);
      }
      const retired = this.retire(w);
      this.srv.dispatcher.sequencer.release(held);
      const r = reply;
      if (r !== null && !client.closed) this.afterCancels(retired, () => deliver(client, w.seq, r));
    } else {
      w.state = 'waiting';
      this.byClient.set(client.id, w);
      client.blockedOnKeys = true;
      if (w.deadline > 0) {
        this.timed++;
        this.armTimer(w);
      }
      this.srv.dispatcher.sequencer.release(held);
    }
    w.settle();
    if (held.length > 0) this.srv.pump();
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

  // -- the front's pops -------------------------------------------------------------

  /**
   * BLMOVE to another shard, as the cross-shard LMOVE does it: read the
   * element, push it on the destination, then pop it from the source; a
   * destination of the wrong type leaves both lists as they were. A waiter
   * that left before the push takes nothing. `first`: the read is the
   * waiter's __bpop (it queues when the source is empty).
   */
  private async move(w: Waiter, src: Buffer, first: boolean): Promise<Outcome> {
    const { req, db } = w;
    const resp3 = w.resp === 3;
    const dst = req.dst as Buffer;
    const fromLeft = req.where === 'left';
    const srcShard = this.shardOf(src);
    const index = fromLeft ? '0' : '-1';
    const peek = first
      ? await this.call(srcShard, '__bpop', db, [...this.bpop(w, [src]), 'lindex', src, index], resp3)
      : await this.call(srcShard, 'lindex', db, [src, index], resp3);
    if (isError(peek)) return isWrongType(peek) ? { t: 'wrongtype', bytes: peek } : { t: 'reply', bytes: peek, popped: null, key: null };
    if (isNil(peek) || (!first && (w.state as Waiter['state']) === 'done')) return { t: 'nil' };
    const element = Buffer.from(bulkBody(peek));
    const pushed = await this.call(this.shardOf(dst), req.dstWhere === 'left' ? 'lpush' : 'rpush', db, [dst, element], resp3);
    if (isError(pushed)) return { t: 'reply', bytes: pushed, popped: null, key: null };
    const popped = await this.call(srcShard, fromLeft ? 'lpop' : 'rpop', db, [src], resp3);
    if (isError(popped)) return { t: 'reply', bytes: popped, popped: null, key: null };
    // Moved: the element is in the destination, so nothing is lost if the client has left meanwhile.
    return { t: 'reply', bytes: resp.bulk(element), popped: null, key: null };
  }

  /** Puts back what a pop took for a waiter that is gone (LPUSH/RPUSH in reverse, ZADD): nothing is lost. */
  private async pushBack(w: Waiter, reply: Buffer): Promise<void> {
    const req = w.req;
    if (req.dst !== null || isError(reply) || isNil(reply)) return; // a move left its element in the destination
    const [keyBytes, elements] = arrayItems(reply);
    const key = Buffer.from(bulkBody(keyBytes));
    const popped = parseReply(elements)?.value;
    if (!Array.isArray(popped) || popped.length === 0) return;
    const shard = this.shardOf(key);
    if (req.kind === 'list') {
      // Popped from the left in order e1..en: LPUSH en..e1 restores them (likewise on the right).
      const items = (popped as RespValue[]).map((e) => e as Uint8Array).reverse();
      await this.call(shard, req.where === 'left' ? 'lpush' : 'rpush', w.db, [key, ...items], false);
    } else {
      const args: Array<string | Uint8Array> = [key];
      for (const pair of popped as RespValue[]) {
        const [member, score] = pair as RespValue[];
        args.push(score instanceof RespDouble ? String(score.value) : Buffer.from(score as Uint8Array), member as Uint8Array);
      }
      await this.call(shard, 'zadd', w.db, args, false);
    }
  }

  // -- wake-ups -----------------------------------------------------------------------

  /** A shard's trailer (native-layout REPF_READY), met while draining its replies. */
  private onTrailer(u8: Uint8Array, start: number, end: number, takePorted: () => Uint8Array): void {
    const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const n = v.getUint32(start, true);
    let p = start + 4;
    for (let i = 0; i < n && p + 12 <= end; i++) {
      const kind = v.getUint32(p, true);
      if (kind === 1) {
        const token = v.getUint32(p + 4, true);
        const len = v.getUint32(p + 8, true);
        this.served(token, Buffer.from(u8.subarray(p + 12, p + 12 + len)));
        p += 12 + len;
      } else if (kind === 3) {
        // A big reply: its bytes came over the side port.
        const bytes = takePorted();
        this.served(v.getUint32(p + 4, true), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        p += 12;
      } else {
        const db = v.getUint32(p + 4, true);
        const token = v.getUint32(p + 8, true);
        const len = v.getUint32(p + 12, true);
        const key = Buffer.from(u8.subarray(p + 16, p + 16 + len));
        p += 16 + len;
        const shard = this.shardOf(key);
        this.srv.dispatcher.sequencer.hold([shard]);
        this.ready.push({ id: keyId(db, key), db, key, token, shard });
      }
    }
  }

  /** A shard popped for a waiter (its raw LMPOP / ZMPOP / LMOVE reply). */
  private served(token: number, reply: Buffer): void {
    const w = this.byToken.get(token);
    if (w === undefined) return;
    if (w.state === 'trying') {
      // Served by the shard where it queued while the rest of its first try runs; a second such pop goes back.
      if (w.early === null) w.early = reply;
      else void this.pushBack(w, reply);
    } else if (w.state === 'waiting') {
      const out = outcomeOf(w.req, reply);
      const retired = this.retire(w);
      this.afterCancels(retired, () => deliver(w.client, w.seq, out.t === 'nil' ? resp.nilArray(w.resp) : out.bytes));
    } else {
      // It timed out, was unblocked or left while the shard served it.
      void this.pushBack(w, reply);
    }
  }

  /**
   * Serves the reported keys, one after another (called by Server.pump after
   * a drain, before anything that waited runs).
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
      const r = this.ready.shift() as ReadyKey;
      try {
        await this.serveKey(r);
      } finally {
        this.srv.dispatcher.sequencer.release([r.shard]);
      }
    }
  }

  /** The waiter a shard reported first on a key it cannot pop for alone: the front pops, then the shard goes on. */
  private async serveKey(r: ReadyKey): Promise<void> {
    const w = this.byToken.get(r.token);
    if (w !== undefined && w.state === 'trying') await w.settled;
    if (w === undefined || w.state !== 'waiting') {
      void this.call(r.shard, '__bnext', r.db, [r.key, String(r.token), 'drop'], false);
      return;
    }
    w.busy = true;
    let out: Outcome;
    let extra: number[] = [];
    try {
      if (w.req.dst !== null) {
        const ds = this.shardOf(w.req.dst);
        if (ds !== r.shard) extra = [ds];
        this.srv.dispatcher.sequencer.hold(extra);
        out = await this.move(w, r.key, false);
      } else {
        const req = w.req;
        const args: Array<string | Uint8Array> = ['1', r.key, req.where];
        if (req.nested) args.push('COUNT', String(req.count));
        out = outcomeOf(req, await this.call(r.shard, req.kind === 'list' ? 'lmpop' : 'zmpop', r.db, args, w.resp === 3));
      }
    } finally {
      this.srv.dispatcher.sequencer.release(extra);
      w.busy = false;
    }
    // It may have left while the pop was in flight.
    const left = (w.state as Waiter['state']) === 'done';
    if (out.t === 'reply') {
      if (left) {
        if (out.popped !== null && out.key !== null) await this.pushBackPopped(w, out.key, out.popped);
        void this.call(r.shard, '__bnext', r.db, [r.key, String(r.token), 'drop'], false);
      } else {
        // Its cancels reach every shard it is queued on, this one included (which goes on from there).
        this.finish(w, out.bytes);
      }
      return;
    }
    // Nothing there after all (nil), or a type it does not pop: it waits on, and the key's queue goes on past it.
    void this.call(r.shard, '__bnext', r.db, [r.key, String(r.token), 'skip'], false);
    if (w.endWhenIdle !== null && !left) this.end(w, w.endWhenIdle);
  }

  private async pushBackPopped(w: Waiter, key: Buffer, popped: RespValue): Promise<void> {
    const raw = resp.array([resp.bulk(key), Buffer.from(encodeValue(popped))]);
    await this.pushBack(w, raw);
  }

  // -- leaving ---------------------------------------------------------------------------

  /** Times out or unblocks a waiter: the null array a timeout gives, or the UNBLOCKED error. */
  private end(w: Waiter, how: 'timeout' | 'error'): void {
    if (w.state !== 'waiting') return;
    if (w.busy) {
      w.endWhenIdle = how;
      return;
    }
    const retired = this.retire(w);
    this.afterCancels(retired, () => {
      if (how === 'error') this.srv.replyError(w.client, w.seq, ERR_UNBLOCKED);
      // Redis 7.0 times out every list and zset pop with a null array, BLMOVE's included.
      else deliver(w.client, w.seq, resp.nilArray(w.resp));
    });
  }

  private finish(w: Waiter, reply: Buffer): void {
    const retired = this.retire(w);
    this.afterCancels(retired, () => deliver(w.client, w.seq, reply));
  }

  /**
   * Replies once the waiter has left every other shard's queue. With one front
   * thread a later command of anyone reaches those shards after the cancels
   * (one ring each), so the reply goes at once. With several, another front's
   * push could reach a shard before this front's cancel and be popped for a
   * waiter that was already served: the reply waits for the cancels, so that
   * whatever its client does next comes after them.
   */
  private afterCancels(cancels: Promise<unknown> | null, reply: () => void): void {
    if (cancels === null || this.srv.peers.single) reply();
    else void cancels.finally(() => {
      reply();
      this.srv.afterBatch();
    });
  }

  /**
   * Takes a waiter out: no timer, not counted, cancelled on every shard it is
   * queued on. It stays known (byToken) until the cancels are through, so that
   * a pop a shard made for it meanwhile is recognised and put back.
   */
  /** Forgets a waiter; resolves once its cancels have reached the shards it was queued on (null: none sent). */
  private retire(w: Waiter): Promise<unknown> | null {
    if (w.state === 'done') return null;
    const wasWaiting = w.state === 'waiting';
    w.state = 'done';
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    if (wasWaiting) {
      if (w.deadline > 0) this.timed--;
      this.byClient.delete(w.client.id);
      w.client.blockedOnKeys = false;
    }
    if (w.queuedOn.length === 0) {
      this.byToken.delete(w.token);
      return null;
    }
    const cancels = Promise.all(w.queuedOn.map((s) => this.call(s, '__bcancel', w.db, [String(w.token)], false)));
    void cancels.finally(() => this.byToken.delete(w.token));
    return cancels;
  }

  /** The client closed (or was killed): it is forgotten; what a shard popped for it meanwhile is put back. */
  clientClosed(client: Client): void {
    const w = this.byClient.get(client.id);
    if (w !== undefined) this.retire(w);
  }

  /** CLIENT UNBLOCK: true when the client was blocked on keys. */
  unblock(clientId: number, how: 'timeout' | 'error'): boolean {
    const w = this.byClient.get(clientId);
    if (w === undefined || w.state !== 'waiting') return false;
    this.end(w, how);
    return true;
  }
}

/** A decoded reply encoded back in RESP2 (arrays of bulks, doubles as bulks): for pushing elements back. */
function encodeValue(v: RespValue): Uint8Array {
  if (Array.isArray(v)) return resp.array(v.map((x) => encodeValue(x)));
  if (v instanceof RespDouble) return resp.bulk(String(v.value));
  if (v instanceof Uint8Array) return resp.bulk(v);
  return resp.bulk(String(v));
}
