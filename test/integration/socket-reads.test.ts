import net from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand, startSabre, type ServerHandle } from '../helpers/servers.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { infoFields, redisClient } from '../helpers/suites.ts';

// Every socket of a front thread reads into one buffer that the thread reuses
// (server/socket-reads.ts): the bytes of a read are valid only while they are
// handed over, and the next read, from any client, overwrites them. These tests
// make that reuse happen as often as possible (many clients, commands cut at
// random byte boundaries, values spanning many reads, clients blocked with
// input waiting) and check every reply byte for byte against what each
// client's own commands must give.

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** A raw connection that collects every byte it receives. */
class RawClient {
  readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  received = 0;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.received += c.length;
    });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(b: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.write(b)) resolve();
      else this.socket.once('drain', () => resolve());
    });
  }

  async waitFor(bytes: number, ms = 20_000): Promise<Buffer> {
    const until = Date.now() + ms;
    while (this.received < bytes && Date.now() < until) await sleep(2);
    return Buffer.concat(this.chunks);
  }

  close(): void {
    this.socket.destroy();
  }
}

function bulk(v: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')]);
}

/** Random bytes, CR, LF and '*' included: the parser must not find protocol in them. */
function randomValue(rnd: () => number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    const x = rnd();
    b[i] = x < 0.05 ? 13 : x < 0.1 ? 10 : x < 0.12 ? 42 : Math.floor(rnd() * 256);
  }
  return b;
}

/**
 * One client's script: commands on keys of its own, with the replies they must
 * give (a model of a string keyspace). Some values are big enough to span many
 * reads.
 */
function script(id: number, seed: number, commands: number): { request: Buffer; expected: Buffer } {
  const rnd = mulberry32(seed);
  const model = new Map<string, Buffer>();
  const req: Buffer[] = [];
  const exp: Buffer[] = [];
  for (let i = 0; i < commands; i++) {
    const key = `c${id}:k${Math.floor(rnd() * 8)}`;
    const op = rnd();
    if (op < 0.35) {
      const size = rnd() < 0.05 ? 20_000 + Math.floor(rnd() * 200_000) : Math.floor(rnd() * 300);
      const v = randomValue(rnd, size);
      req.push(encodeCommand(['SET', key, v]));
      exp.push(Buffer.from('+OK\r\n'));
      model.set(key, v);
    } else if (op < 0.65) {
      req.push(encodeCommand(['GET', key]));
      const v = model.get(key);
      exp.push(v === undefined ? Buffer.from('$-1\r\n') : bulk(v));
    } else if (op < 0.8) {
      const v = randomValue(rnd, Math.floor(rnd() * 100));
      req.push(encodeCommand(['APPEND', key, v]));
      const next = Buffer.concat([model.get(key) ?? Buffer.alloc(0), v]);
      model.set(key, next);
      exp.push(Buffer.from(`:${next.length}\r\n`));
    } else if (op < 0.9) {
      const v = randomValue(rnd, Math.floor(rnd() * 200));
      req.push(encodeCommand(['ECHO', v]));
      exp.push(bulk(v));
    } else {
      req.push(encodeCommand(['STRLEN', key]));
      exp.push(Buffer.from(`:${model.get(key)?.length ?? 0}\r\n`));
    }
  }
  return { request: Buffer.concat(req), expected: Buffer.concat(exp) };
}

/** Writes `bytes` in pieces of random size (1 byte to 4 KiB), yielding between pieces so that clients interleave. */
async function writeInPieces(c: RawClient, bytes: Buffer, rnd: () => number): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const n = rnd() < 0.3 ? 1 + Math.floor(rnd() * 16) : 1 + Math.floor(rnd() * 4096);
    await c.write(bytes.subarray(at, at + n));
    at += n;
    if (rnd() < 0.2) await sleep(rnd() < 0.5 ? 0 : 1);
    else await new Promise<void>((res) => setImmediate(res));
  }
}

describe('socket reads into the front thread\'s reused buffer', () => {
  let s: ServerHandle;
  let r: Redis;

  beforeAll(async () => {
    s = await startSabre({ shards: 4 });
    r = redisClient(s.port);
  });

  afterAll(async () => {
    r.disconnect();
    await s.stop();
  });

  it('is the read path on this Node version (INFO sabre socket_reads)', async () => {
    // package.json pins the Node version; a Node whose sockets lack the fields would read per read.
    expect(infoFields(await r.info('sabre')).get('socket_reads')).toBe('shared_buffer');
  });

  it('gives each of 24 clients its own replies, byte for byte, with commands cut at random points', async () => {
    const clients = await Promise.all(Array.from({ length: 24 }, () => RawClient.open(s.port)));
    try {
      const scripts = clients.map((_, i) => script(i, 1000 + i, 250));
      await Promise.all(clients.map((c, i) => writeInPieces(c, scripts[i].request, mulberry32(77 + i))));
      const got = await Promise.all(clients.map((c, i) => c.waitFor(scripts[i].expected.length)));
      for (let i = 0; i < clients.length; i++) {
        expect(got[i].length, `client ${i}: reply bytes`).toBe(scripts[i].expected.length);
        expect(got[i].equals(scripts[i].expected), `client ${i}: replies`).toBe(true);
      }
    } finally {
      for (const c of clients) c.close();
    }
  }, 120_000);

  it('keeps what a blocked client sent while others\' reads reuse the buffer', async () => {
    const blocked = await RawClient.open(s.port);
    const others = await Promise.all(Array.from({ length: 8 }, () => RawClient.open(s.port)));
    try {
      // Its BLPOP blocks; what follows arrives while it is blocked, in several writes, the
      // first of them into an empty input (the parser would take the read's bytes as they are).
      const tail = Buffer.concat([
        encodeCommand(['SET', 'blk:after', 'first']),
        encodeCommand(['APPEND', 'blk:after', '-second']),
        encodeCommand(['GET', 'blk:after']),
      ]);
      await blocked.write(encodeCommand(['BLPOP', 'blk:q', '0']));
      await sleep(30);
      await blocked.write(tail.subarray(0, 10));
      await sleep(10);
      await blocked.write(tail.subarray(10, 40));
      await sleep(10);
      // Meanwhile, the others fill the read buffer with bytes of their own.
      const scripts = others.map((_, i) => script(100 + i, 5000 + i, 120));
      await Promise.all(others.map((c, i) => writeInPieces(c, scripts[i].request, mulberry32(300 + i))));
      await blocked.write(tail.subarray(40));
      const got = await Promise.all(others.map((c, i) => c.waitFor(scripts[i].expected.length)));
      for (let i = 0; i < others.length; i++) expect(got[i].equals(scripts[i].expected), `client ${i}`).toBe(true);
      expect(blocked.received).toBe(0);
      expect(await r.lpush('blk:q', 'v')).toBe(1);
      const expected = '*2\r\n$5\r\nblk:q\r\n$1\r\nv\r\n+OK\r\n:12\r\n$12\r\nfirst-second\r\n';
      expect((await blocked.waitFor(expected.length)).toString('latin1')).toBe(expected);
    } finally {
      blocked.close();
      for (const c of others) c.close();
    }
  }, 60_000);

  it('serves a client whose reads were paused (input past the read-ahead while blocked)', async () => {
    const blocked = await RawClient.open(s.port);
    try {
      await blocked.write(encodeCommand(['BLPOP', 'pause:q', '0']));
      await sleep(30);
      // Far more than the read-ahead a blocked client is allowed: the server stops reading it.
      const sets: Buffer[] = [];
      const rnd = mulberry32(9);
      const values: Buffer[] = [];
      for (let i = 0; i < 64; i++) {
        const v = randomValue(rnd, 8192);
        values.push(v);
        sets.push(encodeCommand(['SET', `pause:${i}`, v]));
      }
      const reads = values.map((_, i) => encodeCommand(['GET', `pause:${i}`]));
      const writing = writeInPieces(blocked, Buffer.concat([...sets, ...reads]), mulberry32(10));
      await sleep(100);
      expect(await r.lpush('pause:q', 'x')).toBe(1);
      await writing;
      const expected = Buffer.concat([
        Buffer.from('*2\r\n$7\r\npause:q\r\n$1\r\nx\r\n'),
        ...values.map(() => Buffer.from('+OK\r\n')),
        ...values.map((v) => bulk(v)),
      ]);
      const got = await blocked.waitFor(expected.length);
      expect(got.equals(expected)).toBe(true);
    } finally {
      blocked.close();
    }
  }, 60_000);
});
