import type { HashIndex } from './hash-index.ts';
import type { StructureStore } from './structure.ts';

/**
 * Redis's LAZYFREE_THRESHOLD: a value whose free effort (StructureStore.freeEffort)
 * is above this is freed in slices rather than at once.
 */
export const LAZYFREE_THRESHOLD = 64;

/**
 * A shard's lazy-free queue, as Redis's lazyfree (which hands the object to a
 * background thread). A shard has one thread, so the queue is drained in
 * bounded slices: between batches of requests and in the cron (shard/worker.ts).
 *
 * Two kinds of work wait here: structures (lists, hashes, sets and sorted sets
 * with their nodes or records), unlinked from the keyspace by DEL, UNLINK,
 * an overwrite, an expiry or a flush; and whole databases' indexes detached by
 * FLUSHDB/FLUSHALL ASYNC, whose records are freed group by group
 * (HashIndex.drainGroups, then destroy), their big values going to the
 * structure queue in turn. Nothing waiting is reachable
 * from a keyspace, and everything waiting still counts in used_memory: the
 * allocator gives its bytes back only when a slice frees them. The queue
 * itself is two arrays of numbers: one slot per queued value, never per element.
 */
export class LazyFreeQueue {
  private types: number[] = [];
  private refs: number[] = [];
  private head = 0;
  private readonly indexes: HashIndex[] = [];
  private indexCursor = 0;
  /** Objects waiting (INFO lazyfree_pending_objects): queued values plus records of detached indexes. */
  pending = 0;
  /** Objects freed through the queue since start (INFO lazyfreed_objects). */
  freed = 0;

  get empty(): boolean {
    return this.indexes.length === 0 && this.head === this.refs.length;
  }

  /** Queues a structure (unlinked already) for slice freeing. */
  push(type: number, h: number): void {
    this.types.push(type);
    this.refs.push(h);
    this.pending++;
  }

  /** Queues a detached index: its records are released through `releaseEntry`, then its tables. */
  pushIndex(index: HashIndex): void {
    this.indexes.push(index);
    this.pending += index.size;
  }

  /**
   * Does up to `budget` units of freeing (one unit: one allocation of a
   * structure, or one index group). Returns true when nothing is left.
   * releaseEntry frees one record of a detached index (and its value, which
   * may join this queue).
   */
  step(budget: number, structures: readonly (StructureStore | undefined)[], releaseEntry: (ref: number) => void): boolean {
    let left = budget;
    while (left > 0 && this.indexes.length > 0) {
      const index = this.indexes[0];
      const groups = Math.max(1, left >> 3);
      let released = 0;
      this.indexCursor = index.drainGroups(this.indexCursor, groups, (ref) => {
        releaseEntry(ref);
        released++;
      });
      this.pending -= released;
      this.freed += released;
      left -= groups + released;
      if (this.indexCursor < 0) {
        index.destroy();
        this.indexes.shift();
        this.indexCursor = 0;
      }
    }
    while (left > 0 && this.head < this.refs.length) {
      const store = structures[this.types[this.head]];
      const slice = Math.min(left, 1024);
      left -= slice;
      const h = this.refs[this.head];
      if (store === undefined) throw new Error(`lazy free: no store for type ${this.types[this.head]}`);
      // A store without freeSome is freed whole (it should not have been queued).
      if (store.freeSome === undefined ? (store.free(h), true) : store.freeSome(h, slice)) {
        this.head++;
        this.pending--;
        this.freed++;
      }
    }
    if (this.head === this.refs.length && this.head > 0) {
      this.types.length = 0;
      this.refs.length = 0;
      this.head = 0;
    }
    return this.empty;
  }
}
