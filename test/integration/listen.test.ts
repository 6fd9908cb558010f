import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, startRedis, startSabre, type ServerHandle } from '../helpers/servers.ts';
import { redisClient, redisForComparison } from '../helpers/suites.ts';

// bind and protected-mode, for real: servers listen on every address of
// `bind`, and clients connect from a non-loopback address of this machine.
// Redis 7.0.15 is run side by side with the same settings and must answer
// with the same bytes and log the same lines.

/** The machine's first non-loopback IPv4 and IPv6 addresses (from os.networkInterfaces()). */
function externalAddress(family: 'IPv4' | 'IPv6'): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === family && !a.address.startsWith('fe80:')) return a.address;
    }
  }
  return null;
}

const EXTERNAL_V4 = externalAddress('IPv4');
const EXTERNAL_V6 = externalAddress('IPv6');
/** Containers often run without IPv6: the IPv6 cases then use a second IPv4 loopback address. */
const HAS_V6_LOOPBACK = Object.values(os.networkInterfaces()).some((l) => (l ?? []).some((a) => a.address === '::1'));
const SECOND_LOOPBACK = HAS_V6_LOOPBACK ? '::1' : '127.0.0.2';
if (!HAS_V6_LOOPBACK) console.warn('listen.test: no ::1 on this machine; the IPv6 listening cases use 127.0.0.2 instead');

/**
 * Where non-loopback clients come from. Redis's test is the peer's text
 * (exactly "127.0.0.1" or "::1"), so 127.0.0.2 (loopback, but not that
 * address) is refused as well: it works on any Linux machine, and the
 * machine's own external addresses, when it has any, are the real case.
 */
const FOREIGN_SOURCES: ReadonlyArray<{ host: string; localAddress?: string }> = [
  ...(EXTERNAL_V4 !== null ? [{ host: EXTERNAL_V4 }] : []),
  ...(EXTERNAL_V6 !== null ? [{ host: EXTERNAL_V6 }] : []),
  { host: '127.0.0.1', localAddress: '127.0.0.2' },
];
if (EXTERNAL_V4 === null) {
  console.warn('listen.test: this machine has no non-loopback IPv4 address; protected mode is checked from 127.0.0.2 only');
}

/** Connects, optionally sends `send`, and returns every byte received until the server closes (or 2 s). */
function exchange(port: number, from: { host: string; localAddress?: string }, send?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ port, host: from.host, ...(from.localAddress === undefined ? {} : { localAddress: from.localAddress }) });
    const timer = setTimeout(() => sock.destroy(), 2000);
    sock.on('connect', () => {
      if (send !== undefined) sock.write(send);
    });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      // A reply to what we sent: we are done (the server did not close on us).
      if (send !== undefined && Buffer.concat(chunks).toString('latin1').endsWith('\r\n') && !chunks[0]?.toString('latin1').startsWith('-DENIED')) {
        sock.destroy();
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve(Buffer.concat(chunks));
      else reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Whether a TCP connection to host:port is accepted. */
function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** The log lines at warning level ('#'), without "pid:role date time # ". */
function warnings(log: string): string[] {
  return log
    .split('\n')
    .map((l) => /^\d+:[MC] \d\d \w{3} \d{4} [\d:.]+ # (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

/** Starts a server that must fail; returns everything it printed. */
async function startFailing(start: () => Promise<ServerHandle> | null): Promise<string> {
  try {
    const h = await start();
    await h?.stop();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the server started although it should have refused');
}

const haveRedis = redisForComparison('listen.test');

const DENIED_PREFIX = '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set';

describe.skipIf(!haveRedis)('protected mode (bound to every address, no password)', () => {
  let sabre: ServerHandle;
  let redis: ServerHandle;

  beforeAll(async () => {
    const args = ['--bind', '*', '-::*', '--protected-mode', 'yes'];
    [sabre, redis] = await Promise.all([startSabre({ shards: 4, args }), startRedis({ args }) as Promise<ServerHandle>]);
  });
  afterAll(async () => {
    await Promise.all([sabre?.stop(), redis?.stop()]);
  });

  it('answers a non-loopback client with exactly Redis 7.0.15 DENIED text and closes it', async () => {
    for (const from of FOREIGN_SOURCES) {
      const [s, r] = await Promise.all([exchange(sabre.port, from, 'PING\r\n'), exchange(redis.port, from, 'PING\r\n')]);
      expect(r.toString('latin1').startsWith(DENIED_PREFIX), `redis from ${JSON.stringify(from)}`).toBe(true);
      expect(s.toString('latin1'), `from ${JSON.stringify(from)}`).toBe(r.toString('latin1'));
      // Also without sending anything: the text comes at once.
      expect((await exchange(sabre.port, from)).toString('latin1')).toBe(r.toString('latin1'));
    }
  });

  it('serves loopback clients (127.0.0.1 and ::1)', async () => {
    expect((await exchange(sabre.port, { host: '127.0.0.1' }, 'PING\r\n')).toString()).toBe('+PONG\r\n');
    if (HAS_V6_LOOPBACK) expect((await exchange(sabre.port, { host: '::1' }, 'PING\r\n')).toString()).toBe('+PONG\r\n');
  });

  it('counts the refusals in rejected_connections', async () => {
    const r = redisClient(sabre.port);
    await r.connect();
    const rejected = async (): Promise<number> => Number(/rejected_connections:(\d+)/.exec(await r.info('stats'))?.[1]);
    const before = await rejected();
    await exchange(sabre.port, FOREIGN_SOURCES[0] ?? { host: '127.0.0.1', localAddress: '127.0.0.2' }, 'PING\r\n');
    expect(await rejected()).toBe(before + 1);
    r.disconnect();
  });

  it('is lifted by a password (the client must then AUTH) and by protected-mode no, as in Redis', async () => {
    const from = FOREIGN_SOURCES[0] ?? { host: '127.0.0.1', localAddress: '127.0.0.2' };
    for (const h of [sabre, redis]) {
      const r = redisClient(h.port);
      await r.connect();
      try {
        expect(await r.call('CONFIG', 'SET', 'requirepass', 'pw')).toBe('OK');
        expect((await exchange(h.port, from, 'PING\r\n')).toString()).toBe('-NOAUTH Authentication required.\r\n');
        expect((await exchange(h.port, from, 'AUTH pw\r\n')).toString()).toBe('+OK\r\n');
        await r.call('AUTH', 'pw');
        expect(await r.call('CONFIG', 'SET', 'requirepass', '')).toBe('OK');
        expect((await exchange(h.port, from, 'PING\r\n')).toString('latin1').startsWith(DENIED_PREFIX)).toBe(true);
        expect(await r.call('CONFIG', 'SET', 'protected-mode', 'no')).toBe('OK');
        expect((await exchange(h.port, from, 'PING\r\n')).toString()).toBe('+PONG\r\n');
        expect(await r.call('CONFIG', 'SET', 'protected-mode', 'yes')).toBe('OK');
        expect((await exchange(h.port, from, 'PING\r\n')).toString('latin1').startsWith(DENIED_PREFIX)).toBe(true);
      } finally {
        r.disconnect();
      }
    }
  });
});

describe('protected-mode no from the start', () => {
  it('serves non-loopback clients', async () => {
    const sabre = await startSabre({ shards: 4, args: ['--bind', '*', '--protected-mode', 'no'] });
    try {
      for (const from of FOREIGN_SOURCES.filter((f) => !f.host.includes(':'))) {
        expect((await exchange(sabre.port, from, 'PING\r\n')).toString()).toBe('+PONG\r\n');
      }
    } finally {
      await sabre.stop();
    }
  });
});

describe.skipIf(!haveRedis)('bind', () => {
  it('listens on each address given, and CONFIG GET bind shows them as configured', async () => {
    const sabre = await startSabre({ shards: 4, args: ['--bind', '127.0.0.1', SECOND_LOOPBACK] });
    try {
      expect(await canConnect('127.0.0.1', sabre.port)).toBe(true);
      expect(await canConnect(SECOND_LOOPBACK, sabre.port)).toBe(true);
      if (EXTERNAL_V4 !== null) expect(await canConnect(EXTERNAL_V4, sabre.port)).toBe(false);
      const r = redisClient(sabre.port);
      await r.connect();
      expect(await r.call('CONFIG', 'GET', 'bind')).toEqual(['bind', `127.0.0.1 ${SECOND_LOOPBACK}`]);
      // A different address list at runtime is refused (it would need a re-bind); the same one is fine.
      await expect(r.call('CONFIG', 'SET', 'bind', '0.0.0.0')).rejects.toThrow(
        "ERR CONFIG SET failed (possibly related to argument 'bind') - Sabre can't change its listening sockets at runtime yet",
      );
      await expect(r.call('CONFIG', 'SET', 'port', String(sabre.port + 1))).rejects.toThrow(
        "ERR CONFIG SET failed (possibly related to argument 'port') - Sabre can't change its listening sockets at runtime yet",
      );
      expect(await r.call('CONFIG', 'SET', 'bind', `127.0.0.1 ${SECOND_LOOPBACK}`)).toBe('OK');
      expect(await r.call('CONFIG', 'GET', 'bind')).toEqual(['bind', `127.0.0.1 ${SECOND_LOOPBACK}`]);
      r.disconnect();
    } finally {
      await sabre.stop();
    }
  });

  it('"*" is every IPv4 address and "::*" every IPv6 one (an IPv6 socket takes no IPv4)', async () => {
    const v4 = await startSabre({ shards: 4, args: ['--bind', '*', '--protected-mode', 'no'] });
    try {
      expect(await canConnect('127.0.0.1', v4.port)).toBe(true);
      if (EXTERNAL_V4 !== null) expect(await canConnect(EXTERNAL_V4, v4.port)).toBe(true);
      if (HAS_V6_LOOPBACK) expect(await canConnect('::1', v4.port)).toBe(false);
    } finally {
      await v4.stop();
    }
    if (!HAS_V6_LOOPBACK) return;
    const v6 = await startSabre({ shards: 4, args: ['--bind', '::*', '--protected-mode', 'no'] });
    try {
      expect(await canConnect('::1', v6.port)).toBe(true);
      expect(await canConnect('127.0.0.1', v6.port)).toBe(false);
    } finally {
      await v6.stop();
    }
  });

  it('skips an optional ("-") address that is not on this machine, logging it as Redis does', async () => {
    const args = ['--bind', '-192.0.2.254', '127.0.0.1'];
    const [sabre, redis] = await Promise.all([startSabre({ shards: 4, args }), startRedis({ args }) as Promise<ServerHandle>]);
    try {
      expect(await canConnect('127.0.0.1', sabre.port)).toBe(true);
      const line = (port: number): string =>
        `Warning: Could not create server TCP listening socket 192.0.2.254:${port}: bind: Cannot assign requested address`;
      expect(warnings(redis.logs())).toContain(line(redis.port));
      expect(warnings(sabre.logs())).toContain(line(sabre.port));
    } finally {
      await Promise.all([sabre.stop(), redis.stop()]);
    }
  });

  it('aborts start-up, with the lines Redis logs, when a required address cannot be bound', async () => {
    const cases: Array<{ args: string[]; why: (port: number) => string }> = [
      {
        args: ['--bind', '192.0.2.254', '127.0.0.1'],
        why: (port) => `Warning: Could not create server TCP listening socket 192.0.2.254:${port}: bind: Cannot assign requested address`,
      },
      {
        args: ['--bind', '127.0.0.1', '127.0.0.1'],
        why: (port) => `Warning: Could not create server TCP listening socket 127.0.0.1:${port}: bind: Address already in use`,
      },
      {
        args: ['--bind', 'no-such-host.invalid'],
        why: (port) => `Warning: Could not create server TCP listening socket no-such-host.invalid:${port}: Name or service not known`,
      },
      {
        args: ['--bind', '-no-such-host.invalid', '127.0.0.1'],
        why: (port) => `Warning: Could not create server TCP listening socket no-such-host.invalid:${port}: Name or service not known`,
      },
    ];
    for (const c of cases) {
      const port = await getFreePort();
      const sabreOut = await startFailing(() => startSabre({ shards: 4, port, args: c.args }));
      const redisOut = await startFailing(() => startRedis({ port, args: c.args }));
      for (const out of [sabreOut, redisOut]) {
        const lines = warnings(out.split('\n').map((l) => l.replace(/^\s*\| /, '')).join('\n'));
        expect(lines, `${c.args.join(' ')}\n${out}`).toContain(c.why(port));
        expect(lines).toContain(`Failed listening on port ${port} (TCP), aborting.`);
      }
      expect(sabreOut).toContain('exit code 1');
    }
  });

  it('exits when there is nothing to listen on (bind "" or port 0), as Redis does', async () => {
    for (const args of [['--bind', ''], ['--port', '0']]) {
      const sabreOut = await startFailing(() => startSabre({ shards: 4, args }));
      const redisOut = await startFailing(() => startRedis({ args }));
      for (const out of [sabreOut, redisOut]) expect(out, args.join(' ')).toContain('# Configured to not listen anywhere, exiting.');
    }
  });
});
