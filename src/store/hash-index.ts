import {
  GROUP_BYTES, GROUP_REFS, GROUP_SLOTS, GROUP_TAGS, GROUP_VERSION, GROUP_VOLATILE_MASK,
  HIDX_CUR_BASE, HIDX_CUR_DELETED, HIDX_CUR_FULL, HIDX_CUR_GROUPS, HIDX_FLAGS, HIDX_HEADER_BYTES, HIDX_OLD_BASE,
  HIDX_OLD_DELETED, HIDX_OLD_FULL, HIDX_OLD_GROUPS, HIDX_REHASH_IDX, REF_UNIT_BYTES, TAG_DELETED, TAG_EMPTY,
} from '../../native-layout/layout.ts';
import { SlabAllocator, type Arena } from './arena.ts';
import { dataViewOf } from '../util/bytes.ts';

/**
 * Where the key bytes of the records an index points to are, as numbers. A
 * record is named by its ref, its address in REF_UNIT_BYTES units (what a
 * slot stores). Every indexed record starts with its u32 hash (so resizes
 * never rehash key bytes); for a record at ref r, reading u32 words from r * 2:
 *
 *     length = u32[r * 2 + lenWord] & 0x7fffffff
 *     offset = r * REF_UNIT_BYTES + base + ((u32[r * 2 + extraWord] >>> extraShift) & extraMask) * extraUnit
 *
 * (the extra part: an optional expiry before the key, or a node's levels).
 * Every term is a multiple of 4, so a key starts 4-aligned in the arena and
 * the key compare reads the arena's side as u32 words (keyLayout checks it).
 * Made by keyLayout() only, so that every layout has one hidden class.
 */
export interface KeyLayout {
  readonly lenWord: number;
  readonly base: number;
  readonly extraWord: number;
  readonly extraShift: number;
  readonly extraMask: number;
  readonly extraUnit: number;
}

export function keyLayout(lenWord: number, base: number, extraWord = 0, extraShift = 0, extraMask = 0, extraUnit = 0): KeyLayout {
  if (base % 4 !== 0 || extraUnit % 4 !== 0 || REF_UNIT_BYTES % 4 !== 0) throw new Error('a key layout must keep keys 4-aligned');
  return { lenWord, base, extraWord, extraShift, extraMask, extraUnit };
}

/** The byte offset of the key of the record at `ref`. */
export function keyOffsetIn(layout: KeyLayout, u32: Uint32Array, ref: number): number {
  return ref * REF_UNIT_BYTES + layout.base + ((u32[ref * 2 + layout.extraWord] >>> layout.extraShift) & layout.extraMask) * layout.extraUnit;
}

/** The length of the key of the record at `ref`. */
export function keyLengthIn(layout: KeyLayout, u32: Uint32Array, ref: number): number {
  return u32[ref * 2 + layout.lenWord] & 0x7fffffff;
}

interface Table {
  base: number;   // arena address of group 0
  baseWord: number; // base / 4: u32 index of group 0
  groups: number; // power of two
  mask: number;   // groups - 1
  full: number;
  deleted: number;
}

const MIN_GROUPS = 4;
/** Loads a table's state (base given as a ref) into `t`. */
function fillTable(t: Table, baseRef: number, groups: number, full: number, deleted: number): Table {
  const base = baseRef * REF_UNIT_BYTES;
  t.base = base;
  t.baseWord = base / 4;
  t.groups = groups;
  t.mask = groups - 1;
  t.full = full;
  t.deleted = deleted;
  return t;
}

/** The layout of an unattached view (attach() gives the real one): a key of length 0 at offset 0. */
const NO_LAYOUT: KeyLayout = keyLayout(0, 0);
/**
 * Grow when full + deleted slots exceed 7/8 of the capacity. The limit is
 * soft: when the bigger table cannot be allocated, inserts go on into the
 * current one while it has a free slot, and growth is tried again later.
 */
const MAX_LOAD_NUM = 7;
const MAX_LOAD_DEN = 8;

/** 0x80 in every byte of x that is zero, 0 in the others (exact, unlike the borrow trick). */
function exactZeroBytes(x: number): number {
  return ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
}

export function tagOf(hash: number): number {
  const t = hash >>> 24;
  return t < 2 ? t + 2 : t;
}

// Addresses are plain byte numbers that may exceed 2^31: they never go through
// a shift or `& ~7`. `h & 7` is exact for any safe integer (ToInt32 is modular),
// and `/ 4` of a 4-aligned address is an exact typed-array index.

/** Slot number (0..7) of a handle. */
function slotOf(handle: number): number {
  return handle & 7;
}

/** Group address of a handle. */
function groupOf(handle: number): number {
  return handle - (handle & 7);
}

/** A group's size and its refs' offset, in u32 words. */
const GROUP_WORDS = GROUP_BYTES / 4;
const REFS_WORD = GROUP_REFS / 4;

/** u32 index of slot i's reference in the group at ga. */
function refIndex(ga: number, i: number): number {
  return (ga + GROUP_REFS) / 4 + i;
}

function rev32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

/**
 * Open-addressing hash index of arena records: groups of 8 slots, one tag byte
 * per slot (the top hash byte) so most non-matching slots are rejected without
 * touching the record, linear probing from group to group.
 *
 * A slot is named by a handle: the group's address plus the slot number (groups
 * are 8-aligned, so the low 3 bits are free). Handles stay valid for the whole
 * command that obtained them: resizes are incremental and advance only through
 * rehashStep(), which the shard calls between commands.
 *
 * Resizing keeps two tables; lookups try the new one then the old one; each
 * rehashStep() moves a few old groups, leaving tombstones so that probe chains
 * of keys not yet moved stay intact.
 *
 * Slots hold record refs, addresses in REF_UNIT_BYTES units (a u32 reaches
 * 32 GiB); the methods take and return refs as they are. Running out of arena never
 * corrupts the index: a table is allocated before anything points at it, and
 * insert() reports -1, having changed nothing, only when no slot is left.
 *
 * **Two ways to own one.** The keyspace keeps one HashIndex object per
 * database, whose state (the tables, counts, rehash position) lives in the
 * object. A collection (a hash, set or sorted set in its hashtable encoding)
 * cannot own a JavaScript object per key, so its index state lives in the
 * arena, in a header of HIDX_HEADER_BYTES (native-layout), named by a ref:
 *
 *     const h = HashIndex.create(alloc);          // header of an empty index (OutOfMemoryError)
 *     const view = HashIndex.view(arena, alloc);  // one per store, reused
 *     view.attach(h, layout).find(...)             // every method works on the attached index
 *     view.attach(h, layout).destroy()             // frees tables and header (not the records)
 *
 * attach() loads the header; every method that changes the state writes it
 * back before it returns, so a view can be re-attached to another header at
 * any time. The records a collection indexes must start with their u32 hash,
 * as entries do; `layout` says where their key bytes are. A collection's index
 * has no cron: its store advances the rehash (rehashStep) and shrinks it
 * (maybeShrink) as its commands touch it.
 */
export class HashIndex {
  private readonly arena: Arena;
  private readonly alloc: SlabAllocator;
  private layout: KeyLayout;
  /** Ref of the arena header holding this index's state, 0 when the state lives in this object. */
  private header = 0;
  private cur: Table;
  // attach() fills these two in place rather than allocating per operation: a
  // collection's command attaches its index at least once. A resize replaces
  // `cur` with a new object; the next attach() comes back to these.
  private readonly viewCur: Table = { base: 0, baseWord: 0, groups: 0, mask: 0, full: 0, deleted: 0 };
  private readonly viewOld: Table = { base: 0, baseWord: 0, groups: 0, mask: 0, full: 0, deleted: 0 };
  private old: Table | null = null;
  private rehashIdx = 0;
  /**
   * Growth failed for want of memory: inserts retry it only once whole free
   * slabs could hold the new table, or when the table is full; the cron
   * retries it every tick (retryGrowth).
   */
  private growBlocked = false;
  /** The ref of the record the last successful find() returned (saves decoding its handle). */
  foundRef = 0;
  /** Version stamped on groups that change (the snapshot epoch of the shard). */
  version = 1;

  constructor(arena: Arena, alloc: SlabAllocator, layout: KeyLayout, groups = MIN_GROUPS) {
    this.arena = arena;
    this.alloc = alloc;
    this.layout = layout;
    this.cur = groups === 0 ? { base: 0, baseWord: 0, groups: 0, mask: 0, full: 0, deleted: 0 } : this.newTable(groups);
  }

  // -- indexes owned by collections (state in an arena header) ------------------

  /** An unattached view, for attach(): allocates nothing. */
  static view(arena: Arena, alloc: SlabAllocator): HashIndex {
    return new HashIndex(arena, alloc, NO_LAYOUT, 0);
  }

  /**
   * A new empty index whose state lives in the arena; returns its header's ref.
   * All or nothing (OutOfMemoryError). Sized for `expected` records when given.
   */
  static create(alloc: SlabAllocator, expected = 0): number {
    let groups = MIN_GROUPS;
    while (expected * 2 * MAX_LOAD_DEN > groups * GROUP_SLOTS * MAX_LOAD_NUM) groups *= 2;
    const base = alloc.allocZeroed(groups * GROUP_BYTES);
    let header: number;
    try {
      header = alloc.allocZeroed(HIDX_HEADER_BYTES);
    } catch (e) {
      alloc.free(base);
      throw e;
    }
    const u32 = alloc.arena.u32;
    const w = header / 4;
    u32[w + HIDX_CUR_BASE / 4] = base / REF_UNIT_BYTES;
    u32[w + HIDX_CUR_GROUPS / 4] = groups;
    return header / REF_UNIT_BYTES;
  }

  /** Loads the index whose header is at ref `h`; its records' keys are where `layout` says. */
  attach(h: number, layout: KeyLayout): this {
    const u32 = this.arena.u32;
    const w = h * 2;
    this.header = h;
    this.layout = layout;
    this.cur = fillTable(this.viewCur, u32[w + HIDX_CUR_BASE / 4], u32[w + HIDX_CUR_GROUPS / 4],
      u32[w + HIDX_CUR_FULL / 4], u32[w + HIDX_CUR_DELETED / 4]);
    const oldBase = u32[w + HIDX_OLD_BASE / 4];
    this.old = oldBase === 0 ? null : fillTable(this.viewOld, oldBase, u32[w + HIDX_OLD_GROUPS / 4],
      u32[w + HIDX_OLD_FULL / 4], u32[w + HIDX_OLD_DELETED / 4]);
    this.rehashIdx = u32[w + HIDX_REHASH_IDX / 4];
    this.growBlocked = (u32[w + HIDX_FLAGS / 4] & 1) !== 0;
    return this;
  }


  /** Writes the state back to the attached header (every state change ends here). */
  private persist(): void {
    const u32 = this.arena.u32;
    const w = this.header * 2;
    const t = this.cur;
    u32[w + HIDX_CUR_BASE / 4] = t.base / REF_UNIT_BYTES;
    u32[w + HIDX_CUR_GROUPS / 4] = t.groups;
    u32[w + HIDX_CUR_FULL / 4] = t.full;
    u32[w + HIDX_CUR_DELETED / 4] = t.deleted;
    const o = this.old;
    u32[w + HIDX_OLD_BASE / 4] = o === null ? 0 : o.base / REF_UNIT_BYTES;
    u32[w + HIDX_OLD_GROUPS / 4] = o === null ? 0 : o.groups;
    u32[w + HIDX_OLD_FULL / 4] = o === null ? 0 : o.full;
    u32[w + HIDX_OLD_DELETED / 4] = o === null ? 0 : o.deleted;
    u32[w + HIDX_REHASH_IDX / 4] = this.rehashIdx;
    u32[w + HIDX_FLAGS / 4] = this.growBlocked ? 1 : 0;
  }

  /** Frees the attached index's tables and header (not the records it points to). Never allocates. */
  destroy(): void {
    if (this.old) this.alloc.free(this.old.base);
    this.alloc.free(this.cur.base);
    if (this.header !== 0) this.alloc.free(this.header * REF_UNIT_BYTES);
    this.header = 0;
    this.old = null;
    this.cur = { base: 0, baseWord: 0, groups: 0, mask: 0, full: 0, deleted: 0 };
  }

  /** Arena bytes of the tables plus the header (MEMORY USAGE of a collection). */
  get footprint(): number {
    return this.tableAllocatedBytes + (this.header !== 0 ? SlabAllocator.roundedSize(HIDX_HEADER_BYTES) : 0);
  }

  get size(): number {
    return this.cur.full + (this.old ? this.old.full : 0);
  }

  get isRehashing(): boolean {
    return this.old !== null;
  }

  /** Bytes of arena taken by the tables. */
  get tableBytes(): number {
    return this.cur.groups * GROUP_BYTES + (this.old ? this.old.groups * GROUP_BYTES : 0);
  }

  /** Bytes the allocator handed out for the tables (their rounded sizes). */
  get tableAllocatedBytes(): number {
    const cur = SlabAllocator.roundedSize(this.cur.groups * GROUP_BYTES);
    return this.old === null ? cur : cur + SlabAllocator.roundedSize(this.old.groups * GROUP_BYTES);
  }

  get slotCapacity(): number {
    return this.cur.groups * GROUP_SLOTS;
  }

  private newTable(groups: number): Table {
    const base = this.alloc.allocZeroed(groups * GROUP_BYTES);
    return { base, baseWord: base / 4, groups, mask: groups - 1, full: 0, deleted: 0 };
  }

  /** A zeroed table, or null (nothing allocated) when the arena has no room for it. */
  private tryNewTable(groups: number): Table | null {
    const bytes = groups * GROUP_BYTES;
    const base = this.alloc.tryAlloc(bytes);
    if (base === 0) return null;
    this.arena.u8.fill(0, base, base + bytes);
    return { base, baseWord: base / 4, groups, mask: groups - 1, full: 0, deleted: 0 };
  }

  // Prefetching: homeGroup() names the group where a lookup starts;
  // touchGroup() and touchRecord() load from that group and from the record
  // its matching tag points to. A caller runs each step over a whole batch of
  // keys so that the batch's cache misses overlap instead of stalling one
  // lookup after another. The loaded values mean nothing: they are returned
  // only so that the loads are not optimised away.

  /** Address of the group where a lookup of `hash` starts (in the current table). */
  homeGroup(hash: number): number {
    const t = this.cur;
    return t.base + (hash & t.mask) * GROUP_BYTES;
  }

  /** Loads the group's first and last words (a group may straddle two cache lines). */
  touchGroup(ga: number): number {
    const u32 = this.arena.u32;
    return u32[ga / 4] ^ u32[(ga + GROUP_BYTES - 4) / 4];
  }

  /** Loads the first word of the first record in the group whose tag matches `hash`. */
  touchRecord(ga: number, hash: number): number {
    const u32 = this.arena.u32;
    const tag4 = Math.imul(tagOf(hash), 0x01010101);
    const gw = (ga + GROUP_TAGS) / 4;
    let i = 0;
    let hits = exactZeroBytes(u32[gw] ^ tag4);
    if (hits === 0) {
      hits = exactZeroBytes(u32[gw + 1] ^ tag4);
      if (hits === 0) return 0;
      i = 4;
    }
    i += (31 - Math.clz32(hits & -hits)) >> 3;
    // The record's first word, at u32 index ref * 2.
    return u32[u32[refIndex(ga, i)] * 2];
  }

  /** Handle of the record with this key, or -1. */
  find(hash: number, kb: Uint8Array, ko: number, kl: number): number {
    const h = this.findIn(this.cur, hash, kb, ko, kl);
    if (h >= 0 || this.old === null) return h;
    return this.findIn(this.old, hash, kb, ko, kl);
  }

  private findIn(t: Table, hash: number, kb: Uint8Array, ko: number, kl: number): number {
    const u32 = this.arena.u32;
    // The 8 tags are two u32 words; bytes equal to the tag (or empty) are found
    // for all four slots of a word at once: exactZeroBytes marks with 0x80
    // every byte of x that is zero, with no false positives.
    const tag4 = Math.imul(tagOf(hash), 0x01010101);
    const mask = t.mask;
    // u32 indexes from the table's first word: no division in the probe loop.
    const baseWord = t.baseWord;
    let g = hash & mask;
    for (let probes = 0; probes <= mask; probes++) {
      const gw = baseWord + g * GROUP_WORDS;
      let empty = 0;
      for (let w = 0; w < 2; w++) {
        const tags = u32[gw + w];
        let hits = exactZeroBytes(tags ^ tag4);
        while (hits !== 0) {
          const i = (w << 2) + ((31 - Math.clz32(hits & -hits)) >> 3);
          hits &= hits - 1;
          const ref = u32[gw + REFS_WORD + i];
          if (u32[ref * 2] === hash && this.keyEquals(ref, kb, ko, kl)) {
            this.foundRef = ref;
            return gw * 4 + i;
          }
        }
        empty |= exactZeroBytes(tags);
      }
      if (empty !== 0) return -1;
      g = (g + 1) & mask;
    }
    return -1;
  }

  private keyEquals(ref: number, kb: Uint8Array, ko: number, kl: number): boolean {
    const layout = this.layout;
    const u32 = this.arena.u32;
    if (keyLengthIn(layout, u32, ref) !== kl) return false;
    // Every layout's key starts 4-aligned in the arena: its side is read as u32 words (a word
    // load costs a fifth of a DataView's), the key's side through a DataView (any offset).
    const ao = keyOffsetIn(layout, u32, ref);
    const kv = dataViewOf(kb);
    const w = ao / 4; // (not >> 2: arena addresses pass 2^31)
    let i = 0;
    for (; i + 4 <= kl; i += 4) if (u32[w + (i >> 2)] !== kv.getUint32(ko + i, true)) return false;
    const u8 = this.arena.u8;
    for (; i < kl; i++) if (u8[ao + i] !== kb[ko + i]) return false;
    return true;
  }

  /**
   * Inserts a record known to be absent; returns its handle, or -1 when no
   * slot is left and the table cannot grow (nothing changed). May start (not
   * advance) a resize.
   */
  insert(hash: number, ref: number): number {
    const t = this.cur;
    // Records still in the old table will move here too: count them now, so
    // the current table always has room to finish its rehash.
    const pending = this.old === null ? 0 : this.old.full;
    if ((t.full + t.deleted + pending + 1) * MAX_LOAD_DEN > t.groups * GROUP_SLOTS * MAX_LOAD_NUM) {
      // After a failed growth, try again once whole free slabs could hold a table twice this size.
      if (!this.growBlocked || this.alloc.wholeSlabBytes >= 2 * t.groups * GROUP_BYTES) {
        this.growBlocked = !this.startResize();
      }
    }
    if (this.freeSlots() < 1) {
      // Full: memory may have been freed since growth last failed.
      if (!this.startResize() || this.freeSlots() < 1) {
        if (this.header !== 0) this.persist();
        return -1;
      }
    }
    const handle = this.insertInto(this.cur, hash, ref, false);
    if (this.header !== 0) this.persist();
    return handle;
  }

  /** Records that can still be inserted without a new table (slots not owed to records of the old table). */
  freeSlots(): number {
    const t = this.cur;
    return t.groups * GROUP_SLOTS - t.full - (this.old === null ? 0 : this.old.full);
  }

  /**
   * Prepares for `n` inserts: grows now if they would pass the load limit
   * (a failure is not an error: the limit is soft). Returns true when the
   * n inserts are sure to find slots, so that none of them can fail.
   */
  reserve(n: number): boolean {
    const t = this.cur;
    const pending = this.old === null ? 0 : this.old.full;
    if ((t.full + t.deleted + pending + n) * MAX_LOAD_DEN > t.groups * GROUP_SLOTS * MAX_LOAD_NUM
      && (!this.growBlocked || this.alloc.wholeSlabBytes >= 2 * t.groups * GROUP_BYTES)) {
      this.growBlocked = !this.startResize(undefined, n);
      if (this.header !== 0) this.persist();
    }
    return this.freeSlots() >= n;
  }

  /** Tries again a growth that failed for want of memory (the shard's cron). */
  retryGrowth(): void {
    if (!this.growBlocked) return;
    this.growBlocked = false;
    const t = this.cur;
    const pending = this.old === null ? 0 : this.old.full;
    if ((t.full + t.deleted + pending + 1) * MAX_LOAD_DEN > t.groups * GROUP_SLOTS * MAX_LOAD_NUM) {
      if (!this.startResize()) this.growBlocked = true;
    }
    if (this.header !== 0) this.persist();
  }

  private insertInto(t: Table, hash: number, ref: number, volatile: boolean): number {
    const u8 = this.arena.u8;
    let g = hash & t.mask;
    for (let probes = 0; probes <= t.mask; probes++) {
      const ga = t.base + g * GROUP_BYTES;
      for (let i = 0; i < GROUP_SLOTS; i++) {
        const tg = u8[ga + GROUP_TAGS + i];
        if (tg === TAG_EMPTY || tg === TAG_DELETED) {
          if (tg === TAG_DELETED) t.deleted--;
          u8[ga + GROUP_TAGS + i] = tagOf(hash);
          this.arena.u32[refIndex(ga, i)] = ref;
          if (volatile) u8[ga + GROUP_VOLATILE_MASK] |= 1 << i;
          else u8[ga + GROUP_VOLATILE_MASK] &= ~(1 << i);
          this.arena.u32[(ga + GROUP_VERSION) / 4] = this.version;
          t.full++;
          return ga + i;
        }
      }
      g = (g + 1) & t.mask;
    }
    // Callers check freeSlots() first: reaching this is a bug, not a full arena.
    throw new Error('hash index: no free slot in a table that claimed one');
  }

  refAt(handle: number): number {
    return this.arena.u32[refIndex(groupOf(handle), slotOf(handle))];
  }

  /** Points the slot at a relocated record (same key, same hash). */
  setRefAt(handle: number, ref: number): void {
    const ga = groupOf(handle);
    this.arena.u32[refIndex(ga, slotOf(handle))] = ref;
    this.arena.u32[(ga + GROUP_VERSION) / 4] = this.version;
  }

  setVolatile(handle: number, on: boolean): void {
    const ga = groupOf(handle);
    if (on) this.arena.u8[ga + GROUP_VOLATILE_MASK] |= 1 << slotOf(handle);
    else this.arena.u8[ga + GROUP_VOLATILE_MASK] &= ~(1 << slotOf(handle));
  }

  /** Records that the slot's record changed in place (for snapshot versions). */
  touch(handle: number): void {
    this.arena.u32[(groupOf(handle) + GROUP_VERSION) / 4] = this.version;
  }

  removeAt(handle: number): void {
    const ga = groupOf(handle);
    const i = slotOf(handle);
    const t = this.tableOf(ga);
    this.arena.u8[ga + GROUP_TAGS + i] = TAG_DELETED;
    this.arena.u8[ga + GROUP_VOLATILE_MASK] &= ~(1 << i);
    this.arena.u32[(ga + GROUP_VERSION) / 4] = this.version;
    t.full--;
    t.deleted++;
    if (this.header !== 0) this.persist();
  }

  private tableOf(groupAddr: number): Table {
    const t = this.cur;
    if (groupAddr >= t.base && groupAddr < t.base + t.groups * GROUP_BYTES) return t;
    return this.old as Table;
  }

  /**
   * Drops every record reference (the caller frees the records). Never fails:
   * when even the smallest table cannot be allocated, the current one is
   * emptied and kept (the cron shrinks it later).
   */
  clear(): void {
    if (this.old) this.alloc.free(this.old.base);
    this.old = null;
    this.rehashIdx = 0;
    this.growBlocked = false;
    const t = this.cur;
    const small = t.groups === MIN_GROUPS ? null : this.tryNewTable(MIN_GROUPS);
    if (small === null) {
      this.arena.u8.fill(0, t.base, t.base + t.groups * GROUP_BYTES);
      t.full = 0;
      t.deleted = 0;
    } else {
      this.alloc.free(t.base);
      this.cur = small;
    }
    if (this.header !== 0) this.persist();
  }

  // -- resizing --------------------------------------------------------------

  /**
   * Starts moving to a table of targetGroups groups, or (no target) to one
   * where the live records plus `extra` fill at most half the load limit.
   * The new table is allocated before anything changes: returns false, with
   * the index as it was, when the arena has no room for it.
   */
  private startResize(targetGroups?: number, extra = 0): boolean {
    const live = this.size;
    let groups = targetGroups ?? this.cur.groups;
    if (targetGroups === undefined) {
      // Grow until live records fill at most half the load limit; when they
      // already do, the same size is enough (the rebuild purges tombstones).
      while ((live + extra) * 2 * MAX_LOAD_DEN > groups * GROUP_SLOTS * MAX_LOAD_NUM) groups *= 2;
    }
    // Finishing the current rehash allocates nothing and frees its old table.
    if (this.old) this.finishRehash();
    const next = this.tryNewTable(Math.max(MIN_GROUPS, groups));
    if (next === null) return false;
    this.old = this.cur;
    this.rehashIdx = 0;
    this.cur = next;
    this.growBlocked = false;
    return true;
  }

  /** Moves up to `groupsToMove` groups of the old table. Returns true while work remains. */
  rehashStep(groupsToMove: number): boolean {
    const old = this.old;
    if (old === null) return false;
    const u8 = this.arena.u8;
    const u32 = this.arena.u32;
    let empties = groupsToMove * 10;
    while (groupsToMove > 0 && this.rehashIdx < old.groups) {
      const ga = old.base + this.rehashIdx * GROUP_BYTES;
      let moved = false;
      const vmask = u8[ga + GROUP_VOLATILE_MASK];
      for (let i = 0; i < GROUP_SLOTS; i++) {
        if (u8[ga + GROUP_TAGS + i] < 2) continue;
        const ref = u32[refIndex(ga, i)];
        this.insertInto(this.cur, u32[ref * 2], ref, (vmask & (1 << i)) !== 0);
        u8[ga + GROUP_TAGS + i] = TAG_DELETED;
        old.full--;
        moved = true;
      }
      u8[ga + GROUP_VOLATILE_MASK] = 0;
      this.rehashIdx++;
      if (moved) groupsToMove--;
      else if (--empties <= 0) break;
    }
    if (this.rehashIdx >= old.groups) {
      this.alloc.free(old.base);
      this.old = null;
      this.rehashIdx = 0;
      if (this.header !== 0) this.persist();
      return false;
    }
    if (this.header !== 0) this.persist();
    return true;
  }

  finishRehash(): void {
    while (this.rehashStep(1024)) { /* drain */ }
  }

  /**
   * Shrinks a sparse table or purges tombstones; called from the shard's idle
   * cycle (as Redis's tryResizeHashTables), never from a delete.
   */
  maybeShrink(): boolean {
    if (this.old) return false;
    const t = this.cur;
    const cap = t.groups * GROUP_SLOTS;
    let started = false;
    if (t.groups > MIN_GROUPS && t.full * 8 < cap) {
      let groups = t.groups;
      while (groups > MIN_GROUPS && t.full * 4 < (groups / 2) * GROUP_SLOTS) groups /= 2;
      started = this.startResize(groups);
    } else if (t.deleted * 4 > cap) {
      started = this.startResize(t.groups);
    }
    if (started && this.header !== 0) this.persist();
    return started;
  }

  // -- iteration -------------------------------------------------------------

  /**
   * Emits the records whose home group is `home` in table t: they lie in the
   * run of groups from `home` up to the first group holding an empty slot.
   */
  private emitHome(t: Table, home: number, out: number[]): void {
    const u8 = this.arena.u8;
    const u32 = this.arena.u32;
    let g = home;
    for (let probes = 0; probes <= t.mask; probes++) {
      const ga = t.base + g * GROUP_BYTES;
      let sawEmpty = false;
      for (let i = 0; i < GROUP_SLOTS; i++) {
        const tg = u8[ga + GROUP_TAGS + i];
        if (tg >= 2) {
          const ref = u32[refIndex(ga, i)];
          if ((u32[ref * 2] & t.mask) === home) out.push(ref);
        } else if (tg === TAG_EMPTY) {
          sawEmpty = true;
        }
      }
      if (sawEmpty) return;
      g = (g + 1) & t.mask;
    }
  }

  /**
   * One step of a SCAN: emits the records of the home group(s) under `cursor`
   * and returns the next cursor (0 when done). Redis's reverse-binary cursor,
   * applied to home groups, so every record present for the whole scan is
   * returned at least once even when the table grows or shrinks in between.
   */
  scan(cursor: number, out: number[]): number {
    let v = cursor >>> 0;
    if (this.old === null) {
      const t = this.cur;
      this.emitHome(t, v & t.mask, out);
      v = (v | ~t.mask) >>> 0;
      v = rev32(v);
      v = (v + 1) >>> 0;
      return rev32(v);
    }
    let t0 = this.old;
    let t1 = this.cur;
    if (t0.groups > t1.groups) { const x = t0; t0 = t1; t1 = x; }
    const m0 = t0.mask;
    const m1 = t1.mask;
    this.emitHome(t0, v & m0, out);
    do {
      this.emitHome(t1, v & m1, out);
      v = (v | ~m1) >>> 0;
      v = rev32(v);
      v = (v + 1) >>> 0;
      v = rev32(v);
    } while ((v & (m0 ^ m1)) !== 0);
    return v;
  }

  /**
   * Up to `limit` record refs: the first ones a SCAN from cursor 0 meets
   * (MEMORY USAGE's samples). Bounded: it stops once it has enough.
   */
  sample(limit: number, out: number[]): number[] {
    out.length = 0;
    let cursor = 0;
    do cursor = this.scan(cursor, out); while (cursor !== 0 && out.length < limit);
    if (out.length > limit) out.length = limit;
    return out;
  }

  /** Calls fn for every record (used by FLUSHDB, KEYS, DEBUG). fn must not modify the index. */
  forEach(fn: (ref: number, handle: number) => void): void {
    if (this.old) this.forEachIn(this.old, fn);
    this.forEachIn(this.cur, fn);
  }

  private forEachIn(t: Table, fn: (ref: number, handle: number) => void): void {
    const u8 = this.arena.u8;
    const u32 = this.arena.u32;
    for (let g = 0; g < t.groups; g++) {
      const ga = t.base + g * GROUP_BYTES;
      for (let i = 0; i < GROUP_SLOTS; i++) {
        if (u8[ga + GROUP_TAGS + i] >= 2) fn(u32[refIndex(ga, i)], ga + i);
      }
    }
  }

  /** Handle of a random record, or -1 when empty. */
  randomHandle(): number {
    if (this.size === 0) return -1;
    let t = this.cur;
    if (this.old && (t.full === 0 || Math.random() * this.size < this.old.full)) t = this.old;
    const u8 = this.arena.u8;
    // Random group, then walk: bounded because the table is non-empty.
    let g = (Math.random() * t.groups) | 0;
    for (;;) {
      const ga = t.base + g * GROUP_BYTES;
      const start = (Math.random() * GROUP_SLOTS) | 0;
      for (let k = 0; k < GROUP_SLOTS; k++) {
        const i = (start + k) & 7;
        if (u8[ga + GROUP_TAGS + i] >= 2) return ga + i;
      }
      g = (g + 1) & t.mask;
    }
  }

  /**
   * Handle of a uniformly random record, or -1 when empty: random slots of
   * either table (weighed by their sizes) until one is full, so that every
   * record is equally likely (HRANDFIELD's distribution; randomHandle() favours
   * records that follow empty slots).
   */
  fairRandomHandle(rnd: () => number = Math.random): number {
    if (this.size === 0) return -1;
    const u8 = this.arena.u8;
    for (;;) {
      let t = this.cur;
      if (this.old !== null && rnd() * (t.groups + this.old.groups) >= t.groups) t = this.old;
      const s = Math.floor(rnd() * t.groups * GROUP_SLOTS);
      const ga = t.base + Math.floor(s / GROUP_SLOTS) * GROUP_BYTES;
      const i = s % GROUP_SLOTS;
      if (u8[ga + GROUP_TAGS + i] >= 2) return ga + i;
    }
  }

  /**
   * Visits up to `maxGroups` groups from `cursor` whose volatile mask is set,
   * calling fn(handle) for each volatile slot; returns the next cursor (0 after
   * a full pass). Used by the active expire cycle. fn may remove the slot.
   */
  sweepVolatile(cursor: number, maxGroups: number, fn: (handle: number) => void): number {
    const u8 = this.arena.u8;
    const tables = this.old ? [this.old, this.cur] : [this.cur];
    // The cursor counts groups over old then cur.
    let c = cursor;
    let budget = maxGroups;
    let offset = 0;
    for (const t of tables) {
      while (budget > 0 && c - offset < t.groups) {
        const ga = t.base + (c - offset) * GROUP_BYTES;
        const m = u8[ga + GROUP_VOLATILE_MASK];
        if (m !== 0) {
          for (let i = 0; i < GROUP_SLOTS; i++) if (m & (1 << i)) fn(ga + i);
        }
        c++;
        budget--;
      }
      offset += t.groups;
      if (budget === 0) return c;
    }
    return 0;
  }

  // -- lazy freeing of a whole index (FLUSHDB ASYNC, store/lazyfree.ts) ---------

  /**
   * For an index no longer reachable (a flushed database's, or a collection's
   * being freed in slices, then destroy()):
   * calls fn(ref) for the records of up to `maxGroups` groups from `cursor`
   * (groups counted over old then current table) and returns the next
   * cursor, or -1 when every group has been visited. fn may free the
   * records: nothing here reads a record, only the slots.
   */
  drainGroups(cursor: number, maxGroups: number, fn: (ref: number) => void): number {
    const u8 = this.arena.u8;
    const u32 = this.arena.u32;
    let c = cursor;
    let offset = 0;
    let budget = maxGroups;
    for (const t of this.old ? [this.old, this.cur] : [this.cur]) {
      while (budget > 0 && c - offset < t.groups) {
        const ga = t.base + (c - offset) * GROUP_BYTES;
        for (let i = 0; i < GROUP_SLOTS; i++) if (u8[ga + GROUP_TAGS + i] >= 2) fn(u32[refIndex(ga, i)]);
        c++;
        budget--;
      }
      offset += t.groups;
    }
    return c >= offset ? -1 : c;
  }
}

const sampleScratch: number[] = [];

/**
 * Arena bytes of the records an index points to: every one (samples 0, or a
 * table no bigger than that), or the first `samples` a SCAN meets,
 * extrapolated to the whole table (MEMORY USAGE ... SAMPLES, as Redis).
 */
export function sampledRecordBytes(alloc: SlabAllocator, ix: HashIndex, samples: number): number {
  let bytes = 0;
  if (samples === 0 || ix.size <= samples) {
    ix.forEach((r) => { bytes += alloc.usableSize(r * REF_UNIT_BYTES); });
    return bytes;
  }
  const refs = ix.sample(samples, sampleScratch);
  for (const r of refs) bytes += alloc.usableSize(r * REF_UNIT_BYTES);
  return refs.length === 0 ? 0 : Math.round((bytes / refs.length) * ix.size);
}
