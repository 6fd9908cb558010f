import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { encodeCommand, nodeBinary, PROJECT_ROOT, splitReplies, type ServerHandle } from '../helpers/servers.ts';
import { redisClient, shardOfKey, useSabre } from '../helpers/suites.ts';

// A client whose commands wait (behind a hold, or for room in a full ring) is
// not read any further, costs no memory to speak of, and is freed at once
// when it disconnects; nobody else is held up by it. Sabre runs with 4 KiB
// rings. Holds are made long with DEBUG SLEEP: every shard sleeps, and a
// cross-shard RENAME sent meanwhile holds its two shards until they wake.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A key on `shard`, with prefix `p`. */
function keyOn(shard: number, p: string): string {
  for (let i = 0; ; i++) if (shardOfKey(`${p}${i}`) === shard) return `${p}${i}`;
}

/** A hash tag whose keys all live on `shard`. */
function tagOn(shard: number): string {
  for (let i = 0; ; i++) if (shardOfKey(`{t${i}}`) === shard) return `{t${i}}`;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** The CLIENT LIST line of the connection named `name`, or undefined. */
async function clientLine(r: Redis, name: string): Promise<string | undefined> {
  const list = String(await r.call('CLIENT', 'LIST'));
  return list.split('\n').find((l) => l.includes(` name=${name} `));
}

async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
  return performance.now() - t0;
}

/** A raw connection that records what comes back. */
function rawClient(port: number): Promise<{ sock: net.Socket; received: () => Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => { /* the tests destroy it */ });
    sock.once('connect', () => resolve({ sock, received: () => Buffer.concat(chunks) }));
    sock.once('error', reject);
  });
}

describe('clients whose commands wait', () => {
  let server: ServerHandle;
  let r: Redis;
  useSabre((s, c) => {
    server = s;
    r = c;
    // The shards must have threads of their own: these tests stall them (DEBUG SLEEP) while the
    // front keeps reading; a shard run by the front thread (embedded-shards) would stall it too.
  }, { args: ['--shard-ring-kb', '4', '--embedded-shards', 'no'] });

  /** Holds shards 0 and 1 for about `seconds`: every shard sleeps, and a cross-shard RENAME waits for them. */
  async function holdShards(seconds: number): Promise<{ done: Promise<unknown>; close: () => void }> {
    const a = keyOn(0, 'held-a');
    const b = keyOn(1, 'held-b');
    await r.set(a, 'v');
    const sleeper = redisClient(server.port);
    const renamer = redisClient(server.port);
    await Promise.all([sleeper.connect(), renamer.connect()]);
    const slept = sleeper.call('DEBUG', 'SLEEP', String(seconds));
    await sleep(50);
    const renamed = renamer.rename(a, b);
    await sleep(50);
    return {
      done: Promise.all([slept, renamed]),
      close: () => {
        sleeper.disconnect();
        renamer.disconnect();
      },
    };
  }

  it('a client deferred behind a hold is not read: its query buffer and the server\'s RSS stay small; then every reply comes, in order', async () => {
    const hold = await holdShards(3);
    try {
      const tag = tagOn(0);
      const n = 200_000;
      const parts: Buffer[] = [encodeCommand(['CLIENT', 'SETNAME', 'big-pipeline'])];
      for (let i = 0; i < n; i++) parts.push(encodeCommand(['SET', `${tag}:${i}`, String(i)]));
      const bytes = Buffer.concat(parts);
      const rss0 = rssBytes(server.pid);
      const y = await rawClient(server.port);
      y.sock.write(bytes);
      await sleep(800);
      // Still held (the shards sleep): the pipeline waits, unread.
      const line = await clientLine(r, 'big-pipeline');
      expect(line).toBeDefined();
      const qbuf = Number(/ qbuf=(\d+) /.exec(line as string)?.[1]);
      expect(qbuf).toBeLessThan(256 * 1024);
      // 7 MB of pipeline sent; the server holds a bounded read-ahead of it, not copies of 200k commands.
      expect(bytes.length).toBeGreaterThan(6_000_000);
      expect(rssBytes(server.pid) - rss0).toBeLessThan(24 * 1024 * 1024);
      // Others are served meanwhile (the front answers while the shards sleep).
      expect(await r.ping()).toBe('PONG');
      await hold.done;
      await until('every reply of the pipeline', async () => splitReplies(y.received()).replies.length >= n + 1, 30_000);
      const replies = splitReplies(y.received()).replies;
      expect(replies.length).toBe(n + 1);
      expect(replies.every((b) => b.equals(Buffer.from('+OK\r\n')))).toBe(true);
      expect(await r.get(`${tag}:${n - 1}`)).toBe(String(n - 1));
      expect(await r.get(`${tag}:0`)).toBe('0');
      y.sock.destroy();
    } finally {
      hold.close();
    }
  });

  it('a client that disconnects while deferred behind a hold is freed at once, while the hold lasts', async () => {
    const hold = await holdShards(3);
    let renamedAt = 0;
    void hold.done.then(() => { renamedAt = performance.now(); });
    try {
      const before = String(await r.call('CLIENT', 'LIST')).trim().split('\n').length;
      const y = await rawClient(server.port);
      const cmds = [['CLIENT', 'SETNAME', 'gone-deferred'], ['GET', keyOn(0, 'held-a')]];
      for (let i = 0; i < 200; i++) cmds.push(['SET', keyOn(i % 4, `gd${i}-`), 'x']);
      y.sock.write(Buffer.concat(cmds.map((c) => encodeCommand(c))));
      await until('the deferred client is listed', async () => (await clientLine(r, 'gone-deferred')) !== undefined, 2000);
      y.sock.destroy();
      await until('the deferred client is gone', async () => (await clientLine(r, 'gone-deferred')) === undefined, 1000);
      // Freed while the hold still lasts, and others are served.
      expect(renamedAt).toBe(0);
      expect(await r.ping()).toBe('PONG');
      expect(String(await r.call('CLIENT', 'LIST')).trim().split('\n').length).toBe(before);
      await hold.done;
      expect(await r.get(keyOn(1, 'held-b'))).toBe('v');
      expect(String(await r.info('clients'))).toContain(`connected_clients:${before}\r\n`);
    } finally {
      hold.close();
    }
  });

  it('coordinated phases that meet a full ring, and fan-outs that meet one, go out in order once it drains', async () => {
    const sleeper = redisClient(server.port);
    const coordinated = redisClient(server.port);
    await Promise.all([sleeper.connect(), coordinated.connect()]);
    try {
      const a = keyOn(0, 'phase-a');
      const b = keyOn(1, 'phase-b');
      await r.set(a, 'moved');
      const slept = sleeper.call('DEBUG', 'SLEEP', '1');
      await sleep(50);
      // Another client fills every shard's request ring while the shards sleep, with records
      // smaller than RENAME's __take and FLUSHDB's __flushdb, so that those find no room.
      const filler = await rawClient(server.port);
      const parts: Buffer[] = [];
      const short = [0, 1, 2, 3].map((s) => keyOn(s, 'g'));
      for (let i = 0; i < 4000; i++) parts.push(encodeCommand(['GET', short[i % 4]]));
      filler.sock.write(Buffer.concat(parts));
      await sleep(100);
      // RENAME's first phase (__take on shard 0) finds no room; so do FLUSHDB's fan-out records,
      // pipelined on one connection behind it with reads of the keys it moved.
      const p = coordinated.pipeline().rename(a, b).get(b).exists(a).set('k', 'v').flushdb().get('k').get(b).dbsize().exec();
      await slept;
      const results = (await p) ?? [];
      expect(results.map(([err, v]) => (err === null ? v : String(err)))).toEqual(['OK', 'moved', 0, 'OK', 'OK', null, null, 0]);
      await until('the filler\'s replies', async () => splitReplies(filler.received()).replies.length >= 4000, 10_000);
      filler.sock.destroy();
    } finally {
      sleeper.disconnect();
      coordinated.disconnect();
    }
  });

  it('a client that disconnects while stalled on full rings is freed once they drain; others are served meanwhile', async () => {
    const sleeper = redisClient(server.port);
    await sleeper.connect();
    try {
      const slept = sleeper.call('DEBUG', 'SLEEP', '1.5');
      await sleep(50);
      const y = await rawClient(server.port);
      const parts: Buffer[] = [encodeCommand(['CLIENT', 'SETNAME', 'gone-stalled'])];
      for (let i = 0; i < 20_000; i++) parts.push(encodeCommand(['SET', `stall:${i}`, 'v'.repeat(100)]));
      y.sock.write(Buffer.concat(parts));
      await until('the stalled client is listed', async () => (await clientLine(r, 'gone-stalled')) !== undefined, 2000);
      y.sock.destroy();
      // The shards sleep and the rings are full, yet the front answers.
      const t0 = performance.now();
      expect(await r.ping()).toBe('PONG');
      expect(performance.now() - t0).toBeLessThan(1000);
      await slept;
      await until('the stalled client is gone', async () => (await clientLine(r, 'gone-stalled')) === undefined, 10_000);
      expect(String(await r.info('clients'))).toMatch(/connected_clients:2\r\n/);
      await r.set('after-stall', 'ok');
      expect(await r.get('after-stall')).toBe('ok');
    } finally {
      sleeper.disconnect();
    }
  });
});

describe('shard-ring-kb', () => {
  it('refuses a ring size that is not a power of two, or is out of range, at start-up', () => {
    for (const [value, text] of [['6', 'must be a power of two'], ['2', 'between 4 and 1048576']]) {
      const run = spawnSync(nodeBinary(), [path.join(PROJECT_ROOT, 'src', 'main.ts'), '--port', '0', '--shard-ring-kb', value, '--save', ''],
        { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 20_000 });
      expect(run.status).toBe(1);
      expect(run.stderr + run.stdout).toContain(text);
    }
  });
});
