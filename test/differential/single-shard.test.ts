import { expect, it } from 'vitest';
import { describeDifferential } from '../helpers/differential.ts';

// One shard is the default on a 2-core machine (cores - 1), and it takes
// paths the 4-shard suites never do: every slot belongs to shard 0 (the router
// skips the CRC), and every multi-key command is local to one shard.
describeDifferential('one shard: multi-key commands and the keyspace against redis-server', (ctx) => {
  it('multi-key strings commands', async () => {
    await ctx.expectSame([
      ['MSET', 'a', '1', 'b', '2', 'c', '3', '{t}x', 'tagged'],
      ['MGET', 'a', 'b', 'nosuch', 'c', '{t}x'],
      ['MSETNX', 'a', '9', 'z', '9'],
      ['MSETNX', 'y', '8', 'z', '9'],
      ['MGET', 'a', 'y', 'z'],
      ['EXISTS', 'a', 'b', 'nosuch', 'a'],
      ['DEL', 'a', 'nosuch', 'y'],
      ['UNLINK', 'z', 'c'],
      ['TOUCH', 'b', '{t}x', 'gone'],
      ['DBSIZE'],
      ['MSET', 'a'],
      ['MSET', 'a', '1', 'b'],
    ]);
  });

  it('RENAME, COPY, MOVE, BITOP and LCS', async () => {
    await ctx.expectSame([
      ['SET', 'src', 'hello'],
      ['RENAME', 'src', 'dst'],
      ['GET', 'dst'],
      ['RENAMENX', 'dst', 'other'],
      ['COPY', 'other', 'copy'],
      ['COPY', 'other', 'copy'],
      ['COPY', 'other', 'copy', 'REPLACE'],
      ['MOVE', 'copy', '1'],
      ['EXISTS', 'copy'],
      ['SET', 'k1', 'ohmytext'],
      ['SET', 'k2', 'mynewtext'],
      ['LCS', 'k1', 'k2'],
      ['LCS', 'k1', 'k2', 'LEN'],
      ['SET', 'b1', '\xff\x0f'],
      ['SET', 'b2', '\x0f\xf0'],
      ['BITOP', 'AND', 'dest', 'b1', 'b2'],
      ['BITOP', 'XOR', 'dest', 'b1', 'b2', 'nosuch'],
      ['GET', 'dest'],
      ['RENAME', 'nosuch', 'x'],
    ]);
  });

  it('SCAN and KEYS see every key', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
    const setup: string[][] = [['MSET', ...keys.flatMap((k) => [k, 'v'])]];
    await ctx.expectSame([...setup, ['DBSIZE']]);
    for (const target of ['sabre', 'redis'] as const) {
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [reply] = await ctx.run(target, [['SCAN', cursor, 'COUNT', '50']]);
        const text = (reply as Buffer).toString('latin1');
        const lines = text.split('\r\n');
        cursor = lines[2] as string;
        for (let i = 4; i < lines.length - 1; i += 2) seen.add(lines[i + 1] as string);
      } while (cursor !== '0');
      expect(seen.size, target).toBe(300);
      const [all] = await ctx.run(target, [['KEYS', 'key:*']]);
      expect((all as Buffer).toString('latin1').startsWith('*300\r\n'), target).toBe(true);
    }
  });
}, { shards: 1 });
