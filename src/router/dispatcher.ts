import { opcodeOf } from '../commands/registry.ts';
import type { CommandSpec } from '../commands/types.ts';
import { CLUSTER_SLOTS, keyHashSlot } from '../util/crc16.ts';
import { Argv } from '../protocol/argv.ts';
import { REQF_MAY_USE_RESERVE } from '../../native-layout/layout.ts';
import { Sequencer } from './sequencer.ts';
import { LARGE_VALUE_BYTES, ShardLink, type ReplyTarget } from './shard-link.ts';
import { Awaiting, combineInterleaved, Gather, Tally, type Combine, type ReplySink } from './merge.ts';

/** A coordinator's phase that found its shard's ring full: sent, in order, once there is room. */
interface PendingCall {
  shard: number;
  opcode: number;
  db: number;
  flags: number;
  argv: Argv;
  target: ReplyTarget;
}

/**
 * The shard that owns a hash slot: contiguous slot ranges, one per shard, as
 * in a freshly created cluster.
 */
export function shardOfSlot(slot: number, shardCount: number): number {
  return Math.floor((slot * shardCount) / CLUSTER_SLOTS);
}

/**
 * The ring transport stage: routes keys to shards, writes each command's
 * records into the shards' rings (whole, split by shard, or fanned out to
 * all), and merges the split replies. When a command may start is the
 * sequencer's business (router/sequencer.ts); what waits, and in which order,
 * the server's (each client waits in its own order, see Server.resume).
 */
export class Dispatcher {
  readonly links: ShardLink[];
  readonly shardCount: number;
  private readonly slotToShard: Uint16Array;
  private readonly dirty: Uint8Array;
  /** Coordinator phases waiting for room, in the order they were asked for. */
  private pendingCalls: PendingCall[] = [];
  private readonly pick: Int32Array[] = [];
  private readonly pickCount: Int32Array;
  private readonly usedShards: Int32Array;
  /** Scratch for sendPendingCalls: shards whose first waiting call still found no room. */
  private readonly callStuck: Uint8Array;
  private shardOfPos = new Int32Array(64);
  /** Record bytes of each used shard's part (sendSplit scratch). */
  private readonly partBytes: Float64Array;
  /**
   * Set when sendSplit refused a write for lack of memory (nothing was sent,
   * it returned true): the caller answers OOM and clears it.
   */
  refusedForMemory = false;
  /** Holds and tickets: which command may start when (router/sequencer.ts). */
  readonly sequencer: Sequencer;
  private readonly lockOp = opcodeOf('__lock');
  private readonly unlockOp = opcodeOf('__unlock');
  private readonly lockArgv = Argv.fromStrings(['__lock']);
  private readonly unlockArgv = Argv.fromStrings(['__unlock']);

  constructor(links: ShardLink[], order: Int32Array | null = null) {
    this.links = links;
    this.shardCount = links.length;
    this.slotToShard = new Uint16Array(CLUSTER_SLOTS);
    // Contiguous slot ranges per shard, like a freshly created cluster.
    for (let s = 0; s < CLUSTER_SLOTS; s++) this.slotToShard[s] = shardOfSlot(s, this.shardCount);
    this.dirty = new Uint8Array(this.shardCount);
    this.sequencer = new Sequencer(this.shardCount, order);
    this.pickCount = new Int32Array(this.shardCount);
    this.usedShards = new Int32Array(this.shardCount);
    this.partBytes = new Float64Array(this.shardCount);
    this.callStuck = new Uint8Array(this.shardCount);
    for (let i = 0; i < this.shardCount; i++) this.pick.push(new Int32Array(16));
    // Not frozen: a frozen array has elements of another kind, and the loads of `shards[i]` that see
    // both it and the usual arrays would go through the generic keyed-load stub.
    this.everyShard = Array.from({ length: this.shardCount }, (_, i) => i);
  }

  shardOf(u8: Uint8Array, off: number, len: number): number {
    // One shard owns every slot: the CRC would be computed for nothing.
    if (this.shardCount === 1) return 0;
    return this.slotToShard[keyHashSlot(u8, off, len)];
  }

  shardOfKey(key: string | Uint8Array): number {
    const b = typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
    return this.shardOf(b, 0, b.length);
  }

  // These build new arrays rather than refill scratch ones: shortening an
  // array (length = 0) is a call into V8's runtime, dearer than a small allocation.

  /** Positions of the keys of a command, per its spec (first, last, step). */
  keyPositions(spec: CommandSpec, argc: number): number[] {
    const out: number[] = [];
    if (spec.firstKey <= 0) return out;
    if (spec.keyNumArg !== undefined) return out; // needs the arguments: keyPositionsOf
    const last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey;
    for (let i = spec.firstKey; i <= last && i < argc; i += spec.keyStep) out.push(i);
    return out;
  }

  /** Key positions of a command whose key count is an argument (LMPOP): none when that count is invalid. */
  keyPositionsOf(spec: CommandSpec, argv: Argv): number[] {
    if (spec.movableKeys !== undefined) {
      const out: number[] = [];
      spec.movableKeys(argv, out, false);
      return out;
    }
    if (spec.keyNumArg === undefined) return this.keyPositions(spec, argv.count);
    const out: number[] = [];
    const k = spec.keyNumArg;
    if (k >= argv.count) return out;
    const n = Number(argv.str(k));
    if (!Number.isSafeInteger(n) || n <= 0) return out;
    // A key before the count (ZUNIONSTORE's destination) comes first.
    if (spec.firstKey < k) out.push(spec.firstKey);
    for (let i = k + 1; i <= k + n && i < argv.count; i++) out.push(i);
    return out;
  }

  /** Shards a keyed command touches, deduplicated. */
  shardsOf(argv: Argv, positions: readonly number[]): number[] {
    const out: number[] = [];
    for (const i of positions) {
      const s = this.shardOf(argv.u8, argv.off[i], argv.len[i]);
      if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  /** 0 .. shardCount-1, shared: never mutate. */
  readonly everyShard: readonly number[];

  // -- sending ---------------------------------------------------------------

  /** Marks a link as having unpublished records. */
  private touched(s: number): void {
    this.dirty[s] = 1;
  }

  /**
   * Publishes every link written since the last flush: one notify per shard
   * per batch. A shard this front runs itself (embedded) runs its records now;
   * `servedEmbedded` then says that replies wait in its reply ring.
   */
  flush(): void {
    for (let s = 0; s < this.shardCount; s++) {
      const link = this.links[s];
      // A new turn for the commands it runs inline (ShardLink.runInline): the first samples the clocks.
      if (link.embedded !== null) link.embedded.runtime.newTurn();
      if (this.dirty[s]) {
        this.dirty[s] = 0;
        link.publish();
        if (link.embedded !== null && link.embedded.serve() > 0) this.servedEmbedded = true;
      }
    }
  }

  /** Set by flush() when a shard run by this front answered (the server drains it in the same turn). */
  servedEmbedded = false;
  /** A record meant to go at once waits for the turn's flush instead (set by the server: it asks for one). */
  onDeferred: () => void = () => {};

  /** Sends a whole command to one shard; false when its ring has no room now. */
  sendWhole(shard: number, opcode: number, db: number, flags: number, argv: Argv, target: ReplyTarget, tag: number): boolean {
    if (!this.links[shard].trySendAll(opcode, db, flags, argv, target, tag)) return false;
    this.touched(shard);
    return true;
  }

  /**
   * Splits a multi-key command by shard: each shard gets argv[0] and the key
   * groups it owns (a group is `step` arguments from a key position). The
   * replies are merged as `merge` says: 'sum' adds integers (DEL, EXISTS),
   * 'mset' wants +OK from every part, 'mget' puts each shard's array elements
   * back at their keys' positions. The first error wins.
   */
  sendSplit(opcode: number, db: number, flags: number, argv: Argv, positions: readonly number[], step: number,
    sink: ReplySink, seq: number, merge: 'sum' | 'mset' | 'mget'): boolean {
    const pc = this.pickCount;
    pc.fill(0);
    const nkeys = positions.length;
    if (this.shardOfPos.length < nkeys) this.shardOfPos = new Int32Array(nkeys * 2);
    const shardOfPos = this.shardOfPos;
    const used = this.usedShards;
    let nused = 0;
    for (let k = 0; k < nkeys; k++) {
      const i = positions[k];
      const s = this.shardOf(argv.u8, argv.off[i], argv.len[i]);
      shardOfPos[k] = s;
      if (pc[s] === 0) {
        used[nused++] = s;
        this.ensurePick(s, 1 + nkeys * step);
        this.pick[s][pc[s]++] = 0;
      }
      for (let j = 0; j < step; j++) this.pick[s][pc[s]++] = i + j;
    }
    for (let u = 0; u < nused; u++) {
      const s = used[u];
      const bytes = ShardLink.sizeOf(argv, this.pick[s], pc[s]);
      if (!this.links[s].canFit(bytes)) return false;
      this.partBytes[u] = bytes;
    }
    if (merge === 'mset') {
      // A write split over shards is all or nothing: sent only when every
      // part surely fits, and then each part may use its shard's reserve
      // (docs/architecture.md, "Memory exhaustion").
      for (let u = 0; u < nused; u++) {
        const s = used[u];
        const pick = this.pick[s];
        let large = 0;
        for (let j = 2; j < pc[s]; j += step) if (argv.len[pick[j]] >= LARGE_VALUE_BYTES) large += argv.len[pick[j]];
        if (!this.links[s].admitsWrite(this.partBytes[u], (pc[s] - 1) / step, large)) {
          this.refusedForMemory = true;
          return true;
        }
      }
      flags |= REQF_MAY_USE_RESERVE;
    }
    let target: ReplyTarget;
    if (merge === 'mget') {
      const order: number[][] = [];
      for (let u = 0; u < nused; u++) {
        const list: number[] = [];
        for (let k = 0; k < nkeys; k++) if (shardOfPos[k] === used[u]) list.push(k);
        order.push(list);
      }
      target = new Gather(nused, sink, seq, (parts) => combineInterleaved(parts, order, nkeys));
    } else {
      target = new Tally(nused, sink, seq, merge === 'sum');
    }
    if (this.ordered) this.takeTickets(used, nused);
    for (let u = 0; u < nused; u++) {
      const s = used[u];
      this.links[s].send(opcode, db, flags, argv, target, u, this.pick[s], pc[s]);
      this.touched(s);
    }
    return true;
  }

  // -- one order across front threads (io-threads > 1): see router/sequencer.ts --

  /**
   * Several front threads share the shards (the sequencer has the order block): multi-shard
   * records take tickets. With one front its enqueue order is the total order already.
   */
  private get ordered(): boolean {
    return this.sequencer.order !== null;
  }

  /** Takes the next ticket of each of the first `n` shards of `shards`: their links write them with the next record. */
  private takeTickets(shards: ArrayLike<number>, n: number): void {
    this.sequencer.takeTickets(shards, n, (s, ticket) => { this.links[s].ticket = ticket; });
  }

  /**
   * A coordinated command's shards, taken on the shard side too when several
   * front threads feed them: one ordered __lock per shard, after which each
   * of them reads only this front's ring until __unlock. False, with nothing
   * written, when a ring has no room now (the command waits, as any other).
   */
  lockShards(shards: readonly number[]): boolean {
    if (!this.ordered) return true;
    const size = ShardLink.sizeOf(this.lockArgv);
    for (const s of shards) if (!this.links[s].canFit(size)) return false;
    this.takeTickets(shards, shards.length);
    for (const s of shards) {
      this.links[s].send(this.lockOp, 0, 0, this.lockArgv, null, 0);
      this.touched(s);
    }
    return true;
  }

  /** Gives a coordinated command's shards back (after its last phase has answered). */
  unlockShards(shards: readonly number[]): void {
    if (!this.ordered) return;
    for (const s of shards) void this.callOp(s, this.unlockOp, this.unlockArgv, true);
  }

  private ensurePick(s: number, n: number): void {
    if (this.pick[s].length < n) this.pick[s] = new Int32Array(Math.max(n, this.pick[s].length * 2));
  }

  /**
   * Whether every listed part of a coordinated write surely fits on its shard
   * (ShardLink.admitsWrite): parts[i] = [shard, record bytes, keys, bytes of
   * large values]. The caller holds the shards, so nothing else reaches them
   * before it sends.
   */
  admitsWrite(parts: ReadonlyArray<readonly [number, number, number, number]>): boolean {
    for (const [s, bytes, keys, large] of parts) if (!this.links[s].admitsWrite(bytes, keys, large)) return false;
    return true;
  }

  /** Sends the same command to every shard and combines the replies. */
  broadcast(opcode: number, db: number, flags: number, argv: Argv, sink: ReplySink, seq: number, combine: Combine): boolean {
    const size = ShardLink.sizeOf(argv);
    for (const link of this.links) if (!link.canFit(size)) return false;
    const gather = new Gather(this.shardCount, sink, seq, combine);
    if (this.ordered) this.takeTickets(this.everyShard, this.shardCount);
    this.links.forEach((link, s) => {
      link.send(opcode, db, flags, argv, gather, s);
      this.touched(s);
    });
    return true;
  }

  /**
   * Sends one command to one shard, bypassing holds (the caller owns them),
   * and resolves with its reply. Used by coordinated commands. A ring without
   * room does not fail the call: the record waits in pendingCalls, behind
   * any call asked for earlier, until sendPendingCalls() finds room.
   */
  call(shard: number, name: string, db: number, flags: number, args: ReadonlyArray<string | Uint8Array>,
    deferPublish = false): Promise<Buffer> {
    return this.callOp(shard, opcodeOf(name), Argv.fromStrings([name, ...args]), deferPublish, db, flags);
  }

  private callOp(shard: number, opcode: number, argv: Argv, deferPublish: boolean, db = 0, flags = 0): Promise<Buffer> {
    const target = new Awaiting();
    const p = new Promise<Buffer>((resolve) => { target.resolve = resolve; });
    if (this.pendingCalls.length === 0 && this.links[shard].trySendAll(opcode, db, flags, argv, target, 0)) {
      // deferPublish: published with the rest of the turn's records (flush), one wake-up for them all.
      // A shard this front runs itself goes with the turn's flush too: the server drains it there.
      if (deferPublish || this.links[shard].embedded !== null) {
        this.touched(shard);
        if (!deferPublish) this.onDeferred();
      } else this.links[shard].publish();
    } else {
      this.pendingCalls.push({ shard, opcode, db, flags, argv, target });
    }
    return p;
  }

  /** True while coordinator phases wait for room. */
  get hasPendingCalls(): boolean {
    return this.pendingCalls.length > 0;
  }

  /**
   * Sends the waiting coordinator phases that fit now, in order: a call
   * that still finds no room keeps every later call for the same shard
   * behind it. Called whenever rings may have gained room (after a drain).
   */
  sendPendingCalls(): void {
    const calls = this.pendingCalls;
    if (calls.length === 0) return;
    let kept = 0;
    const stuck = this.callStuck;
    stuck.fill(0);
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i];
      if (stuck[c.shard] === 0 && this.links[c.shard].trySendAll(c.opcode, c.db, c.flags, c.argv, c.target, 0)) {
        this.touched(c.shard);
      } else {
        stuck[c.shard] = 1;
        calls[kept++] = c;
      }
    }
    calls.length = kept;
    this.flush();
  }
}
