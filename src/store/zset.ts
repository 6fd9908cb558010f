import {
  ENC_ZSET_LISTPACK, ENC_ZSET_SKIPLIST, REF_UNIT_BYTES, ZLP_LEN, ZLP_MEMBER, ZLP_PREV, ZSET_COUNT, ZSET_ENCODING,
  ZSET_FIRST, ZSET_HEADER_BYTES, ZSET_LAST, ZSET_LEVEL, ZSET_TABLE, ZSL_BACKWARD, ZSL_HASH, ZSL_LEN,
  ZSL_LEVEL_BASE, ZSL_LEVEL_BYTES, ZSL_LEVELS, ZSL_MAX_LEVEL,
} from '../../native-layout/layout.ts';
import { OutOfMemoryError, type SlabAllocator } from './arena.ts';
import type { StructureStore } from './structure.ts';
import { hashBytes } from '../util/hash.ts';
import { dataViewOf, equalBytes } from '../util/bytes.ts';
import { HashIndex, keyLayout, keyLengthIn, keyOffsetIn } from './hash-index.ts';

/**
 * Sorted sets in the shard arena (TYPE_ZSET values), ordered by (score, member
 * bytes) as Redis orders them. Layouts: native-layout/layout.ts (ZSET_*, ZLP_*,
 * ZSL_*) and native-layout/README.md.
 *
 * A zset is named by the ref of its header (what the entry's value word holds).
 * Two encodings, as Redis 7.0:
 * - listpack: one block of packed entries in order, while count <=
 *   `maxListpackEntries` and every member <= `maxListpackValue` bytes;
 * - skiplist: nodes with span counts (rank, select by rank and rank ranges in
 *   O(log n)) plus a member table of node refs (ZSCORE in O(1)).
 * A listpack converts to a skiplist when a write crosses a limit; it never
 * converts back (Redis neither), except that `build` picks the encoding of a
 * new set (STORE commands).
 *
 * **Positions.** Readers name an element by its position `pos`: the byte
 * address of its listpack entry or skiplist node (never 0; 0 = none). The
 * score is `scoreAt(pos)`, the member `u8[memberOff(h, pos) .. + memberLen(pos))`.
 * A position is valid until the next write to the same zset (setScore returns
 * the moved one).
 *
 * **Writes** are all or nothing: `insert` (and `add`, `build`, `clone`,
 * `deserialize`) allocate everything first and throw OutOfMemoryError having
 * changed nothing; `remove` and `setScore` never allocate, so a command can
 * undo its own earlier steps after an OutOfMemoryError.
 */

const RU = REF_UNIT_BYTES;
/** A node's member, for the index: its length at ZSL_LEN, its bytes after the node's levels. */
const NODE_KEY_LAYOUT = keyLayout(ZSL_LEN / 4, ZSL_LEVEL_BASE, ZSL_LEVELS / 4, 0, 0x7fffffff, ZSL_LEVEL_BYTES);
const W_COUNT = ZSET_COUNT / 4;
const W_ENC = ZSET_ENCODING / 4;
const W_FIRST = ZSET_FIRST / 4;
const W_LAST = ZSET_LAST / 4;
const W_LEVEL = ZSET_LEVEL / 4;
const W_TABLE = ZSET_TABLE / 4;
const HEAD_BYTES = ZSL_LEVEL_BASE + ZSL_MAX_LEVEL * ZSL_LEVEL_BYTES;

/** One element given to `build`: score and member bytes. */
export interface ZEntry { score: number; u8: Uint8Array; off: number; len: number }

/** Byte order as Redis's sdscmp: memcmp over the common length, then shorter first. */
export function compareBytes(a: Uint8Array, ao: number, al: number, b: Uint8Array, bo: number, bl: number): number {
  const n = al < bl ? al : bl;
  for (let i = 0; i < n; i++) {
    const d = a[ao + i] - b[bo + i];
    if (d !== 0) return d;
  }
  return al - bl;
}

function lpEntryBytes(len: number): number {
  return ZLP_MEMBER + Math.ceil(len / 8) * 8;
}

export class ZSetStore implements StructureStore {
  private readonly u8: Uint8Array;
  /** The arena as a DataView: member compares read four bytes at a time. */
  private readonly bytes: DataView;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly alloc: SlabAllocator;
  /** zset-max-listpack-entries (alias zset-max-ziplist-entries). */
  maxListpackEntries = 128;
  /** zset-max-listpack-value (alias zset-max-ziplist-value). */
  maxListpackValue = 64;
  /** xorshift32 state for node levels (seeded per shard). */
  private rng: number;
  private readonly hashSeed: number;
  /** Scratch of a skiplist search: the last node before the target at each level, and its rank. */
  private readonly update = new Float64Array(ZSL_MAX_LEVEL);
  private readonly rank = new Float64Array(ZSL_MAX_LEVEL);
  /** The view attached to one set's member index at a time. */
  private readonly index: HashIndex;

  constructor(u8: Uint8Array, u32: Uint32Array, f64: Float64Array, alloc: SlabAllocator, seed: number) {
    this.index = HashIndex.view(alloc.arena, alloc);
    this.u8 = u8;
    this.bytes = alloc.arena.view;
    this.u32 = u32;
    this.f64 = f64;
    this.alloc = alloc;
    this.rng = (seed | 0) === 0 ? 0x2545f491 : seed | 0;
    this.hashSeed = (seed * 31 + 7) | 0;
  }

  // -- header ------------------------------------------------------------------

  count(h: number): number { return this.u32[h * 2 + W_COUNT]; }
  /** ENC_ZSET_LISTPACK or ENC_ZSET_SKIPLIST. */
  encoding(h: number): number { return this.u32[h * 2 + W_ENC]; }

  /** The encoding Redis would give a new set of `count` members, the longest `maxLen` bytes. */
  encodingFor(count: number, maxLen: number): number {
    return count <= this.maxListpackEntries && maxLen <= this.maxListpackValue && this.maxListpackEntries > 0
      ? ENC_ZSET_LISTPACK : ENC_ZSET_SKIPLIST;
  }

  // -- element access ----------------------------------------------------------

  scoreAt(pos: number): number { return this.f64[pos / 8 + 1]; }
  memberLen(pos: number): number { return this.u32[pos / 4 + 1]; }
  memberOff(h: number, pos: number): number {
    if (this.u32[h * 2 + W_ENC] === ENC_ZSET_LISTPACK) return pos + ZLP_MEMBER;
    return pos + ZSL_LEVEL_BASE + this.u32[pos / 4 + ZSL_LEVELS / 4] * ZSL_LEVEL_BYTES;
  }
  /** The member at pos as a fresh copy (for replies built later, or moved elsewhere). */
  memberCopy(h: number, pos: number): Uint8Array {
    const o = this.memberOff(h, pos);
    return this.u8.slice(o, o + this.memberLen(pos));
  }

  /** Position of the lowest element, 0 when empty. */
  first(h: number): number {
    if (this.count(h) === 0) return 0;
    if (this.encoding(h) === ENC_ZSET_LISTPACK) return this.u32[h * 2 + W_FIRST] * RU;
    return this.fwd(this.u32[h * 2 + W_FIRST], 0) * RU;
  }

  /** Position of the highest element, 0 when empty. */
  last(h: number): number {
    if (this.count(h) === 0) return 0;
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      const end = this.u32[h * 2 + W_FIRST] * RU + this.u32[h * 2 + W_LAST];
      return this.lpPrev(end, this.lpLastSize(h));
    }
    return this.u32[h * 2 + W_LAST] * RU;
  }

  next(h: number, pos: number): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      const p = pos + lpEntryBytes(this.memberLen(pos));
      return p < this.u32[h * 2 + W_FIRST] * RU + this.u32[h * 2 + W_LAST] ? p : 0;
    }
    return this.fwd(pos / RU, 0) * RU;
  }

  prev(h: number, pos: number): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      const s = this.u32[pos / 4 + ZLP_PREV / 4];
      return s === 0 ? 0 : pos - s;
    }
    return this.u32[pos / 4 + ZSL_BACKWARD / 4] * RU;
  }

  /** Position of the element of 0-based rank r (0 <= r < count). */
  atRank(h: number, r: number): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      const n = this.count(h);
      if (r > n / 2) {
        let p = this.last(h);
        for (let i = n - 1; i > r; i--) p = this.prev(h, p);
        return p;
      }
      let p = this.first(h);
      for (let i = 0; i < r; i++) p = this.next(h, p);
      return p;
    }
    let x = this.u32[h * 2 + W_FIRST];
    let traversed = 0;
    const want = r + 1;
    for (let i = this.u32[h * 2 + W_LEVEL] - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd(x, i);
        if (f === 0) break;
        const s = this.span(x, i);
        if (traversed + s > want) break;
        traversed += s;
        x = f;
      }
      if (traversed === want) return x * RU;
    }
    return 0;
  }

  /** 0-based rank of the element at pos. */
  rankOf(h: number, pos: number): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      let r = 0;
      for (let p = this.first(h); p !== pos; p = this.next(h, p)) r++;
      return r;
    }
    const n = pos / RU;
    const s = this.f64[n + 1];
    const mo = this.memberOff(h, pos);
    const ml = this.memberLen(pos);
    let x = this.u32[h * 2 + W_FIRST];
    let traversed = 0;
    for (let i = this.u32[h * 2 + W_LEVEL] - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd(x, i);
        if (f === 0) break;
        const fs = this.f64[f + 1];
        if (fs > s || (fs === s && this.cmpNode(f, this.u8, mo, ml) > 0)) break;
        traversed += this.span(x, i);
        x = f;
      }
      if (x === n) return traversed - 1;
    }
    return traversed - 1;
  }

  /** How many elements score below x (inclusive = false) or at most x (inclusive = true). */
  scoreRank(h: number, x: number, inclusive: boolean): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      let r = 0;
      for (let p = this.first(h); p !== 0; p = this.next(h, p)) {
        const s = this.f64[p / 8 + 1];
        if (s < x || (inclusive && s === x)) r++;
        else break;
      }
      return r;
    }
    let node = this.u32[h * 2 + W_FIRST];
    let traversed = 0;
    for (let i = this.u32[h * 2 + W_LEVEL] - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd(node, i);
        if (f === 0) break;
        const s = this.f64[f + 1];
        if (!(s < x || (inclusive && s === x))) break;
        traversed += this.span(node, i);
        node = f;
      }
    }
    return traversed;
  }

  /**
   * How many elements have a member below b[o, o+l) (inclusive = false) or at
   * most it (inclusive = true), walking in set order (meaningful when all
   * scores are equal, as ZRANGEBYLEX requires).
   */
  lexRank(h: number, b: Uint8Array, o: number, l: number, inclusive: boolean): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      let r = 0;
      for (let p = this.first(h); p !== 0; p = this.next(h, p)) {
        const c = compareBytes(this.u8, p + ZLP_MEMBER, this.memberLen(p), b, o, l);
        if (c < 0 || (inclusive && c === 0)) r++;
        else break;
      }
      return r;
    }
    let node = this.u32[h * 2 + W_FIRST];
    let traversed = 0;
    for (let i = this.u32[h * 2 + W_LEVEL] - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd(node, i);
        if (f === 0) break;
        const c = this.cmpNode(f, b, o, l);
        if (!(c < 0 || (inclusive && c === 0))) break;
        traversed += this.span(node, i);
        node = f;
      }
    }
    return traversed;
  }

  /** Position of member b[o, o+l), or 0. */
  find(h: number, b: Uint8Array, o: number, l: number): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      for (let p = this.first(h); p !== 0; p = this.next(h, p)) {
        if (this.memberLen(p) === l && equalBytes(this.u8, this.bytes, p + ZLP_MEMBER, b, dataViewOf(b), o, l)) return p;
      }
      return 0;
    }
    return this.tableFind(h, b, o, l, hashBytes(b, o, l, this.hashSeed)) * RU;
  }

  /** Score of a member, or NaN when absent (scores are never NaN). */
  score(h: number, b: Uint8Array, o: number, l: number): number {
    const p = this.find(h, b, o, l);
    return p === 0 ? NaN : this.f64[p / 8 + 1];
  }

  // -- writes ------------------------------------------------------------------

  /** A new empty zset of the given encoding (OutOfMemoryError). An empty zset must not stay in the keyspace. */
  create(enc: number = ENC_ZSET_LISTPACK): number {
    const hdr = this.alloc.tryAlloc(ZSET_HEADER_BYTES);
    if (hdr === 0) throw new OutOfMemoryError('arena exhausted');
    const h = hdr / RU;
    this.u32.fill(0, h * 2, h * 2 + ZSET_HEADER_BYTES / 4);
    if (enc === ENC_ZSET_SKIPLIST) {
      const head = this.alloc.tryAlloc(HEAD_BYTES);
      let table = 0;
      try {
        if (head === 0) throw new OutOfMemoryError('arena exhausted');
        table = HashIndex.create(this.alloc);
      } catch (e) {
        if (head !== 0) this.alloc.free(head);
        this.alloc.free(hdr);
        throw e;
      }
      this.initSkiplist(h, head / RU, table);
    }
    return h;
  }

  /**
   * Adds or updates a member: returns its previous score, or NaN when it was
   * new. All or nothing (only a new member allocates).
   */
  add(h: number, b: Uint8Array, o: number, l: number, score: number): number {
    const p = this.find(h, b, o, l);
    if (p === 0) {
      this.insert(h, b, o, l, score);
      return NaN;
    }
    const old = this.f64[p / 8 + 1];
    if (old !== score) this.setScore(h, p, score);
    return old;
  }

  /** Inserts a member that is not in the set; converts to a skiplist past the limits. All or nothing. */
  insert(h: number, b: Uint8Array, o: number, l: number, score: number): void {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      if (this.count(h) + 1 <= this.maxListpackEntries && l <= this.maxListpackValue) {
        this.lpInsert(h, b, o, l, score);
        return;
      }
      const node = this.newNode(l);
      try {
        this.convertToSkiplist(h, this.count(h) + 1);
      } catch (e) {
        this.alloc.free(node * RU);
        throw e;
      }
      this.slLink(h, node, b, o, l, score, hashBytes(b, o, l, this.hashSeed));
      return;
    }
    const node = this.newNode(l);
    try {
      this.tableReserve(h, this.count(h) + 1);
    } catch (e) {
      this.alloc.free(node * RU);
      throw e;
    }
    this.slLink(h, node, b, o, l, score, hashBytes(b, o, l, this.hashSeed));
  }

  /** Removes the element at pos. Never allocates. */
  remove(h: number, pos: number): void {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      this.lpDelete(h, pos);
      return;
    }
    const n = pos / RU;
    this.slUnlink(h, n);
    this.tableDelete(h, n);
    this.alloc.free(pos);
  }

  /** Gives the element at pos a new score; returns its new position. Never allocates. */
  setScore(h: number, pos: number, score: number): number {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      const len = this.memberLen(pos);
      const member = this.u8.slice(pos + ZLP_MEMBER, pos + ZLP_MEMBER + len);
      this.lpDelete(h, pos);
      return this.lpInsert(h, member, 0, len, score);
    }
    const n = pos / RU;
    const back = this.u32[n * 2 + ZSL_BACKWARD / 4];
    const next = this.fwd(n, 0);
    if ((back === 0 || this.f64[back + 1] < score) && (next === 0 || this.f64[next + 1] > score)) {
      this.f64[n + 1] = score;
      return pos;
    }
    const mo = this.memberOff(h, pos);
    const ml = this.memberLen(pos);
    const hash = this.u32[n * 2 + ZSL_HASH / 4];
    this.slUnlink(h, n);
    this.slLink(h, n, this.u8, mo, ml, score, hash, true);
    return pos;
  }

  /**
   * A new zset holding `entries`, which must be sorted by (score, member) with
   * distinct members, in encoding `enc` (default: what Redis picks for their
   * size). All or nothing.
   */
  build(entries: readonly ZEntry[], enc?: number): number {
    let maxLen = 0;
    for (const e of entries) if (e.len > maxLen) maxLen = e.len;
    const encoding = enc ?? this.encodingFor(entries.length, maxLen);
    const h = this.create(encoding);
    try {
      if (encoding === ENC_ZSET_LISTPACK) {
        let bytes = 0;
        for (const e of entries) bytes += lpEntryBytes(e.len);
        if (bytes > 0) {
          const blk = this.alloc.tryAlloc(bytes);
          if (blk === 0) throw new OutOfMemoryError('arena exhausted');
          this.u32[h * 2 + W_FIRST] = blk / RU;
          let p = blk;
          let prev = 0;
          for (const e of entries) {
            this.lpWrite(p, e.u8, e.off, e.len, e.score, prev);
            prev = lpEntryBytes(e.len);
            p += prev;
          }
          this.u32[h * 2 + W_LAST] = bytes;
          this.u32[h * 2 + W_COUNT] = entries.length;
        }
        return h;
      }
      const nodes = this.newNodes(entries);
      try {
        this.tableReserve(h, entries.length);
      } catch (e) {
        for (const n of nodes) this.alloc.free(n * RU);
        throw e;
      }
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        this.slAppend(h, nodes[i], e.u8, e.off, e.len, e.score, hashBytes(e.u8, e.off, e.len, this.hashSeed));
      }
      return h;
    } catch (e) {
      this.free(h);
      throw e;
    }
  }

  /** The elements in order, as entries over the arena (valid until the next write). */
  entries(h: number): ZEntry[] {
    const out: ZEntry[] = [];
    for (let p = this.first(h); p !== 0; p = this.next(h, p)) {
      out.push({ score: this.f64[p / 8 + 1], u8: this.u8, off: this.memberOff(h, p), len: this.memberLen(p) });
    }
    return out;
  }

  // -- StructureStore ------------------------------------------------------------

  free(h: number): void {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      const blk = this.u32[h * 2 + W_FIRST];
      if (blk !== 0) this.alloc.free(blk * RU);
    } else {
      const head = this.u32[h * 2 + W_FIRST];
      let n = this.fwd(head, 0);
      while (n !== 0) {
        const next = this.fwd(n, 0);
        this.alloc.free(n * RU);
        n = next;
      }
      this.alloc.free(head * RU);
      this.indexOf(h).destroy();
    }
    this.alloc.free(h * RU);
  }

  /**
   * Lazy freeing (StructureStore.freeEffort/freeSome, used once the keyspace
   * frees big values in slices): a listpack is one block, a skiplist one
   * allocation per member.
   */
  freeEffort(h: number): number {
    return this.encoding(h) === ENC_ZSET_LISTPACK ? 1 : this.count(h) + 1;
  }

  /**
   * Frees about `budget` nodes of an unreachable skiplist from its head (the
   * head's level-0 link and the count follow, so the next call goes on from
   * there), then its index, head and header. True when all is freed.
   */
  freeSome(h: number, budget: number): boolean {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      this.free(h);
      return true;
    }
    const head = this.u32[h * 2 + W_FIRST];
    let n = this.fwd(head, 0);
    let freed = 0;
    while (n !== 0 && freed < budget) {
      const next = this.fwd(n, 0);
      this.alloc.free(n * RU);
      n = next;
      freed++;
    }
    this.setFwd(head, 0, n);
    this.u32[h * 2 + W_COUNT] -= freed;
    if (n !== 0) return false;
    this.alloc.free(head * RU);
    this.indexOf(h).destroy();
    this.alloc.free(h * RU);
    return true;
  }

  clone(h: number): number {
    return this.build(this.entries(h), this.encoding(h));
  }

  /** u32 count, u8 encoding, 3 bytes of padding, then per element f64 score, u32 length, bytes; little-endian. */
  serialize(h: number): Uint8Array {
    let size = 8;
    for (let p = this.first(h); p !== 0; p = this.next(h, p)) size += 12 + this.memberLen(p);
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.count(h), true);
    out[4] = this.encoding(h);
    let w = 8;
    for (let p = this.first(h); p !== 0; p = this.next(h, p)) {
      const len = this.memberLen(p);
      dv.setFloat64(w, this.f64[p / 8 + 1], true);
      dv.setUint32(w + 8, len, true);
      const mo = this.memberOff(h, p);
      out.set(this.u8.subarray(mo, mo + len), w + 12);
      w += 12 + len;
    }
    return out;
  }

  validSerialized(b: Uint8Array, o: number, l: number): boolean {
    return this.parseSerialized(b, o, l) !== null;
  }

  deserialize(b: Uint8Array, o: number, l: number): number {
    const parsed = this.parseSerialized(b, o, l);
    if (parsed === null) throw new Error('invalid zset payload');
    return this.build(parsed.entries, parsed.enc);
  }

  footprint(h: number, samples = 0): number {
    let bytes = this.alloc.usableSize(h * RU);
    if (this.encoding(h) === ENC_ZSET_LISTPACK) {
      const blk = this.u32[h * 2 + W_FIRST];
      return blk === 0 ? bytes : bytes + this.alloc.usableSize(blk * RU);
    }
    bytes += this.indexOf(h).footprint;
    let nodes = 0;
    let nodeBytes = 0;
    for (let n = this.u32[h * 2 + W_FIRST]; n !== 0 && (samples === 0 || nodes < samples); n = this.fwd(n, 0)) {
      nodeBytes += this.alloc.usableSize(n * RU);
      nodes++;
    }
    const total = this.count(h);
    // The walk may include a head node besides the members: exact unless sampling cut it short.
    return bytes + (samples === 0 || nodes === 0 || nodes >= total ? nodeBytes : Math.round((nodeBytes / nodes) * total));
  }

  private parseSerialized(b: Uint8Array, o: number, l: number): { entries: ZEntry[]; enc: number } | null {
    if (l < 8) return null;
    const dv = new DataView(b.buffer, b.byteOffset + o, l);
    const count = dv.getUint32(0, true);
    const enc = b[o + 4];
    if (count === 0 || (enc !== ENC_ZSET_LISTPACK && enc !== ENC_ZSET_SKIPLIST)) return null;
    const entries: ZEntry[] = [];
    let r = 8;
    for (let i = 0; i < count; i++) {
      if (r + 12 > l) return null;
      const score = dv.getFloat64(r, true);
      const len = dv.getUint32(r + 8, true);
      if (score !== score || r + 12 + len > l) return null;
      const e: ZEntry = { score, u8: b, off: o + r + 12, len };
      if (i > 0) {
        const p = entries[i - 1];
        if (p.score > score || (p.score === score && compareBytes(p.u8, p.off, p.len, b, e.off, len) >= 0)) return null;
      }
      entries.push(e);
      r += 12 + len;
    }
    if (r !== l) return null;
    // Members are unique when sorted by (score, member) only if no member repeats under two scores.
    if (count > 1) {
      const seen = new Set<string>();
      for (const e of entries) {
        const k = Buffer.from(e.u8.buffer, e.u8.byteOffset + e.off, e.len).toString('latin1');
        if (seen.has(k)) return null;
        seen.add(k);
      }
    }
    return { entries, enc };
  }

  // -- listpack ------------------------------------------------------------------

  private lpLastSize(h: number): number {
    // The last entry's size: walk from the first (a listpack is small).
    const blk = this.u32[h * 2 + W_FIRST] * RU;
    const end = blk + this.u32[h * 2 + W_LAST];
    let p = blk;
    let size = 0;
    while (p < end) {
      size = lpEntryBytes(this.memberLen(p));
      p += size;
    }
    return size;
  }

  private lpPrev(end: number, lastSize: number): number {
    return end - lastSize;
  }

  private lpWrite(p: number, b: Uint8Array, o: number, l: number, score: number, prev: number): void {
    // A listpack keeps its scores as text where -0 reads back as 0 (Redis's listpack does so).
    this.f64[p / 8 + 1] = score === 0 ? 0 : score;
    this.u32[p / 4 + ZLP_LEN / 4] = l;
    this.u32[p / 4 + ZLP_PREV / 4] = prev;
    if (b === this.u8) this.u8.copyWithin(p + ZLP_MEMBER, o, o + l);
    else this.u8.set(b.subarray(o, o + l), p + ZLP_MEMBER);
  }

  /** Inserts in order into the block (growing it first if needed). Returns the new entry's position. */
  private lpInsert(h: number, b: Uint8Array, o: number, l: number, score: number): number {
    const es = lpEntryBytes(l);
    let blk = this.u32[h * 2 + W_FIRST] * RU;
    const used = this.u32[h * 2 + W_LAST];
    if (blk === 0 || used + es > this.alloc.usableSize(blk)) {
      const nb = this.alloc.tryAlloc(used + es + (used >> 2));
      if (nb === 0) throw new OutOfMemoryError('arena exhausted');
      if (blk !== 0) {
        this.u8.copyWithin(nb, blk, blk + used);
        this.alloc.free(blk);
      }
      blk = nb;
      this.u32[h * 2 + W_FIRST] = nb / RU;
    }
    const end = blk + used;
    let p = blk;
    let prevSize = 0;
    while (p < end) {
      const s = this.f64[p / 8 + 1];
      const len = this.memberLen(p);
      if (s > score || (s === score && compareBytes(this.u8, p + ZLP_MEMBER, len, b, o, l) > 0)) break;
      prevSize = lpEntryBytes(len);
      p += prevSize;
    }
    if (p < end) {
      this.u8.copyWithin(p + es, p, end);
      this.u32[(p + es) / 4 + ZLP_PREV / 4] = es;
    }
    this.lpWrite(p, b, o, l, score, prevSize);
    this.u32[h * 2 + W_LAST] = used + es;
    this.u32[h * 2 + W_COUNT]++;
    return p;
  }

  private lpDelete(h: number, p: number): void {
    const es = lpEntryBytes(this.memberLen(p));
    const prev = this.u32[p / 4 + ZLP_PREV / 4];
    const blk = this.u32[h * 2 + W_FIRST] * RU;
    const end = blk + this.u32[h * 2 + W_LAST];
    this.u8.copyWithin(p, p + es, end);
    this.u32[h * 2 + W_LAST] -= es;
    this.u32[h * 2 + W_COUNT]--;
    if (p < end - es) this.u32[p / 4 + ZLP_PREV / 4] = prev;
  }

  /** Converts a listpack set to a skiplist in place (as SORT does in Redis); a no-op on a skiplist. All or nothing. */
  toSkiplist(h: number): void {
    if (this.encoding(h) === ENC_ZSET_LISTPACK) this.convertToSkiplist(h, this.count(h));
  }

  /** Rebuilds the listpack as a skiplist with a table for `capacity` members. All or nothing. */
  private convertToSkiplist(h: number, capacity: number): void {
    const entries = this.entries(h);
    const nodes = this.newNodes(entries);
    const head = this.alloc.tryAlloc(HEAD_BYTES);
    let table = 0;
    try {
      if (head === 0) throw new OutOfMemoryError('arena exhausted');
      table = HashIndex.create(this.alloc, capacity);
      if (!this.index.attach(table, NODE_KEY_LAYOUT).reserve(capacity)) throw new OutOfMemoryError('arena exhausted');
    } catch (e) {
      if (table !== 0) this.index.attach(table, NODE_KEY_LAYOUT).destroy();
      if (head !== 0) this.alloc.free(head);
      for (const n of nodes) this.alloc.free(n * RU);
      throw e;
    }
    const blk = this.u32[h * 2 + W_FIRST];
    // Entries point into the block, which stays until every node is written.
    this.initSkiplist(h, head / RU, table);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      this.slAppend(h, nodes[i], e.u8, e.off, e.len, e.score, hashBytes(e.u8, e.off, e.len, this.hashSeed));
    }
    if (blk !== 0) this.alloc.free(blk * RU);
  }

  // -- skiplist --------------------------------------------------------------------

  private fwd(n: number, i: number): number { return this.u32[n * 2 + ZSL_LEVEL_BASE / 4 + i * 2]; }
  private setFwd(n: number, i: number, v: number): void { this.u32[n * 2 + ZSL_LEVEL_BASE / 4 + i * 2] = v; }
  private span(n: number, i: number): number { return this.u32[n * 2 + ZSL_LEVEL_BASE / 4 + i * 2 + 1]; }
  private setSpan(n: number, i: number, v: number): void { this.u32[n * 2 + ZSL_LEVEL_BASE / 4 + i * 2 + 1] = v; }
  private levels(n: number): number { return this.u32[n * 2 + ZSL_LEVELS / 4]; }

  /** Compares node n's member with b[o, o+l). */
  private cmpNode(n: number, b: Uint8Array, o: number, l: number): number {
    const mo = n * RU + ZSL_LEVEL_BASE + this.levels(n) * ZSL_LEVEL_BYTES;
    return compareBytes(this.u8, mo, this.u32[n * 2 + ZSL_LEN / 4], b, o, l);
  }

  private randomLevel(): number {
    let level = 1;
    for (;;) {
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x;
      if ((x & 3) !== 0 || level >= ZSL_MAX_LEVEL) return level; // p = 1/4, as Redis's ZSKIPLIST_P
      level++;
    }
  }

  /** Allocates a node for a member of l bytes with a random level (OutOfMemoryError). Returns its ref. */
  private newNode(l: number): number {
    const level = this.randomLevel();
    const a = this.alloc.tryAlloc(ZSL_LEVEL_BASE + level * ZSL_LEVEL_BYTES + l);
    if (a === 0) throw new OutOfMemoryError('arena exhausted');
    this.u32[a / 4 + ZSL_LEVELS / 4] = level;
    return a / RU;
  }

  private newNodes(entries: readonly ZEntry[]): number[] {
    const nodes: number[] = [];
    try {
      for (const e of entries) nodes.push(this.newNode(e.len));
    } catch (err) {
      for (const n of nodes) this.alloc.free(n * RU);
      throw err;
    }
    return nodes;
  }

  private initSkiplist(h: number, head: number, table: number): void {
    this.u32.fill(0, head * 2, head * 2 + HEAD_BYTES / 4);
    this.u32[head * 2 + ZSL_LEVELS / 4] = ZSL_MAX_LEVEL;
    this.u32[h * 2 + W_ENC] = ENC_ZSET_SKIPLIST;
    this.u32[h * 2 + W_FIRST] = head;
    this.u32[h * 2 + W_LAST] = 0;
    this.u32[h * 2 + W_LEVEL] = 1;
    this.u32[h * 2 + W_TABLE] = table;
    this.u32[h * 2 + W_COUNT] = 0;
  }

  /** Writes a node's fields and member (its level is set), links it in order and indexes it. */
  private slLink(h: number, n: number, b: Uint8Array, o: number, l: number, score: number, hash: number, relink = false): void {
    const level = this.levels(n);
    this.f64[n + 1] = score;
    if (!relink) {
      this.u32[n * 2 + ZSL_LEN / 4] = l;
      this.u32[n * 2 + ZSL_HASH / 4] = hash;
      const mo = n * RU + ZSL_LEVEL_BASE + level * ZSL_LEVEL_BYTES;
      if (b === this.u8) this.u8.copyWithin(mo, o, o + l);
      else this.u8.set(b.subarray(o, o + l), mo);
    }
    const mo = n * RU + ZSL_LEVEL_BASE + level * ZSL_LEVEL_BYTES;
    const head = this.u32[h * 2 + W_FIRST];
    let top = this.u32[h * 2 + W_LEVEL];
    const update = this.update;
    const rank = this.rank;
    let x = head;
    for (let i = top - 1; i >= 0; i--) {
      rank[i] = i === top - 1 ? 0 : rank[i + 1];
      for (;;) {
        const f = this.fwd(x, i);
        if (f === 0) break;
        const fs = this.f64[f + 1];
        if (fs > score || (fs === score && this.cmpNode(f, this.u8, mo, l) >= 0)) break;
        rank[i] += this.span(x, i);
        x = f;
      }
      update[i] = x;
    }
    const count = this.count(h);
    if (level > top) {
      for (let i = top; i < level; i++) {
        rank[i] = 0;
        update[i] = head;
        this.setSpan(head, i, count);
      }
      top = level;
      this.u32[h * 2 + W_LEVEL] = level;
    }
    for (let i = 0; i < level; i++) {
      const u = update[i];
      this.setFwd(n, i, this.fwd(u, i));
      this.setFwd(u, i, n);
      this.setSpan(n, i, this.span(u, i) - (rank[0] - rank[i]));
      this.setSpan(u, i, rank[0] - rank[i] + 1);
    }
    for (let i = level; i < top; i++) this.setSpan(update[i], i, this.span(update[i], i) + 1);
    this.u32[n * 2 + ZSL_BACKWARD / 4] = update[0] === head ? 0 : update[0];
    const next = this.fwd(n, 0);
    if (next !== 0) this.u32[next * 2 + ZSL_BACKWARD / 4] = n;
    else this.u32[h * 2 + W_LAST] = n;
    this.u32[h * 2 + W_COUNT] = count + 1;
    if (!relink) this.tableAdd(h, n);
  }

  /** slLink for a node that sorts after every element (building from sorted entries). */
  private slAppend(h: number, n: number, b: Uint8Array, o: number, l: number, score: number, hash: number): void {
    // The general path costs O(log n) per element and is exact; building is not hot.
    this.slLink(h, n, b, o, l, score, hash);
  }

  /** Unlinks node n from the levels (not from the table). Never allocates. */
  private slUnlink(h: number, n: number): void {
    const s = this.f64[n + 1];
    const mo = n * RU + ZSL_LEVEL_BASE + this.levels(n) * ZSL_LEVEL_BYTES;
    const ml = this.u32[n * 2 + ZSL_LEN / 4];
    const head = this.u32[h * 2 + W_FIRST];
    let top = this.u32[h * 2 + W_LEVEL];
    const update = this.update;
    let x = head;
    for (let i = top - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd(x, i);
        if (f === 0 || f === n) break;
        const fs = this.f64[f + 1];
        if (fs > s || (fs === s && this.cmpNode(f, this.u8, mo, ml) >= 0)) break;
        x = f;
      }
      update[i] = x;
    }
    for (let i = 0; i < top; i++) {
      const u = update[i];
      if (this.fwd(u, i) === n) {
        this.setSpan(u, i, this.span(u, i) + this.span(n, i) - 1);
        this.setFwd(u, i, this.fwd(n, i));
      } else {
        this.setSpan(u, i, this.span(u, i) - 1);
      }
    }
    const next = this.fwd(n, 0);
    const back = this.u32[n * 2 + ZSL_BACKWARD / 4];
    if (next !== 0) this.u32[next * 2 + ZSL_BACKWARD / 4] = back;
    else this.u32[h * 2 + W_LAST] = back;
    while (top > 1 && this.fwd(head, top - 1) === 0) top--;
    this.u32[h * 2 + W_LEVEL] = top;
    this.u32[h * 2 + W_COUNT]--;
  }

  /**
   * One step of ZSCAN over a skiplist's member index: pushes the positions of
   * the members under `cursor` and returns the next cursor (0 at the end),
   * with the keyspace SCAN's guarantees (HashIndex.scan).
   */
  scanStep(h: number, cursor: number, out: number[]): number {
    const refs: number[] = [];
    const next = this.indexOf(h).scan(cursor, refs);
    for (const n of refs) out.push(n * RU);
    return next;
  }

  // -- member index: the shared HashIndex, attached per operation ------------------

  private indexOf(h: number): HashIndex {
    return this.index.attach(this.u32[h * 2 + W_TABLE], NODE_KEY_LAYOUT);
  }

  private tableFind(h: number, b: Uint8Array, o: number, l: number, hash: number): number {
    const index = this.indexOf(h);
    return index.find(hash, b, o, l) < 0 ? 0 : index.foundRef;
  }

  /** Makes sure the index can take `count` members without failing (OutOfMemoryError otherwise); moves its resize on. */
  private tableReserve(h: number, count: number): void {
    const index = this.indexOf(h);
    index.rehashStep(1);
    if (!index.reserve(Math.max(1, count - index.size))) throw new OutOfMemoryError('arena exhausted');
  }

  private tableAdd(h: number, n: number): void {
    if (this.indexOf(h).insert(this.u32[n * 2 + ZSL_HASH / 4], n) < 0) throw new Error('zset member index: reserved slot missing');
  }

  /** Removes node n from the index; a sparse index starts shrinking (when memory allows). Never fails. */
  private tableDelete(h: number, n: number): void {
    const index = this.indexOf(h);
    const handle = index.find(this.u32[n * 2 + ZSL_HASH / 4], this.u8, keyOffsetIn(NODE_KEY_LAYOUT, this.u32, n),
      keyLengthIn(NODE_KEY_LAYOUT, this.u32, n));
    index.removeAt(handle);
    index.rehashStep(1);
    index.maybeShrink();
  }
}
