import { ORDER_LOCK, ORDER_TICKET_MODULUS, ORDER_TICKETS } from '../../native-layout/layout.ts';

/**
 * The ordering stage: decides when a command may be written to the rings so
 * that every client sees one order (docs/architecture.md, "Multi-shard
 * commands and the sequencer" and "One order across front threads").
 *
 * - **Holds** (this front): a command that reads on one shard and writes on
 *   another holds those shards while its phases run; a command that touches
 *   a held shard does not start until the holds are released (lock-ahead).
 * - **Tickets** (io-threads > 1): each shard numbers the multi-shard records
 *   it receives from every front. A front takes the tickets of all the shards
 *   a command spans at once, under one lock, so that any two such commands
 *   are in the same order on every shard they share; a shard runs its ordered
 *   records in ticket order, and any other record after the tickets issued
 *   before it was written (native-layout REQ_ORDER).
 */
export class Sequencer {
  private readonly held: Int32Array;
  private heldTotal = 0;
  /** The order block shared by the front threads, or null with one front (no tickets then). */
  readonly order: Int32Array | null;

  constructor(shardCount: number, order: Int32Array | null) {
    this.held = new Int32Array(shardCount);
    this.order = order;
  }

  /** True when one of `shards` is held by a coordinated command (the command must wait). */
  isHeld(shards: readonly number[]): boolean {
    if (this.heldTotal === 0) return false;
    for (let i = 0; i < shards.length; i++) if (this.held[shards[i]] > 0) return true;
    return false;
  }

  hold(shards: readonly number[]): void {
    for (const s of shards) {
      this.held[s]++;
      this.heldTotal++;
    }
  }

  /** Releases holds; the server then resumes whoever waited for them. */
  release(shards: readonly number[]): void {
    for (const s of shards) {
      this.held[s]--;
      this.heldTotal--;
    }
  }

  /** Takes the next ticket of each of the first `n` shards of `shards`, handing each to `use`. */
  takeTickets(shards: ArrayLike<number>, n: number, use: (shard: number, ticket: number) => void): void {
    const order = this.order as Int32Array;
    lockOrder(order);
    for (let u = 0; u < n; u++) {
      const s = shards[u];
      const at = ORDER_TICKETS + 16 * s;
      const t = Atomics.load(order, at);
      Atomics.store(order, at, (t + 1) & (ORDER_TICKET_MODULUS - 1));
      use(s, t);
    }
    Atomics.store(order, ORDER_LOCK, 0);
  }
}

/**
 * Takes the order block's lock: a few loads and stores are done under it, so
 * a front spins briefly, then sleeps in short waits (another front thread
 * that holds it may have lost its core).
 */
function lockOrder(order: Int32Array): void {
  for (let spins = 0; Atomics.compareExchange(order, ORDER_LOCK, 0, 1) !== 0; spins++) {
    if (spins > 1000) Atomics.wait(order, ORDER_LOCK, 1, 0.05);
  }
}
