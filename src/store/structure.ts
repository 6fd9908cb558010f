/**
 * What the keyspace needs from a value type stored outside its entry record
 * (lists, hashes, sets, sorted sets). The entry's value word holds the ref of
 * the structure's header (REF_UNIT_BYTES units); everything else about the
 * structure is its store's business. Keyspace keeps one store per TYPE_* in
 * `Keyspace.structures`, so generic key operations (DEL, COPY, RENAME, MOVE,
 * MEMORY USAGE, __take/__put) work on every type without a branch per type.
 */
export interface StructureStore {
  /** Frees the header and everything it owns. Never allocates. */
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
  footprint(h: number): number;
}
