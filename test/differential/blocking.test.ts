import net from 'node:net';
import { expect, it } from 'vitest';
import { describeDifferential, encodeCommand, escapeBytes } from '../helpers/differential.ts';
import { respReplyEnd } from '../helpers/servers.ts';
import { shardOfKey } from '../helpers/suites.ts';

// Blocking pops against real redis-server 7.0, with two or three clients,
// reply bytes compared (errors, timeouts, CLIENT UNBLOCK, wake-ups in RESP2
// and RESP3). Keys a, b, c, d live on four different shards of Sabre.
//
// A script is a list of steps, each run on both servers the same way:
// - [client, ...command]: send it and read its reply;
// - { block: client, cmd }: send it without reading, then wait until the
//   server counts one more blocked client (INFO, on a side connection);
// - { read: client }: read one reply of that client (a blocked command's);
// - { sleep: ms }.

type ScriptStep =
  | [number, ...string[]]
  | { block: number; cmd: string[] }
  | { read: number }
  | { sleep: number }
  | { close: number }
  /** Commands sent in one write, their replies read after. */
  | { pipe: number; cmds: string[][] };

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

class Conn {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  readonly sock: net.Socket;
  constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('error', () => {});
  }

  static async open(port: number): Promise<Conn> {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    return new Conn(sock);
  }

  send(args: string[]): void {
    this.sock.write(encodeCommand(args));
  }

  async read(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buf.length > 0 ? respReplyEnd(this.buf) : -1;
      if (end > 0) {
        const r = this.buf.subarray(0, end);
        this.buf = this.buf.subarray(end);
        return Buffer.from(r);
      }
      const left = deadline - Date.now();
      if (left <= 0) return Buffer.from('<no reply>');
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
  }

  async call(args: string[]): Promise<Buffer> {
    this.send(args);
    return this.read();
  }
}

async function blockedClients(admin: Conn): Promise<number> {
  const info = (await admin.call(['INFO', 'clients'])).toString('latin1');
  return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? -1);
}

/** Runs a script on one server; returns every reply read, in script order. */
/** `script`: the steps, or a function of the clients' ids (CLIENT ID of each) that gives them. */
async function runScript(port: number, clients: number, script: readonly ScriptStep[] | ((ids: string[]) => readonly ScriptStep[]),
  resp3: boolean): Promise<Buffer[]> {
  const admin = await Conn.open(port);
  const cs: Conn[] = [];
  const ids: string[] = [];
  for (let i = 0; i < clients; i++) {
    const c = await Conn.open(port);
    if (resp3) await c.call(['HELLO', '3']);
    cs.push(c);
    if (typeof script === 'function') ids.push((await c.call(['CLIENT', 'ID'])).toString().slice(1, -2));
  }
  const steps = typeof script === 'function' ? script(ids) : script;
  const out: Buffer[] = [];
  try {
    for (const step of steps) {
      if (Array.isArray(step)) {
        const [ci, ...cmd] = step;
        out.push(await cs[ci].call(cmd));
      } else if ('block' in step) {
        const before = await blockedClients(admin);
        cs[step.block].send(step.cmd);
        for (let i = 0; i < 400 && await blockedClients(admin) <= before; i++) await sleep(5);
      } else if ('read' in step) {
        out.push(await cs[step.read].read());
      } else if ('pipe' in step) {
        cs[step.pipe].sock.write(Buffer.concat(step.cmds.map((c) => encodeCommand(c))));
        for (let i = 0; i < step.cmds.length; i++) out.push(await cs[step.pipe].read());
      } else if ('sleep' in step) {
        await sleep(step.sleep);
      } else {
        const before = await blockedClients(admin);
        cs[step.close].sock.destroy();
        for (let i = 0; i < 400 && await blockedClients(admin) >= before; i++) await sleep(5);
      }
    }
  } finally {
    admin.sock.destroy();
    for (const c of cs) c.sock.destroy();
  }
  return out;
}

describeDifferential('blocking pops: differential', (ctx) => {
  it('test keys span four shards', () => {
    expect(new Set(['a', 'b', 'c', 'd'].map((k) => shardOfKey(k))).size).toBe(4);
  });

  async function same(clients: number, script: readonly ScriptStep[], resp3 = false): Promise<void> {
    await ctx.run('sabre', [['FLUSHALL']]);
    await ctx.run('redis', [['FLUSHALL']]);
    const actual = await runScript(ctx.sabrePort, clients, script, resp3);
    const expected = await runScript(ctx.redisPort, clients, script, resp3);
    const diffs: string[] = [];
    for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
      const a = actual[i] ?? Buffer.alloc(0);
      const e = expected[i] ?? Buffer.alloc(0);
      if (!a.equals(e)) diffs.push(`reply #${i}: redis "${escapeBytes(e)}" sabre "${escapeBytes(a)}"`);
    }
    expect(diffs.join('\n')).toBe('');
  }

  it('arity, syntax and timeout errors, in Redis\'s order', async () => {
    const s: ScriptStep[] = [];
    const cmds: string[][] = [
      ['BLPOP'], ['BLPOP', 'a'], ['BRPOP', 'a'], ['BLMOVE', 'a', 'b', 'left', 'right'], ['BRPOPLPUSH', 'a', 'b'],
      ['BLMPOP', '0', '1', 'a'], ['BZPOPMIN', 'a'], ['BZMPOP', '0', '1', 'a'],
      ['BLPOP', 'a', '-1'], ['BLPOP', 'a', 'x'], ['BLPOP', 'a', ''], ['BLPOP', 'a', ' 1'], ['BLPOP', 'a', 'nan'],
      ['BLPOP', 'a', 'inf'], ['BLPOP', 'a', '-inf'], ['BLPOP', 'a', '1e400'], ['BLPOP', 'a', '9.3e15'], ['BLPOP', 'a', '1e-5000'],
      ['BRPOP', 'a', 'b', '-0.5'], ['BLMOVE', 'a', 'b', 'up', 'left', 'x'], ['BLMOVE', 'a', 'b', 'left', 'down', '-1'],
      ['BLMOVE', 'a', 'b', 'left', 'left', '-1'], ['BRPOPLPUSH', 'a', 'b', 'abc'],
      ['BLMPOP', 'x', '0', 'a', 'left'], ['BLMPOP', '0', '0', 'a', 'left'], ['BLMPOP', '0', '-1', 'a', 'left'],
      ['BLMPOP', '0', '1', 'a'], ['BLMPOP', '0', '2', 'a', 'left'], ['BLMPOP', '0', '1', 'a', 'middle'],
      ['BLMPOP', '0', '1', 'a', 'left', 'count'], ['BLMPOP', '0', '1', 'a', 'left', 'count', '0'],
      ['BLMPOP', '0', '1', 'a', 'left', 'count', '1', 'count', '2'], ['BLMPOP', '0', '1', 'a', 'left', 'foo'],
      ['BLMPOP', '-1', '1', 'a', 'left', 'count', '0'], ['BLMPOP', '-1', '1', 'a', 'left'], ['BLMPOP', 'x', '1', 'a', 'left'],
      ['BLMPOP', '0', '99999999999999999999', 'a', 'left'],
      ['BZPOPMIN', 'a', '-1'], ['BZPOPMAX', 'a', 'x'],
      ['BZMPOP', '0', '1', 'a', 'left'], ['BZMPOP', '-1', '1', 'a', 'min'], ['BZMPOP', '0', '1', 'a', 'max', 'count', '-3'],
      ['CLIENT', 'UNBLOCK'], ['CLIENT', 'UNBLOCK', 'x'], ['CLIENT', 'UNBLOCK', 'x', 'foo'], ['CLIENT', 'UNBLOCK', '1', 'foo'],
      ['CLIENT', 'UNBLOCK', '999999'], ['CLIENT', 'UNBLOCK', '999999', 'ERROR'], ['CLIENT', 'UNBLOCK', '-5', 'timeout'],
    ];
    for (const c of cmds) s.push([0, ...c]);
    await same(1, s);
  });

  it('served at once: key order, wrong types, same key twice, fractional and tiny timeouts', async () => {
    await same(1, [
      [0, 'RPUSH', 'c', '1', '2', '3'], [0, 'SET', 's', 'str'],
      [0, 'BLPOP', 'a', 'b', 'c', 'd', '0'], [0, 'BRPOP', 'c', 'c', '0.5'], [0, 'BLPOP', 'a', 's', 'c', '0'],
      [0, 'BLPOP', 'c', 's', '0'], [0, 'BLMOVE', 's', 'a', 'left', 'left', '0'], [0, 'RPUSH', 'd', 'x'],
      [0, 'BLMOVE', 'd', 's', 'left', 'left', '0'], [0, 'LRANGE', 'd', '0', '-1'],
      [0, 'BRPOPLPUSH', 'd', 'b', '0'], [0, 'LRANGE', 'b', '0', '-1'], [0, 'EXISTS', 'd'],
      [0, 'RPUSH', 'a', 'p', 'q', 'r'], [0, 'BLMPOP', '0', '3', 'b', 'a', 'c', 'RIGHT', 'COUNT', '2'],
      [0, 'BLMPOP', '0', '2', 'a', 'b', 'LEFT', 'COUNT', '10'], [0, 'BLMPOP', '0', '1', 's', 'LEFT'],
      [0, 'BLPOP', 'nokey', '0.001'], [0, 'BLPOP', 'nokey', '1e-400'], [0, 'BRPOP', 'nokey', '0x1p-9'],
      [0, 'BLMOVE', 'nokey', 'a', 'left', 'left', '0.01'], [0, 'BRPOPLPUSH', 'nokey', 'a', '.01'],
      [0, 'BLMPOP', '0.01', '2', 'nokey', 'nokey2', 'LEFT'],
      [0, 'LPUSH', 'a', 'z'], [0, 'BLPOP', 'a', '-0.0001'], [0, 'BLPOP', 'a', '+0.01'],
      [0, 'LLEN', 'a'],
    ]);
  });

  it('block, then wake by pushes from another client; FCFS among three', async () => {
    await same(4, [
      { block: 0, cmd: ['BLPOP', 'a', '0'] },
      { block: 1, cmd: ['BRPOP', 'a', '0'] },
      { block: 2, cmd: ['BLMPOP', '0', '1', 'a', 'LEFT', 'COUNT', '2'] },
      [3, 'RPUSH', 'a', '1', '2', '3', '4', '5'],
      { read: 0 }, { read: 1 }, { read: 2 },
      [3, 'LRANGE', 'a', '0', '-1'],
      [3, 'INFO', 'keyspace'],
    ]);
  });

  it('a waiter on several keys of several shards is served once', async () => {
    await same(3, [
      { block: 0, cmd: ['BLPOP', 'b', 'c', 'd', '0'] },
      { block: 1, cmd: ['BRPOP', 'd', 'c', '0'] },
      [2, 'RPUSH', 'c', 'c1'],
      { read: 0 },
      [2, 'RPUSH', 'd', 'd1', 'd2'],
      { read: 1 },
      [2, 'LRANGE', 'd', '0', '-1'], [2, 'EXISTS', 'b', 'c'],
    ]);
  });

  it('timeouts: null replies in RESP2 and RESP3', async () => {
    for (const resp3 of [false, true]) {
      await same(2, [
        { block: 0, cmd: ['BLPOP', 'a', 'b', '0.05'] },
        { read: 0 },
        [0, 'BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0.02'],
        [0, 'BRPOPLPUSH', 'a', 'b', '0.02'],
        [0, 'BLMPOP', '0.02', '2', 'a', 'b', 'LEFT'],
        [0, 'BRPOP', 'c', '0.02'],
        [1, 'RPUSH', 'c', 'v'],
        [0, 'BRPOP', 'c', '0.02'],
      ], resp3);
    }
  });

  it('CLIENT UNBLOCK, both ways, and a waiter that was unblocked takes nothing', async () => {
    const script = (id: string): ScriptStep[] => [
      { block: 0, cmd: ['BLPOP', 'a', '0'] },
      [1, 'CLIENT', 'UNBLOCK', id],
      { read: 0 },
      { block: 0, cmd: ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT', '0'] },
      [1, 'CLIENT', 'UNBLOCK', id, 'TIMEOUT'],
      { read: 0 },
      { block: 0, cmd: ['BLMPOP', '0', '1', 'a', 'RIGHT'] },
      [1, 'CLIENT', 'UNBLOCK', id, 'ERROR'],
      { read: 0 },
      [1, 'CLIENT', 'UNBLOCK', id, 'ERROR'],
      [1, 'RPUSH', 'a', 'kept'],
      [1, 'LRANGE', 'a', '0', '-1'],
      [0, 'INFO', 'errorstats'],
    ];
    for (const resp3 of [false, true]) {
      await ctx.run('sabre', [['FLUSHALL']]);
      await ctx.run('redis', [['FLUSHALL']]);
      // The blocked client's id differs between the servers (and, with several front
      // threads, follows the order each front accepts its connections): ask it.
      const actual = await runScript(ctx.sabrePort, 2, (ids) => script(ids[0]), resp3);
      const expected = await runScript(ctx.redisPort, 2, (ids) => script(ids[0]), resp3);
      expect(actual.map((b) => escapeBytes(b))).toEqual(expected.map((b) => escapeBytes(b)));
    }
  });

  it('wake-ups by LMOVE, RPOPLPUSH, RENAME, COPY, MOVE, SWAPDB, LINSERT-free pushes; wrong types wait on', async () => {
    await same(3, [
      [2, 'RPUSH', 'src', 'x1', 'x2', 'x3'],
      { block: 0, cmd: ['BLPOP', 'b', '0'] },
      [2, 'LMOVE', 'src', 'b', 'LEFT', 'RIGHT'], { read: 0 },
      { block: 0, cmd: ['BRPOP', 'b', '0'] },
      [2, 'RPOPLPUSH', 'src', 'b'], { read: 0 },
      { block: 0, cmd: ['BLPOP', 'c', '0'] },
      [2, 'RENAME', 'src', 'c'], { read: 0 },
      [2, 'RPUSH', 'src', 'y'],
      { block: 0, cmd: ['BLPOP', 'd', '0'] },
      [2, 'COPY', 'src', 'd'], { read: 0 }, [2, 'LRANGE', 'src', '0', '-1'],
      [2, 'SELECT', '1'], [2, 'RPUSH', 'a', 'from-db1'],
      { block: 0, cmd: ['BLPOP', 'a', '0'] },
      [2, 'MOVE', 'a', '0'], { read: 0 },
      [2, 'RPUSH', 'a', 'swapped'],
      { block: 0, cmd: ['BLPOP', 'a', '0'] },
      [2, 'SWAPDB', '0', '1'], { read: 0 },
      [2, 'SWAPDB', '0', '1'], [2, 'SELECT', '0'],
      // A string on the key does not wake it; a list after DEL does.
      { block: 0, cmd: ['BLPOP', 'b', '0'] },
      [2, 'SET', 'b', 'str'], [2, 'DEL', 'b'], [2, 'LPUSH', 'b', 'after'], { read: 0 },
      // BLMOVE onto a wrong-type destination: the woken waiter gets WRONGTYPE, the element stays.
      [2, 'SET', 'd', 'str'],
      { block: 1, cmd: ['BLMOVE', 'c', 'd', 'LEFT', 'LEFT', '0'] },
      [2, 'RPUSH', 'c', 'stay'], { read: 1 }, [2, 'LRANGE', 'c', '0', '-1'],
    ]);
  });

  it('BLMOVE across shards, with a waiter on the destination; self-referential BRPOPLPUSH', async () => {
    await same(3, [
      { block: 0, cmd: ['BLPOP', 'b', '0'] },
      { block: 1, cmd: ['BLMOVE', 'a', 'b', 'RIGHT', 'LEFT', '0'] },
      [2, 'RPUSH', 'a', 'one', 'two'],
      { read: 1 }, { read: 0 },
      [2, 'LRANGE', 'a', '0', '-1'], [2, 'EXISTS', 'b'],
      { block: 0, cmd: ['BRPOPLPUSH', 'c', 'c', '0'] },
      [2, 'RPUSH', 'c', 'self'], { read: 0 }, [2, 'LRANGE', 'c', '0', '-1'],
    ]);
  });

  it('a waiter that closes is forgotten; pipelined commands wait behind a blocked one', async () => {
    await same(3, [
      { block: 0, cmd: ['BLPOP', 'a', '0'] },
      { close: 0 },
      [2, 'RPUSH', 'a', 'kept'], [2, 'LRANGE', 'a', '0', '-1'],
      [2, 'DEL', 'a'],
      { block: 1, cmd: ['BLPOP', 'a', '0'] },
      { sleep: 20 },
      [2, 'RPUSH', 'a', 'served'],
      { read: 1 },
      [1, 'LLEN', 'a'],
    ]);
  });

  it('RESP3 replies of served pops', async () => {
    await same(2, [
      [1, 'RPUSH', 'a', '1', '2'],
      [0, 'BLPOP', 'a', '0'],
      [0, 'BLMPOP', '0', '1', 'a', 'RIGHT', 'COUNT', '3'],
      { block: 0, cmd: ['BRPOP', 'a', 'b', '0'] },
      [1, 'LPUSH', 'b', 'x'], { read: 0 },
      { block: 0, cmd: ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT', '0'] },
      [1, 'LPUSH', 'a', 'y'], { read: 0 },
    ], true);
  });

  it('sorted sets: BZPOPMIN, BZPOPMAX, BZMPOP at once and after blocking, RESP2 and RESP3', async () => {
    for (const resp3 of [false, true]) {
      await same(3, [
        [2, 'ZADD', 'a', '1', 'x', '2.5', 'y', '-inf', 'lo', 'inf', 'hi'],
        [0, 'BZPOPMIN', 'b', 'a', '0'], [0, 'BZPOPMAX', 'a', '0'],
        [0, 'BZMPOP', '0', '2', 'b', 'a', 'MIN', 'COUNT', '5'], [0, 'EXISTS', 'a'],
        [0, 'BZPOPMIN', 'a', '0.01'], [0, 'BZMPOP', '0.01', '1', 'a', 'MAX'],
        [2, 'RPUSH', 'l', 'v'], [0, 'BZPOPMIN', 'l', '0'], [0, 'BZMPOP', '0', '1', 'l', 'MIN'],
        { block: 0, cmd: ['BZPOPMAX', 'c', 'd', '0'] },
        { block: 1, cmd: ['BZMPOP', '0', '1', 'd', 'MIN', 'COUNT', '2'] },
        [2, 'ZADD', 'd', '3', 'm3', '1', 'm1', '2', 'm2', '4', 'm4'],
        { read: 0 }, { read: 1 }, [2, 'ZRANGE', 'd', '0', '-1', 'WITHSCORES'],
        // A list waiter is not woken by a sorted set on its key; a zset waiter behind it is.
        { block: 0, cmd: ['BLPOP', 'b', '0'] },
        { block: 1, cmd: ['BZPOPMIN', 'b', '0'] },
        [2, 'ZADD', 'b', '7', 'seven'], { read: 1 }, [2, 'EXISTS', 'b'],
        [2, 'RPUSH', 'b', 'for-list'], { read: 0 },
      ], resp3);
    }
  });

  it('a waiter is served right after the write, before the commands pipelined behind it', async () => {
    await same(3, [
      { block: 0, cmd: ['BLPOP', 'a', '0'] },
      { pipe: 2, cmds: [['RPUSH', 'a', 'x'], ['LPOP', 'a'], ['LLEN', 'a'], ['RPUSH', 'a', 'y', 'z'], ['LRANGE', 'a', '0', '-1']] },
      { read: 0 },
      // BLMOVE within one shard: the move and the wake-up it causes happen before the pipeline goes on.
      { block: 0, cmd: ['BZPOPMIN', '{t}b', '0'] },
      { block: 1, cmd: ['BLMOVE', '{t}c', '{t}b', 'LEFT', 'LEFT', '0'] },
      { pipe: 2, cmds: [['RPUSH', '{t}c', 'm'], ['EXISTS', '{t}c'], ['ZADD', '{t}b', '1', 'q'], ['TYPE', '{t}b'], ['LPOP', '{t}b']] },
      { read: 1 },
      [2, 'ZADD', '{t}b', '2', 'r'], { read: 0 },
      // A waiter on keys of several shards, too.
      { block: 0, cmd: ['BLPOP', 'b', 'c', 'd', '0'] },
      { pipe: 2, cmds: [['RPUSH', 'c', 'x', 'y'], ['LPOP', 'c'], ['LLEN', 'c']] },
      { read: 0 },
      { block: 0, cmd: ['BZMPOP', '0', '3', 'a', 'b', 'c', 'MAX', 'COUNT', '2'] },
      { pipe: 2, cmds: [['ZADD', 'b', '1', 'p', '2', 'q', '3', 'r'], ['ZRANGE', 'b', '0', '-1'], ['ZPOPMIN', 'b']] },
      { read: 0 },
    ]);
  });
});
