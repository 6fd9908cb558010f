import { expect, it } from 'vitest';
import { describeDifferential, type Step } from '../helpers/differential.ts';

// Keys used below and their shard with 4 shards (slot ranges of 4096):
// b -> 0, c -> 1, d -> 2, a -> 3; {t}a and {t}b share a slot (shard 3);
// newkey -> 0, src -> 3, dst -> 2.

/** Splits an array reply of bulk strings into its items (test-side, simple framing). */
function bulkItems(reply: Buffer): string[] {
  const text = reply.toString('latin1');
  const lines = text.split('\r\n');
  const out: string[] = [];
  for (let i = 1; i < lines.length - 1; i += 2) out.push(lines[i + 1] ?? '');
  return out;
}

/** SET steps for key/value pairs (MSET belongs to another family; keep this file self-contained). */
function sets(...kv: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i + 1 < kv.length; i += 2) out.push(['SET', kv[i] as string, kv[i + 1] as string]);
  return out;
}

describeDifferential('keys family: differential against redis-server', (ctx) => {
  /** Runs setup on both servers, then compares sorted KEYS-like replies of `cmd`. */
  async function expectSameSet(setup: Step[], cmds: string[][]): Promise<void> {
    const [s, r] = await Promise.all([ctx.run('sabre', [...setup, ...cmds]), ctx.run('redis', [...setup, ...cmds])]);
    for (let i = 0; i < setup.length; i++) expect(s[i]?.toString('latin1'), `setup #${i}`).toBe(r[i]?.toString('latin1'));
    for (let i = setup.length; i < s.length; i++) {
      const label = (cmds[i - setup.length] ?? []).join(' ');
      const sa = s[i] as Buffer;
      const ra = r[i] as Buffer;
      expect(sa[0], label).toBe(ra[0]);
      expect(bulkItems(sa).sort(), label).toEqual(bulkItems(ra).sort());
    }
  }

  it('DEL, UNLINK, EXISTS, TOUCH across shards and hash tags', async () => {
    await ctx.expectSame([
      ['SET', 'a', '1'], ['SET', 'b', '2'], ['SET', 'c', '3'], ['SET', 'd', '4'],
      ['SET', '{t}a', 'x'], ['SET', '{t}b', 'y'],
      ['EXISTS', 'a', 'b', 'c', 'd', 'e'],
      ['EXISTS', 'a', 'a', 'a', 'b', 'b'],
      ['EXISTS', 'nosuch'],
      ['EXISTS', '{t}a', '{t}b', '{t}c', '{t}a'],
      ['TOUCH', 'a', 'b', 'c', 'd', 'nosuch', 'a'],
      ['TOUCH', '{t}a', '{t}z'],
      ['DEL', 'a', 'b', 'nosuch', 'a'],
      ['EXISTS', 'a', 'b', 'c', 'd'],
      ['UNLINK', 'c', 'd', 'c'],
      ['DEL', '{t}a', '{t}b', '{t}a'],
      ['EXISTS', 'a', 'b', 'c', 'd', '{t}a', '{t}b'],
      ['DEL', 'nosuch'],
      ['DEL'], ['UNLINK'], ['EXISTS'], ['TOUCH'],
    ]);
  });

  it('TYPE', async () => {
    await ctx.expectSame([
      ['SET', 'a', '1'], ['TYPE', 'a'], ['TYPE', 'nosuch'], ['TYPE'], ['TYPE', 'a', 'b'],
    ]);
  });

  it('RENAME and RENAMENX across shards keep the value and the TTL', async () => {
    await ctx.expectSame([
      ['SET', 'a', 'va'], ['EXPIRE', 'a', '100'],
      ['RENAME', 'a', 'b'], // shard 3 -> shard 0
      ['EXISTS', 'a'], ['GET', 'b'], ['TTL', 'b'], ['OBJECT', 'ENCODING', 'b'],
      ['SET', 'c', '12345'],
      ['RENAME', 'c', 'd'], ['GET', 'd'], ['TTL', 'd'], ['OBJECT', 'ENCODING', 'd'],
      ['SET', 'a', 'again'],
      ['RENAME', 'a', 'd'], // overwrite an existing destination on another shard
      ['GET', 'd'], ['EXISTS', 'a'],
      ['RENAME', 'nosuch', 'b'], ['RENAME', 'nosuch', 'nosuch'],
      ['RENAMENX', 'nosuch', 'b'],
      ['RENAMENX', 'b', 'd'], // destination exists: 0, the source stays
      ['GET', 'b'], ['GET', 'd'], ['TTL', 'b'],
      ['RENAMENX', 'b', 'c'], ['GET', 'c'], ['EXISTS', 'b'], ['TTL', 'c'],
      ['RENAME', 'c', 'c'], ['RENAMENX', 'c', 'c'], ['GET', 'c'],
      ['RENAME', 'c'], ['RENAMENX', 'c', 'd', 'e'],
    ]);
  });

  it('RENAME and RENAMENX on one shard ({tags})', async () => {
    await ctx.expectSame([
      ['SET', '{t}a', 'x'], ['PEXPIRE', '{t}a', '100000'],
      ['RENAME', '{t}a', '{t}b'], ['GET', '{t}b'], ['TTL', '{t}b'], ['EXISTS', '{t}a'],
      ['SET', '{t}c', 'c'],
      ['RENAMENX', '{t}b', '{t}c'], ['GET', '{t}b'], ['GET', '{t}c'],
      ['RENAME', '{t}b', '{t}c'], ['GET', '{t}c'], ['TTL', '{t}c'], ['EXISTS', '{t}b'],
      ['RENAMENX', '{t}c', '{t}d'], ['GET', '{t}d'],
      ['RENAME', '{t}nosuch', '{t}d'], ['RENAMENX', '{t}nosuch', '{t}d'],
    ]);
  });

  it('empty and binary key names through RENAME, COPY, MOVE, EXPIRE', async () => {
    await ctx.expectSame([
      ['SET', '', 'empty'], ['EXISTS', ''], ['TYPE', ''], ['RENAME', '', 'a'], ['GET', 'a'], ['EXISTS', ''],
      ['COPY', 'a', ''], ['GET', ''], ['RENAME', '', 'bin\x00\xff'], ['GET', 'bin\x00\xff'],
      ['EXPIRE', 'bin\x00\xff', '100'], ['TTL', 'bin\x00\xff'], ['MOVE', 'bin\x00\xff', '3'],
      ['SELECT', '3'], ['TTL', 'bin\x00\xff'], ['RENAMENX', 'bin\x00\xff', ''], ['GET', ''], ['KEYS', '*'],
      ['EXPIRE', '', '100', 'bogus\x00opt'], ['OBJECT', 'bogus\x00sub'],
    ]);
  });

  it('MOVE between databases', async () => {
    await ctx.expectSame([
      ['SET', 'a', 'va'], ['EXPIRE', 'a', '100'],
      ['MOVE', 'a', '1'], ['EXISTS', 'a'],
      ['SELECT', '1'], ['GET', 'a'], ['TTL', 'a'],
      ['MOVE', 'a', '1'], // same db
      ['MOVE', 'a', '0'], ['SELECT', '0'], ['GET', 'a'], ['TTL', 'a'],
      ['SET', 'b', 'v0'], ['SELECT', '2'], ['SET', 'b', 'v2'], ['MOVE', 'b', '0'], ['GET', 'b'],
      ['SELECT', '0'], ['GET', 'b'],
      ['MOVE', 'nosuch', '1'],
      ['MOVE', 'a', '16'], ['MOVE', 'a', '-1'], ['MOVE', 'a', 'x'], ['MOVE', 'a', '99999999999'],
      ['MOVE', 'a', '9223372036854775808'], ['MOVE', 'a', '1.5'],
      ['MOVE', 'nosuch', '0'], ['MOVE', 'a'], ['MOVE', 'a', '1', '2'],
      ['DBSIZE'], ['SELECT', '1'], ['DBSIZE'], ['SELECT', '2'], ['DBSIZE'],
    ]);
  });

  it('COPY across shards, on one shard, between databases', async () => {
    await ctx.expectSame([
      ['SET', 'a', 'va'], ['EXPIRE', 'a', '100'],
      ['COPY', 'a', 'b'], ['GET', 'a'], ['GET', 'b'], ['TTL', 'b'], ['TTL', 'a'],
      ['COPY', 'a', 'b'], // destination exists
      ['SET', 'a', 'changed'],
      ['COPY', 'a', 'b', 'REPLACE'], ['GET', 'b'], ['TTL', 'b'],
      ['COPY', 'nosuch', 'b'], ['COPY', 'nosuch', 'b', 'REPLACE'], ['GET', 'b'],
      ['COPY', 'a', 'a'], ['COPY', 'a', 'a', 'DB', '0'], ['COPY', 'a', 'a', 'DB', '1'],
      ['COPY', 'a', 'c', 'DB', '1'], ['COPY', 'a', 'c', 'DB', '1'], ['COPY', 'a', 'c', 'db', '1', 'replace'],
      ['SELECT', '1'], ['GET', 'a'], ['GET', 'c'], ['EXISTS', 'a', 'c'], ['SELECT', '0'], ['EXISTS', 'c'],
      ['COPY', 'a', 'd', 'DB', '16'], ['COPY', 'a', 'd', 'DB', 'x'], ['COPY', 'a', 'd', 'DB', '99999999999'],
      ['COPY', 'a', 'd', 'DB'], ['COPY', 'a', 'd', 'FOO'], ['COPY', 'a', 'd', 'REPLACE', 'FOO'],
      ['COPY', 'nosuch', 'd', 'DB', '16'], ['COPY', 'a', 'a', 'FOO'],
      ['SET', '{t}a', '42'], ['COPY', '{t}a', '{t}b'], ['GET', '{t}b'], ['OBJECT', 'ENCODING', '{t}b'],
      ['COPY', '{t}a', '{t}b'], ['COPY', '{t}a', '{t}b', 'REPLACE'],
      ['SET', 'big', 'x'.repeat(100)], ['COPY', 'big', 'c'], ['GET', 'c'], ['OBJECT', 'ENCODING', 'c'],
      ['COPY', 'a'], ['COPY'],
    ]);
  });

  it('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: options, errors, past times', async () => {
    await ctx.expectSame([
      ['SET', 'a', '1'],
      ['EXPIRE', 'a', '100', 'foo'], ['EXPIRE', 'nosuch', '100', 'foo'],
      ['EXPIRE', 'a', '100', 'NX', 'XX'], ['EXPIRE', 'a', '100', 'nx', 'gt'], ['EXPIRE', 'a', '100', 'lt', 'nx'],
      ['EXPIRE', 'a', '100', 'GT', 'LT'], ['EXPIRE', 'a', '100', 'xx', 'gt', 'lt'],
      ['EXPIRE', 'a', 'abc'], ['EXPIRE', 'a', '1.5'], ['EXPIRE', 'a', ''],
      ['EXPIRE', 'a', '9223372036854775807'], ['EXPIRE', 'a', '9223372036854775'],
      ['EXPIRE', 'a', '-9223372036854775808'], ['PEXPIRE', 'a', '9223372036854775807'],
      ['EXPIREAT', 'a', '9223372036854775807'], ['EXPIRE', 'a', '99999999999999999999'],
      ['TTL', 'a'],
      ['EXPIRE', 'a', '100', 'XX'], ['EXPIRE', 'a', '100', 'GT'], ['TTL', 'a'],
      ['EXPIRE', 'a', '100', 'LT'], ['TTL', 'a'],
      ['EXPIRE', 'a', '100', 'NX'], ['TTL', 'a'],
      ['EXPIRE', 'a', '200', 'NX'], ['EXPIRE', 'a', '50', 'GT'], ['EXPIRE', 'a', '200', 'LT'],
      ['EXPIRE', 'a', '200', 'xx', 'GT'], ['TTL', 'a'],
      ['EXPIRE', 'a', '300', 'gt'], ['TTL', 'a'], ['EXPIRE', 'a', '20', 'Lt'], ['TTL', 'a'],
      ['PEXPIRE', 'a', '150000'], ['TTL', 'a'],
      ['EXPIREAT', 'a', '4000000000'], ['EXPIRETIME', 'a'], ['PEXPIRETIME', 'a'],
      ['PEXPIREAT', 'a', '4000000000123'], ['EXPIRETIME', 'a'], ['PEXPIRETIME', 'a'],
      ['EXPIREAT', 'a', '4000000001', 'GT'], ['EXPIREAT', 'a', '3999999999', 'GT'], ['EXPIRETIME', 'a'],
      ['PERSIST', 'a'], ['PERSIST', 'a'], ['TTL', 'a'], ['PTTL', 'a'], ['EXPIRETIME', 'a'], ['PEXPIRETIME', 'a'],
      ['EXPIRE', 'nosuch', '100'], ['PERSIST', 'nosuch'],
      ['TTL', 'nosuch'], ['PTTL', 'nosuch'], ['EXPIRETIME', 'nosuch'], ['PEXPIRETIME', 'nosuch'],
      ['EXPIRE', 'a', '-1'], ['EXISTS', 'a'],
      ['SET', 'b', '1'], ['EXPIREAT', 'b', '1'], ['GET', 'b'],
      ['SET', 'c', '1'], ['PEXPIREAT', 'c', '0'], ['GET', 'c'],
      ['SET', 'd', '1'], ['PEXPIRE', 'd', '0'], ['GET', 'd'],
      ['SET', '{t}a', '1'], ['EXPIRE', '{t}a', '-100', 'GT'], ['EXPIRE', '{t}a', '-100', 'LT'], ['EXISTS', '{t}a'],
      ['SET', '{t}b', '1'], ['EXPIRE', '{t}b', '-5', 'XX'], ['EXPIRE', '{t}b', '-5', 'NX'], ['EXISTS', '{t}b'],
      ['EXPIRE', 'a'], ['PEXPIREAT', 'a'], ['TTL'], ['TTL', 'a', 'b'], ['PERSIST'], ['EXPIRETIME', 'a', 'b'],
    ]);
  });

  it('expiry survives an overwrite only with KEEPTTL-like paths (SET clears, RENAME keeps)', async () => {
    await ctx.expectSame([
      ['SET', 'a', '1', 'EX', '100'], ['TTL', 'a'], ['SET', 'a', '2'], ['TTL', 'a'],
      ['SET', 'a', '1', 'EX', '100'], ['RENAME', 'a', '{t}a'], ['TTL', '{t}a'],
      ['PERSIST', '{t}a'], ['RENAME', '{t}a', '{t}b'], ['TTL', '{t}b'],
    ]);
  });

  it('OBJECT subcommands and errors', async () => {
    await ctx.expectSame([
      ['SET', 'a', '12'], ['SET', 'b', 'hello'], ['SET', 'c', 'x'.repeat(45)], ['SET', 'd', '-12'],
      ['SET', 'e', '12345678901234567890'], ['SET', 'f', '9999'], ['SET', 'g', '10000'], ['SET', 'h', '007'],
      ['OBJECT', 'ENCODING', 'a'], ['OBJECT', 'encoding', 'b'], ['OBJECT', 'Encoding', 'c'], ['OBJECT', 'ENCODING', 'd'],
      ['OBJECT', 'ENCODING', 'e'], ['OBJECT', 'ENCODING', 'h'],
      ['OBJECT', 'REFCOUNT', 'a'], ['OBJECT', 'REFCOUNT', 'b'], ['OBJECT', 'REFCOUNT', 'd'], ['OBJECT', 'REFCOUNT', 'f'],
      ['OBJECT', 'REFCOUNT', 'g'],
      ['OBJECT', 'ENCODING', 'nosuch'], ['OBJECT', 'REFCOUNT', 'nosuch'], ['OBJECT', 'IDLETIME', 'nosuch'],
      ['OBJECT', 'FREQ', 'nosuch'], ['OBJECT', 'FREQ', 'a'],
      ['OBJECT', 'HELP'], ['OBJECT', 'help'],
      ['OBJECT'], ['OBJECT', 'ENCODING'], ['OBJECT', 'ENCODING', 'a', 'b'], ['OBJECT', 'HELP', 'x'],
      ['OBJECT', 'FOO'], ['OBJECT', 'foo', 'a'], ['OBJECT', 'freq'],
    ]);
  });

  it('MEMORY USAGE argument handling and HELP', async () => {
    await ctx.expectSame([
      ['SET', 'a', '1'],
      ['MEMORY', 'USAGE', 'nosuch'], ['MEMORY', 'USAGE', 'nosuch', 'SAMPLES', '5'],
      ['MEMORY', 'USAGE', 'a', 'SAMPLES'], ['MEMORY', 'USAGE', 'a', 'SAMPLES', 'x'],
      ['MEMORY', 'USAGE', 'a', 'SAMPLES', '-1'], ['MEMORY', 'USAGE', 'a', 'FOO'],
      ['MEMORY', 'USAGE', 'nosuch', 'SAMPLES', 'x'],
      ['MEMORY', 'USAGE'], ['MEMORY'], ['MEMORY', 'FOO'], ['MEMORY', 'HELP'], ['MEMORY', 'HELP', 'x'],
      ['MEMORY', 'PURGE'],
    ]);
  });

  it('KEYS with patterns across shards', async () => {
    const setup: Step[] = [
      ...sets('a', '1', 'b', '2', 'c', '3', 'd', '4', 'hello', '1', 'hallo', '1', 'hxllo', '1', 'heeeello', '1',
        '{t}a', '1', '{t}b', '1', 'h*llo', '1', 'x', '1', '', 'empty'),
    ];
    await expectSameSet(setup, [
      ['KEYS', '*'], ['KEYS', 'h?llo'], ['KEYS', 'h*llo'], ['KEYS', 'h[ae]llo'], ['KEYS', 'h[^e]llo'],
      ['KEYS', 'h[a-b]llo'], ['KEYS', '{t}*'], ['KEYS', 'h\\*llo'], ['KEYS', '[a-c]'], ['KEYS', 'nomatch*'],
      ['KEYS', '**'], ['KEYS', ''], ['KEYS', '?'],
    ]);
  });

  it('KEYS and DBSIZE per database; arity', async () => {
    await ctx.expectSame([
      ['KEYS', '*'], ['DBSIZE'],
      ['SET', 'a', '1'], ['KEYS', '*'], ['DBSIZE'],
      ['SELECT', '3'], ['KEYS', '*'], ['DBSIZE'], ['SET', 'b', '1'], ['SET', 'c', '1'], ['DBSIZE'],
      ['SELECT', '0'], ['DBSIZE'],
      ['KEYS'], ['KEYS', 'a', 'b'], ['DBSIZE', 'x'],
    ]);
  });

  it('FLUSHDB and FLUSHALL', async () => {
    await ctx.expectSame([
      ...sets('a', '1', 'b', '1', 'c', '1', 'd', '1'), ['SELECT', '1'], ...sets('a', '1', 'b', '1'),
      ['FLUSHDB'], ['DBSIZE'], ['SELECT', '0'], ['DBSIZE'],
      ['FLUSHDB', 'ASYNC'], ['DBSIZE'],
      ['SELECT', '1'], ...sets('a', '1', 'b', '1'), ['SELECT', '0'], ['SET', 'c', '1'],
      ['FLUSHALL', 'SYNC'], ['DBSIZE'], ['SELECT', '1'], ['DBSIZE'],
      ['SET', 'x', '1'], ['FLUSHALL', 'async'], ['DBSIZE'],
      ['FLUSHDB', 'foo'], ['FLUSHDB', 'async', 'sync'], ['FLUSHALL', 'foo'], ['FLUSHALL', 'sync', 'x'],
      ['FLUSHDB', 'sync'], ['FLUSHALL'],
    ]);
  });

  it('SWAPDB', async () => {
    await ctx.expectSame([
      ['SET', 'a', 'db0'], ['SET', 'b', 'db0'], ['SELECT', '1'], ['SET', 'a', 'db1'], ['SELECT', '0'],
      ['SWAPDB', '0', '1'], ['GET', 'a'], ['GET', 'b'], ['DBSIZE'],
      ['SELECT', '1'], ['GET', 'a'], ['GET', 'b'], ['DBSIZE'],
      ['SWAPDB', '1', '1'], ['GET', 'b'],
      ['SWAPDB', '0', '16'], ['SWAPDB', '-1', '0'], ['SWAPDB', 'x', '0'], ['SWAPDB', '0', 'x'], ['SWAPDB', 'x', 'y'],
      ['SWAPDB', '99999999999', '0'], ['SWAPDB', '0', '99999999999'], ['SWAPDB', '16', 'x'],
      ['SWAPDB', '0'], ['SWAPDB', '0', '1', '2'],
    ]);
  });

  it('RANDOMKEY', async () => {
    await ctx.expectSame([
      ['RANDOMKEY'], ['SET', 'c', '1'], ['RANDOMKEY'], ['DEL', 'c'], ['SET', 'a', '1'], ['RANDOMKEY'],
      ['SELECT', '1'], ['RANDOMKEY'], ['RANDOMKEY', 'x'],
    ]);
  });

  it('RESP3 replies (nil, status, arrays)', async () => {
    await ctx.expectSame([
      ['SET', 'a', '1'], ['TYPE', 'a'], ['TYPE', 'nosuch'], ['OBJECT', 'ENCODING', 'nosuch'], ['OBJECT', 'HELP'],
      ['MEMORY', 'USAGE', 'nosuch'], ['TTL', 'a'], ['RENAME', 'a', 'b'], ['COPY', 'b', 'c'], ['KEYS', 'b'],
      ['SCAN', '0', 'MATCH', 'b'], ['FLUSHDB'], ['RANDOMKEY'],
    ], { resp3: true });
  });

  it('SCAN argument errors and a single-key database', async () => {
    await ctx.expectSame([
      ['SCAN', '0'], ['SCAN', ''], ['SCAN', 'x'], ['SCAN', ' 0'], ['SCAN', '0 '], ['SCAN', '-'], ['SCAN', '+'],
      ['SCAN', '18446744073709551616'], ['SCAN', '1.5'], ['SCAN', '-0'], ['SCAN', '+0'], ['SCAN', '00'],
      ['SCAN', '5'], ['SCAN', '-1'], ['SCAN', '18446744073709551615'], ['SCAN', '-18446744073709551615'],
      ['SCAN', '-18446744073709551616'], ['SCAN', '0x1'], ['SCAN', '\t0'], ['SCAN', '7', 'COUNT', '1'],
      ['SCAN', '0', 'COUNT', '0'], ['SCAN', '0', 'COUNT', '-1'], ['SCAN', '0', 'COUNT', 'x'], ['SCAN', '0', 'COUNT'],
      ['SCAN', '0', 'MATCH'], ['SCAN', '0', 'TYPE'], ['SCAN', '0', 'FOO', 'bar'], ['SCAN', 'x', 'COUNT', '0'],
      ['SCAN', '0', 'COUNT', '9223372036854775808'],
      ['SET', 'a', '1'],
      ['SCAN', '0'], ['SCAN', '0', 'MATCH', 'a'], ['SCAN', '0', 'MATCH', 'b*'], ['SCAN', '0', 'TYPE', 'string'],
      ['SCAN', '0', 'TYPE', 'STRING'], ['SCAN', '0', 'TYPE', 'list'], ['SCAN', '0', 'count', '1000', 'match', '*'],
      ['SCAN'],
    ]);
  });

  it('SCAN over every shard returns every key', async () => {
    const setup: Step[] = [...sets('a', '1', 'b', '2', 'c', '3', 'd', '4', '{t}a', '5', '{t}b', '6')];
    await expectSameSet(setup, [['KEYS', '*']]);
    // A full iteration, collected on each server.
    const collect = async (target: 'sabre' | 'redis'): Promise<string[]> => {
      await ctx.run(target, setup);
      const keys: string[] = [];
      let cursor = '0';
      for (let i = 0; i < 100; i++) {
        const [r] = await ctx.run(target, [['SCAN', cursor, 'COUNT', '2']]);
        const text = (r as Buffer).toString('latin1').split('\r\n');
        cursor = text[2] ?? '0';
        const n = Number((text[3] ?? '*0').slice(1));
        for (let k = 0; k < n; k++) keys.push(text[5 + 2 * k] ?? '');
        if (cursor === '0') break;
      }
      return [...new Set(keys)].sort();
    };
    const [s, r] = await Promise.all([collect('sabre'), collect('redis')]);
    expect(s).toEqual(r);
    expect(s).toEqual(['a', 'b', 'c', 'd', '{t}a', '{t}b']);
  });
});
