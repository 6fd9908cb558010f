import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startSabre, type ServerHandle } from '../helpers/servers.ts';

let server: ServerHandle;

beforeAll(async () => {
  server = await startSabre({ shards: 4, args: ['--timeout', '1'] });
});

afterAll(async () => {
  await server.stop();
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

describe('timeout (idle clients)', () => {
  it('closes a client idle for longer than `timeout` seconds, not one that keeps talking', async () => {
    const idle = await connect();
    const busy = await connect();
    const idleClosed = new Promise<number>((resolve) => idle.on('close', () => resolve(Date.now())));
    let busyClosed = false;
    busy.on('close', () => { busyClosed = true; });
    const start = Date.now();
    const ping = setInterval(() => busy.write('PING\r\n'), 200);
    busy.on('data', () => {});
    const closedAt = await idleClosed;
    clearInterval(ping);
    const waited = closedAt - start;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(5000);
    expect(busyClosed).toBe(false);
    busy.destroy();
  }, 20_000);
});
