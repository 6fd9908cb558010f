// Runs shard command handlers in the test's own thread, the way
// ShardRuntime.execute does (rehash step, handler, OOM turned into Redis's
// error), over a keyspace the test builds: for fuzz tests that compare a
// whole keyspace with a model after every command.

import fc from 'fast-check';
import { SHARD_COMMANDS, opcodeOf } from '../../src/commands/registry.ts';
import { ERR_OOM } from '../../src/commands/errors.ts';
import type { ShardConfig, ShardContext } from '../../src/commands/types.ts';
import { Argv } from '../../src/protocol/argv.ts';
import { ReplyBuffer } from '../../src/protocol/reply-buffer.ts';
import { OutOfMemoryError } from '../../src/store/arena.ts';
import type { Keyspace } from '../../src/store/keyspace.ts';

export const OOM_REPLY = `-${ERR_OOM}\r\n`;

/** A shard's configuration with the defaults a worker gets. */
export function shardConfig(databases: number): ShardConfig {
  return {
    protoMaxBulkLen: 512 * 1024 * 1024, databases, hz: 10, activeRehashing: true,
    maxmemoryPolicy: 'noeviction', lfuLogFactor: 10, lfuDecayTime: 1, activeExpireEffort: 1,
    slowlogLogSlowerThan: 10000,
  };
}

/** A shard's command context over a keyspace of the test's. */
export class HandlerShard implements ShardContext {
  args = new Argv();
  readonly reply = new ReplyBuffer();
  readonly ks: Keyspace;
  db = 0;
  readonly shardId = 0;
  readonly shardCount = 1;
  readonly config: ShardConfig;

  constructor(ks: Keyspace) {
    this.ks = ks;
    this.config = shardConfig(ks.dbs.length);
  }

  /** Runs one command the way ShardRuntime.execute does and returns its RESP reply. */
  run(db: number, parts: ReadonlyArray<string | Uint8Array>): string {
    this.args = Argv.fromStrings(parts);
    this.db = db;
    this.reply.reset(false);
    this.ks.tick(Date.now());
    const index = this.ks.dbs[db];
    if (index.isRehashing) index.rehashStep(1);
    const name = (typeof parts[0] === 'string' ? parts[0] : Buffer.from(parts[0]).toString()).toLowerCase();
    const handler = SHARD_COMMANDS[opcodeOf(name)].shard;
    if (handler === undefined) throw new Error(`no shard handler for ${name}`);
    try {
      handler(this);
    } catch (e) {
      if (!(e instanceof OutOfMemoryError)) throw e;
      this.reply.reset(false);
      this.reply.error(ERR_OOM);
    }
    return this.reply.done().toString('latin1');
  }
}

/** `size` bytes of a pattern that depends on `seed`. */
export function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Patterned values of the given sizes, printed as pattern(size, seed) in counterexamples. */
export function patternArb(sizeArb: fc.Arbitrary<number>, maxSeed: number): fc.Arbitrary<Buffer> {
  return fc.tuple(sizeArb, fc.integer({ min: 0, max: maxSeed })).map(([n, seed]) => {
    const b = pattern(n, seed);
    Object.defineProperty(b, fc.toStringMethod, { value: () => `pattern(${n}, ${seed})` });
    return b;
  });
}
