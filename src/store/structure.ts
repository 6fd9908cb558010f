/**
 * What the keyspace needs from a value type stored outside its entry record
 * (lists, hashes, sets, sorted sets). The entry's value word holds the ref of
 * the structure's header (REF_UNIT_BYTES units); everything else about the
 * structure is its store's business. Keyspace keeps one store per TYPE_* in
 * `Keyspace.structures`, so generic key operations (DEL, COPY, RENAME, MOVE,
 * MEMORY USAGE, __take/__put, lazy freeing) work on every type without a
 * branch per type.
 */
export interface StructureStore {
  /**
   * Frees the header and everything it owns, now (the keyspace decides what
   * is freed in slices: a store keeps no deferred-free list of its own).
   * Never allocates.
   */
  free(h: number): void;
  /** A deep copy (COPY, RENAME within a shard): all or nothing (OutOfMemoryError). */
  clone(h: number): number;
  /** An arena-independent serialization (payload of __take/__put, after its header). */
  serialize(h: number): Uint8Array;
  /** True when `b[o, o+l)` is a serialization this store could have made (non-empty). */
  validSerialized(b: Uint8Array, o: number, l: number): boolean;
  /** Builds a structure from a validated serialization: all or nothing. */
  deserialize(b: Uint8Array, o: number, l: number): number;
  /** Arena bytes the structure takes (MEMORY USAGE). */
  /**
   * Arena bytes the structure takes (MEMORY USAGE). `samples` 0 (the default)
   * counts every element; otherwise at most that many elements (or nodes) are
   * read and the rest extrapolated from their average, as Redis's
   * objectComputeSize does, so MEMORY USAGE of a huge key stays cheap.
   */
  footprint(h: number, samples?: number): number;
  /**
   * Lazy freeing (store/lazyfree.ts): the work free(h) would do, counted in
   * allocations to release, as Redis's lazyfreeGetFreeEffort counts it (a
   * list: its nodes; a hash table: its entries; a compact single-block
   * encoding: 1). Must be O(1): it is asked on every delete and overwrite.
   * Above LAZYFREE_THRESHOLD (64) the keyspace unlinks the key at once and
   * queues the header; the shard then calls freeSome between batches.
   * Optional so that a store written before lazy freeing still compiles: a
   * store without freeEffort/freeSome is always freed at once by free().
   */
  freeEffort?(h: number): number;
  /**
   * Frees part of a structure that is no longer reachable from the keyspace:
   * about `budget` units of freeEffort (at least one when budget >= 1). Returns
   * true when everything, header included, is freed (h is dead then); false
   * when work remains: the header must then still describe what is left, so
   * that the next call goes on from there. Never allocates; nothing else
   * reads or writes the structure between calls. The contract a hash, set or
   * sorted set implements: keep a cursor in its header (or consume from one
   * end, as lists do: free the first nodes, repoint the head), free its
   * elements/nodes up to the budget, free its table(s) and header last.
   * A table on a HashIndex: HashIndex.drainGroups from a cursor in the
   * header, a few groups a step, charging the steps too (an empty stretch
   * must cost something), then destroy() and the header (HashStore and
   * SetStore do this). Required when freeEffort is given.
   */
  freeSome?(h: number, budget: number): boolean;
}
