// Helpers for the tests of several network front threads (io-threads): a raw RESP
// connection that decodes replies, and a way to learn which front thread each
// connection landed on (the kernel spreads SO_REUSEPORT connections by a hash of
// the 4-tuple, so the tests open connections until every front has its share).

import net from 'node:net';
import { RespReplyScanner, encodeCommand } from './servers.ts';

// ---------------------------------------------------------------------------
// Decoded replies (RESP2, plus RESP3's null, which these tests never ask for)

export type Reply = string | number | null | ReplyError | Reply[];

/** An error reply (`-ERR ...`), kept as a value rather than thrown. */
export class ReplyError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** Decodes one complete RESP2 reply (as framed by RespReplyScanner). */
export function decodeReply(buf: Buffer): Reply {
  let pos = 0;
  const line = (): string => {
    const cr = buf.indexOf('\r\n', pos, 'latin1');
    if (cr < 0) throw new Error(`decodeReply: no CRLF after offset ${pos}`);
    const text = buf.toString('latin1', pos, cr);
    pos = cr + 2;
    return text;
  };
  const value = (): Reply => {
    const type = String.fromCharCode(buf[pos] ?? 0);
    pos++;
    const head = line();
    switch (type) {
      case '+':
        return head;
      case '-':
        return new ReplyError(head);
      case ':':
        return Number(head);
      case '_':
        return null;
      case '$': {
        const n = Number(head);
        if (n < 0) return null;
        const s = buf.toString('utf8', pos, pos + n);
        pos += n + 2;
        return s;
      }
      case '*': {
        const n = Number(head);
        if (n < 0) return null;
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) out.push(value());
        return out;
      }
      default:
        throw new Error(`decodeReply: unexpected type byte ${JSON.stringify(type)}`);
    }
  };
  return value();
}

// ---------------------------------------------------------------------------
// A raw connection

interface Waiter {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/**
 * One TCP connection speaking RESP: commands go out as multibulks, replies come
 * back as raw bytes (`raw*`) or decoded (`call`), in request order.
 */
export class RespConn {
  readonly sock: net.Socket;
  /** Resolves when the socket closed, for whatever reason. */
  readonly closed: Promise<void>;
  /** True once the socket closed. */
  isClosed = false;
  /** Bytes that arrived while nobody waited for a reply (e.g. an error before a close). */
  unsolicited: Buffer = Buffer.alloc(0);
  private buf: Buffer = Buffer.alloc(0);
  private readonly scanner = new RespReplyScanner(0);
  private readonly waiters: Waiter[] = [];

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    this.closed = new Promise<void>((res) => {
      sock.once('close', () => {
        this.isClosed = true;
        const err = new Error('connection closed');
        for (const w of this.waiters.splice(0)) w.reject(err);
        res();
      });
    });
    sock.on('error', () => {
      // 'close' follows and settles everything.
    });
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** Opens a connection to 127.0.0.1:port. */
  static open(port: number): Promise<RespConn> {
    return new Promise<RespConn>((resolve, reject) => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      const onError = (e: Error): void => reject(e);
      sock.once('error', onError);
      sock.once('connect', () => {
        sock.off('error', onError);
        resolve(new RespConn(sock));
      });
    });
  }

  /** The local port of this connection: Redis's `addr=127.0.0.1:<port>` in CLIENT LIST. */
  get localPort(): number {
    return this.sock.localPort ?? -1;
  }

  get addr(): string {
    return `127.0.0.1:${this.localPort}`;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = this.scanner.scan(this.buf);
      if (end < 0) return;
      const reply = this.buf.subarray(0, end);
      this.buf = this.buf.subarray(end);
      this.scanner.reset(0);
      const w = this.waiters.shift();
      if (w === undefined) this.unsolicited = Buffer.concat([this.unsolicited, reply]);
      else w.resolve(Buffer.from(reply));
    }
  }

  /** Sends raw bytes and waits for `replies` replies. */
  rawSend(bytes: Buffer, replies: number): Promise<Buffer[]> {
    if (this.isClosed) return Promise.reject(new Error('connection closed'));
    const ps: Promise<Buffer>[] = [];
    for (let i = 0; i < replies; i++) {
      ps.push(new Promise<Buffer>((resolve, reject) => this.waiters.push({ resolve, reject })));
    }
    this.sock.write(bytes);
    return Promise.all(ps);
  }

  /** Sends one command, resolves with its reply's raw bytes. */
  async raw(...args: string[]): Promise<Buffer> {
    const [r] = await this.rawSend(encodeCommand(args), 1);
    if (r === undefined) throw new Error('no reply');
    return r;
  }

  /** Sends one command, resolves with its decoded reply (an error reply is a ReplyError value). */
  async call(...args: string[]): Promise<Reply> {
    return decodeReply(await this.raw(...args));
  }

  /** Sends one command and expects a bulk or simple string. */
  async str(...args: string[]): Promise<string> {
    const r = await this.call(...args);
    if (typeof r !== 'string') throw new Error(`${args.join(' ')}: expected a string, got ${JSON.stringify(r)}`);
    return r;
  }

  /** Sends one command and expects an integer. */
  async int(...args: string[]): Promise<number> {
    const r = await this.call(...args);
    if (typeof r !== 'number') throw new Error(`${args.join(' ')}: expected an integer, got ${JSON.stringify(r)}`);
    return r;
  }

  /** Sends every command in one write; resolves with the raw replies in order. */
  pipelineRaw(cmds: ReadonlyArray<ReadonlyArray<string>>): Promise<Buffer[]> {
    return this.rawSend(Buffer.concat(cmds.map((c) => encodeCommand(c))), cmds.length);
  }

  /** Sends every command in one write; resolves with the decoded replies in order. */
  async pipeline(cmds: ReadonlyArray<ReadonlyArray<string>>): Promise<Reply[]> {
    return (await this.pipelineRaw(cmds)).map(decodeReply);
  }

  close(): void {
    this.sock.destroy();
  }
}

// ---------------------------------------------------------------------------
// INFO

/** INFO text as a field map (section headers and blank lines skipped). */
export function infoMap(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

export async function info(c: RespConn, section: string): Promise<Map<string, string>> {
  return infoMap(await c.str('INFO', section));
}

/** `front_<i>_connected_clients` of INFO sabre, for i = 0 .. io_threads-1. Throws if a field is missing. */
export async function frontClientCounts(c: RespConn): Promise<number[]> {
  const m = await info(c, 'sabre');
  const n = Number(m.get('io_threads'));
  if (!Number.isInteger(n) || n < 1) throw new Error(`INFO sabre: io_threads is ${String(m.get('io_threads'))}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = m.get(`front_${i}_connected_clients`);
    if (v === undefined) throw new Error(`INFO sabre has no front_${i}_connected_clients`);
    out.push(Number(v));
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until `ok` holds for its value or `ms` pass; returns the last value. */
export async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------
// Connections spread over the fronts

export interface PlacedConn {
  conn: RespConn;
  /** The front thread that serves it (0 is the main thread). */
  front: number;
  /** Its CLIENT ID. */
  id: number;
}

/**
 * Opens connections one at a time and finds each one's front from the change
 * in INFO sabre's `front_<i>_connected_clients`, read by an observer
 * connection. Only the test opens and closes connections to its server while
 * this runs; closes of earlier connections that are still being counted are
 * waited out (the total must equal the connections the pool knows of).
 */
export class FrontPool {
  readonly port: number;
  readonly observer: RespConn;
  readonly fronts: number;
  readonly placed: PlacedConn[] = [];
  /** Connections that are not in `placed` but count (the observer, and any the caller registered). */
  private extra = 1;

  private constructor(port: number, observer: RespConn, fronts: number) {
    this.port = port;
    this.observer = observer;
    this.fronts = fronts;
  }

  static async create(port: number): Promise<FrontPool> {
    const observer = await RespConn.open(port);
    const counts = await frontClientCounts(observer);
    return new FrontPool(port, observer, counts.length);
  }

  /** The front counts once their total equals the number of connections open (throws after 3 s). */
  async settledCounts(): Promise<number[]> {
    const want = this.placed.filter((p) => !p.conn.isClosed).length + this.extra;
    const counts = await waitFor(
      () => frontClientCounts(this.observer),
      (c) => c.reduce((a, b) => a + b, 0) === want,
    );
    const total = counts.reduce((a, b) => a + b, 0);
    if (total !== want) {
      throw new Error(`front_<i>_connected_clients add up to ${total} (${counts.join(', ')}), ${want} connections are open`);
    }
    return counts;
  }

  /** Opens one connection and returns it with its front and id. */
  async open(): Promise<PlacedConn> {
    const before = await this.settledCounts();
    const conn = await RespConn.open(this.port);
    const id = await conn.int('CLIENT', 'ID'); // served: its front has registered it
    const p: PlacedConn = { conn, front: -1, id };
    this.placed.push(p);
    const after = await this.settledCounts();
    const grew = after.map((v, i) => v - (before[i] ?? 0));
    const front = grew.findIndex((d) => d === 1);
    if (front < 0 || grew.some((d, i) => i !== front && d !== 0)) {
      throw new Error(`cannot tell the front of a new connection: counts ${before.join(',')} -> ${after.join(',')}`);
    }
    p.front = front;
    return p;
  }

  /**
   * Opens connections until every front has at least `perFront` of them (or
   * `maxOpen` were opened: then it throws, naming the counts). Returns those
   * of each front, index = front.
   */
  async spread(perFront: number, maxOpen = 200): Promise<PlacedConn[][]> {
    let opened = 0;
    for (;;) {
      const by = this.byFront();
      if (by.every((l) => l.length >= perFront)) return by;
      if (opened >= maxOpen) {
        throw new Error(`after ${opened} connections the fronts hold ${by.map((l) => l.length).join(', ')}; ` +
          `wanted ${perFront} on each of ${this.fronts}`);
      }
      await this.open();
      opened++;
    }
  }

  /** The open placed connections of each front. */
  byFront(): PlacedConn[][] {
    const by: PlacedConn[][] = Array.from({ length: this.fronts }, () => []);
    for (const p of this.placed) if (!p.conn.isClosed) by[p.front]?.push(p);
    return by;
  }

  /** The front of the observer connection (from the placed connections' counts). */
  async observerFront(): Promise<number> {
    const counts = await this.settledCounts();
    const by = this.byFront();
    const i = counts.findIndex((n, f) => n === (by[f]?.length ?? 0) + 1);
    if (i < 0) throw new Error(`cannot place the observer: counts ${counts.join(',')}`);
    return i;
  }

  /** Marks `n` connections the caller opens outside the pool as counted (negative to unmark). */
  countExtra(n: number): void {
    this.extra += n;
  }

  closeAll(): void {
    for (const p of this.placed) p.conn.close();
    this.observer.close();
  }
}
