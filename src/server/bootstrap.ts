import { MAX_DATABASES } from '../../native-layout/layout.ts';
import { logBanner, logNotice, logReady, logStarting, logWarning, setLogFile, setLogLevel } from './log.ts';
import { ConfigError, parseArgs, SABRE_VERSION, type Config } from './config.ts';
import { startShards } from '../router/shard-pool.ts';
import type { ShardConfig } from '../commands/types.ts';
import { Server } from './server.ts';
import { frontCommands } from './commands/index.ts';
import { coordinators } from './commands/coordinated.ts';

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
  const links = startShards({
    shards: config.shards,
    arenaBytes: config.shardArenaMb * 1024 * 1024,
    ringBytes: ringKb * 1024,
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

/** Listens on the first IPv4 address of `bind` ("-" prefixes mark optional addresses in Redis). */
function pickHost(bind: readonly string[]): string {
  const addrs = bind.map((b) => (b.startsWith('-') ? b.slice(1) : b));
  return addrs.find((a) => a.includes('.')) ?? addrs[0] ?? '127.0.0.1';
}
