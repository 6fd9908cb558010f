import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { Client } from '../../src/server/client.ts';

// Client.flush writes straight to a plain socket's descriptor when nothing waits in the socket.
// These tests use real loopback sockets: what the peer reads is what was written.

const LIMITS = { protoMaxBulkLen: 512 << 20, queryBufferLimit: 1 << 30 };

interface Pair {
  /** The accepted (server) side, which a Client writes to. */
  server: net.Socket;
  /** The connecting side, which reads what the Client wrote. */
  peer: net.Socket;
  /** Everything the peer has read so far. */
  received: () => Buffer;
  /** Everything the server side has read so far. */
  receivedByServer: () => Buffer;
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const srv of servers.splice(0)) await new Promise<void>((r) => srv.close(() => r()));
});

async function listen(): Promise<{ srv: net.Server; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => {
    accepted.push(s);
    sockets.push(s);
  });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { srv, accepted };
}

async function connect(srv: net.Server, accepted: net.Socket[], readPaused = false): Promise<Pair> {
  const n = accepted.length;
  const port = (srv.address() as net.AddressInfo).port;
  const peer = net.connect(port, '127.0.0.1');
  sockets.push(peer);
  const chunks: Buffer[] = [];
  if (readPaused) peer.pause();
  peer.on('data', (c: Buffer) => chunks.push(c));
  await once(peer, 'connect');
  while (accepted.length === n) await new Promise((r) => setTimeout(r, 1));
  const server = accepted[n] as net.Socket;
  const serverChunks: Buffer[] = [];
  server.on('data', (c: Buffer) => serverChunks.push(c));
  return { server, peer, received: () => Buffer.concat(chunks), receivedByServer: () => Buffer.concat(serverChunks) };
}

function fdOf(socket: net.Socket): number {
  return (socket as unknown as { _handle: { fd: number } | null })._handle?.fd ?? -1;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function send(client: Client, bytes: Buffer): void {
  client.deliver(client.takeSeq(), bytes, 0, bytes.length);
  client.flush();
}

describe('Client direct writes', () => {
  it('writes replies straight to the descriptor, in order, without the socket', async () => {
    const { srv, accepted } = await listen();
    const pair = await connect(srv, accepted);
    let socketWrites = 0;
    const realWrite = pair.server.write.bind(pair.server);
    pair.server.write = ((...args: Parameters<typeof realWrite>) => {
      socketWrites++;
      return realWrite(...args);
    }) as typeof pair.server.write;
    const client = new Client(1, pair.server, LIMITS, true, () => {});
    const expected: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const b = Buffer.from(`+reply ${i}\r\n`);
      expected.push(b);
      send(client, b);
    }
    const all = Buffer.concat(expected);
    await until(() => pair.received().length >= all.length);
    expect(pair.received().equals(all)).toBe(true);
    expect(socketWrites).toBe(0);
  });

  it('keeps the order when the kernel takes only part: the rest waits in the socket, later output after it', async () => {
    const { srv, accepted } = await listen();
    // The peer does not read, so the kernel's buffers fill and a write is taken in part (or not at all).
    const pair = await connect(srv, accepted, true);
    const client = new Client(1, pair.server, LIMITS, true, () => {});
    const parts: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const b = Buffer.alloc(256 * 1024, i + 1);
      parts.push(b);
      send(client, b);
    }
    expect(pair.server.writableLength).toBeGreaterThan(0);
    const tail = Buffer.from('+tail\r\n');
    parts.push(tail);
    send(client, tail);
    const all = Buffer.concat(parts);
    pair.peer.resume();
    await until(() => pair.received().length >= all.length, 20000);
    expect(pair.received().equals(all)).toBe(true);
  });

  it('never writes through the descriptor of a destroyed socket, which another connection may hold by then', async () => {
    const { srv, accepted } = await listen();
    const a = await connect(srv, accepted);
    const client = new Client(1, a.server, LIMITS, true, () => {});
    send(client, Buffer.from('+before\r\n'));
    await until(() => a.received().length === 9);
    const oldFd = fdOf(a.server);
    a.server.destroy();
    // The next connection's two ends are given the lowest free descriptors: one of them the one just closed.
    const b = await connect(srv, accepted);
    const holder = [b.server, b.peer].find((s) => fdOf(s) === oldFd);
    expect(holder).toBeDefined();
    // The destroyed client still has output to flush (its 'close' may not have been seen yet).
    send(client, Buffer.from('+leak\r\n'));
    b.server.write('+b\r\n');
    b.peer.write('+p\r\n');
    await until(() => b.received().length >= 4 && b.receivedByServer().length >= 4);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.received().toString()).toBe('+b\r\n');
    expect(b.receivedByServer().toString()).toBe('+p\r\n');
  });
});
