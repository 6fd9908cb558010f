import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { frontBufferReads, readSocket } from '../../src/server/socket-reads.ts';

// The read path of server/socket-reads.ts on its own: a connected socket reads into
// the one front buffer (the same Buffer for every read and every socket), and a
// socket without a handle to set up falls back to its 'data' events, passed on the
// same way (buffer, count).

function pair(): Promise<{ server: net.Server; accepted: Promise<net.Socket>; client: net.Socket }> {
  return new Promise((resolve) => {
    let take: (s: net.Socket) => void = () => {};
    const accepted = new Promise<net.Socket>((res) => { take = res; });
    const server = net.createServer((s) => take(s));
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      const client = net.connect(port, '127.0.0.1', () => resolve({ server, accepted, client }));
    });
  });
}

describe('socket reads', () => {
  it('read accepted sockets into one buffer shared by every socket of the thread', async () => {
    expect(frontBufferReads).toBe(true);
    const a = await pair();
    const b = await pair();
    try {
      const seen: { buf: Buffer; text: string }[] = [];
      const done = new Promise<void>((resolve) => {
        const onRead = (buf: Buffer, n: number): void => {
          seen.push({ buf, text: buf.toString('latin1', 0, n) });
          if (seen.length === 2) resolve();
        };
        void a.accepted.then((s) => readSocket(s, onRead));
        void b.accepted.then((s) => readSocket(s, onRead));
      });
      await Promise.all([a.accepted, b.accepted]);
      a.client.write('first');
      await new Promise((r) => setTimeout(r, 20));
      b.client.write('second');
      await done;
      expect(seen.map((s) => s.text)).toEqual(['first', 'second']);
      expect(seen[0].buf).toBe(seen[1].buf);
      expect(seen[0].buf.length).toBe(64 * 1024);
    } finally {
      for (const p of [a, b]) {
        p.client.destroy();
        (await p.accepted).destroy();
        p.server.close();
      }
    }
  });

  it('fall back to \'data\' events for a socket without a handle', () => {
    const s = new net.Socket();
    const got: [number, string][] = [];
    readSocket(s, (buf, n) => got.push([n, buf.toString('latin1', 0, n)]));
    s.emit('data', Buffer.from('abc'));
    expect(got).toEqual([[3, 'abc']]);
    s.destroy();
  });
});
