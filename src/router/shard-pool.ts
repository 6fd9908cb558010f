import { randomInt } from 'node:crypto';
import { MessageChannel, Worker } from 'node:worker_threads';
import { statSlots } from '../../native-layout/layout.ts';
import type { ShardConfig } from '../commands/types.ts';
import { createRingBuffer } from '../mailbox/ring.ts';
import type { ShardWorkerData } from '../shard/worker.ts';
import { ShardLink } from './shard-link.ts';

export interface PoolOptions {
  shards: number;
  arenaBytes: number;
  ringBytes: number;
  config: ShardConfig;
  /** Test-only fault injection passed to the workers (see ShardWorkerData.fault). */
  fault?: string;
}

/**
 * Starts the shard workers, each with its arena, rings, stats block and side
 * port. `onDeath` is called once per shard whose thread ends (an uncaught
 * error, or an exit), with why; a shard never ends on its own otherwise.
 */
export function startShards(opts: PoolOptions, onDeath: (shard: number, why: string) => void): ShardLink[] {
  const links: ShardLink[] = [];
  for (let id = 0; id < opts.shards; id++) {
    const requestRing = createRingBuffer(opts.ringBytes);
    const replyRing = createRingBuffer(opts.ringBytes);
    const arena = new SharedArrayBuffer(opts.arenaBytes);
    const stats = new SharedArrayBuffer(statSlots(opts.config.databases) * 8);
    const channel = new MessageChannel();
    const data: ShardWorkerData = {
      shardId: id, shardCount: opts.shards, requestRing, replyRing, arena, stats,
      port: channel.port2, config: { ...opts.config }, seed: randomInt(0x7fffffff),
      ...(opts.fault === undefined ? {} : { fault: opts.fault }),
    };
    const worker = new Worker(new URL('../shard/worker.ts', import.meta.url), {
      workerData: data, transferList: [channel.port2], name: `shard-${id}`,
      // Shards allocate almost nothing on the JS heap (the keyspace is in the arena): a
      // small young generation keeps each worker's RSS down without extra GC work.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    let dead = false;
    worker.on('error', (err) => {
      if (dead) return;
      dead = true;
      onDeath(id, `uncaught ${err.stack ?? `${err.name}: ${err.message}`}`);
    });
    worker.on('exit', (code) => {
      if (dead) return;
      dead = true;
      onDeath(id, `its thread exited with code ${code}`);
    });
    worker.unref();
    links.push(new ShardLink(id, worker, requestRing, replyRing, channel.port1, stats));
  }
  return links;
}
