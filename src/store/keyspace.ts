import {
  ENC_EMBSTR, ENC_INT, ENC_QUICKLIST, ENC_RAW, ENTRY_EXPIRE, ENTRY_EXPIRE_BYTES, ENTRY_HASH, ENTRY_HEADER_BYTES, ENTRY_KEYLEN,
  ENTRY_META, ENTRY_VALUE, META_ENC_SHIFT, META_EXPIRE_BIT, META_LRU_MASK, META_TYPE_SHIFT,
  MAX_SMALL_ALLOC, REF_UNIT_BYTES, SLAB_BYTES, STAT_ARENA_COMMITTED, STAT_DB_BASE, STAT_EXPIRED_KEYS, STAT_USED_BYTES,
  STAT_KEYSPACE_HITS, STAT_KEYSPACE_MISSES, STAT_LAZYFREE_PENDING, STAT_LAZYFREED_OBJECTS, TYPE_HASH, TYPE_LIST,
  TYPE_SET, TYPE_STRING, TYPE_ZSET,
} from '../../native-layout/layout.ts';
import { ListStore, type Piece } from './list.ts';
import { HashStore } from './hash.ts';
import { SetStore } from './set.ts';
import { ZSetStore } from './zset.ts';
import type { StructureStore } from './structure.ts';
import { LAZYFREE_THRESHOLD, LazyFreeQueue } from './lazyfree.ts';
import { hashBytes } from '../util/hash.ts';
import { copyBytes } from '../util/bytes.ts';
import { Arena, OutOfMemoryError, SlabAllocator } from './arena.ts';
import { HashIndex, keyLayout, keyOffsetIn } from './hash-index.ts';

// An entry is named by its ref: its address in REF_UNIT_BYTES units, as index
// slots store it. Its fields are then at u32 index ref * 2 + W_* and f64
// index ref + D_EXPIRE: multiplications and additions only, which V8 keeps in
// int32 while refs are below 2^30 (8 GiB) and runs on doubles above.
const W_HASH = ENTRY_HASH / 4;
const W_META = ENTRY_META / 4;
const W_KEYLEN = ENTRY_KEYLEN / 4;
/** An entry's key: after the header, and after the expiry when META_EXPIRE_BIT (bit 31 of the meta word) is set. */
const ENTRY_KEY_LAYOUT = keyLayout(W_KEYLEN, ENTRY_HEADER_BYTES, W_META, 31, 1, ENTRY_EXPIRE_BYTES);
const W_VALUE = ENTRY_VALUE / 4;
const D_EXPIRE = ENTRY_EXPIRE / 8;

/** Strings up to this length that are not integers are reported as embstr, like Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_LIMIT = 44;
/** Records up to this size come from size classes: at worst each takes a fresh slab. */
const SLAB_SMALL_LIMIT = MAX_SMALL_ALLOC;
const SLAB_BYTES_FOR_SMALL = SLAB_BYTES;

/**
 * The keyspace of one shard: every database's index plus the entry records,
 * all inside the shard's arena. Entry layout: native-layout/layout.ts (ENTRY_*).
 *
 * Methods that find a key leave its slot in `handle` (and its hash in `hash`)
 * so the command that follows can update or delete it without a second probe.
 *
 * Every write method either completes or throws OutOfMemoryError having
 * changed nothing: it allocates first and mutates after (docs/architecture.md,
 * "Memory exhaustion"). An entry is named by its ref (its address / 8, see
 * W_* below); the offsets it hands out (keyOffset, stringOffset) are bytes.
 */
export class Keyspace {
  readonly arena: Arena;
  readonly alloc: SlabAllocator;
  readonly dbs: HashIndex[];
  /** Keys with an expiry, per database (INFO keyspace expires=). */
  readonly volatileKeys: Int32Array;
  readonly stats: Float64Array;
  private readonly seed: number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  /** List structures (TYPE_LIST values) in the same arena. */
  readonly lists: ListStore;
  /** Hash structures (TYPE_HASH values). */
  readonly hashes: HashStore;
  /**
   * Per database: non-zero when some hash there may have fields with an
   * expiry (2 when one got some since the cron's field-expiry sweep began its
   * pass; the sweep clears it after a full pass that met none), so databases
   * without field TTLs cost the sweep nothing.
   */
  readonly fieldTtlDbs: Uint8Array;
  /** Set structures (TYPE_SET values). */
  readonly sets: SetStore;
  /** Sorted sets (TYPE_ZSET values) in the same arena. */
  readonly zsets: ZSetStore;
  /** The store of each non-inline value type, by TYPE_* (undefined for strings). */
  readonly structures: (StructureStore | undefined)[] = [];
  /** Values (and flushed indexes) unlinked and waiting to be freed in slices (store/lazyfree.ts). */
  readonly lazy = new LazyFreeQueue();

  /** Command time in unix ms: expiry decisions within one command use one clock. */
  now = Date.now();
  /** LRU clock: seconds, 24 bits, as Redis's LRU_CLOCK. */
  lruClock = 0;
  /** Reads leave the LRU/LFU clock alone (CLIENT NO-TOUCH, OBJECT). */
  noTouch = false;
  /** Use LFU counters instead of LRU times (maxmemory-policy *-lfu). */
  lfuMode = false;
  lfuLogFactor = 10;
  lfuDecayMinutes = 1;

  handle = -1;
  hash = 0;

  constructor(arena: Arena, databases: number, stats: Float64Array, seed: number) {
    this.arena = arena;
    this.alloc = new SlabAllocator(arena);
    this.u8 = arena.u8;
    this.u32 = arena.u32;
    this.f64 = arena.f64;
    this.lists = new ListStore(arena.u8, arena.u32, this.alloc);
    this.structures[TYPE_LIST] = this.lists;
    this.hashes = new HashStore(arena.u8, arena.u32, arena.f64, this.alloc, seed ^ 0x5bd1e995);
    this.structures[TYPE_HASH] = this.hashes;
    this.fieldTtlDbs = new Uint8Array(databases);
    this.sets = new SetStore(arena, this.alloc, seed ^ 0x5e75);
    this.structures[TYPE_SET] = this.sets;
    this.zsets = new ZSetStore(arena.u8, arena.u32, arena.f64, this.alloc, seed);
    this.structures[TYPE_ZSET] = this.zsets;
    this.stats = stats;
    this.seed = seed;
    this.volatileKeys = new Int32Array(databases);
    this.dbs = [];
    for (let i = 0; i < databases; i++) this.dbs.push(new HashIndex(arena, this.alloc, ENTRY_KEY_LAYOUT));
    this.tick(Date.now());
  }

  /** Sets the command clock; called before each command. */
  tick(nowMs: number): void {
    this.now = nowMs;
    this.lruClock = Math.floor(nowMs / 1000) & META_LRU_MASK;
  }

  // -- record shape ------------------------------------------------------------

  keyOffset(ref: number): number {
    return keyOffsetIn(ENTRY_KEY_LAYOUT, this.u32, ref);
  }

  keyLength(ref: number): number {
    return this.u32[ref * 2 + W_KEYLEN];
  }

  typeOf(ref: number): number {
    return (this.u32[ref * 2 + W_META] >>> META_TYPE_SHIFT) & 0xf;
  }

  encodingOf(ref: number): number {
    return (this.u32[ref * 2 + W_META] >>> META_ENC_SHIFT) & 0x7;
  }

  setEncoding(ref: number, enc: number): void {
    const m = this.u32[ref * 2 + W_META];
    this.u32[ref * 2 + W_META] = ((m & ~(0x7 << META_ENC_SHIFT)) | (enc << META_ENC_SHIFT)) >>> 0;
  }

  lruOf(ref: number): number {
    return this.u32[ref * 2 + W_META] & META_LRU_MASK;
  }

  setLru(ref: number, v: number): void {
    const p = ref * 2 + W_META;
    this.u32[p] = ((this.u32[p] & ~META_LRU_MASK) | (v & META_LRU_MASK)) >>> 0;
  }

  hasExpire(ref: number): boolean {
    return (this.u32[ref * 2 + W_META] & META_EXPIRE_BIT) !== 0;
  }

  /** Absolute expiry in unix ms, or -1 when the key is persistent. */
  expireOf(ref: number): number {
    if ((this.u32[ref * 2 + W_META] & META_EXPIRE_BIT) === 0) return -1;
    return this.f64[ref + D_EXPIRE];
  }

  /** Inline string value: offset and length. */
  stringOffset(ref: number): number {
    return this.keyOffset(ref) + this.u32[ref * 2 + W_KEYLEN];
  }

  stringLength(ref: number): number {
    return this.u32[ref * 2 + W_VALUE];
  }

  /** Non-inline types: ref of the value structure (a list header). */
  valueRef(ref: number): number {
    return this.u32[ref * 2 + W_VALUE];
  }

  setValueRef(ref: number, v: number): void {
    this.u32[ref * 2 + W_VALUE] = v;
  }

  /** Room for the inline value without reallocating. */
  stringCapacity(ref: number): number {
    return this.alloc.usableSize(ref * REF_UNIT_BYTES) - (this.stringOffset(ref) - ref * REF_UNIT_BYTES);
  }

  keyString(ref: number): string {
    const o = this.keyOffset(ref);
    return Buffer.from(this.arena.sab, o, this.keyLength(ref)).toString('latin1');
  }

  // -- lookups -----------------------------------------------------------------

  hashKey(kb: Uint8Array, ko: number, kl: number): number {
    if (ko === this.hintOffset && kb === this.hintBytes && kl === this.hintLength) return this.hintHash;
    return hashBytes(kb, ko, kl, this.seed);
  }

  // A key hashed ahead of its command (the shard's lookahead) is not hashed twice.
  private hintBytes: Uint8Array | null = null;
  private hintOffset = -1;
  private hintLength = 0;
  private hintHash = 0;

  /**
   * Hashes the key of a command to come and returns the group its lookup
   * starts at (HashIndex.homeGroup), or -1 for a database that does not exist.
   * The hash is left in `hash`.
   */
  homeGroupOf(db: number, kb: Uint8Array, ko: number, kl: number): number {
    const index = this.dbs[db];
    if (index === undefined) return -1;
    this.hash = hashBytes(kb, ko, kl, this.seed);
    return index.homeGroup(this.hash);
  }

  /** The key at kb[ko..ko+kl) hashes to `hash`, until clearHint(). */
  hint(kb: Uint8Array, ko: number, kl: number, hash: number): void {
    this.hintBytes = kb;
    this.hintOffset = ko;
    this.hintLength = kl;
    this.hintHash = hash;
  }

  clearHint(): void {
    this.hintBytes = null;
    this.hintOffset = -1;
  }

  /**
   * Finds a live key for writing (expired keys are deleted on the way, as
   * Redis's expireIfNeeded does) and touches its access clock, as Redis's
   * lookupKeyWrite does. No hit/miss counting. Returns the entry address or 0;
   * sets handle/hash.
   */
  lookupWrite(db: number, kb: Uint8Array, ko: number, kl: number): number {
    const ref = this.peek(db, kb, ko, kl);
    if (ref !== 0 && !this.noTouch) this.touchAccess(ref);
    return ref;
  }

  /**
   * Finds a live key (expired keys are deleted on the way) without touching
   * its access clock nor the hit counters. Returns the entry or 0; sets handle/hash.
   */
  peek(db: number, kb: Uint8Array, ko: number, kl: number): number {
    const ref = this.findAny(db, kb, ko, kl);
    if (ref === 0) return 0;
    if ((this.u32[ref * 2 + W_META] & META_EXPIRE_BIT) !== 0 && this.f64[ref + D_EXPIRE] <= this.now) {
      this.deleteAt(db, this.handle);
      this.stats[STAT_EXPIRED_KEYS]++;
      this.handle = -1;
      return 0;
    }
    return ref;
  }

  /** Like lookupWrite, and counts a keyspace hit or miss and touches the access clock. */
  lookupRead(db: number, kb: Uint8Array, ko: number, kl: number): number {
    const ref = this.peek(db, kb, ko, kl);
    if (ref === 0) {
      this.stats[STAT_KEYSPACE_MISSES]++;
      return 0;
    }
    this.stats[STAT_KEYSPACE_HITS]++;
    if (!this.noTouch) this.touchAccess(ref);
    return ref;
  }

  /** Counts a keyspace hit or miss but leaves the access clock alone (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE, TTL, OBJECT). */
  lookupReadNoTouch(db: number, kb: Uint8Array, ko: number, kl: number): number {
    const ref = this.peek(db, kb, ko, kl);
    this.stats[ref === 0 ? STAT_KEYSPACE_MISSES : STAT_KEYSPACE_HITS]++;
    return ref;
  }

  /** The entry of a key even when its time has passed (nothing is deleted, nothing counted: MEMORY USAGE, DEBUG). */
  findAny(db: number, kb: Uint8Array, ko: number, kl: number): number {
    const h = this.hashKey(kb, ko, kl);
    this.hash = h;
    const index = this.dbs[db];
    const handle = index.find(h, kb, ko, kl);
    this.handle = handle;
    return handle < 0 ? 0 : index.foundRef;
  }

  /** True when the entry carries an expiry that has passed (KEYS, SCAN: skip without deleting). */
  isExpired(ref: number): boolean {
    return (this.u32[ref * 2 + W_META] & META_EXPIRE_BIT) !== 0 && this.f64[ref + D_EXPIRE] <= this.now;
  }

  touchAccess(ref: number): void {
    if (this.lfuMode) this.setLru(ref, this.lfuIncremented(ref));
    else this.setLru(ref, this.lruClock);
  }

  // -- LFU (Redis's logarithmic counter with decay) --------------------------------

  private lfuMinutes(): number {
    return Math.floor(this.now / 60000) & 0xffff;
  }

  /** Counter after applying the decay that elapsed since the last access. */
  lfuDecayed(ref: number): number {
    const v = this.lruOf(ref);
    const last = v >>> 8;
    let counter = v & 0xff;
    const now = this.lfuMinutes();
    const elapsed = now >= last ? now - last : 65535 - last + now;
    const periods = this.lfuDecayMinutes > 0 ? Math.floor(elapsed / this.lfuDecayMinutes) : 0;
    counter = periods > counter ? 0 : counter - periods;
    return counter;
  }

  private lfuIncremented(ref: number): number {
    let counter = this.lfuDecayed(ref);
    if (counter < 255) {
      const base = counter > 5 ? counter - 5 : 0;
      const p = 1 / (base * this.lfuLogFactor + 1);
      if (Math.random() < p) counter++;
    }
    return (this.lfuMinutes() << 8) | counter;
  }

  /** Initial access clock of a new key (LFU starts at LFU_INIT_VAL = 5). */
  initialClock(): number {
    return this.lfuMode ? (this.lfuMinutes() << 8) | 5 : this.lruClock;
  }

  // -- writes ------------------------------------------------------------------

  /** Encoding OBJECT ENCODING reports for a string written whole (SET and friends). */
  static stringEncoding(vb: Uint8Array, vo: number, vl: number): number {
    if (vl > 0 && vl <= 20 && isCanonicalInteger(vb, vo, vl)) return ENC_INT;
    return vl <= EMBSTR_LIMIT ? ENC_EMBSTR : ENC_RAW;
  }

  /**
   * Writes a string value for the key, replacing whatever was there (any type).
   * vb null: a value of vl zero bytes. expireAt: absolute ms, or -1 for no
   * expiry. Returns the entry address. The caller must have called
   * lookupWrite() for this key just before (handle/hash). All or nothing:
   * throws OutOfMemoryError with the key as it was.
   */
  putString(db: number, kb: Uint8Array, ko: number, kl: number,
    vb: Uint8Array | null, vo: number, vl: number, enc: number, expireAt: number): number {
    const index = this.dbs[db];
    const handle = this.handle;
    const size = ENTRY_HEADER_BYTES + (expireAt >= 0 ? ENTRY_EXPIRE_BYTES : 0) + kl + vl;
    let ref: number;
    if (handle >= 0) {
      const old = index.refAt(handle);
      const oldExpire = this.hasExpire(old);
      // A value of the old one's length (the key is the same) needs no size-class lookup.
      if (this.typeOf(old) === TYPE_STRING && oldExpire === expireAt >= 0
        && (this.stringLength(old) === vl || SlabAllocator.roundedSize(size) === this.alloc.usableSize(old * REF_UNIT_BYTES))) {
        // Same shape, same size class: overwrite in place.
        ref = old;
        this.u32[ref * 2 + W_META] = (((this.u32[ref * 2 + W_META] & (META_EXPIRE_BIT | META_LRU_MASK)) |
          (TYPE_STRING << META_TYPE_SHIFT) | (enc << META_ENC_SHIFT)) >>> 0);
        if (expireAt >= 0) this.f64[ref + D_EXPIRE] = expireAt;
        this.u32[ref * 2 + W_VALUE] = vl;
        this.copyValue(vb, vo, this.stringOffset(ref), vl);
        if (!this.lfuMode) this.setLru(ref, this.initialClock());
        index.touch(handle);
        return ref;
      }
      // The new record first: if it cannot be allocated, nothing has changed.
      ref = this.writeNewString(this.hash, kb, ko, kl, vb, vo, vl, enc, expireAt, size);
      this.replaceAt(db, handle, old, ref);
      return ref;
    }
    ref = this.writeNewString(this.hash, kb, ko, kl, vb, vo, vl, enc, expireAt, size);
    this.insertNew(db, ref, expireAt >= 0);
    return ref;
  }

  /**
   * Stores a non-inline value (a structure at ref `value`, already built) under
   * the key found by the lookup just before (handle/hash), replacing what it
   * held. On OutOfMemoryError the key is as it was and the caller still owns
   * `value` (it must free it).
   */
  putStructure(db: number, kb: Uint8Array, ko: number, kl: number, type: number, enc: number, value: number,
    expireAt: number): number {
    const size = ENTRY_HEADER_BYTES + (expireAt >= 0 ? ENTRY_EXPIRE_BYTES : 0) + kl;
    const ref = this.alloc.alloc(size) / REF_UNIT_BYTES;
    this.u32[ref * 2 + W_HASH] = this.hash;
    this.u32[ref * 2 + W_META] = ((expireAt >= 0 ? META_EXPIRE_BIT : 0) | (type << META_TYPE_SHIFT) |
      (enc << META_ENC_SHIFT) | this.initialClock()) >>> 0;
    this.u32[ref * 2 + W_KEYLEN] = kl;
    this.u32[ref * 2 + W_VALUE] = value;
    let p = ref * REF_UNIT_BYTES + ENTRY_HEADER_BYTES;
    if (expireAt >= 0) {
      this.f64[ref + D_EXPIRE] = expireAt;
      p += ENTRY_EXPIRE_BYTES;
    }
    copyBytes(kb, ko, this.u8, p, kl);
    if (type === TYPE_HASH && this.hashes.hasTtl(value)) this.fieldTtlDbs[db] = 2;
    if (this.handle >= 0) {
      this.replaceAt(db, this.handle, this.dbs[db].refAt(this.handle), ref);
    } else {
      this.insertNew(db, ref, expireAt >= 0);
    }
    if (this.watchedKeys.size > 0) this.noteReady(db, kb, ko, kl);
    return ref;
  }

  /**
   * A new list key holding pieces pushed at `side` (the key must be absent:
   * lookupWrite just before). All or nothing. Returns the entry.
   */
  newList(db: number, kb: Uint8Array, ko: number, kl: number, side: number, pieces: readonly Piece[]): number {
    const h = this.lists.create();
    try {
      this.lists.push(h, side, pieces);
    } catch (e) {
      this.lists.free(h);
      throw e;
    }
    return this.putNewStructure(db, kb, ko, kl, TYPE_LIST, ENC_QUICKLIST, this.lists, h, -1);
  }

  /**
   * A new set key holding pieces (at least one; the key must be absent:
   * lookupWrite just before). All or nothing. Returns the entry. The entry's
   * encoding field stays 0: a set's encoding lives in its header.
   */
  newSet(db: number, kb: Uint8Array, ko: number, kl: number, pieces: readonly Piece[]): number {
    return this.putNewStructure(db, kb, ko, kl, TYPE_SET, 0, this.sets, this.sets.create(pieces), -1);
  }

  /**
   * putStructure() for a structure just built for this key: on OutOfMemoryError
   * it frees the structure too, so the caller has nothing to undo.
   */
  putNewStructure(db: number, kb: Uint8Array, ko: number, kl: number, type: number, enc: number,
    store: StructureStore, h: number, expireAt: number): number {
    try {
      return this.putStructure(db, kb, ko, kl, type, enc, h, expireAt);
    } catch (e) {
      store.free(h);
      throw e;
    }
  }

  /** Points the slot at `ref` in place of `old` (same key) and frees old. Allocates nothing. */
  private replaceAt(db: number, handle: number, old: number, ref: number): void {
    const index = this.dbs[db];
    const oldExpire = this.hasExpire(old);
    const newExpire = this.hasExpire(ref);
    if (this.lfuMode) this.setLru(ref, this.lruOf(old));
    this.freeValue(old);
    this.alloc.free(old * REF_UNIT_BYTES);
    index.setRefAt(handle, ref);
    if (oldExpire !== newExpire) {
      index.setVolatile(handle, newExpire);
      this.volatileKeys[db] += newExpire ? 1 : -1;
    }
  }

  /**
   * Indexes a new record whose key is absent (handle/hash from its lookup);
   * leaves its slot in `handle`. When the index has no slot left, frees the
   * record and throws OutOfMemoryError.
   */
  private insertNew(db: number, ref: number, volatile: boolean): void {
    const index = this.dbs[db];
    const handle = index.insert(this.hash, ref);
    if (handle < 0) {
      this.alloc.free(ref * REF_UNIT_BYTES);
      throw new OutOfMemoryError('hash index full');
    }
    this.handle = handle;
    if (volatile) {
      index.setVolatile(handle, true);
      this.volatileKeys[db]++;
    }
  }

  private copyValue(vb: Uint8Array | null, vo: number, to: number, vl: number): void {
    if (vb === null) this.u8.fill(0, to, to + vl);
    else copyBytes(vb, vo, this.u8, to, vl);
  }

  private writeNewString(hash: number, kb: Uint8Array, ko: number, kl: number,
    vb: Uint8Array | null, vo: number, vl: number, enc: number, expireAt: number, size: number): number {
    const ref = this.alloc.alloc(size) / REF_UNIT_BYTES;
    this.u32[ref * 2 + W_HASH] = hash;
    this.u32[ref * 2 + W_META] = ((expireAt >= 0 ? META_EXPIRE_BIT : 0) | (TYPE_STRING << META_TYPE_SHIFT) |
      (enc << META_ENC_SHIFT) | this.initialClock()) >>> 0;
    this.u32[ref * 2 + W_KEYLEN] = kl;
    this.u32[ref * 2 + W_VALUE] = vl;
    let p = ref * REF_UNIT_BYTES + ENTRY_HEADER_BYTES;
    if (expireAt >= 0) {
      this.f64[ref + D_EXPIRE] = expireAt;
      p += ENTRY_EXPIRE_BYTES;
    }
    copyBytes(kb, ko, this.u8, p, kl);
    this.copyValue(vb, vo, p + kl, vl);
    return ref;
  }

  /**
   * MSET's core: stores the string pairs (key at u8[off[i]], value at
   * u8[off[i + 1]], for i = first, first + 2, ... < end), all or none: throws
   * OutOfMemoryError with every key as it was. When the arena is sure to
   * have room for the worst case, the pairs are written one by one (no write
   * can fail); otherwise every record is allocated before the first key changes.
   */
  putStrings(db: number, u8: Uint8Array, off: Int32Array, len: Int32Array, first: number, end: number): void {
    const pairs = (end - first) >> 1;
    let worst = 0;
    let large = false;
    for (let j = first; j < end; j += 2) {
      const size = ENTRY_HEADER_BYTES + len[j] + len[j + 1];
      // A small record may need a fresh slab for its class; a large one takes its own run.
      if (size <= SLAB_SMALL_LIMIT) worst += SLAB_BYTES_FOR_SMALL;
      else {
        worst += SlabAllocator.roundedSize(size);
        large = true;
      }
    }
    const index = this.dbs[db];
    // Free slabs scattered over the arena take any small records; large ones
    // need contiguous runs, which only the untouched top guarantees.
    if (index.reserve(pairs) && (large ? this.alloc.topBytes : this.alloc.wholeSlabBytes) >= worst) {
      for (let j = first; j < end; j += 2) {
        this.lookupWrite(db, u8, off[j], len[j]);
        this.putString(db, u8, off[j], len[j], u8, off[j + 1], len[j + 1], Keyspace.stringEncoding(u8, off[j + 1], len[j + 1]), -1);
      }
      return;
    }
    // Tight: allocate every record first, then link them (lookups again: a
    // key may repeat, and an index growth may have moved slots).
    const refs: number[] = [];
    for (let j = first; j < end; j += 2) {
      const h = this.hashKey(u8, off[j], len[j]);
      const size = ENTRY_HEADER_BYTES + len[j] + len[j + 1];
      const ref = this.alloc.tryAlloc(size) / REF_UNIT_BYTES;
      if (ref === 0) {
        for (const r of refs) this.alloc.free(r * REF_UNIT_BYTES);
        throw new OutOfMemoryError('arena exhausted');
      }
      refs.push(ref);
      this.fillString(ref, h, u8, off[j], len[j], u8, off[j + 1], len[j + 1],
        Keyspace.stringEncoding(u8, off[j + 1], len[j + 1]));
    }
    let fresh = 0;
    for (let j = first; j < end; j += 2) if (this.peek(db, u8, off[j], len[j]) === 0) fresh++;
    if (!index.reserve(fresh)) {
      for (const r of refs) this.alloc.free(r * REF_UNIT_BYTES);
      throw new OutOfMemoryError('hash index full');
    }
    for (let k = 0; k < refs.length; k++) {
      const j = first + 2 * k;
      const ref = refs[k];
      if (this.lookupWrite(db, u8, off[j], len[j]) !== 0) this.replaceAt(db, this.handle, this.dbs[db].refAt(this.handle), ref);
      else this.insertNew(db, ref, false);
    }
  }

  /** Writes a persistent string record at ref (allocated by the caller). */
  private fillString(ref: number, hash: number, kb: Uint8Array, ko: number, kl: number,
    vb: Uint8Array, vo: number, vl: number, enc: number): void {
    this.u32[ref * 2 + W_HASH] = hash;
    this.u32[ref * 2 + W_META] = ((TYPE_STRING << META_TYPE_SHIFT) | (enc << META_ENC_SHIFT) | this.initialClock()) >>> 0;
    this.u32[ref * 2 + W_KEYLEN] = kl;
    this.u32[ref * 2 + W_VALUE] = vl;
    const p = ref * REF_UNIT_BYTES + ENTRY_HEADER_BYTES;
    copyBytes(kb, ko, this.u8, p, kl);
    copyBytes(vb, vo, this.u8, p + kl, vl);
  }

  /**
   * Makes room for a string value of `newLen` bytes, keeping the first
   * `keepLen` bytes, and returns the (maybe moved) entry. Growth is greedy like
   * sdsMakeRoomFor so repeated APPENDs stay linear; when the arena has no room
   * for the greedy size, the exact size is tried. Throws OutOfMemoryError
   * with the entry as it was. greedy false: exactly newLen (a value that
   * will not grow again, such as a dense HyperLogLog).
   */
  growString(db: number, handle: number, ref: number, newLen: number, greedy = true): number {
    if (this.stringCapacity(ref) >= newLen) return ref;
    const from = ref * REF_UNIT_BYTES;
    const header = this.stringOffset(ref) - from;
    const want = !greedy ? newLen : newLen < 1024 * 1024 ? newLen * 2 : newLen + 1024 * 1024;
    let to = this.alloc.tryAlloc(header + want);
    if (to === 0) to = this.alloc.alloc(header + newLen);
    this.u8.copyWithin(to, from, from + header + this.stringLength(ref));
    this.alloc.free(from);
    const nref = to / REF_UNIT_BYTES;
    this.dbs[db].setRefAt(handle, nref);
    return nref;
  }

  setStringLength(ref: number, len: number): void {
    this.u32[ref * 2 + W_VALUE] = len;
  }

  /**
   * Sets or clears (-1) the expiry of the entry at handle; returns the (maybe
   * moved) entry. The expiry field exists only in volatile entries, so the
   * body shifts by 8 bytes: in place when the allocation has room (always when
   * clearing), else into a new record. Throws OutOfMemoryError with the entry
   * as it was.
   */
  setExpire(db: number, handle: number, ref: number, expireAt: number): number {
    const index = this.dbs[db];
    const had = this.hasExpire(ref);
    if (expireAt >= 0 && had) {
      this.f64[ref + D_EXPIRE] = expireAt;
      index.touch(handle);
      return ref;
    }
    if (expireAt < 0 && !had) return ref;
    const bodyLen = this.bodyLength(ref);
    const from = ref * REF_UNIT_BYTES;
    const oldBody = from + ENTRY_HEADER_BYTES + (had ? ENTRY_EXPIRE_BYTES : 0);
    const newSize = ENTRY_HEADER_BYTES + (expireAt >= 0 ? ENTRY_EXPIRE_BYTES : 0) + bodyLen;
    let to = from;
    if (this.alloc.usableSize(from) < newSize) {
      to = this.alloc.alloc(newSize);
      this.u8.copyWithin(to, from, from + ENTRY_HEADER_BYTES);
    }
    const nref = to / REF_UNIT_BYTES;
    const body = to + ENTRY_HEADER_BYTES + (expireAt >= 0 ? ENTRY_EXPIRE_BYTES : 0);
    this.u8.copyWithin(body, oldBody, oldBody + bodyLen);
    const meta = this.u32[nref * 2 + W_META];
    this.u32[nref * 2 + W_META] = (expireAt >= 0 ? meta | META_EXPIRE_BIT : meta & ~META_EXPIRE_BIT) >>> 0;
    if (expireAt >= 0) this.f64[nref + D_EXPIRE] = expireAt;
    if (nref !== ref) {
      this.alloc.free(from);
      index.setRefAt(handle, nref);
    } else {
      index.touch(handle);
    }
    index.setVolatile(handle, expireAt >= 0);
    this.volatileKeys[db] += expireAt >= 0 ? 1 : -1;
    return nref;
  }

  /** Key bytes plus inline value bytes. */
  private bodyLength(ref: number): number {
    const kl = this.keyLength(ref);
    return this.typeOf(ref) === TYPE_STRING ? kl + this.stringLength(ref) : kl;
  }

  /** Deletes the entry at handle. */
  deleteAt(db: number, handle: number): void {
    const index = this.dbs[db];
    const ref = index.refAt(handle);
    if (this.hasExpire(ref)) this.volatileKeys[db]--;
    index.removeAt(handle);
    this.freeValue(ref);
    this.alloc.free(ref * REF_UNIT_BYTES);
  }

  /** Deletes a key if present; returns true when something was deleted. */
  deleteKey(db: number, kb: Uint8Array, ko: number, kl: number): boolean {
    if (this.lookupWrite(db, kb, ko, kl) === 0) return false;
    this.deleteAt(db, this.handle);
    return true;
  }

  /**
   * Releases what an entry owns outside its own record (a list's nodes).
   * Never allocates. A value whose free effort is above LAZYFREE_THRESHOLD
   * goes to the lazy-free queue (freed in slices by the shard), unless `sync`.
   */
  private freeValue(ref: number, sync = false): void {
    const type = this.typeOf(ref);
    const store = this.structures[type];
    if (store === undefined) return;
    const h = this.u32[ref * 2 + W_VALUE];
    if (!sync && store.freeEffort !== undefined && store.freeEffort(h) > LAZYFREE_THRESHOLD) this.lazy.push(type, h);
    else store.free(h);
  }

  /** Frees an entry record that is no longer indexed, and its value (lazily when big). */
  releaseEntry(ref: number): void {
    this.freeValue(ref);
    this.alloc.free(ref * REF_UNIT_BYTES);
  }

  /**
   * Frees up to `budget` units of queued lazy-free work (store/lazyfree.ts);
   * true when nothing waits any more.
   */
  lazyFreeStep(budget: number): boolean {
    return this.lazy.step(budget, this.structures, (ref) => this.releaseEntry(ref));
  }

  /**
   * Moves an entry to another database (MOVE); the destination must not hold
   * the key. Indexed in the destination first, so that a full index leaves
   * the key where it was (OutOfMemoryError).
   */
  moveEntry(fromDb: number, handle: number, toDb: number): void {
    const ref = this.dbs[fromDb].refAt(handle);
    const volatile = this.hasExpire(ref);
    const nh = this.dbs[toDb].insert(this.u32[ref * 2 + W_HASH], ref);
    if (nh < 0) throw new OutOfMemoryError('hash index full');
    this.dbs[fromDb].removeAt(handle);
    if (this.typeOf(ref) === TYPE_HASH && this.hashes.hasTtl(this.u32[ref * 2 + W_VALUE])) this.fieldTtlDbs[toDb] = 2;
    if (volatile) {
      this.dbs[toDb].setVolatile(nh, true);
      this.volatileKeys[fromDb]--;
      this.volatileKeys[toDb]++;
    }
    if (this.watchedKeys.size > 0 && this.typeOf(ref) !== TYPE_STRING) this.noteReady(toDb, this.u8, this.keyOffset(ref), this.keyLength(ref));
  }

  /**
   * Writes a copy of an entry under another key (COPY, RENAME within a
   * shard), replacing what that key holds: the caller must have looked the
   * destination up in toDb just before (handle/hash). Keeps the access clock.
   * All or nothing (OutOfMemoryError).
   */
  cloneEntry(ref: number, toDb: number, kb: Uint8Array, ko: number, kl: number, keepExpire: boolean): number {
    const expireAt = keepExpire ? this.expireOf(ref) : -1;
    const type = this.typeOf(ref);
    const clock = this.lruOf(ref);
    const store = this.structures[type];
    if (store !== undefined) {
      const nref = this.putNewStructure(toDb, kb, ko, kl, type, this.encodingOf(ref), store, store.clone(this.u32[ref * 2 + W_VALUE]), expireAt);
      this.setLru(nref, clock);
      return nref;
    }
    const nref = this.putString(toDb, kb, ko, kl, this.u8, this.stringOffset(ref), this.stringLength(ref),
      this.encodingOf(ref), expireAt);
    this.setLru(nref, clock);
    return nref;
  }

  /**
   * RENAME within a shard: the destination (looked up in db just before:
   * handle/hash) gets the source's value, TTL and access clock, replacing
   * what it held. A structure changes owner without a copy (O(1), as Redis
   * moves the object); a string's record is copied. Then the source's entry
   * goes, its value kept. All or nothing (OutOfMemoryError with both keys as
   * they were). Returns the destination's entry.
   */
  renameEntry(db: number, src: number, kb: Uint8Array, ko: number, kl: number,
    sb: Uint8Array, so: number, sl: number): number {
    const type = this.typeOf(src);
    if (this.structures[type] === undefined) {
      const ref = this.cloneEntry(src, db, kb, ko, kl, true);
      this.deleteKey(db, sb, so, sl);
      return ref;
    }
    const ref = this.putStructure(db, kb, ko, kl, type, this.encodingOf(src), this.u32[src * 2 + W_VALUE], this.expireOf(src));
    this.setLru(ref, this.lruOf(src));
    // Inserting may have finished a resize: find the source again rather than trust an old handle.
    if (this.findAny(db, sb, so, sl) !== 0) {
      const handle = this.handle;
      const old = this.dbs[db].refAt(handle);
      if (this.hasExpire(old)) this.volatileKeys[db]--;
      this.dbs[db].removeAt(handle);
      this.alloc.free(old * REF_UNIT_BYTES);
    }
    return ref;
  }

  // -- portable entries (RENAME/COPY across shards, later MIGRATE/RESTORE) ---------

  /**
   * Serializes an entry without its key: the value of any type plus its
   * metadata, in the format described at PAYLOAD_* below. The copy is
   * independent of the arena.
   */
  dumpEntry(ref: number): Uint8Array {
    const type = this.typeOf(ref);
    const store = this.structures[type];
    const body = store !== undefined ? store.serialize(this.u32[ref * 2 + W_VALUE]) : null;
    const vo = body === null ? this.stringOffset(ref) : 0;
    const vl = body === null ? this.stringLength(ref) : body.length;
    const out = new Uint8Array(PAYLOAD_HEADER_BYTES + vl);
    const dv = new DataView(out.buffer);
    out[PAYLOAD_VERSION] = PAYLOAD_FORMAT;
    out[PAYLOAD_TYPE] = type;
    out[PAYLOAD_ENCODING] = this.encodingOf(ref);
    const expireAt = this.expireOf(ref);
    out[PAYLOAD_FLAGS] = expireAt >= 0 ? PAYLOAD_HAS_EXPIRE : 0;
    dv.setUint32(PAYLOAD_CLOCK, this.lruOf(ref), true);
    dv.setFloat64(PAYLOAD_EXPIRE, expireAt >= 0 ? expireAt : 0, true);
    out.set(body === null ? this.u8.subarray(vo, vo + vl) : body, PAYLOAD_HEADER_BYTES);
    return out;
  }

  /** Checks a payload's header; returns false when it is not one dumpEntry() could have made. */
  validPayload(p: Uint8Array, po: number, pl: number): boolean {
    if (pl < PAYLOAD_HEADER_BYTES || p[po + PAYLOAD_VERSION] !== PAYLOAD_FORMAT) return false;
    const type = p[po + PAYLOAD_TYPE];
    if (type === TYPE_STRING) return true;
    const store = this.structures[type];
    return store !== undefined && store.validSerialized(p, po + PAYLOAD_HEADER_BYTES, pl - PAYLOAD_HEADER_BYTES);
  }

  /** Absolute expiry carried by a payload, or -1. */
  static payloadExpire(p: Uint8Array, po: number): number {
    if ((p[po + PAYLOAD_FLAGS] & PAYLOAD_HAS_EXPIRE) === 0) return -1;
    return new DataView(p.buffer, p.byteOffset + po, PAYLOAD_HEADER_BYTES).getFloat64(PAYLOAD_EXPIRE, true);
  }

  /**
   * Writes a dumped entry under a key, replacing what the key held. The caller
   * must have called lookupWrite()/peek() for this key just before (handle/hash).
   * keepTtl: restore the payload's expiry (else the key is persistent);
   * keepClock: restore its LRU/LFU clock (else the clock of a new key).
   * The payload must have passed validPayload(). Returns the entry.
   */
  restoreEntry(db: number, kb: Uint8Array, ko: number, kl: number, p: Uint8Array, po: number, pl: number,
    keepTtl: boolean, keepClock: boolean): number {
    const expireAt = keepTtl ? Keyspace.payloadExpire(p, po) : -1;
    const enc = p[po + PAYLOAD_ENCODING];
    let ref: number;
    const type = p[po + PAYLOAD_TYPE];
    const store = this.structures[type];
    if (store !== undefined) {
      const h = store.deserialize(p, po + PAYLOAD_HEADER_BYTES, pl - PAYLOAD_HEADER_BYTES);
      ref = this.putNewStructure(db, kb, ko, kl, type, enc, store, h, expireAt);
    } else {
      ref = this.putString(db, kb, ko, kl, p, po + PAYLOAD_HEADER_BYTES, pl - PAYLOAD_HEADER_BYTES, enc, expireAt);
    }
    if (keepClock) {
      const clock = new DataView(p.buffer, p.byteOffset + po, PAYLOAD_HEADER_BYTES).getUint32(PAYLOAD_CLOCK, true);
      this.setLru(ref, clock);
    } else {
      this.setLru(ref, this.initialClock());
    }
    return ref;
  }

  /** Bytes an entry costs: its record's allocation plus its share of the index (MEMORY USAGE). */
  entryFootprint(db: number, ref: number, samples = 0): number {
    const index = this.dbs[db];
    const slotShare = index.slotCapacity > 0 ? Math.round(index.tableBytes / index.slotCapacity) : 0;
    const store = this.structures[this.typeOf(ref)];
    const value = store !== undefined ? store.footprint(this.u32[ref * 2 + W_VALUE], samples) : 0;
    return this.alloc.usableSize(ref * REF_UNIT_BYTES) + slotShare + value;
  }

  /**
   * Frees every key of a database. Sync: everything now, as Redis's FLUSHDB
   * SYNC. Async: the database gets a fresh index and the old one, with its
   * records and values, is freed in slices (lazy-free queue); when the fresh
   * index cannot be allocated, the flush is done synchronously.
   */
  flushDb(db: number, async = false): number {
    const index = this.dbs[db];
    const n = index.size;
    this.volatileKeys[db] = 0;
    if (async && n > 0) {
      let fresh: HashIndex | null = null;
      try {
        fresh = new HashIndex(this.arena, this.alloc, ENTRY_KEY_LAYOUT);
      } catch (e) {
        if (!(e instanceof OutOfMemoryError)) throw e;
      }
      if (fresh !== null) {
        this.dbs[db] = fresh;
        this.lazy.pushIndex(index);
        return n;
      }
    }
    index.forEach((ref) => {
      this.freeValue(ref, !async);
      this.alloc.free(ref * REF_UNIT_BYTES);
    });
    index.clear();
    return n;
  }

  swapDb(a: number, b: number): void {
    const t = this.dbs[a];
    this.dbs[a] = this.dbs[b];
    this.dbs[b] = t;
    const v = this.volatileKeys[a];
    this.volatileKeys[a] = this.volatileKeys[b];
    this.volatileKeys[b] = v;
    const f = this.fieldTtlDbs[a];
    this.fieldTtlDbs[a] = this.fieldTtlDbs[b];
    this.fieldTtlDbs[b] = f;
    // As Redis's scanDatabaseForReadyKeys: a blocked client's key may now hold a collection.
    if (this.watchedKeys.size > 0) this.noteReadyIn(a, b);
  }

  // -- keys clients block on (BLPOP, BZPOPMIN...: server/blocking.ts) -------------
  //
  // The front tells the shard which keys have blocked clients (__bwatch /
  // __bunwatch). Every write that gives such a key a collection value (a new
  // list or zset, RENAME/COPY/MOVE/__put onto it, SWAPDB) notes it as ready,
  // as Redis's signalKeyAsReady does from dbAdd; the worker hands the ready
  // keys to the front on the reply of the command that wrote them.

  /** "db:key" (key as latin1) of every key some client blocks on. */
  private readonly watchedKeys = new Set<string>();
  /** Watched keys that got a collection value since the worker last took them. */
  readonly readyKeys: Array<{ db: number; key: Uint8Array }> = [];
  /** Blocked clients were served or reported during this command (commands/blocking.ts): the reply carries them. */
  blockedOutput = false;

  private static watchId(db: number, kb: Uint8Array, ko: number, kl: number): string {
    return db + ':' + latin1(kb, ko, kl);
  }

  watchKey(db: number, kb: Uint8Array, ko: number, kl: number): void {
    this.watchedKeys.add(Keyspace.watchId(db, kb, ko, kl));
  }

  unwatchKey(db: number, kb: Uint8Array, ko: number, kl: number): void {
    this.watchedKeys.delete(Keyspace.watchId(db, kb, ko, kl));
  }

  get watchedKeyCount(): number {
    return this.watchedKeys.size;
  }

  private noteReady(db: number, kb: Uint8Array, ko: number, kl: number): void {
    if (!this.watchedKeys.has(Keyspace.watchId(db, kb, ko, kl))) return;
    // A copy (kb may be a Buffer, whose slice() is a view of request bytes that get reused).
    const key = new Uint8Array(kb.subarray(ko, ko + kl));
    for (const r of this.readyKeys) if (r.db === db && sameBytes(r.key, key)) return;
    this.readyKeys.push({ db, key });
  }

  /** After SWAPDB: every watched key of the two databases that now holds a collection. */
  private noteReadyIn(a: number, b: number): void {
    for (const id of this.watchedKeys) {
      const colon = id.indexOf(':');
      const db = Number(id.slice(0, colon));
      if (db !== a && db !== b) continue;
      const key = Buffer.from(id.slice(colon + 1), 'latin1');
      const ref = this.peek(db, key, 0, key.length);
      if (ref !== 0 && this.typeOf(ref) !== TYPE_STRING) this.noteReady(db, key, 0, key.length);
    }
  }

  /**
   * Publishes memory and per-database counters to the shared stats block.
   * Runs from the cron and on demand (__stats_sync, before INFO), not per batch.
   * The cron passes a window of `count` databases from `first` (wrapping).
   */
  publishStats(first = 0, count = this.dbs.length): void {
    const s = this.stats;
    s[STAT_USED_BYTES] = this.alloc.used;
    s[STAT_ARENA_COMMITTED] = this.alloc.committedBytes;
    s[STAT_LAZYFREE_PENDING] = this.lazy.pending;
    s[STAT_LAZYFREED_OBJECTS] = this.lazy.freed;
    const n = this.dbs.length;
    for (let k = 0; k < count; k++) {
      const d = (first + k) % n;
      s[STAT_DB_BASE + 2 * d] = this.dbs[d].size;
      s[STAT_DB_BASE + 2 * d + 1] = this.volatileKeys[d];
    }
  }

  /** Removes the expired key at handle if its time has come (active expiry). */
  expireIfDue(db: number, handle: number): boolean {
    const ref = this.dbs[db].refAt(handle);
    if (this.f64[ref + D_EXPIRE] > this.now) return false;
    this.deleteAt(db, handle);
    this.stats[STAT_EXPIRED_KEYS]++;
    return true;
  }
}

// Payload of dumpEntry()/restoreEntry(): a 16-byte header, then the value.
// Only the string layout exists so far; every other type will put its own
// serialization after the same header, told apart by PAYLOAD_TYPE.
/** u8: format version (PAYLOAD_FORMAT). */
export const PAYLOAD_VERSION = 0;
/** u8: value type (TYPE_* of native-layout). */
export const PAYLOAD_TYPE = 1;
/** u8: encoding (as OBJECT ENCODING reports it). */
export const PAYLOAD_ENCODING = 2;
/** u8: PAYLOAD_HAS_EXPIRE. */
export const PAYLOAD_FLAGS = 3;
/** u32 LE: the 24-bit LRU/LFU clock. */
export const PAYLOAD_CLOCK = 4;
/** f64 LE: absolute expiry in unix ms (meaningful with PAYLOAD_HAS_EXPIRE). */
export const PAYLOAD_EXPIRE = 8;
export const PAYLOAD_HEADER_BYTES = 16;
export const PAYLOAD_FORMAT = 1;
export const PAYLOAD_HAS_EXPIRE = 1;


/** True for the strings Redis stores with the int encoding: canonical signed 64-bit decimals. */
export function isCanonicalInteger(b: Uint8Array, o: number, l: number): boolean {
  let i = o;
  const end = o + l;
  if (b[i] === 45 /* - */) {
    i++;
    if (i === end) return false;
  }
  if (b[i] === 48 /* 0 */) return end - i === 1 && b[o] !== 45;
  const digits = end - i;
  if (digits > 19) return false;
  for (let j = i; j < end; j++) {
    const c = b[j];
    if (c < 48 || c > 57) return false;
  }
  if (digits < 19) return true;
  // 19 digits: compare against the 64-bit limits.
  const limit = b[o] === 45 ? '9223372036854775808' : '9223372036854775807';
  for (let j = 0; j < 19; j++) {
    const c = b[i + j];
    const lc = limit.charCodeAt(j);
    if (c !== lc) return c < lc;
  }
  return true;
}

export { ENC_EMBSTR, ENC_INT, ENC_RAW };

function latin1(b: Uint8Array, o: number, l: number): string {
  let s = '';
  for (let i = 0; i < l; i++) s += String.fromCharCode(b[o + i]);
  return s;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
