import { expect, it } from 'vitest';
import { mulberry32 } from '../helpers/prng.ts';
import { shardOfKey } from '../helpers/suites.ts';
import { describeDifferential, encodeCommand, splitReplies, type Step } from '../helpers/differential.ts';

// HyperLogLog against real redis-server 7.0.15 on a 4-shard Sabre: reply bytes
// compared, and the value's bytes (GET) after every write, so the sparse and
// dense encodings, the cached cardinality and its stale bit match byte for
// byte. Keys a, b, c, d live on four different shards; {t}a, {t}b, {t}c on one.

it('test keys really span four shards (guard for the cross-shard cases)', () => {
  const shardOf = (k: string): number => shardOfKey(k, 4);
  expect(new Set(['a', 'b', 'c', 'd'].map(shardOf)).size).toBe(4);
  expect(new Set(['{t}a', '{t}b', '{t}c'].map(shardOf)).size).toBe(1);
});

/** Steps sent as one pipeline (one write), their replies read after. */
function pipelined(steps: ReadonlyArray<ReadonlyArray<string | Buffer>>): Step {
  return { send: Buffer.concat(steps.map((s) => encodeCommand(s))), replies: steps.length };
}

/** A command with binary arguments, as one step. */
function raw(args: ReadonlyArray<string | Buffer>): Step {
  return { send: encodeCommand(args), replies: 1 };
}

/** The bytes of a bulk reply ($n\r\n...\r\n). */
function bulkBody(reply: Buffer): Buffer {
  const eol = reply.indexOf(13);
  return reply.subarray(eol + 2, reply.length - 2);
}

/** n distinct elements with a prefix. */
function elements(prefix: string, from: number, n: number): string[] {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) out.push(`${prefix}${i}`);
  return out;
}

describeDifferential('hyperloglog: differential', (ctx) => {
  it('arity and argument errors', async () => {
    await ctx.expectSame([
      ['PFADD'], ['PFCOUNT'], ['PFMERGE'], ['PFDEBUG'], ['PFDEBUG', 'getreg'], ['PFDEBUG', 'getreg', 'a', 'b'],
      ['PFSELFTEST', 'x'], ['PFDEBUG', 'getreg', 'nokey'], ['PFDEBUG', 'bogus', 'nokey'],
      ['PFADD', 'a', 'x'], ['PFDEBUG', 'bogus', 'a'], ['PFDEBUG', 'Bogus-Case', 'a'], ['PFDEBUG', 'DECODE', 'a'],
      ['PFDEBUG', 'Encoding', 'a'], ['PFDEBUG', 'todense', 'a'], ['PFDEBUG', 'todense', 'a'], ['PFDEBUG', 'decode', 'a'],
      ['PFDEBUG', 'encoding', 'a'], ['GET', 'a'],
    ]);
  });

  it('wrong types: other types, plain strings, bad magic, encoding and dense length', async () => {
    const sparse = Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff', 'latin1');
    const badEnc = Buffer.from(sparse);
    badEnc[4] = 2;
    const shortDense = Buffer.from(sparse);
    shortDense[4] = 0;
    const cmds: Step[] = [
      ['RPUSH', 'l', 'x'], ['SET', 's', 'plain string value'], ['SET', 'i', '12345'], ['SET', 'h', 'HYLL'],
      raw(['SET', 'e', badEnc]), raw(['SET', 'dn', shortDense]), raw(['SET', 'ok', sparse]),
    ];
    for (const k of ['l', 's', 'i', 'h', 'e', 'dn']) {
      cmds.push(['PFADD', k, 'x'], ['PFADD', k], ['PFCOUNT', k], ['PFCOUNT', 'ok', k], ['PFCOUNT', k, 'l'],
        ['PFMERGE', k, 'ok'], ['PFMERGE', 'ok', k], ['PFDEBUG', 'encoding', k], ['PFDEBUG', 'getreg', k]);
    }
    cmds.push(['GET', 'ok'], ['PFCOUNT', 'ok'], ['OBJECT', 'ENCODING', 'ok'], ['GET', 'ok'], ['TYPE', 'ok']);
    await ctx.expectSame(cmds);
  });

  it('PFADD and PFCOUNT: creation, cache, GET bytes after each step', async () => {
    await ctx.expectSame([
      ['PFADD', 'a'], ['GET', 'a'], ['PFADD', 'a'], ['PFCOUNT', 'a'], ['GET', 'a'], ['OBJECT', 'ENCODING', 'a'],
      ['PFADD', 'a', 'a', 'b', 'c'], ['GET', 'a'], ['PFADD', 'a', 'a', 'b', 'c'], ['GET', 'a'], ['PFCOUNT', 'a'],
      ['GET', 'a'], ['PFADD', 'a', ''], ['GET', 'a'], ['PFADD', 'a', '\x00\xff\r\nbin', 'élément'], ['GET', 'a'],
      ['PFCOUNT', 'a'], ['PFCOUNT', 'a'], ['GET', 'a'], ['PFDEBUG', 'decode', 'a'], ['PFCOUNT', 'nokey'],
      ['PFCOUNT', 'nokey', 'nokey2'], ['PFCOUNT', 'a', 'nokey'], ['GET', 'a'], ['STRLEN', 'a'], ['TYPE', 'a'],
    ]);
  });

  it('random PFADD sequences on four shards, sparse through dense, with GET after every step', async () => {
    const rnd = mulberry32(7);
    const keys = ['a', 'b', 'c', 'd'];
    const cmds: Step[] = [];
    for (let step = 0; step < 600; step++) {
      const k = keys[Math.floor(rnd() * keys.length)];
      const n = 1 + Math.floor(rnd() * (step < 300 ? 8 : 60));
      const els: string[] = [];
      for (let i = 0; i < n; i++) els.push(String(Math.floor(rnd() * 40000)));
      cmds.push(['PFADD', k, ...els], ['GET', k]);
      if (rnd() < 0.3) cmds.push(['PFCOUNT', k], ['GET', k]);
      if (rnd() < 0.05) cmds.push(['PFDEBUG', 'encoding', k]);
    }
    for (const k of keys) cmds.push(['PFCOUNT', k], ['GET', k], ['PFDEBUG', 'encoding', k]);
    cmds.push(['PFCOUNT', 'a', 'b', 'c', 'd']);
    await ctx.expectSame(cmds);
  });

  it('promotion at hll-sparse-max-bytes, one element at a time, for several limits', async () => {
    for (const limit of ['3000', '0', '40', '500', '9000']) {
      const cmds: Step[] = [['FLUSHALL'], ['CONFIG', 'SET', 'hll-sparse-max-bytes', limit]];
      const total = limit === '9000' ? 4000 : 1500;
      for (let i = 0; i < total; i++) {
        cmds.push(['PFADD', 'a', `el:${limit}:${i}`]);
        if (i % 7 === 0 || i > 1000) cmds.push(['STRLEN', 'a']);
        if (i % 50 === 0) cmds.push(['GET', 'a'], ['PFCOUNT', 'a']);
      }
      cmds.push(['GET', 'a'], ['PFDEBUG', 'encoding', 'a'], ['PFCOUNT', 'a'], ['GET', 'a']);
      await ctx.expectSame(cmds);
    }
    await ctx.expectSame([['CONFIG', 'SET', 'hll-sparse-max-bytes', '3000'], ['CONFIG', 'GET', 'hll-sparse-max-bytes']]);
  });

  it('a register above 32 promotes a small sparse value to dense', async () => {
    // Elements whose hash has a run of more than 32 zeros are rare: set one register through a crafted value instead.
    const v = Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff', 'latin1');
    await ctx.expectSame([
      raw(['SET', '{t}a', v]), ['PFADD', '{t}a', 'x'], ['GET', '{t}a'],
      // PFMERGE from a dense source with a high register into a sparse destination.
      raw(['SET', '{t}b', v]), ['PFDEBUG', 'todense', '{t}b'], ['SETRANGE', '{t}b', '100', '\x3f'], ['PFDEBUG', 'getreg', '{t}b'],
      ['PFMERGE', '{t}c', '{t}b'], ['GET', '{t}c'], ['PFDEBUG', 'encoding', '{t}c'], ['PFCOUNT', '{t}c'],
    ]);
  });

  it('100,000 elements: PFCOUNT and GET bytes along the way', async () => {
    const batches: Step[] = [];
    for (let b = 0; b < 100; b++) {
      batches.push(['PFADD', 'a', ...elements('big-', b * 1000, 1000)], ['PFCOUNT', 'a']);
      if (b % 10 === 0 || b < 5) batches.push(['GET', 'a']);
      batches.push(['PFADD', 'b', ...elements('x', b * 1000, 1000)]);
    }
    batches.push(['GET', 'a'], ['GET', 'b'], ['PFCOUNT', 'b'], ['GET', 'b'], ['PFCOUNT', 'a', 'b'], ['PFCOUNT', 'b', 'a', 'nokey']);
    await ctx.expectSame(batches);
  });

  it('PFMERGE: sparse and dense sources, destination among them, across shards and on one', async () => {
    const cmds: Step[] = [];
    for (const [d, x, y, z] of [['a', 'b', 'c', 'd'], ['{t}a', '{t}b', '{t}c', '{t}c']]) {
      cmds.push(
        ['FLUSHALL'],
        ['PFMERGE', d], ['GET', d], ['PFMERGE', d, 'nokey'], ['GET', d],
        ['PFADD', x, ...elements('x', 0, 50)], ['PFADD', y, ...elements('y', 0, 40)],
        ['PFMERGE', d, x, y], ['GET', d], ['PFCOUNT', d], ['GET', d],
        ['PFMERGE', d, d, x], ['GET', d],
        ['PFADD', z, ...elements('z', 0, 5000)], ['PFDEBUG', 'encoding', z],
        ['PFMERGE', x, z], ['GET', x], ['PFDEBUG', 'encoding', x],
        ['PFADD', d, ...elements('q', 0, 3)], ['PFMERGE', d, y, z], ['GET', d],
        ['PFCOUNT', d, x, y, z], ['PFCOUNT', x, y], ['PFCOUNT', y, 'nokey', x],
        ['DEL', d], ['PFADD', y, ...elements('w', 0, 400)], ['PFMERGE', d, y, x, 'nokey'], ['GET', d], ['PFCOUNT', d],
        ['SET', 'plain', 'v'], ['PFMERGE', d, 'plain'], ['PFMERGE', 'plain', d], ['RPUSH', 'l', '1'], ['PFMERGE', d, x, 'l'],
        ['PFCOUNT', x, 'l'], ['PFCOUNT', 'l', x], ['GET', d],
      );
    }
    await ctx.expectSame(cmds);
  });

  it('PFMERGE into sparse destinations that grow past the limit, and TTLs kept', async () => {
    await ctx.expectSame([
      ['PFADD', 'a', ...elements('s', 0, 700)], ['PFADD', 'b', ...elements('t', 0, 700)], ['SET', 'c', 'x'], ['DEL', 'c'],
      ['PFADD', 'c', 'one'], ['EXPIRE', 'c', '1000'], ['PFMERGE', 'c', 'a', 'b'], ['GET', 'c'], ['TTL', 'c'],
      ['PFDEBUG', 'encoding', 'c'], ['CONFIG', 'SET', 'hll-sparse-max-bytes', '100000'], ['PFADD', 'd', 'z'],
      ['PFMERGE', 'd', 'a', 'b'], ['GET', 'd'], ['PFDEBUG', 'decode', 'd'], ['PFCOUNT', 'd'], ['GET', 'd'],
      ['CONFIG', 'SET', 'hll-sparse-max-bytes', '3000'],
    ]);
  });

  it('PFDEBUG GETREG, DECODE, ENCODING, TODENSE', async () => {
    await ctx.expectSame([
      ['PFADD', 'a', ...elements('r', 0, 30)], ['PFDEBUG', 'decode', 'a'], ['PFDEBUG', 'encoding', 'a'],
      ['PFDEBUG', 'getreg', 'a'], ['GET', 'a'], ['PFDEBUG', 'encoding', 'a'], ['PFDEBUG', 'decode', 'a'],
      ['PFDEBUG', 'todense', 'a'], ['PFADD', 'b', 'x'], ['PFDEBUG', 'todense', 'b'], ['GET', 'b'], ['PFCOUNT', 'b'],
      ['GET', 'b'],
    ]);
  });

  it('values move between the servers by GET and SET, both ways', async () => {
    const setup: Step[] = [
      ['PFADD', 'a', ...elements('m', 0, 20)], ['PFADD', 'b', ...elements('n', 0, 3000)], ['PFCOUNT', 'b'],
      ['PFADD', 'c', 'only'], ['GET', 'a'], ['GET', 'b'], ['GET', 'c'],
    ];
    const fromRedis = await ctx.run('redis', setup);
    const fromSabre = await ctx.run('sabre', setup);
    for (let i = 4; i < 7; i++) expect(fromSabre[i].equals(fromRedis[i])).toBe(true);
    const values = [bulkBody(fromRedis[4]), bulkBody(fromRedis[5]), bulkBody(fromRedis[6])];
    await ctx.expectSame([['FLUSHALL']]);
    // Redis's bytes into both, then the same operations on both.
    const cmds: Step[] = [];
    ['x', 'y', 'z'].forEach((k, i) => cmds.push(raw(['SET', k, values[i]])));
    cmds.push(['PFCOUNT', 'x'], ['PFCOUNT', 'y'], ['GET', 'y'], ['PFADD', 'x', 'more', 'elements'], ['GET', 'x'],
      ['PFMERGE', 'z', 'x', 'y'], ['GET', 'z'], ['PFCOUNT', 'x', 'y', 'z']);
    await ctx.expectSame(cmds);
    // And Sabre's bytes (sparse, dense, merged) into both.
    const [sx, sy, sz] = await ctx.run('sabre', [['GET', 'x'], ['GET', 'y'], ['GET', 'z']]);
    const back: Step[] = [['FLUSHALL']];
    [sx, sy, sz].forEach((v, i) => back.push(raw(['SET', `k${i}`, bulkBody(v)])));
    back.push(['PFCOUNT', 'k0'], ['PFCOUNT', 'k1'], ['PFCOUNT', 'k2'], ['PFADD', 'k0', 'q'], ['PFADD', 'k1', 'q'],
      ['GET', 'k0'], ['GET', 'k1'], ['PFMERGE', 'k2', 'k0', 'k1'], ['GET', 'k2'], ['PFDEBUG', 'encoding', 'k2']);
    await ctx.expectSame(back);
  });

  it('corrupted values: the same error or reply as Redis, never a crash', async () => {
    const rnd = mulberry32(11);
    for (let round = 0; round < Number(process.env.HLL_FUZZ_ROUNDS ?? 60); round++) {
      const n = Math.floor(rnd() * 3000);
      const setup: Step[] = [['FLUSHALL'], ['PFADD', 'a', ...elements(`c${round}-`, 0, n)], ['STRLEN', 'a']];
      const [, , strlen] = await ctx.run('redis', setup);
      await ctx.run('sabre', setup);
      const len = Number(strlen.toString('latin1').slice(1, -2));
      const cmds: Step[] = [];
      for (let i = 0; i < 5; i++) {
        const pos = Math.floor(rnd() * len);
        cmds.push(raw(['SETRANGE', 'a', String(pos), Buffer.from([Math.floor(rnd() * 256)])]));
        if (rnd() < 0.5) break;
      }
      if (rnd() < 0.3) cmds.push(raw(['APPEND', 'a', Buffer.from([Math.floor(rnd() * 256)])]));
      cmds.push(['GET', 'a'], ['PFCOUNT', 'a'], ['GET', 'a'], ['PFCOUNT', 'a', 'nokey'], ['PFDEBUG', 'decode', 'a'],
        ['PFADD', 'a', 'x1', 'x2', 'x3', 'x4', 'x5'], ['GET', 'a'], ['PFMERGE', 'b', 'a'], ['GET', 'b'],
        ['PFMERGE', 'c', 'a'], ['PFCOUNT', 'a'], ['PFDEBUG', 'getreg', 'a'], ['GET', 'a']);
      await ctx.expectSame(cmds);
    }
  });

  it('hand-made sparse values: truncated XZERO, overlong runs, cached cardinalities', async () => {
    const hdr = (enc: number, card: number[]): Buffer => Buffer.from([0x48, 0x59, 0x4c, 0x4c, enc, 0, 0, 0, ...card]);
    const valid = [0, 0, 0, 0, 0, 0, 0, 0];
    const stale = [0, 0, 0, 0, 0, 0, 0, 0x80];
    const values: Buffer[] = [
      hdr(1, valid), // no opcodes
      Buffer.concat([hdr(1, stale), Buffer.from([0x7f])]), // XZERO cut after its first byte
      Buffer.concat([hdr(1, stale), Buffer.from([0x7f, 0xfe, 0x80])]), // 16383 zeros then a VAL
      Buffer.concat([hdr(1, stale), Buffer.from([0x7f, 0xff, 0x80])]), // one register too many
      Buffer.concat([hdr(1, stale), Buffer.from([0x7f, 0xfb, 0x83])]), // VAL run past the end
      Buffer.concat([hdr(1, stale), Buffer.from([0x40, 0x00, 0x7f, 0xfe])]), // XZERO of 1 then 16383
      Buffer.concat([hdr(1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), Buffer.from([0x7f, 0xff])]),
      Buffer.concat([hdr(1, [0x39, 0x30, 0, 0, 0, 0, 0x20, 0]), Buffer.from([0x7f, 0xff])]),
      Buffer.concat([hdr(1, stale), Buffer.from([0x3f, 0x3f, 0x7f, 0x7f])]), // 128 zeros then 16256
      Buffer.concat([hdr(1, [1, 2, 3, 4, 5, 6, 7, 0x85]), Buffer.from([0x7f, 0xff])]),
      Buffer.concat([hdr(1, stale), Buffer.from([0x7f, 0xfc, 0x80, 0x83, 0x00])]), // VAL run past the end, then more
      Buffer.concat([hdr(1, stale), Buffer.from([0x7f, 0xfe, 0x00, 0x80])]), // a ZERO past the end, then a VAL
      Buffer.concat([hdr(1, stale), Buffer.from([0xfc, 0x7f, 0xfe])]), // VAL 32 then zeros
      Buffer.concat([hdr(1, stale), Buffer.alloc(16384, 0x80)]), // 16384 VAL:1,1
      Buffer.concat([hdr(1, stale), Buffer.alloc(40000, 0x40)]), // XZERO runs of 1, far too many
    ];
    const dense = Buffer.concat([hdr(0, stale), Buffer.alloc(12288, 0xff)]);
    values.push(dense);
    const cmds: Step[] = [];
    values.forEach((v, i) => {
      const k = `v${i}`;
      cmds.push(raw(['SET', k, v]), ['PFDEBUG', 'decode', k], ['PFCOUNT', k], ['GET', k], ['PFCOUNT', k, k],
        ['PFADD', k, 'a', 'b'], ['GET', k], ['PFMERGE', `m${i}`, k], ['GET', `m${i}`], raw(['SET', k, v]),
        ['PFDEBUG', 'todense', k], ['GET', k], ['OBJECT', 'ENCODING', k]);
    });
    await ctx.expectSame(cmds);
  });

  it('RESP3 and pipelines across shards', async () => {
    const pipe: string[][] = [];
    for (let i = 0; i < 200; i++) {
      const k = ['a', 'b', 'c', 'd'][i % 4];
      pipe.push(['PFADD', k, `p${i}`, `q${i}`], ['PFCOUNT', k]);
      if (i % 10 === 0) pipe.push(['PFCOUNT', 'a', 'b', 'c', 'd'], ['PFMERGE', 'a', 'c', 'd'], ['GET', 'a']);
    }
    await ctx.expectSame([pipelined(pipe), ['GET', 'a'], ['GET', 'b']]);
    await ctx.expectSame([['PFCOUNT', 'a'], ['PFCOUNT', 'a', 'b'], ['PFMERGE', 'c', 'a'], ['PFDEBUG', 'encoding', 'a'],
      ['PFDEBUG', 'getreg', 'c'], ['PFADD', 'a', 'zz'], ['PFCOUNT', 'x', 'y']], { resp3: true });
  });

  it('PFSELFTEST passes', async () => {
    await ctx.expectSame([['PFSELFTEST']], { replyTimeoutMs: 30_000 });
  }, 60_000);

  it('replies split in pipelined reads stay intact (GET of dense values)', async () => {
    const cmds: string[][] = [['PFADD', 'a', ...elements('e', 0, 5000)]];
    for (let i = 0; i < 20; i++) cmds.push(['GET', 'a'], ['PFCOUNT', 'a', 'b']);
    const [s] = await ctx.run('sabre', [pipelined(cmds), ['FLUSHALL']]);
    expect(splitReplies(s).replies.length).toBe(cmds.length);
    await ctx.expectSame([pipelined(cmds)]);
  });
});
