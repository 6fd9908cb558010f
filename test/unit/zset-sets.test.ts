import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { HandlerShard } from '../helpers/shard-harness.ts';

// Plain sets (intset, listpack and hashtable encodings of the real set store)
// as inputs of ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD (score 1),
// through the reader registry.ts registers; on one shard, and shipped from
// another shard (__zdump, __zwith). A property test checks the algebra over
// random sets and sorted sets against a model.

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const fresh = (): HandlerShard => new HandlerShard(new Keyspace(new Arena(new SharedArrayBuffer(16 << 20)), 1, new Float64Array(64), 99));
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const flat = (pairs: Array<[string, string]>): string => `*${pairs.length * 2}\r\n${pairs.map(([m, s]) => bulk(m) + bulk(s)).join('')}`;

describe('plain sets as inputs of the sorted-set algebra', () => {
  it('count with score 1, take weights, and are refused where a sorted set is required', () => {
    const shard = fresh();
    shard.run(0, ['SADD', 's', 'a', 'b', 'c']);
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

  it('an intset gives every integer as its own decimal text', () => {
    const shard = fresh();
    shard.run(0, ['SADD', 'i', '10', '-3', '7', '9223372036854775807']);
    expect(shard.run(0, ['OBJECT', 'ENCODING', 'i'])).toBe(bulk('intset'));
    expect(shard.run(0, ['ZUNION', '1', 'i', 'WITHSCORES']))
      .toBe(flat([['-3', '1'], ['10', '1'], ['7', '1'], ['9223372036854775807', '1']]));
    expect(shard.run(0, ['ZINTER', '2', 'i', 'i', 'WITHSCORES'])).toBe(flat([['-3', '2'], ['10', '2'], ['7', '2'], ['9223372036854775807', '2']]));
    shard.run(0, ['ZADD', 'z', '4', '7', '1', 'x']);
    expect(shard.run(0, ['ZDIFF', '2', 'i', 'z'])).toBe(`*3\r\n${bulk('-3')}${bulk('10')}${bulk('9223372036854775807')}`);
  });

  it('are shipped from another shard by __zdump and used by __zwith', () => {
    const shard = fresh();
    shard.run(0, ['SADD', 's', 'a', 'b']);
    shard.run(0, ['SADD', 'i', '12', '3']);
    const dump = shard.run(0, ['__zdump', 's', '0']);
    expect(dump.startsWith('$')).toBe(true);
    expect(shard.run(0, ['__zdump', 's', '1'])).toBe(bulk('W'));
    expect(shard.run(0, ['__zdump', 'missing', '0'])).toBe(bulk('N'));
    const payload = bytes(dump.slice(dump.indexOf('\r\n') + 2, dump.length - 2));
    const idump = shard.run(0, ['__zdump', 'i', '0']);
    const ipayload = bytes(idump.slice(idump.indexOf('\r\n') + 2, idump.length - 2));
    shard.run(0, ['ZADD', 'z', '4', 'b']);
    // As if s lived elsewhere: ZUNION 2 z s with s shipped (argument 3).
    expect(shard.run(0, ['__zwith', '1', '3', payload, 'ZUNION', '2', 'z', 'sx', 'WITHSCORES']))
      .toBe(flat([['a', '1'], ['b', '5']]));
    expect(shard.run(0, ['__zwith', '1', '3', ipayload, 'ZUNION', '2', 'z', 'ix', 'WITHSCORES']))
      .toBe(flat([['12', '1'], ['3', '1'], ['b', '4']]));
    expect(shard.run(0, ['__zwith', '1', '2', bytes('W'), 'ZRANGESTORE', 'd', 'sx', '0', '-1'])).toMatch(/^-WRONGTYPE/);
    expect(shard.run(0, ['__zwith', '1', '2', bytes('W'), 'ZRANGESTORE', 'd', 'sx', '0', '-1', 'BYLEX'])).toMatch(/^-ERR min or max not valid/);
  });

  it('property: ZUNION/ZINTER/ZDIFF/ZINTERCARD over random sets and sorted sets match a model', () => {
    // Members from a small pool of integers and strings, so sets are intsets, listpacks or
    // hashtables (small limits force conversions), and inputs overlap.
    const member = fc.oneof(fc.integer({ min: -40, max: 40 }).map(String), fc.constantFrom('a', 'b', 'c', '', 'x\u0000y', '007', 'long'.repeat(20)));
    const input = fc.record({
      kind: fc.constantFrom('set', 'zset'),
      members: fc.array(fc.tuple(member, fc.integer({ min: -3, max: 3 })), { maxLength: 40 }),
    });
    fc.assert(fc.property(fc.array(input, { minLength: 1, maxLength: 4 }), fc.constantFrom('SUM', 'MIN', 'MAX'),
      fc.array(fc.integer({ min: -2, max: 3 }), { minLength: 4, maxLength: 4 }), (inputs, agg, weights) => {
        const shard = fresh();
        shard.ks.sets.maxIntsetEntries = 16;
        shard.ks.sets.maxListpackEntries = 8;
        const model: Array<Map<string, number>> = [];
        const keys = inputs.map((inp, i) => {
          const key = `k${i}`;
          const m = new Map<string, number>();
          for (const [name, score] of inp.members) {
            if (inp.kind === 'set') {
              shard.run(0, ['SADD', key, name]);
              m.set(name, 1);
            } else {
              shard.run(0, ['ZADD', key, String(score), name]);
              m.set(name, score);
            }
          }
          model.push(m);
          return key;
        });
        const n = String(keys.length);
        const w = weights.slice(0, keys.length);
        const combine = (a: number, b: number): number => (agg === 'SUM' ? a + b : agg === 'MIN' ? (b < a ? b : a) : (b > a ? b : a));
        const expected = (op: 'union' | 'inter' | 'diff'): Array<[string, number]> => {
          const out = new Map<string, number>();
          if (op === 'diff') {
            for (const [k, v] of model[0]) if (!model.slice(1).some((m) => m.has(k))) out.set(k, v);
          } else {
            const names = op === 'union' ? new Set(model.flatMap((m) => [...m.keys()])) : new Set([...model[0].keys()].filter((k) => model.every((m) => m.has(k))));
            for (const k of names) {
              let acc: number | undefined;
              // Redis aggregates the inputs smallest first (a stable order): it shows in MIN/MAX of 0 and -0.
              const bySize = model.map((_m, i) => i).sort((x, y) => model[x].size - model[y].size || x - y);
              bySize.forEach((i) => {
                const m = model[i];
                const v = m.get(k);
                if (v === undefined) return;
                const s = v * w[i];
                acc = acc === undefined ? s : combine(acc, s);
              });
              out.set(k, acc as number);
            }
          }
          return [...out].sort((x, y) => x[1] - y[1] || Buffer.compare(bytes(x[0]), bytes(y[0])));
        };
        // Redis prints a negative zero (a 0 score times a negative weight) as "-0".
        const reply = (pairs: Array<[string, number]>): string => flat(pairs.map(([k, v]) => [k, Object.is(v, -0) ? '-0' : String(v)]));
        const opts = ['WEIGHTS', ...w.map(String), 'AGGREGATE', agg, 'WITHSCORES'];
        expect(shard.run(0, ['ZUNION', n, ...keys, ...opts])).toBe(reply(expected('union')));
        expect(shard.run(0, ['ZINTER', n, ...keys, ...opts])).toBe(reply(expected('inter')));
        expect(shard.run(0, ['ZDIFF', n, ...keys, 'WITHSCORES'])).toBe(reply(expected('diff')));
        expect(shard.run(0, ['ZINTERCARD', n, ...keys])).toBe(`:${expected('inter').length}\r\n`);
        expect(shard.run(0, ['ZUNIONSTORE', 'dst', n, ...keys, ...opts.slice(0, -1)])).toBe(`:${expected('union').length}\r\n`);
      }), { numRuns: 400 });
  });
});
