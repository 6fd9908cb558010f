import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { shardOfKey, useSabre } from '../helpers/suites.ts';
import type { ServerHandle } from '../helpers/servers.ts';

// Random writes of every size against 16 MiB arenas (4 shards), many of them
// refused for memory. After every OOM, and regularly in between, the keyspace
// is compared with a model: a write answered OOM changed nothing (a multi-shard
// MSET/MSETNX included: all or nothing), every other write is all there, and
// the server stays up.
//
// Needs both halves of issue 6's memory work: the front's admission of writes
// split over shards (this branch) and the shards' refusal of denyoom records at
// capacity minus reserve, with index growth that cannot fail half-way.

const SEED = Number(process.env.SABRE_FUZZ_SEED ?? 0x5eed);
const OPS = 600;

/** xorshift32: reproducible from SEED. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

describe('memory exhaustion fuzz (16 MiB arenas)', () => {
  let server: ServerHandle;
  let r: Redis;
  useSabre((s, c) => { server = s; r = c; }, { args: ['--shard-arena-mb', '16'], flushEach: false });

  it(`every write is all or nothing, whatever is full (seed ${SEED})`, async () => {
    const rand = rng(SEED);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    // A third of the keys share one shard (so it fills first), the rest spread out.
    const keys = [
      ...Array.from({ length: 16 }, (_, i) => `{f}:${i}`),
      ...Array.from({ length: 32 }, (_, i) => `k:${i}`),
    ];
    expect(new Set(keys.map((k) => shardOfKey(k))).size).toBe(4);
    const model = new Map<string, string>();
    let op = 0;
    let ooms = 0;
    let splitOoms = 0;
    const size = (): number => {
      const x = rand();
      if (x < 0.5) return 1 + Math.floor(rand() * 200);
      if (x < 0.7) return 1000 + Math.floor(rand() * 20_000);
      return 300_000 + Math.floor(rand() * 2_700_000);
    };
    // A value that names its write at both ends, so a partial or stale value shows.
    const value = (): string => {
      const n = size();
      const tag = `<${op}>`;
      return n <= 2 * tag.length ? tag : tag + 'x'.repeat(n - 2 * tag.length) + tag;
    };
    const distinct = (n: number): string[] => {
      const out = new Set<string>();
      while (out.size < n) out.add(pick(keys));
      return [...out];
    };

    async function check(context: string): Promise<void> {
      const p = r.pipeline();
      for (const k of keys) {
        p.strlen(k);
        p.getrange(k, 0, 31);
        p.getrange(k, -32, -1);
      }
      const res = (await p.exec()) ?? [];
      keys.forEach((k, i) => {
        const [len, head, tail] = [res[3 * i][1], res[3 * i + 1][1], res[3 * i + 2][1]];
        const want = model.get(k) ?? '';
        const seen = { len, head, tail };
        const expected = { len: want.length, head: want.slice(0, 32), tail: want.slice(-32) };
        expect(seen, `${k} after ${context} (op ${op}, seed ${SEED})`).toEqual(expected);
      });
    }

    for (op = 0; op < OPS; op++) {
      const kind = rand();
      let reply: unknown;
      let apply: () => void;
      let split = false;
      let what: string;
      if (kind < 0.35) {
        const k = pick(keys);
        const v = value();
        what = `SET ${k} (${v.length} B)`;
        apply = () => model.set(k, v);
        reply = await r.set(k, v).catch((e: Error) => e);
      } else if (kind < 0.65) {
        const ks = distinct(2 + Math.floor(rand() * 5));
        const vs = ks.map(() => value());
        split = new Set(ks.map((k) => shardOfKey(k))).size > 1;
        what = `MSET ${ks.map((k, i) => `${k} (${vs[i].length} B)`).join(' ')}`;
        apply = () => ks.forEach((k, i) => model.set(k, vs[i]));
        reply = await r.mset(...ks.flatMap((k, i) => [k, vs[i]])).catch((e: Error) => e);
      } else if (kind < 0.75) {
        const ks = distinct(2 + Math.floor(rand() * 3));
        const vs = ks.map(() => value());
        split = new Set(ks.map((k) => shardOfKey(k))).size > 1;
        what = `MSETNX ${ks.join(' ')}`;
        const fresh = ks.every((k) => !model.has(k));
        apply = () => { if (fresh) ks.forEach((k, i) => model.set(k, vs[i])); };
        reply = await r.msetnx(...ks.flatMap((k, i) => [k, vs[i]])).catch((e: Error) => e);
        if (reply === 0 || reply === 1) expect(reply, what).toBe(fresh ? 1 : 0);
      } else if (kind < 0.85) {
        const k = pick(keys);
        const v = value();
        what = `APPEND ${k} (${v.length} B)`;
        apply = () => model.set(k, (model.get(k) ?? '') + v);
        reply = await r.append(k, v).catch((e: Error) => e);
      } else {
        const ks = distinct(1 + Math.floor(rand() * 4));
        what = `DEL ${ks.join(' ')}`;
        const n = ks.filter((k) => model.has(k)).length;
        apply = () => ks.forEach((k) => model.delete(k));
        reply = await r.del(...ks).catch((e: Error) => e);
        expect(reply, what).toBe(n);
      }
      if (reply instanceof Error) {
        // Only memory may refuse a write here, and then nothing of it happened.
        expect(reply.message, `${what} (op ${op}, seed ${SEED})`).toMatch(/^OOM /);
        ooms++;
        if (split) splitOoms++;
        await check(`refused ${what}`);
      } else {
        apply();
        if (op % 25 === 0) await check(what);
      }
    }
    await check('the end');
    console.log(`fuzz: ${ooms} OOM of ${OPS} writes, ${splitOoms} of them split over shards`);
    // The run must actually have met full shards, split writes included.
    expect(ooms).toBeGreaterThan(20);
    expect(splitOoms).toBeGreaterThan(5);
    expect(ooms - splitOoms).toBeGreaterThan(5);
    expect(await r.ping()).toBe('PONG');
    expect(server.logs()).not.toMatch(/crashed|internal error/i);
  });
});
