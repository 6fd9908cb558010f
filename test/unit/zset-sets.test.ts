import { describe, expect, it } from 'vitest';
import { TYPE_SET } from '../../native-layout/layout.ts';
import { registerSetReader } from '../../src/commands/zsets.ts';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { ZSetStore } from '../../src/store/zset.ts';
import { HandlerShard } from '../helpers/shard-harness.ts';

// Plain sets as inputs of ZUNION/ZINTER/ZDIFF (score 1), through the
// SetReader the sets store registers. The sets type lives on another branch,
// so this test stands one in: a TYPE_SET store that keeps members in a
// ZSetStore, and its reader. The same paths run on one shard and with the
// set shipped from another shard (__zdump, __zwith).

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function setup(): { shard: HandlerShard; addSet: (key: string, members: string[]) => void } {
  const ks = new Keyspace(new Arena(new SharedArrayBuffer(4 * 1024 * 1024)), 1, new Float64Array(64), 99);
  const sets = new ZSetStore(ks.arena.u8, ks.arena.u32, ks.arena.f64, ks.alloc, 5);
  ks.structures[TYPE_SET] = sets;
  registerSetReader(() => ({
    count: (h) => sets.count(h),
    contains: (h, b, o, l) => sets.find(h, b, o, l) !== 0,
    forEach: (h, visit) => {
      for (let p = sets.first(h); p !== 0; p = sets.next(h, p)) visit(ks.arena.u8, sets.memberOff(h, p), sets.memberLen(p));
    },
  }));
  const addSet = (key: string, members: string[]): void => {
    const h = sets.create();
    for (const m of members) sets.add(h, bytes(m), 0, m.length, 0);
    const k = bytes(key);
    ks.lookupWrite(0, k, 0, k.length);
    ks.putNewStructure(0, k, 0, k.length, TYPE_SET, 0, sets, h, -1);
  };
  return { shard: new HandlerShard(ks), addSet };
}

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const flat = (pairs: Array<[string, string]>): string => `*${pairs.length * 2}\r\n${pairs.map(([m, s]) => bulk(m) + bulk(s)).join('')}`;

describe('plain sets as inputs of the sorted-set algebra', () => {
  it('count with score 1, take weights, and are refused where a sorted set is required', () => {
    const { shard, addSet } = setup();
    addSet('s', ['a', 'b', 'c']);
    shard.run(0, ['ZADD', 'z', '2', 'b', '5', 'd']);
    expect(shard.run(0, ['ZUNION', '2', 's', 'z', 'WEIGHTS', '2', '3', 'WITHSCORES']))
      .toBe(flat([['a', '2'], ['c', '2'], ['b', '8'], ['d', '15']]));
    expect(shard.run(0, ['ZINTER', '2', 'z', 's', 'WITHSCORES'])).toBe(flat([['b', '3']]));
    expect(shard.run(0, ['ZDIFF', '2', 's', 'z', 'WITHSCORES'])).toBe(flat([['a', '1'], ['c', '1']]));
    expect(shard.run(0, ['ZINTERCARD', '2', 's', 'z'])).toBe(':1\r\n');
    expect(shard.run(0, ['ZUNIONSTORE', 'dst', '1', 's'])).toBe(':3\r\n');
    expect(shard.run(0, ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'])).toBe(flat([['a', '1'], ['b', '1'], ['c', '1']]));
    expect(shard.run(0, ['ZRANGESTORE', 'dst', 's', '0', '-1'])).toMatch(/^-WRONGTYPE/);
    expect(shard.run(0, ['ZCARD', 's'])).toMatch(/^-WRONGTYPE/);
  });

  it('are shipped from another shard by __zdump and used by __zwith', () => {
    const { shard, addSet } = setup();
    addSet('s', ['a', 'b']);
    const dump = shard.run(0, ['__zdump', 's', '0']);
    expect(dump.startsWith('$')).toBe(true);
    expect(shard.run(0, ['__zdump', 's', '1'])).toBe(bulk('W'));
    expect(shard.run(0, ['__zdump', 'missing', '0'])).toBe(bulk('N'));
    const payload = bytes(dump.slice(dump.indexOf('\r\n') + 2, dump.length - 2));
    shard.run(0, ['ZADD', 'z', '4', 'b']);
    // As if s lived elsewhere: ZUNION 2 z s with s shipped (argument 3).
    expect(shard.run(0, ['__zwith', '1', '3', payload, 'ZUNION', '2', 'z', 'sx', 'WITHSCORES']))
      .toBe(flat([['a', '1'], ['b', '5']]));
    expect(shard.run(0, ['__zwith', '1', '2', bytes('W'), 'ZRANGESTORE', 'd', 'sx', '0', '-1'])).toMatch(/^-WRONGTYPE/);
    expect(shard.run(0, ['__zwith', '1', '2', bytes('W'), 'ZRANGESTORE', 'd', 'sx', '0', '-1', 'BYLEX'])).toMatch(/^-ERR min or max not valid/);
  });
});
