import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisClient } from '../helpers/suites.ts';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';
import type { Redis } from 'ioredis';

// A value of proto-max-bulk-len's default size (512 MB) is stored and read
// back byte for byte, and each way costs about one copy of it on top of the
// stored one (the parser's buffer crosses to the shard, the reply crosses back
// to the socket, neither copied; issue 6: at most 2x Redis's peak RSS).

const MB = 1024 * 1024;
const SIZE = 512 * MB;
const PROC = existsSync('/proc/self/status');

function rss(pid: number, field = 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

/** Peak RSS of `pid` while `work` runs: VmHWM after resetting it (root), else sampled VmRSS. */
async function peakDuring(pid: number, work: () => Promise<void>): Promise<number> {
  let reset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    reset = false;
  }
  let peak = rss(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rss(pid))), 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, rss(pid));
  return reset ? Math.max(peak, rss(pid, 'VmHWM')) : peak;
}

/** 512 MB that differ everywhere: a xorshift stream, 4 bytes at a time. */
function makeValue(): Buffer {
  const v = Buffer.allocUnsafe(SIZE);
  const words = new Uint32Array(v.buffer, v.byteOffset, SIZE / 4);
  let x = 0x2545f491;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return v;
}

describe('a 512 MB value', () => {
  let srv: ServerHandle;
  let ctl: Redis;

  beforeAll(async () => {
    srv = await startSabre({ shards: 4 });
    ctl = redisClient(srv.port);
    await ctl.connect();
  }, 60_000);

  afterAll(async () => {
    ctl?.disconnect();
    await srv?.stop();
  });

  it('round-trips byte for byte, each way at about one copy of the value', async () => {
    const value = makeValue();
    const digest = createHash('sha256').update(value).digest('hex');
    await ctl.ping(); // every thread warmed up
    const base = rss(srv.pid);

    // SET, written in 1 MB slices as a client streams it.
    const setPeak = await peakDuring(srv.pid, async () => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' });
      await once(s, 'connect');
      s.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${SIZE}\r\n`);
      for (let p = 0; p < SIZE; p += MB) if (!s.write(value.subarray(p, p + MB))) await once(s, 'drain');
      s.write('\r\n');
      const [reply] = (await once(s, 'data')) as [Buffer];
      s.destroy();
      expect(reply.toString()).toBe('+OK\r\n');
    });
    expect(await ctl.strlen('big')).toBe(SIZE);

    // GET, hashed as it streams in.
    let got = 0;
    let gotDigest = '';
    const getPeak = await peakDuring(srv.pid, async () => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' });
      await once(s, 'connect');
      const hash = createHash('sha256');
      const header = `$${SIZE}\r\n`;
      let head = '';
      const done = new Promise<void>((resolve, reject) => {
        s.on('data', (c: Buffer) => {
          let body = c;
          if (head.length < header.length) {
            const take = Math.min(header.length - head.length, c.length);
            head += c.toString('latin1', 0, take);
            body = c.subarray(take);
            if (!header.startsWith(head)) reject(new Error(`header ${JSON.stringify(head)}`));
          }
          const data = body.subarray(0, Math.max(0, Math.min(body.length, SIZE - got)));
          hash.update(data);
          got += body.length;
          if (got >= SIZE + 2) resolve();
        });
        s.on('close', () => reject(new Error(`closed after ${got} bytes`)));
      });
      s.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n');
      await done;
      s.destroy();
      gotDigest = hash.digest('hex');
    });
    expect(got).toBe(SIZE + 2);
    expect(gotDigest).toBe(digest);
    // A slice in the middle, through a command that copies a range.
    expect(Buffer.from(await ctl.getrangeBuffer('big', 300 * MB, 300 * MB + 99)).equals(value.subarray(300 * MB, 300 * MB + 100))).toBe(true);
    expect(await ctl.del('big')).toBe(1);

    if (PROC) {
      // Before issue 6 a SET cost three copies of the value and a GET four (2.1 GB over the base for 512 MB).
      const mb = (n: number): string => `${(n / MB).toFixed(0)} MB`;
      expect(setPeak - base, `SET: ${mb(base)} -> ${mb(setPeak)}`).toBeLessThan(2.5 * SIZE);
      expect(getPeak - base, `GET: ${mb(base)} -> ${mb(getPeak)}`).toBeLessThan(2.5 * SIZE);
    }
  }, 180_000);
});
