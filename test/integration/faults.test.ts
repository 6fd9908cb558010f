import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getFreePort, nodeBinary, PROJECT_ROOT, startSabre, type ServerHandle } from '../helpers/servers.ts';
import { redisClient, shardOfKey } from '../helpers/suites.ts';

// A failure is loud and contained. Faults are injected through
// SABRE_TEST_FAULT, an environment variable read at start-up (no client
// command can trigger them): an error inside a shard outside any command
// handler is logged with the shard and what it was doing, and the shard keeps
// serving; a shard whose thread dies takes the server down cleanly, with an
// exit code; an error in the front's reply pump or in handing one reply over
// is logged and the server keeps serving everybody else.

/** A key owned by `shard` of 4. */
function keyOn(shard: number, prefix = 'f'): string {
  for (let i = 0; ; i++) if (shardOfKey(`${prefix}${i}`) === shard) return `${prefix}${i}`;
}

async function withFault(fault: string, run: (s: ServerHandle) => Promise<void>, args: string[] = []): Promise<void> {
  const s = await startSabre({ shards: 4, env: { SABRE_TEST_FAULT: fault }, args });
  try {
    await run(s);
  } finally {
    await s.stop();
  }
}

async function waitForLog(s: ServerHandle, re: RegExp, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = re.exec(s.logs());
    if (m !== null) return m[0];
    if (Date.now() > deadline) throw new Error(`log never matched ${re}:\n${s.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sets and reads back one key on every shard, pipelined, and checks every reply. */
async function everyShardServes(port: number): Promise<void> {
  const r = redisClient(port);
  await r.connect();
  try {
    const keys = [0, 1, 2, 3].map((sh) => keyOn(sh, 'serve'));
    const p = r.pipeline();
    for (const k of keys) p.set(k, `v:${k}`);
    for (const k of keys) p.get(k);
    const res = (await p.exec()) ?? [];
    expect(res.map(([e]) => e)).toEqual(keys.flatMap(() => [null, null]));
    expect(res.slice(4).map(([, v]) => v)).toEqual(keys.map((k) => `v:${k}`));
  } finally {
    r.disconnect();
  }
}

/** The Redis-style log line prefix: "<pid>:M dd Mon yyyy hh:mm:ss.mmm # ". */
const WARN = String.raw`\d+:M \d\d \w{3} \d{4} [\d:.]+ # `;

describe('errors inside a shard, outside command handlers', () => {
  it('a failing cron is logged with the shard and what it was doing; the shard keeps serving', async () => {
    await withFault('cron@1', async (s) => {
      const line = await waitForLog(s, new RegExp(`${WARN}Shard 1: error while running the cron \\(the shard keeps serving; the cron runs again next tick\\): Error: injected test fault \\(cron, SABRE_TEST_FAULT\\)`));
      expect(line).toBeTruthy();
      await everyShardServes(s.port);
      // The cron runs again: an expired key on shard 1 goes away without being touched.
      const r = redisClient(s.port);
      await r.connect();
      const k = keyOn(1, 'ttl');
      await r.set(k, 'x', 'PX', 50);
      const deadline = Date.now() + 5000;
      while ((await r.dbsize()) > 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(await r.dbsize()).toBe(4); // the four keys of everyShardServes
      expect(Number(/expired_keys:(\d+)/.exec(await r.info('stats'))?.[1])).toBe(1);
      r.disconnect();
    });
  });

  it('a failing lookahead is logged and the requests run without it, every reply to its client', async () => {
    await withFault('lookahead@2', async (s) => {
      const r = redisClient(s.port);
      await r.connect();
      const keys = Array.from({ length: 200 }, (_, i) => keyOn(2, `la${i}x`));
      const p = r.pipeline();
      keys.forEach((k, i) => p.set(k, String(i)));
      keys.forEach((k) => p.get(k));
      const res = (await p.exec()) ?? [];
      expect(res.slice(200).map(([, v]) => v)).toEqual(keys.map((_, i) => String(i)));
      await waitForLog(s, new RegExp(`${WARN}Shard 2: error while looking ahead at the next requests \\(the requests run without lookahead\\): Error: injected test fault`));
      r.disconnect();
      await everyShardServes(s.port);
    });
  });

  it('a failing rehash is logged and tried again; the keys stay readable', async () => {
    await withFault('rehash@0', async (s) => {
      await waitForLog(s, new RegExp(`${WARN}Shard 0: error while rehashing \\(the shard keeps serving; the rehash is tried again next tick\\)`));
      const r = redisClient(s.port);
      await r.connect();
      // Enough keys on shard 0 to make its index grow (incremental rehash in the cron).
      const p = r.pipeline();
      for (let i = 0; i < 20_000; i++) p.set(`rh:${i}`, String(i));
      await p.exec();
      const values = await r.mget(...Array.from({ length: 20_000 }, (_, i) => `rh:${i}`));
      expect(values).toEqual(Array.from({ length: 20_000 }, (_, i) => String(i)));
      r.disconnect();
    });
  });
});

describe('a shard thread that dies', () => {
  it('takes the server down cleanly: logged, clients closed, exit code 1', async () => {
    const port = await getFreePort();
    const child = spawn(nodeBinary(), [
      '--max-semi-space-size=1', path.join(PROJECT_ROOT, 'src', 'main.ts'),
      '--port', String(port), '--shards', '4', '--bind', '127.0.0.1', '--save', '',
    ], { cwd: PROJECT_ROOT, env: { ...process.env, SABRE_TEST_FAULT: 'exit@3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (c: Buffer) => { log += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { log += c.toString(); });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!log.includes('Ready to accept connections') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const r = redisClient(port);
      await r.connect();
      const closed = new Promise<void>((res) => r.once('end', () => res()));
      // A key on shard 0 answers; the command to shard 3 makes it run a batch, then die.
      expect(await r.set(keyOn(0), 'alive')).toBe('OK');
      await r.set(keyOn(3), 'last').catch(() => undefined);
      expect(await exited).toBe(1);
      await closed;
      expect(log).toMatch(new RegExp(`${WARN}Shard 3 died: uncaught Error: injected test fault \\(exit, SABRE_TEST_FAULT\\)`));
      expect(log).toMatch(new RegExp(`${WARN}Shutting down: shard 3's keys are lost and the commands sent to it would never be answered`));
      expect(log).toMatch(/Sabre is now ready to exit, bye bye\.\.\./);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});

describe('errors on the front thread', () => {
  it('an exception in the reply pump is logged and replies keep flowing', async () => {
    await withFault('pump', async (s) => {
      await everyShardServes(s.port);
      await waitForLog(s, new RegExp(`${WARN}Error while handing shard \\d's replies to clients: Error: injected test fault \\(pump`));
      for (let i = 0; i < 5; i++) await everyShardServes(s.port);
      expect(s.logs()).not.toMatch(/Unhandled promise rejection|Uncaught exception/);
    });
  });

  it('an exception handing one reply over closes that client only', async () => {
    await withFault('deliver', async (s) => {
      const victim = redisClient(s.port);
      const other = redisClient(s.port);
      await Promise.all([victim.connect(), other.connect()]);
      const closed = new Promise<void>((res) => victim.once('end', () => res()));
      expect(await victim.set('fd:k', 'fault:deliver')).toBe('OK');
      const lost = victim.get('fd:k').catch((e: Error) => e);
      await closed;
      expect(await lost).toBeInstanceOf(Error);
      await waitForLog(s, new RegExp(`${WARN}Error while handing a reply from shard \\d to its client: Error: injected test fault \\(deliver`));
      expect(await other.get('fd:k')).toBe('fault:deliver');
      other.disconnect();
      await everyShardServes(s.port);
    });
  });
});
