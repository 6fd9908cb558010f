import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keyHashSlot } from '../../src/util/crc16.ts';
import { FrontPool, ReplyError, info, type PlacedConn, type Reply, type RespConn } from '../helpers/fronts.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';

// Issue 8, "How it is tested": with two front threads (io-threads 2) and 4 shards,
// writers on connections of both fronts change keys that live on different
// shards with multi-shard commands (MSET, RENAME, COPY, DEL), while readers on
// connections of both fronts check that they never see half of one, and never
// go back in time: not within one reader's successive reads, and not behind a
// write whose reply arrived before the read was sent (whatever front served it).
// Each scenario runs for a bounded time.

const SHARDS = 4;
const IO_THREADS = 2;
const RUN_MS = 2500;
/** Connections opened on each front: half write, half read. */
const PER_FRONT = 8;

/** The shard of a key: CRC16 slot ranges map to shards contiguously (slot * shards / 16384). */
function shardOf(key: string): number {
  const b = Buffer.from(key, 'latin1');
  return Math.floor((keyHashSlot(b, 0, b.length) * SHARDS) / 16384);
}

/** `n` keys `prefix<i>` whose shards cycle 0, 1, 2, 3, 0, 1, ... (so neighbours are on different shards). */
function keysOverShards(prefix: string, n: number): string[] {
  const byShard: string[][] = Array.from({ length: SHARDS }, () => []);
  for (let i = 0; byShard.some((l) => l.length < Math.ceil(n / SHARDS)); i++) {
    const k = `${prefix}${i}`;
    byShard[shardOf(k)]?.push(k);
  }
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) out.push(byShard[i % SHARDS]?.[Math.floor(i / SHARDS)] ?? '');
  return out;
}

/** Runs every loop until RUN_MS passed. */
async function runLoops(loops: ReadonlyArray<(deadline: number) => Promise<void>>): Promise<void> {
  const deadline = Date.now() + RUN_MS;
  await Promise.all(loops.map((l) => l(deadline)));
}

/** Violations, with the first few kept for the failure message. */
class Violations {
  count = 0;
  readonly first: string[] = [];
  add(what: string): void {
    this.count++;
    if (this.first.length < 10) this.first.push(what);
  }
}

const num = (r: Reply): number => (typeof r === 'string' ? Number(r) : NaN);

/** INFO sabre's `keys=` of every shard. */
async function keysPerShard(c: RespConn): Promise<number[]> {
  const m = await info(c, 'sabre');
  const out: number[] = [];
  for (let i = 0; i < SHARDS; i++) out.push(Number(/(?:^|,)keys=(\d+)/.exec(m.get(`shard${i}`) ?? '')?.[1] ?? NaN));
  return out;
}

// Both ways of running the shards, whatever the machine's default: a thread
// each, and `embedded-shards yes` (front thread i runs shard i in its own event
// loop; the other front reaches it through its rings).
describe.each([
  { mode: 'shard threads', extra: ['--embedded-shards', 'no'] },
  { mode: 'embedded shards', extra: ['--embedded-shards', 'yes'] },
])(`io-threads ${IO_THREADS}, ${SHARDS} shards, $mode: multi-shard commands are atomic across front threads`, ({ extra }) => {
  let server: ServerHandle;
  let pool: FrontPool;
  let writers: PlacedConn[];
  let readers: PlacedConn[];

  beforeAll(async () => {
    server = await startSabre({ shards: SHARDS, args: ['--io-threads', String(IO_THREADS), ...extra] });
    pool = await FrontPool.create(server.port);
    const by = await pool.spread(PER_FRONT);
    const half = PER_FRONT / 2;
    // Writers and readers on both fronts: every reader has writers on the other front.
    writers = by.flatMap((l) => l.slice(0, half));
    readers = by.flatMap((l) => l.slice(half, PER_FRONT));
  }, 120_000);

  afterAll(async () => {
    pool?.closeAll();
    await server?.stop();
  });

  beforeEach(async () => {
    expect(await pool.observer.str('FLUSHALL')).toBe('OK');
  });

  it('spreads the connections over both fronts (INFO sabre front_<i>_connected_clients)', async () => {
    const counts = await pool.settledCounts();
    expect(counts).toHaveLength(IO_THREADS);
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(PER_FRONT);
    expect(new Set(writers.map((w) => w.front)).size).toBe(IO_THREADS);
    expect(new Set(readers.map((r) => r.front)).size).toBe(IO_THREADS);
    // Ids are unique across fronts.
    const ids = pool.placed.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('MSET of 8 keys on 4 shards: every MGET sees one round, reads never go back in time', async () => {
    const groups = writers.map((_, g) => keysOverShards(`mset:g${g}:`, 8));
    // The keys really are on different shards: 2 of each group on every shard, as the server counts them.
    for (const keys of groups) expect(new Set(keys.map(shardOf)).size).toBe(SHARDS);
    await pool.observer.call('MSET', ...groups.flat().flatMap((k) => [k, '0']));
    expect(await keysPerShard(pool.observer)).toEqual(Array(SHARDS).fill(groups.flat().length / SHARDS));

    const acked = groups.map(() => 0); // the last round whose MSET reply arrived
    const bad = new Violations();
    let mgets = 0;
    let chains = 0;

    const writeLoop = (w: PlacedConn, g: number) => async (deadline: number): Promise<void> => {
      const keys = groups[g] ?? [];
      let round = 0;
      while (Date.now() < deadline) {
        // A few rounds per write, pipelined, so that the fronts see bursts.
        const batch: string[][] = [];
        for (let j = 0; j < 4; j++) batch.push(['MSET', ...keys.flatMap((k) => [k, String(round + j + 1)])]);
        const replies = await w.conn.pipeline(batch);
        for (const r of replies) if (r !== 'OK') bad.add(`MSET replied ${JSON.stringify(r)}`);
        round += batch.length;
        acked[g] = round;
      }
    };

    const readLoop = (r: PlacedConn, seed: number) => async (deadline: number): Promise<void> => {
      const rnd = mulberry32(seed);
      const seen = groups.map(() => 0);
      const check = (g: number, v: number, floor: number, what: string): void => {
        if (!Number.isInteger(v)) bad.add(`${what}: not a round: ${v}`);
        else if (v < floor) bad.add(`${what}: round ${v} after the MSET of round ${floor} was acknowledged (front ${r.front})`);
        else if (v < (seen[g] ?? 0)) bad.add(`${what}: round ${v} after this reader saw ${seen[g]} (front ${r.front})`);
        else seen[g] = v;
      };
      while (Date.now() < deadline) {
        const g = Math.floor(rnd() * groups.length);
        const keys = groups[g] ?? [];
        const pick = rnd();
        if (pick < 0.4) {
          // One MGET of the group: one single round.
          const floor = acked[g] ?? 0;
          const vs = await r.conn.call('MGET', ...keys);
          mgets++;
          if (!Array.isArray(vs) || new Set(vs).size !== 1) bad.add(`MGET group ${g} saw ${JSON.stringify(vs)}`);
          else check(g, num(vs[0] ?? null), floor, `MGET group ${g}`);
        } else if (pick < 0.6) {
          // One MGET of every group: each group one round.
          const floors = [...acked];
          const vs = await r.conn.call('MGET', ...groups.flat());
          mgets++;
          if (!Array.isArray(vs)) {
            bad.add(`MGET of all replied ${JSON.stringify(vs)}`);
            continue;
          }
          groups.forEach((ks, h) => {
            const part = vs.slice(h * ks.length, (h + 1) * ks.length);
            if (new Set(part).size !== 1) bad.add(`MGET of all: group ${h} saw ${JSON.stringify(part)}`);
            else check(h, num(part[0] ?? null), floors[h] ?? 0, `MGET of all, group ${h}`);
          });
        } else {
          // The keys one after another, each GET after the previous reply.
          for (const k of keys) {
            const floor = acked[g] ?? 0;
            check(g, num(await r.conn.call('GET', k)), floor, `GET ${k}`);
          }
          chains++;
        }
      }
    };

    await runLoops([
      ...writers.map((w, g) => writeLoop(w, g)),
      ...readers.map((r, i) => readLoop(r, 1000 + i)),
    ]);
    expect(bad.first).toEqual([]);
    expect(bad.count).toBe(0);
    expect(mgets).toBeGreaterThan(100);
    expect(chains).toBeGreaterThan(20);
    for (const a of acked) expect(a).toBeGreaterThan(20);
    // The last round of every group is what a reader on either front gets now.
    for (const r of [readers[0], readers[readers.length - 1]]) {
      for (const [g, keys] of groups.entries()) {
        expect(await r?.conn.call('MGET', ...keys)).toEqual(keys.map(() => String(acked[g])));
      }
    }
  }, 60_000);

  it('RENAME around a ring of 8 keys on 4 shards: exactly one of them exists at any moment', async () => {
    const RING = 8;
    const ringWriters = writers.slice(0, 4);
    const rings = ringWriters.map((_, i) => keysOverShards(`ring${i}:`, RING));
    for (const ring of rings) {
      for (let j = 0; j < RING; j++) expect(shardOf(ring[j] ?? '')).not.toBe(shardOf(ring[(j + 1) % RING] ?? ''));
      expect(await pool.observer.call('SET', ring[0] ?? '', 'token')).toBe('OK');
    }
    // moves[i]: RENAMEs acknowledged on ring i; the key is at position moves % RING.
    const moves = rings.map(() => 0);
    const bad = new Violations();
    let reads = 0;
    let placed = 0;

    const writeLoop = (w: PlacedConn, i: number) => async (deadline: number): Promise<void> => {
      const ring = rings[i] ?? [];
      while (Date.now() < deadline) {
        const at = (moves[i] ?? 0) % RING;
        const r = await w.conn.call('RENAME', ring[at] ?? '', ring[(at + 1) % RING] ?? '');
        if (r !== 'OK') bad.add(`RENAME on ring ${i} replied ${JSON.stringify(r)}`);
        moves[i] = (moves[i] ?? 0) + 1;
      }
    };

    /** The position must be that of a move count in [from, to] (checked only when that range is shorter than the ring). */
    const checkPosition = (i: number, pos: number, from: number, to: number, what: string): void => {
      if (to - from + 1 >= RING) return;
      placed++;
      for (let m = from; m <= to; m++) if (m % RING === pos) return;
      bad.add(`${what}: ring ${i} key at position ${pos}, but between the read's send and its reply ${from}..${to} moves were done`);
    };

    const readLoop = (r: PlacedConn, seed: number) => async (deadline: number): Promise<void> => {
      const rnd = mulberry32(seed);
      while (Date.now() < deadline) {
        const i = Math.floor(rnd() * rings.length);
        const ring = rings[i] ?? [];
        const from = moves[i] ?? 0;
        if (rnd() < 0.5) {
          const n = await r.conn.call('EXISTS', ...ring);
          if (n !== 1) bad.add(`EXISTS over ring ${i} (front ${r.front}) = ${JSON.stringify(n)}`);
        } else {
          const vs = await r.conn.call('MGET', ...ring);
          const to = (moves[i] ?? 0) + 1; // at most one RENAME in flight
          const present = Array.isArray(vs) ? vs.flatMap((v, j) => (v === null ? [] : [j])) : [];
          if (!Array.isArray(vs) || present.length !== 1 || vs[present[0] ?? 0] !== 'token') {
            bad.add(`MGET over ring ${i} (front ${r.front}) = ${JSON.stringify(vs)}`);
          } else {
            checkPosition(i, present[0] ?? -1, from, to, 'MGET');
          }
        }
        reads++;
      }
    };

    await runLoops([
      ...ringWriters.map((w, i) => writeLoop(w, i)),
      ...readers.map((r, i) => readLoop(r, 2000 + i)),
    ]);
    expect(bad.first).toEqual([]);
    expect(bad.count).toBe(0);
    expect(reads).toBeGreaterThan(200);
    expect(placed).toBeGreaterThan(50);
    for (const m of moves) expect(m).toBeGreaterThan(RING * 3);
    for (const [i, ring] of rings.entries()) {
      const at = (moves[i] ?? 0) % RING;
      expect(await readers[0]?.conn.call('MGET', ...ring)).toEqual(ring.map((_, j) => (j === at ? 'token' : null)));
    }
  }, 60_000);

  it('COPY chains a -> b -> c on 3 shards with increasing values: no reader sees a copy go backwards', async () => {
    const chainWriters = writers.slice(0, 4);
    const chains = chainWriters.map((_, i) => keysOverShards(`copy${i}:`, 3)); // shards 0, 1, 2
    for (const ks of chains) {
      expect(new Set(ks.map(shardOf)).size).toBe(3);
      await pool.observer.call('MSET', ...ks.flatMap((k) => [k, '0']));
    }
    const acked = chains.map(() => 0); // value whose SET + COPY + COPY was acknowledged
    const bad = new Violations();
    let snapshots = 0;

    const writeLoop = (w: PlacedConn, i: number) => async (deadline: number): Promise<void> => {
      const [a = '', b = '', c = ''] = chains[i] ?? [];
      let v = 0;
      while (Date.now() < deadline) {
        v++;
        const rs = await w.conn.pipeline([['SET', a, String(v)], ['COPY', a, b, 'REPLACE'], ['COPY', b, c, 'REPLACE']]);
        if (JSON.stringify(rs) !== JSON.stringify(['OK', 1, 1])) bad.add(`SET/COPY/COPY replied ${JSON.stringify(rs)}`);
        acked[i] = v;
      }
    };

    const readLoop = (r: PlacedConn, seed: number) => async (deadline: number): Promise<void> => {
      const rnd = mulberry32(seed);
      const seen = chains.map(() => 0); // the highest value of c this reader saw
      while (Date.now() < deadline) {
        const i = Math.floor(rnd() * chains.length);
        const [a = '', b = '', c = ''] = chains[i] ?? [];
        const floor = acked[i] ?? 0;
        if (rnd() < 0.5) {
          // One snapshot: a >= b >= c, a - c <= 1, and c is at least the last acknowledged value.
          const vs = await r.conn.call('MGET', a, b, c);
          const [va, vb, vc] = Array.isArray(vs) ? vs.map(num) : [NaN, NaN, NaN];
          if (!(va !== undefined && vb !== undefined && vc !== undefined && va >= vb && vb >= vc && va - vc <= 1)) {
            bad.add(`MGET ${a} ${b} ${c} (front ${r.front}) = ${JSON.stringify(vs)}`);
          } else if (vc < floor) {
            bad.add(`MGET: ${c} = ${vc} after the copy of ${floor} was acknowledged (front ${r.front})`);
          } else if (vc < (seen[i] ?? 0)) {
            bad.add(`MGET: ${c} = ${vc} after this reader saw ${seen[i]} (front ${r.front})`);
          } else {
            seen[i] = vc;
          }
          snapshots++;
        } else {
          // One key after another, from the end of the chain: c <= b <= a, never below what was seen.
          const vc = num(await r.conn.call('GET', c));
          const vb = num(await r.conn.call('GET', b));
          const va = num(await r.conn.call('GET', a));
          if (!(vc <= vb && vb <= va)) bad.add(`GET ${c}, ${b}, ${a} one after another (front ${r.front}) = ${vc}, ${vb}, ${va}`);
          else if (vc < floor || vc < (seen[i] ?? 0)) {
            bad.add(`GET ${c} = ${vc} went back (acknowledged ${floor}, seen ${seen[i]}, front ${r.front})`);
          } else seen[i] = vc;
        }
      }
    };

    await runLoops([
      ...chainWriters.map((w, i) => writeLoop(w, i)),
      ...readers.map((r, i) => readLoop(r, 3000 + i)),
    ]);
    expect(bad.first).toEqual([]);
    expect(bad.count).toBe(0);
    expect(snapshots).toBeGreaterThan(100);
    for (const [i, ks] of chains.entries()) {
      expect(acked[i]).toBeGreaterThan(20);
      expect(await readers[readers.length - 1]?.conn.call('MGET', ...ks)).toEqual(ks.map(() => String(acked[i])));
    }
  }, 60_000);

  it('DEL of 8 keys on 4 shards against EXISTS and MGET: all or nothing', async () => {
    const groups = writers.map((_, g) => keysOverShards(`del:g${g}:`, 8));
    const bad = new Violations();
    let reads = 0;
    const seenBoth = groups.map(() => new Set<number>());

    const writeLoop = (w: PlacedConn, g: number) => async (deadline: number): Promise<void> => {
      const keys = groups[g] ?? [];
      let round = 0;
      while (Date.now() < deadline) {
        round++;
        const rs = await w.conn.pipeline([['MSET', ...keys.flatMap((k) => [k, String(round)])], ['DEL', ...keys]]);
        if (rs[0] !== 'OK' || rs[1] !== keys.length) bad.add(`MSET/DEL replied ${JSON.stringify(rs)}`);
        // And once with a pause between, so that readers find the keys present too.
        const set = await w.conn.call('MSET', ...keys.flatMap((k) => [k, String(round)]));
        if (set !== 'OK') bad.add(`MSET replied ${JSON.stringify(set)}`);
        const del = await w.conn.call('DEL', ...keys);
        if (del !== keys.length) bad.add(`DEL replied ${JSON.stringify(del)}`);
      }
    };

    const readLoop = (r: PlacedConn, seed: number) => async (deadline: number): Promise<void> => {
      const rnd = mulberry32(seed);
      while (Date.now() < deadline) {
        const g = Math.floor(rnd() * groups.length);
        const keys = groups[g] ?? [];
        if (rnd() < 0.5) {
          const n = await r.conn.call('EXISTS', ...keys);
          if (n !== 0 && n !== keys.length) bad.add(`EXISTS group ${g} (front ${r.front}) = ${JSON.stringify(n)}`);
          if (typeof n === 'number') seenBoth[g]?.add(n);
        } else {
          const vs = await r.conn.call('MGET', ...keys);
          if (!Array.isArray(vs) || new Set(vs).size !== 1) bad.add(`MGET group ${g} (front ${r.front}) = ${JSON.stringify(vs)}`);
          else seenBoth[g]?.add(vs[0] === null ? 0 : keys.length);
        }
        reads++;
      }
    };

    await runLoops([
      ...writers.map((w, g) => writeLoop(w, g)),
      ...readers.map((r, i) => readLoop(r, 4000 + i)),
    ]);
    expect(bad.first).toEqual([]);
    expect(bad.count).toBe(0);
    expect(reads).toBeGreaterThan(200);
    // The readers met both states (otherwise the test proved nothing).
    expect(seenBoth.filter((s) => s.size === 2).length).toBeGreaterThan(0);
    expect(await pool.observer.int('DBSIZE')).toBe(0);
  }, 60_000);

  it('a write acknowledged on one front is seen at once by a read on the other', async () => {
    const by = pool.byFront();
    const a = by[0]?.[0];
    const b = by[1]?.[0];
    if (a === undefined || b === undefined) throw new Error('need a connection on each front');
    const keys = keysOverShards('rw:', 8);
    for (let round = 1; round <= 300; round++) {
      const [w, r] = round % 2 === 0 ? [a, b] : [b, a];
      const k = keys[round % keys.length] ?? '';
      expect(await w.conn.call('SET', k, String(round))).toBe('OK');
      expect(await r.conn.call('GET', k)).toBe(String(round));
      expect(await w.conn.call('MSET', ...keys.flatMap((x) => [x, `m${round}`]))).toBe('OK');
      expect(await r.conn.call('MGET', ...keys)).toEqual(keys.map(() => `m${round}`));
      expect(await w.conn.call('DEL', k)).toBe(1);
      expect(await r.conn.call('EXISTS', ...keys)).toBe(keys.length - 1);
    }
  }, 60_000);

  it('no error replies and both fronts still serve after the stress', async () => {
    for (const p of pool.placed) {
      expect(p.conn.isClosed).toBe(false);
      expect(p.conn.unsolicited.length).toBe(0);
      expect(await p.conn.call('PING')).toBe('PONG');
    }
    const errs = await pool.observer.call('INFO', 'stats');
    expect(typeof errs === 'string' ? /total_error_replies:(\d+)/.exec(errs)?.[1] : undefined).toBe('0');
    expect(errs).not.toBeInstanceOf(ReplyError);
  });
});
