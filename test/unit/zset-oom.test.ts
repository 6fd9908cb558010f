import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TYPE_ZSET } from '../../native-layout/layout.ts';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { HandlerShard, OOM_REPLY } from '../helpers/shard-harness.ts';

// Sorted-set writes through the real shard handlers in a 1 MiB arena, with
// members from empty to tens of kilobytes, so that ZADD (many members, on new
// and existing keys, across the listpack -> skiplist conversion), ZINCRBY and
// the STORE commands run out of memory midway. After every command answered
// -OOM the whole keyspace must be as it was (ZADD's undo journal, builds off
// the keyspace); at the end, deleting everything gives every byte back.

const ARENA_BYTES = 1024 * 1024;

class TestShard extends HandlerShard {
  constructor() {
    super(new Keyspace(new Arena(new SharedArrayBuffer(ARENA_BYTES)), 1, new Float64Array(64), 4242));
  }
}

/** Every zset of db 0 as text: key -> "member=score,..." in order. */
function dump(ks: Keyspace): Map<string, string> {
  const out = new Map<string, string>();
  const z = ks.zsets;
  ks.dbs[0].forEach((ref) => {
    if (ks.typeOf(ref) !== TYPE_ZSET) {
      out.set(ks.keyString(ref), 'string');
      return;
    }
    const h = ks.valueRef(ref);
    const parts: string[] = [];
    for (let p = z.first(h); p !== 0; p = z.next(h, p)) {
      const o = z.memberOff(h, p);
      parts.push(`${Buffer.from(ks.arena.u8.subarray(o, o + z.memberLen(p))).toString('latin1').slice(0, 12)}:${z.memberLen(p)}=${z.scoreAt(p)}`);
    }
    out.set(ks.keyString(ref), `${ks.encodingOf(ref)}|${parts.join(',')}`);
  });
  return out;
}

const key = fc.constantFrom('k0', 'k1', 'k2', 'k3');
const member = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 300 }).map((i) => `m${i}`) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 65, max: 40000 })).map(([i, n]) => `L${i}`.padEnd(n, 'x')) },
);
const score = fc.integer({ min: -50, max: 50 }).map(String);

const command = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(key, fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 60 }))
    .map(([k, items]) => ['ZADD', k, ...items.flat()]) },
  { weight: 2, arbitrary: fc.tuple(key, fc.constantFrom('GT', 'LT', 'XX', 'NX', 'CH'), fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 30 }))
    .map(([k, f, items]) => ['ZADD', k, f, ...items.flat()]) },
  { weight: 2, arbitrary: fc.tuple(key, score, member).map(([k, s, m]) => ['ZINCRBY', k, s, m]) },
  { weight: 2, arbitrary: fc.tuple(key, key, key, fc.constantFrom('SUM', 'MIN', 'MAX'))
    .map(([d, a, b, agg]) => ['ZUNIONSTORE', d, '2', a, b, 'AGGREGATE', agg]) },
  { weight: 1, arbitrary: fc.tuple(key, key, key).map(([d, a, b]) => ['ZINTERSTORE', d, '2', a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, key, key).map(([d, a, b]) => ['ZDIFFSTORE', d, '2', a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, key, fc.nat(200)).map(([d, s, n]) => ['ZRANGESTORE', d, s, '0', String(n)]) },
  { weight: 2, arbitrary: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 10 })).map(([k, ms]) => ['ZREM', k, ...ms]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.nat(20)).map(([k, n]) => ['ZPOPMIN', k, String(n)]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.nat(100), fc.nat(100)).map(([k, a, b]) => ['ZREMRANGEBYRANK', k, String(a), String(b)]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 3 })).map(([k, lim]) => ['CONFIG-LIMIT', k, String([0, 4, 16, 128][lim])]) },
);

describe('sorted-set commands in a full arena', () => {
  it('a ZADD on an existing set that runs out midway is undone (scores put back, new members removed)', () => {
    for (const start of [['1', 'keep', '2', 'other'], ['1', 'keep', '2', 'y'.repeat(100)]]) {
      const shard = new TestShard();
      const ks = shard.ks;
      shard.run(0, ['ZADD', 'k', ...start]);
      const args = ['ZADD', 'k', '5', 'keep', '7', 'new-small'];
      for (let i = 0; i < 100; i++) args.push(String(i), `big${i}`.padEnd(30000, 'x'));
      const members = (): string[] => [...dump(ks).values()].map((v) => v.slice(v.indexOf('|')));
      const before = members();
      const used = ks.alloc.used;
      expect(shard.run(0, args)).toBe(OOM_REPLY);
      expect(members()).toEqual(before);
      expect(ks.alloc.used).toBeLessThanOrEqual(used + 64 * 1024); // at most a converted set's index/head left over
      expect(shard.run(0, ['ZSCORE', 'k', 'keep'])).toBe('$1\r\n1\r\n');
    }
  });

  it('a command answered OOM changes nothing; deleting everything gives every byte back', () => {
    let ooms = 0;
    fc.assert(fc.property(fc.array(command, { minLength: 5, maxLength: 40 }), (cmds) => {
      const shard = new TestShard();
      const ks = shard.ks;
      const base = ks.alloc.used;
      for (const cmd of cmds) {
        if (cmd[0] === 'CONFIG-LIMIT') {
          ks.zsets.maxListpackEntries = Number(cmd[2]);
          continue;
        }
        const before = dump(ks);
        const reply = shard.run(0, cmd);
        if (reply === OOM_REPLY) {
          ooms++;
          // Members and scores as they were (a listpack converted on the way may stay a skiplist).
          const strip = (m: Map<string, string>): Map<string, string> => new Map([...m].map(([k, v]) => [k, v.slice(v.indexOf('|'))]));
          expect(strip(dump(ks))).toEqual(strip(before));
        } else {
          expect(reply.startsWith('-ERR internal')).toBe(false);
        }
        // The entry's encoding field says what the structure is.
        ks.dbs[0].forEach((ref) => {
          if (ks.typeOf(ref) === TYPE_ZSET) expect(ks.encodingOf(ref)).toBe(ks.zsets.encoding(ks.valueRef(ref)));
        });
        // An emptied set has no key.
        for (const v of dump(ks).values()) expect(v.endsWith('|')).toBe(false);
      }
      ks.flushDb(0);
      expect(ks.alloc.used).toBe(base);
    }), { numRuns: 150 });
    expect(ooms).toBeGreaterThan(20);
  });
});
