import { once } from 'node:events';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';

// The keyspace lives off-heap: a million keys go into the shards'
// SharedArrayBuffer arenas, and no thread's V8 heap grows with them.
//
// The load goes through one raw socket as MSET batches of 1000 pairs (spread
// over all 4 shards), with about 100 batches in flight at a time.

const SHARDS = 4;
const KEYS = 1_000_000;
const PAIRS_PER_MSET = 1000;
const IN_FLIGHT = 100;
const MB = 1024 * 1024;
/** A thread's heap may grow by less than this; a JS Map of 1M keys would need well over 80 MB. */
const HEAP_GROWTH_LIMIT = 16 * MB;
/** 1M keys of 16 + 16 bytes: at least this much must show up in the arenas. */
const ARENA_GROWTH_MIN = 40 * MB;

interface SabreMemory {
  frontHeap: number;
  shardHeap: number[];
  shardArena: number[];
  shardKeys: number[];
}

function parseSabreInfo(text: string): SabreMemory {
  const front = /^front_heap_used:(\d+)\r?$/m.exec(text);
  if (front === null) throw new Error(`no front_heap_used in INFO sabre:\n${text}`);
  const shardHeap: number[] = [];
  const shardArena: number[] = [];
  const shardKeys: number[] = [];
  for (let i = 0; i < SHARDS; i++) {
    const line = new RegExp(`^shard${i}:(.*?)\\r?$`, 'm').exec(text);
    if (line === null) throw new Error(`no shard${i} line in INFO sabre:\n${text}`);
    const fields = new Map<string, number>();
    for (const part of (line[1] ?? '').split(',')) {
      const eq = part.indexOf('=');
      fields.set(part.slice(0, eq), Number(part.slice(eq + 1)));
    }
    const field = (name: string): number => {
      const v = fields.get(name);
      if (v === undefined || !Number.isFinite(v)) throw new Error(`shard${i} has no numeric ${name}: ${line[0]}`);
      return v;
    };
    shardHeap.push(field('heap_used'));
    shardArena.push(field('arena_used'));
    shardKeys.push(field('keys'));
  }
  return { frontHeap: Number(front[1]), shardHeap, shardArena, shardKeys };
}

/** 16 bytes: a prefix letter and the index, zero padded. */
function fixed16(prefix: string, i: number): string {
  return prefix + String(i).padStart(15, '0');
}

/** One `MSET k v k v ...` of PAIRS_PER_MSET pairs starting at key `first`. */
function msetBatch(first: number): Buffer {
  // *2001\r\n $4\r\nMSET\r\n then per pair 2 x ($16\r\n + 16 bytes + \r\n)
  const header = `*${1 + 2 * PAIRS_PER_MSET}\r\n$4\r\nMSET\r\n`;
  const pairBytes = 2 * (5 + 16 + 2);
  const buf = Buffer.allocUnsafe(header.length + PAIRS_PER_MSET * pairBytes);
  let p = buf.write(header, 0, 'latin1');
  for (let i = first; i < first + PAIRS_PER_MSET; i++) {
    p += buf.write(`$16\r\n${fixed16('k', i)}\r\n$16\r\n${fixed16('v', i)}\r\n`, p, 'latin1');
  }
  if (p !== buf.length) throw new Error(`batch size mismatch: ${p} != ${buf.length}`);
  return buf;
}

/**
 * Loads KEYS keys through one socket, keeping about IN_FLIGHT batches
 * unanswered, and resolves once every MSET was answered with +OK.
 */
async function load(port: number): Promise<void> {
  const batches = KEYS / PAIRS_PER_MSET;
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.setNoDelay(true);
  await once(sock, 'connect');
  let sent = 0;
  let answered = 0;
  let pending = '';
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const signal = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  sock.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    const whole = pending.length - (pending.length % 5);
    for (let i = 0; i < whole; i += 5) {
      if (pending.startsWith('+OK\r\n', i)) continue;
      failure ??= new Error(`unexpected reply after ${answered} batches: ${JSON.stringify(pending.slice(i, i + 200))}`);
      break;
    }
    answered += whole / 5;
    pending = pending.slice(whole);
    signal();
  });
  sock.on('drain', signal);
  sock.on('error', (e) => {
    failure ??= e;
    signal();
  });
  sock.on('close', () => {
    if (answered < batches) failure ??= new Error(`connection closed after ${answered} of ${batches} replies`);
    signal();
  });
  try {
    while (answered < batches) {
      if (failure !== null) throw failure;
      let writable = true;
      while (sent < batches && sent - answered < IN_FLIGHT && writable) {
        writable = sock.write(msetBatch(sent * PAIRS_PER_MSET));
        sent++;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure !== null) throw failure;
  } finally {
    sock.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('off-heap keyspace', () => {
  let server: ServerHandle;
  let r: Redis;

  beforeAll(async () => {
    server = await startSabre({ shards: SHARDS });
    r = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await r.connect();
  });

  afterAll(async () => {
    r?.disconnect();
    await server?.stop();
  });

  it('1M keys live in the SharedArrayBuffer arenas, not in any V8 heap', async () => {
    const before = parseSabreInfo(await r.info('sabre'));
    expect(before.shardKeys).toEqual([0, 0, 0, 0]);

    const t0 = performance.now();
    await load(server.port);
    const loadMs = performance.now() - t0;
    expect(await r.dbsize()).toBe(KEYS);
    // Spot checks at both ends and in the middle.
    expect(await r.mget(fixed16('k', 0), fixed16('k', 499_999), fixed16('k', KEYS - 1), fixed16('k', KEYS))).toEqual([
      fixed16('v', 0), fixed16('v', 499_999), fixed16('v', KEYS - 1), null,
    ]);

    // Garbage from the load may not be collected yet, and an idle V8 collects
    // it only when its memory reducer kicks in (about 8 s after the last busy
    // period). So: sample every 500 ms, keep each thread's smallest heap, and
    // stop once every thread is back near its empty size (after at least 3
    // samples) or after 30 s. Live data (a JS Map of 1M keys) would never settle.
    let minFront = Infinity;
    const minShard: number[] = new Array<number>(SHARDS).fill(Infinity);
    let after = before;
    const deadline = Date.now() + 30_000;
    for (let sample = 0; ; sample++) {
      if (sample > 0) await sleep(500);
      after = parseSabreInfo(await r.info('sabre'));
      minFront = Math.min(minFront, after.frontHeap);
      after.shardHeap.forEach((h, i) => {
        minShard[i] = Math.min(minShard[i] ?? Infinity, h);
      });
      const settled = minFront - before.frontHeap < HEAP_GROWTH_LIMIT &&
        minShard.every((h, i) => h - (before.shardHeap[i] ?? 0) < HEAP_GROWTH_LIMIT);
      if ((sample >= 2 && settled) || Date.now() > deadline) break;
    }

    const growth = {
      front: minFront - before.frontHeap,
      shards: minShard.map((h, i) => h - (before.shardHeap[i] ?? 0)),
      arena: after.shardArena.reduce((a, b) => a + b, 0) - before.shardArena.reduce((a, b) => a + b, 0),
    };
    const report = `load took ${Math.round(loadMs)} ms; growth: front heap ${(growth.front / MB).toFixed(1)} MB, ` +
      `shard heaps ${growth.shards.map((g) => (g / MB).toFixed(1)).join('/')} MB, ` +
      `arenas ${(growth.arena / MB).toFixed(1)} MB`;

    // The keys are spread over every shard.
    expect(after.shardKeys.reduce((a, b) => a + b, 0), report).toBe(KEYS);
    for (const k of after.shardKeys) expect(k, report).toBeGreaterThan(KEYS / SHARDS / 2);

    expect(growth.front, report).toBeLessThan(HEAP_GROWTH_LIMIT);
    for (const g of growth.shards) expect(g, report).toBeLessThan(HEAP_GROWTH_LIMIT);
    expect(growth.arena, report).toBeGreaterThanOrEqual(ARENA_GROWTH_MIN);
  }, 120_000);
});
