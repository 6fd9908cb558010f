import { unlinkSync, writeFileSync } from 'node:fs';
import { MAX_DATABASES } from '../../native-layout/layout.ts';
import { logBanner, logNotice, logReady, logStarting, logWarning, setLogFile, setLogLevel } from './log.ts';
import { ConfigError, parseArgs, SABRE_VERSION, type Config } from './config.ts';
import { allocateArenas, chooseArenaBytes, machineMemory, reserveBytesFor, startShards } from '../router/shard-pool.ts';
import type { ShardConfig } from '../commands/types.ts';
import { ListenError, Server } from './server.ts';
import { Client } from './client.ts';
import { frontCommands } from './commands/index.ts';
import { coordinators } from './commands/coordinated.ts';
import { warmUp } from './warmup.ts';

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
  const links = startShards({
    shards: config.shards,
    arenaBytes: arenas[0].byteLength,
    arenas,
    ringBytes: ringKb * 1024,
    config: { ...shardConfigOf(config), logfile: config.logfile, loglevel: config.loglevel },
    ...(fault === undefined || fault === '' ? {} : { fault }),
  }, (shard, why) => {
    if (exiting) return;
    // Its keys are gone and its clients would wait forever: a half-alive
    // server is worse than none, so the whole server stops with an error.
    logWarning(`Shard ${shard} died: ${why}`);
    logWarning(`Shutting down: shard ${shard}'s keys are lost and the commands sent to it would never be answered`);
    if (server !== null) server.shuttingDown = true;
    exitAfterClose(1);
  });
  server = new Server(config, links, frontCommands, coordinators);
  if (fault !== undefined && fault !== '') injectFrontFault(server, fault);
  server.onShutdown = (code: number) => exitAfterClose(code);
  // Before "Ready" is logged: whoever waits for that line may signal at once.
  const stop = (signal: string): void => {
    logWarning(`Received ${signal} scheduling shutdown...`);
    exitAfterClose(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logBanner({ version: SABRE_VERSION, port: config.port, shards: config.shards, arenaMb: config.shardArenaMb, bind: config.bind });
  // Test faults fire on the first request that reaches them: the warm-up would spring them.
  if ((fault === undefined || fault === '') && config.getBool('warmup') && config.port !== 0) {
    const w = await warmUp(server);
    if (w.aborted === null) logNotice(`Warm-up: ${w.requests} requests in ${Math.round(w.ms)} ms`);
    else logWarning(`Warm-up stopped early (${w.aborted}) after ${w.requests} requests in ${Math.round(w.ms)} ms`);
  }
  let listening: number;
  try {
    listening = await server.start(config.bind, config.port);
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
 * client throw. The shards read their own faults (see ShardWorkerData.fault).
 */
function injectFrontFault(server: Server, fault: string): void {
  if (fault === 'pump') {
    const pump = server.pump.bind(server);
    let armed = true;
    server.pump = () => {
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
