import net from 'node:net';
import { ORDER_CONNECTED_CLIENTS, ORDER_NEXT_CLIENT_ID, orderFrontBuffersOffset, REQF_NO_TOUCH, REQF_RESP3 } from '../../native-layout/layout.ts';
import { SHARD_COMMANDS } from '../commands/registry.ts';
import { ERR_NOAUTH, errArity } from '../commands/errors.ts';
import type { CommandSpec, MultiShardKind } from '../commands/types.ts';
import * as resp from '../protocol/resp.ts';
import { Argv } from '../protocol/argv.ts';
import { Dispatcher } from '../router/dispatcher.ts';
import type { ShardLink } from '../router/shard-link.ts';
import { BLOCK_COMMAND, BLOCK_NONE, BLOCK_REPLY, BLOCK_SEND, Client, OutputLimits } from './client.ts';
import { clientInfoLine } from './commands/connection.ts';
import { CommandLookup } from './command-lookup.ts';
import type { Config } from './config.ts';
import type { Coordinator, FrontCommandSpec, FrontContext, FrontHandler } from './front-command.ts';
import { logNotice, logVerbose, logWarning } from './log.ts';
import { resetInfoStats, startInfoSampler } from './info.ts';
import { readSlowTrailer, Slowlog, slowlogArgs, type SlowlogClient } from './slowlog.ts';
import { MemoryGuard } from './memory-guard.ts';
import { Blocking } from './blocking.ts';
import { FrontPeers } from './front-peers.ts';
import { ReplyPump } from './reply-pump.ts';
import { Listeners } from './listeners.ts';
import { installServerWide } from './server-wide.ts';
import { readSocket } from './socket-reads.ts';
import { timedOnlyWhenBig, timesEverything } from '../shard/slow-probe.ts';

/** The shards of a batch of inline commands (Server.runBatched): shard 0, which the only front runs itself. */
const SHARD_ZERO: readonly number[] = [0];

/** A command's argument count does not fit its arity (Redis's arity rule: exactly n, or at least -n). */
function wrongArity(entry: CommandEntry, argc: number): boolean {
  const arity = entry.arity;
  return (arity > 0 && argc !== arity) || (arity < 0 && argc < -arity);
}

/** The request flags of a client's commands: the reply protocol and CLIENT NO-TOUCH. */
function requestFlags(client: Client): number {
  return (client.resp === 3 ? REQF_RESP3 : 0) | (client.noTouch ? REQF_NO_TOUCH : 0);
}

/**
 * A command as the front runs it. The fields read for every request are
 * copied out of its spec: specs are object literals of many shapes, and
 * reading them per request went through V8's megamorphic property lookup
 * (3% of a GET's CPU at -P 16); every entry has this one shape.
 */
export class CommandEntry {
  readonly name: string;
  readonly arity: number;
  readonly firstKey: number;
  readonly keyStep: number;
  /** One key, at firstKey (GET, SET, INCR...): its shard is the command's. */
  readonly singleKey: boolean;
  /** Keys at first, last and step only (MSET, DEL...): with one shard, the command's shard is known. */
  readonly fixedKeys: boolean;
  readonly movableKeys: NonNullable<CommandSpec['movableKeys']> | null;
  readonly multi: MultiShardKind | null;
  /** A front command that runs without authentication (AUTH, HELLO, QUIT, ...). */
  readonly noAuth: boolean;
  /** A front command that touches every shard (DBSIZE, FLUSHALL, KEYS, ...). */
  readonly allShards: boolean;
  /** A front command's handler. */
  readonly frontHandler: FrontHandler | null;
  /** Fast (PING, ECHO, SELECT...) or size-bound: not timed at the usual slow-log thresholds (Server.runFront). */
  readonly timedOnlyWhenBig: boolean;
  readonly spec: CommandSpec;
  /** Opcode on the shards, or -1 for front commands. */
  readonly opcode: number;
  readonly front: FrontCommandSpec | null;
  readonly coordinator: Coordinator | null;
  /** A blocking pop (BLPOP...): runs from server/blocking.ts. */
  readonly blocking: boolean;
  /** May run in a batch of inline commands (Server.runBatched): one key, on a shard, not blocking. */
  readonly batchable: boolean;
  /** Its INFO commandstats entry, once it has one (saves a map lookup per call). */
  stat: CommandStat | null = null;

  constructor(spec: CommandSpec, opcode: number, front: FrontCommandSpec | null, coordinator: Coordinator | null,
    blocking: boolean) {
    this.spec = spec;
    this.opcode = opcode;
    this.front = front;
    this.coordinator = coordinator;
    this.blocking = blocking;
    this.name = spec.name;
    this.arity = spec.arity;
    this.firstKey = spec.firstKey;
    this.keyStep = spec.keyStep;
    this.singleKey = front === null && spec.firstKey > 0 && spec.lastKey === spec.firstKey && spec.movableKeys === undefined;
    this.fixedKeys = front === null && spec.firstKey > 0 && spec.movableKeys === undefined && spec.keyNumArg === undefined;
    this.batchable = this.singleKey && !blocking && coordinator === null;
    this.movableKeys = spec.movableKeys ?? null;
    this.multi = spec.multi ?? null;
    this.noAuth = front?.noAuth === true;
    this.allShards = front?.allShards === true;
    this.frontHandler = front?.front ?? null;
    this.timedOnlyWhenBig = timedOnlyWhenBig(spec);
  }
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

const oneShard: number[] = [0];
const NO_SHARDS: readonly number[] = [];

/**
 * Bytes a blocked client may have waiting in its parser before its socket is
 * paused: enough to see a disconnect that follows a short pipeline, small
 * enough that a client whose commands wait costs no memory to speak of.
 */
const BLOCKED_READ_AHEAD = 64 * 1024;

/**
 * The front thread: accepts connections, parses requests, runs connection
 * and server commands itself, routes keyed commands to shards through the
 * dispatcher, and writes replies back in request order.
 */
export class Server {
  readonly config: Config;
  readonly links: ShardLink[];
  readonly dispatcher: Dispatcher;
  /** used_memory, maxmemory admission, shard-fill watch (memory-guard.ts). */
  readonly memory: MemoryGuard;
  readonly clients = new Map<number, Client>();
  readonly stats = new ServerStats();
  readonly commands = new Map<string, CommandEntry>();
  private readonly lookup = new CommandLookup<CommandEntry>();
  private nextClientId = 1;
  /** The sockets stage: listeners on the bound addresses (server/listeners.ts). */
  private readonly listeners: Listeners;
  /** Blocked clients to retry (BLOCK_COMMAND, BLOCK_SEND, or just unblocked), in the order they blocked. */
  private waiting: Client[] = [];
  private resuming = false;
  /** Set by broadcast(): the front command running now handed its reply to a fan-out. */
  private fannedOut = false;
  shuttingDown = false;
  /** Called by SHUTDOWN once replies are out. */
  onShutdown: (code: number) => void = () => {};
  lastSave = Math.floor(Date.now() / 1000);
  readonly slowlog = new Slowlog();
  /** slowlog-log-slower-than, kept here for the per-command check (negative: off). */
  private slowlogThresholdUs: number;
  /** Front commands whose reply had not come when they returned: logged once it has. */
  private readonly slowPending: Array<{ client: Client; seq: number; t0: number; args: Buffer[] }> = [];
  /** client-output-buffer-limit, shared by every client (CONFIG SET updates it in place). */
  readonly outputLimits: OutputLimits;
  /** Clients blocked on keys (BLPOP...), and the wake-ups. */
  readonly blocking: Blocking;

  /** The other front threads (io-threads), to gather or spread what is server-wide. */
  readonly peers: FrontPeers;
  /** The last stage: replies to sockets, once per turn (server/reply-pump.ts). */
  readonly replies: ReplyPump;
  /** The order block shared by the front threads (io-threads > 1: client ids, client count, tickets), else null. */
  private readonly order: Int32Array | null;
  /** Shard 0's link when this front is the only one (a batch of inline commands may run on it when the front runs it), else null. */
  private readonly batchLink: ShardLink | null;
  /** A batch of inline commands is open (processInput, runBatched): the client's output is lent to the shard. */
  private batchOpen = false;

  constructor(config: Config, links: ShardLink[], frontCommands: readonly FrontCommandSpec[],
    coordinators: ReadonlyMap<string, Coordinator>, peers: FrontPeers = new FrontPeers(0, 1), order: Int32Array | null = null) {
    this.config = config;
    this.links = links;
    this.peers = peers;
    this.order = order;
    this.dispatcher = new Dispatcher(links, order);
    this.batchLink = peers.single ? (links[0] as ShardLink) : null;
    this.replies = new ReplyPump(this);
    this.listeners = new Listeners((socket) => this.onConnection(socket), () => this.config.tcpBacklog, !peers.single, peers.index === 0);
    this.dispatcher.onDeferred = () => this.afterBatch();
    this.memory = new MemoryGuard(this);
    if (order !== null) {
      this.memory.shareFrontBytes(new Float64Array(order.buffer, orderFrontBuffersOffset(links.length), peers.count), peers.index);
    }
    SHARD_COMMANDS.forEach((spec, opcode) => {
      if (spec.internal) return;
      this.commands.set(spec.name, new CommandEntry(spec, opcode, null, coordinators.get(spec.name) ?? null,
        spec.flags.includes('blocking')));
    });
    for (const spec of frontCommands) {
      if (this.commands.has(spec.name)) throw new Error(`command declared twice: ${spec.name}`);
      this.commands.set(spec.name, new CommandEntry(spec, -1, spec, null, false));
    }
    for (const [name, entry] of this.commands) this.lookup.set(name, entry);
    this.slowlogThresholdUs = config.slowlogLogSlowerThan;
    // Redis trims the log after every command while it is enabled; here only commands that add an
    // entry trim it, so these settings trim it when they change (after the CONFIG SET, Redis would).
    const trimSlowlog = (): void => {
      if (this.slowlogThresholdUs >= 0) this.slowlog.trim(config.slowlogMaxLen);
    };
    config.onChange('slowlog-log-slower-than', () => {
      this.slowlogThresholdUs = config.slowlogLogSlowerThan;
      trimSlowlog();
    });
    config.onChange('slowlog-max-len', trimSlowlog);
    // Before the links are listened to: their first drain may already meet blocked clients' trailers.
    this.blocking = new Blocking(this);
    installServerWide(this, order);
    for (const link of links) {
      link.onSlowReply = (target, u8, start, end) => this.logShardSlow(target, u8, start, end);
      link.onDeliveryError = (target, e) => {
        logWarning(`Error while handing a reply from shard ${link.id} to its client: ${(e as Error).stack ?? String(e)}`);
        // That client's replies now have a hole: it can only be closed.
        if (target instanceof Client) {
          target.killed = true;
          target.socket.destroy();
        }
      };
      // A shard this front runs itself is drained right after it runs (flushNow), not woken up for.
      if (link.embedded === null) this.replies.listen(link);
      else link.embedded.onServed = () => this.replies.pumpSafely(`shard ${link.id}'s replies`);
    }
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

  /** Listens on every address of `bind` (server/listeners.ts); resolves with the number of sockets listening. */
  start(bind: readonly string[], port: number): Promise<number> {
    return this.listeners.start(bind, port);
  }

  /** A listener on an ephemeral loopback port for the start-up warm-up (server/warmup.ts). */
  listenWarmUp(): Promise<net.Server[]> {
    return this.listeners.listenWarmUp();
  }

  /**
   * After the warm-up, before the real listeners open: the counters it moved
   * (client ids, INFO stats and commandstats, errorstats, the shards'
   * hit/miss/expiry counters, the slow log and its ids, peak memory) read as
   * on a server that never served anyone.
   */
  forgetWarmUp(): void {
    // With several front threads the shared id counter restarts once every front has warmed up (bootstrap).
    this.nextClientId = 1;
    this.stats.reset();
    resetInfoStats(this);
    this.slowlog.forget();
    this.slowPending.length = 0;
  }

  /** The port listened on (the first listener's), 0 when none. */
  get port(): number {
    return this.listeners.port;
  }

  /** The local addresses listened on, as "ip:port". */
  get listeningAddresses(): string[] {
    return this.listeners.addresses;
  }

  close(): Promise<void> {
    for (const c of this.clients.values()) c.socket.destroy();
    return this.listeners.close();
  }

  /** Clients connected to every front thread (maxclients counts them all). */
  get connectedClients(): number {
    return this.order === null ? this.clients.size : Atomics.load(this.order, ORDER_CONNECTED_CLIENTS);
  }

  /** Takes a client out of the list and of the client count every front shares: when it closes, or at once when killed. */
  dropClient(client: Client): void {
    if (this.clients.delete(client.id) && this.order !== null) Atomics.sub(this.order, ORDER_CONNECTED_CLIENTS, 1);
  }

  /** The next client id: unique across front threads. */
  private takeClientId(): number {
    return this.order === null ? this.nextClientId++ : Atomics.add(this.order, ORDER_NEXT_CLIENT_ID, 1) >>> 0;
  }

  private onConnection(socket: net.Socket): void {
    if (this.connectedClients >= this.config.maxclients) {
      this.stats.rejectedConnections++;
      socket.end(resp.error('ERR max number of clients reached'));
      return;
    }
    const requirepass = this.config.requirepass;
    // Redis 7.0's protected mode: with no password for the default user, only
    // loopback peers may talk to the server, whatever it is bound to.
    if (this.config.protectedMode && requirepass === '' && !isLoopbackPeer(socket)) {
      this.stats.rejectedConnections++;
      socket.on('error', () => { /* the peer may be gone already */ });
      socket.end(PROTECTED_MODE_DENIED);
      return;
    }
    // Like Redis, a refused connection counts in rejected_connections only, not in total_connections_received.
    this.stats.connectionsReceived++;
    const client = new Client(this.takeClientId(), socket, this.limits, requirepass === '', (c) => this.markDirty(c));
    client.outputLimits = this.outputLimits;
    this.clients.set(client.id, client);
    if (this.order !== null) Atomics.add(this.order, ORDER_CONNECTED_CLIENTS, 1);
    client.onAwaitDone = (c) => this.unblocked(c);
    if (this.config.tcpKeepalive > 0) socket.setKeepAlive(true, this.config.tcpKeepalive * 1000);
    logVerbose(`Accepted ${client.addr}`);
    // Into the thread's one read buffer where Node allows it (no allocation per read), else as 'data'.
    readSocket(socket, (buf: Buffer, n: number): void => {
      try {
        this.onData(client, buf, n);
      } catch (e) {
        // A bug met while serving one client closes that client, not the server.
        logWarning(`Error while serving client id=${client.id} addr=${client.addr}, closing it: ${(e as Error).stack ?? String(e)}`);
        client.killed = true;
        socket.destroy();
      }
    });
    socket.on('drain', () => {
      if (client.readPaused && client.blocked === BLOCK_NONE) {
        this.readOn(client);
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
      if (now - c.lastInteraction > limit && c.pendingReplies === 0 && c.blocked === BLOCK_NONE) {
        logVerbose(`Closing idle client id=${c.id} addr=${c.addr}`);
        c.socket.destroy();
      }
    }
  }

  private onClose(client: Client): void {
    client.closed = true;
    this.dropClient(client);
    this.blocking.clientClosed(client);
    // A closed client leaves nothing behind. A command it could not start is
    // dropped, as Redis drops what it had not run. A fan-out whose front part
    // already ran (CONFIG SET...) stays on the waiting list until it is sent,
    // and a coordinated command finishes; their replies go nowhere.
    if (client.blocked === BLOCK_COMMAND) {
      client.pending = null;
      client.blocked = BLOCK_NONE;
    }
    if (client.waiting && client.blocked !== BLOCK_SEND) {
      client.waiting = false;
      const w = this.waiting.indexOf(client);
      if (w >= 0) this.waiting.splice(w, 1);
    }
    this.replies.forget(client);
    logVerbose(`Client closed connection id=${client.id} addr=${client.addr}`);
  }

  private onData(client: Client, buf: Buffer, n: number): void {
    this.replies.clock = Date.now();
    client.netIn += n;
    this.stats.netInput += n;
    client.parser.feed(buf, n);
    if (client.blocked !== BLOCK_NONE) {
      // Its commands wait: the bytes stay in the parser (copied out of the chunk: the read
      // buffer is reused), and past a small read-ahead the socket is paused.
      client.parser.compact();
      this.pauseIfFull(client);
      return;
    }
    this.processInput(client);
    this.afterBatch();
  }

  /**
   * Parses and runs the client's buffered commands, one after another, until
   * one cannot run now: that one, and everything after it, waits (see resume).
   */
  processInput(client: Client): void {
    if (client.blocked !== BLOCK_NONE) return;
    const parser = client.parser;
    client.batchQueryBytes = parser.pendingBytes();
    const argv = new Argv(parser.buf, parser.argOffset, parser.argLength, 0);
    argv.release = parser.release;
    while (!client.closed && !client.killed && client.closeAfterSeq < 0) {
      const r = parser.next();
      if (r === 0) break;
      if (r < 0) {
        if (this.batchOpen) this.endBatch(client);
        this.protocolError(client, parser.error);
        break;
      }
      argv.u8 = parser.buf;
      argv.off = parser.argOffset;
      argv.len = parser.argLength;
      argv.count = parser.argc;
      if (this.batchLink !== null) {
        if (this.runBatched(client, argv)) continue;
        if (this.batchOpen) this.endBatch(client);
      }
      if (!this.execute(client, argv)) {
        this.block(client, argv.clone());
        break;
      }
      if (client.blocked !== BLOCK_NONE) {
        // It runs on (a coordinated command, SCAN) or its fan-out waits for room: the next command waits for it.
        this.pauseIfFull(client);
        break;
      }
    }
    if (this.batchOpen) this.endBatch(client);
    parser.compact();
  }

  /**
   * Runs a command as part of a batch of the client's inline commands, opening the batch if
   * need be, and returns true; false, having done nothing, when it must go the usual way
   * (execute). A batch lends the client's output to shard 0, which this front runs itself (the
   * only front: see mayBatch), once for a run of commands
   * (ShardLink.beginBatch), instead of once per command, and checks once what cannot change
   * while only such commands run: the client's state and replies, its authentication and
   * output limits (Client.batchOutput), the shard's holds, maxmemory. Each command is one that
   * execute() and run() would run inline: one key, on the shard, not blocking, of the right
   * arity, small enough for a ring record. Whatever else comes ends the batch first
   * (processInput), so nothing but its own commands touches the lent output.
   */
  private runBatched(client: Client, argv: Argv): boolean {
    const link = this.batchLink as ShardLink;
    if (!this.batchOpen && !link.mayBatch()) return false;
    // Looked up again by execute() when it goes the usual way. Looked up in processInput and
    // passed to both, the loop was too big for V8 to inline the parser's next() into it, and
    // the lookup written as a call here left runInBatch out of this function (+50 per request).
    const entry = argv.count > 0 ? this.lookup.get(argv.u8, argv.off[0], argv.len[0]) : undefined;
    if (entry === undefined || !entry.batchable) return false;
    const k = entry.firstKey;
    if (wrongArity(entry, argv.count) || k >= argv.count) return false;
    const d = this.dispatcher;
    if (d.shardCount > 1 && d.shardOf(argv.u8, argv.off[k], argv.len[k]) !== 0) return false;
    const bytes = link.inlineRecordBytes(argv);
    if (bytes < 0 || (!this.batchOpen && !this.beginBatch(client, link))) return false;
    client.lastCommand = entry.name;
    const stat = entry.stat ?? (entry.stat = this.stats.command(entry.name));
    // Replies are on (batchOutput): taking the number is all takeSeq would do.
    const seq = client.nextSeq++;
    // Closed while the command runs: a reply that ends the batch is delivered through the ring,
    // and what that delivery sets off (another client's input) must not see this batch open.
    this.batchOpen = false;
    this.batchOpen = link.runInBatch(entry.opcode, argv, client, seq, bytes);
    this.counted(stat);
    return true;
  }

  private beginBatch(client: Client, link: ShardLink): boolean {
    if (this.memory.limited || this.dispatcher.sequencer.isHeld(SHARD_ZERO)) return false;
    const out = client.batchOutput();
    if (out === null) return false;
    // The database and the request flags hold for the whole batch: SELECT, HELLO and CLIENT
    // NO-TOUCH are front commands, which end it first.
    link.beginBatch(out, client.outLen, client.db, requestFlags(client));
    this.batchOpen = true;
    // Nothing in a batch waits: it runs within this turn, whose clock this is.
    client.lastInteraction = this.clock;
    return true;
  }

  private endBatch(client: Client): void {
    this.batchOpen = false;
    (this.batchLink as ShardLink).endBatch(client, client.nextSeq - 1);
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

  /**
   * Runs one command, checking it as Redis's processCommand does at the time
   * it runs (so AUTH, RESET, SELECT, CLIENT REPLY before it have taken
   * effect). Returns false, having done nothing, when it cannot start now: a
   * shard it touches is held, or a ring has no room for it.
   */
  execute(client: Client, argv: Argv): boolean {
    client.lastInteraction = this.clock;
    const entry = argv.count > 0 ? this.lookup.get(argv.u8, argv.off[0], argv.len[0]) : undefined;
    if (entry === undefined) {
      this.rejectUnknown(client, argv);
      return true;
    }
    const name = entry.name;
    if (wrongArity(entry, argv.count)) {
      this.stats.command(name).rejected++;
      this.replyError(client, client.takeSeq(), errArity(name));
      return true;
    }
    if (!client.authenticated && !entry.noAuth) {
      this.stats.command(name).rejected++;
      this.replyError(client, client.takeSeq(), ERR_NOAUTH);
      return true;
    }
    const shards = this.shardsFor(entry, argv);
    if (this.dispatcher.sequencer.isHeld(shards)) return false;
    client.lastCommand = name;
    return this.run(client, argv, entry, shards);
  }

  /**
   * The shards a command touches. Returns a scratch or shared array for a
   * single key or none (valid until the next call: callers that keep it copy
   * it), a new one otherwise. Single-key commands (most of the traffic) take
   * a path that allocates nothing.
   */
  private shardsFor(entry: CommandEntry, argv: Argv): readonly number[] {
    const d = this.dispatcher;
    if (entry.singleKey) {
      const k = entry.firstKey;
      if (k >= argv.count) return NO_SHARDS;
      // One shard: every key is its, no need to read the key.
      oneShard[0] = d.shardCount === 1 ? 0 : d.shardOf(argv.u8, argv.off[k], argv.len[k]);
      return oneShard;
    }
    if (entry.front !== null) return entry.allShards ? d.everyShard : NO_SHARDS;
    // One shard holds every key: no positions to list (argc passed the arity check, so the first key is there).
    if (entry.fixedKeys && d.shardCount === 1 && entry.firstKey < argv.count) return d.everyShard;
    const spec = entry.spec;
    if (entry.movableKeys !== null) {
      // SORT: its pattern keys may be on any shard.
      const positions: number[] = [];
      if (entry.movableKeys(argv, positions, true) && d.shardCount > 1) return d.everyShard;
      return d.shardsOf(argv, positions);
    }
    return d.shardsOf(argv, d.keyPositionsOf(spec, argv));
  }

  /**
   * Starts a command whose shards are free. A front command always runs; a
   * shard command returns false when a ring has no room, and then nothing was
   * written and no sequence number taken (the number is taken once the
   * records are in the rings: the reply cannot come before that).
   */
  private run(client: Client, argv: Argv, entry: CommandEntry, shards: readonly number[]): boolean {
    const stat = entry.stat ?? (entry.stat = this.stats.command(entry.name));
    // maxmemory: denyoom commands are refused before they start (memory-guard.ts).
    if (this.memory.limited && this.memory.refuses(entry.spec)) return this.memory.reject(client, client.takeSeq(), stat);
    if (entry.front !== null) {
      this.runFront(client, argv, client.takeSeq(), entry, stat);
      return true;
    }
    if (entry.blocking) {
      this.blocking.start(client, argv, entry.name);
      this.counted(stat);
      return true;
    }
    const flags = requestFlags(client);
    if (shards.length > 1) return this.runSplit(client, argv, entry, shards, flags, stat);
    const d = this.dispatcher;
    const shard = shards.length === 0 ? 0 : shards[0];
    const link = d.links[shard];
    const inline = link.embedded === null ? -1 : link.inlineBytes(argv);
    if (inline >= 0) {
      // A shard this front runs itself, with nothing of this front in flight to it: the command
      // runs now, and its reply comes before this returns (so its number is taken first).
      link.runInline(entry.opcode, client.db, flags, argv, client, client.takeSeq(), inline);
      this.counted(stat);
      return true;
    }
    if (!d.sendWhole(shard, entry.opcode, client.db, flags, argv, client, client.nextSeq)) return false;
    client.takeSeq();
    this.counted(stat);
    return true;
  }

  /**
   * run() for a command whose keys span shards: split by shard, or
   * coordinated. Kept apart so that run(), on every request's path, stays
   * under V8's inlining limit (460 bytes of bytecode).
   */
  private runSplit(client: Client, argv: Argv, entry: CommandEntry, shards: readonly number[], flags: number,
    stat: CommandStat): boolean {
    const d = this.dispatcher;
    const seq = client.nextSeq;
    const positions = d.keyPositionsOf(entry.spec, argv);
    let ok: boolean;
    switch (entry.multi) {
      case 'sum':
      case 'mget':
        ok = d.sendSplit(entry.opcode, client.db, flags, argv, positions, entry.keyStep, client, seq, entry.multi);
        break;
      case 'mset':
        if ((argv.count - entry.firstKey) % entry.keyStep !== 0) {
          // A key without its value (MSET a 1 b): the split would send an argument that is not there.
          this.replyError(client, client.takeSeq(), errArity(entry.name));
          this.counted(stat);
          return true;
        }
        ok = d.sendSplit(entry.opcode, client.db, flags, argv, positions, entry.keyStep, client, seq, 'mset');
        if (d.refusedForMemory) {
          // Some shard might not have room for its part: nothing was sent (all or nothing).
          d.refusedForMemory = false;
          return this.memory.reject(client, client.takeSeq(), stat);
        }
        break;
      case 'coordinated':
        // Other front threads' commands are kept off these shards too (a shard-side hold).
        if (!d.lockShards(shards)) return false;
        this.runCoordinated(client, argv.clone(), client.takeSeq(), entry, shards.slice());
        this.counted(stat);
        return true;
      default:
        this.replyError(client, client.takeSeq(), `ERR internal: '${entry.name}' spans shards without a multi-shard strategy`);
        this.counted(stat);
        return true;
    }
    if (!ok) return false;
    client.takeSeq();
    this.counted(stat);
    return true;
  }

  private counted(stat: CommandStat): void {
    stat.calls++;
    this.stats.commandsProcessed++;
  }

  private runFront(client: Client, argv: Argv, seq: number, entry: CommandEntry, stat: CommandStat): void {
    // A fast command is timed only when the slow log's threshold is below a millisecond, as the
    // shards time theirs (shard/slow-probe.ts): two clock reads were 7% of a PING's CPU. Its
    // commandstats usec stay 0 then, as a GET's do.
    const threshold = this.slowlogThresholdUs;
    const timed = !entry.timedOnlyWhenBig || timesEverything(threshold);
    const t0 = timed ? performance.now() : 0;
    this.fannedOut = false;
    try {
      (entry.frontHandler as FrontHandler)({ srv: this, client, argv, seq });
    } catch (e) {
      // A bug in one command must not take the server (and every client) down.
      logWarning(`Internal error in '${entry.name}': ${(e as Error).stack ?? String(e)}`);
      if (!client.hasReplied(seq)) this.replyError(client, seq, `ERR internal error in '${entry.name}'`);
    }
    const replied = client.hasReplied(seq);
    if (!this.fannedOut && client.blocked === BLOCK_NONE && !replied) {
      // It answers later, from shard calls (SCAN): the client's next command waits for that reply.
      client.blocked = BLOCK_REPLY;
      client.awaitSeq = seq;
    }
    this.counted(stat);
    // Timed once, as Redis's call() times it for both. Most front commands have replied by now,
    // and most take far less than the threshold: they leave nothing to log. (An untimed one is
    // below any threshold it is not timed at.)
    const us = timed ? (performance.now() - t0) * 1000 : 0;
    stat.usec += Math.round(us);
    if (threshold >= 0 && (us >= threshold || !replied)) this.slowFront(client, argv, seq, timed ? t0 : performance.now());
  }

  /** Holds the shards, runs the coordinator's phases, replies, releases. */
  private runCoordinated(client: Client, argv: Argv, seq: number, entry: CommandEntry, shards: number[]): void {
    const coordinator = entry.coordinator;
    if (coordinator === null) {
      this.replyError(client, seq, `ERR internal: no coordinator for '${entry.name}'`);
      return;
    }
    const d = this.dispatcher;
    d.sequencer.hold(shards);
    // The client's next command waits for this one's reply, so it sees its effects (and its state: db, protocol).
    client.blocked = BLOCK_REPLY;
    client.awaitSeq = seq;
    const t0 = performance.now();
    const done = (reply: Uint8Array | null, error: string): void => {
      d.unlockShards(shards);
      d.sequencer.release(shards);
      if (reply !== null) client.deliver(seq, reply, 0, reply.length);
      else this.replyError(client, seq, error);
      if (this.slowlogThresholdUs >= 0) this.slowFront(client, argv, seq, t0);
      // Those that waited for the holds go now, before anything read later.
      this.resumeWaiting();
      this.afterBatch();
    };
    let running: Promise<Uint8Array>;
    try {
      running = coordinator({ srv: this, client, argv, seq }, shards);
    } catch (e) {
      running = Promise.reject(e as Error);
    }
    running.then(
      (reply) => done(reply, ''),
      (e: Error) => {
        logWarning(`Coordinated '${entry.name}' failed: ${e.message}`);
        done(null, `ERR ${e.message}`);
      },
    );
  }

  // -- slow log ---------------------------------------------------------------

  /** Logs a front (or coordinated) command timed from `t0`, now or once its reply is out. */
  private slowFront(client: Client, argv: Argv, seq: number, t0: number): void {
    const args = (): Buffer[] => slowlogArgs(argv.count, (i) => argv.bytes(i));
    if (client.hasReplied(seq)) {
      this.pushSlow((performance.now() - t0) * 1000, args, client);
    } else {
      this.slowPending.push({ client, seq, t0, args: args() });
    }
  }

  /** Logs the front commands whose replies have come since (called every flush while some wait). */
  checkSlowPending(): void {
    if (this.slowPending.length === 0) return;
    const now = performance.now();
    let keep = 0;
    for (const p of this.slowPending) {
      if (p.client.hasReplied(p.seq)) this.pushSlow((now - p.t0) * 1000, () => p.args, p.client);
      else if (!p.client.closed) this.slowPending[keep++] = p;
    }
    this.slowPending.length = keep;
  }

  /** A shard command that the shard found slow (its reply carried the trailer). */
  private logShardSlow(target: unknown, u8: Uint8Array, start: number, end: number): void {
    const { args, durationUs } = readSlowTrailer(u8, start, end);
    const sink = target instanceof Client ? target : (target as { sink?: unknown } | null)?.sink;
    this.pushSlow(durationUs, () => args, sink instanceof Client ? sink : { addr: '', name: '' });
  }

  private pushSlow(durationUs: number, args: () => Buffer[], client: SlowlogClient): void {
    this.slowlog.push(this.slowlogThresholdUs, this.config.slowlogMaxLen, durationUs, args, client);
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

  // -- waiting ------------------------------------------------------------------
  //
  // One rule keeps a client's commands in its order whatever is full or held:
  // a command that cannot start now (a shard it touches is held, a ring has no
  // room for it, or its fan-out waits for room) blocks its client. Nothing the
  // client sent after it runs, or is even parsed, until it has gone; the
  // socket is paused once BLOCKED_READ_AHEAD bytes wait. Blocked clients are
  // retried in the order they blocked whenever rings may have gained room (after
  // every drain of the shards' replies) and when holds are released. No timer.

  /** `head` (a copy: the read buffer moves on) could not start: the client waits with it. */
  private block(client: Client, head: Argv): void {
    client.pending = head;
    client.blocked = BLOCK_COMMAND;
    this.addWaiting(client);
    this.pauseIfFull(client);
  }

  private addWaiting(client: Client): void {
    if (client.waiting) return;
    client.waiting = true;
    this.waiting.push(client);
  }

  /** The reply a client waited for (BLOCK_REPLY) was delivered: it resumes at the end of this turn. */
  private unblocked(client: Client): void {
    this.addWaiting(client);
    this.afterBatch();
  }

  private pauseIfFull(client: Client): void {
    if (!client.readPaused && client.parser.pendingBytes() >= BLOCKED_READ_AHEAD) {
      client.readPaused = true;
      client.socket.pause();
    }
  }

  private readOn(client: Client): void {
    if (client.readPaused) {
      client.readPaused = false;
      client.socket.resume();
    }
  }

  /** Retries the coordinators' waiting phases, then the blocked clients, in the order they blocked. */
  /** True while clients or coordinator phases wait to be retried. */
  get hasWaiting(): boolean {
    return this.waiting.length > 0 || this.dispatcher.hasPendingCalls;
  }

  resumeWaiting(): void {
    if (this.dispatcher.hasPendingCalls) this.dispatcher.sendPendingCalls();
    if (this.waiting.length === 0 || this.resuming) return;
    this.resuming = true;
    const list = this.waiting;
    this.waiting = [];
    try {
      for (let i = 0; i < list.length; i++) {
        const c = list[i];
        c.waiting = false;
        try {
          this.resume(c);
        } catch (e) {
          // Never leave the others stuck behind one client's failure.
          logWarning(`Internal error resuming client id=${c.id}: ${(e as Error).stack ?? String(e)}`);
          c.socket.destroy();
        }
      }
    } finally {
      this.resuming = false;
    }
  }

  /** Runs what a blocked client waits for, then the rest of its input; it stays blocked if that still cannot go. */
  private resume(c: Client): void {
    if (c.blocked === BLOCK_SEND) {
      if (!(c.pendingSend as () => boolean)()) {
        this.addWaiting(c);
        return;
      }
      c.pendingSend = null;
      c.blocked = BLOCK_NONE;
    } else if (c.blocked === BLOCK_COMMAND) {
      const head = c.pending as Argv;
      c.pending = null;
      c.blocked = BLOCK_NONE;
      if (!this.execute(c, head)) {
        c.pending = head;
        c.blocked = BLOCK_COMMAND;
        this.addWaiting(c);
        return;
      }
    }
    if (c.blocked !== BLOCK_NONE || c.closed) return;
    this.readOn(c);
    this.processInput(c);
  }

  // -- replies: the last stage (server/reply-pump.ts) ---------------------------------

  /** Drains every shard's replies, then writes to clients and retries stalled ones. */
  pump(): void {
    this.replies.pump();
  }

  /** Asks for one flush at the end of this event-loop turn (see ReplyPump.afterBatch). */
  afterBatch(): void {
    this.replies.afterBatch();
  }

  /** Publishes requests, writes replies, resumes blocked clients. */
  flushNow(): void {
    this.replies.flushNow();
  }

  /** Wall clock sampled once per turn (idle times, client ages). */
  get clock(): number {
    return this.replies.clock;
  }

  /** A client with output to write this turn. */
  private markDirty(c: Client): void {
    this.replies.dirtyClients.push(c);
  }

  /**
   * Fans a command out to every shard and replies with the combination. Called
   * by a front command as the last thing it does. When a ring has no room, or
   * a shard is held, the fan-out waits (BLOCK_SEND) and the client's next
   * command waits behind it.
   */
  broadcast(ctx: FrontContext, shardCommand: string, args: ReadonlyArray<string | Uint8Array>,
    combine: (parts: Buffer[]) => Buffer): void {
    const argv = Argv.fromStrings([shardCommand, ...args]);
    const op = this.commands.get(shardCommand)?.opcode ?? internalOpcode(shardCommand);
    const c = ctx.client;
    const db = c.db;
    const flags = requestFlags(c);
    const d = this.dispatcher;
    const seq = ctx.seq;
    // Never between the phases of a coordinated command (FLUSHALL between RENAME's __take and __put).
    const send = (): boolean => !d.sequencer.isHeld(d.everyShard) && d.broadcast(op, db, flags, argv, c, seq, combine);
    this.fannedOut = true;
    if (send()) return;
    c.pendingSend = send;
    c.blocked = BLOCK_SEND;
    this.addWaiting(c);
  }

  /** Runs one shard command and resolves with its reply (front commands that need one shard). */
  callShard(shard: number, name: string, db: number, args: ReadonlyArray<string | Uint8Array>, resp3 = false): Promise<Buffer> {
    const p = this.dispatcher.call(shard, name, db, resp3 ? REQF_RESP3 : 0, args);
    // A phase that found no room is sent by the next turn's resumeWaiting.
    if (this.dispatcher.hasPendingCalls) this.afterBatch();
    return p;
  }

  logShutdown(): void {
    logNotice('User requested shutdown...');
  }
}

/** Redis 7.0's islocalClient() for TCP: the peer is exactly 127.0.0.1 or ::1. */
function isLoopbackPeer(socket: net.Socket): boolean {
  const ip = socket.remoteAddress;
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
}

/** Redis 7.0.15's reply to a non-loopback client in protected mode, word for word (typo included). */
const PROTECTED_MODE_DENIED = Buffer.from(
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set ' +
  'for the default user. In this mode connections are only accepted from the loopback interface. If you ' +
  'want to connect from external computers to Redis you may adopt one of the following solutions: ' +
  "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback " +
  'interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is ' +
  'not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. ' +
  '2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and ' +
  "setting the protected mode option to 'no', and then restarting the server. 3) If you started the server " +
  "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication " +
  'password for the default user. NOTE: You only need to do one of the above things in order for the server ' +
  'to start accepting connections from the outside.\r\n',
  'latin1',
);

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

