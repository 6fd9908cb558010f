import { expect, it } from 'vitest';
import { parseReply, RespSet } from '../../src/protocol/reply-reader.ts';
import {
  BINARY_ARG, describeDifferential, expectKeysSpanFourShards, pipelined, type DifferentialContext,
} from '../helpers/differential.ts';

// The set family against real redis-server 7.0, on a 4-shard Sabre. Keys a, b,
// c, d live on four different shards; {t}a, {t}b, {t}c share one, so the
// multi-key commands run both coordinated and on one shard. Replies are
// compared byte for byte where Redis defines the order (intsets are sorted,
// counts, errors); the members of a hashtable set are compared sorted.

expectKeysSpanFourShards();

/** A reply with the members of sets and arrays sorted (recursively), for order-free comparison. */
function normalized(buf: Buffer): unknown {
  const parsed = parseReply(buf);
  const norm = (v: unknown): unknown => {
    if (v instanceof RespSet) return { set: (v.items as unknown[]).map(norm).map((x) => JSON.stringify(x)).sort() };
    if (Array.isArray(v)) return v.map(norm).map((x) => JSON.stringify(x)).sort();
    if (Buffer.isBuffer(v)) return v.toString('latin1');
    if (typeof v === 'bigint') return v.toString();
    if (v !== null && typeof v === 'object') return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
    return v;
  };
  return parsed === null ? null : norm(parsed.value);
}

/** Runs the commands on both servers and compares every reply with members sorted. */
async function expectSameSorted(ctx: DifferentialContext, steps: string[][], resp3 = false): Promise<void> {
  const [s, r] = await Promise.all([ctx.run('sabre', steps, { resp3 }), ctx.run('redis', steps, { resp3 })]);
  for (let i = 0; i < steps.length; i++) {
    expect({ step: steps[i].join(' '), reply: normalized(s[i]) }).toEqual({ step: steps[i].join(' '), reply: normalized(r[i]) });
  }
}

const nums = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => String(from + i));

describeDifferential('sets: differential', (ctx) => {
  it('arity errors of every command', async () => {
    await ctx.expectSame([
      ['SADD'], ['SADD', 'a'], ['SREM', 'a'], ['SMEMBERS'], ['SMEMBERS', 'a', 'b'], ['SISMEMBER', 'a'], ['SMISMEMBER', 'a'],
      ['SCARD'], ['SPOP'], ['SRANDMEMBER'], ['SMOVE', 'a', 'b'], ['SINTER'], ['SINTERCARD', '1'], ['SINTERSTORE', 'a'],
      ['SUNION'], ['SUNIONSTORE', 'a'], ['SDIFF'], ['SDIFFSTORE', 'a'], ['SSCAN', 'a'], ['SPOP', 'a', '1', '2'],
      ['SRANDMEMBER', 'a', '1', '2'],
    ]);
  });

  it('intsets: adds, widths, sorted replies, removal, encodings', async () => {
    await ctx.expectSame([
      ['SADD', 'a', '5', '1', '3', '3', '-2'], ['SMEMBERS', 'a'], ['OBJECT', 'ENCODING', 'a'], ['SCARD', 'a'],
      ['SADD', 'a', '40000'], ['SMEMBERS', 'a'], ['SADD', 'a', '-3000000000', '9223372036854775807', '-9223372036854775808'],
      ['SMEMBERS', 'a'], ['OBJECT', 'ENCODING', 'a'], ['SISMEMBER', 'a', '40000'], ['SISMEMBER', 'a', '040000'],
      ['SISMEMBER', 'a', '+5'], ['SISMEMBER', 'a', '9223372036854775808'], ['SMISMEMBER', 'a', '1', '2', '-9223372036854775808'],
      ['SREM', 'a', '1', '1', 'x', '40000'], ['SMEMBERS', 'a'], ['SADD', 'a', '-0'], ['OBJECT', 'ENCODING', 'a'], ['SCARD', 'a'],
      ['SADD', 'b', '0'], ['SADD', 'b', '00'], ['OBJECT', 'ENCODING', 'b'], ['SREM', 'b', '0', '00'], ['EXISTS', 'b'],
      ['SADD', 'c', ...nums(0, 512)], ['OBJECT', 'ENCODING', 'c'], ['SADD', 'c', '512'], ['OBJECT', 'ENCODING', 'c'],
      ['SCARD', 'c'], ['TYPE', 'c'], ['SADD', 'd', ...nums(0, 513)], ['OBJECT', 'ENCODING', 'd'],
    ]);
  });

  it('strings: binary and empty members, conversions, membership', async () => {
    await expectSameSorted(ctx, [
      ['SADD', 'a', 'x', '', BINARY_ARG, 'x', '1'], ['SMEMBERS', 'a'], ['OBJECT', 'ENCODING', 'a'], ['SISMEMBER', 'a', ''],
      ['SISMEMBER', 'a', BINARY_ARG], ['SMISMEMBER', 'a', 'x', 'nope', ''], ['SMISMEMBER', 'nokey', 'x'], ['SISMEMBER', 'nokey', 'x'],
      ['SREM', 'a', '', 'nope'], ['SCARD', 'a'], ['SADD', 'b', ...nums(0, 200).map((n) => `m${n}`)], ['SCARD', 'b'],
      ['OBJECT', 'ENCODING', 'b'], ['SADD', 'c', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'c'], ['SMEMBERS', 'b'],
      ['SREM', 'b', ...nums(0, 199).map((n) => `m${n}`)], ['SMEMBERS', 'b'], ['SREM', 'b', 'm199'], ['EXISTS', 'b'],
      ['SADD', 'd', '1', '2'], ['SADD', 'd', 'str'], ['OBJECT', 'ENCODING', 'd'], ['SMEMBERS', 'd'],
    ]);
  });

  it('SPOP and SRANDMEMBER: counts, errors, missing keys, whole sets', async () => {
    await ctx.expectSame([
      ['SPOP', 'nokey'], ['SPOP', 'nokey', '3'], ['SRANDMEMBER', 'nokey'], ['SRANDMEMBER', 'nokey', '3'],
      ['SRANDMEMBER', 'nokey', '-3'], ['SADD', 'a', '1', '2', '3'], ['SPOP', 'a', '0'], ['SPOP', 'a', '-1'], ['SPOP', 'a', 'x'],
      ['SRANDMEMBER', 'a', '0'], ['SRANDMEMBER', 'a', 'x'], ['SRANDMEMBER', 'a', '-9223372036854775808'],
      ['SRANDMEMBER', 'a', '3'], ['SRANDMEMBER', 'a', '10'], ['SPOP', 'a', '9223372036854775807'], ['EXISTS', 'a'],
      ['SADD', 'a', '7'], ['SPOP', 'a'], ['EXISTS', 'a'], ['SADD', 'a', '8'], ['SRANDMEMBER', 'a', '-3'], ['SPOP', 'a', '1'],
      ['EXISTS', 'a'],
    ]);
    // Sizes of random replies (members differ between implementations).
    const sizes: string[][] = [['SADD', 'b', ...nums(0, 300)], ['SADD', 'c', ...nums(0, 40).map((n) => `s${n}`)]];
    for (const k of ['b', 'c']) {
      for (const n of ['1', '5', '20', '39', '41', '-5', '-100', '299', '400']) sizes.push(['SRANDMEMBER', k, n]);
      for (const n of ['1', '5', '20']) sizes.push(['SPOP', k, n]);
      sizes.push(['SCARD', k]);
    }
    const [s, r] = await Promise.all([ctx.run('sabre', sizes), ctx.run('redis', sizes)]);
    const header = (b: Buffer): string => b.subarray(0, b.indexOf(13)).toString();
    expect(s.map(header)).toEqual(r.map(header));
  });

  it('SMOVE on one shard and across shards', async () => {
    await ctx.expectSame([
      ['SADD', 'a', '1', '2', 'x'], ['SADD', 'b', '2'], ['SMOVE', 'a', 'b', '1'], ['SMOVE', 'a', 'b', '2'], ['SMOVE', 'a', 'b', 'nope'],
      ['SMEMBERS', 'b'], ['SMOVE', 'nokey', 'b', '1'], ['SET', 'c', 'str'], ['SMOVE', 'a', 'c', 'x'], ['SMOVE', 'c', 'a', 'x'],
      ['SMOVE', 'nokey', 'c', 'x'], ['SMOVE', 'a', 'a', 'x'], ['SMOVE', 'a', 'a', 'nope'], ['SMOVE', 'a', 'd', 'x'],
      ['SMEMBERS', 'd'], ['EXISTS', 'a'], ['SADD', '{t}a', '5'], ['SMOVE', '{t}a', '{t}b', '5'], ['EXISTS', '{t}a'],
      ['SMEMBERS', '{t}b'], ['SET', '{t}c', 's'], ['SMOVE', '{t}b', '{t}c', '5'], ['SMOVE', '{t}c', '{t}b', '5'],
    ]);
  });

  it('SINTER, SUNION, SDIFF and their STORE and CARD forms, across shards and on one', async () => {
    const ops: string[][] = [
      ['SADD', 'a', '1', '2', '3', '4'], ['SADD', 'b', '2', '3', '5'], ['SADD', 'c', '3', '2', 'x'], ['SET', 'd', 'str'],
      ['SADD', '{t}a', '1', '2', '3'], ['SADD', '{t}b', '3', '4'],
    ];
    for (const keys of [['a', 'b'], ['a', 'b', 'd'], ['{t}a', '{t}b'], ['a', 'nokey'], ['nokey', 'a'], ['a', 'a'], ['a', 'd'],
      ['nokey', 'd'], ['d', 'nokey']]) {
      ops.push(['SINTER', ...keys], ['SUNION', ...keys], ['SDIFF', ...keys], ['SINTERCARD', String(keys.length), ...keys],
        ['SINTERCARD', String(keys.length), ...keys, 'LIMIT', '1']);
    }
    for (const [dst, ...keys] of [['dst', 'a', 'b'], ['{t}c', '{t}a', '{t}b'], ['a', 'a', 'b'], ['b', 'a', 'nokey'],
      ['d', 'a', 'b'], ['c', 'nokey', 'a']]) {
      ops.push(['SADD', 'z', 'keep'], ['SINTERSTORE', dst, ...keys], ['TYPE', dst], ['SMEMBERS', dst], ['OBJECT', 'ENCODING', dst]);
      ops.push(['SUNIONSTORE', `${dst}2`, ...keys], ['SMEMBERS', `${dst}2`], ['SDIFFSTORE', `${dst}3`, ...keys], ['SMEMBERS', `${dst}3`]);
    }
    ops.push(['SADD', 'dst', 'old'], ['SINTERSTORE', 'dst', 'a', 'nokey'], ['EXISTS', 'dst'], ['SET', 'dst', 'v'],
      ['SDIFFSTORE', 'dst', 'a', 'a'], ['EXISTS', 'dst'], ['SINTERSTORE', 'dst', 'a', 'd'], ['SINTERCARD', '0', 'a'],
      ['SINTERCARD', 'x', 'a'], ['SINTERCARD', '3', 'a', 'b'], ['SINTERCARD', '2', 'a', 'b', 'LIMIT', '-1'],
      ['SINTERCARD', '2', 'a', 'b', 'LIMIT', 'x'], ['SINTERCARD', '2', 'a', 'b', 'FOO'], ['SINTERCARD', '1', 'a', 'LIMIT'],
      ['SDIFFSTORE', 'e', 'a', 'c'], ['OBJECT', 'ENCODING', 'e'], ['SMEMBERS', 'e']);
    await ctx.expectSame(ops);
    await expectSameSorted(ctx, [
      ['SADD', 'h1', 'x', 'y', 'z', '1'], ['SADD', 'h2', 'y', 'z', 'w'], ['SINTER', 'h1', 'h2'], ['SUNION', 'h1', 'h2', 'a'],
      ['SDIFF', 'h1', 'h2'], ['SUNIONSTORE', 'u', 'h1', 'h2', 'c'], ['SMEMBERS', 'u'], ['SINTER', 'h1', 'h2', 'c'],
    ]);
  });

  it('set operations over tables, packed sets and intsets mixed (members compared sorted), fuzzed', async () => {
    // A seeded mix of integers, short and long strings, over 6 keys on one shard and 4 on different shards.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const value = (): string => {
      const k = rnd(4);
      if (k === 0) return String(rnd(1000) - 500);
      if (k === 1) return String((rnd(1 << 30) - (1 << 29)) * 1024);
      if (k === 2) return `x${rnd(400)}`;
      return String(rnd(1000)).repeat(1 + rnd(30));
    };
    for (const keys of [['s0{t}', 's1{t}', 's2{t}', 's3{t}', 's4{t}', 's5{t}'], ['a', 'b', 'c', 'd']]) {
      for (let round = 0; round < 4; round++) {
        const steps: string[][] = [];
        for (const k of keys) {
          steps.push(['DEL', k]);
          const n = rnd(200);
          // One member at a time, as Redis's SDIFF fuzzing test does: tables are then caught mid-resize
          // (a collection's rehash moves on with its commands).
          for (let j = 0; j < n; j++) steps.push(['SADD', k, value()]);
        }
        await ctx.expectSame(steps.map((st) => (st[0] === 'SADD' ? ['SCARD', st[1]] : st)));
        const adds = steps.filter((st) => st[0] === 'SADD');
        await Promise.all([ctx.run('sabre', adds), ctx.run('redis', adds)]);
        await expectSameSorted(ctx, [
          ['SDIFF', ...keys], ['SINTER', keys[0], keys[1]], ['SUNION', ...keys], ['SDIFF', keys[1], keys[0], keys[2]],
          ['SINTERCARD', '2', keys[0], keys[1]], ['SUNIONSTORE', keys[0], keys[0], keys[1]], ['SMEMBERS', keys[0]],
          ['SDIFFSTORE', keys[2], keys[2], keys[3]], ['SMEMBERS', keys[2]], ['SINTERSTORE', keys[3], keys[3], keys[0]],
          ['SMEMBERS', keys[3]],
        ]);
      }
    }
  });

  it('SSCAN: small sets in one call, options, errors, a full walk of a big set', async () => {
    await ctx.expectSame([
      ['SSCAN', 'nokey', '0'], ['SSCAN', 'nokey', 'x'], ['SADD', 'a', '1', '2', '10', '11'], ['SSCAN', 'a', '0'],
      ['SSCAN', 'a', '0', 'MATCH', '1*'], ['SSCAN', 'a', '0', 'COUNT', '1'], ['SSCAN', 'a', '0', 'COUNT', '0'],
      ['SSCAN', 'a', '0', 'COUNT', 'x'], ['SSCAN', 'a', '0', 'TYPE', 'set'], ['SSCAN', 'a', '0', 'MATCH'], ['SSCAN', 'a', 'abc'],
      ['SSCAN', 'a', '-1'], ['SSCAN', 'a', '18446744073709551616'], ['SET', 's', 'v'], ['SSCAN', 's', '0'],
    ]);
    await ctx.run('sabre', [['SADD', 'big', ...nums(0, 2000).map((n) => `k${n}`)]]);
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [reply] = await ctx.run('sabre', [['SSCAN', 'big', cursor, 'COUNT', '50']]);
      const v = parseReply(reply)?.value as [Buffer, Buffer[]];
      cursor = v[0].toString();
      for (const m of v[1]) seen.add(m.toString());
      calls++;
    } while (cursor !== '0' && calls < 10000);
    expect(seen.size).toBe(2000);
    expect(calls).toBeGreaterThan(2);
  });

  it('keys of every type: TYPE, COPY, RENAME, MOVE, MEMORY USAGE presence, SCAN TYPE, WRONGTYPE both ways', async () => {
    await ctx.expectSame([
      ['SADD', 'a', '1', '2'], ['SADD', 'b', 'x', 'y'], ['TYPE', 'a'], ['COPY', 'a', 'c'], ['SMEMBERS', 'c'],
      ['OBJECT', 'ENCODING', 'c'], ['RENAME', 'a', 'd'], ['SMEMBERS', 'd'], ['EXISTS', 'a'], ['COPY', 'b', '{t}b'],
      ['SCARD', '{t}b'], ['RENAME', '{t}b', '{t}c'], ['SCARD', '{t}c'], ['MOVE', 'd', '1'], ['SELECT', '1'], ['SMEMBERS', 'd'],
      ['SELECT', '0'], ['SADD', 'e', ...nums(0, 600)], ['SREM', 'e', ...nums(0, 300)], ['OBJECT', 'ENCODING', 'e'],
      ['RENAME', 'e', 'f'], ['OBJECT', 'ENCODING', 'f'], ['COPY', 'f', 'g'], ['OBJECT', 'ENCODING', 'g'], ['SCARD', 'g'],
      ['COPY', 'f', '{t}g'], ['OBJECT', 'ENCODING', '{t}g'], ['SADD', 'i', '1', '2'], ['RENAME', 'i', 'j'], ['OBJECT', 'ENCODING', 'j'],
      ['GET', 'b'], ['APPEND', 'b', 'x'], ['INCR', 'b'],
      ['LPUSH', 'b', 'x'], ['MGET', 'b', 'nokey'], ['SET', 'str', 'v'], ['SADD', 'str', 'x'], ['SREM', 'str', 'x'],
      ['SMEMBERS', 'str'], ['SCARD', 'str'], ['SISMEMBER', 'str', 'x'], ['SMISMEMBER', 'str', 'x'], ['SPOP', 'str'],
      ['SRANDMEMBER', 'str'], ['SSCAN', 'str', '0'], ['EXPIRE', 'b', '100'], ['TTL', 'b'], ['DEL', 'b'], ['EXISTS', 'b'],
    ]);
    await expectSameSorted(ctx, [['SCAN', '0', 'TYPE', 'set', 'COUNT', '1000'], ['SCAN', '0', 'TYPE', 'string', 'COUNT', '1000']]);
    // MEMORY USAGE differs by design (Sabre's layout is its own): present, positive, within 10% of Redis's for a big intset (allocator rounding).
    const load: string[][] = [['SADD', 'm', ...nums(0, 500)], ['MEMORY', 'USAGE', 'm'], ['MEMORY', 'USAGE', 'nokey']];
    const [s, r] = await Promise.all([ctx.run('sabre', load), ctx.run('redis', load)]);
    const usage = (b: Buffer): number => Number(b.toString().slice(1));
    expect(usage(s[1])).toBeGreaterThan(1000);
    expect(usage(s[1])).toBeLessThanOrEqual(usage(r[1]) * 1.1);
    expect(s[2].toString()).toBe(r[2].toString());
  });

  it('pipelined across shards', async () => {
    const cmds: string[][] = [];
    for (let i = 0; i < 200; i++) {
      const k = ['a', 'b', 'c', 'd'][i % 4];
      cmds.push(['SADD', k, String(i % 37), `v${i % 11}`]);
      if (i % 7 === 0) cmds.push(['SREM', k, String(i % 5)]);
      if (i % 13 === 0) cmds.push(['SINTERCARD', '2', k, 'a'], ['SCARD', k], ['SMOVE', k, 'd', 'v3']);
    }
    cmds.push(['SINTERSTORE', 'r', 'a', 'b'], ['SUNIONSTORE', 'u', 'a', 'b', 'c', 'd'], ['SCARD', 'u'], ['SDIFFSTORE', 'x', 'u', 'a']);
    cmds.push(['SCARD', 'a'], ['SCARD', 'b'], ['SCARD', 'c'], ['SCARD', 'd'], ['SCARD', 'r'], ['SCARD', 'x']);
    await ctx.expectSame([pipelined(cmds)]);
  });

  it('RESP3 replies', async () => {
    await ctx.expectSame([
      ['SADD', 'a', '1', '2'], ['SMEMBERS', 'a'], ['SMEMBERS', 'nokey'], ['SPOP', 'nokey'], ['SPOP', 'nokey', '2'],
      ['SPOP', 'a', '0'], ['SRANDMEMBER', 'nokey'], ['SRANDMEMBER', 'nokey', '2'], ['SRANDMEMBER', 'a', '5'],
      ['SINTER', 'a', 'nokey'], ['SINTER', 'a', 'b'], ['SUNION', 'a', 'b'], ['SDIFF', 'a', 'b'], ['SINTER', '{t}a', '{t}b'],
      ['SSCAN', 'a', '0'], ['SMISMEMBER', 'a', '1', '3'], ['SPOP', 'a', '5'],
    ], { resp3: true });
  });

  it('COMMAND INFO and GETKEYS of the set commands', async () => {
    await ctx.expectSame([
      ['COMMAND', 'GETKEYS', 'sintercard', '2', 'a', 'b', 'LIMIT', '1'], ['COMMAND', 'GETKEYS', 'sinterstore', 'd', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'smove', 'a', 'b', 'm'], ['COMMAND', 'GETKEYSANDFLAGS', 'sunionstore', 'd', 'a', 'b'],
      ['COMMAND', 'INFO', 'sadd', 'srem', 'smembers', 'sismember', 'smismember', 'scard', 'spop', 'srandmember', 'smove',
        'sinter', 'sintercard', 'sinterstore', 'sunion', 'sunionstore', 'sdiff', 'sdiffstore', 'sscan'],
    ]);
  });
});
