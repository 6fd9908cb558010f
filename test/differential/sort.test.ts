import { expect, it } from 'vitest';
import { shardOfKey } from '../helpers/suites.ts';
import { describeDifferential, encodeCommand, type DifferentialContext, type Step } from '../helpers/differential.ts';

// SORT and SORT_RO against real redis-server 7.0, reply bytes compared, on a
// 4-shard Sabre: the pattern keys (w_*, o_*) and the STORE keys spread over
// every shard, so most cases run through the coordinator; {l} keys share one
// shard with the source {l}src and run on it alone. Sources are lists (sets
// and sorted sets come with their own branches).

const BIN = '\x00\xff\r\n\x01bin';

it('pattern keys spread over the shards (guard for the cross-shard cases)', () => {
  const shards = new Set(['w_1', 'w_2', 'w_3', 'w_10', 'w_-5', 'dst', 'dst2', 'src'].map((k) => shardOfKey(k, 4)));
  expect(shards.size).toBe(4);
  expect(shardOfKey('{l}src')).toBe(shardOfKey('{l}dst'));
  // Hash-field pattern keys of the set / sorted-set cases, and their sources.
  expect(new Set(['h_a', 'h_b', 'h_c', 'h_d', 'h_e', 'h_1', 'h_2', 'h_3'].map((k) => shardOfKey(k, 4))).size).toBe(4);
  expect(new Set(['iset', 'sset', 'zs', 'zbig'].map((k) => shardOfKey(k, 4))).size).toBeGreaterThan(1);
  expect(shardOfKey('{l}iset')).toBe(shardOfKey('{l}h_a'));
});

/** A reply of a flat array of bulk strings (nil as null), grouped in rows of `rowLen` and sorted. */
function rowsOf(reply: Buffer, rowLen: number): string[] {
  const text = reply.toString('latin1');
  let p = text.indexOf('\r\n');
  const n = Number(text.slice(1, p));
  p += 2;
  const items: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = text.indexOf('\r\n', p);
    if (text[p] === '_' || text.slice(p, e) === '$-1') {
      items.push('(nil)');
      p = e + 2;
      continue;
    }
    const len = Number(text.slice(p + 1, e));
    items.push(text.slice(e + 2, e + 2 + len));
    p = e + 4 + len;
  }
  const rows: string[] = [];
  for (let i = 0; i < items.length; i += rowLen) rows.push(JSON.stringify(items.slice(i, i + rowLen)));
  return rows.sort();
}

function pipelined(steps: string[][]): Step {
  return { send: Buffer.concat(steps.map((s) => encodeCommand(s))), replies: steps.length };
}

const NUMBERS = ['3', '1', '2', '10', '-5', '1.5', '007', '-0', '1e3', ' 4', '+8'];
const WEIGHTS: [string, string][] = [['w_3', '30'], ['w_1', '10'], ['w_2', '5'], ['w_10', '1'], ['w_-5', '100'],
  ['w_1.5', '7'], ['w_007', '-2'], ['w_-0', '2.5'], ['w_1e3', '9'], ['w_ 4', '0x10'], ['w_+8', '-inf']];

/** The cases, run on 4 shards (coordinated) and on 1 (every lookup on the source's shard). */
function cases(ctx: DifferentialContext): void {
  const setup: string[][] = [
    ['RPUSH', 'src', ...NUMBERS], ['MSET', ...WEIGHTS.flat()],
    ['RPUSH', '{l}src', ...NUMBERS], ['MSET', ...WEIGHTS.map(([k, v]) => [`{l}${k}`, v]).flat()],
    ['RPUSH', 'words', 'banana', 'apple', 'Cherry', 'apple2', '', 'b\x00z', 'b\x00a', 'zeta', BIN],
    ['MSET', 'o_banana', 'b', 'o_apple', 'a', 'o_Cherry', 'c', 'o_zeta', 'z', 'o_', 'empty'],
  ];

  it('numeric sorts: ASC, DESC, LIMIT in every shape', async () => {
    const steps: Step[] = [...setup];
    for (const key of ['src', '{l}src']) {
      steps.push(['SORT', key], ['SORT', key, 'ASC'], ['SORT', key, 'DESC'], ['SORT', key, 'desc', 'asc'],
        ['SORT_RO', key], ['SORT_RO', key, 'DESC', 'LIMIT', '1', '3']);
      for (const [s, n] of [['0', '0'], ['0', '1'], ['2', '3'], ['-1', '2'], ['-5', '-1'], ['3', '-1'], ['10', '5'], ['11', '1'],
        ['100', '1'], ['0', '100'], ['0', '-100'], ['9223372036854775807', '1'], ['-9223372036854775808', '9223372036854775807']]) {
        steps.push(['SORT', key, 'LIMIT', s, n], ['SORT', key, 'LIMIT', s, n, 'DESC']);
      }
    }
    await ctx.expectSame(steps);
  });

  it('BY nosort keeps the list order (DESC reverses it, LIMIT cuts it), ALPHA', async () => {
    const steps: Step[] = [...setup];
    for (const key of ['src', 'words']) {
      steps.push(['SORT', key, 'BY', 'nosort'], ['SORT', key, 'BY', 'nosort', 'DESC'], ['SORT', key, 'BY', 'constant', 'LIMIT', '2', '3'],
        ['SORT', key, 'BY', 'nosort', 'LIMIT', '2', '3', 'DESC'], ['SORT', key, 'BY', 'nosort', 'LIMIT', '0', '0'],
        ['SORT', key, 'BY', 'nosort', 'LIMIT', '-3', '4', 'DESC'], ['SORT', key, 'BY', 'nosort', 'LIMIT', '20', '4'],
        ['SORT', key, 'BY', 'nosort', 'ALPHA'], ['SORT', key, 'BY', 'x\x00*', 'DESC'],
        ['SORT', key, 'ALPHA'], ['SORT', key, 'ALPHA', 'DESC'], ['SORT', key, 'ALPHA', 'LIMIT', '1', '2'],
        ['SORT_RO', key, 'ALPHA', 'DESC', 'LIMIT', '0', '3']);
    }
    await ctx.expectSame(steps);
  });

  it('BY patterns across shards, missing weights, ALPHA BY, hash tags on one shard', async () => {
    const steps: Step[] = [...setup,
      ['SORT', 'src', 'BY', 'w_*'], ['SORT', 'src', 'BY', 'w_*', 'DESC'], ['SORT', 'src', 'BY', 'w_*', 'LIMIT', '2', '4'],
      ['SORT', '{l}src', 'BY', '{l}w_*'], ['SORT', '{l}src', 'BY', '{l}w_*', 'DESC', 'LIMIT', '1', '3'],
      // Hash-tagged patterns whose keys are on another shard than the source; tags that do not fix the slot.
      ['SORT', 'src', 'BY', '{l}w_*', 'GET', '#', 'GET', '{l}w_*'], ['SORT', '{l}src', 'BY', 'w_*', 'GET', '{l}w_*', 'STORE', 'dst'],
      ['LRANGE', 'dst', '0', '-1'], ['SORT', '{l}src', 'BY', '{}w_*'], ['SORT', '{l}src', 'BY', '{w_*}'], ['SORT', '{l}src', 'GET', '{l*}'],
      ['SORT', 'src', 'BY', 'nokey_*'], ['SORT', 'src', 'BY', 'nokey_*', 'DESC'],
      ['DEL', 'w_3', 'w_10'], ['SORT', 'src', 'BY', 'w_*'],
      ['SORT', 'words', 'BY', 'o_*', 'ALPHA'], ['SORT', 'words', 'BY', 'o_*', 'ALPHA', 'DESC'],
      ['SORT', 'words', 'BY', 'o_*', 'ALPHA', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'src', 'BY', 'w_*', 'ALPHA'],
      // A weight key of another type counts as missing.
      ['RPUSH', 'w_2', 'x'], ['SORT', 'src', 'BY', 'w_*'],
      // '*' twice: only the first is replaced.
      ['SET', 'p_3_*', '1'], ['SORT', 'src', 'BY', 'p_*_*', 'GET', 'p_*_*'],
    ];
    await ctx.expectSame(steps);
  });

  it('GET # and GET patterns (several, missing, other types, no star, ->field on non-hashes)', async () => {
    const steps: Step[] = [...setup,
      ['SORT', 'src', 'GET', '#'], ['SORT', 'src', 'GET', 'w_*'], ['SORT', 'src', 'GET', '#', 'GET', 'w_*', 'GET', 'nokey_*'],
      ['SORT', 'src', 'BY', 'w_*', 'GET', 'w_*', 'GET', '#', 'LIMIT', '1', '4'], ['SORT', 'src', 'GET', 'fixed'],
      ['SORT', 'src', 'GET', 'w_*->f'], ['SORT', 'src', 'GET', 'w_*->'], ['SET', 'w_->', 'arrow'], ['SORT', 'src', 'GET', 'w_*->'],
      ['SORT', 'src', 'BY', 'nosort', 'GET', '#', 'GET', 'w_*', 'DESC', 'LIMIT', '0', '3'], ['SORT', 'src', 'GET', '##'],
      ['SORT', 'src', 'GET', '#\x00x'], ['SORT', 'words', 'BY', 'nosort', 'GET', 'o_*'], ['SORT', 'words', 'ALPHA', 'GET', 'o_*'],
      ['RPUSH', 'w_1', 'list'], ['SORT', 'src', 'GET', 'w_*'],
      ['SORT_RO', '{l}src', 'BY', '{l}w_*', 'GET', '#', 'GET', '{l}w_*'],
    ];
    await ctx.expectSame(steps);
    await ctx.expectSame([...setup, ['SORT', 'src', 'BY', 'w_*', 'GET', '#', 'GET', 'w_*']], { resp3: true });
    await ctx.expectSame([...setup, ['SORT', 'src', 'GET', 'nokey_*'], ['SORT', 'nokey'], ['SORT', 'src', 'BY', 'nosort']], { resp3: true });
  });

  it('STORE: a list, replacing any type and TTL; an empty result deletes the destination', async () => {
    const steps: Step[] = [...setup,
      ['SORT', 'src', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'], ['TYPE', 'dst'],
      ['SORT', 'src', 'DESC', 'LIMIT', '0', '3', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SET', 'dst2', 'string'], ['EXPIRE', 'dst2', '100'], ['SORT', 'src', 'BY', 'w_*', 'GET', '#', 'GET', 'w_*', 'GET', 'none_*', 'STORE', 'dst2'],
      ['LRANGE', 'dst2', '0', '-1'], ['TTL', 'dst2'], ['OBJECT', 'ENCODING', 'dst2'],
      ['SORT', 'nokey', 'STORE', 'dst2'], ['EXISTS', 'dst2'], ['SORT', 'src', 'LIMIT', '0', '0', 'STORE', 'dst'], ['EXISTS', 'dst'],
      ['SORT', 'src', 'STORE', 'a', 'STORE', 'b'], ['EXISTS', 'a'], ['LRANGE', 'b', '0', '-1'],
      ['SORT', '{l}src', 'STORE', '{l}dst'], ['LRANGE', '{l}dst', '0', '-1'], ['SORT', '{l}src', 'STORE', '{l}src', 'DESC'],
      ['LRANGE', '{l}src', '0', '-1'], ['SORT', 'src', 'BY', 'nosort', 'STORE', 'src2'], ['LRANGE', 'src2', '0', '-1'],
      ['SORT', 'words', 'ALPHA', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'src', 'BY', 'w_*', 'ALPHA', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'words', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
    ];
    await ctx.expectSame(steps);
  });

  it('errors: syntax, LIMIT, WRONGTYPE, scores that are not doubles, SORT_RO STORE, arity', async () => {
    const steps: Step[] = [...setup,
      ['SORT'], ['SORT_RO'], ['SORT', 'src', 'LIMIT'], ['SORT', 'src', 'LIMIT', '1'], ['SORT', 'src', 'LIMIT', 'a', '1'],
      ['SORT', 'src', 'LIMIT', '1', 'b'], ['SORT', 'src', 'LIMIT', '1', '1.5'], ['SORT', 'src', 'LIMIT', '99999999999999999999', '1'],
      ['SORT', 'src', 'BY'], ['SORT', 'src', 'GET'], ['SORT', 'src', 'STORE'], ['SORT', 'src', 'FOO'], ['SORT', 'src', 'ASC', 'x'],
      ['SORT_RO', 'src', 'STORE', 'dst'], ['SORT_RO', 'src', 'store'], ['EXISTS', 'dst'],
      ['SET', 'str', 'x'], ['SORT', 'str'], ['SORT', 'str', 'BY', 'w_*'], ['SORT', 'str', 'FOO'], ['SORT', 'str', 'LIMIT', 'x', '1'],
      ['SORT', 'str', 'STORE', 'dst'], ['EXISTS', 'dst'],
      ['SORT', 'words'], ['SORT', 'words', 'STORE', 'dst'], ['EXISTS', 'dst'], ['SORT', 'words', 'BY', 'nosort'],
      ['SORT', 'words', 'DESC', 'LIMIT', '0', '1'],
      ['RPUSH', 'nums', '1e400', '1'], ['SORT', 'nums'], ['RPUSH', 'nums2', 'nan', '1'], ['SORT', 'nums2'],
      ['RPUSH', 'nums3', '1e-320', '1'], ['SORT', 'nums3'], ['RPUSH', 'nums4', '-1e-400'], ['SORT', 'nums4'],
      ['RPUSH', 'nums5', '0x1p3', '0X10', '0x', '1e', '1e+', '.5', '5.', '.', '-', 'inf', '-Infinity', 'infx', '1 '], ['SORT', 'nums5'],
      ['RPUSH', 'nums6', '0x1p3', '0X10', '1e', '.5', '5.', 'inf', '-Infinity', ' 7', '\t8', '', '1e5', '-0.0'], ['SORT', 'nums6'],
      ['SORT', 'nums6', 'DESC'], ['SORT', 'src', 'BY', 'o_*'], ['SET', 'w_3', 'notanumber'], ['SORT', 'src', 'BY', 'w_*'],
      ['SORT', 'src', 'BY', 'w_*', 'STORE', 'dst'], ['EXISTS', 'dst'],
    ];
    await ctx.expectSame(steps);
    // Exact subnormal hex scores are no range error. On a new connection: Redis never clears errno
    // before strtod, so an ERANGE met earlier on a connection (1e-320 above) can leak into a later
    // SORT until some system call fails with another errno (accept's EAGAIN does); Sabre has no such state.
    await ctx.expectSame([['RPUSH', 'nums7', '0x1p-1070', '0x3p-1074', '0x1.8p-1073', '1', '0x.8'], ['SORT', 'nums7'],
      ['RPUSH', 'nums8', '0x3p-1075', '1'], ['SORT', 'nums8'], ['RPUSH', 'nums9', '0x1p-1080'], ['SORT', 'nums9']]);
  });

  it('pipelined sorts interleaved with writes on every shard keep their order', async () => {
    const cmds: string[][] = [['RPUSH', 'src', '5', '3', '9']];
    for (let i = 0; i < 60; i++) {
      cmds.push(['SET', `w_${i % 10}`, String((i * 37) % 11)], ['RPUSH', 'src', String(i % 10)]);
      if (i % 3 === 0) cmds.push(['SORT', 'src', 'BY', 'w_*', 'GET', '#', 'GET', 'w_*', 'LIMIT', '0', '5']);
      if (i % 4 === 0) cmds.push(['SORT', 'src', 'STORE', `out${i % 3}`], ['LLEN', `out${i % 3}`]);
      if (i % 5 === 0) cmds.push(['SORT', 'src', 'BY', 'w_*', 'DESC', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '4']);
    }
    await ctx.expectSame([pipelined(cmds)]);
  });

  it('pipelined sorts of sets and sorted sets by hash fields, interleaved with writes on every shard', async () => {
    const cmds: string[][] = [];
    for (let i = 0; i < 60; i++) {
      const m = String(i % 12);
      cmds.push(['SADD', 'ps', m], ['ZADD', 'pz', String((i * 13) % 7), `z${m}`], ['HSET', `ph_${m}`, 'w', String((i * 37) % 11)],
        ['HSET', `ph_z${m}`, 'w', String((i * 5) % 17), 'n', `n${i}`]);
      if (i % 3 === 0) cmds.push(['SORT', 'ps', 'BY', 'ph_*->w', 'GET', '#', 'GET', 'ph_*->w', 'LIMIT', '0', '5']);
      if (i % 4 === 0) cmds.push(['SORT', 'pz', 'BY', 'nosort', 'DESC', 'GET', 'ph_*->n', 'STORE', `pout${i % 3}`], ['LRANGE', `pout${i % 3}`, '0', '-1']);
      if (i % 5 === 0) cmds.push(['SORT', 'pz', 'BY', 'ph_*->w', 'ALPHA', 'STORE', 'pdst'], ['LRANGE', 'pdst', '0', '4'], ['SORT', 'ps', 'STORE', 'pdst2'],
        ['LRANGE', 'pdst2', '0', '-1']);
    }
    await ctx.expectSame([pipelined(cmds)]);
  });

  // Sets, sorted sets and hash fields. xs_* / h_* keys spread over the shards; {l} keys share the source's shard.
  const BIG_INTS = Array.from({ length: 600 }, (_, i) => String((i * 7919) % 1201 - 600));
  const collections: string[][] = [
    ['SADD', 'iset', '3', '1', '2', '10', '-5', '9223372036854775807', '-9223372036854775808'],
    ['SADD', 'bigiset', ...BIG_INTS],
    // As C strings (ALPHA without STORE compares them so) BIN and '' are equal: never in one set.
    ['SADD', 'sset', 'banana', 'apple', 'Cherry', 'apple2', 'zeta', BIN], ['SADD', 'eset', '', 'x', '\x01', 'y\x00z'],
    ['SADD', 'nset', '3', '1.5', '007', '-2', '1e3', ' 4'],
    ['ZADD', 'zs', '1', 'a', '5', 'b', '2', 'c', '10', 'd', '3', 'e', '3', 'f'],
    ['ZADD', 'zn', '1', '30', '2', '-4', '3', '7.5', '4', '1e2', '5', '0'],
    ['ZADD', 'zbig', ...Array.from({ length: 300 }, (_, i) => [String((i * 37) % 101), `m${i}`]).flat()],
    ['SADD', '{l}iset', '3', '1', '2', '10', '-5'], ['ZADD', '{l}zs', '1', 'a', '5', 'b', '2', 'c', '10', 'd', '3', 'e'],
    // BY / GET key->field: weights and names in hashes, on every shard and on {l}'s.
    ...['a', 'b', 'c', 'd', 'e', 'f', '3', '1', '2', '10', '-5', 'banana', 'apple', 'Cherry', 'zeta', BIN].map((m, i) =>
      ['HSET', `h_${m}`, 'w', String((i * 7) % 15 - 3), 'name', `N${m}`, 'alpha', `${String.fromCharCode(122 - i)}${m}`]),
    ...['a', 'b', 'c', 'd', 'e', '3', '1', '2', '10', '-5'].map((m, i) =>
      ['HSET', `{l}h_${m}`, 'w', String(20 - i * 3), 'name', `L${m}`]),
    ['HSET', 'h_', 'w', '99', 'name', 'empty'], ['HDEL', 'h_b', 'w'], ['SET', 'h_apple2', 'a string'],
    ['HSET', 'big_h', ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
  ];

  it('sets (intset and hashtable), sorted sets (listpack and skiplist): numeric, ALPHA, DESC, LIMIT, STORE', async () => {
    const steps: Step[] = [...collections];
    for (const key of ['iset', 'bigiset', 'sset', 'eset', 'nset', 'zs', 'zn', 'zbig', '{l}iset', '{l}zs']) {
      steps.push(['SORT', key], ['SORT', key, 'DESC'], ['SORT', key, 'ALPHA'], ['SORT', key, 'ALPHA', 'DESC', 'LIMIT', '1', '3'],
        ['SORT', key, 'LIMIT', '2', '4'], ['SORT_RO', key, 'ALPHA', 'LIMIT', '-1', '3'], ['SORT', key, 'LIMIT', '0', '0'],
        ['SORT', key, 'ALPHA', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'], ['SORT', key, 'DESC', 'STORE', '{l}dst'],
        ['LRANGE', '{l}dst', '0', '-1'], ['SORT', key, 'BY', 'nosort', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
        ['SORT', key, 'BY', 'nosort', 'DESC', 'LIMIT', '1', '2', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
        ['SORT', key, 'BY', 'nokey_*', 'GET', '#', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
        ['TYPE', key]);
    }
    await ctx.expectSame(steps);
  });

  it('sorted sets with BY nosort keep their rank order: DESC from the top, LIMIT counts ranks; the set becomes a skiplist', async () => {
    const steps: Step[] = [...collections];
    for (const key of ['zs', 'zn', 'zbig', '{l}zs']) {
      steps.push(['OBJECT', 'ENCODING', key], ['SORT', key, 'BY', 'nosort'], ['OBJECT', 'ENCODING', key], ['SORT', key, 'BY', 'nosort', 'DESC'],
        ['SORT_RO', key, 'BY', 'nosort', 'LIMIT', '0', '1'], ['SORT', key, 'BY', 'nosort', 'DESC', 'LIMIT', '0', '1'],
        ['SORT', key, 'BY', 'nosort', 'LIMIT', '2', '3'], ['SORT', key, 'BY', 'nosort', 'DESC', 'LIMIT', '2', '3'],
        ['SORT', key, 'BY', 'nosort', 'LIMIT', '5', '10'], ['SORT', key, 'BY', 'nosort', 'LIMIT', '-10', '100'],
        ['SORT', key, 'BY', 'nosort', 'DESC', 'LIMIT', '250', '100'], ['SORT', key, 'BY', 'nosort', 'LIMIT', '400', '1'],
        ['SORT', key, 'BY', 'constant', 'GET', '#', 'GET', 'h_*->w', 'LIMIT', '1', '4'],
        ['SORT', key, 'BY', 'nosort', 'DESC', 'GET', 'h_*->name', 'GET', '{l}h_*->name', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
        ['ZCARD', key], ['ZRANGE', key, '0', '2', 'WITHSCORES']);
    }
    steps.push(['ZADD', 'small', '1', 'x'], ['SORT_RO', 'small', 'ALPHA'], ['OBJECT', 'ENCODING', 'small'], ['ZADD', 'small', '2', 'y'],
      ['ZRANGE', 'small', '0', '-1', 'WITHSCORES']);
    await ctx.expectSame(steps);
  });

  it('BY and GET key->field on hashes (same shard with hash tags, and across shards)', async () => {
    const steps: Step[] = [...collections];
    for (const key of ['iset', 'sset', 'zs', '{l}iset', '{l}zs']) {
      steps.push(['SORT', key, 'BY', 'h_*->w', 'GET', '#', 'GET', 'h_*->w'], ['SORT', key, 'BY', 'h_*->w', 'DESC', 'GET', 'h_*->name'],
        ['SORT', key, 'BY', 'h_*->alpha', 'ALPHA', 'GET', '#'], ['SORT', key, 'BY', 'h_*->alpha', 'ALPHA', 'DESC', 'LIMIT', '1', '3'],
        ['SORT', key, 'BY', '{l}h_*->w', 'GET', '#', 'GET', '{l}h_*->name', 'GET', 'h_*->name'],
        ['SORT', key, 'BY', 'h_*->nofield', 'GET', '#'], ['SORT', key, 'BY', 'h_*->w', 'GET', 'h_*->', 'GET', 'h_*-', 'GET', 'h_*->w->x'],
        ['SORT', key, 'ALPHA', 'GET', 'h_*->name', 'GET', 'h_*->nofield', 'STORE', 'dst'], ['LRANGE', 'dst', '0', '-1'],
        ['SORT', key, 'BY', '{l}h_*->w', 'GET', '{l}h_*->name', 'STORE', '{l}dst'], ['LRANGE', '{l}dst', '0', '-1'],
        ['SORT_RO', key, 'BY', 'h_*->w', 'GET', 'h_*->w', 'LIMIT', '0', '3']);
    }
    steps.push(['RPUSH', 'lsrc', 'f1', 'f599', 'nof', 'f20'], ['SORT', 'lsrc', 'ALPHA', 'GET', 'big_*->f20'],
      ['SORT', 'lsrc', 'BY', 'nosort', 'GET', 'big_h->*'], ['SORT', 'lsrc', 'ALPHA', 'GET', 'big_h->*'],
      ['RPUSH', 'lsrc2', 'h'], ['SORT', 'lsrc2', 'GET', 'big_*->f7', 'GET', 'big_*->f8']);
    await ctx.expectSame(steps);
    await ctx.expectSame([...collections, ['SORT', 'zs', 'BY', 'h_*->w', 'GET', '#', 'GET', 'h_*->name']], { resp3: true });
  });

  it('sets with BY nosort and no STORE: the members (Redis leaves their order to the set)', async () => {
    const cmds: string[][] = [];
    for (const key of ['iset', 'bigiset', 'sset', 'eset', 'nset', '{l}iset']) {
      cmds.push(['SORT', key, 'BY', 'nosort'], ['SORT', key, 'BY', 'nosort', 'DESC'], ['SORT', key, 'BY', 'nosort', 'GET', '#', 'GET', 'h_*->w'],
        ['SORT', key, 'BY', 'constant', 'LIMIT', '0', '100000']);
    }
    await ctx.run('sabre', collections);
    await ctx.run('redis', collections);
    const [ours, theirs] = await Promise.all([ctx.run('sabre', cmds), ctx.run('redis', cmds)]);
    for (let i = 0; i < cmds.length; i++) {
      const rowLen = cmds[i].includes('GET') ? 2 : 1;
      const a = rowsOf(ours[i], rowLen);
      expect(a.length).toBeGreaterThan(0);
      expect(a, cmds[i].join(' ')).toEqual(rowsOf(theirs[i], rowLen));
    }
  });

  it('a large intset (its decimal text spans several chunks) sorted, stored, and as a ZUNION input', async () => {
    const ints: string[] = [];
    for (let i = 0; i < 3000; i++) ints.push(String(i % 2 === 0 ? -9223372036854775807n + BigInt(i) * 1000n : BigInt(i) * 7919n));
    await ctx.expectSame([['CONFIG', 'SET', 'set-max-intset-entries', '5000'], ['SADD', 'bi', ...ints], ['OBJECT', 'ENCODING', 'bi'],
      ['SORT', 'bi'], ['SORT', 'bi', 'ALPHA', 'DESC', 'LIMIT', '100', '50'], ['SORT', 'bi', 'BY', 'nosort', 'STORE', 'dst'],
      ['LRANGE', 'dst', '0', '-1'], ['ZADD', 'z', '5', '7919'], ['ZUNION', '2', 'bi', 'z', 'WITHSCORES'], ['ZUNIONSTORE', 'dst2', '2', 'bi', 'z'],
      ['ZRANGE', 'dst2', '-3', '-1', 'WITHSCORES'], ['CONFIG', 'SET', 'set-max-intset-entries', '512']]);
  });

  it('errors on the new sources: WRONGTYPE of a hash, scores that are not doubles, SORT_RO STORE', async () => {
    await ctx.expectSame([...collections,
      ['SORT', 'h_a'], ['SORT_RO', 'h_a', 'BY', 'nosort'], ['SORT', 'h_a', 'STORE', 'dst'], ['EXISTS', 'dst'],
      ['SORT', 'sset'], ['SORT', 'zs'], ['SORT', 'nset'], ['SORT', 'sset', 'STORE', 'dst'], ['EXISTS', 'dst'],
      ['SORT', 'iset', 'BY', 'h_*->name'], ['SORT', 'zs', 'BY', 'h_*->alpha'], ['SORT', 'zs', 'BY', 'h_*->alpha', 'STORE', 'dst'],
      ['SORT_RO', 'zs', 'STORE', 'dst'], ['SORT', 'zs', 'LIMIT', '1'], ['SORT', 'iset', 'GET'], ['SORT', 'sset', 'ALPHA', 'FOO'],
    ]);
  });

  it('COMMAND INFO and GETKEYS', async () => {
    await ctx.expectSame([
      ['COMMAND', 'GETKEYS', 'SORT', 'a'], ['COMMAND', 'GETKEYS', 'SORT', 'a', 'STORE', 'b'],
      ['COMMAND', 'GETKEYS', 'SORT', 'a', 'BY', 'w_*', 'GET', '#', 'STORE', 'b', 'LIMIT', '0', '1'],
      ['COMMAND', 'GETKEYS', 'SORT_RO', 'a', 'GET', 'x_*'], ['COMMAND', 'GETKEYSANDFLAGS', 'SORT', 'a', 'STORE', 'b'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SORT_RO', 'a', 'STORE', 'b'], ['COMMAND', 'INFO', 'sort', 'sort_ro'],
    ]);
  });
}

describeDifferential('sort: differential (4 shards)', cases);
describeDifferential('sort: differential (1 shard)', cases, { shards: 1 });
