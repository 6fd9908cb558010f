import { workerData } from 'node:worker_threads';
import { ShardRuntime, type ShardWorkerData } from './runtime.ts';

// A shard's own thread: it runs its shard until the process ends, parking
// between batches (shard/runtime.ts). A shard owned by a front thread runs
// in that thread instead (shard/embedded.ts).
new ShardRuntime(workerData as ShardWorkerData).run();
