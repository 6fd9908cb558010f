import net from 'node:net';
import { expect, it } from 'vitest';
import { describeDifferential, encodeCommand } from '../helpers/differential.ts';

// Gaps found by running Redis's own TCL suite (7.0.15, external mode) against
// Sabre; each case checks Sabre and redis-server the same way.

/**
 * Writes `first`, then keeps writing `filler` until the server resets the
 * connection or `ms` pass. Resolves with what the server sent and whether it
 * reset the connection (unit/protocol "Protocol desync regression").
 */
function writeUntilClosed(port: number, first: Buffer, filler: Buffer, ms: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    // allowHalfOpen: the server's FIN alone must not end our side; only a reset
    // (the server really closed the socket) stops the writes.
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(pump);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), ms);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('end', () => { /* half-closed by the server: keep writing */ });
    sock.write(first);
    const pump = setInterval(() => {
      if (!sock.destroyed && sock.writableLength < 1 << 20) sock.write(filler);
    }, 1);
  });
}

/**
 * Several connections each send `perConn` pipelined SETs of `size`-byte values
 * in small writes without reading, then read everything back.
 */
async function pipelinedSets(port: number, conns: number, perConn: number, size: number): Promise<number[]> {
  const value = 'v'.repeat(size);
  const one = async (k: number): Promise<number> => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    const expected = 5 * perConn;
    let got = 0;
    const all = new Promise<number>((resolve) => {
      sock.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= expected) resolve(got);
      });
      sock.on('close', () => resolve(got));
      sock.on('error', () => resolve(got));
    });
    for (let i = 0; i < perConn; i++) sock.write(encodeCommand(['SET', `pipe:${k}:${i}`, value]));
    const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(got), 20_000));
    const n = await Promise.race([all, timeout]);
    sock.destroy();
    return n;
  };
  const ids: number[] = [];
  for (let k = 0; k < conns; k++) ids.push(k);
  return Promise.all(ids.map(one));
}

/** The qbuf= field of a CLIENT INFO reply sent as `raw` (one write). */
function qbufOf(reply: Buffer): string {
  const m = /qbuf=(\d+) /.exec(reply.toString('latin1'));
  return m === null ? '(none)' : (m[1] as string);
}

describeDifferential('gaps found by the Redis TCL suite', (ctx) => {
  for (const [label, seq] of [['inline', '\x00'], ['multibulk count', '*\x00'], ['bulk-looking inline', '$\x00']] as const) {
    it(`protocol desync (${label}): error reply, then the connection is closed`, async () => {
      const filler = Buffer.from('payload'.repeat(1024)); // no newline, like the suite
      const first = Buffer.from(seq, 'latin1');
      const [s, r] = await Promise.all([
        writeUntilClosed(ctx.sabrePort, first, filler, 5000),
        writeUntilClosed(ctx.redisPort, first, filler, 5000),
      ]);
      expect(r.closed, 'redis closes').toBe(true);
      expect(s.closed, 'sabre closes').toBe(true);
      expect(s.text).toBe(r.text);
      expect(s.text).toMatch(/^-ERR Protocol error: too big (inline request|mbulk count string)\r\n$/);
    });
  }

  it('pipelined writes that fill the shard rings do not stall the connection', async () => {
    const conns = 4;
    const perConn = 8000;
    const [s, r] = await Promise.all([
      pipelinedSets(ctx.sabrePort, conns, perConn, 2000),
      pipelinedSets(ctx.redisPort, conns, perConn, 2000),
    ]);
    expect(r).toEqual(new Array(conns).fill(5 * perConn));
    expect(s).toEqual(r);
    await ctx.expectSame([['DBSIZE'], ['STRLEN', `pipe:0:${perConn - 1}`], ['STRLEN', `pipe:${conns - 1}:0`]]);
  }, 60_000);

  it('DEBUG SET-ACTIVE-EXPIRE 0 leaves expired keys to lazy expiry (DBSIZE still counts them)', async () => {
    const setup = [
      ['DEBUG', 'SET-ACTIVE-EXPIRE', '0'],
      ['PSETEX', 'a', '100', 'x'], ['PSETEX', 'b', '100', 'x'], ['PSETEX', 'c', '100', 'x'], ['PSETEX', 'd', '100', 'x'],
      ['PSETEX', '{t}a', '100', 'x'], ['PSETEX', '{t}b', '100', 'x'], ['SET', 'kept', 'x'],
    ];
    try {
      await Promise.all([ctx.run('sabre', setup), ctx.run('redis', setup)]);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await ctx.expectSame([
        ['DBSIZE'], ['EXISTS', 'a'], ['DBSIZE'], ['GET', '{t}a'], ['DBSIZE'], ['EXPIRE', 'b', '10'], ['DBSIZE'],
        ['DEBUG', 'SET-ACTIVE-EXPIRE', 'nonsense'], ['DEBUG', 'SET-ACTIVE-EXPIRE', ' 1'], ['DEBUG', 'SET-ACTIVE-EXPIRE'],
        ['DEBUG', 'SET-ACTIVE-EXPIRE', '1', '2'],
      ]);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await ctx.expectSame([['DBSIZE']]);
    } finally {
      await Promise.all([
        ctx.run('sabre', [['DEBUG', 'SET-ACTIVE-EXPIRE', '1']]),
        ctx.run('redis', [['DEBUG', 'SET-ACTIVE-EXPIRE', '1']]),
      ]);
    }
  });

  it('CLIENT INFO qbuf counts the running command and the rest of its read', async () => {
    const steps = [
      encodeCommand(['CLIENT', 'INFO']),
      Buffer.concat([encodeCommand(['CLIENT', 'INFO']), encodeCommand(['PING'])]),
      Buffer.from('CLIENT INFO\r\n'),
    ];
    for (const raw of steps) {
      const [s, r] = await Promise.all([ctx.run('sabre', [raw]), ctx.run('redis', [raw])]);
      expect(qbufOf(s[0] as Buffer)).toBe(qbufOf(r[0] as Buffer));
    }
  });
});
