import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { useSabre, redisClient } from '../helpers/suites.ts';
import type { ServerHandle } from '../helpers/servers.ts';

// The string family end to end over a 4-shard server: large values, many
// keys across shards, concurrency of the coordinated commands (MSETNX, LCS).

let server: ServerHandle;
let r: Redis;
/** A client that returns integer replies as strings (exact 64-bit values). */
let rs: Redis;

useSabre((s, c) => {
  server = s;
  r = c;
  rs = redisClient(s.port, { stringNumbers: true });
});

afterAll(() => {
  rs?.disconnect();
});

/** Reference LCS length (two rows). */
function lcsLength(a: string, b: string): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    prev = cur;
  }
  return prev[b.length];
}

function isSubsequence(s: string, of: string): boolean {
  let k = 0;
  for (let i = 0; i < of.length && k < s.length; i++) if (of[i] === s[k]) k++;
  return k === s.length;
}

function randomString(n: number, alphabet: string, seed: number): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

describe('strings: integration', () => {
  it('a 1 MB APPEND loop stays fast and keeps every byte', async () => {
    const chunk = 'abcdefghijklmnopqrstuvwxyz012345'.repeat(2); // 64 bytes
    const t0 = performance.now();
    for (let round = 0; round < 16; round++) {
      const p = r.pipeline();
      for (let i = 0; i < 1024; i++) p.append('big', chunk);
      const res = await p.exec();
      expect(res?.[1023]?.[1]).toBe((round + 1) * 1024 * 64);
    }
    const ms = performance.now() - t0;
    expect(await r.strlen('big')).toBe(1024 * 1024);
    expect(await r.getrange('big', 1024 * 1024 - 64, -1)).toBe(chunk);
    expect(await r.getrange('big', 500_000, 500_009)).toBe(chunk.repeat(2).slice(500_000 % 64, 500_000 % 64 + 10));
    const value = await r.getBuffer('big');
    if (value === null) throw new Error('big vanished');
    expect(value.length).toBe(1024 * 1024);
    expect(value.toString('latin1')).toBe(chunk.repeat(16 * 1024));
    expect(ms).toBeLessThan(10_000);
    expect(await r.object('ENCODING', 'big')).toBe('raw');
  });

  it('SETRANGE far past the end zero-pads, GETRANGE reads the tail', async () => {
    expect(await r.setrange('pad', 5_000_000, 'END')).toBe(5_000_003);
    expect(await r.strlen('pad')).toBe(5_000_003);
    const tail = await r.getrangeBuffer('pad', -8, -1);
    expect([...tail]).toEqual([0, 0, 0, 0, 0, 0x45, 0x4e, 0x44]);
    expect(await r.setrange('pad', 0, 'AB')).toBe(5_000_003);
    expect(await r.getrange('pad', 0, 2)).toBe('AB\x00');
    await expect(r.setrange('pad', -1, 'x')).rejects.toThrow('ERR offset is out of range');
    await expect(r.setrange('pad', 536870912, 'x')).rejects.toThrow(
      'ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  });

  it('INCR family keeps exact 64-bit values', async () => {
    expect(await rs.incrby('n', '9007199254740991')).toBe('9007199254740991');
    expect(await rs.incr('n')).toBe('9007199254740992');
    expect(await rs.incr('n')).toBe('9007199254740993');
    expect(await rs.incrby('n', '9214364837600034814')).toBe('9223372036854775807');
    await expect(rs.incr('n')).rejects.toThrow('ERR increment or decrement would overflow');
    expect(await rs.get('n')).toBe('9223372036854775807');
    expect(await rs.decrby('n', '9223372036854775807')).toBe('0');
    expect(await rs.decrby('n', '9223372036854775807')).toBe('-9223372036854775807');
    expect(await rs.decr('n')).toBe('-9223372036854775808');
    await expect(rs.decr('n')).rejects.toThrow('ERR increment or decrement would overflow');
    await expect(rs.decrby('m', '-9223372036854775808')).rejects.toThrow('ERR decrement would overflow');
    expect(await rs.exists('m')).toBe('0');
    expect(await r.object('ENCODING', 'n')).toBe('int');
  });

  it('concurrent INCR / INCRBYFLOAT from many clients add up exactly', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, async () => {
      const c = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
      await c.connect();
      return c;
    }));
    try {
      await Promise.all(clients.map(async (c) => {
        const p = c.pipeline();
        for (let i = 0; i < 500; i++) {
          p.incr('a');
          p.incrby('b', 3);
          p.decr('c');
          p.incrbyfloat('d', '0.5');
        }
        await p.exec();
      }));
    } finally {
      for (const c of clients) c.disconnect();
    }
    expect(await r.mget('a', 'b', 'c', 'd')).toEqual(['3000', '9000', '-3000', '1500']);
  });

  it('MGET and MSET of many keys across shards keep key order', async () => {
    const args: string[] = [];
    for (let i = 0; i < 1000; i++) args.push(`key:${i}`, `value:${i}`);
    expect(await r.mset(...args)).toBe('OK');
    const keys = Array.from({ length: 1001 }, (_, i) => `key:${1000 - i}`);
    const values = await r.mget(...keys);
    expect(values[0]).toBeNull();
    for (let i = 1; i < keys.length; i++) expect(values[i]).toBe(`value:${1000 - i}`);
  });

  it('MSETNX across shards is all-or-nothing, also under concurrency', async () => {
    expect(await r.msetnx('a', '1', 'b', '2', 'c', '3', 'd', '4')).toBe(1);
    expect(await r.msetnx('e', '5', 'f', '6', 'a', 'x')).toBe(0);
    expect(await r.mget('a', 'e', 'f')).toEqual(['1', null, null]);
    await expect(r.call('MSETNX', 'x', '1', 'y')).rejects.toThrow("ERR wrong number of arguments for 'msetnx' command");

    // Competing MSETNX on overlapping key groups: each group is won by exactly one writer.
    const clients = await Promise.all(Array.from({ length: 5 }, async () => {
      const c = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
      await c.connect();
      return c;
    }));
    try {
      for (let round = 0; round < 20; round++) {
        const keys = [`g${round}:a`, `g${round}:b`, `g${round}:c`, `g${round}:d`];
        const results = await Promise.all(clients.map((c, w) =>
          c.msetnx(...keys.flatMap((k) => [k, `w${w}`]))));
        expect(results.filter((x) => x === 1).length).toBe(1);
        const winner = `w${results.indexOf(1)}`;
        expect(await r.mget(...keys)).toEqual([winner, winner, winner, winner]);
      }
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('LCS of 1500-byte strings across shards matches a reference', async () => {
    const a = randomString(1500, 'ACGT', 11);
    const b = randomString(1400, 'ACGT', 29);
    await r.mset('s1', a, 's2', b); // different shards
    const expected = lcsLength(a, b);
    expect(await r.call('LCS', 's1', 's2', 'LEN')).toBe(expected);
    const s = (await r.call('LCS', 's1', 's2')) as string;
    expect(s.length).toBe(expected);
    expect(isSubsequence(s, a) && isSubsequence(s, b)).toBe(true);
    const idx = (await r.call('LCS', 's1', 's2', 'IDX', 'WITHMATCHLEN')) as unknown[];
    expect(idx[0]).toBe('matches');
    expect(idx[2]).toBe('len');
    expect(idx[3]).toBe(expected);
    const matches = idx[1] as Array<[[number, number], [number, number], number]>;
    let total = 0;
    for (const [[as, ae], [bs, be], len] of matches) {
      expect(ae - as + 1).toBe(len);
      expect(be - bs + 1).toBe(len);
      expect(a.slice(as, ae + 1)).toBe(b.slice(bs, be + 1));
      total += len;
    }
    expect(total).toBe(expected);
  });

  it('multi-megabyte values through split MSET/MGET, coordinated MSETNX and LCS', async () => {
    const big = (ch: string, n: number): string => ch.repeat(n);
    const vals = { a: big('A', 2_000_000), b: big('B', 3_000_000), c: big('C', 1_500_000), d: big('D', 10) };
    expect(await r.mset('a', vals.a, 'b', vals.b, 'c', vals.c, 'd', vals.d)).toBe('OK');
    const got = await r.mget('d', 'c', 'b', 'a');
    expect(got.map((v) => v?.length)).toEqual([10, 1_500_000, 3_000_000, 2_000_000]);
    expect(got[2]).toBe(vals.b);
    expect(await r.msetnx('e', big('E', 2_500_000), 'f', big('F', 2_500_000), 'g', 'x')).toBe(1);
    expect(await r.strlen('e')).toBe(2_500_000);
    expect(await r.strlen('f')).toBe(2_500_000);
    expect(await r.msetnx('h', big('H', 2_500_000), 'e', 'x')).toBe(0);
    expect(await r.exists('h')).toBe(0);
    // The second key's 3 MB value travels to the first key's shard.
    await r.set('tiny', 'xBy');
    expect(await r.call('LCS', 'tiny', 'b')).toBe('B');
    expect(await r.call('LCS', 'tiny', 'b', 'IDX', 'WITHMATCHLEN')).toEqual(['matches', [[[1, 1], [0, 0], 1]], 'len', 1]);
  });

  it('GETEX and GETDEL change TTL and existence', async () => {
    await r.set('k', 'v', 'PX', 150);
    expect(await r.getex('k', 'PERSIST')).toBe('v');
    await r.set('k2', 'v2');
    expect(await r.getex('k2', 'PX', 150)).toBe('v2');
    expect(await r.pttl('k2')).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 300));
    expect(await r.get('k')).toBe('v');
    expect(await r.get('k2')).toBeNull();
    expect(await r.getdel('k')).toBe('v');
    expect(await r.exists('k')).toBe(0);
    expect(await r.getdel('k')).toBeNull();
  });
});
