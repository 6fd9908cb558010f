import type { CommandSpec } from '../commands/types.ts';
import type { Argv } from '../protocol/argv.ts';
import type { Client } from './client.ts';
import type { Server } from './server.ts';

/** What a command running on the front thread sees. It must deliver exactly one reply for `seq`. */
export interface FrontContext {
  readonly srv: Server;
  readonly client: Client;
  readonly argv: Argv;
  readonly seq: number;
}

export type FrontHandler = (c: FrontContext) => void;

/**
 * A command the front thread runs itself: connection state, server
 * introspection, and keyless commands that fan out to every shard.
 */
export interface FrontCommandSpec extends CommandSpec {
  readonly front: FrontHandler;
  /** Runs without authentication (AUTH, HELLO, QUIT, ...). */
  readonly noAuth?: boolean;
  /** Touches every shard (DBSIZE, FLUSHALL, KEYS, ...): waits behind any hold. */
  readonly allShards?: boolean;
}

/** Front command for a coordinated keyed command: a routine that drives shards through phases. */
export type Coordinator = (c: FrontContext, shards: number[]) => Promise<Uint8Array>;
