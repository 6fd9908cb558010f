import { unlinkSync, writeFileSync } from 'node:fs';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { MAX_DATABASES, ORDER_NEXT_CLIENT_ID, orderBlockBytes } from '../../native-layout/layout.ts';
import { logBanner, logNotice, logReady, logStarting, logWarning, setLogFile, setLogLevel } from './log.ts';
import { ConfigError, parseArgs, SABRE_VERSION, type Config } from './config.ts';
import { allocateArenas, chooseArenaBytes, machineMemory, reserveBytesFor, startShards, type FrontShardEnd } from '../router/shard-pool.ts';
import type { ShardConfig } from '../commands/types.ts';
import { Server } from './server.ts';
import { ListenError } from './listeners.ts';
import { Client } from './client.ts';
import { frontCommands } from './commands/index.ts';
import { coordinators } from './commands/coordinated.ts';
import { warmUp } from './warmup.ts';
import { FrontPeers } from './front-peers.ts';
import { onThreadDeath } from '../util/threads.ts';
import type { FrontLifecycle, FrontThreadData } from './front-thread.ts';

export function shardConfigOf(config: Config): ShardConfig {
  return {
    protoMaxBulkLen: config.protoMaxBulkLen,
    databases: config.databases,
    hz: config.hz,
    activeRehashing: config.activerehashing,
    maxmemoryPolicy: config.maxmemoryPolicy,
    lfuLogFactor: config.lfuLogFactor,
    lfuDecayTime: config.lfuDecayTime,
    activeExpireEffort: config.activeExpireEffort,
    slowlogLogSlowerThan: config.slowlogLogSlowerThan,
    listMaxListpackSize: config.listMaxListpackSize,
    zsetMaxListpackEntries: config.zsetMaxListpackEntries,
    zsetMaxListpackValue: config.zsetMaxListpackValue,
    hllSparseMaxBytes: config.hllSparseMaxBytes,
    hashMaxListpackEntries: config.hashMaxListpackEntries,
    hashMaxListpackValue: config.hashMaxListpackValue,
    setMaxIntsetEntries: config.setMaxIntsetEntries,
    setMaxListpackEntries: config.setMaxListpackEntries,
    setMaxListpackValue: config.setMaxListpackValue,
  };
}

/** Parses the arguments, starts the shards and the listeners; exits on a bad configuration. */
export async function startServer(args: string[]): Promise<Server> {
  let config: Config;
  try {
    config = parseArgs(args);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message);
      process.exit(1);
    }
    throw e;
  }
  if (config.databases > MAX_DATABASES) {
    // Redis accepts up to INT_MAX; a request record names the database in a u16.
    process.stderr.write(`\n*** FATAL CONFIG ERROR (Sabre) ***\n'databases ${config.databases}': Sabre supports at most ${MAX_DATABASES} databases (the request record carries the index as a u16)\n`);
    process.exit(1);
  }
  const ringKb = config.getNumber('shard-ring-kb');
  if ((ringKb & (ringKb - 1)) !== 0) {
    // A ring's positions wrap with a mask: its size must be a power of two.
    process.stderr.write(`\n*** FATAL CONFIG ERROR (Sabre) ***\n'shard-ring-kb ${ringKb}': must be a power of two between 4 and 1048576\n`);
    process.exit(1);
  }
  setLogLevel(config.loglevel);
  if (config.logfile !== '') setLogFile(config.logfile);
  logStarting({ version: SABRE_VERSION, configFile: config.configFile, hasArguments: config.hasArguments });
  try {
    process.chdir(config.dir);
  } catch (e) {
    logWarning(`Can't chdir to '${config.dir}': ${(e as Error).message}`);
    process.exit(1);
  }
  // Like Redis, CONFIG SET dir moves the process (relative paths follow it).
  config.addApplyHook('dir', (c) => {
    try {
      process.chdir(c.dir);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  });

  let server: Server | null = null;
  let exiting = false;
  /** Closes the listeners and clients, then exits with `code` (at most 500 ms later). */
  const exitAfterClose = (code: number): void => {
    if (exiting) return;
    exiting = true;
    logNotice('Sabre is now ready to exit, bye bye...');
    const done = (): never => process.exit(code);
    setTimeout(done, 500).unref();
    if (server === null) done();
    else void server.close().finally(done);
  };
  let ready = false;
  process.on('unhandledRejection', (reason) => {
    // A promise nobody waited on failed: log it loudly, keep serving (but a
    // start-up that failed half way must not leave a server without listeners).
    logWarning(`Unhandled promise rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
    if (!ready) exitAfterClose(1);
  });
  process.on('uncaughtException', (e) => {
    // The front's state is unknown after this: log and stop cleanly rather than limp on.
    logWarning(`Uncaught exception on the front thread, shutting down: ${e.stack ?? e.message}`);
    exitAfterClose(1);
  });

  const fault = process.env.SABRE_TEST_FAULT;
  if (config.maxmemory > 0 && config.maxmemory < 1024 * 1024) {
    logWarning(`WARNING: You specified a maxmemory value that is less than 1MB (current value is ${config.maxmemory} bytes). Are you sure this is what you really want?`);
  }
  const arenas = sizeArenas(config);
  const ioThreads = config.getNumber('io-threads');
  // Several front threads share client ids, the client count and the shards' tickets.
  const orderBuffer = ioThreads > 1 ? new SharedArrayBuffer(orderBlockBytes(config.shards, ioThreads)) : null;
  const order = orderBuffer === null ? null : new Int32Array(orderBuffer);
  if (order !== null) order[ORDER_NEXT_CLIENT_ID] = 1;
  const embedded = config.getBool('embedded-shards') ? Math.min(ioThreads, config.shards) : 0;
  const { links, ends } = startShards({
    shards: config.shards,
    arenaBytes: arenas[0].byteLength,
    arenas,
    ringBytes: ringKb * 1024,
    config: { ...shardConfigOf(config), logfile: config.logfile, loglevel: config.loglevel },
    ...(fault === undefined || fault === '' ? {} : { fault }),
    fronts: ioThreads,
    order,
    embedded,
  }, (shard, why) => {
    if (exiting) return;
    // Its keys are gone and its clients would wait forever: a half-alive
    // server is worse than none, so the whole server stops with an error.
    logWarning(`Shard ${shard} died: ${why}`);
    logWarning(`Shutting down: shard ${shard}'s keys are lost and the commands sent to it would never be answered`);
    if (server !== null) server.shuttingDown = true;
    exitAfterClose(1);
  });
  const mesh = peerMesh(ioThreads);
  server = new Server(config, links, frontCommands, coordinators, new FrontPeers(0, ioThreads, mesh[0]), order);
  if (fault !== undefined && fault !== '') injectFrontFault(server, fault);
  server.onShutdown = (code: number) => exitAfterClose(code);
  const warm = (fault === undefined || fault === '') && config.getBool('warmup') && config.port !== 0;
  const fronts = startFrontThreads(args, config, ends, mesh, orderBuffer, warm, (index, why) => {
    if (exiting) return;
    // Its clients would hang and its share of new connections would fail: stop the whole server.
    logWarning(`Front thread ${index} died: ${why}`);
    logWarning(`Shutting down: front thread ${index}'s clients are lost and the server can no longer answer every connection`);
    if (server !== null) server.shuttingDown = true;
    exitAfterClose(1);
  }, (code) => exitAfterClose(code));
  // Before "Ready" is logged: whoever waits for that line may signal at once.
  const stop = (signal: string): void => {
    logWarning(`Received ${signal} scheduling shutdown...`);
    exitAfterClose(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logBanner({ version: SABRE_VERSION, port: config.port, shards: config.shards, arenaMb: config.shardArenaMb, bind: config.bind, embedded });
  if (ioThreads > 1) logNotice(`Front threads (io-threads): ${ioThreads}, sharing port ${config.port}`);
  // Test faults fire on the first request that reaches them: the warm-up would spring them.
  if (warm) {
    const [w, ...others] = await Promise.all([warmUp(server), ...fronts.map((f) => f.warmed)]);
    for (const [i, r] of [w, ...others].entries()) {
      const who = ioThreads > 1 ? ` (front thread ${i})` : '';
      if (r.aborted === null) logNotice(`Warm-up${who}: ${r.requests} requests in ${Math.round(r.ms)} ms`);
      else logWarning(`Warm-up${who} stopped early (${r.aborted}) after ${r.requests} requests in ${Math.round(r.ms)} ms`);
    }
    if (order !== null) {
      // Each front forgot its warm-up when it ended, but the others' went on touching the shards:
      // every front forgets again now that all are done, and ids start again from 1.
      server.forgetWarmUp();
      await server.peers.ask({ kind: 'forget-warmup' });
      Atomics.store(order, ORDER_NEXT_CLIENT_ID, 1);
    }
  } else {
    await Promise.all(fronts.map((f) => f.warmed));
  }
  let listening: number;
  try {
    listening = await server.start(config.bind, config.port);
    for (const f of fronts) {
      const n = await f.listen(config.bind, config.port);
      if (n !== listening) throw new ListenError(`front thread ${f.index} listens on ${n} addresses, the main thread on ${listening}`);
    }
  } catch (e) {
    if (!(e instanceof ListenError)) logWarning(`Could not listen: ${(e as Error).stack ?? String(e)}`);
    logWarning(`Failed listening on port ${config.port} (TCP), aborting.`);
    process.exit(1);
  }
  if (listening === 0) {
    logWarning('Configured to not listen anywhere, exiting.');
    process.exit(1);
  }
  if (config.pidfile !== '') writePidFile(config.resolvePath(config.pidfile));
  logReady();
  ready = true;
  return server;
}

/** Ports for a full mesh of `count` front threads: mesh[f] holds f's ports to the others, in front order. */
function peerMesh(count: number): MessagePort[][] {
  const mesh: MessagePort[][] = Array.from({ length: count }, () => []);
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const ch = new MessageChannel();
      mesh[a].push(ch.port1);
      mesh[b].push(ch.port2);
    }
  }
  // mesh[b] got b's ports to fronts before it first, then to those after it: front order.
  return mesh;
}

interface FrontThread {
  index: number;
  warmed: Promise<{ requests: number; ms: number; aborted: string | null }>;
  listen(bind: readonly string[], port: number): Promise<number>;
}

/**
 * Starts front threads 1..N-1 (io-threads N; the main thread is front 0).
 * Each warms up, then listens when told; `onDeath` is called once for one
 * that ends, `onShutdown` when one of their clients asks for SHUTDOWN.
 */
function startFrontThreads(args: string[], config: Config, ends: FrontShardEnd[][], mesh: MessagePort[][],
  order: SharedArrayBuffer | null, warm: boolean, onDeath: (index: number, why: string) => void,
  onShutdown: (code: number) => void): FrontThread[] {
  const out: FrontThread[] = [];
  for (let index = 1; index < mesh.length; index++) {
    const data: FrontThreadData = {
      index, count: mesh.length, args, computed: [['shard-arena-mb', BigInt(config.shardArenaMb)]],
      ends: ends[index - 1], peerPorts: mesh[index], order: order as SharedArrayBuffer, warmup: warm,
    };
    const worker = new Worker(new URL('./front-thread.ts', import.meta.url), {
      workerData: data, name: `front-${index}`,
      // Its ports to the shards, the ports of a shard it runs itself, its ports to the other fronts.
      transferList: [...ends[index - 1].flatMap((e) => [e.port, ...(e.runtime?.ports ?? [])]), ...mesh[index]],
    });
    onThreadDeath(worker, (why) => onDeath(index, why));
    worker.unref();
    let warmed: (r: { requests: number; ms: number; aborted: string | null }) => void = () => {};
    let listened: (n: number) => void = () => {};
    let listenFailed: (e: Error) => void = () => {};
    worker.on('message', (m: FrontLifecycle) => {
      if (m.t === 'warmed') warmed(m);
      else if (m.t === 'listening') {
        if (m.error === null) listened(m.count);
        else listenFailed(new ListenError(m.error));
      } else if (m.t === 'shutdown') onShutdown(m.code);
    });
    out.push({
      index,
      warmed: new Promise((resolve) => { warmed = resolve; }),
      listen: (bind, port) => new Promise<number>((resolve, reject) => {
        listened = resolve;
        listenFailed = reject;
        worker.postMessage({ t: 'listen', bind: [...bind], port } satisfies FrontLifecycle);
      }),
    });
  }
  return out;
}

/** Writes the pid as Redis's createPidFile() does, and removes the file when the process exits. */
function writePidFile(path: string): void {
  try {
    writeFileSync(path, `${process.pid}\n`);
  } catch (e) {
    logWarning(`Failed to write PID file: ${(e as Error).message}`);
    return;
  }
  process.on('exit', () => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  });
}

/**
 * Test-only faults on the front thread (SABRE_TEST_FAULT, read at start-up;
 * nothing a client sends can set it): "pump" makes the reply pump throw once,
 * "deliver" makes handing the first reply that contains "fault:deliver" to its
 * client throw (delivered, or written in place). The shards read their own
 * faults (see ShardWorkerData.fault).
 */
function injectFrontFault(server: Server, fault: string): void {
  if (fault === 'pump') {
    const replies = server.replies;
    const pump = replies.pump.bind(replies);
    let armed = true;
    replies.pump = () => {
      if (armed) {
        armed = false;
        throw new Error('injected test fault (pump, SABRE_TEST_FAULT)');
      }
      pump();
    };
  } else if (fault === 'deliver') {
    const marker = Buffer.from('fault:deliver');
    const onShardReply = Client.prototype.onShardReply;
    let armed = true;
    Client.prototype.onShardReply = function (this: Client, seq: number, u8: Uint8Array, off: number, len: number): void {
      if (armed && Buffer.from(u8.buffer, u8.byteOffset + off, len).includes(marker)) {
        armed = false;
        throw new Error('injected test fault (deliver, SABRE_TEST_FAULT)');
      }
      onShardReply.call(this, seq, u8, off, len);
    };
    // A reply written in place (a command run inline) is handed over by wroteInPlace.
    const wroteInPlace = Client.prototype.wroteInPlace;
    Client.prototype.wroteInPlace = function (this: Client, seq: number, out: Uint8Array, end: number): void {
      if (armed && Buffer.from(out.buffer, out.byteOffset + this.outLen, end - this.outLen).includes(marker)) {
        armed = false;
        throw new Error('injected test fault (deliver, SABRE_TEST_FAULT)');
      }
      wroteInPlace.call(this, seq, out, end);
    };
  }
}

/**
 * Chooses and allocates the shards' arenas (shard-arena-mb, else from
 * maxmemory or the machine's memory), halving when the system refuses, and
 * records the size in use as shard-arena-mb. Exits when nothing can be had.
 */
function sizeArenas(config: Config): SharedArrayBuffer[] {
  const MiB = 1024 * 1024;
  const choice = chooseArenaBytes(config.shardArenaMb, config.maxmemory, machineMemory());
  let arenas: SharedArrayBuffer[];
  try {
    arenas = allocateArenas(config.shards, choice.bytes, (failed, next, err) => {
      // An automatic size asks for the machine's memory and is expected to be cut to what the
      // kernel grants (its overcommit check counts free memory); an explicit one deserves a warning.
      (choice.reason === 'shard-arena-mb' ? logWarning : logNotice)(`Can't allocate ${config.shards} shard arena${config.shards === 1 ? '' : 's'} of ${failed / MiB} MiB ` +
        `(${err.message}): trying ${next / MiB} MiB each`);
    });
  } catch (e) {
    logWarning(`Can't allocate the shard arenas (${(e as Error).message}), aborting.`);
    process.exit(1);
  }
  const bytes = arenas[0].byteLength;
  config.setComputed('shard-arena-mb', BigInt(bytes / MiB));
  logNotice(`Shard arenas: ${config.shards} x ${bytes / MiB} MiB (${choice.reason}; committed only as used)`);
  const maxmemory = config.maxmemory;
  const usable = bytes - reserveBytesFor(bytes);
  if (maxmemory > 0 && maxmemory > usable) {
    logWarning(`WARNING: maxmemory (${maxmemory}) is more than one shard's arena holds (${usable} bytes): a shard ` +
      'that receives more than its share of the keys will refuse writes with OOM before maxmemory is reached.');
  }
  return arenas;
}
