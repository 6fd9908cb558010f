import { MAX_DATABASES } from '../../native-layout/layout.ts';
import { logBanner, logNotice, logReady, logStarting, logWarning, setLogFile, setLogLevel } from './log.ts';
import { ConfigError, parseArgs, SABRE_VERSION, type Config } from './config.ts';
import { allocateArenas, chooseArenaBytes, machineMemory, reserveBytesFor, startShards } from '../router/shard-pool.ts';
import type { ShardConfig } from '../commands/types.ts';
import { Server } from './server.ts';
import { frontCommands } from './commands/index.ts';
import { coordinators } from './commands/coordinated.ts';

/** Ring size per direction per shard. */
const RING_BYTES = 1024 * 1024;

export function shardConfigOf(config: Config): ShardConfig {
  return {
    protoMaxBulkLen: config.protoMaxBulkLen,
    databases: config.databases,
    hz: config.hz,
    activeRehashing: config.activerehashing,
    maxmemoryPolicy: config.maxmemoryPolicy,
    lfuLogFactor: Number(config.get('lfu-log-factor') ?? 10),
    lfuDecayTime: Number(config.get('lfu-decay-time') ?? 1),
  };
}

/** Parses the arguments, starts the shards and the listener; exits on a bad configuration. */
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
  setLogLevel(config.loglevel);
  if (config.logfile !== '') setLogFile(config.logfile);
  logStarting({ version: SABRE_VERSION, configFile: config.configFile, hasArguments: config.hasArguments });
  try {
    process.chdir(config.dir);
  } catch (e) {
    logWarning(`Can't chdir to '${config.dir}': ${(e as Error).message}`);
    process.exit(1);
  }
  if (config.maxmemory > 0 && config.maxmemory < 1024 * 1024) {
    logWarning(`WARNING: You specified a maxmemory value that is less than 1MB (current value is ${config.maxmemory} bytes). Are you sure this is what you really want?`);
  }
  const arenas = sizeArenas(config);
  const links = startShards({
    shards: config.shards,
    arenaBytes: arenas[0].byteLength,
    arenas,
    ringBytes: RING_BYTES,
    config: shardConfigOf(config),
  }, (shard, err) => {
    logWarning(`Shard ${shard} crashed: ${err.stack ?? err.message}`);
    process.exit(1);
  });
  const server = new Server(config, links, frontCommands, coordinators);
  logBanner({ version: SABRE_VERSION, port: config.port, shards: config.shards, arenaMb: config.shardArenaMb, bind: config.bind });
  const host = pickHost(config.bind);
  try {
    await server.start(host, config.port);
  } catch (e) {
    logWarning(`Warning: Could not create server TCP listening socket ${host}:${config.port}: ${(e as Error).message}`);
    logWarning('Failed listening on port ' + config.port + ' (tcp), aborting.');
    process.exit(1);
  }
  logReady();
  const stop = (signal: string): void => {
    logWarning(`Received ${signal} scheduling shutdown...`);
    server.onShutdown(0);
  };
  server.onShutdown = (code: number) => {
    logNotice('Sabre is now ready to exit, bye bye...');
    void server.close().finally(() => process.exit(code));
    setTimeout(() => process.exit(code), 500).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return server;
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
      logWarning(`Can't allocate ${config.shards} shard arena${config.shards === 1 ? '' : 's'} of ${failed / MiB} MiB ` +
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

/** Listens on the first IPv4 address of `bind` ("-" prefixes mark optional addresses in Redis). */
function pickHost(bind: readonly string[]): string {
  const addrs = bind.map((b) => (b.startsWith('-') ? b.slice(1) : b));
  return addrs.find((a) => a.includes('.')) ?? addrs[0] ?? '127.0.0.1';
}
