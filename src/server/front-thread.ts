import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { parseArgs } from './config.ts';
import { linkFromEnd, type FrontShardEnd } from '../router/shard-pool.ts';
import { Server } from './server.ts';
import { frontCommands } from './commands/index.ts';
import { coordinators } from './commands/coordinated.ts';
import { FrontPeers } from './front-peers.ts';
import { logWarning, setLogFile, setLogLevel } from './log.ts';
import { warmUp } from './warmup.ts';

// A network front thread other than the main one (io-threads > 1). It runs
// the same Server as the main thread: its own listeners on the shared port
// (SO_REUSEPORT), its own clients, its own rings to every shard. The main
// thread starts it, tells it when to listen, and stops the process when it
// dies (server/bootstrap.ts).

/** What the main thread gives a front thread. */
export interface FrontThreadData {
  index: number;
  count: number;
  /** The server's arguments, parsed again here: every front holds the same settings. */
  args: string[];
  /** Settings start-up computed (shard-arena-mb...), as name and value. */
  computed: Array<[string, bigint]>;
  /** Its rings and side port to each shard, in shard order. */
  ends: FrontShardEnd[];
  /** Ports to the other front threads, in front order (itself left out). */
  peerPorts: MessagePort[];
  order: SharedArrayBuffer;
  warmup: boolean;
}

/** Messages between the main thread and a front thread (lifecycle only; questions go over FrontPeers). */
export type FrontLifecycle =
  | { t: 'warmed'; requests: number; ms: number; aborted: string | null }
  | { t: 'listen'; bind: string[]; port: number }
  | { t: 'listening'; count: number; error: string | null }
  | { t: 'shutdown'; code: number };

async function main(): Promise<void> {
  const d = workerData as FrontThreadData;
  const port = parentPort as MessagePort;
  const config = parseArgs(d.args);
  for (const [name, value] of d.computed) config.setComputed(name, value);
  setLogLevel(config.loglevel);
  if (config.logfile !== '') setLogFile(config.logfile);
  const order = new Int32Array(d.order);
  const links = d.ends.map((end, shard) => linkFromEnd(shard, end, order, d.index));
  const peers = new FrontPeers(d.index, d.count, d.peerPorts);
  const server = new Server(config, links, frontCommands, coordinators, peers, order);
  server.onShutdown = (code) => port.postMessage({ t: 'shutdown', code } satisfies FrontLifecycle);
  const report = d.warmup ? await warmUp(server) : { requests: 0, ms: 0, aborted: null };
  port.on('message', (m: FrontLifecycle) => {
    if (m.t !== 'listen') return;
    server.start(m.bind, m.port).then(
      (count) => port.postMessage({ t: 'listening', count, error: null } satisfies FrontLifecycle),
      (e: Error) => port.postMessage({ t: 'listening', count: 0, error: e.message } satisfies FrontLifecycle),
    );
  });
  port.postMessage({ t: 'warmed', ...report } satisfies FrontLifecycle);
}

main().catch((e: unknown) => {
  logWarning(`Front thread ${(workerData as FrontThreadData).index} failed to start: ${(e as Error).stack ?? String(e)}`);
  throw e;
});
