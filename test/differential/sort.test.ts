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
});

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
