import {
  ENC_HASH_HASHTABLE, ENC_HASH_LISTPACK, ENC_HASH_LISTPACKEX, HASH_COUNT, HASH_COUNT_MASK, HASH_FLAG_TABLE,
  HASH_FLAG_TTL, HF_BYTES, HF_BYTES_TTL, HF_EXPIRE, HF_FLEN, HF_HASH, HF_VLEN, HLP_HEADER_BYTES, HLP_USED,
  HT_FREE_CURSOR, HT_HEADER_BYTES, HT_MIN_EXPIRE, HT_INDEX, HT_TTL_FIELDS, REF_UNIT_BYTES,
} from '../../native-layout/layout.ts';
import { HashIndex, keyLayout, sampledRecordBytes } from './hash-index.ts';
import { hashBytes } from '../util/hash.ts';
import { OutOfMemoryError, type SlabAllocator } from './arena.ts';
import type { Piece } from './list.ts';
import type { StructureStore } from './structure.ts';
import { copyBytes, dataViewOf, equalBytes } from '../util/bytes.ts';

// A hash is either a listpack block (one allocation: an 8-byte header, then
// the entries packed back to back) or, past hash-max-listpack-entries /
// -value, a hashtable: a header, a HashIndex owned through its arena header
// (the keyspace's own hash table implementation) and one record per field. Layouts:
// native-layout/layout.ts (HLP_*, HT_*, HF_*) and native-layout/README.md.
//
// Field expiry (Redis 7.4): a listpack whose entries carry an expiry slot is
// the listpackex encoding (HASH_FLAG_TTL); a hashtable record has an expiry
// slot when bit 31 of its field length is set. Hashes without field TTLs
// carry none of that. Expiry 0 means none.
//
// Every write allocates what it needs before it changes anything and throws
// OutOfMemoryError with the hash as it was. A write may move a listpack
// block: it returns the (possibly new) ref, which the caller stores in the
// key's entry. Deletes and purges work in place and never allocate.

const W_USED = HLP_USED / 4;
const W_COUNT = HASH_COUNT / 4;
const W_INDEX = HT_INDEX / 4;
const W_FREE_CURSOR = HT_FREE_CURSOR / 4;
const W_TTLS = HT_TTL_FIELDS / 4;
const D_MIN = HT_MIN_EXPIRE / 8;
const R_HASH = HF_HASH / 4;
const R_FLEN = HF_FLEN / 4;
const R_VLEN = HF_VLEN / 4;
const R_EXP = HF_EXPIRE / 8;
const EXP_BIT = 0x80000000;
/** A field record's field, for the index: length in HF_FLEN, bytes after the header (and after the expiry when EXP_BIT is set). */
const FIELD_KEY_LAYOUT = keyLayout(R_FLEN, HF_BYTES, R_FLEN, 31, 1, HF_BYTES_TTL - HF_BYTES);
/** Groups of an index to move per write while it resizes (the keyspace's cron does this for databases). */
const REHASH_GROUPS_PER_WRITE = 4;
/** A listpack never grows past this (Redis's lpSafeToAdd limit): it becomes a hashtable. */
const LISTPACK_MAX_BYTES = 1 << 30;

function varLen(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** visit(fieldOff, fieldLen, valueOff, valueLen, expireAt) over a hash's fields, bytes in the arena. */
export type FieldVisitor = (fo: number, fl: number, vo: number, vl: number, exp: number) => void;

export class HashStore implements StructureStore {
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly dv: DataView;
  private readonly alloc: SlabAllocator;
  private readonly seed: number;
  /** One view, attached to a hash's index per operation. */
  private readonly index: HashIndex;
  /** hash-max-listpack-entries / hash-max-listpack-value. */
  maxEntries = 512;
  maxValue = 64;

  // What find() found: the field and value bytes, the expiry (0 none), and
  // where the field is (listpack: entry offset and end; table: slot index and record ref).
  fOff = 0;
  fLen = 0;
  vOff = 0;
  vLen = 0;
  exp = 0;
  private pos = 0;
  private end = 0;
  private rec = 0;
  /** Fields the last set() / setMany() added (rather than overwrote). */
  created = 0;
  /** Scratch for rebuilding a listpack. */
  private buf = new Uint8Array(1024);
  private bufDv = new DataView(this.buf.buffer);

  constructor(u8: Uint8Array, u32: Uint32Array, f64: Float64Array, alloc: SlabAllocator, seed: number) {
    this.u8 = u8;
    this.u32 = u32;
    this.f64 = f64;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.alloc = alloc;
    this.seed = seed >>> 0;
    this.index = HashIndex.view(alloc.arena, alloc);
  }

  /** The index of a hashtable, attached. */
  private ix(h: number): HashIndex {
    return this.index.attach(this.u32[h * 2 + W_INDEX], FIELD_KEY_LAYOUT);
  }

  // -- header ----------------------------------------------------------------------

  /** Fields, including expired ones not purged yet. */
  count(h: number): number { return this.u32[h * 2 + W_COUNT] & HASH_COUNT_MASK; }
  isTable(h: number): boolean { return (this.u32[h * 2 + W_COUNT] & HASH_FLAG_TABLE) !== 0; }
  hasTtl(h: number): boolean { return (this.u32[h * 2 + W_COUNT] & HASH_FLAG_TTL) !== 0; }

  encodingOf(h: number): number {
    if (this.isTable(h)) return ENC_HASH_HASHTABLE;
    return this.hasTtl(h) ? ENC_HASH_LISTPACKEX : ENC_HASH_LISTPACK;
  }

  private setCount(h: number, n: number): void {
    const w = h * 2 + W_COUNT;
    this.u32[w] = ((this.u32[w] & ~HASH_COUNT_MASK) | n) >>> 0;
  }

  private setFlag(h: number, flag: number, on: boolean): void {
    const w = h * 2 + W_COUNT;
    this.u32[w] = (on ? this.u32[w] | flag : this.u32[w] & ~flag) >>> 0;
  }

  // -- listpack reading ----------------------------------------------------------

  private lpStart(h: number): number { return h * REF_UNIT_BYTES + HLP_HEADER_BYTES; }
  private lpUsed(h: number): number { return this.u32[h * 2 + W_USED]; }

  /** Reads a varint at p; the byte after it is left in `rp`. */
  private rp = 0;
  private readVar(p: number): number {
    const b = this.u8;
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = b[p++];
      v += (x & 0x7f) * mul;
      if (x < 0x80) break;
      mul *= 128;
    }
    this.rp = p;
    return v;
  }

  private static writeVar(b: Uint8Array, p: number, n: number): number {
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    b[p++] = n;
    return p;
  }

  /** Parses the listpack entry at p into fOff/fLen/vOff/vLen/exp; returns the next entry's offset. */
  private lpEntry(p: number, ttl: boolean): number {
    this.pos = p;
    this.fLen = this.readVar(p);
    this.fOff = this.rp;
    this.vLen = this.readVar(this.fOff + this.fLen);
    this.vOff = this.rp;
    let e = this.vOff + this.vLen;
    if (ttl) {
      this.exp = this.dv.getFloat64(e, true);
      e += 8;
    } else {
      this.exp = 0;
    }
    this.end = e;
    return e;
  }

  private bytesEqual(off: number, len: number, kb: Uint8Array, ko: number, kl: number): boolean {
    return len === kl && equalBytes(this.u8, this.dv, off, kb, dataViewOf(kb), ko, kl);
  }

  // -- table reading -------------------------------------------------------------

  private recHasExp(r: number): boolean { return (this.u32[r * 2 + R_FLEN] & EXP_BIT) !== 0; }
  private recFlen(r: number): number { return this.u32[r * 2 + R_FLEN] & ~EXP_BIT; }
  private recBytes(r: number): number { return r * REF_UNIT_BYTES + (this.recHasExp(r) ? HF_BYTES_TTL : HF_BYTES); }
  private recExp(r: number): number { return this.recHasExp(r) ? this.f64[r + R_EXP] : 0; }

  private loadRecord(r: number): void {
    this.rec = r;
    this.fLen = this.recFlen(r);
    this.fOff = this.recBytes(r);
    this.vLen = this.u32[r * 2 + R_VLEN];
    this.vOff = this.fOff + this.fLen;
    this.exp = this.recExp(r);
  }

  private hashOf(kb: Uint8Array, ko: number, kl: number): number {
    return hashBytes(kb, ko, kl, this.seed) >>> 0;
  }

  /** Finds a field in a hashtable: true with its handle in `pos` and its record loaded. */
  private tableFind(h: number, kb: Uint8Array, ko: number, kl: number): boolean {
    const ix = this.ix(h);
    const handle = ix.find(this.hashOf(kb, ko, kl), kb, ko, kl);
    if (handle < 0) return false;
    this.pos = handle;
    this.loadRecord(ix.foundRef);
    return true;
  }


  // -- lookups -------------------------------------------------------------------

  /** Finds a field (expired or not); on true its bytes and expiry are in fOff/fLen/vOff/vLen/exp. */
  find(h: number, kb: Uint8Array, ko: number, kl: number): boolean {
    if (this.isTable(h)) return this.tableFind(h, kb, ko, kl);
    const ttl = this.hasTtl(h);
    let p = this.lpStart(h);
    const stop = p + this.lpUsed(h);
    while (p < stop) {
      p = this.lpEntry(p, ttl);
      if (this.bytesEqual(this.fOff, this.fLen, kb, ko, kl)) return true;
    }
    return false;
  }

  /** Calls visit for every field, in storage order. */
  forEach(h: number, visit: FieldVisitor): void {
    if (this.isTable(h)) {
      this.ix(h).forEach((r) => {
        this.loadRecord(r);
        visit(this.fOff, this.fLen, this.vOff, this.vLen, this.exp);
      });
      return;
    }
    const ttl = this.hasTtl(h);
    let p = this.lpStart(h);
    const stop = p + this.lpUsed(h);
    while (p < stop) {
      p = this.lpEntry(p, ttl);
      visit(this.fOff, this.fLen, this.vOff, this.vLen, this.exp);
    }
  }

  /** Loads the i-th listpack entry (0 <= i < count) into fOff.. (listpacks only). */
  entryAt(h: number, i: number): void {
    const ttl = this.hasTtl(h);
    let p = this.lpStart(h);
    for (let k = 0; k <= i; k++) p = this.lpEntry(p, ttl);
  }

  /** Loads a uniformly random field into fOff.. (the hash must not be empty). */
  random(h: number, rnd: () => number): void {
    if (!this.isTable(h)) {
      this.entryAt(h, Math.floor(rnd() * this.count(h)));
      return;
    }
    const ix = this.ix(h);
    this.loadRecord(ix.refAt(ix.fairRandomHandle(rnd)));
  }

  /**
   * One step of HSCAN over a hashtable: the index's reverse-binary cursor over
   * home groups (every field present for the whole scan is returned at least
   * once, across resizes), until `count` fields were seen; returns the next
   * cursor (0: done). A listpack is visited whole (cursor 0 back), as Redis does.
   */
  scan(h: number, cursor: number, count: number, visit: FieldVisitor): number {
    if (!this.isTable(h)) {
      this.forEach(h, visit);
      return 0;
    }
    const ix = this.ix(h);
    const refs: number[] = [];
    let v = cursor >>> 0;
    let steps = count * 10;
    do v = ix.scan(v, refs); while (v !== 0 && refs.length < count && --steps > 0);
    for (const r of refs) {
      this.loadRecord(r);
      visit(this.fOff, this.fLen, this.vOff, this.vLen, this.exp);
    }
    return v;
  }

  // -- whole hashes ------------------------------------------------------------------

  private allocOrThrow(size: number): number {
    const a = this.alloc.tryAlloc(size);
    if (a === 0) throw new OutOfMemoryError('arena exhausted');
    return a / REF_UNIT_BYTES;
  }

  private freeRefs(refs: readonly number[]): void {
    for (const r of refs) this.alloc.free(r * REF_UNIT_BYTES);
  }

  /** Frees the hash at once (the keyspace queues a big one for freeSome instead). Never allocates. */
  free(h: number): void {
    if (this.isTable(h)) {
      const ix = this.ix(h);
      ix.forEach((r) => this.alloc.free(r * REF_UNIT_BYTES));
      ix.destroy();
    }
    this.alloc.free(h * REF_UNIT_BYTES);
  }

  /** Lazy freeing (StructureStore): a hashtable's fields (one record each), a listpack's one block. */
  freeEffort(h: number): number {
    return this.isTable(h) ? this.count(h) : 1;
  }

  /**
   * Lazy freeing: walks the index from the group cursor kept in the header
   * (HT_FREE_CURSOR, 0 from creation), 8 groups at a time, freeing the
   * records met: about `budget` units, a record one unit and each 8 groups
   * visited one more (an empty stretch is bounded too). The slots are left as
   * they are: drainGroups reads only slots, never a freed record. Once every
   * group is visited: the index's tables and header, then the hash's header.
   */
  freeSome(h: number, budget: number): boolean {
    if (this.isTable(h)) {
      const ix = this.ix(h);
      let cursor = this.u32[h * 2 + W_FREE_CURSOR];
      let left = budget;
      const freeRecord = (r: number): void => {
        this.alloc.free(r * REF_UNIT_BYTES);
        left--;
      };
      while (left > 0 && cursor >= 0) {
        cursor = ix.drainGroups(cursor, 8, freeRecord);
        left--;
      }
      if (cursor >= 0) {
        this.u32[h * 2 + W_FREE_CURSOR] = cursor;
        return false;
      }
      ix.destroy();
    }
    this.alloc.free(h * REF_UNIT_BYTES);
    return true;
  }

  footprint(h: number, samples = 0): number {
    let b = this.alloc.usableSize(h * REF_UNIT_BYTES);
    if (this.isTable(h)) {
      const ix = this.ix(h);
      b += ix.footprint;
      b += sampledRecordBytes(this.alloc, ix, samples);
    }
    return b;
  }

  clone(h: number): number {
    if (!this.isTable(h)) {
      const size = HLP_HEADER_BYTES + this.lpUsed(h);
      const n = this.allocOrThrow(size);
      this.u8.copyWithin(n * REF_UNIT_BYTES, h * REF_UNIT_BYTES, h * REF_UNIT_BYTES + size);
      return n;
    }
    const nh = this.newTableHeader(this.count(h));
    const taken: number[] = [];
    try {
      this.ix(h).forEach((r) => {
        const size = this.recBytes(r) - r * REF_UNIT_BYTES + this.recFlen(r) + this.u32[r * 2 + R_VLEN];
        const nr = this.allocOrThrow(size);
        taken.push(nr);
        this.u8.copyWithin(nr * REF_UNIT_BYTES, r * REF_UNIT_BYTES, r * REF_UNIT_BYTES + size);
      });
    } catch (e) {
      this.freeRefs(taken);
      this.freeEmptyTable(nh);
      throw e;
    }
    // The new index was sized for every record: no insert can fail.
    const ix = this.ix(nh);
    for (const r of taken) ix.insert(this.u32[r * 2 + R_HASH], r);
    const w = nh * 2;
    this.u32[w + W_COUNT] = this.u32[h * 2 + W_COUNT];
    this.u32[w + W_TTLS] = this.u32[h * 2 + W_TTLS];
    this.f64[nh + D_MIN] = this.f64[h + D_MIN];
    return nh;
  }

  /** A hashtable header with an empty index sized for `expected` fields (count 0): all or nothing. */
  private newTableHeader(expected: number): number {
    const nh = this.allocOrThrow(HT_HEADER_BYTES);
    let index: number;
    try {
      index = HashIndex.create(this.alloc, expected);
    } catch (e) {
      this.alloc.free(nh * REF_UNIT_BYTES);
      throw e;
    }
    this.u32.fill(0, nh * 2, nh * 2 + HT_HEADER_BYTES / 4);
    this.u32[nh * 2 + W_INDEX] = index;
    this.u32[nh * 2 + W_COUNT] = HASH_FLAG_TABLE;
    return nh;
  }

  /** Frees a hashtable header and its index (no records). */
  private freeEmptyTable(nh: number): void {
    this.ix(nh).destroy();
    this.alloc.free(nh * REF_UNIT_BYTES);
  }

  /** Serialized form: u32 count, u32 flags (1: expiries follow the values), then per field u32 flen, bytes, u32 vlen, bytes [, f64 expiry]. */
  serialize(h: number): Uint8Array {
    const ttl = this.hasTtl(h);
    let size = 8;
    this.forEach(h, (_fo, fl, _vo, vl) => {
      size += 8 + fl + vl + (ttl ? 8 : 0);
    });
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.count(h), true);
    dv.setUint32(4, ttl ? 1 : 0, true);
    let p = 8;
    this.forEach(h, (fo, fl, vo, vl, exp) => {
      dv.setUint32(p, fl, true);
      out.set(this.u8.subarray(fo, fo + fl), p + 4);
      p += 4 + fl;
      dv.setUint32(p, vl, true);
      out.set(this.u8.subarray(vo, vo + vl), p + 4);
      p += 4 + vl;
      if (ttl) {
        dv.setFloat64(p, exp, true);
        p += 8;
      }
    });
    return out;
  }

  /** Field/value pieces and expiries of a serialized hash, or null when malformed or empty. */
  static parseSerialized(b: Uint8Array, o: number, l: number): { pieces: Piece[]; expires: number[] | null } | null {
    if (l < 8) return null;
    const dv = new DataView(b.buffer, b.byteOffset + o, l);
    const count = dv.getUint32(0, true);
    const flags = dv.getUint32(4, true);
    if (count === 0 || count > HASH_COUNT_MASK || flags > 1) return null;
    const pieces: Piece[] = [];
    const expires = flags === 1 ? [] as number[] : null;
    let p = 8;
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < 2; k++) {
        if (p + 4 > l) return null;
        const len = dv.getUint32(p, true);
        if (p + 4 + len > l) return null;
        pieces.push({ u8: b, off: o + p + 4, len });
        p += 4 + len;
      }
      if (expires !== null) {
        if (p + 8 > l) return null;
        const e = dv.getFloat64(p, true);
        if (!(e >= 0)) return null;
        expires.push(e);
        p += 8;
      }
    }
    return p === l ? { pieces, expires } : null;
  }

  validSerialized(b: Uint8Array, o: number, l: number): boolean {
    return HashStore.parseSerialized(b, o, l) !== null;
  }

  deserialize(b: Uint8Array, o: number, l: number): number {
    const parsed = HashStore.parseSerialized(b, o, l);
    if (parsed === null) throw new Error('malformed hash payload');
    let h = this.createFrom(parsed.pieces);
    if (parsed.expires !== null) {
      try {
        h = this.ensureTtlSlots(h, null, 0, 0);
      } catch (e) {
        this.free(h);
        throw e;
      }
      const pcs = parsed.pieces;
      for (let i = 0; i < parsed.expires.length; i++) {
        const e = parsed.expires[i];
        if (e === 0) continue;
        const f = pcs[2 * i];
        if (this.find(h, f.u8, f.off, f.len)) this.writeExpire(h, e);
      }
    }
    return h;
  }

  /**
   * A new hash holding the pairs (field, value alternating; a later duplicate
   * field wins): all or nothing. At least one pair.
   */
  createFrom(pairs: readonly Piece[]): number {
    // Room for every pair when they make a listpack, so that they are written in place.
    let room = 0;
    for (const pc of pairs) room += pc.len > this.maxValue ? LISTPACK_MAX_BYTES : varLen(pc.len) + pc.len;
    const h = this.allocOrThrow(HLP_HEADER_BYTES + (room < 4096 && pairs.length <= 2 * this.maxEntries ? room : 0));
    this.u32[h * 2 + W_USED] = 0;
    this.u32[h * 2 + W_COUNT] = 0;
    try {
      return this.setMany(h, pairs, 0);
    } catch (e) {
      this.alloc.free(h * REF_UNIT_BYTES);
      throw e;
    }
  }

  // -- writes ------------------------------------------------------------------------

  /** Sets field = value (a new value drops the field's expiry). Returns the hash's ref; `created` says whether the field is new. */
  set(h: number, f: Piece, v: Piece): number {
    return this.setMany(h, [f, v], 0);
  }

  /**
   * Sets the pairs from index `first` (field, value, field, value ...), as
   * HSET does one by one: all or nothing. Converts to a hashtable when a
   * length exceeds hash-max-listpack-value or the count exceeds
   * hash-max-listpack-entries. Returns the (possibly new) ref; `created` counts new fields.
   */
  setMany(h: number, pairs: readonly Piece[], first: number): number {
    if (!this.isTable(h)) {
      let convert = false;
      let sum = 0;
      for (let i = first; i < pairs.length; i++) {
        if (pairs[i].len > this.maxValue) convert = true;
        sum += pairs[i].len;
      }
      if (HLP_HEADER_BYTES + this.lpUsed(h) + sum + 16 * (pairs.length - first) > LISTPACK_MAX_BYTES) convert = true;
      if (!convert) {
        const n = pairs.length - first === 2 ? this.lpSetOne(h, pairs[first], pairs[first + 1]) : this.lpRebuild(h, pairs, first);
        if (n >= 0) return n;
      }
      // The listpack stays until the table holds the pairs too, so a failure leaves it as it was.
      const nh = this.toTable(h, (pairs.length - first) >> 1);
      try {
        this.tableSetMany(nh, pairs, first);
      } catch (e) {
        this.free(nh);
        throw e;
      }
      this.alloc.free(h * REF_UNIT_BYTES);
      return nh;
    }
    this.tableSetMany(h, pairs, first);
    return h;
  }

  /**
   * One pair into a listpack, in place when the block has room (the common
   * HSET): returns the ref, or -1 (nothing changed) when it would pass
   * hash-max-listpack-entries.
   */
  private lpSetOne(h: number, f: Piece, v: Piece): number {
    const ttl = this.hasTtl(h);
    const extra = ttl ? 8 : 0;
    const start = this.lpStart(h);
    const used = this.lpUsed(h);
    const stop = start + used;
    // Replaced: the value part [from, to) of the entry; appended: nothing, at the end.
    let from = stop;
    let to = stop;
    let head = 0;
    const found = this.find(h, f.u8, f.off, f.len);
    if (found) {
      from = this.fOff + this.fLen;
      to = this.end;
    } else {
      if (this.count(h) + 1 > this.maxEntries) return -1;
      head = varLen(f.len) + f.len;
    }
    const tail = varLen(v.len) + v.len + extra;
    const newUsed = used + head + tail - (to - from);
    let n = h;
    let at = from;
    if (HLP_HEADER_BYTES + newUsed <= this.alloc.usableSize(h * REF_UNIT_BYTES)) {
      if (to !== stop && head + tail !== to - from) this.u8.copyWithin(from + head + tail, to, stop);
    } else {
      n = this.allocOrThrow(HLP_HEADER_BYTES + newUsed);
      const ns = this.lpStart(n);
      this.u32[n * 2 + W_COUNT] = this.u32[h * 2 + W_COUNT];
      this.u8.copyWithin(ns, start, from);
      this.u8.copyWithin(ns + (from - start) + head + tail, to, stop);
      this.alloc.free(h * REF_UNIT_BYTES);
      at = ns + (from - start);
    }
    let p = at;
    if (!found) {
      p = HashStore.writeVar(this.u8, p, f.len);
      copyBytes(f.u8, f.off, this.u8, p, f.len);
      p += f.len;
    }
    p = HashStore.writeVar(this.u8, p, v.len);
    copyBytes(v.u8, v.off, this.u8, p, v.len);
    p += v.len;
    if (ttl) this.dv.setFloat64(p, 0, true);
    this.u32[n * 2 + W_USED] = newUsed;
    if (!found) this.setCount(n, this.count(n) + 1);
    this.created = found ? 0 : 1;
    return n;
  }

  /**
   * Rebuilds a listpack with the pairs applied, into the scratch and then
   * into the block (or a new one when it does not fit). Returns the ref, or
   * -1 (nothing changed) when the result would have too many entries.
   */
  private lpRebuild(h: number, pairs: readonly Piece[], first: number): number {
    const ttl = this.hasTtl(h);
    const np = (pairs.length - first) >> 1;
    // A field named twice keeps the place of its first pair and the value of its last
    // (as HSET applied pair by pair): later pairs are shadowed, valueOf[first] names the last.
    const shadowed = new Uint8Array(np);
    const applied = new Uint8Array(np);
    const valueOf = new Int32Array(np);
    for (let k = 0; k < np; k++) valueOf[k] = first + 2 * k + 1;
    if (np > 1) {
      const firstOf = new Map<string, number>();
      for (let k = 0; k < np; k++) {
        const f = pairs[first + 2 * k];
        const s = Buffer.from(f.u8.buffer, f.u8.byteOffset + f.off, f.len).toString('latin1');
        const j = firstOf.get(s);
        if (j === undefined) firstOf.set(s, k);
        else {
          shadowed[k] = 1;
          valueOf[j] = first + 2 * k + 1;
        }
      }
    }
    // Size: old entries (with replaced values) plus the new fields.
    let size = 0;
    let count = this.count(h);
    let p = this.lpStart(h);
    const stop = p + this.lpUsed(h);
    const extra = ttl ? 8 : 0;
    this.ensureBuf(this.lpUsed(h));
    const entries: number[] = [];
    while (p < stop) {
      const start = p;
      p = this.lpEntry(p, ttl);
      let which = -1;
      for (let k = 0; k < np; k++) {
        if (shadowed[k] !== 0) continue;
        const f = pairs[first + 2 * k];
        if (this.bytesEqual(this.fOff, this.fLen, f.u8, f.off, f.len)) {
          which = k;
          break;
        }
      }
      entries.push(start, which);
      if (which < 0) size += p - start;
      else {
        applied[which] = 1;
        const v = pairs[valueOf[which]];
        size += varLen(this.fLen) + this.fLen + varLen(v.len) + v.len + extra;
      }
    }
    let created = 0;
    for (let k = 0; k < np; k++) {
      if (shadowed[k] !== 0 || applied[k] !== 0) continue;
      const f = pairs[first + 2 * k];
      const v = pairs[valueOf[k]];
      size += varLen(f.len) + f.len + varLen(v.len) + v.len + extra;
      created++;
    }
    count += created;
    if (count > this.maxEntries) return -1;
    // Build into the scratch.
    this.ensureBuf(size);
    const out = this.buf;
    let w = 0;
    for (let e = 0; e < entries.length; e += 2) {
      const start = entries[e];
      const which = entries[e + 1];
      const next = this.lpEntry(start, ttl);
      if (which < 0) {
        out.set(this.u8.subarray(start, next), w);
        w += next - start;
        continue;
      }
      const v = pairs[valueOf[which]];
      w = HashStore.writeVar(out, w, this.fLen);
      out.set(this.u8.subarray(this.fOff, this.fOff + this.fLen), w);
      w += this.fLen;
      w = this.writePiece(out, w, v);
      if (ttl) {
        this.bufDv.setFloat64(w, 0, true);
        w += 8;
      }
    }
    for (let k = 0; k < np; k++) {
      if (shadowed[k] !== 0 || applied[k] !== 0) continue;
      w = this.writePiece(out, w, pairs[first + 2 * k]);
      w = this.writePiece(out, w, pairs[valueOf[k]]);
      if (ttl) {
        this.bufDv.setFloat64(w, 0, true);
        w += 8;
      }
    }
    let n = h;
    if (HLP_HEADER_BYTES + size > this.alloc.usableSize(h * REF_UNIT_BYTES)) {
      n = this.allocOrThrow(HLP_HEADER_BYTES + size);
      this.u32[n * 2 + W_COUNT] = this.u32[h * 2 + W_COUNT];
      this.alloc.free(h * REF_UNIT_BYTES);
    }
    this.u8.set(out.subarray(0, size), this.lpStart(n));
    this.u32[n * 2 + W_USED] = size;
    this.setCount(n, count);
    this.created = created;
    return n;
  }

  private writePiece(out: Uint8Array, w: number, pc: Piece): number {
    w = HashStore.writeVar(out, w, pc.len);
    out.set(pc.u8.subarray(pc.off, pc.off + pc.len), w);
    return w + pc.len;
  }

  private ensureBuf(n: number): void {
    if (this.buf.length >= n) return;
    let size = this.buf.length;
    while (size < n) size *= 2;
    this.buf = new Uint8Array(size);
    this.bufDv = new DataView(this.buf.buffer);
  }


  /** Size of a table record. */
  private static recordSize(fl: number, vl: number, ttl: boolean): number {
    return (ttl ? HF_BYTES_TTL : HF_BYTES) + fl + vl;
  }

  private writeRecord(r: number, hash: number, fb: Uint8Array, fo: number, fl: number, vb: Uint8Array, vo: number, vl: number,
    exp: number, ttlSlot: boolean): void {
    this.u32[r * 2 + R_HASH] = hash;
    this.u32[r * 2 + R_FLEN] = (fl | (ttlSlot ? EXP_BIT : 0)) >>> 0;
    this.u32[r * 2 + R_VLEN] = vl;
    let p = r * REF_UNIT_BYTES + HF_BYTES;
    if (ttlSlot) {
      this.u32[r * 2 + 3] = 0;
      this.f64[r + R_EXP] = exp;
      p = r * REF_UNIT_BYTES + HF_BYTES_TTL;
    }
    copyBytes(fb, fo, this.u8, p, fl);
    copyBytes(vb, vo, this.u8, p + fl, vl);
  }

  /**
   * A hashtable copy of a listpack, with room for `more` fields: all or
   * nothing. The listpack is left for the caller to free. Returns the header's ref.
   */
  private toTable(h: number, more: number): number {
    const count = this.count(h);
    const nh = this.newTableHeader(count + more);
    const taken: number[] = [];
    try {
      this.forEach(h, (_fo, fl, _vo, vl, exp) => {
        taken.push(this.allocOrThrow(HashStore.recordSize(fl, vl, exp !== 0)));
      });
    } catch (e) {
      this.freeRefs(taken);
      this.freeEmptyTable(nh);
      throw e;
    }
    let k = 0;
    let ttls = 0;
    let min = 0;
    this.forEach(h, (fo, fl, vo, vl, exp) => {
      const r = taken[k++];
      const hash = this.hashOf(this.u8, fo, fl);
      this.writeRecord(r, hash, this.u8, fo, fl, this.u8, vo, vl, exp, exp !== 0);
      if (exp !== 0) {
        ttls++;
        if (min === 0 || exp < min) min = exp;
      }
    });
    // The index was sized for every record: no insert can fail.
    const ix = this.ix(nh);
    for (const r of taken) ix.insert(this.u32[r * 2 + R_HASH], r);
    this.u32[nh * 2 + W_COUNT] = (HASH_FLAG_TABLE | count) >>> 0;
    if (ttls > 0) {
      this.setFlag(nh, HASH_FLAG_TTL, true);
      this.u32[nh * 2 + W_TTLS] = ttls;
      this.f64[nh + D_MIN] = min;
    }
    return nh;
  }




  private tableSetMany(h: number, pairs: readonly Piece[], first: number): void {
    const np = (pairs.length - first) >> 1;
    let ix = this.ix(h);
    if (ix.isRehashing) ix.rehashStep(REHASH_GROUPS_PER_WRITE);
    if (np === 1) {
      this.tableSetOne(h, ix, pairs[first], pairs[first + 1]);
      return;
    }
    // The pair that wins for each field (its last), in order.
    const winners: number[] = [];
    const shadow = np > 1 ? new Set<string>() : null;
    for (let k = np - 1; k >= 0; k--) {
      if (shadow !== null) {
        const f = pairs[first + 2 * k];
        const s = Buffer.from(f.u8.buffer, f.u8.byteOffset + f.off, f.len).toString('latin1');
        if (shadow.has(s)) continue;
        shadow.add(s);
      }
      winners.push(k);
    }
    winners.reverse();
    // Which need a new record: new fields, and values of another length.
    const needs = new Uint8Array(np);
    let newFields = 0;
    for (const k of winners) {
      const f = pairs[first + 2 * k];
      const v = pairs[first + 2 * k + 1];
      const handle = ix.find(this.hashOf(f.u8, f.off, f.len), f.u8, f.off, f.len);
      if (handle >= 0 && this.u32[ix.foundRef * 2 + R_VLEN] === v.len) continue;
      needs[k] = 1;
      if (handle < 0) newFields++;
    }
    const taken: number[] = [];
    try {
      for (const k of winners) {
        if (needs[k] === 0) continue;
        taken.push(this.allocOrThrow(HashStore.recordSize(pairs[first + 2 * k].len, pairs[first + 2 * k + 1].len, false)));
      }
      if (!this.ix(h).reserve(newFields)) throw new OutOfMemoryError('hash index full');
    } catch (e) {
      this.freeRefs(taken);
      throw e;
    }
    // Nothing can fail from here.
    ix = this.ix(h);
    let t = 0;
    for (const k of winners) {
      const f = pairs[first + 2 * k];
      const v = pairs[first + 2 * k + 1];
      const hash = this.hashOf(f.u8, f.off, f.len);
      const handle = ix.find(hash, f.u8, f.off, f.len);
      if (needs[k] === 0) {
        const r = ix.foundRef;
        this.loadRecord(r);
        copyBytes(v.u8, v.off, this.u8, this.vOff, v.len);
        if (this.exp !== 0) this.clearRecordExpire(h, r);
        continue;
      }
      const nr = taken[t++];
      this.writeRecord(nr, hash, f.u8, f.off, f.len, v.u8, v.off, v.len, 0, false);
      if (handle >= 0) {
        const old = ix.foundRef;
        if (this.recExp(old) !== 0) this.dropTtlCount(h);
        ix.setRefAt(handle, nr);
        this.alloc.free(old * REF_UNIT_BYTES);
      } else {
        ix.insert(hash, nr);
        this.setCount(h, this.count(h) + 1);
      }
    }
    this.created = newFields;
  }

  /**
   * One pair into a hashtable (the common HSET): the field is hashed and
   * looked up once, with none of the batch's arrays. All or nothing.
   */
  private tableSetOne(h: number, ix: HashIndex, f: Piece, v: Piece): void {
    const hash = this.hashOf(f.u8, f.off, f.len);
    const handle = ix.find(hash, f.u8, f.off, f.len);
    if (handle >= 0) {
      const old = ix.foundRef;
      this.created = 0;
      if (this.u32[old * 2 + R_VLEN] === v.len) {
        this.loadRecord(old);
        copyBytes(v.u8, v.off, this.u8, this.vOff, v.len);
        if (this.exp !== 0) this.clearRecordExpire(h, old);
        return;
      }
      // A value of another length: a new record in the same slot (no index room needed).
      const nr = this.allocOrThrow(HashStore.recordSize(f.len, v.len, false));
      this.writeRecord(nr, hash, f.u8, f.off, f.len, v.u8, v.off, v.len, 0, false);
      if (this.recExp(old) !== 0) this.dropTtlCount(h);
      ix.setRefAt(handle, nr);
      this.alloc.free(old * REF_UNIT_BYTES);
      return;
    }
    const nr = this.allocOrThrow(HashStore.recordSize(f.len, v.len, false));
    if (!ix.reserve(1)) {
      this.alloc.free(nr * REF_UNIT_BYTES);
      throw new OutOfMemoryError('hash index full');
    }
    this.writeRecord(nr, hash, f.u8, f.off, f.len, v.u8, v.off, v.len, 0, false);
    ix.insert(hash, nr);
    this.setCount(h, this.count(h) + 1);
    this.created = 1;
  }

  private clearRecordExpire(h: number, r: number): void {
    this.f64[r + R_EXP] = 0;
    this.dropTtlCount(h);
  }

  private dropTtlCount(h: number): void {
    const n = --this.u32[h * 2 + W_TTLS];
    if (n === 0) {
      this.setFlag(h, HASH_FLAG_TTL, false);
      this.f64[h + D_MIN] = 0;
    }
  }

  /** Deletes a field; returns true when it was there. Never allocates. */
  delete(h: number, kb: Uint8Array, ko: number, kl: number): boolean {
    if (!this.find(h, kb, ko, kl)) return false;
    this.deleteFound(h);
    return true;
  }

  /** Deletes the field find() just found. */
  private deleteFound(h: number): void {
    if (!this.isTable(h)) {
      const stop = this.lpStart(h) + this.lpUsed(h);
      this.u8.copyWithin(this.pos, this.end, stop);
      this.u32[h * 2 + W_USED] -= this.end - this.pos;
      this.setCount(h, this.count(h) - 1);
      return;
    }
    const r = this.rec;
    if (this.recExp(r) !== 0) this.dropTtlCount(h);
    const ix = this.ix(h);
    ix.removeAt(this.pos);
    this.alloc.free(r * REF_UNIT_BYTES);
    this.setCount(h, this.count(h) - 1);
    if (ix.isRehashing) ix.rehashStep(REHASH_GROUPS_PER_WRITE);
    else ix.maybeShrink();
  }


  // -- field expiry ----------------------------------------------------------------------

  /**
   * Makes room for an expiry on each named field (pieces[first..] that
   * exist; all fields when pieces is null): a listpack becomes listpackex,
   * table records get an expiry slot. All or nothing; changes nothing
   * observable. Returns the (possibly new) ref.
   */
  ensureTtlSlots(h: number, pieces: readonly Piece[] | null, first: number, end: number): number {
    if (!this.isTable(h)) {
      if (this.hasTtl(h)) return h;
      const used = this.lpUsed(h);
      const size = used + 8 * this.count(h);
      this.ensureBuf(size);
      let w = 0;
      let p = this.lpStart(h);
      const stop = p + used;
      while (p < stop) {
        const start = p;
        p = this.lpEntry(p, false);
        this.buf.set(this.u8.subarray(start, p), w);
        w += p - start;
        this.bufDv.setFloat64(w, 0, true);
        w += 8;
      }
      let n = h;
      if (HLP_HEADER_BYTES + size > this.alloc.usableSize(h * REF_UNIT_BYTES)) {
        n = this.allocOrThrow(HLP_HEADER_BYTES + size);
        this.u32[n * 2 + W_COUNT] = this.u32[h * 2 + W_COUNT];
        this.alloc.free(h * REF_UNIT_BYTES);
      }
      this.u8.set(this.buf.subarray(0, size), this.lpStart(n));
      this.u32[n * 2 + W_USED] = size;
      this.setFlag(n, HASH_FLAG_TTL, true);
      return n;
    }
    // Table: new records (with the slot) for the fields lacking one.
    const ix = this.ix(h);
    const olds: number[] = [];
    if (pieces === null) {
      ix.forEach((r) => { if (!this.recHasExp(r)) olds.push(r); });
    } else {
      for (let k = first; k < end; k++) {
        const f = pieces[k];
        if (ix.find(this.hashOf(f.u8, f.off, f.len), f.u8, f.off, f.len) < 0) continue;
        const r = ix.foundRef;
        if (!this.recHasExp(r) && !olds.includes(r)) olds.push(r);
      }
    }
    const taken: number[] = [];
    try {
      for (const r of olds) taken.push(this.allocOrThrow(HashStore.recordSize(this.recFlen(r), this.u32[r * 2 + R_VLEN], true)));
    } catch (e) {
      this.freeRefs(taken);
      throw e;
    }
    for (let j = 0; j < olds.length; j++) {
      const r = olds[j];
      this.loadRecord(r);
      const hash = this.u32[r * 2 + R_HASH];
      this.writeRecord(taken[j], hash, this.u8, this.fOff, this.fLen, this.u8, this.vOff, this.vLen, 0, true);
      const handle = ix.find(hash, this.u8, this.fOff, this.fLen);
      ix.setRefAt(handle, taken[j]);
      this.alloc.free(r * REF_UNIT_BYTES);
    }
    return h;
  }

  /** Sets the expiry (unix ms, 0 = none) of the field find() just found, which has an expiry slot. */
  writeExpire(h: number, exp: number): void {
    const had = this.exp !== 0;
    if (!this.isTable(h)) {
      this.dv.setFloat64(this.end - 8, exp, true);
      this.exp = exp;
      return;
    }
    this.f64[this.rec + R_EXP] = exp;
    this.exp = exp;
    if (exp !== 0) {
      if (!had) this.u32[h * 2 + W_TTLS]++;
      this.setFlag(h, HASH_FLAG_TTL, true);
      const min = this.f64[h + D_MIN];
      if (min === 0 || exp < min) this.f64[h + D_MIN] = exp;
    } else if (had) {
      this.dropTtlCount(h);
    }
  }

  /** Deletes the field find() just found (HEXPIRE with a time in the past). */
  deleteCurrent(h: number): void {
    this.deleteFound(h);
  }

  /** The earliest time a field could expire (0: none has an expiry). Exact for listpacks, a lower bound for tables. */
  nextExpire(h: number): number {
    if (!this.hasTtl(h)) return 0;
    if (this.isTable(h)) return this.f64[h + D_MIN];
    let min = 0;
    let p = this.lpStart(h);
    const stop = p + this.lpUsed(h);
    while (p < stop) {
      p = this.lpEntry(p, true);
      if (this.exp !== 0 && (min === 0 || this.exp < min)) min = this.exp;
    }
    return min;
  }

  /**
   * Deletes the fields whose expiry is at or before now; returns how many.
   * In place, never allocates. At most `limit` fields go (the rest wait for the next call).
   */
  purgeExpired(h: number, now: number, limit = Infinity): number {
    if (!this.hasTtl(h)) return 0;
    let removed = 0;
    if (!this.isTable(h)) {
      let p = this.lpStart(h);
      let w = p;
      const stop = p + this.lpUsed(h);
      while (p < stop) {
        const start = p;
        p = this.lpEntry(p, true);
        if (this.exp !== 0 && this.exp <= now && removed < limit) {
          removed++;
          continue;
        }
        if (w !== start) this.u8.copyWithin(w, start, p);
        w += p - start;
      }
      this.u32[h * 2 + W_USED] = w - this.lpStart(h);
      this.setCount(h, this.count(h) - removed);
      return removed;
    }
    const min = this.f64[h + D_MIN];
    if (min === 0 || min > now) return 0;
    const ix = this.ix(h);
    const due: number[] = [];
    let newMin = 0;
    let stopped = false;
    ix.forEach((r, handle) => {
      const e = this.recExp(r);
      if (e === 0) return;
      if (e <= now && due.length < limit) {
        due.push(handle, r);
        return;
      }
      if (e <= now) stopped = true;
      if (newMin === 0 || e < newMin) newMin = e;
    });
    for (let k = 0; k < due.length; k += 2) {
      ix.removeAt(due[k]);
      this.alloc.free(due[k + 1] * REF_UNIT_BYTES);
    }
    removed = due.length / 2;
    this.u32[h * 2 + W_TTLS] -= removed;
    this.setCount(h, this.count(h) - removed);
    if (this.u32[h * 2 + W_TTLS] === 0) {
      this.setFlag(h, HASH_FLAG_TTL, false);
      this.f64[h + D_MIN] = 0;
    } else {
      this.f64[h + D_MIN] = stopped ? Math.min(newMin, now) : newMin;
    }
    if (removed > 0 && this.count(h) > 0 && !ix.isRehashing) ix.maybeShrink();
    return removed;
  }
}
