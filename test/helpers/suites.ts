import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { shardOfSlot } from '../../src/router/dispatcher.ts';
import { keyHashSlot } from '../../src/util/crc16.ts';
import { startRedis, startSabre, type ServerHandle, type StartRedisOptions, type StartSabreOptions } from './servers.ts';

/** The shard that owns a key on a server with `shards` shards (the dispatcher's own mapping). */
export function shardOfKey(key: string, shards = 4): number {
  const b = Buffer.from(key, 'latin1');
  return shardOfSlot(keyHashSlot(b, 0, b.length), shards);
}

/** An ioredis client for tests: connects on first use, never retries or reconnects on its own. */
export function redisClient(port: number, extra: RedisOptions = {}): Redis {
  return new Redis({
    port, lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null, ...extra,
  });
}

export interface SabreSuiteOptions extends StartSabreOptions {
  /** FLUSHALL before every test (default true). */
  flushEach?: boolean;
}

/**
 * The fixture every integration suite shares: start Sabre (4 shards unless
 * told otherwise) before the suite, connect one client, FLUSHALL before each
 * test, and stop both after the suite. `ready` receives the server and the
 * client once they are up. Call it at the top of a file or inside a describe.
 */
export function useSabre(ready: (server: ServerHandle, r: Redis) => void, opts: SabreSuiteOptions = {}): void {
  const { flushEach, ...start } = opts;
  const client = useServer(() => startSabre({ shards: 4, ...start }), ready);
  if (flushEach !== false) {
    beforeEach(async () => {
      await client()?.flushall();
    });
  }
}

/**
 * The same for a real redis-server (the oracle), without flushing: for suites
 * that already skip themselves when redis-server is absent.
 */
export function useRedis(ready: (server: ServerHandle, r: Redis) => void, opts: StartRedisOptions = {}): void {
  useServer(() => {
    const started = startRedis(opts);
    if (started === null) throw new Error('redis-server is not on PATH');
    return started;
  }, ready);
}

/** Starts a server and one client before the suite, stops both after it; returns the client (once up). */
function useServer(start: () => Promise<ServerHandle>, ready: (server: ServerHandle, r: Redis) => void): () => Redis | undefined {
  let server: ServerHandle | undefined;
  let r: Redis | undefined;
  beforeAll(async () => {
    server = await start();
    r = redisClient(server.port);
    await r.connect();
    ready(server, r);
  });
  afterAll(async () => {
    r?.disconnect();
    await server?.stop();
  });
  return () => r;
}
