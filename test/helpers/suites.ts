import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { shardOfSlot } from '../../src/router/dispatcher.ts';
import { keyHashSlot } from '../../src/util/crc16.ts';
import {
  redisAvailable, startRedis, startSabre, type ServerHandle, type StartRedisOptions, type StartSabreOptions,
} from './servers.ts';

/** True when the CI environment variable is set (to anything but "" or "false"). */
export function underCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci.toLowerCase() !== 'false';
}

/**
 * Whether a suite that compares with redis-server can run. When redis-server
 * is not on PATH: under CI (the CI variable set) this throws, so the test file
 * FAILS instead of passing without having compared anything; elsewhere the
 * suite is skipped with a warning (returns false).
 */
export function redisForComparison(suite: string): boolean {
  if (redisAvailable()) return true;
  if (underCI()) {
    throw new Error(
      `${suite}: redis-server (Redis 7.0.15, the oracle) is not on PATH. With CI set, the suites that compare ` +
      'with it fail rather than skip: install it (e.g. apt-get install redis-server) or put it on PATH.',
    );
  }
  console.warn(`${suite}: redis-server not on PATH, skipping the comparisons with it (with CI set this is a failure)`);
  return false;
}

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
 * that already decided to run with redisForComparison().
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

/** INFO text as a field map (section headers and blank lines skipped). */
export function infoFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}
