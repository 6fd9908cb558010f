import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Client, OutputLimits } from '../../src/server/client.ts';
import {
  Config,
  ConfigError,
  SABRE_VERSION,
  parseArgs,
  type OutputBufferLimit,
} from '../../src/server/config.ts';
import { setLogSink } from '../../src/server/log.ts';

// client-output-buffer-limit: its parsing (every expectation below was taken
// from redis-server 7.0.15), and the accounting and the closes in Client.

const DEFAULT = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60';
const ERR_ARGS = 'Wrong number of arguments in buffer limit configuration.';
const ERR_CLASS = 'Invalid client class specified in buffer limit configuration.';
const ERR_VALUE = 'Error in hard, soft or soft_seconds setting in buffer limit configuration.';

function failed(err: string): string {
  return `ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ${err}`;
}

describe('client-output-buffer-limit parsing', () => {
  it("has Redis's defaults", () => {
    expect(new Config('/').get('client-output-buffer-limit')).toBe(DEFAULT);
    expect(new Config('/').configGet(['client-output-*'])).toEqual([['client-output-buffer-limit', DEFAULT]]);
  });

  it('CONFIG SET: values, quirks and errors as Redis 7.0.15 has them, applied one after the other', () => {
    const c = new Config('/');
    // [value, error or null, CONFIG GET afterwards]
    const steps: Array<[string, string | null, string]> = [
      ['normal 1 2 3', null, 'normal 1 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['normal 1mb 2mb 60', null, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['normal', ERR_ARGS, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['foo 1 2 3', ERR_CLASS, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['master 1 2 3', ERR_CLASS, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['normal -1 2 3', ERR_VALUE, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['normal 1 2 -3', ERR_VALUE, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['normal 1 2 3x', ERR_VALUE, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['normal 1 2 60mb', ERR_VALUE, 'normal 1048576 2097152 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['normal 1k 2 3', null, 'normal 1000 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['NORMAL 1 2 3', null, 'normal 1 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['replica 10 20 30', null, 'normal 1 2 3 slave 10 20 30 pubsub 33554432 8388608 60'],
      ['normal 1 2 3 pubsub 4 5 6', null, 'normal 1 2 3 slave 10 20 30 pubsub 4 5 6'],
      // All or nothing: the first group is not applied when the second is bad.
      ['normal 7 7 7 foo 4 5 6', ERR_CLASS, 'normal 1 2 3 slave 10 20 30 pubsub 4 5 6'],
      ['', null, 'normal 1 2 3 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 3 pubsub', ERR_ARGS, 'normal 1 2 3 slave 10 20 30 pubsub 4 5 6'],
      ['normal abc 1 1', ERR_VALUE, 'normal 1 2 3 slave 10 20 30 pubsub 4 5 6'],
      // Soft seconds is a C int: strtoll() then truncated to 32 bits.
      ['normal 1 2 9999999999999', null, 'normal 1 2 1316134911 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 2147483648', ERR_VALUE, 'normal 1 2 1316134911 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 4294967296', null, 'normal 1 2 0 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 99999999999999999999', ERR_VALUE, 'normal 1 2 0 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 -99999999999999999999', null, 'normal 1 2 0 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 +5', null, 'normal 1 2 5 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 1.5', ERR_VALUE, 'normal 1 2 5 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 -0', null, 'normal 1 2 0 slave 10 20 30 pubsub 4 5 6'],
      ['normal 99999999999999999999 2 3', null, 'normal 18446744073709551615 2 3 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1gb 1G 3', null, 'normal 1073741824 1000000000 3 slave 10 20 30 pubsub 4 5 6'],
      ['normal 0x10 2 3', ERR_VALUE, 'normal 1073741824 1000000000 3 slave 10 20 30 pubsub 4 5 6'],
      ['normal 01 02 03', null, 'normal 1 2 3 slave 10 20 30 pubsub 4 5 6'],
      // Words are split on single spaces: an empty word is a memory value of 0, or soft seconds of 0.
      ['normal  1 2', null, 'normal 0 1 2 slave 10 20 30 pubsub 4 5 6'],
      ['normal 1 2 ', null, 'normal 1 2 0 slave 10 20 30 pubsub 4 5 6'],
      [' normal 1 2 3', ERR_ARGS, 'normal 1 2 0 slave 10 20 30 pubsub 4 5 6'],
      ['Slave 1 2 3', null, 'normal 1 2 0 slave 1 2 3 pubsub 4 5 6'],
      ['pubsub 1 2 3 pubsub 7 8 9', null, 'normal 1 2 0 slave 1 2 3 pubsub 7 8 9'],
    ];
    for (const [value, err, after] of steps) {
      const got = c.configSet([['client-output-buffer-limit', value]]);
      expect({ value, got }).toEqual({ value, got: err === null ? null : failed(err) });
      expect({ value, after: c.get('client-output-buffer-limit') }).toEqual({ value, after });
    }
  });

  it('reads the command line and config files like redis-server', () => {
    const quiet = { stdout: () => {}, stderr: () => {}, log: () => {}, readStdin: () => '', cwd: () => '/' };
    const get = (argv: string[]): string | undefined => parseArgs(argv, quiet).get('client-output-buffer-limit');
    expect(get(['--client-output-buffer-limit', 'normal 1 2 3'])).toBe(
      'normal 1 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
    expect(get(['--client-output-buffer-limit', 'normal', '1', '2', '3',
      '--client-output-buffer-limit', 'pubsub', '4', '5', '6'])).toBe('normal 1 2 3 slave 268435456 67108864 60 pubsub 4 5 6');
    const fatal = (argv: string[]): string => {
      try {
        parseArgs(argv, quiet);
      } catch (e) {
        if (e instanceof ConfigError) return e.text;
        throw e;
      }
      return 'no error';
    };
    const at = (line: string, err: string): string =>
      `\n*** FATAL CONFIG FILE ERROR (Sabre ${SABRE_VERSION}) ***\nReading the configuration file, at line 2\n>>> '${line}'\n${err}\n`;
    expect(fatal(['--client-output-buffer-limit', 'foo', '1', '2', '3'])).toBe(
      at('client-output-buffer-limit "foo" "1" "2" "3"', ERR_CLASS));
    expect(fatal(['--client-output-buffer-limit', 'normal', '1', '2'])).toBe(
      at('client-output-buffer-limit "normal" "1" "2"', ERR_ARGS));
    expect(fatal(['--client-output-buffer-limit', ''])).toBe(at('client-output-buffer-limit ""', ERR_ARGS));
  });
});

// ---------------------------------------------------------------------------
// Client

interface FakeSocket {
  client: Client;
  written: Uint8Array[];
  destroyed: () => boolean;
  /** Bytes the socket pretends to hold (as if the peer did not read). */
  setHeld: (n: number) => void;
  /** Completes the writes so far (their callbacks run). */
  completeWrites: () => void;
}

function fakeClient(limits: OutputLimits, authenticated = true): FakeSocket {
  const socket = new net.Socket();
  const written: Uint8Array[] = [];
  const callbacks: Array<() => void> = [];
  let destroyed = false;
  let held = 0;
  socket.write = ((chunk: Uint8Array, cb?: () => void) => {
    written.push(chunk);
    if (cb !== undefined) callbacks.push(cb);
    return true;
  }) as typeof socket.write;
  socket.destroy = (() => {
    destroyed = true;
    return socket;
  }) as typeof socket.destroy;
  Object.defineProperty(socket, 'writableLength', { get: () => held });
  const client = new Client(7, socket, { protoMaxBulkLen: 512 << 20, queryBufferLimit: 1 << 30 }, authenticated, () => {});
  client.outputLimits = limits;
  return {
    client,
    written,
    destroyed: () => destroyed,
    setHeld: (n) => {
      held = n;
    },
    completeWrites: () => {
      for (const cb of callbacks.splice(0)) cb();
    },
  };
}

function limitsOf(normal: [number, number, number], pubsub: [number, number, number] = [0, 0, 0]): OutputLimits {
  const of = ([h, s, secs]: [number, number, number]): OutputBufferLimit =>
    ({ hardBytes: BigInt(h), softBytes: BigInt(s), softSeconds: secs });
  const limits = new OutputLimits([of(normal), of([0, 0, 0]), of(pubsub)]);
  limits.describe = (c) => `id=${c.id} addr=test`;
  return limits;
}

function reply(n: number, fill = 0x61): Buffer {
  return Buffer.alloc(n, fill);
}

describe('client output accounting and limits', () => {
  let log: string[] = [];
  beforeEach(() => {
    log = [];
    setLogSink((t) => log.push(t));
  });
  afterEach(() => {
    setLogSink(null);
    vi.useRealTimers();
  });

  it('counts staged, parked and socket-held bytes, but not the first 16 KiB staged', () => {
    const f = fakeClient(limitsOf([0, 0, 0]));
    const c = f.client;
    c.replyBytes(reply(10_000));
    expect(c.outputBytes).toBe(0);
    expect(c.pendingOutputBytes).toBe(10_000);
    c.replyBytes(reply(10_000));
    expect(c.outputBytes).toBe(20_000 - 16_384);
    // A reply that arrives ahead of its turn is parked: it counts too.
    const a = c.takeSeq();
    const b = c.takeSeq();
    c.deliver(b, reply(5000), 0, 5000);
    expect(c.outputBytes).toBe(25_000 - 16_384);
    expect(c.outputChunks).toBe(1);
    c.deliver(a, reply(10), 0, 10);
    c.flush();
    expect(c.outputBytes).toBe(0);
    f.setHeld(30_000);
    expect(c.outputBytes).toBe(30_000);
    expect(c.outputChunks).toBe(1);
    f.completeWrites();
    f.setHeld(0);
    expect(c.outputChunks).toBe(0);
  });

  it('past the hard limit the client is scheduled to be closed, its output dropped, with Redis\'s log line', () => {
    const f = fakeClient(limitsOf([100_000, 0, 0]));
    const c = f.client;
    c.replyBytes(reply(50_000));
    c.flush();
    f.setHeld(50_000); // the peer does not read
    c.replyBytes(reply(60_000));
    expect(c.closeAsap).toBe(false); // 60,000 - 16,384 + 50,000 < 100,000
    c.replyBytes(reply(10_000));
    expect(c.closeAsap).toBe(true);
    expect(log.join('')).toMatch(/ # Client id=7 addr=test scheduled to be closed ASAP for overcoming of output buffer limits\.\n$/);
    expect(f.destroyed()).toBe(false); // asynchronously: at the next flush
    const before = f.written.length;
    c.replyBytes(reply(10)); // dropped
    c.flush();
    expect(f.destroyed()).toBe(true);
    expect(f.written.length).toBe(before);
  });

  it('past the soft limit for more than soft-seconds the client is closed by the once-a-second check', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00.200Z'));
    const f = fakeClient(limitsOf([0, 40_000, 2]));
    const c = f.client;
    c.replyBytes(reply(60_000)); // first seen past the soft limit: the clock starts
    c.flush();
    f.setHeld(60_000);
    expect(c.checkOutputLimits(false)).toBe(false);
    vi.setSystemTime(new Date('2026-01-01T00:00:02.900Z')); // 2 s later in whole seconds: not more than 2
    expect(c.checkOutputLimits(false)).toBe(false);
    // Going back under the soft limit stops the clock.
    f.setHeld(30_000);
    expect(c.checkOutputLimits(false)).toBe(false);
    f.setHeld(60_000);
    expect(c.checkOutputLimits(false)).toBe(false); // starts again now (second 2)
    vi.setSystemTime(new Date('2026-01-01T00:00:04.100Z'));
    expect(c.checkOutputLimits(false)).toBe(false);
    vi.setSystemTime(new Date('2026-01-01T00:00:05.000Z'));
    expect(c.checkOutputLimits(false)).toBe(true);
    expect(f.destroyed()).toBe(true); // at once
    expect(log.join('')).toMatch(/Client id=7 addr=test closed for overcoming of output buffer limits\.\n$/);
    expect(c.closeAsap).toBe(true);
  });

  it('normal 0 0 0 never closes a client, however much it holds', () => {
    const f = fakeClient(limitsOf([0, 0, 0], [1000, 1000, 0]));
    const c = f.client;
    for (let i = 0; i < 100; i++) c.replyBytes(reply(100_000));
    c.flush();
    f.setHeld(10_000_000);
    expect(c.checkOutputLimits(false)).toBe(false);
    expect(c.checkOutputLimits(true)).toBe(false);
    expect(c.closeAsap).toBe(false);
    expect(log).toEqual([]);
  });

  it('a subscribed client is in the pubsub class', () => {
    const f = fakeClient(limitsOf([0, 0, 0], [20_000, 0, 0]));
    const c = f.client;
    c.replyBytes(reply(30_000));
    expect(c.closeAsap).toBe(false);
    c.subscriptions = 1;
    c.replyBytes(reply(10_000));
    expect(c.closeAsap).toBe(true);
  });

  it('an unauthenticated client may not have more than 1024 bytes pending (CVE-2025-21605)', () => {
    const f = fakeClient(limitsOf([0, 0, 0]), false);
    const c = f.client;
    c.replyBytes(reply(16_384 + 1024));
    expect(c.closeAsap).toBe(false);
    c.replyBytes(reply(1));
    expect(c.closeAsap).toBe(true);
  });

  it('a big reply in its own buffer reaches the socket uncopied, in order, and is freed once written', () => {
    const f = fakeClient(limitsOf([0, 0, 0]));
    const c = f.client;
    const first = c.takeSeq();
    const big = c.takeSeq();
    const last = c.takeSeq();
    const body = new Uint8Array(new ArrayBuffer(200_000));
    body.fill(0x62);
    // The big one arrives early: it waits, by reference, for the first.
    c.onShardReplyOwned(big, body);
    expect(c.outputBytes).toBe(200_000);
    c.deliver(last, Buffer.from('+last\r\n'), 0, 7);
    c.deliver(first, Buffer.from('+first\r\n'), 0, 8);
    c.flush();
    expect(f.written.map((w) => w.length)).toEqual([8, 200_000, 7]);
    expect(f.written[1]?.buffer).toBe(body.buffer); // the very buffer, not a copy
    expect(Buffer.concat(f.written.map((w) => Buffer.from(w))).subarray(0, 8).toString()).toBe('+first\r\n');
    f.completeWrites();
    expect(body.buffer.byteLength).toBe(0);
  });
});
