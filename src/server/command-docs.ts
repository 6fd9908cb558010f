// COMMAND introspection generated from the command tables: COMMAND INFO,
// COMMAND DOCS, COMMAND LIST and COMMAND GETKEYS[ANDFLAGS], in Redis 7's reply
// shapes. Everything comes from the CommandSpec entries (flags, key range,
// group, subcommands); what a spec cannot express (key-spec flags, command
// tips, doc flags) is derived from its flags or taken from the small tables
// below, written from Redis's documented semantics.

import type { CommandSpec } from '../commands/types.ts';
import { globMatchString } from '../util/glob.ts';
import type { ReplyBuffer } from '../protocol/reply-buffer.ts';
import { Argv } from '../protocol/argv.ts';

// ---------------------------------------------------------------------------
// Names

/** Full name of a subcommand ("client|id"), whatever spelling the table used. */
export function subcommandFullName(parent: string, sub: CommandSpec): string {
  return sub.name.includes('|') ? sub.name : `${parent}|${sub.name}`;
}

/** The part after the container name ("id" for "client|id"). */
export function subcommandShortName(sub: CommandSpec): string {
  const i = sub.name.indexOf('|');
  return i < 0 ? sub.name : sub.name.slice(i + 1);
}

/** A command as introspection sees it: its spec, full name and parent. */
export interface CommandNode {
  readonly spec: CommandSpec;
  readonly fullName: string;
  readonly parent: CommandNode | null;
  readonly subs: readonly CommandNode[];
}

function nodeOf(spec: CommandSpec, parent: CommandNode | null): CommandNode {
  const fullName = parent === null ? spec.name : subcommandFullName(parent.spec.name, spec);
  const subs: CommandNode[] = [];
  const node: CommandNode = { spec, fullName, parent, subs };
  for (const s of spec.subcommands ?? []) subs.push(nodeOf(s, node));
  return node;
}

/** The visible command tree, built once per table and cached. */
export class CommandCatalog {
  readonly roots: readonly CommandNode[];
  private readonly byName = new Map<string, CommandNode>();

  constructor(specs: Iterable<CommandSpec>) {
    const roots: CommandNode[] = [];
    for (const spec of specs) {
      if (spec.internal === true || spec.name.startsWith('__')) continue;
      const node = nodeOf(spec, null);
      roots.push(node);
      this.byName.set(node.fullName, node);
      for (const s of node.subs) this.byName.set(s.fullName, s);
    }
    this.roots = roots;
  }

  /** Like Redis's lookupCommandBySds: "name" or "container|sub", case-insensitive. */
  lookup(name: string): CommandNode | null {
    const parts = name.split('|');
    if (parts.length > 2) return null;
    const root = this.byName.get(parts[0].toLowerCase());
    if (root === undefined || root.parent !== null) return null;
    if (parts.length === 1) return root;
    if (root.subs.length === 0) return null;
    return this.byName.get(`${root.spec.name}|${parts[1].toLowerCase()}`) ?? null;
  }

  /** Like lookupCommand(argv): the subcommand when argv[0] is a container and argv[1] names one. */
  lookupArgv(args: readonly string[]): CommandNode | null {
    if (args.length === 0) return null;
    const root = this.byName.get(args[0].toLowerCase());
    if (root === undefined || root.parent !== null) return null;
    if (args.length === 1 || root.subs.length === 0) return root;
    return this.byName.get(`${root.spec.name}|${args[1].toLowerCase()}`) ?? null;
  }

  /** Every command then its subcommands, like COMMAND LIST. */
  *all(): IterableIterator<CommandNode> {
    for (const r of this.roots) {
      yield r;
      yield* r.subs;
    }
  }
}

const catalogs = new WeakMap<object, CommandCatalog>();

/** Catalog of a command map (cached per map; the tables do not change at runtime). */
export function catalogOf(commands: ReadonlyMap<string, { readonly spec: CommandSpec }>): CommandCatalog {
  let c = catalogs.get(commands);
  if (c === undefined || c.roots.length !== countVisible(commands)) {
    c = new CommandCatalog([...commands.values()].map((e) => e.spec));
    catalogs.set(commands, c);
  }
  return c;
}

function countVisible(commands: ReadonlyMap<string, { readonly spec: CommandSpec }>): number {
  let n = 0;
  for (const e of commands.values()) if (e.spec.internal !== true && !e.spec.name.startsWith('__')) n++;
  return n;
}

// ---------------------------------------------------------------------------
// Flags, ACL categories, tips

/** COMMAND INFO flag names, in the order Redis prints them. */
const FLAG_ORDER = [
  'write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale',
  'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'no_mandatory_keys', 'no_async_loading',
  'no_multi', 'movablekeys', 'allow_busy',
];

/** ACL categories in Redis's table order (the order replies list them in). */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo',
  'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** The category a command group implies (Redis's JSON files give these explicitly per command). */
const GROUP_CATEGORY: Readonly<Record<string, string>> = {
  generic: 'keyspace',
  string: 'string',
  list: 'list',
  set: 'set',
  'sorted-set': 'sortedset',
  sorted_set: 'sortedset',
  sortedset: 'sortedset',
  hash: 'hash',
  pubsub: 'pubsub',
  transactions: 'transaction',
  transaction: 'transaction',
  connection: 'connection',
  scripting: 'scripting',
  hyperloglog: 'hyperloglog',
  geo: 'geo',
  stream: 'stream',
  bitmap: 'bitmap',
};

function hasFlag(spec: CommandSpec, f: string): boolean {
  return spec.flags.includes(f);
}

/** The command flags COMMAND INFO shows, in Redis's order. */
export function commandFlags(spec: CommandSpec): string[] {
  // Keys counted by an argument (LMPOP) are movable keys, as Redis declares them.
  return FLAG_ORDER.filter((f) => hasFlag(spec, f) || (f === 'movablekeys' && spec.keyNumArg !== undefined));
}

/**
 * ACL categories of a command: the explicit ones (its group's, unless it is a
 * pure container, plus `aclCategories`), then the implicit ones Redis adds
 * from the flags (write, read, admin+dangerous, pubsub, fast, blocking, and
 * slow when not fast).
 */
export function aclCategories(node: CommandNode): string[] {
  const spec = node.spec;
  const cats = new Set<string>();
  const isContainer = (spec.subcommands?.length ?? 0) > 0;
  const group = spec.group !== '' ? spec.group : (node.parent?.spec.group ?? '');
  const own = OWN_CATEGORIES[node.fullName];
  if (own !== undefined) {
    for (const c of own) cats.add(c);
  } else if (!isContainer) {
    const g = GROUP_CATEGORY[group];
    if (g !== undefined) cats.add(g);
  }
  for (const c of [...(spec.aclCategories ?? []), ...(EXTRA_CATEGORIES[node.fullName] ?? [])]) {
    cats.add(c.replace(/^[@+]+/, '').toLowerCase());
  }
  if (hasFlag(spec, 'write')) cats.add('write');
  if (hasFlag(spec, 'readonly') && !cats.has('scripting')) cats.add('read');
  if (hasFlag(spec, 'admin')) {
    cats.add('admin');
    cats.add('dangerous');
  }
  if (hasFlag(spec, 'pubsub')) cats.add('pubsub');
  if (hasFlag(spec, 'fast')) cats.add('fast');
  if (hasFlag(spec, 'blocking')) cats.add('blocking');
  if (!cats.has('fast')) cats.add('slow');
  return ACL_CATEGORIES.filter((c) => cats.has(c));
}

/** Command tips (Redis 7 "command_tips"), by full name. */
const TIPS: Readonly<Record<string, readonly string[]>> = {
  ping: ['request_policy:all_shards', 'response_policy:all_succeeded'],
  info: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
  time: ['nondeterministic_output'],
  zrandmember: ['nondeterministic_output'],
  zscan: ['nondeterministic_output'],
  lastsave: ['nondeterministic_output'],
  command: ['nondeterministic_output_order'],
  'command|info': ['nondeterministic_output_order'],
  'command|docs': ['nondeterministic_output_order'],
  'command|list': ['nondeterministic_output_order'],
  smembers: ['nondeterministic_output_order'],
  sinter: ['nondeterministic_output_order'],
  sunion: ['nondeterministic_output_order'],
  sdiff: ['nondeterministic_output_order'],
  spop: ['nondeterministic_output'],
  srandmember: ['nondeterministic_output'],
  sscan: ['nondeterministic_output'],
  'client|info': ['nondeterministic_output'],
  'client|list': ['nondeterministic_output'],
  'client|setinfo': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'config|set': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'config|resetstat': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'config|rewrite': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'slowlog|get': ['request_policy:all_nodes', 'nondeterministic_output'],
  'slowlog|len': ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'],
  'slowlog|reset': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  randomkey: ['request_policy:all_shards', 'nondeterministic_output'],
  ttl: ['nondeterministic_output'],
  pttl: ['nondeterministic_output'],
  dump: ['nondeterministic_output'],
  keys: ['request_policy:all_shards', 'nondeterministic_output_order'],
  scan: ['nondeterministic_output', 'request_policy:special'],
  hgetall: ['nondeterministic_output_order'],
  hkeys: ['nondeterministic_output_order'],
  hvals: ['nondeterministic_output_order'],
  hrandfield: ['nondeterministic_output'],
  hscan: ['nondeterministic_output'],
  dbsize: ['request_policy:all_shards', 'response_policy:agg_sum'],
  flushall: ['request_policy:all_shards', 'response_policy:all_succeeded'],
  flushdb: ['request_policy:all_shards', 'response_policy:all_succeeded'],
  mset: ['request_policy:multi_shard', 'response_policy:all_succeeded'],
  msetnx: ['request_policy:multi_shard', 'response_policy:agg_min'],
  mget: ['request_policy:multi_shard'],
  del: ['request_policy:multi_shard', 'response_policy:agg_sum'],
  unlink: ['request_policy:multi_shard', 'response_policy:agg_sum'],
  exists: ['request_policy:multi_shard', 'response_policy:agg_sum'],
  touch: ['request_policy:multi_shard', 'response_policy:agg_sum'],
};

/**
 * Categories Redis declares for commands whose group does not imply them
 * (server-group commands acting on the keyspace), added to a spec's own.
 */
const EXTRA_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  dbsize: ['keyspace'],
  flushall: ['keyspace', 'dangerous'],
  flushdb: ['keyspace', 'dangerous'],
  swapdb: ['keyspace', 'dangerous'],
  keys: ['keyspace', 'dangerous'],
  restore: ['dangerous'],
};

/** Commands whose explicit categories are not their group's (Redis declares these instead). */
const OWN_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  sort: ['set', 'sortedset', 'list', 'dangerous'],
  sort_ro: ['set', 'sortedset', 'list'],
  wait: ['connection'],
};

/** Doc flags (COMMAND DOCS doc_flags), by full name. */
const DOC_FLAGS: Readonly<Record<string, readonly string[]>> = {
  debug: ['syscmd'],
  pfdebug: ['syscmd'],
};

// ---------------------------------------------------------------------------
// Key specs

export interface KeySpecDoc {
  readonly notes?: string;
  readonly flags: readonly string[];
  /** begin_search: an index, or a keyword searched from `startfrom`, or unknown (found by parsing: SORT). */
  readonly begin: { readonly index: number } | { readonly keyword: string; readonly startfrom: number } | { readonly unknown: true };
  /** find_keys: a range (lastkey relative to the first key when >= 0) or a key count argument, or unknown. */
  readonly find:
    | { readonly lastkey: number; readonly keystep: number; readonly limit: number }
    | { readonly keynumidx: number; readonly firstkey: number; readonly keystep: number }
    | { readonly unknown: true };
}

const RO = ['RO', 'access'];
const RO_NOACCESS = ['RO'];
const RW_ACCESS_UPDATE = ['RW', 'access', 'update'];
const RW_UPDATE = ['RW', 'update'];
const RW_INSERT = ['RW', 'insert'];
const RW_ACCESS_DELETE = ['RW', 'access', 'delete'];
const RM_DELETE = ['RM', 'delete'];
const OW_UPDATE = ['OW', 'update'];
const OW_INSERT = ['OW', 'insert'];

function range(index: number, lastkey: number, keystep: number, flags: readonly string[], notes?: string): KeySpecDoc {
  return { flags, begin: { index }, find: { lastkey, keystep, limit: 0 }, ...(notes === undefined ? {} : { notes }) };
}

/** SORT's BY/GET pattern keys (Redis's second key spec of SORT and SORT_RO). */
const SORT_PATTERN_KEYS: KeySpecDoc = {
  notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
  flags: RO, begin: { unknown: true }, find: { unknown: true },
};

/**
 * Key-spec flags per command where the default derivation (readonly: RO
 * access; write: RW access update) is not what Redis declares, and the
 * commands whose keys need more than one spec.
 */
const KEY_SPECS: Readonly<Record<string, readonly string[] | readonly KeySpecDoc[]>> = {
  set: [range(1, 0, 1, ['RW', 'access', 'update', 'variable_flags'], 'RW and ACCESS due to the optional `GET` argument')],
  sort: [range(1, 0, 1, RO), SORT_PATTERN_KEYS, {
    notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
    flags: OW_UPDATE, begin: { unknown: true }, find: { unknown: true },
  }],
  sort_ro: [range(1, 0, 1, RO), SORT_PATTERN_KEYS],
  setnx: OW_INSERT,
  setex: OW_UPDATE,
  psetex: OW_UPDATE,
  mset: OW_UPDATE,
  msetnx: OW_INSERT,
  getdel: RW_ACCESS_DELETE,
  getex: [range(1, 0, 1, RW_ACCESS_UPDATE, 'RW and UPDATE because it changes the TTL')],
  append: RW_INSERT,
  setrange: RW_UPDATE,
  strlen: RO_NOACCESS,
  del: RM_DELETE,
  unlink: RM_DELETE,
  exists: RO_NOACCESS,
  type: RO_NOACCESS,
  touch: RO_NOACCESS,
  expire: RW_UPDATE,
  pexpire: RW_UPDATE,
  expireat: RW_UPDATE,
  pexpireat: RW_UPDATE,
  persist: RW_UPDATE,
  restore: OW_UPDATE,
  rename: [range(1, 0, 1, RW_ACCESS_DELETE), range(2, 0, 1, OW_UPDATE)],
  renamenx: [range(1, 0, 1, RW_ACCESS_DELETE), range(2, 0, 1, OW_INSERT)],
  copy: [range(1, 0, 1, RO), range(2, 0, 1, OW_UPDATE)],
  bitop: [range(2, 0, 1, OW_UPDATE), range(3, -1, 1, RO)],
  bitfield: [range(1, 0, 1, ['RW', 'access', 'update', 'variable_flags'], 'This command allows both access and modification of the key')],
  hlen: RO_NOACCESS,
  llen: RO_NOACCESS,
  lpush: RW_INSERT,
  rpush: RW_INSERT,
  lpushx: RW_INSERT,
  rpushx: RW_INSERT,
  lpop: RW_ACCESS_DELETE,
  rpop: RW_ACCESS_DELETE,
  lset: RW_UPDATE,
  linsert: RW_INSERT,
  lrem: ['RW', 'delete'],
  ltrim: ['RW', 'delete'],
  lmove: [range(1, 0, 1, RW_ACCESS_DELETE), range(2, 0, 1, RW_INSERT)],
  rpoplpush: [range(1, 0, 1, RW_ACCESS_DELETE), range(2, 0, 1, RW_INSERT)],
  lmpop: [{ flags: RW_ACCESS_DELETE, begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  hset: RW_UPDATE,
  hsetnx: RW_INSERT,
  hmset: RW_UPDATE,
  hdel: ['RW', 'delete'],
  hexists: RO_NOACCESS,
  hstrlen: RO_NOACCESS,
  scard: RO_NOACCESS,
  sadd: RW_INSERT,
  sismember: RO_NOACCESS,
  srem: ['RW', 'delete'],
  spop: RW_ACCESS_DELETE,
  smove: [range(1, 0, 1, RW_ACCESS_DELETE), range(2, 0, 1, RW_INSERT)],
  sinterstore: [range(1, 0, 1, RW_UPDATE), range(2, -1, 1, RO)],
  sunionstore: [range(1, 0, 1, OW_UPDATE), range(2, -1, 1, RO)],
  sdiffstore: [range(1, 0, 1, OW_UPDATE), range(2, -1, 1, RO)],
  sintercard: [{ flags: RO, begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zcard: RO_NOACCESS,
  zadd: RW_UPDATE,
  zincrby: RW_ACCESS_UPDATE,
  zrem: ['RW', 'delete'],
  zremrangebyrank: ['RW', 'delete'],
  zremrangebyscore: ['RW', 'delete'],
  zremrangebylex: ['RW', 'delete'],
  zpopmin: RW_ACCESS_DELETE,
  zpopmax: RW_ACCESS_DELETE,
  zmpop: [{ flags: RW_ACCESS_DELETE, begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zrangestore: [range(1, 0, 1, OW_UPDATE), range(2, 0, 1, RO)],
  zunion: [{ flags: RO, begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zinter: [{ flags: RO, begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zdiff: [{ flags: RO, begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zintercard: [{ flags: RO, begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zunionstore: [range(1, 0, 1, OW_UPDATE), { flags: RO, begin: { index: 2 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zinterstore: [range(1, 0, 1, OW_UPDATE), { flags: RO, begin: { index: 2 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  zdiffstore: [range(1, 0, 1, OW_UPDATE), { flags: RO, begin: { index: 2 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
  xlen: RO_NOACCESS,
  pfadd: RW_INSERT,
  pfcount: [range(1, -1, 1, ['RW', 'access'], 'RW because it may change the internal representation of the key, and propagate to replicas')],
  pfmerge: [range(1, 0, 1, ['RW', 'access', 'insert']), range(2, -1, 1, RO)],
  pfdebug: [range(2, 0, 1, ['RW', 'access'])],
};

/** The key specs of a command (none for keyless commands). */
export function keySpecs(spec: CommandSpec, fullName: string): readonly KeySpecDoc[] {
  const o = KEY_SPECS[fullName];
  if (o !== undefined && o.length > 0 && typeof o[0] !== 'string') return o as readonly KeySpecDoc[];
  if (spec.firstKey <= 0) return [];
  let flags: readonly string[];
  if (o !== undefined) flags = sortKeyFlags(o as readonly string[]);
  else if (hasFlag(spec, 'readonly')) flags = RO;
  else if (hasFlag(spec, 'write')) flags = RW_ACCESS_UPDATE;
  else flags = RO;
  const lastkey = spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey;
  return [range(spec.firstKey, lastkey, spec.keyStep > 0 ? spec.keyStep : 1, flags)];
}

const KEY_FLAG_ORDER = ['RO', 'RW', 'OW', 'RM', 'access', 'update', 'insert', 'delete', 'not_key', 'incomplete', 'variable_flags'];

function sortKeyFlags(flags: readonly string[]): string[] {
  return KEY_FLAG_ORDER.filter((f) => flags.includes(f));
}

function writeKeySpec(out: ReplyBuffer, ks: KeySpecDoc): void {
  out.map(ks.notes === undefined ? 3 : 4);
  if (ks.notes !== undefined) out.bulkOf('notes').bulkOf(ks.notes);
  const flags = sortKeyFlags(ks.flags);
  out.bulkOf('flags').set(flags.length);
  for (const f of flags) out.simple(f);
  out.bulkOf('begin_search').map(2);
  if ('unknown' in ks.begin) {
    out.bulkOf('type').bulkOf('unknown').bulkOf('spec').map(0);
  } else if ('index' in ks.begin) {
    out.bulkOf('type').bulkOf('index').bulkOf('spec').map(1).bulkOf('index').int(ks.begin.index);
  } else {
    out.bulkOf('type').bulkOf('keyword').bulkOf('spec').map(2)
      .bulkOf('keyword').bulkOf(ks.begin.keyword).bulkOf('startfrom').int(ks.begin.startfrom);
  }
  out.bulkOf('find_keys').map(2);
  const f = ks.find;
  if ('unknown' in f) {
    out.bulkOf('type').bulkOf('unknown').bulkOf('spec').map(0);
  } else if ('lastkey' in f) {
    out.bulkOf('type').bulkOf('range').bulkOf('spec').map(3)
      .bulkOf('lastkey').int(f.lastkey).bulkOf('keystep').int(f.keystep).bulkOf('limit').int(f.limit);
  } else {
    out.bulkOf('type').bulkOf('keynum').bulkOf('spec').map(3)
      .bulkOf('keynumidx').int(f.keynumidx).bulkOf('firstkey').int(f.firstkey).bulkOf('keystep').int(f.keystep);
  }
}

// ---------------------------------------------------------------------------
// COMMAND INFO / DOCS / LIST / GETKEYS

/** One COMMAND INFO entry (or a null for an unknown command). */
export function writeCommandInfo(out: ReplyBuffer, node: CommandNode | null): void {
  if (node === null) {
    out.nil();
    return;
  }
  const spec = node.spec;
  out.array(10);
  out.bulkOf(node.fullName);
  out.int(spec.arity);
  const flags = commandFlags(spec);
  out.set(flags.length);
  for (const f of flags) out.simple(f);
  // Redis reports 0 0 0 for keys it cannot place without the arguments (LMPOP's numkeys).
  // A key before the count (ZUNIONSTORE's destination) is reported as Redis does (1 1 1).
  const movable = spec.keyNumArg !== undefined && spec.firstKey > spec.keyNumArg;
  const keyBeforeCount = spec.keyNumArg !== undefined && !movable;
  out.int(movable ? 0 : spec.firstKey);
  out.int(movable ? 0 : keyBeforeCount ? spec.firstKey : spec.lastKey);
  out.int(movable ? 0 : spec.keyStep);
  const cats = aclCategories(node);
  out.set(cats.length);
  for (const c of cats) out.simple(`@${c}`);
  const tips = TIPS[node.fullName] ?? [];
  out.set(tips.length);
  for (const t of tips) out.bulkOf(t);
  const specs = keySpecs(spec, node.fullName);
  out.set(specs.length);
  for (const ks of specs) writeKeySpec(out, ks);
  if (node.subs.length === 0) {
    out.set(0);
  } else {
    out.array(node.subs.length);
    for (const s of node.subs) writeCommandInfo(out, s);
  }
}

/** One COMMAND DOCS value (the map describing a command). */
export function writeCommandDocs(out: ReplyBuffer, node: CommandNode): void {
  const spec = node.spec;
  const docFlags = DOC_FLAGS[node.fullName] ?? [];
  const group = spec.group !== '' ? spec.group : (node.parent?.spec.group ?? 'server');
  let n = 1;
  if (spec.summary !== '') n++;
  if (spec.since !== '') n++;
  if (spec.complexity !== undefined && spec.complexity !== '') n++;
  if (docFlags.length > 0) n++;
  if (node.subs.length > 0) n++;
  out.map(n);
  if (spec.summary !== '') out.bulkOf('summary').bulkOf(spec.summary);
  if (spec.since !== '') out.bulkOf('since').bulkOf(spec.since);
  out.bulkOf('group').bulkOf(group);
  if (spec.complexity !== undefined && spec.complexity !== '') out.bulkOf('complexity').bulkOf(spec.complexity);
  if (docFlags.length > 0) {
    out.bulkOf('doc_flags').set(docFlags.length);
    for (const f of docFlags) out.simple(f);
  }
  if (node.subs.length > 0) {
    out.bulkOf('subcommands').map(node.subs.length);
    for (const s of node.subs) {
      out.bulkOf(s.fullName);
      writeCommandDocs(out, s);
    }
  }
}

export type ListFilter = { kind: 'module' | 'aclcat' | 'pattern'; arg: string } | null;

/** Names for COMMAND LIST, with Redis's FILTERBY semantics. */
export function listCommands(cat: CommandCatalog, filter: ListFilter): string[] {
  const out: string[] = [];
  for (const node of cat.all()) {
    if (filter !== null) {
      if (filter.kind === 'module') continue; // no modules
      if (filter.kind === 'aclcat') {
        const want = filter.arg.toLowerCase();
        if (!ACL_CATEGORIES.includes(want) || !aclCategories(node).includes(want)) continue;
      } else if (!globMatchString(filter.arg, node.fullName, true)) {
        continue;
      }
    }
    out.push(node.fullName);
  }
  return out;
}

export interface KeyFound {
  readonly pos: number;
  readonly flags: readonly string[];
}

/**
 * COMMAND GETKEYS: the key positions of a full command line (argv without
 * "COMMAND GETKEYS"), or an error text.
 */
export function getKeys(cat: CommandCatalog, args: readonly string[]): KeyFound[] | string {
  const node = cat.lookupArgv(args);
  if (node === null) return 'ERR Invalid command specified';
  const spec = node.spec;
  const specs = keySpecs(spec, node.fullName);
  if (specs.length === 0) return 'ERR The command has no key arguments';
  const argc = args.length;
  if ((spec.arity > 0 && spec.arity !== argc) || argc < -spec.arity) {
    return 'ERR Invalid number of arguments specified for command';
  }
  const found: KeyFound[] = [];
  if (spec.movableKeys !== undefined) {
    // SORT: the source and the STORE key come from parsing the arguments (Redis's sortGetKeys).
    const positions: number[] = [];
    spec.movableKeys(Argv.fromStrings(args), positions, false);
    positions.forEach((pos, i) => found.push({ pos, flags: i === 0 ? RO : OW_UPDATE }));
    return found;
  }
  for (const ks of specs) {
    let first: number;
    if ('unknown' in ks.begin || 'unknown' in ks.find) continue;
    if ('index' in ks.begin) {
      first = ks.begin.index;
    } else {
      const kw = ks.begin.keyword.toLowerCase();
      let at = -1;
      for (let i = ks.begin.startfrom; i < argc; i++) if (args[i].toLowerCase() === kw) { at = i; break; }
      if (at < 0) continue;
      first = at + 1;
    }
    if (first >= argc) continue;
    const f = ks.find;
    let last: number;
    let step: number;
    if ('lastkey' in f) {
      last = f.lastkey >= 0 ? first + f.lastkey : argc + f.lastkey;
      if (f.limit > 1 && f.lastkey < 0) last = first + Math.floor((argc - first) / f.limit) - 1;
      step = f.keystep;
    } else {
      const n = Number(args[first + f.keynumidx]);
      if (!Number.isInteger(n) || n < 0) return 'ERR Invalid arguments specified for command';
      first = first + f.firstkey;
      last = first + (n - 1) * f.keystep;
      step = f.keystep;
      // More keys counted than there are arguments: Redis's syntax error.
      if (last >= argc) return 'ERR Invalid arguments specified for command';
    }
    if (last >= argc) last = argc - 1;
    let flags = sortKeyFlags(ks.flags);
    if (node.fullName === 'set') {
      // SET's key flags depend on the GET option (Redis's setGetKeys).
      flags = args.slice(3).some((a) => a.toLowerCase() === 'get') ? RW_ACCESS_UPDATE : OW_UPDATE;
    }
    for (let i = first; i <= last; i += step > 0 ? step : 1) found.push({ pos: i, flags });
  }
  if (found.length === 0 && !hasFlag(spec, 'no_mandatory_keys')) return 'ERR Invalid arguments specified for command';
  return found;
}
