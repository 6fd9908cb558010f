import { expect, it } from 'vitest';
import { bitmapCommands } from '../../src/commands/bitmaps.ts';
import { keyCommands } from '../../src/commands/keys.ts';
import { stringCommands } from '../../src/commands/strings.ts';
import { shardOfKey } from '../helpers/suites.ts';
import { describeDifferential, type Step } from '../helpers/differential.ts';

// Keys of every type (as far as the types built so far reach: strings and
// lists) against real redis-server 7.0 on a 4-shard Sabre. The WRONGTYPE
// audit runs every string, bitmap and generic key command (every variant of
// their options that reaches a key) against a list key, on one shard and
// across shards; a guard fails when a command of those families has no case
// here. L and S live on different shards, {t}L and {t}S on one.

/** Every client command of the string, bitmap and generic key families, each with the argument shapes it takes. */
function auditCases(L: string, S: string): Record<string, string[][]> {
  return {
    get: [['GET', L]],
    set: [['SET', L, 'v', 'GET'], ['SET', L, 'v', 'NX'], ['SET', L, 'v', 'NX', 'GET'], ['SET', L, 'v', 'XX', 'GET'],
      ['SET', L, 'v', 'KEEPTTL', 'GET'], ['SET', L, 'v', 'EX', '100', 'GET']],
    getex: [['GETEX', L], ['GETEX', L, 'PERSIST'], ['GETEX', L, 'EX', '10'], ['GETEX', L, 'EX', 'bad']],
    getdel: [['GETDEL', L]],
    getset: [['GETSET', L, 'v']],
    setnx: [['SETNX', L, 'v']],
    setex: [],
    psetex: [],
    mset: [],
    msetnx: [['MSETNX', L, 'v', S, 'w'], ['MSETNX', S, 'w', L, 'v']],
    mget: [['MGET', L, S, 'nokey', L]],
    append: [['APPEND', L, 'x'], ['APPEND', L, '']],
    strlen: [['STRLEN', L]],
    getrange: [['GETRANGE', L, '0', '-1'], ['GETRANGE', L, 'x', '1']],
    substr: [['SUBSTR', L, '0', '1']],
    setrange: [['SETRANGE', L, '0', 'x'], ['SETRANGE', L, '0', ''], ['SETRANGE', L, '-1', 'x'], ['SETRANGE', L, '536870912', 'x']],
    incr: [['INCR', L]],
    decr: [['DECR', L]],
    incrby: [['INCRBY', L, '2'], ['INCRBY', L, 'x']],
    decrby: [['DECRBY', L, '2']],
    incrbyfloat: [['INCRBYFLOAT', L, '1.5'], ['INCRBYFLOAT', L, 'x']],
    lcs: [['LCS', L, S], ['LCS', S, L], ['LCS', L, L], ['LCS', L, 'nokey'], ['LCS', S, L, 'LEN'], ['LCS', L, S, 'IDX', 'MINMATCHLEN', '1']],
    setbit: [['SETBIT', L, '0', '1'], ['SETBIT', L, '0', '2'], ['SETBIT', L, '-1', '1']],
    getbit: [['GETBIT', L, '0'], ['GETBIT', L, 'x']],
    bitcount: [['BITCOUNT', L], ['BITCOUNT', L, '0', '-1'], ['BITCOUNT', L, '0', '1', 'BIT'], ['BITCOUNT', L, '0']],
    bitpos: [['BITPOS', L, '1'], ['BITPOS', L, '0', '1', '2', 'BYTE'], ['BITPOS', L, '2']],
    bitop: [['BITOP', 'AND', 'dest', L, S], ['BITOP', 'OR', 'dest', S, L], ['BITOP', 'NOT', 'dest', L], ['BITOP', 'XOR', S, L],
      ['BITOP', 'AND', 'dest', 'nokey', L], ['EXISTS', 'dest']],
    bitfield: [['BITFIELD', L, 'GET', 'u8', '0'], ['BITFIELD', L, 'SET', 'u8', '0', '1'], ['BITFIELD', L, 'INCRBY', 'i5', '0', '1'],
      ['BITFIELD', L], ['BITFIELD', L, 'OVERFLOW', 'FAIL', 'GET', 'u8', '0']],
    bitfield_ro: [['BITFIELD_RO', L, 'GET', 'u8', '0'], ['BITFIELD_RO', L]],
    del: [],
    unlink: [],
    exists: [['EXISTS', L, L, S, 'nokey']],
    touch: [['TOUCH', L, S, 'nokey']],
    type: [['TYPE', L], ['TYPE', S], ['TYPE', 'nokey']],
    rename: [],
    renamenx: [],
    move: [],
    copy: [],
    object: [['OBJECT', 'ENCODING', L], ['OBJECT', 'REFCOUNT', L], ['OBJECT', 'IDLETIME', L], ['OBJECT', 'FREQ', L],
      ['OBJECT', 'ENCODING', 'nokey']],
    memory: [['MEMORY', 'USAGE', L, 'SAMPLES', 'x'], ['MEMORY', 'USAGE', L, 'SAMPLES', '-1'], ['MEMORY', 'USAGE', L, 'FOO'],
      ['MEMORY', 'USAGE', 'nokey'], ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', '0']],
    expire: [['EXPIRE', L, '100', 'XX'], ['EXPIRE', L, '100', 'NX'], ['EXPIRE', L, '200', 'GT'], ['EXPIRE', L, '50', 'GT'],
      ['EXPIRE', L, '10', 'LT']],
    pexpire: [['PEXPIRE', L, '100000', 'LT']],
    expireat: [['EXPIREAT', L, '4102444800']],
    pexpireat: [['PEXPIREAT', L, '4102444800000', 'NX']],
    // TTL right after a relative EXPIRE: the absolute ones above would make it depend on the second it runs in.
    ttl: [['EXPIRE', L, '100'], ['TTL', L], ['EXPIREAT', L, '4102444800']],
    pttl: [],
    expiretime: [['EXPIRETIME', L]],
    pexpiretime: [['PEXPIRETIME', L]],
    persist: [['PERSIST', L], ['PERSIST', L], ['TTL', L]],
  };
}

const L = 'L';
const S = 'S';
const LIST = ['RPUSH', L, 'a', 'b', '1', '\x00bin'];

it('L and S live on different shards, {t}L and {t}S on one', () => {
  expect(shardOfKey(L)).not.toBe(shardOfKey(S));
  expect(shardOfKey('{t}L')).toBe(shardOfKey('{t}S'));
});

it('the audit names every client command of the string, bitmap and key families', () => {
  const cases = auditCases(L, S);
  const names = [...stringCommands, ...bitmapCommands, ...keyCommands].filter((c) => c.internal !== true).map((c) => c.name);
  for (const n of names) expect(Object.keys(cases), `no audit case for ${n}`).toContain(n);
});

describeDifferential('keys of every type: differential', (ctx) => {
  for (const [label, l, s] of [['across shards', L, S], ['on one shard', '{t}L', '{t}S']] as const) {
    it(`every string, bitmap and key command against a list key (${label}), and the list stays intact`, async () => {
      const cases = auditCases(l, s);
      const steps: Step[] = [['RPUSH', l, 'a', 'b', '1', '\x00bin'], ['SET', s, 'string']];
      for (const list of Object.values(cases)) for (const c of list) steps.push(c, ['LRANGE', l, '0', '-1']);
      steps.push(['TYPE', l], ['GET', s]);
      await ctx.expectSame(steps);
    });

    it(`writes that replace whatever the key holds turn a list into a string (${label})`, async () => {
      const steps: Step[] = [];
      const replace: string[][] = [['SET', l, 'v'], ['SET', l, 'v', 'XX'], ['SETEX', l, '100', 'v'], ['PSETEX', l, '100000', 'v'],
        ['MSET', l, 'v', s, 'w'], ['MSET', s, 'w', l, 'v'], ['BITOP', 'OR', l, s], ['BITOP', 'NOT', l, s], ['SET', l, 'v', 'EX', '100']];
      for (const c of replace) {
        steps.push(['DEL', l], ['RPUSH', l, 'x', 'y'], ['SET', s, 'abc'], c, ['TYPE', l], ['GET', l], ['OBJECT', 'ENCODING', l], ['TTL', l],
          ['LLEN', l]);
      }
      // And a string under list commands (the other way round).
      steps.push(['SET', l, 'str'], ['LPUSH', l, 'x'], ['RPUSH', l, 'x'], ['LRANGE', l, '0', '-1'], ['LLEN', l], ['LPOP', l],
        ['LINDEX', l, '0'], ['LSET', l, '0', 'x'], ['LMOVE', l, s, 'LEFT', 'LEFT'], ['RPOPLPUSH', s, l], ['LMPOP', '1', l, 'LEFT'],
        ['SORT', l], ['SORT_RO', l], ['GET', l]);
      await ctx.expectSame(steps);
    });
  }

  it('DEL, UNLINK, RENAME, RENAMENX, COPY (DB, REPLACE), MOVE, TYPE, OBJECT ENCODING of lists across shards and databases', async () => {
    await ctx.expectSame([
      LIST, ['SET', S, 'str'], ['RPUSH', 'other', 'o'],
      ['RENAME', L, 'L2'], ['TYPE', 'L2'], ['LRANGE', 'L2', '0', '-1'], ['OBJECT', 'ENCODING', 'L2'], ['EXISTS', L],
      ['RENAME', 'L2', S], ['TYPE', S], ['LRANGE', S, '0', '-1'], ['RENAMENX', S, 'other'], ['RENAMENX', S, L], ['TYPE', L],
      ['RENAME', 'nokey', 'x'], ['RENAME', L, L], ['RENAMENX', L, L],
      ['COPY', L, 'C1'], ['COPY', L, 'C1'], ['COPY', L, 'other', 'REPLACE'], ['LRANGE', 'other', '0', '-1'], ['TYPE', 'C1'],
      ['COPY', L, L], ['COPY', L, L, 'DB', '0'], ['COPY', L, L, 'DB', '1'], ['COPY', L, 'C2', 'DB', '2'], ['COPY', L, 'C2', 'DB', 'x'],
      ['COPY', L, 'C2', 'DB', '99999'], ['COPY', L, 'C2', 'REPLACE', 'FOO'], ['COPY', 'nokey', 'C3'],
      ['SELECT', '2'], ['TYPE', 'C2'], ['LRANGE', 'C2', '0', '-1'], ['SELECT', '1'], ['LRANGE', L, '0', '-1'], ['SELECT', '0'],
      ['MOVE', L, '1'], ['MOVE', 'C1', '3'], ['MOVE', 'C1', '0'], ['MOVE', 'nokey', '1'], ['MOVE', 'C1', 'x'], ['EXISTS', 'C1'],
      ['SELECT', '3'], ['LRANGE', 'C1', '0', '-1'], ['OBJECT', 'ENCODING', 'C1'], ['SELECT', '0'],
      ['DEL', 'other', 'nokey', S], ['UNLINK', 'C1', 'L', 'other'], ['DBSIZE'],
      ['RPUSH', 'e', 'x'], ['LPOP', 'e'], ['EXISTS', 'e'], ['TYPE', 'e'], ['RPUSH', 'e', 'a', 'b'], ['LREM', 'e', '0', 'a'],
      ['LTRIM', 'e', '1', '0'], ['EXISTS', 'e'], ['DBSIZE'],
    ]);
  });

  it('EXPIRE family, TTL, PERSIST on lists; expired lists vanish from every path', async () => {
    await ctx.expectSame([
      LIST, ['EXPIRE', L, '100'], ['TTL', L], ['EXPIRE', L, '50', 'GT'], ['EXPIRE', L, '500', 'GT'], ['TTL', L], ['PERSIST', L],
      ['TTL', L], ['PEXPIRE', L, '100000'], ['TTL', L], ['EXPIREAT', L, '4102444800'], ['EXPIRETIME', L],
      ['PEXPIREAT', L, '4102444800000'], ['PEXPIRETIME', L], ['LPUSH', L, 'z'], ['EXPIRETIME', L], ['RENAME', L, 'R'],
      ['EXPIRETIME', 'R'], ['COPY', 'R', L], ['EXPIRETIME', L], ['EXPIRE', L, '0'], ['EXISTS', L], ['EXPIRE', 'R', '-1'], ['TYPE', 'R'], ['DBSIZE'],
      LIST, ['PEXPIRE', L, '1'],
    ]);
    await new Promise((res) => setTimeout(res, 20));
    await ctx.expectSame([['LLEN', L], ['TYPE', L], ['SCAN', '0', 'TYPE', 'list'], ['DBSIZE'], ['RANDOMKEY']]);
  });

  it('SCAN TYPE with every type name, RANDOMKEY and DBSIZE over strings and lists on every shard', async () => {
    const steps: Step[] = [];
    for (let i = 0; i < 12; i++) steps.push(['RPUSH', `list${i}`, 'x'], ['SET', `str${i}`, 'v']);
    steps.push(['DBSIZE']);
    await ctx.expectSame(steps);
    const scanAll = async (target: 'sabre' | 'redis', type: string): Promise<string[]> => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [reply] = await ctx.run(target, [['SCAN', cursor, 'COUNT', '5', 'TYPE', type]]);
        const parts = reply.toString('latin1').split('\r\n');
        cursor = parts[2];
        for (let i = 5; i < parts.length - 1; i += 2) keys.push(parts[i]);
      } while (cursor !== '0');
      return keys.sort();
    };
    for (const type of ['string', 'list', 'set', 'zset', 'hash', 'stream', 'LIST', 'String', 'none', 'nonsense', '']) {
      expect(await scanAll('sabre', type), type).toEqual(await scanAll('redis', type));
    }
    expect((await scanAll('sabre', 'list')).length).toBe(12);
    // RANDOMKEY with one key of each type left: always one of them.
    await ctx.expectSame([['FLUSHALL'], ['RPUSH', 'onlylist', 'x'], ['RANDOMKEY'], ['DEL', 'onlylist'], ['RANDOMKEY']]);
    for (let i = 0; i < 10; i++) {
      const [k] = await ctx.run('sabre', [['RANDOMKEY']]);
      expect(k.toString('latin1')).toBe('$-1\r\n');
    }
  });

  it('MEMORY USAGE of a list grows with its elements; SAMPLES 0 counts every node, the default samples five', async () => {
    const run = async (cmd: string[]): Promise<number> => {
      const [r] = await ctx.run('sabre', [cmd]);
      const t = r.toString('latin1');
      expect(t[0], `${cmd.join(' ')}: ${t}`).toBe(':');
      return Number(t.slice(1, -2));
    };
    await ctx.run('sabre', [['RPUSH', 'm', 'x'], ['RPUSH', 'big', ...Array.from({ length: 5000 }, (_, i) => `element-${i}`)]]);
    const small = await run(['MEMORY', 'USAGE', 'm']);
    const big = await run(['MEMORY', 'USAGE', 'big']);
    expect(small).toBeGreaterThan(16);
    expect(small).toBeLessThan(200);
    // SAMPLES 0 counts every node; the default (5, as Redis) extrapolates from the first five.
    const exact = await run(['MEMORY', 'USAGE', 'big', 'SAMPLES', '0']);
    expect(exact).toBeGreaterThan(5000 * 14);
    expect(await run(['MEMORY', 'USAGE', 'big', 'SAMPLES', '5'])).toBe(big);
    expect(Math.abs(big - exact) / exact).toBeLessThan(0.1);
    expect(await run(['MEMORY', 'USAGE', 'big', 'SAMPLES', '1000000'])).toBe(exact);
  });

  it('OBJECT IDLETIME and FREQ on lists follow the policy', async () => {
    await ctx.expectSame([LIST, ['OBJECT', 'IDLETIME', L], ['OBJECT', 'FREQ', L], ['LLEN', L], ['OBJECT', 'IDLETIME', L],
      ['OBJECT', 'REFCOUNT', L], ['DEBUG', 'SLEEP', '0'], ['OBJECT', 'IDLETIME', L]]);
  });
});
