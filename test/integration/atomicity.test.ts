import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOfKey } from '../helpers/suites.ts';
import { Redis } from 'ioredis';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';

// The front thread is the single sequencer: a command is enqueued to every
// shard it touches in one go and shards run FIFO, so a multi-key command
// spanning shards must never be seen half-applied by any other client.

let server: ServerHandle;
const clients: Redis[] = [];

function client(): Redis {
  const c = new Redis({ port: server.port, lazyConnect: false, maxRetriesPerRequest: 0 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startSabre({ shards: 4 });
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
});

const KEYS = ['atom:a', 'atom:b', 'atom:c', 'atom:d', 'atom:e', 'atom:f', 'atom:g', 'atom:h'];

const shardOf = (key: string): number => shardOfKey(key, 4);

describe('multi-shard atomicity', () => {
  it('uses keys spread over every shard', () => {
    expect(new Set(KEYS.map(shardOf)).size).toBe(4);
    expect(shardOf('rn:src')).not.toBe(shardOf('rn:dst'));
  });

  it('MGET never observes a half-applied MSET across shards', async () => {
    const writer = client();
    const readers = [client(), client(), client()];
    await writer.mset(...KEYS.flatMap((k) => [k, '0']));
    let stop = false;
    const write = (async () => {
      for (let i = 1; i <= 400; i++) {
        const p = writer.pipeline();
        for (let j = 0; j < 5; j++) p.mset(...KEYS.flatMap((k) => [k, `${i}.${j}`]));
        await p.exec();
      }
      stop = true;
    })();
    let observations = 0;
    const read = readers.map(async (r) => {
      while (!stop) {
        const p = r.pipeline();
        for (let j = 0; j < 10; j++) p.mget(...KEYS);
        const res = await p.exec();
        for (const [err, values] of res ?? []) {
          expect(err).toBeNull();
          const vs = values as string[];
          // Every key of one snapshot carries the same generation.
          expect(new Set(vs).size).toBe(1);
          observations++;
        }
      }
    });
    await Promise.all([write, ...read]);
    expect(observations).toBeGreaterThan(50);
    expect(await readers[0].mget(...KEYS)).toEqual(KEYS.map(() => '400.4'));
  }, 120_000);

  it('DEL across shards is all-or-nothing for concurrent EXISTS', async () => {
    const a = client();
    const b = client();
    for (let round = 0; round < 150; round++) {
      await a.mset(...KEYS.flatMap((k) => [k, 'x']));
      const [del, exists] = await Promise.all([a.del(...KEYS), b.exists(...KEYS)]);
      expect(del).toBe(KEYS.length);
      expect([0, KEYS.length]).toContain(exists);
    }
  }, 60_000);

  it('RENAME across shards is seen as a single step by a pipelined reader', async () => {
    const a = client();
    const b = client();
    await a.set('rn:src', 'payload');
    await a.del('rn:dst');
    for (let i = 0; i < 100; i++) {
      const [from, to] = i % 2 === 0 ? ['rn:src', 'rn:dst'] : ['rn:dst', 'rn:src'];
      // The reader pipelines around the rename: each snapshot sees exactly one
      // of the two names, holding the value, never both or neither.
      const reads = b.pipeline().exists('rn:src', 'rn:dst').mget('rn:src', 'rn:dst').exists('rn:src', 'rn:dst').exec();
      const [renamed, seen] = await Promise.all([a.rename(from, to), reads]);
      expect(renamed).toBe('OK');
      const [[e1, n1], [e2, values], [e3, n2]] = seen ?? [];
      expect([e1, e2, e3]).toEqual([null, null, null]);
      expect([n1, n2]).toEqual([1, 1]);
      expect((values as Array<string | null>).filter((v) => v !== null)).toEqual(['payload']);
      // After the rename replied, the value is under the new name only.
      expect(await b.mget(from, to)).toEqual([null, 'payload']);
    }
    // 100 renames (an even number) bring the value back to its first name.
    expect(await b.mget('rn:src', 'rn:dst')).toEqual(['payload', null]);
  }, 60_000);
});
