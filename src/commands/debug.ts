import type { CommandSpec, ShardContext } from './types.ts';

// Internal shard commands behind DEBUG and INFO (sent by the front thread only).
//
//   __debug_sleep <microseconds>   blocks this shard's thread, then +OK
//   __stats_sync                   publishes the shard's counters now, then +OK
//   __active_expire <0|1>          DEBUG SET-ACTIVE-EXPIRE: turns this shard's
//                                  background expiry sweep off (0) or on (1), then +OK
//                                  (INFO fans this out so the keyspace and memory
//                                  figures include every command answered before it)

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function debugSleep(c: ShardContext): void {
  const us = Number(c.args.str(1));
  if (Number.isFinite(us) && us > 0) {
    // Atomics.wait is allowed on worker threads: the shard stops like Redis's nanosleep().
    Atomics.wait(sleepCell, 0, 0, us / 1000);
  }
  c.reply.ok();
}

function statsSync(c: ShardContext): void {
  const ks = c.ks;
  ks.publishStats();
  c.reply.ok();
}

function activeExpire(c: ShardContext): void {
  c.config.activeExpire = c.args.str(1) !== '0';
  c.reply.ok();
}

function internal(name: string, arity: number, shard: (c: ShardContext) => void): CommandSpec {
  return {
    name, arity, flags: ['admin', 'noscript', 'loading', 'stale'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'server',
    since: '1.0.0', summary: 'Internal: run by the front thread for DEBUG and INFO.', internal: true, shard,
  };
}

export const debugCommands: CommandSpec[] = [
  internal('__debug_sleep', 2, debugSleep),
  internal('__stats_sync', 1, statsSync),
  internal('__active_expire', 2, activeExpire),
];
