import { ERR_SYNTAX } from './errors.ts';
import { opcodeOf, SHARD_COMMANDS } from './registry.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
// BZMPOP). They run from the front (server/blocking.ts): it tries the keys in
// order with the ordinary pops, and when none has anything, registers the
// client as a waiter and tells the keys' shards to watch those keys:
//
//   __bwatch <key> [<key> ...]       -> +OK: writes that give the key a collection value report it
//                                       (REPF_READY trailer on their reply)
//   __bunwatch <key> [<key> ...]     -> +OK: no client blocks on these keys any more
//   __bpop <n> <key1..keyn> <command> <args...>
//                                    -> the reply of <command> (LMPOP, ZMPOP, LMOVE, LINDEX) run
//                                       here; when it is nil, the n keys are watched, in the same
//                                       step (a blocking command's first try, without holds)
//
// The tables below are the commands' entries for COMMAND, the router (their
// keys) and the front; no shard ever runs them itself.

function notOnShard(c: ShardContext): void {
  c.reply.error(`ERR internal: '${c.args.str(0)}' runs from the front`);
}

function bwatchInternal(c: ShardContext): void {
  const a = c.args;
  if (a.count < 2) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  for (let i = 1; i < a.count; i++) c.ks.watchKey(c.db, a.u8, a.off[i], a.len[i]);
  c.reply.ok();
}

function bunwatchInternal(c: ShardContext): void {
  const a = c.args;
  for (let i = 1; i < a.count; i++) c.ks.unwatchKey(c.db, a.u8, a.off[i], a.len[i]);
  c.reply.ok();
}

function bpopInternal(c: ShardContext): void {
  const a = c.args;
  const n = Number(a.str(1));
  if (!Number.isSafeInteger(n) || n < 0 || 2 + n >= a.count) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const keyOff = Array.from(a.off.subarray(2, 2 + n));
  const keyLen = Array.from(a.len.subarray(2, 2 + n));
  // The inner command sees its own arguments: shift them down in place.
  const skip = 2 + n;
  for (let i = skip; i < a.count; i++) {
    a.off[i - skip] = a.off[i];
    a.len[i - skip] = a.len[i];
  }
  a.count -= skip;
  const spec = SHARD_COMMANDS[opcodeOf(a.str(0).toLowerCase())];
  spec.shard?.(c);
  const r = c.reply;
  const nil = r.len > 0 && (r.buf[0] === 95 || ((r.buf[0] === 42 || r.buf[0] === 36) && r.buf[1] === 45)); // _, *-1, $-1
  if (nil) for (let i = 0; i < n; i++) c.ks.watchKey(c.db, a.u8, keyOff[i], keyLen[i]);
}

const listBlocking = (s: Omit<CommandSpec, 'group' | 'shard'>): CommandSpec => ({ ...s, group: 'list', shard: notOnShard });
const zsetBlocking = (s: Omit<CommandSpec, 'group' | 'shard'>): CommandSpec => ({ ...s, group: 'sorted-set', shard: notOnShard });

export const blockingCommands: readonly CommandSpec[] = [
  listBlocking({
    name: 'blpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, keyStep: 1, since: '2.0.0',
    summary: 'Remove and get the first element in a list, or block until one is available',
    complexity: 'O(N) where N is the number of provided keys.',
  }),
  listBlocking({
    name: 'brpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, keyStep: 1, since: '2.0.0',
    summary: 'Remove and get the last element in a list, or block until one is available',
    complexity: 'O(N) where N is the number of provided keys.',
  }),
  listBlocking({
    name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], firstKey: 1, lastKey: 2, keyStep: 1,
    since: '6.2.0', summary: 'Pop an element from a list, push it to another list and return it; or block until one is available',
    complexity: 'O(1)',
  }),
  listBlocking({
    name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], firstKey: 1, lastKey: 2, keyStep: 1,
    since: '2.2.0', summary: 'Pop an element from a list, push it to another list and return it; or block until one is available',
    complexity: 'O(1)',
  }),
  listBlocking({
    name: 'blmpop', arity: -5, flags: ['write', 'blocking'], firstKey: 3, lastKey: -2, keyStep: 1, keyNumArg: 2, since: '7.0.0',
    summary: 'Pop elements from a list, or block until one is available',
    complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.',
  }),
  zsetBlocking({
    name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, keyStep: 1,
    since: '5.0.0', summary: 'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.',
  }),
  zsetBlocking({
    name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, keyStep: 1,
    since: '5.0.0', summary: 'Remove and return the member with the highest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.',
  }),
  zsetBlocking({
    name: 'bzmpop', arity: -5, flags: ['write', 'blocking'], firstKey: 3, lastKey: -2, keyStep: 1, keyNumArg: 2, since: '7.0.0',
    summary: 'Remove and return members with scores in a sorted set or block until one is available',
    complexity: 'O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.',
  }),
  { name: '__bwatch', arity: -2, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '', summary: '', internal: true, shard: bwatchInternal },
  { name: '__bpop', arity: -4, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '', summary: '', internal: true, shard: bpopInternal },
  { name: '__bunwatch', arity: -2, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'internal', since: '', summary: '', internal: true, shard: bunwatchInternal },
];
