import { PF_COUNT_WITH, PF_FETCH, PF_MERGE_WITH, TAG_KEY } from '../../commands/hyperloglog.ts';
import type { Coordinator, FrontContext } from '../front-command.ts';
import { readNumber } from './shared.ts';

// PFCOUNT of several keys and PFMERGE when their keys live on different
// shards. The front only moves bytes: phase 1 fetches, from every shard but
// the computing one, each key's value with a tag (missing, wrong type, not an
// HLL, or the value: 12 KB for a dense HLL); phase 2 sends them, in the
// command's key order, to the computing shard (the destination's for PFMERGE,
// the first key's for PFCOUNT), which reads its own keys itself, merges the
// registers and answers with the error of the first bad key, as Redis does.
// The shards are held for the whole routine.

/** The bulk strings of a __pf_fetch reply (an array of bulks), or null for an error reply. */
function splitBulks(b: Buffer): Buffer[] | null {
  if (b[0] !== 0x2a /* * */) return null;
  let [count, p] = readNumber(b, 1);
  p += 2;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const [len, q] = readNumber(b, p + 1);
    p = q + 2;
    out.push(b.subarray(p, p + len));
    p += len + 2;
  }
  return out;
}

/**
 * The tagged sources for keys from argument `first` on, as the computing
 * shard `home` takes them: its own keys as "k" key, the others fetched.
 * Returns an error reply as a Buffer.
 */
async function taggedSources(c: FrontContext, first: number, home: number): Promise<Array<string | Uint8Array> | Buffer> {
  const a = c.argv;
  const d = c.srv.dispatcher;
  const db = c.client.db;
  const remote = new Map<number, number[]>();
  const shardOfArg: number[] = [];
  for (let i = first; i < a.count; i++) {
    const s = d.shardOf(a.u8, a.off[i], a.len[i]);
    shardOfArg[i] = s;
    if (s === home) continue;
    let list = remote.get(s);
    if (list === undefined) remote.set(s, list = []);
    list.push(i);
  }
  const groups = [...remote.entries()];
  const replies = await Promise.all(groups.map(([s, positions]) =>
    c.srv.callShard(s, PF_FETCH, db, positions.map((i) => a.bytes(i)))));
  const fetched = new Map<number, [Buffer, Buffer]>();
  for (let g = 0; g < groups.length; g++) {
    const parts = splitBulks(replies[g]);
    if (parts === null) return replies[g];
    groups[g][1].forEach((pos, k) => fetched.set(pos, [parts[2 * k], parts[2 * k + 1]]));
  }
  const args: Array<string | Uint8Array> = [];
  for (let i = first; i < a.count; i++) {
    const f = fetched.get(i);
    if (f === undefined) args.push(TAG_KEY, a.bytes(i));
    else args.push(f[0], f[1]);
  }
  return args;
}

const pfcountCoordinator: Coordinator = async (c) => {
  const a = c.argv;
  const home = c.srv.dispatcher.shardOf(a.u8, a.off[1], a.len[1]);
  const sources = await taggedSources(c, 1, home);
  if (Buffer.isBuffer(sources)) return sources;
  return c.srv.callShard(home, PF_COUNT_WITH, c.client.db, sources, c.client.resp === 3);
};

const pfmergeCoordinator: Coordinator = async (c) => {
  const a = c.argv;
  const home = c.srv.dispatcher.shardOf(a.u8, a.off[1], a.len[1]);
  const sources = await taggedSources(c, 1, home);
  if (Buffer.isBuffer(sources)) return sources;
  return c.srv.callShard(home, PF_MERGE_WITH, c.client.db, [a.bytes(1), ...sources], c.client.resp === 3);
};

/** Coordinated (cross-shard) HyperLogLog commands, by command name. */
export const hyperloglogCoordinators: ReadonlyArray<readonly [string, Coordinator]> = [
  ['pfcount', pfcountCoordinator],
  ['pfmerge', pfmergeCoordinator],
];
