import net from 'node:net';
import { it } from 'vitest';
import { describeDifferential, escapeBytes } from '../helpers/differential.ts';
import { encodeCommand, splitReplies } from '../helpers/servers.ts';
import { shardOfKey } from '../helpers/suites.ts';
import { mulberry32 as prng } from '../helpers/prng.ts';

// One client, one order, whatever is full or held. Each sequence is sent in ONE
// write (thousands of commands), to Sabre started with 4 KiB rings so that they
// fill, and to redis-server; the reply streams must be equal byte for byte.
// Keys are spread over the 4 shards; fan-outs, cross-shard (coordinated)
// commands and client-state commands sit between reads and writes of the same
// keys. In some tests another connection keeps running cross-shard LCS in
// database 15, so that this client's commands also meet holds taken by others,
// and a third keeps the rings nearly full with small records from database 14.

const SHARDS = 4;
const END = '__end_of_pipeline__';
const END_REPLY = Buffer.from(`$${END.length}\r\n${END}\r\n`);

/** `count` key names owned by each shard, named after `prefix`. */
function keysPerShard(prefix: string, count: number): string[][] {
  const out: string[][] = Array.from({ length: SHARDS }, () => []);
  for (let i = 0; out.some((l) => l.length < count); i++) {
    const k = `${prefix}:${i}`;
    const s = shardOfKey(k, SHARDS);
    if (out[s].length < count) out[s].push(k);
  }
  return out;
}

/**
 * Sends every command (and a final ECHO) in one write and returns the bytes of
 * all replies before the ECHO's.
 */
function pipelined(port: number, commands: ReadonlyArray<ReadonlyArray<string>>, timeoutMs = 60_000): Promise<Buffer> {
  const bytes = Buffer.concat([...commands.map((c) => encodeCommand(c)), encodeCommand(['ECHO', END])]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let tail = Buffer.alloc(0);
    const sock = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      sock.destroy();
      const got = Buffer.concat(chunks);
      reject(new Error(`port ${port}: no end of pipeline after ${timeoutMs} ms (${total} bytes, ${splitReplies(got).replies.length} replies, ending "${escapeBytes(got.subarray(-200))}")`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      tail = Buffer.concat([tail, chunk]).subarray(-END_REPLY.length);
      if (tail.equals(END_REPLY)) {
        clearTimeout(timer);
        sock.destroy();
        const all = Buffer.concat(chunks);
        resolve(all.subarray(0, all.length - END_REPLY.length));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** HELLO's reply carries the connection id, which differs between the servers. */
function normalize(b: Buffer): string[] {
  const { replies, rest } = splitReplies(b);
  const out = replies.map((r) => r.toString('latin1').replace(/\$2\r\nid\r\n:\d+\r\n/, '$2\r\nid\r\n:ID\r\n'));
  if (rest.length > 0) out.push(`(incomplete: ${rest.toString('latin1')})`);
  return out;
}

async function expectSamePipelined(sabrePort: number, redisPort: number, commands: string[][]): Promise<void> {
  const [actual, expected] = await Promise.all([pipelined(sabrePort, commands), pipelined(redisPort, commands)]);
  const a = normalize(actual);
  const e = normalize(expected);
  const n = Math.max(a.length, e.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === e[i]) continue;
    const show = (l: string[]): string => l.slice(Math.max(0, i - 3), i + 4)
      .map((r, j) => `      #${Math.max(0, i - 3) + j}: ${escapeBytes(Buffer.from(r, 'latin1'), 120)}`).join('\n');
    throw new Error(`reply #${i} of ${e.length} (redis) / ${a.length} (sabre) differs, after ${commands.length} commands sent in one write\n` +
      `  redis:\n${show(e)}\n  sabre:\n${show(a)}`);
  }
}

/**
 * Another connection that keeps running cross-shard LCS in database 15 (each
 * one holds two shards for a while), until stopped.
 */
function holder(port: number): { stop: () => Promise<number> } {
  const a = keysPerShard('holder', 1);
  const x = a[0][0];
  const y = a[1][0];
  const value = (seed: number): string => {
    const r = prng(seed);
    let s = '';
    for (let i = 0; i < 1500; i++) s += 'abcd'[Math.floor(r() * 4)];
    return s;
  };
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.on('error', () => { /* stopped */ });
  let stopped = false;
  let runs = 0;
  let buf: Buffer = Buffer.alloc(0);
  let want = 0;
  let onDone: (() => void) | null = null;
  const finished = new Promise<void>((resolve) => { onDone = resolve; });
  const send = (cmds: string[][]): void => {
    want += cmds.length;
    sock.write(Buffer.concat(cmds.map((c) => encodeCommand(c))));
  };
  sock.on('connect', () => send([['SELECT', '15'], ['SET', x, value(1)], ['SET', y, value(2)], ['LCS', x, y, 'LEN']]));
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const { replies, rest } = splitReplies(buf);
    buf = rest;
    want -= replies.length;
    if (want > 0) return;
    runs++;
    if (stopped) {
      sock.destroy();
      onDone?.();
      return;
    }
    send([runs % 5 === 0 ? ['COPY', x, y, 'REPLACE'] : ['LCS', x, y, 'LEN']]);
  });
  return {
    stop: async () => {
      stopped = true;
      await finished;
      return runs;
    },
  };
}

/**
 * Another connection that keeps every request ring nearly full with small
 * records (GETs in database 14), so that the coordinated commands' phases and
 * the fan-outs of the client under test often find no room.
 */
function filler(port: number): { stop: () => Promise<number> } {
  const keys = keysPerShard('f', 1).flat();
  const batch: Buffer = Buffer.concat(Array.from({ length: 2000 }, (_, i) => encodeCommand(['GET', keys[i % keys.length]])));
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.on('error', () => { /* stopped */ });
  let stopped = false;
  let batches = 0;
  let pending = 0;
  let buf: Buffer = Buffer.alloc(0);
  let onDone: (() => void) | null = null;
  const finished = new Promise<void>((resolve) => { onDone = resolve; });
  sock.on('connect', () => {
    pending = 1 + 2000;
    sock.write(Buffer.concat([encodeCommand(['SELECT', '14']), batch]));
  });
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const { replies, rest } = splitReplies(buf);
    buf = rest;
    pending -= replies.length;
    if (pending > 0) return;
    batches++;
    if (stopped) {
      sock.destroy();
      onDone?.();
      return;
    }
    pending = 2000;
    sock.write(batch);
  });
  return {
    stop: async () => {
      stopped = true;
      await finished;
      return batches;
    },
  };
}

describeDifferential('one client, one order (pipelines over full rings and holds)', (ctx) => {
  it('fan-outs (FLUSHALL, FLUSHDB, SWAPDB, DBSIZE, KEYS, CONFIG SET) between writes and reads of keys on every shard', async () => {
    const rnd = prng(6);
    const keys = keysPerShard('fan', 6).flat();
    // Long names make KEYS's fan-out record bigger than the SETs that filled the rings.
    const longKey = `long-${'x'.repeat(300)}`;
    const commands: string[][] = [];
    const pick = (): string => keys[Math.floor(rnd() * keys.length)];
    let hz = 10;
    for (let round = 0; round < 160; round++) {
      const writes = 5 + Math.floor(rnd() * 40);
      for (let j = 0; j < writes; j++) {
        const r = rnd();
        if (r < 0.6) commands.push(['SET', pick(), 'v'.repeat(1 + Math.floor(rnd() * 12))]);
        else if (r < 0.8) commands.push(['GET', pick()]);
        else if (r < 0.9) commands.push(['INCR', `n-${pick()}`]);
        else commands.push(['SET', longKey, String(round)]);
      }
      const r = rnd();
      if (r < 0.2) commands.push(['FLUSHALL']);
      else if (r < 0.35) commands.push(['FLUSHDB']);
      else if (r < 0.5) commands.push(['SWAPDB', '0', '1']);
      else if (r < 0.6) commands.push(['SELECT', String(Math.floor(rnd() * 2))]);
      else if (r < 0.75) commands.push(['KEYS', longKey]);
      else if (r < 0.85) commands.push(['DBSIZE']);
      else {
        hz = hz === 10 ? 11 : 10;
        commands.push(['CONFIG', 'SET', 'hz', String(hz)]);
      }
      // The next commands must see the fan-out's effect.
      const k = pick();
      commands.push(['SET', k, `after-${round}`], ['GET', k], ['GET', pick()], ['EXISTS', ...keys.slice(0, 8)], ['DBSIZE'],
        ['KEYS', longKey], ['MGET', ...keys.slice(round % 6, (round % 6) + 6)]);
    }
    commands.push(['CONFIG', 'SET', 'hz', '10'], ['SELECT', '0']);
    await expectSamePipelined(ctx.sabrePort, ctx.redisPort, commands);
  });

  it('cross-shard RENAME, COPY, MSETNX, LCS, BITOP followed by reads and writes of the same and other keys', async () => {
    const bg = holder(ctx.sabrePort);
    const bgRedis = holder(ctx.redisPort);
    const fill = filler(ctx.sabrePort);
    const fillRedis = filler(ctx.redisPort);
    try {
      const rnd = prng(7);
      const perShard = keysPerShard('def', 4);
      const keys = perShard.flat();
      const pick = (): string => keys[Math.floor(rnd() * keys.length)];
      /** Two keys on different shards. */
      const pair = (): [string, string] => {
        const s = Math.floor(rnd() * SHARDS);
        const t = (s + 1 + Math.floor(rnd() * (SHARDS - 1))) % SHARDS;
        return [perShard[s][Math.floor(rnd() * 4)], perShard[t][Math.floor(rnd() * 4)]];
      };
      const commands: string[][] = [];
      for (let i = 0; i < 5000; i++) {
        const r = rnd();
        // Values of up to 600 bytes: a few of them fill a 4 KiB ring. Long runs of
        // plain commands between the coordinated ones fill the rings behind each hold.
        if (r < 0.45) commands.push(['SET', pick(), `v${i}-${'p'.repeat(Math.floor(rnd() * 600))}`]);
        else if (r < 0.77) commands.push(['GET', pick()]);
        else if (r < 0.8) commands.push(['APPEND', pick(), 'ab']);
        else if (r < 0.83) commands.push(['DEL', pick(), pick()]);
        else if (r < 0.86) commands.push(['MSET', pick(), `m${i}`, pick(), `m${i}`]);
        else if (r < 0.88) commands.push(['MGET', pick(), pick(), pick()]);
        else if (r < 0.9) commands.push(['EXISTS', pick(), pick()]);
        else if (r < 0.92) commands.push(['RENAME', ...pair()]);
        else if (r < 0.93) commands.push(['RENAMENX', ...pair()]);
        else if (r < 0.95) commands.push(['COPY', ...pair(), ...(rnd() < 0.5 ? ['REPLACE'] : [])]);
        else if (r < 0.97) {
          const [a, b] = pair();
          commands.push(['MSETNX', a, `x${i}`, b, `y${i}`]);
        } else if (r < 0.99) commands.push(['LCS', ...pair()]);
        else commands.push(['BITOP', 'OR', ...pair(), pick()]);
        // Reads of what a coordinated command just wrote.
        if (r >= 0.9) {
          const last = commands[commands.length - 1];
          commands.push(['MGET', ...last.slice(1, 3)]);
        }
      }
      await expectSamePipelined(ctx.sabrePort, ctx.redisPort, commands);
    } finally {
      await Promise.all([bg.stop(), bgRedis.stop(), fill.stop(), fillRedis.stop()]);
    }
  });

  it('client-state commands take effect in command order: CLIENT REPLY OFF/ON/SKIP, SELECT, RESET, HELLO 3, CLIENT SETNAME', async () => {
    const bg = holder(ctx.sabrePort);
    const bgRedis = holder(ctx.redisPort);
    const fill = filler(ctx.sabrePort);
    const fillRedis = filler(ctx.redisPort);
    try {
      const rnd = prng(8);
      const perShard = keysPerShard('st', 3);
      const keys = perShard.flat();
      const pick = (): string => keys[Math.floor(rnd() * keys.length)];
      const cross = (): [string, string] => [perShard[0][Math.floor(rnd() * 3)], perShard[1 + Math.floor(rnd() * 3)][0]];
      const commands: string[][] = [];
      let replyOff = false;
      for (let i = 0; i < 4000; i++) {
        const r = rnd();
        if (r < 0.03) {
          commands.push(['CLIENT', 'REPLY', 'OFF']);
          replyOff = true;
        } else if (r < 0.07) {
          commands.push(['CLIENT', 'REPLY', 'ON']);
          replyOff = false;
        } else if (r < 0.1) commands.push(['CLIENT', 'REPLY', 'SKIP']);
        else if (r < 0.14) commands.push(['SELECT', String(Math.floor(rnd() * 3))]);
        else if (r < 0.16) {
          commands.push(['RESET']);
          replyOff = false;
        } else if (r < 0.18) commands.push(['HELLO', '3']);
        else if (r < 0.2) commands.push(['HELLO', '2']);
        else if (r < 0.22) commands.push(['CLIENT', 'SETNAME', `n${i}`]);
        else if (r < 0.24) commands.push(['CLIENT', 'GETNAME']);
        else if (r < 0.32) commands.push(['RENAME', ...cross()]);
        else if (r < 0.36) commands.push(['COPY', ...cross(), 'REPLACE']);
        else if (r < 0.4) commands.push(['LCS', ...cross()]);
        else if (r < 0.42) commands.push(['DBSIZE']);
        else if (r < 0.44) commands.push(['GET', 'missing-key']); // nil differs between RESP2 and RESP3
        else if (r < 0.46) commands.push(['MGET', pick(), 'missing-key', pick()]);
        else if (r < 0.7) commands.push(['SET', pick(), `v${i}`]);
        else commands.push(['GET', pick()]);
      }
      if (replyOff) commands.push(['CLIENT', 'REPLY', 'ON']);
      commands.push(['CLIENT', 'REPLY', 'ON'], ['HELLO', '2'], ['SELECT', '0']);
      await expectSamePipelined(ctx.sabrePort, ctx.redisPort, commands);
    } finally {
      await Promise.all([bg.stop(), bgRedis.stop(), fill.stop(), fillRedis.stop()]);
    }
  });

  it('AUTH, RESET and HELLO AUTH with requirepass take effect in command order', async () => {
    await ctx.run('sabre', [['CONFIG', 'SET', 'requirepass', 'pw']]);
    await ctx.run('redis', [['CONFIG', 'SET', 'requirepass', 'pw']]);
    try {
      const rnd = prng(9);
      const perShard = keysPerShard('au', 2);
      const keys = perShard.flat();
      const pick = (): string => keys[Math.floor(rnd() * keys.length)];
      const commands: string[][] = [['AUTH', 'pw']];
      for (let i = 0; i < 3000; i++) {
        const r = rnd();
        if (r < 0.04) commands.push(['RESET']);
        else if (r < 0.08) commands.push(['AUTH', 'pw']);
        else if (r < 0.1) commands.push(['AUTH', 'wrong']);
        else if (r < 0.12) commands.push(['AUTH', 'default', 'pw']);
        else if (r < 0.14) commands.push(['HELLO', '3', 'AUTH', 'default', 'pw']);
        else if (r < 0.15) commands.push(['HELLO', '2', 'AUTH', 'default', 'nope']);
        else if (r < 0.17) commands.push(['SELECT', '1']);
        else if (r < 0.25) commands.push(['RENAME', perShard[0][0], perShard[2][0]], ['RENAME', perShard[2][0], perShard[0][0]]);
        else if (r < 0.3) commands.push(['LCS', perShard[1][0], perShard[3][1]]);
        else if (r < 0.33) commands.push(['CLIENT', 'REPLY', 'SKIP']);
        else if (r < 0.6) commands.push(['SET', pick(), `v${i}`]);
        else commands.push(['GET', pick()]);
      }
      commands.push(['AUTH', 'pw'], ['HELLO', '2']);
      await expectSamePipelined(ctx.sabrePort, ctx.redisPort, commands);
    } finally {
      await ctx.run('sabre', [['AUTH', 'pw'], ['CONFIG', 'SET', 'requirepass', '']]);
      await ctx.run('redis', [['AUTH', 'pw'], ['CONFIG', 'SET', 'requirepass', '']]);
    }
  });
}, { shards: SHARDS, sabreArgs: ['--shard-ring-kb', '4'] });
