// Start-up warm-up: the hot paths run before the first client connects.
//
// V8 compiles a function with its optimising tiers only after it has run for
// a while in the interpreter, and the compiling itself costs CPU (on V8's
// helper threads). Measured on a fresh server, the first 100k-request
// redis-benchmark run at -P 16 cost about 3x the CPU per request of the fifth
// (bench/first-run.ts): the user's first run, the one they compare, paid for
// the JIT. So before the real listeners open, the server serves a load of its
// own through a private loopback listener: the same sockets, parser, command
// lookup, dispatcher, rings, shard handlers, reply pump and socket writes as a
// client's requests, with the common commands at -P 16 and at -P 1, one
// command kind after another (as redis-benchmark runs them) and then mixed.
//
// It leaves no trace. It runs before anything else exists (there is no data
// to load yet: when persistence comes, the warm-up must run before the load or
// in a database of its own), ends with FLUSHALL, waits for its connections to
// close, and then Server.forgetWarmUp() restarts the client ids, the INFO
// counters (stats, commandstats, errorstats, the shards' hit/miss counters)
// and the slow log. Anything going wrong (no loopback, a refused connection)
// ends the warm-up early; the server starts all the same.

import net from 'node:net';
import type { Server } from './server.ts';

export interface WarmUpReport {
  /** Requests answered. */
  requests: number;
  ms: number;
  /** Why the warm-up stopped early, or null when it ran to the end. */
  aborted: string | null;
}

export interface WarmUpOptions {
  /** Concurrent connections (redis-benchmark uses 50). */
  connections: number;
  /** Pipelines per connection and per command kind at -P 16 (the -P 1 steps and the mixed pass scale from it). */
  pipelines: number;
  /** The warm-up gives up after this long. */
  timeoutMs: number;
}

// 40 pipelines: with 24, SET's and GET's handlers (setCommand, putString, getCommand) were still
// waiting for TurboFan when the warm-up ended, and the first -P 16 run paid 8-10% more CPU per
// request for them (docs/architecture.md, "Start-up warm-up"); 64 did no better than 40.
export const DEFAULT_WARM_UP: WarmUpOptions = { connections: 16, pipelines: 40, timeoutMs: 5_000 };

/** redis-benchmark's value size (-d 3). */
const VALUE = 'xxx';
/** Distinct keys per key family: enough to spread over every shard and to grow the indexes, few enough to leave no memory behind. */
const KEYS = 2048;
/** Variants of each pipeline (different keys), cycled. */
const VARIANTS = 8;
/** Elements of the list LRANGE reads (redis-benchmark's LRANGE_600 fills 600). */
const LRANGE_LIST = 600;

/** One command kind: its name (to check that the server has it) and a builder of its arguments. */
interface Kind {
  readonly command: string;
  /** Sent as an inline command (redis-benchmark's PING_INLINE). */
  readonly inline?: boolean;
  readonly args: (n: () => number) => string[];
}

const key = (family: string, n: number): string => `${family}:${String(n).padStart(12, '0')}`;

/**
 * The commands of redis-benchmark's default test list, in its order, and a few
 * more of the common ones. Kinds whose command this server does not have are
 * left out. The pushes come before the pops, so the lists stay short.
 */
const KINDS: readonly Kind[] = [
  { command: 'ping', inline: true, args: () => ['PING'] },
  { command: 'ping', args: () => ['PING'] },
  { command: 'set', args: (n) => ['SET', key('key', n()), VALUE] },
  { command: 'get', args: (n) => ['GET', key('key', n())] },
  { command: 'incr', args: (n) => ['INCR', key('counter', n())] },
  { command: 'lpush', args: (n) => ['LPUSH', key('list', n() & 15), VALUE] },
  { command: 'rpush', args: (n) => ['RPUSH', key('list', n() & 15), VALUE] },
  { command: 'lpop', args: (n) => ['LPOP', key('list', n() & 15)] },
  { command: 'rpop', args: (n) => ['RPOP', key('list', n() & 15)] },
  { command: 'sadd', args: (n) => ['SADD', key('set', n() & 15), key('element', n())] },
  { command: 'hset', args: (n) => ['HSET', key('hash', n() & 15), key('element', n()), VALUE] },
  { command: 'spop', args: (n) => ['SPOP', key('set', n() & 15)] },
  { command: 'zadd', args: (n) => ['ZADD', key('zset', n() & 15), String(n() & 1023), key('element', n())] },
  { command: 'zpopmin', args: (n) => ['ZPOPMIN', key('zset', n() & 15)] },
  { command: 'lrange', args: () => ['LRANGE', 'list:lrange', '0', '99'] },
  { command: 'lrange', args: () => ['LRANGE', 'list:lrange', '0', '599'] },
  { command: 'mset', args: (n) => ['MSET', ...Array.from({ length: 10 }, () => [key('key', n()), VALUE]).flat()] },
  { command: 'mget', args: (n) => ['MGET', ...Array.from({ length: 10 }, () => key('key', n()))] },
  { command: 'exists', args: (n) => ['EXISTS', key('key', n())] },
  { command: 'expire', args: (n) => ['EXPIRE', key('key', n()), '100000'] },
  { command: 'ttl', args: (n) => ['TTL', key('key', n())] },
  { command: 'del', args: (n) => ['DEL', key('key', n())] },
];

/** What redis-benchmark asks before each test (its fetch of the server's settings). */
const CONFIG_KINDS: readonly Kind[] = [
  { command: 'config', args: () => ['CONFIG', 'GET', 'save'] },
  { command: 'config', args: () => ['CONFIG', 'GET', 'appendonly'] },
];

function encode(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return s;
}

/** One step of a connection's plan: send `buffers[i % length]` `times` times, each time waiting for `replies` replies. */
interface Step {
  readonly buffers: readonly Buffer[];
  readonly replies: number;
  readonly times: number;
}

/** A small seeded generator, so that every start-up runs the same load. */
function numbers(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % KEYS;
  };
}

/** redis-benchmark's questions (`asks`), then each kind alone at -P 16 and at -P 1, then all of them mixed. */
function buildPlan(kinds: readonly Kind[], asks: readonly Kind[], connection: number, pipelines: number): Step[] {
  const n = numbers(0x9e3779b9 + connection * 7919);
  // Every other variant names one key (and one member) per family, as redis-benchmark without -r
  // does: the same key again and again takes other paths than fresh keys do (a value overwritten
  // in place, an INCR that keeps its digits, SADD of a member already there, a list that grows).
  const one = (): number => 0;
  const cmd = (k: Kind, g: () => number): string => (k.inline === true ? `${k.args(g).join(' ')}\r\n` : encode(k.args(g)));
  const plan: Step[] = [];
  const step = (depth: number, pick: (i: number) => Kind, times: number): void => {
    const buffers: Buffer[] = [];
    for (let v = 0; v < VARIANTS; v++) {
      let s = '';
      for (let i = 0; i < depth; i++) s += cmd(pick(v * depth + i), v % 2 === 0 ? n : one);
      buffers.push(Buffer.from(s, 'latin1'));
    }
    plan.push({ buffers, replies: depth, times });
  };
  // One kind after another, pipelined and then one by one; then all of them mixed.
  if (asks.length > 0) step(asks.length, (i) => asks[i % asks.length] as Kind, 1);
  for (const k of kinds) step(16, () => k, pipelines);
  for (const k of kinds) step(1, () => k, Math.max(1, pipelines >> 1));
  step(16, (i) => kinds[i % kinds.length] as Kind, pipelines * 2);
  step(1, (i) => kinds[i % kinds.length] as Kind, pipelines * 2);
  return plan;
}

/**
 * Counts complete RESP2 replies in a byte stream split anywhere. Only what
 * this file sends comes back: simple strings, errors, integers, bulk strings
 * and (nested) arrays.
 */
class ReplyCounter {
  complete = 0;
  /** 0 between replies' headers; else the type byte of the header being read. */
  private type = 0;
  private num = 0;
  private negative = false;
  /** Bytes of a bulk payload (and its CRLF) still to skip. */
  private skip = 0;
  /** Elements still to come in each open array, innermost last. */
  private readonly open: number[] = [];

  feed(b: Buffer): void {
    let i = 0;
    const n = b.length;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        if (this.skip === 0) this.element();
        continue;
      }
      const c = b[i++] as number;
      if (this.type === 0) {
        this.type = c;
        this.num = 0;
        this.negative = false;
        continue;
      }
      if (c === 0x0a) {
        this.header();
        continue;
      }
      if (this.type === 0x24 || this.type === 0x2a) {
        if (c === 0x2d) this.negative = true;
        else if (c >= 0x30 && c <= 0x39) this.num = this.num * 10 + (c - 0x30);
      }
    }
  }

  private header(): void {
    const t = this.type;
    this.type = 0;
    const count = this.negative ? -this.num : this.num;
    if (t === 0x24 && count >= 0) {
      this.skip = count + 2;
      if (this.skip === 0) this.element();
      return;
    }
    if (t === 0x2a && count > 0) {
      this.open.push(count);
      return;
    }
    this.element();
  }

  private element(): void {
    for (;;) {
      const last = this.open.length - 1;
      if (last < 0) {
        this.complete++;
        return;
      }
      const left = (this.open[last] as number) - 1;
      if (left > 0) {
        this.open[last] = left;
        return;
      }
      this.open.pop();
    }
  }
}

/** A client connection of the warm-up: writes a buffer, resolves once `replies` more replies came. */
class WarmUpConnection {
  private readonly counter = new ReplyCounter();
  private target = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;

  readonly socket: net.Socket;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.counter.feed(chunk);
      if (this.wake !== null && this.counter.complete >= this.target) this.settle();
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private settle(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    this.settle();
  }

  send(buffer: Buffer, replies: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.target = this.counter.complete + replies;
    this.socket.write(buffer);
    return new Promise<void>((resolve, reject) => {
      this.wake = () => (this.failure !== null && this.counter.complete < this.target ? reject(this.failure) : resolve());
    });
  }

  get requests(): number {
    return this.counter.complete;
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves once the server has forgotten every client (it does on their 'close'); rejects after 2 s. */
async function closed(srv: Server): Promise<void> {
  const deadline = performance.now() + 2000;
  while (srv.clients.size > 0) {
    if (performance.now() > deadline) throw new Error('its connections did not close');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Opens `count` connections to the warm-up listener (authenticated when requirepass is set). */
async function openConnections(srv: Server, port: number, count: number): Promise<WarmUpConnection[]> {
  const out: WarmUpConnection[] = [];
  try {
    for (let i = 0; i < count; i++) out.push(new WarmUpConnection(await connect(port)));
    const password = srv.config.requirepass;
    if (password !== '') await Promise.all(out.map((c) => c.send(Buffer.from(encode(['AUTH', password]), 'latin1'), 1)));
  } catch (e) {
    for (const c of out) c.socket.destroy();
    throw e;
  }
  return out;
}

/** Runs each connection's plan; resolves when all are done, rejects on the first failure. */
async function runPlans(connections: readonly WarmUpConnection[], plan: (i: number) => Step[]): Promise<void> {
  const runs = connections.map(async (c, i) => {
    for (const step of plan(i)) {
      for (let t = 0; t < step.times; t++) await c.send(step.buffers[t % step.buffers.length] as Buffer, step.replies);
    }
  });
  // The others must not surface as unhandled rejections when one fails first.
  for (const r of runs) r.catch(() => {});
  await Promise.all(runs);
}

/** Closes the connections and waits until the server has forgotten them; returns the replies they got. */
async function closeAll(srv: Server, connections: readonly WarmUpConnection[]): Promise<number> {
  for (const c of connections) c.socket.destroy();
  await closed(srv);
  return connections.reduce((n, c) => n + c.requests, 0);
}

/**
 * Runs the warm-up against `srv` (whose real listeners are not open yet) and
 * then makes it forget it. Never throws: a failure ends it early.
 *
 * It runs in two rounds, each on connections of its own. Things that happen
 * for the first time (a client closing, a FLUSHALL's fan-out, the first
 * connection after a close) change what V8 assumed about the objects
 * involved and throw away the optimised code that relied on it: with one
 * round they happened at its end, and the first real run compiled the hot
 * paths again. So a short first round makes them happen early, and the
 * second round, the load, runs on code that has already seen them.
 */
export async function warmUp(srv: Server, opts: WarmUpOptions = DEFAULT_WARM_UP): Promise<WarmUpReport> {
  const t0 = performance.now();
  const kinds = KINDS.filter((k) => srv.commands.has(k.command));
  const asks = CONFIG_KINDS.filter((k) => srv.commands.has(k.command));
  let listeners: net.Server[] = [];
  let port = 0;
  let aborted: string | null = null;
  let requests = 0;
  let connections: WarmUpConnection[] = [];
  let timer: NodeJS.Timeout | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done after ${opts.timeoutMs} ms`)), opts.timeoutMs);
  });
  timeout.catch(() => {});
  const count = Math.max(1, Math.min(opts.connections, srv.config.maxclients - 1));
  const flushAll = Buffer.from(encode(['FLUSHALL', 'SYNC']), 'latin1');
  try {
    listeners = await srv.listenWarmUp();
    const address = listeners[0]?.address();
    port = typeof address === 'object' && address !== null && address !== undefined ? address.port : 0;
    const fill = Array.from({ length: LRANGE_LIST / 100 }, () => encode(['LPUSH', 'list:lrange', ...Array<string>(100).fill(VALUE)]));
    // Round one, short: every kind a few times, a FLUSHALL, the connections closed.
    connections = await openConnections(srv, port, count);
    await Promise.race([runPlans(connections, (i) => buildPlan(kinds, asks, i, 2)), timeout]);
    await (connections[0] as WarmUpConnection).send(flushAll, 1);
    requests += await closeAll(srv, connections);
    // Round two, the load: on new connections.
    connections = await openConnections(srv, port, count);
    if (srv.commands.has('lpush')) await (connections[0] as WarmUpConnection).send(Buffer.from(fill.join(''), 'latin1'), fill.length);
    await Promise.race([runPlans(connections, (i) => buildPlan(kinds, asks, i, opts.pipelines)), timeout]);
  } catch (e) {
    aborted = (e as Error).message;
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  // Clean up from a connection of its own once the others are gone: a shard
  // runs what it was sent in order, so nothing the warm-up sent can land
  // after this FLUSHALL, even when the warm-up stopped half way.
  let cleaned = false;
  try {
    requests += await closeAll(srv, connections);
    if (listeners.length > 0) {
      const last = await openConnections(srv, port, 1);
      await (last[0] as WarmUpConnection).send(flushAll, 1);
      requests += await closeAll(srv, last);
      cleaned = true;
    }
  } catch (e) {
    aborted ??= `cleaning up: ${(e as Error).message}`;
  }
  for (const l of listeners) l.close();
  // Client ids restart only once every warm-up client is gone (no new client's id can meet one of theirs).
  if (cleaned) srv.forgetWarmUp();
  return { requests, ms: performance.now() - t0, aborted };
}
