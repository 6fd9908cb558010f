import { expect, it } from 'vitest';
import {
  BINARY_ARG, describeDifferential, expectKeysSpanFourShards, pipelined, type Step,
} from '../helpers/differential.ts';

// The list family against real redis-server 7.0, reply bytes compared, on a
// 4-shard Sabre. Keys a, b, c, d live on four different shards; {t}a and {t}b
// share one, so LMOVE/RPOPLPUSH/LMPOP/RENAME/COPY run both coordinated and on
// one shard.

expectKeysSpanFourShards();

describeDifferential('lists: differential', (ctx) => {
  it('arity errors of every command', async () => {
    await ctx.expectSame([
      ['LPUSH'], ['LPUSH', 'a'], ['RPUSH', 'a'], ['LPUSHX', 'a'], ['RPUSHX', 'a'], ['LPOP'], ['RPOP'],
      ['LPOP', 'a', '1', '2'], ['RPOP', 'a', '1', '2'], ['LLEN'], ['LLEN', 'a', 'b'], ['LRANGE', 'a', '0'],
      ['LRANGE', 'a', '0', '1', '2'], ['LINDEX', 'a'], ['LSET', 'a', '0'], ['LINSERT', 'a', 'before', 'x'],
      ['LREM', 'a', '0'], ['LTRIM', 'a', '0'], ['LPOS', 'a'], ['LMOVE', 'a', 'b', 'left'], ['RPOPLPUSH', 'a'],
      ['LMPOP', '1', 'a'], ['LMPOP', '1'],
    ]);
  });

  it('pushes, pops with count, LLEN, binary and empty elements', async () => {
    await ctx.expectSame([
      ['LPUSH', 'a', '1', '2', '3'], ['RPUSH', 'a', 'x', '', BINARY_ARG], ['LRANGE', 'a', '0', '-1'], ['LLEN', 'a'],
      ['LPUSHX', 'a', 'h'], ['RPUSHX', 'a', 't1', 't2'], ['LPUSHX', 'nokey', 'v'], ['RPUSHX', 'nokey', 'v'], ['EXISTS', 'nokey'],
      ['LPOP', 'a'], ['RPOP', 'a'], ['LPOP', 'a', '2'], ['RPOP', 'a', '2'], ['LPOP', 'a', '0'], ['RPOP', 'a', '0'],
      ['LPOP', 'a', '-1'], ['LPOP', 'a', 'x'], ['LPOP', 'a', '9223372036854775807'], ['EXISTS', 'a'],
      ['LPOP', 'a'], ['LPOP', 'a', '0'], ['RPOP', 'a', '3'], ['LLEN', 'a'], ['TYPE', 'a'],
      ['RPUSH', 'b', 'only'], ['RPOP', 'b', '10'], ['EXISTS', 'b'], ['LPOP', 'b', '-5'],
    ]);
  });

  it('LRANGE and LINDEX: negative indexes, out of range, huge numbers', async () => {
    await ctx.expectSame([
      ['RPUSH', 'c', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      ['LRANGE', 'c', '0', '0'], ['LRANGE', 'c', '-3', '-1'], ['LRANGE', 'c', '5', '2'], ['LRANGE', 'c', '-100', '100'],
      ['LRANGE', 'c', '10', '20'], ['LRANGE', 'c', '9', '9'], ['LRANGE', 'c', '-1', '-2'], ['LRANGE', 'c', 'x', '1'],
      ['LRANGE', 'c', '0', '9223372036854775807'], ['LRANGE', 'c', '-9223372036854775808', '2'], ['LRANGE', 'nokey', '0', '-1'],
      ['LINDEX', 'c', '0'], ['LINDEX', 'c', '-1'], ['LINDEX', 'c', '-10'], ['LINDEX', 'c', '-11'], ['LINDEX', 'c', '10'],
      ['LINDEX', 'c', 'x'], ['LINDEX', 'nokey', '0'], ['LINDEX', 'nokey', 'x'], ['LINDEX', 'c', '9223372036854775807'],
    ]);
  });

  it('LSET, LINSERT, LREM, LTRIM', async () => {
    await ctx.expectSame([
      ['LSET', 'nokey', '0', 'x'], ['RPUSH', 'd', 'a', 'b', 'a', 'c', 'a', 'b'],
      ['LSET', 'd', '0', 'A'], ['LSET', 'd', '-1', 'B-long-element-value'], ['LSET', 'd', '6', 'x'], ['LSET', 'd', '-7', 'x'],
      ['LSET', 'd', 'x', 'v'], ['LSET', 'd', '1', ''], ['LRANGE', 'd', '0', '-1'],
      ['LINSERT', 'd', 'BEFORE', 'a', 'ins1'], ['LINSERT', 'd', 'after', 'a', 'ins2'], ['LINSERT', 'd', 'before', 'zz', 'v'],
      ['LINSERT', 'd', 'middle', 'a', 'v'], ['LINSERT', 'nokey', 'before', 'a', 'v'], ['LINSERT', 'nokey', 'bad', 'a', 'v'],
      ['LRANGE', 'd', '0', '-1'],
      ['LREM', 'd', '1', 'a'], ['LRANGE', 'd', '0', '-1'], ['LREM', 'd', '-1', 'a'], ['LRANGE', 'd', '0', '-1'],
      ['RPUSH', 'd', 'a', 'a', 'a'], ['LREM', 'd', '0', 'a'], ['LRANGE', 'd', '0', '-1'], ['LREM', 'd', 'x', 'a'],
      ['LREM', 'nokey', '0', 'a'], ['LREM', 'd', '0', 'nothing'],
      ['LTRIM', 'd', '1', '-2'], ['LRANGE', 'd', '0', '-1'], ['LTRIM', 'd', 'x', '1'], ['LTRIM', 'nokey', '0', '1'],
      ['LTRIM', 'd', '5', '1'], ['EXISTS', 'd'], ['RPUSH', 'd', '1', '2', '3'], ['LTRIM', 'd', '-100', '100'],
      ['LRANGE', 'd', '0', '-1'], ['LREM', 'd', '0', '2'], ['LREM', 'd', '0', '1'], ['LREM', 'd', '0', '3'], ['EXISTS', 'd'],
    ]);
  });

  it('LPOS with RANK, COUNT, MAXLEN and errors', async () => {
    await ctx.expectSame([
      ['RPUSH', 'a', 'a', 'b', 'c', '1', '2', '3', 'c', 'c'],
      ['LPOS', 'a', 'c'], ['LPOS', 'a', 'c', 'RANK', '2'], ['LPOS', 'a', 'c', 'RANK', '-1'], ['LPOS', 'a', 'c', 'RANK', '-3'],
      ['LPOS', 'a', 'c', 'RANK', '-4'], ['LPOS', 'a', 'c', 'COUNT', '0'], ['LPOS', 'a', 'c', 'COUNT', '2'],
      ['LPOS', 'a', 'c', 'COUNT', '0', 'RANK', '-1'], ['LPOS', 'a', 'c', 'COUNT', '0', 'MAXLEN', '7'],
      ['LPOS', 'a', 'c', 'RANK', '-1', 'MAXLEN', '1'], ['LPOS', 'a', 'c', 'MAXLEN', '2'], ['LPOS', 'a', 'x'],
      ['LPOS', 'a', 'x', 'COUNT', '5'], ['LPOS', 'a', 'c', 'RANK', '0'], ['LPOS', 'a', 'c', 'RANK', 'x'],
      ['LPOS', 'a', 'c', 'COUNT', '-1'], ['LPOS', 'a', 'c', 'MAXLEN', '-1'], ['LPOS', 'a', 'c', 'FOO'],
      ['LPOS', 'a', 'c', 'RANK'], ['LPOS', 'a', 'c', 'RANK', '-9223372036854775808'],
      ['LPOS', 'nokey', 'c'], ['LPOS', 'nokey', 'c', 'COUNT', '1'], ['LPOS', 'nokey', 'c', 'RANK', '0'],
      ['LPOS', 'a', 'c', 'RANK', '9223372036854775807'], ['LPOS', 'a', 'c', 'COUNT', '1', 'COUNT', '3'],
    ]);
  });

  it('LMOVE, RPOPLPUSH on one shard and across shards', async () => {
    await ctx.expectSame([
      ['RPUSH', 'a', '1', '2', '3', '4'], ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'], ['LMOVE', 'a', 'b', 'RIGHT', 'LEFT'],
      ['LRANGE', 'a', '0', '-1'], ['LRANGE', 'b', '0', '-1'], ['LMOVE', 'a', 'b', 'up', 'left'], ['LMOVE', 'a', 'b', 'left', 'x'],
      ['RPOPLPUSH', 'a', 'c'], ['RPOPLPUSH', 'a', 'c'], ['RPOPLPUSH', 'a', 'c'], ['EXISTS', 'a'], ['LRANGE', 'c', '0', '-1'],
      ['LMOVE', 'nokey', 'b', 'left', 'left'], ['RPOPLPUSH', 'nokey', 'c'],
      ['RPUSH', '{t}a', 'x', 'y', 'z'], ['LMOVE', '{t}a', '{t}b', 'left', 'left'], ['RPOPLPUSH', '{t}a', '{t}b'],
      ['LRANGE', '{t}b', '0', '-1'], ['RPOPLPUSH', '{t}a', '{t}a'], ['LMOVE', '{t}a', '{t}a', 'left', 'right'],
      ['LRANGE', '{t}a', '0', '-1'], ['RPOPLPUSH', 'b', 'b'], ['LRANGE', 'b', '0', '-1'],
      // WRONGTYPE both ways, and a missing source wins over a wrong destination.
      ['SET', 's', 'str'], ['SET', '{t}s', 'str'], ['LMOVE', 'b', 's', 'left', 'left'], ['LMOVE', 's', 'b', 'left', 'left'],
      ['RPOPLPUSH', '{t}b', '{t}s'], ['RPOPLPUSH', '{t}s', '{t}b'], ['LMOVE', 'nokey', 's', 'left', 'left'],
      ['LRANGE', 'b', '0', '-1'], ['LRANGE', '{t}b', '0', '-1'], ['GET', 's'],
    ]);
  });

  it('LMPOP: numkeys, directions, COUNT, keys across shards', async () => {
    await ctx.expectSame([
      ['LMPOP', '0', 'a', 'left'], ['LMPOP', 'x', 'a', 'left'], ['LMPOP', '-1', 'a', 'left'], ['LMPOP', '3', 'a', 'left'],
      ['LMPOP', '1', 'a', 'up'], ['LMPOP', '1', 'a', 'left', 'count'], ['LMPOP', '1', 'a', 'left', 'count', '0'],
      ['LMPOP', '1', 'a', 'left', 'count', '-1'], ['LMPOP', '1', 'a', 'left', 'foo', '1'],
      ['LMPOP', '1', 'a', 'left', 'count', '1', 'count', '2'], ['LMPOP', '2', 'a', 'b', 'left'],
      ['RPUSH', 'c', '1', '2', '3'], ['RPUSH', 'd', 'x', 'y'], ['LMPOP', '4', 'a', 'b', 'c', 'd', 'left'],
      ['LMPOP', '4', 'a', 'b', 'c', 'd', 'right', 'COUNT', '10'], ['LMPOP', '3', 'c', 'd', 'a', 'LEFT', 'count', '1'],
      ['LMPOP', '2', 'c', 'd', 'right', 'count', '5'], ['EXISTS', 'c', 'd'],
      ['SET', 'a', 'str'], ['RPUSH', 'b', 'v'], ['LMPOP', '2', 'a', 'b', 'left'], ['LMPOP', '2', 'b', 'a', 'left'],
      ['LMPOP', '2', 'nokey', 'a', 'left'], ['LMPOP', '2', 'a', 'nokey', 'up'],
      ['RPUSH', '{t}a', '1'], ['LMPOP', '2', '{t}b', '{t}a', 'right'],
    ]);
  });

  it('WRONGTYPE both ways, MGET, TYPE, OBJECT ENCODING, SCAN TYPE, DBSIZE, EXISTS, DEL, UNLINK', async () => {
    await ctx.expectSame([
      ['RPUSH', 'a', '1', '2'], ['SET', 'b', 'str'],
      ['GET', 'a'], ['APPEND', 'a', 'x'], ['STRLEN', 'a'], ['INCR', 'a'], ['INCRBYFLOAT', 'a', '1'], ['GETRANGE', 'a', '0', '1'],
      ['SETRANGE', 'a', '0', 'x'], ['GETSET', 'a', 'x'], ['GETDEL', 'a'], ['GETEX', 'a'], ['SETNX', 'a', 'x'],
      ['GETBIT', 'a', '0'], ['SETBIT', 'a', '0', '1'], ['BITCOUNT', 'a'], ['BITPOS', 'a', '1'], ['BITFIELD', 'a', 'GET', 'u8', '0'],
      ['BITOP', 'AND', 'dest', 'a', 'b'], ['LCS', 'a', 'b'], ['SET', 'a', 'v', 'GET'],
      ['MGET', 'a', 'b', 'c'], ['TYPE', 'a'], ['OBJECT', 'ENCODING', 'a'],
      ['LPUSH', 'b', 'x'], ['RPUSH', 'b', 'x'], ['LPUSHX', 'b', 'x'], ['LPOP', 'b'], ['RPOP', 'b', '2'], ['LLEN', 'b'],
      ['LRANGE', 'b', '0', '1'], ['LINDEX', 'b', '0'], ['LSET', 'b', '0', 'x'], ['LINSERT', 'b', 'before', 'x', 'y'],
      ['LREM', 'b', '0', 'x'], ['LTRIM', 'b', '0', '1'], ['LPOS', 'b', 'x'], ['LMPOP', '1', 'b', 'left'],
      ['RPUSH', 'c', 'x'], ['RPUSH', 'd', 'y'], ['DBSIZE'], ['EXISTS', 'a', 'b', 'c', 'd'], ['SCAN', '0', 'TYPE', 'nothing'],
      ['DEL', 'a', 'c'], ['UNLINK', 'd'], ['DBSIZE'], ['EXISTS', 'a', 'c', 'd'],
      ['RPUSH', 'a', 'v'], ['SET', 'a', 'overwritten'], ['GET', 'a'], ['TYPE', 'a'], ['RPUSH', 'x', 'v'], ['SET', 'x', 'y', 'GET'],
      ['RPUSH', 'big', ...Array.from({ length: 600 }, (_, i) => `element-${i}-${'p'.repeat(i % 40)}`)],
      ['OBJECT', 'ENCODING', 'big'], ['LLEN', 'big'], ['LINDEX', 'big', '300'], ['LRANGE', 'big', '295', '305'],
    ]);
    const keysOfType = async (target: 'sabre' | 'redis'): Promise<string[]> => {
      const out: string[] = [];
      let cursor = '0';
      do {
        const [r] = await ctx.run(target, [['SCAN', cursor, 'TYPE', 'list', 'COUNT', '100']]);
        const s = r.toString('latin1');
        const parts = s.split('\r\n');
        cursor = parts[2];
        for (let i = 5; i < parts.length - 1; i += 2) out.push(parts[i]);
      } while (cursor !== '0');
      return out.sort();
    };
    expect(await keysOfType('sabre')).toEqual(await keysOfType('redis'));
    expect(await keysOfType('sabre')).toEqual(['big', 'x']); // SET x y GET on a list: WRONGTYPE, x stays a list
  });

  it('RENAME, COPY, MOVE, EXPIRE of lists on one shard and across shards', async () => {
    await ctx.expectSame([
      ['RPUSH', 'a', '1', '2', BINARY_ARG, ''], ['RENAME', 'a', 'b'], ['LRANGE', 'b', '0', '-1'], ['EXISTS', 'a'], ['TYPE', 'b'],
      ['COPY', 'b', 'c'], ['LRANGE', 'c', '0', '-1'], ['LPUSH', 'c', 'new'], ['LRANGE', 'b', '0', '-1'],
      ['COPY', 'b', 'c'], ['COPY', 'b', 'c', 'REPLACE'], ['LRANGE', 'c', '0', '-1'],
      ['SET', 'd', 'str'], ['RENAME', 'b', 'd'], ['TYPE', 'd'], ['LRANGE', 'd', '0', '-1'],
      ['RENAMENX', 'd', 'c'], ['RENAMENX', 'd', 'a'], ['LRANGE', 'a', '0', '-1'],
      ['RPUSH', '{t}a', 'x', 'y'], ['RENAME', '{t}a', '{t}b'], ['COPY', '{t}b', '{t}a'], ['LRANGE', '{t}a', '0', '-1'],
      ['LPUSH', '{t}a', 'z'], ['LRANGE', '{t}b', '0', '-1'],
      ['MOVE', 'a', '1'], ['EXISTS', 'a'], ['SELECT', '1'], ['LRANGE', 'a', '0', '-1'], ['COPY', 'a', 'a', 'DB', '0'],
      ['SELECT', '0'], ['LRANGE', 'a', '0', '-1'], ['COPY', 'c', 'q', 'DB', '1'],
      ['EXPIRE', 'c', '100'], ['TTL', 'c'], ['PERSIST', 'c'], ['TTL', 'c'], ['PEXPIRE', 'c', '1'],
    ]);
    await new Promise((r) => setTimeout(r, 20));
    await ctx.expectSame([['EXISTS', 'c'], ['LLEN', 'c'], ['DBSIZE'], ['FLUSHDB'], ['DBSIZE'], ['SELECT', '1'], ['LRANGE', 'q', '0', '-1']]);
  });

  it('CONFIG SET list-max-listpack-size: the same replies with tiny nodes', async () => {
    const steps: Step[] = [['CONFIG', 'SET', 'list-max-listpack-size', '2'], ['CONFIG', 'GET', 'list-max-listpack-size']];
    for (let i = 0; i < 20; i++) steps.push(['RPUSH', 'a', String(i)], ['LPUSH', 'a', `l${i}`]);
    steps.push(['LRANGE', 'a', '0', '-1'], ['LINSERT', 'a', 'after', '5', 'ins'], ['LSET', 'a', '10', 'set'], ['LREM', 'a', '0', '7'],
      ['LTRIM', 'a', '3', '-4'], ['LRANGE', 'a', '0', '-1'], ['LINDEX', 'a', '17'], ['LPOS', 'a', '3', 'RANK', '-1'],
      ['RPOP', 'a', '5'], ['LPOP', 'a', '5'], ['LRANGE', 'a', '0', '-1'], ['OBJECT', 'ENCODING', 'a'],
      ['CONFIG', 'SET', 'list-max-ziplist-size', '-1'], ['CONFIG', 'GET', 'list-max-listpack-size'],
      ['RPUSH', 'a', 'x'.repeat(5000), 'y'.repeat(3000)], ['LRANGE', 'a', '-3', '-1'],
      ['CONFIG', 'SET', 'list-max-listpack-size', '-2']);
    await ctx.expectSame(steps);
  });

  it('pipelined pushes and pops on many keys across shards keep order', async () => {
    const cmds: string[][] = [];
    for (let i = 0; i < 200; i++) {
      const k = ['a', 'b', 'c', 'd'][i % 4];
      cmds.push(['RPUSH', k, String(i), `v${i}`]);
      if (i % 3 === 0) cmds.push(['LPOP', k]);
      if (i % 5 === 0) cmds.push(['LMOVE', k, ['a', 'b', 'c', 'd'][(i + 1) % 4], 'RIGHT', 'LEFT']);
      if (i % 7 === 0) cmds.push(['LMPOP', '3', 'd', 'c', 'b', 'LEFT', 'COUNT', '2']);
      if (i % 11 === 0) cmds.push(['RPOPLPUSH', k, '{t}a']);
    }
    cmds.push(['LRANGE', 'a', '0', '-1'], ['LRANGE', 'b', '0', '-1'], ['LRANGE', 'c', '0', '-1'], ['LRANGE', 'd', '0', '-1'],
      ['LRANGE', '{t}a', '0', '-1']);
    await ctx.expectSame([pipelined(cmds)]);
  });

  it('every string and bitmap command on a list, on one shard and across shards', async () => {
    await ctx.expectSame([
      ['RPUSH', 'a', 'x', 'y'], ['RPUSH', '{t}a', 'x'], ['SET', 'b', 'hello'], ['SET', '{t}b', 'hello'],
      ['SETRANGE', 'a', '0', ''], ['SETRANGE', 'a', '1', 'z'], ['GETRANGE', 'a', '0', '-1'], ['SUBSTR', 'a', '0', '1'],
      ['INCRBY', 'a', '2'], ['DECR', 'a'], ['DECRBY', 'a', '2'], ['APPEND', 'a', ''], ['STRLEN', 'a'],
      ['SETBIT', 'a', '1', '0'], ['BITCOUNT', 'a', '0', '1'], ['BITPOS', 'a', '0', '0', '1'], ['BITFIELD_RO', 'a', 'GET', 'u4', '0'],
      ['BITFIELD', 'a', 'SET', 'u8', '0', '1'], ['BITFIELD', 'a', 'INCRBY', 'u8', '0', '1', 'OVERFLOW', 'FAIL'],
      ['BITOP', 'OR', 'dest', 'b', 'a'], ['BITOP', 'NOT', 'dest', 'a'], ['BITOP', 'OR', '{t}c', '{t}b', '{t}a'],
      ['BITOP', 'OR', 'a', 'b'], ['TYPE', 'a'], ['GET', 'a'],
      ['LCS', 'a', 'b'], ['LCS', 'b', 'a'], ['LCS', '{t}a', '{t}b'], ['LCS', '{t}b', '{t}a', 'LEN'],
      ['GETEX', 'a', 'PERSIST'], ['GETDEL', 'a'], ['GETSET', 'a', 'v'], ['SET', 'a', 'v', 'NX'], ['SET', 'a', 'v', 'NX', 'GET'],
      ['MSETNX', 'a', '1', 'zz', '2'], ['EXISTS', 'zz'], ['MGET', 'a', '{t}a', 'b', 'nokey'],
      ['OBJECT', 'REFCOUNT', 'a'], ['OBJECT', 'ENCODING', '{t}a'], ['TOUCH', 'a', '{t}a', 'b'], ['TYPE', 'a'],
      ['SETEX', 'a', '100', 'str'], ['TYPE', 'a'], ['TTL', 'a'], ['RPUSH', 'a', 'back'], ['PSETEX', '{t}a', '100000', 's'],
      ['RPUSH', 'a', 'l'], ['RPUSH', 'c', 'l'], ['MSET', 'c', 'str', 'd', 'x'], ['TYPE', 'c'], ['SET', 'a', 'plain', 'XX'],
      ['TYPE', 'a'], ['RPUSH', 'a', 'l'], ['COPY', 'b', 'a'], ['COPY', 'a', 'b'], ['TYPE', 'b'], ['COPY', 'a', 'b', 'REPLACE'],
      ['TYPE', 'b'], ['LRANGE', 'b', '0', '-1'], ['RENAME', 'b', 'd'], ['TYPE', 'd'], ['LRANGE', 'd', '0', '-1'],
      ['DEL', 'a', 'b', 'c', 'd', '{t}a', '{t}b', '{t}c', 'dest', 'zz'], ['RPUSH', 'only', 'v'], ['RANDOMKEY'], ['KEYS', '*'],
    ]);
  });

  it('COMMAND INFO and GETKEYS of the list commands', async () => {
    const names = ['lpush', 'rpush', 'lpushx', 'rpushx', 'lpop', 'rpop', 'llen', 'lrange', 'lindex', 'lset', 'linsert', 'lrem',
      'ltrim', 'lpos', 'lmove', 'rpoplpush', 'lmpop'];
    await ctx.expectSame([
      ['COMMAND', 'INFO', ...names],
      ['COMMAND', 'GETKEYS', 'lmpop', '2', 'a', 'b', 'left'], ['COMMAND', 'GETKEYS', 'lmpop', '1', 'a', 'left', 'count', '3'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'lmove', 'a', 'b', 'left', 'right'], ['COMMAND', 'GETKEYSANDFLAGS', 'lmpop', '2', 'a', 'b', 'left'],
      ['COMMAND', 'GETKEYS', 'lmpop', '0', 'a', 'left'], ['COMMAND', 'GETKEYS', 'lmpop', '5', 'a', 'left'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'rpush', 'a', 'b'], ['COMMAND', 'GETKEYSANDFLAGS', 'ltrim', 'a', '0', '1'],
    ]);
  });

  it('RESP3 replies', async () => {
    await ctx.expectSame([
      ['RPUSH', 'a', '1', '2'], ['LPOP', 'nokey'], ['LPOP', 'nokey', '2'], ['LPOS', 'a', 'x'], ['LMPOP', '2', 'b', 'c', 'left'],
      ['LMPOP', '2', 'b', 'a', 'left'], ['LMOVE', 'nokey', 'b', 'left', 'left'], ['LINDEX', 'a', '5'], ['LRANGE', 'a', '0', '-1'],
    ], { resp3: true });
  });
});
