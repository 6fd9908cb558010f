import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';
import { infoFields, redisClient, shardOfKey } from '../helpers/suites.ts';

// Commands run inline: with one front thread, a single-shard command for the
// shard that front runs itself (embedded-shards) runs as soon as it is parsed,
// without a ring record, when nothing of that front waits for that shard
// (docs/architecture.md, "Run inline"). These are the paths where running
// at once could differ from running at the end of the turn: the command
// clock after idle time, reply numbering (CLIENT REPLY), pipelines that mix
// inline commands with ring commands, and what rides on a reply record
// (blocked clients served, slow-log entries).

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** A key of shard `shard` of 4. */
function keyOn(shard: number, prefix: string): string {
  for (let i = 0; ; i++) if (shardOfKey(`${prefix}${i}`) === shard) return `${prefix}${i}`;
}

for (const shards of [1, 4]) {
  describe(`inline commands, ${shards} shard(s), shard 0 run by the front thread`, () => {
    let s: ServerHandle;
    let r: Redis;
    beforeAll(async () => {
      s = await startSabre({ shards, args: ['--io-threads', '1', '--embedded-shards', 'yes'] });
      r = redisClient(s.port);
    });
    afterAll(async () => {
      r.disconnect();
      await s.stop();
    });

    it('runs on shard 0 inline, and each command sees a fresh clock after idle time', async () => {
      const before = await inlineCommands(r);
      // More than the 32 commands the command clock is shared by: every one of them, sent after
      // the previous key's time to live passed, must find that key expired.
      const k = keyOn(0, 'ttl');
      for (let i = 0; i < 40; i++) {
        expect(await r.set(k, `v${i}`, 'PX', 20)).toBe('OK');
        expect(await r.get(k)).toBe(`v${i}`);
        await sleep(35);
        expect(await r.get(k)).toBe(null);
      }
      // Sent one at a time, each found nothing in flight: all 120 ran inline.
      expect(await inlineCommands(r)).toBe(before + 120);
    });

    it('keeps reply numbering with CLIENT REPLY SKIP and OFF', async () => {
      const k = keyOn(0, 'reply');
      // ioredis cannot wait for a skipped reply: the raw pipeline is checked on the socket's bytes.
      const replies = await rawExchange(s.port,
        `CLIENT REPLY SKIP\r\nSET ${k} 1\r\nGET ${k}\r\nCLIENT REPLY OFF\r\nINCR ${k}\r\nCLIENT REPLY ON\r\nGET ${k}\r\n`, '$1\r\n2\r\n');
      expect(replies).toBe('$1\r\n1\r\n+OK\r\n$1\r\n2\r\n');
    });

    it('keeps a pipeline in order when it mixes shard 0 with the other shards', async () => {
      const keys = [0, 1, 2, 3].map((sh) => keyOn(shards === 1 ? 0 : sh, `mix${sh}-`));
      const p = r.pipeline();
      for (let i = 0; i < 400; i++) {
        const k = keys[i % 4] as string;
        p.incr(k);
        p.get(k);
      }
      const out = await p.exec();
      for (let i = 0; i < 400; i++) {
        const n = Math.floor(i / 4) + 1; // the i-th INCR is the n-th of its key
        expect(out?.[2 * i]).toEqual([null, n]);
        expect(out?.[2 * i + 1]).toEqual([null, String(n)]);
      }
    });

    it('serves a blocked client from a push run inline, and the push still gets its own reply', async () => {
      const k = keyOn(0, 'blk');
      const waiter = redisClient(s.port);
      try {
        const popped = waiter.blpop(k, 5);
        await sleep(50);
        expect(await r.rpush(k, 'a', 'b')).toBe(2);
        expect(await popped).toEqual([k, 'a']);
        expect(await r.lrange(k, 0, -1)).toEqual(['b']);
      } finally {
        waiter.disconnect();
      }
    });

    it('logs an inline command in the slow log, and counts it in commandstats', async () => {
      const k = keyOn(0, 'slow');
      await r.config('SET', 'slowlog-log-slower-than', '0');
      try {
        await r.slowlog('RESET');
        await r.set(k, 'x');
        await r.get(k);
        const entries = (await r.slowlog('GET', 10)) as [number, number, number, string[]][];
        // As the client sent them (ioredis sends names in lower case).
        const commands = entries.map((e) => e[3].join(' '));
        expect(commands).toContain(`get ${k}`);
        expect(commands).toContain(`set ${k} x`);
      } finally {
        await r.config('SET', 'slowlog-log-slower-than', '10000');
      }
      await r.config('RESETSTAT');
      for (let i = 0; i < 5; i++) await r.get(k);
      const stats = infoFields(await r.info('commandstats'));
      expect(stats.get('cmdstat_get')).toMatch(/^calls=5,/);
    });

    // A pipeline's inline commands run as a batch that lends the client's output to the shard
    // once (docs/architecture.md, "Batches of inline commands"). What ends a batch part way:
    // a command of another kind (front, error, other shard), a reply that must cross the ring
    // (a blocked client served, a slow-log entry), the end of the input.

    it('keeps a batch in order when front commands, errors and wrong types cut into it', async () => {
      const k = keyOn(0, 'batch');
      const l = keyOn(0, 'batchlist');
      await r.del(k, l);
      await r.rpush(l, 'x');
      await r.config('RESETSTAT');
      const p = r.pipeline();
      for (let i = 0; i < 30; i++) {
        p.incr(k);
        if (i % 7 === 3) p.ping(`p${i}`);
        if (i % 5 === 1) p.incr(l); // WRONGTYPE, written by the shard inside the batch
        if (i % 11 === 2) p.call('GET'); // wrong arity: answered by the front
        if (i % 13 === 4) p.call('NOSUCHCOMMAND', k);
        p.get(k);
      }
      const out = (await p.exec()) ?? [];
      let j = 0;
      let wrongType = 0;
      for (let i = 0; i < 30; i++) {
        expect(out[j++]).toEqual([null, i + 1]);
        if (i % 7 === 3) expect(out[j++]).toEqual([null, `p${i}`]);
        if (i % 5 === 1) {
          expect(String(out[j++]?.[0])).toMatch(/^ReplyError: WRONGTYPE/);
          wrongType++;
        }
        if (i % 11 === 2) expect(String(out[j++]?.[0])).toMatch(/wrong number of arguments for 'get'/);
        if (i % 13 === 4) expect(String(out[j++]?.[0])).toMatch(/unknown command 'NOSUCHCOMMAND'/);
        expect(out[j++]).toEqual([null, String(i + 1)]);
      }
      expect(j).toBe(out.length);
      // Error replies written in place in a batch are counted as Redis counts them.
      const errors = infoFields(await r.info('errorstats'));
      expect(errors.get('errorstat_WRONGTYPE')).toBe(`count=${wrongType}`);
      expect(infoFields(await r.info('commandstats')).get('cmdstat_incr')).toMatch(new RegExp(`^calls=${30 + wrongType},`));
    });

    it('ends a batch at a push that serves a blocked client, and goes on in order after it', async () => {
      const k = keyOn(0, 'bblk');
      const c = keyOn(0, 'bcnt');
      await r.del(k, c);
      const waiter = redisClient(s.port);
      try {
        const popped = waiter.blpop(k, 5);
        await sleep(50);
        const p = r.pipeline();
        p.incr(c);
        p.incr(c);
        p.rpush(k, 'a', 'b'); // its reply carries the waiter's: it comes through the ring
        p.incr(c);
        p.lrange(k, 0, -1);
        p.incr(c);
        expect(await p.exec()).toEqual([[null, 1], [null, 2], [null, 2], [null, 3], [null, ['b']], [null, 4]]);
        expect(await popped).toEqual([k, 'a']);
      } finally {
        waiter.disconnect();
      }
    });

    it('ends a batch at every command the slow log takes, with replies in order', async () => {
      const k = keyOn(0, 'bslow');
      await r.del(k);
      await r.config('SET', 'slowlog-log-slower-than', '0');
      try {
        await r.slowlog('RESET');
        const p = r.pipeline();
        for (let i = 0; i < 20; i++) p.incr(k);
        const out = await p.exec();
        expect(out).toEqual(Array.from({ length: 20 }, (_, i) => [null, i + 1]));
        const entries = (await r.slowlog('GET', 100)) as [number, number, number, string[]][];
        expect(entries.filter((e) => e[3][0] === 'incr').length).toBe(20);
      } finally {
        await r.config('SET', 'slowlog-log-slower-than', '10000');
      }
    });

    it('publishes a batch\'s figures when it ends: commands run and memory used', async () => {
      // INFO's own parts on the shard count too: measured over the same INFOs with nothing between.
      const first = shardFigures(await r.info('sabre'));
      const usedBefore = Number(infoFields(await r.info('memory')).get('used_memory'));
      const before = shardFigures(await r.info('sabre'));
      const ownCommands = before.commands - first.commands;
      const p = r.pipeline();
      const value = 'm'.repeat(500);
      const n = 100;
      for (let i = 0; i < n; i++) p.set(keyOn(0, `fig${i}-`), value);
      const out = (await p.exec()) ?? [];
      expect(out.every(([e, v]) => e === null && v === 'OK')).toBe(true);
      const usedAfter = Number(infoFields(await r.info('memory')).get('used_memory'));
      expect(usedAfter - usedBefore).toBeGreaterThanOrEqual(n * value.length);
      const after = shardFigures(await r.info('sabre'));
      // Run in batches (one read or several): every command counted.
      expect(after.commands - before.commands).toBe(n + ownCommands);
    });

    it('runs a long pipeline of replies that outgrow the output buffer, byte for byte', async () => {
      const k = keyOn(0, 'bbig');
      const value = 'v'.repeat(3000);
      await r.set(k, value);
      const p = r.pipeline();
      for (let i = 0; i < 200; i++) p.get(k);
      const out = (await p.exec()) ?? [];
      expect(out.length).toBe(200);
      for (const reply of out) expect(reply).toEqual([null, value]);
    });
  });
}

/** INFO sabre's inline_commands of shard 0. */
async function inlineCommands(r: Redis): Promise<number> {
  const line = infoFields(await r.info('sabre')).get('shard0') ?? '';
  const m = /inline_commands=(\d+)/.exec(line);
  if (m === null) throw new Error(`no inline_commands in ${line}`);
  return Number(m[1]);
}

/** Sends `request` on a raw socket and resolves with what came back once it ends with `until`. */
async function rawExchange(port: number, request: string, until: string): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(request));
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete reply, got ${JSON.stringify(got)}`));
    }, 5000);
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got.endsWith(until)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('error', reject);
  });
}

/** INFO sabre's commands of shard 0. */
function shardFigures(info: string): { commands: number } {
  const line = infoFields(info).get('shard0') ?? '';
  const commands = /(?:^|,)commands=(\d+)/.exec(line);
  if (commands === null) throw new Error(`no commands in ${line}`);
  return { commands: Number(commands[1]) };
}
