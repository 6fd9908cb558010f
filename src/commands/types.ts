import type { Keyspace } from '../store/keyspace.ts';
import type { Argv } from '../protocol/argv.ts';
import type { ReplyBuffer } from '../protocol/reply-buffer.ts';

/** What a command running on a shard sees. */
export interface ShardContext {
  readonly args: Argv;
  readonly reply: ReplyBuffer;
  readonly ks: Keyspace;
  /** Database selected by the client when the command was sent. */
  db: number;
  readonly shardId: number;
  readonly shardCount: number;
  /** Runtime configuration the shard needs (pushed by the front on CONFIG SET). */
  readonly config: ShardConfig;
}

export interface ShardConfig {
  protoMaxBulkLen: number;
  databases: number;
  hz: number;
  activeRehashing: boolean;
  maxmemoryPolicy: string;
  lfuLogFactor: number;
  lfuDecayTime: number;
  /** active-expire-effort, 1..10: how hard the expire cycle works (Redis's scaling, see worker.ts). */
  activeExpireEffort: number;
  /** slowlog-log-slower-than in µs (negative: the slow log is off). */
  slowlogLogSlowerThan: number;
  /** Where the shard writes its log lines ("" = stdout) and from which level; unset = stdout, notice. */
  logfile?: string;
  loglevel?: string;
  /** list-max-listpack-size (unset = -2, 8 KB nodes). */
  listMaxListpackSize?: number;
  /** hash-max-listpack-entries / hash-max-listpack-value (unset = 512 / 64, Redis 7.0's defaults). */
  hashMaxListpackEntries?: number;
  hashMaxListpackValue?: number;
  /** set-max-intset-entries, set-max-listpack-entries, set-max-listpack-value (unset = 512, 128, 64). */
  setMaxIntsetEntries?: number;
  setMaxListpackEntries?: number;
  setMaxListpackValue?: number;
  /** zset-max-listpack-entries / -value (unset = 128 / 64). */
  zsetMaxListpackEntries?: number;
  zsetMaxListpackValue?: number;
  /** DEBUG SET-ACTIVE-EXPIRE: false stops the background sweep (lazy expiry still runs); unset = on. */
  activeExpire?: boolean;
  /** hll-sparse-max-bytes (unset = 3000): a sparse HyperLogLog growing past it becomes dense. */
  hllSparseMaxBytes?: number;
}

export type ShardHandler = (c: ShardContext) => void;

/**
 * How the front thread runs a keyed command whose keys live on several shards.
 * - sum: each shard runs the command on its keys; integer replies are added (DEL, EXISTS).
 * - mget: each shard runs it on its keys; array replies are interleaved back in key order.
 * - mset: key/value pairs are split by shard; every shard answers +OK.
 * - coordinated: a front-side routine drives several phases with the shards held (RENAME, COPY, MSETNX).
 */
export type MultiShardKind = 'sum' | 'mget' | 'mset' | 'coordinated';

export interface CommandSpec {
  /** Lower-case name. */
  readonly name: string;
  /** Redis arity: exact count when positive, minimum count (-n) when negative; argv[0] included. */
  readonly arity: number;
  /** Redis command flags as COMMAND INFO reports them (write, readonly, denyoom, fast, ...). */
  readonly flags: readonly string[];
  /** Key positions: first, last (negative counts from the end), step. 0,0,0 for keyless commands. */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  /** Keys counted by an argument (LMPOP numkeys): keys are the next `argv[keyNumArg]` arguments. */
  readonly keyNumArg?: number;
  /**
   * Keys found by parsing the arguments (SORT's STORE, Redis's getkeys_proc):
   * appends their positions to `out`. Returns true when the command may also
   * read keys that are not arguments (SORT's BY/GET patterns), which can live
   * on any shard: the command then touches every shard. `routing`: also
   * append arguments whose hash slot is that of keys the command reads (a
   * SORT pattern with a hash tag before its '*').
   */
  readonly movableKeys?: (a: Argv, out: number[], routing: boolean) => boolean;
  /** COMMAND DOCS group (string, generic, connection, server, bitmap, ...). */
  readonly group: string;
  readonly since: string;
  readonly summary: string;
  readonly complexity?: string;
  /** ACL categories beyond those derived from the flags and group. */
  readonly aclCategories?: readonly string[];
  /** Executes on the shard that owns the key(s). */
  readonly shard?: ShardHandler;
  readonly multi?: MultiShardKind;
  /** Subcommands (CONFIG GET, OBJECT ENCODING, ...), for COMMAND INFO/DOCS. */
  readonly subcommands?: readonly CommandSpec[];
  /** Internal commands are sent between threads only: never accepted from clients nor listed. */
  readonly internal?: boolean;
  /**
   * Not flagged fast, yet its work grows only with its own request and reply
   * bytes (SET copies its value, MSET its pairs): the slow log times it as it
   * times a fast command (shard/slow-probe.ts).
   */
  readonly sizeBound?: boolean;
}

export function keyCommand(spec: CommandSpec): CommandSpec {
  return spec;
}
