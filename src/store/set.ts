import {
  GROUP_BYTES, GROUP_SLOTS, GROUP_TAGS, HIDX_CUR_BASE, HIDX_CUR_GROUPS, HIDX_OLD_BASE, HIDX_OLD_GROUPS, REF_UNIT_BYTES, SET_AUX, SET_COUNT, SET_DATA, SET_ENC, SET_ENC_HASHTABLE, SET_ENC_INTSET, SET_ENC_LISTPACK,
  SET_HEADER_BYTES, SET_MEMBER_HEADER_BYTES,
} from '../../native-layout/layout.ts';
import { hashBytes } from '../util/hash.ts';
import { dataViewOf, equalBytes } from '../util/bytes.ts';
import { INT_UNSAFE, parseI64, parseI64Big, parseI64Status } from '../util/numbers.ts';
import { OutOfMemoryError, type Arena, type SlabAllocator } from './arena.ts';
import { HashIndex, keyLayout, sampledRecordBytes } from './hash-index.ts';
import type { Piece } from './list.ts';
import type { StructureStore } from './structure.ts';

// A set is a fixed header record (its ref never changes, so conversions do not
// touch the key's entry) naming one data block in one of three encodings:
//
// - intset: sorted signed integers of one width (2, 4 or 8 bytes), as
//   Redis's intset; binary search; the width grows when a wider value comes.
// - listpack: small sets of short strings, packed `u32 length, bytes`, in
//   insertion order, searched linearly (Redis 7.2's listpack sets).
// - hashtable: the shard's HashIndex (the keyspace's own implementation),
//   its state in an arena header (HashIndex.create/attach); each member is
//   its own record `u32 hash, u32 length, bytes`. Nothing is a JavaScript
//   object per member.
//
// Writes are all or nothing: every block a write needs is allocated before
// the set changes (OutOfMemoryError otherwise, the set as it was). Removals
// never need memory (a hashtable shrinks only when the smaller table can be had).
//
// Positions name members for random picks: an index for the small encodings,
// a slot handle for a table. A position is valid until the set next changes.

const W_ENC = SET_ENC / 4;
const W_COUNT = SET_COUNT / 4;
const W_DATA = SET_DATA / 4;
const W_AUX = SET_AUX / 4;
const MH = SET_MEMBER_HEADER_BYTES;
/** A member record's bytes, for the index: length in its second word, bytes after the header. */
const MEMBER_KEY_LAYOUT = keyLayout(1, MH);
const TWO32 = 4294967296;
/**
 * Set in a serialization's count word when the set was not an intset: Redis
 * keeps an object's encoding when it moves (RENAME, COPY), so a table of
 * integers must not come back as an intset on another shard.
 */
const SERIAL_NOT_INTSET = 0x80000000;
const SERIAL_COUNT_MASK = 0x7fffffff;

export class SetStore implements StructureStore {
  private readonly u8: Uint8Array;
  /** The arena as a DataView: member compares read four bytes at a time. */
  private readonly bytes: DataView;
  private readonly u32: Uint32Array;
  private readonly i16: Int16Array;
  private readonly i32: Int32Array;
  private readonly alloc: SlabAllocator;
  private readonly seed: number;
  /** One HashIndex view, attached to a set's table for each operation. */
  private readonly view: HashIndex;
  /**
   * A second view for walks (forEach, forEachPosition): a walk's callback may
   * look members up in other sets (SINTER, SDIFF), which re-attaches `view`.
   * Callbacks must not walk another set.
   */
  private readonly walker: HashIndex;
  /** set-max-intset-entries. */
  maxIntsetEntries = 512;
  /** set-max-listpack-entries and set-max-listpack-value. */
  maxListpackEntries = 128;
  maxListpackValue = 64;

  /** The integer the last isInt() call read: high 32 bits (signed) and low 32 bits (unsigned). */
  ihi = 0;
  ilo = 0;
  /** Scratch for formatting members that are integers. */
  private readonly digits = new Uint8Array(24);

  constructor(arena: Arena, alloc: SlabAllocator, seed: number) {
    const u8 = arena.u8;
    this.u8 = u8;
    this.bytes = arena.view;
    this.u32 = arena.u32;
    this.view = HashIndex.view(arena, alloc);
    this.walker = HashIndex.view(arena, alloc);
    this.i16 = new Int16Array(u8.buffer, u8.byteOffset, Math.floor(u8.byteLength / 2));
    this.i32 = new Int32Array(u8.buffer, u8.byteOffset, Math.floor(u8.byteLength / 4));
    this.alloc = alloc;
    this.seed = seed;
  }

  // -- header --------------------------------------------------------------------

  encoding(h: number): number { return this.u32[h * 2 + W_ENC]; }
  count(h: number): number { return this.u32[h * 2 + W_COUNT]; }
  private data(h: number): number { return this.u32[h * 2 + W_DATA]; }
  private aux(h: number): number { return this.u32[h * 2 + W_AUX]; }

  /** OBJECT ENCODING's name. Redis 7.0 has no listpack sets: a small set of strings is a hashtable there. */
  encodingName(h: number): string {
    return this.encoding(h) === SET_ENC_INTSET ? 'intset' : 'hashtable';
  }

  // -- integers --------------------------------------------------------------------

  /** True when the bytes are an integer as Redis's string2ll reads it (then in ihi/ilo). */
  isInt(b: Uint8Array, off: number, len: number): boolean {
    if (len === 0 || len > 20) return false;
    const v = parseI64(b, off, len);
    if (v === v) {
      const hi = Math.floor(v / TWO32);
      this.ihi = hi;
      this.ilo = v - hi * TWO32;
      return true;
    }
    if (parseI64Status() !== INT_UNSAFE) return false;
    const big = parseI64Big(b, off, len) as bigint;
    this.ihi = Number(BigInt.asIntN(32, big >> 32n));
    this.ilo = Number(BigInt.asUintN(32, big));
    return true;
  }

  private static widthOf(hi: number, lo: number): number {
    if ((hi === 0 && lo <= 0x7fff) || (hi === -1 && lo >= 0xffff8000)) return 2;
    if ((hi === 0 && lo <= 0x7fffffff) || (hi === -1 && lo >= 0x80000000)) return 4;
    return 8;
  }

  /** Reads intset element i (data block at byte address d, width w) into rhi/rlo. */
  private rhi = 0;
  private rlo = 0;
  private readAt(d: number, w: number, i: number): void {
    if (w === 2) {
      const v = this.i16[(d / 2) + i];
      this.rhi = v < 0 ? -1 : 0;
      this.rlo = v >>> 0;
    } else if (w === 4) {
      const v = this.i32[(d / 4) + i];
      this.rhi = v < 0 ? -1 : 0;
      this.rlo = v >>> 0;
    } else {
      const k = (d / 4) + 2 * i;
      this.rlo = this.u32[k];
      this.rhi = this.i32[k + 1];
    }
  }

  private writeAt(d: number, w: number, i: number, hi: number, lo: number): void {
    if (w === 2) this.i16[(d / 2) + i] = lo << 16 >> 16;
    else if (w === 4) this.i32[(d / 4) + i] = lo | 0;
    else {
      const k = (d / 4) + 2 * i;
      this.u32[k] = lo;
      this.i32[k + 1] = hi;
    }
  }

  /** Index of (hi, lo) in the intset, or -(insertion point) - 1. */
  private intsetSearch(h: number, hi: number, lo: number): number {
    const d = this.data(h) * REF_UNIT_BYTES;
    const w = this.aux(h);
    let a = 0;
    let b = this.count(h) - 1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      this.readAt(d, w, m);
      const rh = this.rhi;
      if (rh < hi || (rh === hi && this.rlo < lo)) a = m + 1;
      else if (rh > hi || this.rlo > lo) b = m - 1;
      else return m;
    }
    return -a - 1;
  }

  /** Writes the decimal form of (hi, lo) into the scratch; returns its length. */
  private formatInt(hi: number, lo: number): number {
    let s: string;
    if (hi >= -2097152 && hi < 2097152) s = String(hi * TWO32 + lo);
    else s = ((BigInt(hi) << 32n) | BigInt(lo)).toString();
    for (let i = 0; i < s.length; i++) this.digits[i] = s.charCodeAt(i);
    return s.length;
  }

  // -- hashing -------------------------------------------------------------------------

  hashOf(b: Uint8Array, off: number, len: number): number {
    return hashBytes(b, off, len, this.seed);
  }

  /** The view attached to a hashtable set's index. */
  private table(h: number): HashIndex {
    return this.view.attach(this.data(h), MEMBER_KEY_LAYOUT);
  }

  /**
   * Moves a resize of the set's table on by a step (a collection's index has
   * no cron: its commands drive it). Positions taken before are stale after.
   */
  step(h: number): void {
    if (this.encoding(h) !== SET_ENC_HASHTABLE || this.u32[this.data(h) * 2 + HIDX_OLD_BASE / 4] === 0) return;
    this.table(h).rehashStep(1);
  }

  private newMember(b: Uint8Array, off: number, len: number, hash: number): number {
    const addr = this.alloc.tryAlloc(MH + len);
    if (addr === 0) throw new OutOfMemoryError('arena exhausted');
    const m = addr / REF_UNIT_BYTES;
    this.u32[m * 2] = hash;
    this.u32[m * 2 + 1] = len;
    if (len < 32) for (let i = 0; i < len; i++) this.u8[addr + MH + i] = b[off + i];
    else this.u8.set(b.subarray(off, off + len), addr + MH);
    return m;
  }

  /** Removes the member at a table handle (frees its record); a sparse table starts shrinking when memory allows. */
  private htRemoveAt(h: number, handle: number, shrink: boolean): void {
    const t = this.table(h);
    const r = t.refAt(handle);
    t.removeAt(handle);
    this.alloc.free(r * REF_UNIT_BYTES);
    this.u32[h * 2 + W_COUNT]--;
    if (shrink) t.maybeShrink();
  }

  // -- reading ---------------------------------------------------------------------------

  /** Is the member in the set? */
  has(h: number, b: Uint8Array, off: number, len: number): boolean {
    const enc = this.encoding(h);
    if (enc === SET_ENC_INTSET) {
      if (!this.isInt(b, off, len)) return false;
      return this.intsetSearch(h, this.ihi, this.ilo) >= 0;
    }
    if (enc === SET_ENC_LISTPACK) return this.lpFind(h, b, off, len) >= 0;
    const t = this.table(h);
    if (t.isRehashing) t.rehashStep(1);
    return t.find(this.hashOf(b, off, len), b, off, len) >= 0;
  }

  /** Byte offset of the listpack element equal to the bytes (its length prefix), or -1. */
  private lpFind(h: number, b: Uint8Array, off: number, len: number): number {
    const u8 = this.u8;
    const dv = this.bytes;
    const bv = dataViewOf(b);
    let p = this.data(h) * REF_UNIT_BYTES;
    const end = p + this.aux(h);
    while (p < end) {
      const l = dv.getInt32(p, true);
      if (l === len && equalBytes(u8, dv, p + 4, b, bv, off, len)) return p;
      p += 4 + l;
    }
    return -1;
  }

  /**
   * Calls visit(bytes, offset, length) for every member. Integers are
   * formatted into a scratch buffer that the next call overwrites.
   */
  forEach(h: number, visit: (b: Uint8Array, off: number, len: number) => void): void {
    const enc = this.encoding(h);
    const n = this.count(h);
    if (enc === SET_ENC_INTSET) {
      const d = this.data(h) * REF_UNIT_BYTES;
      const w = this.aux(h);
      for (let i = 0; i < n; i++) {
        this.readAt(d, w, i);
        visit(this.digits, 0, this.formatInt(this.rhi, this.rlo));
      }
    } else if (enc === SET_ENC_LISTPACK) {
      const u8 = this.u8;
      let p = this.data(h) * REF_UNIT_BYTES;
      const end = p + this.aux(h);
      while (p < end) {
        const l = u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24);
        visit(u8, p + 4, l);
        p += 4 + l;
      }
    } else {
      const u8 = this.u8;
      const u32 = this.u32;
      this.walker.attach(this.data(h), MEMBER_KEY_LAYOUT).forEach((r) => visit(u8, r * REF_UNIT_BYTES + MH, u32[r * 2 + 1]));
    }
  }

  /** True for the small encodings (intset, listpack): SSCAN and SPOP take them whole. */
  isSmall(h: number): boolean {
    return this.encoding(h) !== SET_ENC_HASHTABLE;
  }

  /** Calls fn with the position of every member. */
  forEachPosition(h: number, fn: (pos: number) => void): void {
    if (this.encoding(h) === SET_ENC_HASHTABLE) this.walker.attach(this.data(h), MEMBER_KEY_LAYOUT).forEach((_r, handle) => fn(handle));
    else for (let i = 0, n = this.count(h); i < n; i++) fn(i);
  }

  /** Calls visit with the member at a position. Listpack positions walk the block. */
  at(h: number, pos: number, visit: (b: Uint8Array, off: number, len: number) => void): boolean {
    const enc = this.encoding(h);
    if (enc === SET_ENC_INTSET) {
      this.readAt(this.data(h) * REF_UNIT_BYTES, this.aux(h), pos);
      visit(this.digits, 0, this.formatInt(this.rhi, this.rlo));
      return true;
    }
    if (enc === SET_ENC_LISTPACK) {
      const u8 = this.u8;
      let p = this.data(h) * REF_UNIT_BYTES;
      for (let i = 0; i < pos; i++) p += 4 + (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24));
      visit(u8, p + 4, u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24));
      return true;
    }
    const r = this.table(h).refAt(pos);
    visit(this.u8, r * REF_UNIT_BYTES + MH, this.u32[r * 2 + 1]);
    return true;
  }

  /**
   * A random position holding a member (the set is not empty). For a table,
   * a uniformly random slot of its table(s) until one holds a member, so that
   * every member is as likely (a walk to the next full slot would favour
   * members after empty runs). Tables are kept at least 1/8 full (maybeShrink
   * on removal), so this takes a few tries; a table being emptied by a resize
   * falls back to the index's own pick after 64.
   */
  randomPosition(h: number): number {
    if (this.encoding(h) !== SET_ENC_HASHTABLE) return Math.floor(Math.random() * this.count(h));
    const w = this.data(h) * 2;
    const u32 = this.u32;
    const curBase = u32[w + HIDX_CUR_BASE / 4] * REF_UNIT_BYTES;
    const curSlots = u32[w + HIDX_CUR_GROUPS / 4] * GROUP_SLOTS;
    const oldBase = u32[w + HIDX_OLD_BASE / 4] * REF_UNIT_BYTES;
    const oldSlots = oldBase === 0 ? 0 : u32[w + HIDX_OLD_GROUPS / 4] * GROUP_SLOTS;
    for (let tries = 0; tries < 64; tries++) {
      let slot = Math.floor(Math.random() * (curSlots + oldSlots));
      let base = curBase;
      if (slot >= curSlots) {
        slot -= curSlots;
        base = oldBase;
      }
      const ga = base + Math.floor(slot / GROUP_SLOTS) * GROUP_BYTES;
      const i = slot % GROUP_SLOTS;
      if (this.u8[ga + GROUP_TAGS + i] >= 2) return ga + i;
    }
    return this.table(h).randomHandle();
  }

  /**
   * One SSCAN step over a table (the keyspace's SCAN cursor over home groups,
   * so a resize between calls neither skips nor repeats a member present
   * throughout); returns the next cursor (0: done).
   */
  scanStep(h: number, cursor: number, visit: (b: Uint8Array, off: number, len: number) => void): number {
    const refs: number[] = [];
    const next = this.table(h).scan(cursor, refs);
    for (const r of refs) visit(this.u8, r * REF_UNIT_BYTES + MH, this.u32[r * 2 + 1]);
    return next;
  }

  // -- building ---------------------------------------------------------------------------

  private allocOrThrow(size: number): number {
    const a = this.alloc.tryAlloc(size);
    if (a === 0) throw new OutOfMemoryError('arena exhausted');
    return a;
  }

  private newHeader(enc: number, count: number, dataRef: number, aux: number): number {
    const h = this.allocOrThrow(SET_HEADER_BYTES) / REF_UNIT_BYTES;
    this.u32[h * 2 + W_ENC] = enc;
    this.u32[h * 2 + W_COUNT] = count;
    this.u32[h * 2 + W_DATA] = dataRef;
    this.u32[h * 2 + W_AUX] = aux;
    return h;
  }

  /**
   * A new set of the given members (duplicates allowed, at least one), in the
   * encoding Redis would reach by adding them one by one. All or nothing.
   */
  create(pieces: readonly Piece[]): number {
    const h = this.newHeader(SET_ENC_INTSET, 0, 0, 2);
    try {
      const d = this.allocOrThrow(8);
      this.u32[h * 2 + W_DATA] = d / REF_UNIT_BYTES;
      this.addMany(h, pieces);
    } catch (e) {
      if (this.data(h) !== 0) this.alloc.free(this.data(h) * REF_UNIT_BYTES);
      this.alloc.free(h * REF_UNIT_BYTES);
      throw e;
    }
    return h;
  }

  /** A new empty intset (a destination being built); free it if it stays empty. */
  createEmpty(): number {
    const h = this.newHeader(SET_ENC_INTSET, 0, 0, 2);
    const d = this.alloc.tryAlloc(8);
    if (d === 0) {
      this.alloc.free(h * REF_UNIT_BYTES);
      throw new OutOfMemoryError('arena exhausted');
    }
    this.u32[h * 2 + W_DATA] = d / REF_UNIT_BYTES;
    return h;
  }

  /** Adds one member; returns 1 when added. All or nothing. */
  add(h: number, b: Uint8Array, off: number, len: number): number {
    const enc = this.encoding(h);
    if (enc === SET_ENC_HASHTABLE) {
      // The common case of a big set, without the batch's bookkeeping.
      const t = this.table(h);
      if (t.isRehashing) t.rehashStep(1);
      const hash = this.hashOf(b, off, len);
      if (t.find(hash, b, off, len) >= 0) return 0;
      const m = this.newMember(b, off, len, hash);
      if (t.insert(hash, m) < 0) {
        this.alloc.free(m * REF_UNIT_BYTES);
        throw new OutOfMemoryError('set table full');
      }
      this.u32[h * 2 + W_COUNT]++;
      return 1;
    }
    if (enc === SET_ENC_INTSET && this.isInt(b, off, len)) {
      const i = this.intsetSearch(h, this.ihi, this.ilo);
      if (i >= 0) return 0;
      const n = this.count(h);
      const w = this.aux(h);
      const d = this.data(h) * REF_UNIT_BYTES;
      if (SetStore.widthOf(this.ihi, this.ilo) <= w && n < this.maxIntsetEntries && (n + 1) * w <= this.alloc.usableSize(d)) {
        // Room in place: shift the larger ones up by one.
        const at = -i - 1;
        this.u8.copyWithin(d + (at + 1) * w, d + at * w, d + n * w);
        this.writeAt(d, w, at, this.ihi, this.ilo);
        this.u32[h * 2 + W_COUNT] = n + 1;
        return 1;
      }
    } else if (enc === SET_ENC_LISTPACK && this.lpFind(h, b, off, len) >= 0) return 0;
    return this.addMany(h, [{ u8: b, off, len }]);
  }

  /**
   * Adds members (SADD): returns how many were new. Every block is allocated
   * before the set changes; a conversion builds the whole new encoding first.
   */
  addMany(h: number, pieces: readonly Piece[]): number {
    const enc = this.encoding(h);
    if (enc === SET_ENC_INTSET) return this.intsetAddMany(h, pieces);
    if (enc === SET_ENC_LISTPACK) return this.listpackAddMany(h, pieces);
    return this.htAddMany(h, pieces);
  }

  private intsetAddMany(h: number, pieces: readonly Piece[]): number {
    // Which members are new integers, and the width they need.
    const his: number[] = [];
    const los: number[] = [];
    let width = this.aux(h);
    let allInts = true;
    for (const p of pieces) {
      if (!this.isInt(p.u8, p.off, p.len)) {
        allInts = false;
        break;
      }
      if (this.intsetSearch(h, this.ihi, this.ilo) >= 0) continue;
      his.push(this.ihi);
      los.push(this.ilo);
      width = Math.max(width, SetStore.widthOf(this.ihi, this.ilo));
    }
    if (!allInts) return this.convertAndAdd(h, pieces);
    if (his.length === 0) return 0;
    // Sorted, without duplicates among themselves.
    const order = his.map((_, i) => i).sort((x, y) => (his[x] - his[y]) || (los[x] - los[y]));
    const newHi: number[] = [];
    const newLo: number[] = [];
    for (const i of order) {
      const k = newHi.length - 1;
      if (k >= 0 && newHi[k] === his[i] && newLo[k] === los[i]) continue;
      newHi.push(his[i]);
      newLo.push(los[i]);
    }
    const n = this.count(h);
    const total = n + newHi.length;
    if (total > this.maxIntsetEntries) return this.convertAndAdd(h, pieces);
    const oldW = this.aux(h);
    const oldD = this.data(h) * REF_UNIT_BYTES;
    let d = oldD;
    if (width !== oldW || total * width > this.alloc.usableSize(oldD)) {
      // Grow greedily so that one-at-a-time SADDs stay linear overall.
      const want = Math.max(total * width, Math.min(2 * n * width, this.maxIntsetEntries * width));
      d = this.allocOrThrow(Math.max(8, want));
    }
    // Merge from the end: old elements and new ones, largest first (in place works too).
    let i = n - 1;
    let j = newHi.length - 1;
    for (let k = total - 1; k >= 0; k--) {
      let takeOld = false;
      if (i >= 0) {
        this.readAt(oldD, oldW, i);
        takeOld = j < 0 || this.rhi > newHi[j] || (this.rhi === newHi[j] && this.rlo > newLo[j]);
      }
      if (takeOld) {
        this.writeAt(d, width, k, this.rhi, this.rlo);
        i--;
      } else {
        this.writeAt(d, width, k, newHi[j], newLo[j]);
        j--;
      }
    }
    if (d !== oldD) {
      this.alloc.free(oldD);
      this.u32[h * 2 + W_DATA] = d / REF_UNIT_BYTES;
      this.u32[h * 2 + W_AUX] = width;
    }
    this.u32[h * 2 + W_COUNT] = total;
    return newHi.length;
  }

  private listpackAddMany(h: number, pieces: readonly Piece[]): number {
    const fresh: Piece[] = [];
    let bytes = 0;
    for (const p of pieces) {
      if (this.lpFind(h, p.u8, p.off, p.len) >= 0) continue;
      let dup = false;
      for (const q of fresh) if (piecesEqual(p, q)) { dup = true; break; }
      if (dup) continue;
      if (p.len > this.maxListpackValue) return this.convertAndAdd(h, pieces);
      fresh.push(p);
      bytes += 4 + p.len;
    }
    if (fresh.length === 0) return 0;
    const n = this.count(h);
    if (n + fresh.length > this.maxListpackEntries) return this.convertAndAdd(h, pieces);
    const used = this.aux(h);
    const oldD = this.data(h) * REF_UNIT_BYTES;
    let d = oldD;
    if (used + bytes > this.alloc.usableSize(oldD)) {
      d = this.allocOrThrow(Math.max(used + bytes, Math.min(2 * used, this.maxListpackEntries * (4 + this.maxListpackValue))));
      this.u8.copyWithin(d, oldD, oldD + used);
    }
    let p = d + used;
    for (const e of fresh) {
      p = this.putPacked(p, e.u8, e.off, e.len);
    }
    if (d !== oldD) {
      this.alloc.free(oldD);
      this.u32[h * 2 + W_DATA] = d / REF_UNIT_BYTES;
    }
    this.u32[h * 2 + W_AUX] = used + bytes;
    this.u32[h * 2 + W_COUNT] = n + fresh.length;
    return fresh.length;
  }

  private putPacked(p: number, b: Uint8Array, off: number, len: number): number {
    const u8 = this.u8;
    u8[p] = len & 0xff;
    u8[p + 1] = (len >>> 8) & 0xff;
    u8[p + 2] = (len >>> 16) & 0xff;
    u8[p + 3] = (len >>> 24) & 0xff;
    for (let i = 0; i < len; i++) u8[p + 4 + i] = b[off + i];
    return p + 4 + len;
  }

  private htAddMany(h: number, pieces: readonly Piece[]): number {
    const t = this.table(h);
    // A step per member, as Redis's dict does one per operation: a resize must end while the set is being filled.
    if (t.isRehashing) t.rehashStep(pieces.length);
    // Growth first (soft: a failure leaves inserts to the current table while it has slots).
    t.reserve(pieces.length);
    const added: number[] = [];
    try {
      for (const p of pieces) {
        const hash = this.hashOf(p.u8, p.off, p.len);
        if (t.find(hash, p.u8, p.off, p.len) >= 0) continue;
        const m = this.newMember(p.u8, p.off, p.len, hash);
        if (t.insert(hash, m) < 0) {
          this.alloc.free(m * REF_UNIT_BYTES);
          throw new OutOfMemoryError('set table full');
        }
        this.u32[h * 2 + W_COUNT]++;
        added.push(m);
      }
    } catch (e) {
      // Out of memory part way: take back what this call added (removal needs no memory).
      for (const m of added) {
        const handle = this.table(h).find(this.u32[m * 2], this.u8, m * REF_UNIT_BYTES + MH, this.u32[m * 2 + 1]);
        this.htRemoveAt(h, handle, false);
      }
      throw e;
    }
    return added.length;
  }

  /**
   * Rebuilds the set in the encoding its members plus `pieces` need
   * (intset -> listpack -> hashtable), then swaps the data block in. All or nothing.
   */
  private convertAndAdd(h: number, pieces: readonly Piece[]): number {
    const before = this.count(h);
    // Upper bound of the members after the add decides the target encoding.
    let total = before + pieces.length;
    let fitsListpack = total <= this.maxListpackEntries;
    if (fitsListpack) {
      for (const p of pieces) if (p.len > this.maxListpackValue) { fitsListpack = false; break; }
    }
    const enc = this.encoding(h);
    if (enc === SET_ENC_LISTPACK) fitsListpack = false; // a listpack that overflows becomes a table
    if (fitsListpack) {
      // Exact count: is the listpack really within its limit? (duplicates may make it so)
      total = before + pieces.length;
    }
    const tmp = fitsListpack
      ? this.newHeader(SET_ENC_LISTPACK, 0, 0, 0)
      : this.newHeader(SET_ENC_HASHTABLE, 0, 0, 0);
    try {
      if (fitsListpack) {
        const d = this.allocOrThrow(Math.max(8, before * 24 + 16));
        this.u32[tmp * 2 + W_DATA] = d / REF_UNIT_BYTES;
      } else {
        this.u32[tmp * 2 + W_DATA] = HashIndex.create(this.alloc, total);
      }
      const old: Piece[] = [];
      this.forEach(h, (b, off, len) => {
        old.push({ u8: b === this.digits ? this.digits.slice(0, len) : b, off: b === this.digits ? 0 : off, len });
      });
      this.addMany(tmp, old);
      this.addMany(tmp, pieces);
    } catch (e) {
      this.free(tmp);
      throw e;
    }
    // Swap the new block into the old header, free the old block.
    this.freeData(h);
    for (const w of [W_ENC, W_COUNT, W_DATA, W_AUX]) this.u32[h * 2 + w] = this.u32[tmp * 2 + w];
    this.alloc.free(tmp * REF_UNIT_BYTES);
    return this.count(h) - before;
  }

  // -- removing -----------------------------------------------------------------------------

  /** Removes one member; returns 1 when it was there. Never allocates. */
  remove(h: number, b: Uint8Array, off: number, len: number): number {
    const enc = this.encoding(h);
    if (enc === SET_ENC_INTSET) {
      if (!this.isInt(b, off, len)) return 0;
      const i = this.intsetSearch(h, this.ihi, this.ilo);
      if (i < 0) return 0;
      this.intsetRemoveAt(h, i);
      return 1;
    }
    if (enc === SET_ENC_LISTPACK) {
      const p = this.lpFind(h, b, off, len);
      if (p < 0) return 0;
      this.lpRemoveAt(h, p);
      return 1;
    }
    this.step(h);
    const handle = this.table(h).find(this.hashOf(b, off, len), b, off, len);
    if (handle < 0) return 0;
    this.htRemoveAt(h, handle, true);
    return 1;
  }

  private intsetRemoveAt(h: number, i: number): void {
    const d = this.data(h) * REF_UNIT_BYTES;
    const w = this.aux(h);
    const n = this.count(h);
    this.u8.copyWithin(d + i * w, d + (i + 1) * w, d + n * w);
    this.u32[h * 2 + W_COUNT] = n - 1;
  }

  private lpRemoveAt(h: number, p: number): void {
    const u8 = this.u8;
    const l = u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24);
    const end = this.data(h) * REF_UNIT_BYTES + this.aux(h);
    u8.copyWithin(p, p + 4 + l, end);
    this.u32[h * 2 + W_AUX] -= 4 + l;
    this.u32[h * 2 + W_COUNT]--;
  }

  /** Removes the member at a position (as randomPosition/at name them). */
  removeAt(h: number, pos: number): void {
    const enc = this.encoding(h);
    if (enc === SET_ENC_INTSET) this.intsetRemoveAt(h, pos);
    else if (enc === SET_ENC_LISTPACK) {
      const u8 = this.u8;
      let p = this.data(h) * REF_UNIT_BYTES;
      for (let i = 0; i < pos; i++) p += 4 + (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24));
      this.lpRemoveAt(h, p);
    } else this.htRemoveAt(h, pos, true);
  }

  /**
   * Keeps only the members at the given table positions (SPOP of most of a
   * big set): visits every other member, frees it, and moves the kept ones to
   * a new small table. Returns false, having changed nothing, when that table
   * cannot be allocated.
   */
  keepOnly(h: number, keep: ReadonlySet<number>, visit: (b: Uint8Array, off: number, len: number) => void): boolean {
    let fresh: number;
    try {
      fresh = HashIndex.create(this.alloc, keep.size);
    } catch (e) {
      if (e instanceof OutOfMemoryError) return false;
      throw e;
    }
    const kept: number[] = [];
    const u8 = this.u8;
    const u32 = this.u32;
    this.table(h).forEach((r, handle) => {
      if (keep.has(handle)) kept.push(r);
      else {
        visit(u8, r * REF_UNIT_BYTES + MH, u32[r * 2 + 1]);
        this.alloc.free(r * REF_UNIT_BYTES);
      }
    });
    this.table(h).destroy();
    // Sized for them when created: these inserts cannot fail.
    const t = this.view.attach(fresh, MEMBER_KEY_LAYOUT);
    for (const r of kept) t.insert(u32[r * 2], r);
    this.u32[h * 2 + W_DATA] = fresh;
    this.u32[h * 2 + W_COUNT] = kept.length;
    return true;
  }

  // -- whole sets (StructureStore) --------------------------------------------------------------

  private freeData(h: number): void {
    if (this.encoding(h) === SET_ENC_HASHTABLE) {
      if (this.data(h) === 0) return; // a table whose index could not be created
      const t = this.table(h);
      t.forEach((r) => this.alloc.free(r * REF_UNIT_BYTES));
      t.destroy();
      return;
    }
    if (this.data(h) !== 0) this.alloc.free(this.data(h) * REF_UNIT_BYTES);
  }

  free(h: number): void {
    this.freeData(h);
    this.alloc.free(h * REF_UNIT_BYTES);
  }

  /** Lazy freeing (StructureStore): a table's members (one record each); an intset or listpack is one block. */
  freeEffort(h: number): number {
    return this.encoding(h) === SET_ENC_HASHTABLE && this.data(h) !== 0 ? this.count(h) : 1;
  }

  /**
   * Lazy freeing: a table is walked from the group cursor kept in SET_AUX (0
   * for a live table), 8 groups at a time, freeing the member records met:
   * about `budget` units, a record one unit and each 8 groups visited one
   * more (an empty stretch is bounded too). The slots are left as they are:
   * drainGroups reads only slots, never a freed record. Once every group is
   * visited: the index, then the header. A small encoding goes at once (two
   * blocks).
   */
  freeSome(h: number, budget: number): boolean {
    if (this.encoding(h) === SET_ENC_HASHTABLE && this.data(h) !== 0) {
      const t = this.table(h);
      let cursor = this.aux(h);
      let left = budget;
      const freeRecord = (r: number): void => {
        this.alloc.free(r * REF_UNIT_BYTES);
        left--;
      };
      while (left > 0 && cursor >= 0) {
        cursor = t.drainGroups(cursor, 8, freeRecord);
        left--;
      }
      if (cursor >= 0) {
        this.u32[h * 2 + W_AUX] = cursor;
        return false;
      }
      t.destroy();
      this.alloc.free(h * REF_UNIT_BYTES);
      return true;
    }
    this.free(h);
    return true;
  }

  clone(h: number): number {
    const enc = this.encoding(h);
    if (enc !== SET_ENC_HASHTABLE) {
      const oldD = this.data(h) * REF_UNIT_BYTES;
      const size = enc === SET_ENC_INTSET ? Math.max(8, this.count(h) * this.aux(h)) : Math.max(8, this.aux(h));
      const nh = this.newHeader(enc, this.count(h), 0, this.aux(h));
      const d = this.alloc.tryAlloc(size);
      if (d === 0) {
        this.alloc.free(nh * REF_UNIT_BYTES);
        throw new OutOfMemoryError('arena exhausted');
      }
      this.u8.copyWithin(d, oldD, oldD + size);
      this.u32[nh * 2 + W_DATA] = d / REF_UNIT_BYTES;
      return nh;
    }
    const nh = this.newHeader(SET_ENC_HASHTABLE, 0, 0, 0);
    try {
      this.u32[nh * 2 + W_DATA] = HashIndex.create(this.alloc, this.count(h));
    } catch (e) {
      this.alloc.free(nh * REF_UNIT_BYTES);
      throw e;
    }
    const refs: number[] = [];
    this.table(h).forEach((r) => refs.push(r));
    try {
      for (const r of refs) {
        const len = this.u32[r * 2 + 1];
        const a = this.alloc.tryAlloc(MH + len);
        if (a === 0) throw new OutOfMemoryError('arena exhausted');
        this.u8.copyWithin(a, r * REF_UNIT_BYTES, r * REF_UNIT_BYTES + MH + len);
        // Sized for every member when created: cannot fail.
        this.table(nh).insert(this.u32[r * 2], a / REF_UNIT_BYTES);
        this.u32[nh * 2 + W_COUNT]++;
      }
    } catch (e) {
      this.free(nh);
      throw e;
    }
    return nh;
  }

  /** u32 count (SERIAL_NOT_INTSET set unless an intset), then each member as u32 length + bytes (little-endian). */
  serialize(h: number): Uint8Array {
    let size = 4;
    this.forEach(h, (_b, _o, len) => { size += 4 + len; });
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, (this.count(h) | (this.encoding(h) === SET_ENC_INTSET ? 0 : SERIAL_NOT_INTSET)) >>> 0, true);
    let p = 4;
    this.forEach(h, (b, off, len) => {
      dv.setUint32(p, len, true);
      out.set(b.subarray(off, off + len), p + 4);
      p += 4 + len;
    });
    return out;
  }

  /** Member pieces of a serialization, or null when malformed or empty. */
  static parseSerialized(b: Uint8Array, o: number, l: number): Piece[] | null {
    if (l < 4) return null;
    const dv = new DataView(b.buffer, b.byteOffset + o, l);
    const count = dv.getUint32(0, true) & SERIAL_COUNT_MASK;
    if (count === 0) return null;
    const out: Piece[] = [];
    let p = 4;
    for (let i = 0; i < count; i++) {
      if (p + 4 > l) return null;
      const len = dv.getUint32(p, true);
      if (p + 4 + len > l) return null;
      out.push({ u8: b, off: o + p + 4, len });
      p += 4 + len;
    }
    return p === l ? out : null;
  }

  /** Members in a serialization, or -1 when it is malformed or empty. Allocates nothing. */
  static serializedCount(b: Uint8Array, o: number, l: number): number {
    if (l < 4) return -1;
    const count = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) & SERIAL_COUNT_MASK;
    if (count === 0) return -1;
    let p = 4;
    for (let i = 0; i < count; i++) {
      if (p + 4 > l) return -1;
      const q = o + p;
      const len = (b[q] | (b[q + 1] << 8) | (b[q + 2] << 16) | (b[q + 3] << 24)) >>> 0;
      if (p + 4 + len > l) return -1;
      p += 4 + len;
    }
    return p === l ? count : -1;
  }

  validSerialized(b: Uint8Array, o: number, l: number): boolean {
    return SetStore.serializedCount(b, o, l) > 0;
  }

  deserialize(b: Uint8Array, o: number, l: number): number {
    const pieces = SetStore.parseSerialized(b, o, l);
    if (pieces === null) throw new Error('malformed set payload');
    const h = this.create(pieces);
    if ((b[o + 3] & 0x80) !== 0 && this.encoding(h) === SET_ENC_INTSET) {
      // It was not an intset where it came from: it is not one here either.
      try {
        this.convertAndAdd(h, []);
      } catch (e) {
        this.free(h);
        throw e;
      }
    }
    return h;
  }

  footprint(h: number, samples = 0): number {
    const header = this.alloc.usableSize(h * REF_UNIT_BYTES);
    if (this.encoding(h) !== SET_ENC_HASHTABLE) return header + this.alloc.usableSize(this.data(h) * REF_UNIT_BYTES);
    const table = this.table(h);
    return header + table.footprint + sampledRecordBytes(this.alloc, table, samples);
  }
}

function piecesEqual(a: Piece, b: Piece): boolean {
  if (a.len !== b.len) return false;
  for (let i = 0; i < a.len; i++) if (a.u8[a.off + i] !== b.u8[b.off + i]) return false;
  return true;
}


