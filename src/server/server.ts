import net from 'node:net';
import { REQF_NO_TOUCH, REQF_RESP3 } from '../../native-layout/layout.ts';
import { SHARD_COMMANDS } from '../commands/registry.ts';
import { ERR_NOAUTH, errArity } from '../commands/errors.ts';
import type { CommandSpec } from '../commands/types.ts';
import * as resp from '../protocol/resp.ts';
import { Argv } from '../protocol/argv.ts';
import { Dispatcher, type DeferrableClient } from '../router/dispatcher.ts';
import type { ShardLink } from '../router/shard-link.ts';
import { Client, OutputLimits } from './client.ts';
import { clientInfoLine } from './commands/connection.ts';
import { CommandLookup } from './command-lookup.ts';
import type { Config } from './config.ts';
import type { Coordinator, FrontCommandSpec, FrontContext } from './front-command.ts';
import { logNotice, logVerbose, logWarning } from './log.ts';
import { startInfoSampler } from './info.ts';

export interface CommandEntry {
  readonly spec: CommandSpec;
  /** Opcode on the shards, or -1 for front commands. */
  readonly opcode: number;
  readonly front: FrontCommandSpec | null;
  readonly coordinator: Coordinator | null;
  /** Its INFO commandstats entry, once it has one (saves a map lookup per call). */
  stat: CommandStat | null;
}

export interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

/** Server-wide counters for INFO stats. */
export class ServerStats {
  readonly startTime = Date.now();
  connectionsReceived = 0;
  rejectedConnections = 0;
  commandsProcessed = 0;
  netInput = 0;
  netOutput = 0;
  errorReplies = 0;
  readonly commands = new Map<string, CommandStat>();
  readonly errors = new Map<string, number>();

  reset(): void {
    this.connectionsReceived = 0;
    this.rejectedConnections = 0;
    this.commandsProcessed = 0;
    this.netInput = 0;
    this.netOutput = 0;
    this.errorReplies = 0;
    // Zeroed in place, not dropped: command entries keep references to them.
    for (const st of this.commands.values()) {
      st.calls = 0;
      st.usec = 0;
      st.rejected = 0;
      st.failed = 0;
    }
    this.errors.clear();
  }

  command(name: string): CommandStat {
    let s = this.commands.get(name);
    if (s === undefined) {
      s = { calls: 0, usec: 0, rejected: 0, failed: 0 };
      this.commands.set(name, s);
    }
    return s;
  }
}

const scratchPositions: number[] = [];
const scratchShards: number[] = [];
const oneShard: number[] = [0];
const NO_SHARDS: readonly number[] = [];

/**
 * The front thread: accepts connections, parses requests, runs connection
 * and server commands itself, routes keyed commands to shards through the
 * dispatcher, and writes replies back in request order.
 */
export class Server {
  readonly config: Config;
  readonly links: ShardLink[];
  readonly dispatcher: Dispatcher;
  readonly clients = new Map<number, Client>();
  readonly stats = new ServerStats();
  readonly commands = new Map<string, CommandEntry>();
  private readonly lookup = new CommandLookup<CommandEntry>();
  private nextClientId = 1;
  private readonly dirtyClients: Client[] = [];
  private readonly stalledClients: Client[] = [];
  private listener: net.Server | null = null;
  private pumping = false;
  shuttingDown = false;
  /** Called by SHUTDOWN once replies are out. */
  onShutdown: (code: number) => void = () => {};
  lastSave = Math.floor(Date.now() / 1000);
  /** client-output-buffer-limit, shared by every client (CONFIG SET updates it in place). */
  readonly outputLimits: OutputLimits;

  constructor(config: Config, links: ShardLink[], frontCommands: readonly FrontCommandSpec[],
    coordinators: ReadonlyMap<string, Coordinator>) {
    this.config = config;
    this.links = links;
    this.dispatcher = new Dispatcher(links);
    this.dispatcher.runner = (c, argv, seq) => this.runDeferred(c, argv, seq);
    SHARD_COMMANDS.forEach((spec, opcode) => {
      if (spec.internal) return;
      this.commands.set(spec.name, { spec, opcode, front: null, coordinator: coordinators.get(spec.name) ?? null, stat: null });
    });
    for (const spec of frontCommands) {
      if (this.commands.has(spec.name)) throw new Error(`command declared twice: ${spec.name}`);
      this.commands.set(spec.name, { spec, opcode: -1, front: spec, coordinator: null, stat: null });
    }
    for (const [name, entry] of this.commands) this.lookup.set(name, entry);
    for (const link of links) this.listen(link);
    startInfoSampler(this);
    this.outputLimits = new OutputLimits(config.clientOutputBufferLimits);
    this.outputLimits.describe = (c) => clientInfoLine(c, Date.now(), null);
    config.onChange('client-output-buffer-limit', () => this.outputLimits.set(config.clientOutputBufferLimits));
    setInterval(() => this.closeIdleClients(), 1000).unref();
    // Like Redis's clientsCron: a client past its soft limit is closed once soft-seconds pass, even if idle.
    setInterval(() => {
      for (const c of this.clients.values()) c.checkOutputLimits(false);
    }, 1000).unref();
  }

  get limits(): { protoMaxBulkLen: number; queryBufferLimit: number } {
    return { protoMaxBulkLen: this.config.protoMaxBulkLen, queryBufferLimit: this.config.clientQueryBufferLimit };
  }

  // -- network ----------------------------------------------------------------

  start(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
      srv.on('error', reject);
      srv.listen({ host, port, backlog: this.config.tcpBacklog }, () => {
        srv.off('error', reject);
        srv.on('error', (e) => logWarning(`Listener error: ${e.message}`));
        resolve();
      });
      this.listener = srv;
    });
  }

  get port(): number {
    const a = this.listener?.address();
    return a !== null && typeof a === 'object' ? a.port : 0;
  }

  close(): Promise<void> {
    for (const c of this.clients.values()) c.socket.destroy();
    return new Promise((resolve) => {
      if (this.listener === null) resolve();
      else this.listener.close(() => resolve());
    });
  }

  private onConnection(socket: net.Socket): void {
    this.stats.connectionsReceived++;
    if (this.clients.size >= this.config.maxclients) {
      this.stats.rejectedConnections++;
      socket.end(resp.error('ERR max number of clients reached'));
      return;
    }
    const requirepass = this.config.requirepass;
    const client = new Client(this.nextClientId++, socket, this.limits, requirepass === '', (c) => this.dirtyClients.push(c));
    client.outputLimits = this.outputLimits;
    this.clients.set(client.id, client);
    if (this.config.tcpKeepalive > 0) socket.setKeepAlive(true, this.config.tcpKeepalive * 1000);
    logVerbose(`Accepted ${client.addr}`);
    socket.on('data', (chunk: Buffer) => this.onData(client, chunk));
    socket.on('drain', () => {
      if (client.readPaused && client.stalled === null) {
        client.readPaused = false;
        socket.resume();
        this.processInput(client);
        this.afterBatch();
      }
    });
    socket.on('error', () => { /* 'close' follows */ });
    socket.on('close', () => this.onClose(client));
  }

  /** The `timeout` parameter: close clients idle for longer (Redis's clientsCronHandleTimeout). */
  private closeIdleClients(): void {
    const limit = this.config.timeout * 1000;
    if (limit <= 0) return;
    const now = Date.now();
    for (const c of this.clients.values()) {
      if (now - c.lastInteraction > limit && c.pendingReplies === 0 && c.deferredCount === 0) {
        logVerbose(`Closing idle client id=${c.id} addr=${c.addr}`);
        c.socket.destroy();
      }
    }
  }

  private onClose(client: Client): void {
    client.closed = true;
    this.clients.delete(client.id);
    logVerbose(`Client closed connection id=${client.id} addr=${client.addr}`);
  }

  private onData(client: Client, chunk: Buffer): void {
    this.clock = Date.now();
    client.netIn += chunk.length;
    this.stats.netInput += chunk.length;
    client.parser.feed(chunk);
    this.processInput(client);
    this.afterBatch();
  }

  /** Parses and runs every complete command buffered for the client. */
  processInput(client: Client): void {
    if (client.stalled !== null && !this.retryStalled(client)) {
      // Ring still full: stay on the list, the next flush (after the shard's replies) retries.
      if (!this.stalledClients.includes(client)) this.stalledClients.push(client);
      return;
    }
    const parser = client.parser;
    client.batchQueryBytes = parser.pendingBytes();
    const argv = new Argv(parser.buf, parser.argOffset, parser.argLength, 0);
    argv.release = parser.release;
    while (!client.closed && !client.killed && client.closeAfterSeq < 0) {
      const r = parser.next();
      if (r === 0) break;
      if (r < 0) {
        this.protocolError(client, parser.error);
        break;
      }
      argv.u8 = parser.buf;
      argv.off = parser.argOffset;
      argv.len = parser.argLength;
      argv.count = parser.argc;
      if (!this.execute(client, argv)) {
        this.stall(client);
        break;
      }
    }
    parser.compact();
  }

  private protocolError(client: Client, text: string): void {
    if (text === '' && client.parser.outOfMemory) {
      logWarning(`Closing client that declared a bulk there is no memory for: ${clientInfoLine(client, Date.now(), null)}`);
      client.killed = true;
      client.socket.destroy();
      return;
    }
    if (text === '') {
      // Redis closes silently when the query buffer limit is exceeded.
      const head = reprBytes(client.parser.pendingHead(64));
      logWarning(`Closing client that reached max query buffer length: ${clientInfoLine(client, Date.now(), null)} (qbuf initial bytes: ${head})`);
      client.killed = true;
      client.socket.destroy();
      return;
    }
    logVerbose(`Protocol error (${text}) from client: id=${client.id} addr=${client.addr}`);
    const seq = client.nextSeq++;
    client.closeAfterSeq = seq;
    // The text may quote a raw input byte ("expected '$', got 'X'"): latin1 sends it as Redis does.
    const b = Buffer.from(`-ERR ${text.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1');
    client.deliver(seq, b, 0, b.length);
  }

  // -- command execution ------------------------------------------------------

  private stalledSeq = new Map<Client, number>();

  /**
   * Runs one command. Returns false when a shard ring is full: the caller
   * stops reading this client until the shard catches up.
   */
  execute(client: Client, argv: Argv): boolean {
    client.lastInteraction = this.clock;
    const entry = argv.count > 0 ? this.lookup.get(argv.u8, argv.off[0], argv.len[0]) : undefined;
    if (entry === undefined) {
      this.rejectUnknown(client, argv);
      return true;
    }
    const spec = entry.spec;
    const name = spec.name;
    if ((spec.arity > 0 && argv.count !== spec.arity) || (spec.arity < 0 && argv.count < -spec.arity)) {
      this.stats.command(name).rejected++;
      this.replyError(client, client.takeSeq(), errArity(name));
      return true;
    }
    if (!client.authenticated && !(entry.front?.noAuth ?? false)) {
      this.stats.command(name).rejected++;
      this.replyError(client, client.takeSeq(), ERR_NOAUTH);
      return true;
    }
    client.lastCommand = name;
    const seq = client.takeSeq();
    return this.dispatch(client, argv, seq, entry);
  }

  /**
   * The shards a command touches. Returns scratch or shared arrays, valid
   * until the next call: callers that keep them copy them. Single-key
   * commands (most of the traffic) take a path that allocates nothing.
   */
  private shardsFor(entry: CommandEntry, argv: Argv): readonly number[] {
    const d = this.dispatcher;
    if (entry.front !== null) return entry.front.allShards ? d.everyShard : NO_SHARDS;
    const spec = entry.spec;
    if (spec.firstKey > 0 && spec.lastKey === spec.firstKey) {
      const k = spec.firstKey;
      if (k >= argv.count) return NO_SHARDS;
      oneShard[0] = d.shardOf(argv.u8, argv.off[k], argv.len[k]);
      return oneShard;
    }
    return d.shardsOf(argv, d.keyPositions(spec, argv.count, scratchPositions), scratchShards);
  }

  private dispatch(client: Client, argv: Argv, seq: number, entry: CommandEntry): boolean {
    const d = this.dispatcher;
    const shards = this.shardsFor(entry, argv);
    if (d.mustDefer(client, shards)) {
      d.defer(client, argv, seq, shards);
      return true;
    }
    const ok = this.run(client, argv, seq, entry, shards);
    if (!ok) this.stalledSeq.set(client, seq);
    return ok;
  }

  private runDeferred(c: DeferrableClient, argv: Argv, seq: number): void {
    const client = c as Client;
    const entry = this.commands.get(argv.lower(0)) as CommandEntry;
    if (!this.run(client, argv, seq, entry, this.shardsFor(entry, argv))) {
      // Ring full while replaying: retry shortly; order is kept because the
      // client's later commands are still behind this one.
      c.deferredCount++;
      setTimeout(() => { c.deferredCount--; this.runDeferred(c, argv, seq); this.afterBatch(); }, 1);
    }
  }

  private run(client: Client, argv: Argv, seq: number, entry: CommandEntry, shards: readonly number[]): boolean {
    const stat = entry.stat ?? (entry.stat = this.stats.command(entry.spec.name));
    if (entry.front !== null) {
      const t0 = performance.now();
      try {
        entry.front.front({ srv: this, client, argv, seq });
      } catch (e) {
        // A bug in one command must not take the server (and every client) down.
        logWarning(`Internal error in '${entry.spec.name}': ${(e as Error).stack ?? String(e)}`);
        if (!client.hasReplied(seq)) this.replyError(client, seq, `ERR internal error in '${entry.spec.name}'`);
      }
      stat.calls++;
      stat.usec += Math.round((performance.now() - t0) * 1000);
      this.stats.commandsProcessed++;
      return true;
    }
    const d = this.dispatcher;
    const flags = (client.resp === 3 ? REQF_RESP3 : 0) | (client.noTouch ? REQF_NO_TOUCH : 0);
    let ok: boolean;
    if (shards.length <= 1) {
      ok = d.sendWhole(shards.length === 0 ? 0 : shards[0], entry.opcode, client.db, flags, argv, client, seq);
    } else {
      const spec = entry.spec;
      const positions = d.keyPositions(spec, argv.count, []);
      switch (spec.multi) {
        case 'sum':
          ok = d.sendSplit(entry.opcode, client.db, flags, argv, positions, spec.keyStep, client, seq, 'sum');
          break;
        case 'mset':
          if ((argv.count - spec.firstKey) % spec.keyStep !== 0) {
            // A key without its value (MSET a 1 b): the split would send an argument that is not there.
            this.replyError(client, seq, errArity(spec.name));
            ok = true;
            break;
          }
          ok = d.sendSplit(entry.opcode, client.db, flags, argv, positions, spec.keyStep, client, seq, 'mset');
          break;
        case 'mget':
          ok = d.sendSplit(entry.opcode, client.db, flags, argv, positions, spec.keyStep, client, seq, 'mget');
          break;
        case 'coordinated':
          this.runCoordinated(client, argv.clone(), seq, entry, shards.slice());
          ok = true;
          break;
        default:
          this.replyError(client, seq, `ERR internal: '${spec.name}' spans shards without a multi-shard strategy`);
          ok = true;
      }
    }
    if (ok) {
      stat.calls++;
      this.stats.commandsProcessed++;
    }
    return ok;
  }

  /** Holds the shards, runs the coordinator's phases, replies, releases. */
  private runCoordinated(client: Client, argv: Argv, seq: number, entry: CommandEntry, shards: number[]): void {
    const coordinator = entry.coordinator;
    if (coordinator === null) {
      this.replyError(client, seq, `ERR internal: no coordinator for '${entry.spec.name}'`);
      return;
    }
    const d = this.dispatcher;
    d.hold(shards);
    coordinator({ srv: this, client, argv, seq }, shards).then(
      (reply) => client.deliver(seq, reply, 0, reply.length),
      (e: Error) => {
        logWarning(`Coordinated '${entry.spec.name}' failed: ${e.message}`);
        this.replyError(client, seq, `ERR ${e.message}`);
      },
    ).finally(() => {
      d.release(shards);
      this.afterBatch();
    });
  }

  private rejectUnknown(client: Client, argv: Argv): void {
    // Like processCommand(): the name as '%.128s', each argument as '%.*s'
    // with what is left of a 128-byte budget (the quotes and the space come
    // on top), C-string semantics (a NUL byte ends an argument), every CR and
    // LF mapped to one space, and the bytes sent as they came (latin1).
    const name = argv.count > 0 ? cString(argv.str(0), 128) : '';
    let rest = '';
    for (let i = 1; i < argv.count && rest.length < 128; i++) rest += `'${cString(argv.str(i), 128 - rest.length)}' `;
    const msg = `ERR unknown command '${name}', with args beginning with: ${rest}`;
    this.replyError(client, client.takeSeq(), msg, true);
  }

  /** `bytes`: msg holds raw bytes as latin1 characters (user input); else it is UTF-8 text. */
  replyError(client: Client, seq: number, msg: string, bytes = false): void {
    this.stats.errorReplies++;
    const code = msg.split(' ', 1)[0];
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
    const b = bytes ? Buffer.from(`-${msg.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1') : resp.error(msg);
    client.deliver(seq, b, 0, b.length);
  }

  reply(ctx: FrontContext, b: Uint8Array): void {
    ctx.client.deliver(ctx.seq, b, 0, b.length);
  }

  // -- backpressure -----------------------------------------------------------

  private stall(client: Client): void {
    const parser = client.parser;
    const argv = new Argv(parser.buf, parser.argOffset, parser.argLength, parser.argc);
    client.stalled = argv.clone();
    if (!client.readPaused) {
      client.readPaused = true;
      client.socket.pause();
    }
    this.stalledClients.push(client);
  }

  private retryStalled(client: Client): boolean {
    const argv = client.stalled as Argv;
    const seq = this.stalledSeq.get(client) as number;
    const entry = this.commands.get(argv.lower(0)) as CommandEntry;
    if (!this.run(client, argv, seq, entry, this.shardsFor(entry, argv))) return false;
    client.stalled = null;
    this.stalledSeq.delete(client);
    if (client.readPaused) {
      client.readPaused = false;
      client.socket.resume();
    }
    return true;
  }

  // -- replies ------------------------------------------------------------------

  private listen(link: ShardLink): void {
    const loop = (): void => {
      for (;;) {
        const seen = link.signal();
        this.pump();
        const p = link.park(seen);
        if (p !== null) {
          p.then(loop, loop);
          return;
        }
      }
    };
    loop();
  }

  /** Drains every shard's replies, then writes to clients and retries stalled ones. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (const link of this.links) link.drain();
    } finally {
      this.pumping = false;
    }
    this.afterBatch();
  }

  /**
   * End of a unit of work: asks for one flush at the end of this event-loop
   * turn, so that every socket read in the same poll phase shares one publish
   * (and at most one wake-up) per shard, and replies from several shards leave
   * in one write per client.
   */
  afterBatch(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushTurn);
  }

  private flushScheduled = false;
  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    this.clock = Date.now();
    this.flushNow();
  };
  /** Wall clock sampled once per turn (idle times, client ages). */
  clock = Date.now();

  /** Publishes requests, writes replies, resumes stalled clients. */
  flushNow(): void {
    this.flushClients();
    if (this.stalledClients.length > 0) {
      const stalled = this.stalledClients.splice(0);
      for (const c of stalled) {
        if (c.closed) continue;
        this.processInput(c);
      }
      this.flushClients();
    }
    this.dispatcher.flush();
  }

  /**
   * Writes every dirty client's output, except clients whose pipeline still
   * waits for replies from other shards: those wait a turn or two (see
   * Client.holdOutput) so that a pipeline's replies leave in one write, as
   * they do from Redis, instead of one write per shard that answered.
   */
  private flushClients(): void {
    const dirty = this.dirtyClients;
    let held = 0;
    for (let i = 0; i < dirty.length; i++) {
      const c = dirty[i];
      if (c.holdOutput()) {
        dirty[held++] = c;
        continue;
      }
      const before = c.netOut;
      // Like Redis (client-output-buffer-limit normal 0 0 0), a client that
      // does not read its replies is still read from: one that writes its whole
      // pipeline before reading (redis-py, Jedis) would otherwise deadlock
      // once both directions' buffers are full.
      c.flush();
      this.stats.netOutput += c.netOut - before;
    }
    dirty.length = held;
    // The held clients' missing replies schedule a turn when they arrive; the
    // timer is the safety net for a reply that arrives without one.
    if (held > 0) this.holdTimer.refresh();
  }

  private readonly holdTimer = setTimeout(() => this.afterBatch(), 1).unref();

  /** Fans a command out to every shard and replies with the combination. */
  broadcast(ctx: FrontContext, shardCommand: string, args: ReadonlyArray<string | Uint8Array>,
    combine: (parts: Buffer[]) => Buffer): void {
    const argv = Argv.fromStrings([shardCommand, ...args]);
    const op = this.commands.get(shardCommand)?.opcode ?? internalOpcode(shardCommand);
    const c = ctx.client;
    const flags = (c.resp === 3 ? REQF_RESP3 : 0) | (c.noTouch ? REQF_NO_TOUCH : 0);
    if (!this.dispatcher.broadcast(op, c.db, flags, argv, c, ctx.seq, combine)) {
      // Rings full: try again on the next turn (rare; fan-outs are small records).
      setTimeout(() => { this.broadcast(ctx, shardCommand, args, combine); this.afterBatch(); }, 1);
    }
  }

  /** Runs one shard command and resolves with its reply (front commands that need one shard). */
  callShard(shard: number, name: string, db: number, args: ReadonlyArray<string | Uint8Array>, resp3 = false): Promise<Buffer> {
    return this.dispatcher.call(shard, name, db, resp3 ? REQF_RESP3 : 0, args);
  }

  logShutdown(): void {
    logNotice('User requested shutdown...');
  }
}

/** Bytes quoted like Redis's sdscatrepr(): printable ASCII as is, \\ \" \n \r \t \a \b escaped, the rest \xhh. */
function reprBytes(b: Uint8Array): string {
  let out = '"';
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x22) out += '\\"';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c >= 0x20 && c <= 0x7e) out += String.fromCharCode(c);
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + '"';
}

/** printf("%.*s", n, s) on a C string: stops at a NUL byte and after n bytes. */
function cString(s: string, n: number): string {
  const nul = s.indexOf('\0');
  const end = Math.min(nul < 0 ? s.length : nul, n);
  return end < s.length ? s.slice(0, end) : s;
}

function internalOpcode(name: string): number {
  const i = SHARD_COMMANDS.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`unknown shard command ${name}`);
  return i;
}

