import {
  ENC_HASH_HASHTABLE, ENC_HASH_LISTPACK, ENC_HASH_LISTPACKEX, HASH_COUNT, HASH_COUNT_MASK, HASH_FLAG_TABLE,
  HASH_FLAG_TTL, HF_BYTES, HF_BYTES_TTL, HF_EXPIRE, HF_FLEN, HF_HASH, HF_VLEN, HLP_HEADER_BYTES, HLP_USED,
  HT_CAPACITY, HT_HEADER_BYTES, HT_MIN_EXPIRE, HT_TABLE, HT_TOMBS, HT_TTL_FIELDS, REF_UNIT_BYTES,
} from '../../native-layout/layout.ts';
import { hashBytes } from '../util/hash.ts';
import { OutOfMemoryError, type SlabAllocator } from './arena.ts';
import type { Piece } from './list.ts';
import type { StructureStore } from './structure.ts';

// A hash is either a listpack block (one allocation: an 8-byte header, then
// the entries packed back to back) or, past hash-max-listpack-entries /
// -value, a hashtable: a header, an open-addressing array of u32 record refs
// (linear probing, 0 empty, 1 deleted) and one record per field. Layouts:
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
const W_TABLE = HT_TABLE / 4;
const W_CAP = HT_CAPACITY / 4;
const W_TOMBS = HT_TOMBS / 4;
const W_TTLS = HT_TTL_FIELDS / 4;
const D_MIN = HT_MIN_EXPIRE / 8;
const R_HASH = HF_HASH / 4;
const R_FLEN = HF_FLEN / 4;
const R_VLEN = HF_VLEN / 4;
const R_EXP = HF_EXPIRE / 8;
const EXP_BIT = 0x80000000;
const EMPTY = 0;
const DELETED = 1;
const MIN_SLOTS = 8;
/** A listpack never grows past this (Redis's lpSafeToAdd limit): it becomes a hashtable. */
const LISTPACK_MAX_BYTES = 1 << 30;

function varLen(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function rev32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
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
    if (len !== kl) return false;
    const a = this.u8;
    for (let i = 0; i < kl; i++) if (a[off + i] !== kb[ko + i]) return false;
    return true;
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

  private slotsWord(h: number): number { return this.u32[h * 2 + W_TABLE] * 2; }
  private capacity(h: number): number { return this.u32[h * 2 + W_CAP]; }

  private hashOf(kb: Uint8Array, ko: number, kl: number): number {
    return hashBytes(kb, ko, kl, this.seed) >>> 0;
  }

  /**
   * Probes the table for a field: returns its slot index, or -1 with the
   * slot an insert should take in `pos`.
   */
  private probe(h: number, hash: number, kb: Uint8Array, ko: number, kl: number): number {
    const base = this.slotsWord(h);
    const mask = this.capacity(h) - 1;
    let i = hash & mask;
    let free = -1;
    for (let n = 0; n <= mask; n++, i = (i + 1) & mask) {
      const r = this.u32[base + i];
      if (r === EMPTY) {
        this.pos = free >= 0 ? free : i;
        return -1;
      }
      if (r === DELETED) {
        if (free < 0) free = i;
        continue;
      }
      if (this.u32[r * 2 + R_HASH] === hash && this.recFlen(r) === kl &&
        this.bytesEqual(this.recBytes(r), kl, kb, ko, kl)) return i;
    }
    this.pos = free;
    return -1;
  }

  // -- lookups -------------------------------------------------------------------

  /** Finds a field (expired or not); on true its bytes and expiry are in fOff/fLen/vOff/vLen/exp. */
  find(h: number, kb: Uint8Array, ko: number, kl: number): boolean {
    if (this.isTable(h)) {
      const i = this.probe(h, this.hashOf(kb, ko, kl), kb, ko, kl);
      if (i < 0) return false;
      this.pos = i;
      this.loadRecord(this.u32[this.slotsWord(h) + i]);
      return true;
    }
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
      const base = this.slotsWord(h);
      const cap = this.capacity(h);
      for (let i = 0; i < cap; i++) {
        const r = this.u32[base + i];
        if (r <= DELETED) continue;
        this.loadRecord(r);
        visit(this.fOff, this.fLen, this.vOff, this.vLen, this.exp);
      }
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
    const base = this.slotsWord(h);
    const cap = this.capacity(h);
    for (;;) {
      const r = this.u32[base + Math.floor(rnd() * cap)];
      if (r > DELETED) {
        this.loadRecord(r);
        return;
      }
    }
  }

  /**
   * One step of HSCAN over a hashtable: visits slots in reverse-binary
   * cursor order until `count` fields were seen; returns the next cursor (0: done).
   * A listpack is visited whole (cursor 0 back), as Redis does.
   */
  scan(h: number, cursor: number, count: number, visit: FieldVisitor): number {
    if (!this.isTable(h)) {
      this.forEach(h, visit);
      return 0;
    }
    const base = this.slotsWord(h);
    const mask = this.capacity(h) - 1;
    let v = cursor >>> 0;
    let seen = 0;
    let steps = 0;
    do {
      const r = this.u32[base + (v & mask)];
      if (r > DELETED) {
        this.loadRecord(r);
        visit(this.fOff, this.fLen, this.vOff, this.vLen, this.exp);
        seen++;
      }
      v = (v | ~mask) >>> 0;
      v = rev32(v);
      v = (v + 1) >>> 0;
      v = rev32(v);
      steps++;
    } while (v !== 0 && seen < count && steps < count * 10);
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

  free(h: number): void {
    if (this.isTable(h)) {
      const base = this.slotsWord(h);
      const cap = this.capacity(h);
      for (let i = 0; i < cap; i++) {
        const r = this.u32[base + i];
        if (r > DELETED) this.alloc.free(r * REF_UNIT_BYTES);
      }
      this.alloc.free(this.u32[h * 2 + W_TABLE] * REF_UNIT_BYTES);
    }
    this.alloc.free(h * REF_UNIT_BYTES);
  }

  footprint(h: number): number {
    let b = this.alloc.usableSize(h * REF_UNIT_BYTES);
    if (this.isTable(h)) {
      b += this.alloc.usableSize(this.u32[h * 2 + W_TABLE] * REF_UNIT_BYTES);
      const base = this.slotsWord(h);
      const cap = this.capacity(h);
      for (let i = 0; i < cap; i++) {
        const r = this.u32[base + i];
        if (r > DELETED) b += this.alloc.usableSize(r * REF_UNIT_BYTES);
      }
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
    const base = this.slotsWord(h);
    const cap = this.capacity(h);
    const taken: number[] = [];
    try {
      const nh = this.allocOrThrow(HT_HEADER_BYTES);
      taken.push(nh);
      const nt = this.allocOrThrow(cap * 4);
      taken.push(nt);
      for (let i = 0; i < cap; i++) {
        const r = this.u32[base + i];
        if (r <= DELETED) continue;
        const size = this.recBytes(r) - r * REF_UNIT_BYTES + this.recFlen(r) + this.u32[r * 2 + R_VLEN];
        const nr = this.allocOrThrow(size);
        taken.push(nr);
        this.u8.copyWithin(nr * REF_UNIT_BYTES, r * REF_UNIT_BYTES, r * REF_UNIT_BYTES + size);
      }
      // Nothing can fail from here: the records were taken in slot order.
      this.u8.copyWithin(nh * REF_UNIT_BYTES, h * REF_UNIT_BYTES, h * REF_UNIT_BYTES + HT_HEADER_BYTES);
      this.u32[nh * 2 + W_TABLE] = nt;
      this.u32[nh * 2 + W_TOMBS] = 0;
      const nbase = nt * 2;
      let k = 2;
      for (let i = 0; i < cap; i++) {
        const r = this.u32[base + i];
        this.u32[nbase + i] = r > DELETED ? taken[k++] : EMPTY;
      }
      // Tombstones are dropped, so probe chains must be rebuilt: rehash in place.
      if (this.u32[h * 2 + W_TOMBS] > 0) this.rehashInto(nh, nt, cap, nt, cap);
      return nh;
    } catch (e) {
      this.freeRefs(taken);
      throw e;
    }
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
    const h = this.allocOrThrow(HLP_HEADER_BYTES);
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
        // In-place overwrite of one same-sized value: the common HSET on an existing field.
        if (pairs.length - first === 2) {
          const f = pairs[first];
          const v = pairs[first + 1];
          if (this.find(h, f.u8, f.off, f.len) && this.vLen === v.len) {
            this.u8.set(v.u8.subarray(v.off, v.off + v.len), this.vOff);
            if (this.exp !== 0) this.dv.setFloat64(this.end - 8, 0, true);
            this.created = 0;
            return h;
          }
        }
        const n = this.lpRebuild(h, pairs, first);
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

  /** Slots for n fields at most 7/8 full. */
  private static slotsFor(n: number): number {
    let cap = MIN_SLOTS;
    while (cap * 7 < n * 8) cap *= 2;
    return cap;
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
    this.u8.set(fb.subarray(fo, fo + fl), p);
    this.u8.set(vb.subarray(vo, vo + vl), p + fl);
  }

  /**
   * A hashtable copy of a listpack, with room for `more` fields: all or
   * nothing. The listpack is left for the caller to free. Returns the header's ref.
   */
  private toTable(h: number, more: number): number {
    const count = this.count(h);
    const cap = HashStore.slotsFor(count + more);
    const taken: number[] = [];
    let nh: number;
    let nt: number;
    try {
      nh = this.allocOrThrow(HT_HEADER_BYTES);
      taken.push(nh);
      nt = this.allocOrThrow(cap * 4);
      taken.push(nt);
      this.forEach(h, (_fo, fl, _vo, vl, exp) => {
        taken.push(this.allocOrThrow(HashStore.recordSize(fl, vl, exp !== 0)));
      });
    } catch (e) {
      this.freeRefs(taken);
      throw e;
    }
    this.u32.fill(0, nh * 2, nh * 2 + HT_HEADER_BYTES / 4);
    this.u32[nh * 2 + W_TABLE] = nt;
    this.u32[nh * 2 + W_CAP] = cap;
    this.u32[nh * 2 + W_COUNT] = (HASH_FLAG_TABLE | count) >>> 0;
    this.u32.fill(0, nt * 2, nt * 2 + cap);
    let k = 2;
    let ttls = 0;
    let min = 0;
    const base = nt * 2;
    const mask = cap - 1;
    this.forEach(h, (fo, fl, vo, vl, exp) => {
      const r = taken[k++];
      const hash = this.hashOf(this.u8, fo, fl);
      this.writeRecord(r, hash, this.u8, fo, fl, this.u8, vo, vl, exp, exp !== 0);
      let i = hash & mask;
      while (this.u32[base + i] !== EMPTY) i = (i + 1) & mask;
      this.u32[base + i] = r;
      if (exp !== 0) {
        ttls++;
        if (min === 0 || exp < min) min = exp;
      }
    });
    if (ttls > 0) {
      this.setFlag(nh, HASH_FLAG_TTL, true);
      this.u32[nh * 2 + W_TTLS] = ttls;
      this.f64[nh + D_MIN] = min;
    }
    return nh;
  }

  /** Moves every record of the old slot array into the new one (which may be the same array). */
  private rehashInto(h: number, oldT: number, oldCap: number, newT: number, newCap: number): void {
    const refs: number[] = [];
    const ob = oldT * 2;
    for (let i = 0; i < oldCap; i++) {
      const r = this.u32[ob + i];
      if (r > DELETED) refs.push(r);
    }
    const nb = newT * 2;
    this.u32.fill(0, nb, nb + newCap);
    const mask = newCap - 1;
    for (const r of refs) {
      let i = this.u32[r * 2 + R_HASH] & mask;
      while (this.u32[nb + i] !== EMPTY) i = (i + 1) & mask;
      this.u32[nb + i] = r;
    }
    this.u32[h * 2 + W_TABLE] = newT;
    this.u32[h * 2 + W_CAP] = newCap;
    this.u32[h * 2 + W_TOMBS] = 0;
  }

  /** A slot array for `fields` more fields when the current one would pass 7/8; 0 when none is needed. */
  private growthFor(h: number, fields: number): number {
    const used = this.count(h) + this.u32[h * 2 + W_TOMBS] + fields;
    const cap = this.capacity(h);
    if (used * 8 <= cap * 7) return 0;
    return this.allocOrThrow(HashStore.slotsFor(this.count(h) + fields) * 4);
  }

  private installGrowth(h: number, nt: number): void {
    const oldT = this.u32[h * 2 + W_TABLE];
    const cap = this.alloc.usableSize(nt * REF_UNIT_BYTES) / 4;
    let newCap = MIN_SLOTS;
    while (newCap * 2 <= cap) newCap *= 2;
    this.rehashInto(h, oldT, this.capacity(h), nt, newCap);
    this.alloc.free(oldT * REF_UNIT_BYTES);
  }

  private tableSetMany(h: number, pairs: readonly Piece[], first: number): void {
    const np = (pairs.length - first) >> 1;
    // Which pairs win (last of each field), and what each needs.
    const need: number[] = [];   // pair index k for which a new record is needed
    const fresh: number[] = [];  // 1 when that field is new
    let shadow: Set<string> | null = null;
    if (np > 1) shadow = new Set<string>();
    const winners: number[] = [];
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
    let newFields = 0;
    for (const k of winners) {
      const f = pairs[first + 2 * k];
      const v = pairs[first + 2 * k + 1];
      const hash = this.hashOf(f.u8, f.off, f.len);
      const i = this.probe(h, hash, f.u8, f.off, f.len);
      if (i >= 0) {
        const r = this.u32[this.slotsWord(h) + i];
        if (this.u32[r * 2 + R_VLEN] === v.len) continue; // overwritten in place
        need.push(k);
        fresh.push(0);
      } else {
        need.push(k);
        fresh.push(1);
        newFields++;
      }
    }
    const taken: number[] = [];
    let nt = 0;
    try {
      nt = this.growthFor(h, newFields);
      for (const k of need) {
        const f = pairs[first + 2 * k];
        taken.push(this.allocOrThrow(HashStore.recordSize(f.len, pairs[first + 2 * k + 1].len, false)));
      }
    } catch (e) {
      this.freeRefs(taken);
      if (nt !== 0) this.alloc.free(nt * REF_UNIT_BYTES);
      throw e;
    }
    // Nothing can fail from here.
    if (nt !== 0) this.installGrowth(h, nt);
    let t = 0;
    for (const k of winners) {
      const f = pairs[first + 2 * k];
      const v = pairs[first + 2 * k + 1];
      const hash = this.hashOf(f.u8, f.off, f.len);
      const i = this.probe(h, hash, f.u8, f.off, f.len);
      const base = this.slotsWord(h);
      if (i >= 0 && (t >= need.length || need[t] !== k)) {
        const r = this.u32[base + i];
        this.loadRecord(r);
        this.u8.set(v.u8.subarray(v.off, v.off + v.len), this.vOff);
        if (this.exp !== 0) this.clearRecordExpire(h, r);
        continue;
      }
      const nr = taken[t++];
      this.writeRecord(nr, hash, f.u8, f.off, f.len, v.u8, v.off, v.len, 0, false);
      if (i >= 0) {
        const old = this.u32[base + i];
        if (this.recExp(old) !== 0) this.dropTtlCount(h);
        this.alloc.free(old * REF_UNIT_BYTES);
        this.u32[base + i] = nr;
      } else {
        if (this.u32[base + this.pos] === DELETED) this.u32[h * 2 + W_TOMBS]--;
        this.u32[base + this.pos] = nr;
        this.setCount(h, this.count(h) + 1);
      }
    }
    this.created = newFields;
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
    this.alloc.free(r * REF_UNIT_BYTES);
    const base = this.slotsWord(h);
    const mask = this.capacity(h) - 1;
    // A slot followed by an empty one needs no tombstone.
    if (this.u32[base + ((this.pos + 1) & mask)] === EMPTY) this.u32[base + this.pos] = EMPTY;
    else {
      this.u32[base + this.pos] = DELETED;
      this.u32[h * 2 + W_TOMBS]++;
    }
    this.setCount(h, this.count(h) - 1);
    this.maybeShrink(h);
  }

  /** Halves (or more) a table that got sparse; skipped when the arena has no room. */
  private maybeShrink(h: number): void {
    const cap = this.capacity(h);
    const n = this.count(h);
    if (cap <= MIN_SLOTS || n * 8 >= cap) return;
    const want = HashStore.slotsFor(n * 2);
    if (want >= cap) return;
    const nt = this.alloc.tryAlloc(want * 4) / REF_UNIT_BYTES;
    if (nt === 0) return;
    const oldT = this.u32[h * 2 + W_TABLE];
    this.rehashInto(h, oldT, cap, nt, want);
    this.alloc.free(oldT * REF_UNIT_BYTES);
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
    const slots: number[] = [];
    const base = this.slotsWord(h);
    if (pieces === null) {
      const cap = this.capacity(h);
      for (let i = 0; i < cap; i++) {
        const r = this.u32[base + i];
        if (r > DELETED && !this.recHasExp(r)) slots.push(i);
      }
    } else {
      for (let k = first; k < end; k++) {
        const f = pieces[k];
        const i = this.probe(h, this.hashOf(f.u8, f.off, f.len), f.u8, f.off, f.len);
        if (i >= 0 && !this.recHasExp(this.u32[base + i]) && !slots.includes(i)) slots.push(i);
      }
    }
    const taken: number[] = [];
    try {
      for (const i of slots) {
        const r = this.u32[base + i];
        taken.push(this.allocOrThrow(HashStore.recordSize(this.recFlen(r), this.u32[r * 2 + R_VLEN], true)));
      }
    } catch (e) {
      this.freeRefs(taken);
      throw e;
    }
    for (let j = 0; j < slots.length; j++) {
      const r = this.u32[base + slots[j]];
      this.loadRecord(r);
      this.writeRecord(taken[j], this.u32[r * 2 + R_HASH], this.u8, this.fOff, this.fLen, this.u8, this.vOff, this.vLen, 0, true);
      this.u32[base + slots[j]] = taken[j];
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
    const base = this.slotsWord(h);
    const cap = this.capacity(h);
    let newMin = 0;
    let stopped = false;
    for (let i = 0; i < cap; i++) {
      const r = this.u32[base + i];
      if (r <= DELETED || !this.recHasExp(r)) continue;
      const e = this.f64[r + R_EXP];
      if (e === 0) continue;
      if (e <= now && removed < limit) {
        this.alloc.free(r * REF_UNIT_BYTES);
        this.u32[base + i] = DELETED;
        this.u32[h * 2 + W_TOMBS]++;
        this.u32[h * 2 + W_TTLS]--;
        removed++;
        continue;
      }
      if (e <= now) stopped = true;
      if (newMin === 0 || e < newMin) newMin = e;
    }
    this.setCount(h, this.count(h) - removed);
    if (this.u32[h * 2 + W_TTLS] === 0) {
      this.setFlag(h, HASH_FLAG_TTL, false);
      this.f64[h + D_MIN] = 0;
    } else {
      this.f64[h + D_MIN] = stopped ? Math.min(newMin, now) : newMin;
    }
    if (removed > 0 && this.count(h) > 0) this.maybeShrink(h);
    return removed;
  }
}
