import {
  LIST_COUNT, LIST_HEAD, LIST_HEADER_BYTES, LIST_NODES, LIST_TAIL, LNODE_COUNT, LNODE_ELEMENT_PREFIX,
  LNODE_HEADER_BYTES, LNODE_NEXT, LNODE_PREV, LNODE_SKIP, LNODE_USED, REF_UNIT_BYTES,
} from '../../native-layout/layout.ts';
import { OutOfMemoryError, type SlabAllocator } from './arena.ts';
import type { StructureStore } from './structure.ts';
import { copyBytes } from '../util/bytes.ts';

// A list is a header record and a doubly linked chain of nodes, each holding
// packed elements (u32 length + bytes) up to list-max-listpack-size, as
// Redis's quicklist of listpacks. A small list is one contiguous node.
//
// Every method that allocates does so before it changes anything, and on
// failure frees what it took and throws OutOfMemoryError with the list as it
// was. Shrinking (pops, LREM, LTRIM, freeing) works in place and never
// allocates. Headers and nodes are named by refs (address / 8).

const W_COUNT = LIST_COUNT / 4;
const W_NODES = LIST_NODES / 4;
const W_HEAD = LIST_HEAD / 4;
const W_TAIL = LIST_TAIL / 4;
const W_PREV = LNODE_PREV / 4;
const W_NEXT = LNODE_NEXT / 4;
const W_NCOUNT = LNODE_COUNT / 4;
const W_USED = LNODE_USED / 4;
const W_SKIP = LNODE_SKIP / 4;
const PFX = LNODE_ELEMENT_PREFIX;

/** Redis's SIZE_SAFETY_LIMIT: a count-limited node still stays under this many bytes. */
const SAFETY_BYTES = 8192;
const FILL_BYTES = [4096, 8192, 16384, 32768, 65536];

/** Where an element lives: bytes u8[off .. off + len). */
export interface Piece { u8: Uint8Array; off: number; len: number }

export const HEAD = 0;
export const TAIL = 1;

/** Shared empty arrays for pushes that fit the end node (never written to). */
const NO_PIECES: Piece[] = [];
const NO_REFS: number[] = [];

export class ListStore implements StructureStore {
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly alloc: SlabAllocator;
  /** list-max-listpack-size: negative = bytes class (-1 4 KB .. -5 64 KB), positive = elements per node. */
  fill = -2;
  /** Scratch: element offsets (of their length prefix) inside one node. */
  private offs = new Float64Array(256);
  /**
   * The scratch still holds the offsets of this node's first `offsNodeCount`
   * elements: tail pops only truncate a node, so a run of RPOPs walks each
   * node once (packed elements cannot be walked backwards). 0: no node.
   */
  private offsNode = 0;
  private offsNodeCount = 0;

  constructor(u8: Uint8Array, u32: Uint32Array, alloc: SlabAllocator) {
    this.u8 = u8;
    this.u32 = u32;
    this.alloc = alloc;
  }

  // -- limits ------------------------------------------------------------------

  /** May a node hold `count` elements of `bytes` packed bytes? A lone element always fits. */
  private fits(count: number, bytes: number): boolean {
    if (count <= 1) return true;
    if (this.fill >= 0) return count <= Math.max(1, this.fill) && bytes <= SAFETY_BYTES;
    const cls = Math.min(-this.fill, FILL_BYTES.length) - 1;
    return bytes + LNODE_HEADER_BYTES <= FILL_BYTES[cls];
  }

  // -- reading -------------------------------------------------------------------

  count(h: number): number { return this.u32[h * 2 + W_COUNT]; }
  nodes(h: number): number { return this.u32[h * 2 + W_NODES]; }
  headNode(h: number): number { return this.u32[h * 2 + W_HEAD]; }
  tailNode(h: number): number { return this.u32[h * 2 + W_TAIL]; }
  nextNode(n: number): number { return this.u32[n * 2 + W_NEXT]; }
  prevNode(n: number): number { return this.u32[n * 2 + W_PREV]; }
  nodeCount(n: number): number { return this.u32[n * 2 + W_NCOUNT]; }
  nodeUsed(n: number): number { return this.u32[n * 2 + W_USED]; }
  /** Byte offset of a node's first element. */
  nodeStart(n: number): number { return n * REF_UNIT_BYTES + LNODE_HEADER_BYTES + this.u32[n * 2 + W_SKIP]; }
  /** Bytes of a node's element area (its allocation less the header). */
  private areaBytes(n: number): number { return this.alloc.usableSize(n * REF_UNIT_BYTES) - LNODE_HEADER_BYTES; }

  /** Length of the element whose prefix is at p. */
  elemLen(p: number): number {
    const b = this.u8;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  private writeLen(p: number, n: number): void {
    const b = this.u8;
    b[p] = n & 0xff;
    b[p + 1] = (n >>> 8) & 0xff;
    b[p + 2] = (n >>> 16) & 0xff;
    b[p + 3] = (n >>> 24) & 0xff;
  }

  /** Fills the scratch with the offsets of a node's elements and returns it (nodeCount(n) valid entries). */
  private offsetsOf(n: number): Float64Array {
    this.offsNode = 0;
    const c = this.nodeCount(n);
    if (this.offs.length < c + 1) this.offs = new Float64Array(Math.max(c + 1, this.offs.length * 2));
    const o = this.offs;
    let p = this.nodeStart(n);
    for (let i = 0; i < c; i++) {
      o[i] = p;
      p += PFX + this.elemLen(p);
    }
    o[c] = p;
    return o;
  }

  /** The offsets of a node's first k + 1 elements (k < count) in the scratch. */
  private headOffsets(n: number, k: number): Float64Array {
    this.offsNode = 0;
    if (this.offs.length < k + 2) this.offs = new Float64Array(Math.max(k + 2, this.offs.length * 2));
    const o = this.offs;
    let p = this.nodeStart(n);
    const c = this.nodeCount(n);
    for (let i = 0; i <= k && i <= c; i++) {
      o[i] = p;
      if (i < c) p += PFX + this.elemLen(p);
    }
    return o;
  }

  /** Offset (of the length prefix) of the element at index i (0 <= i < count), walking from the nearer end. */
  elementAt(h: number, i: number): number {
    const total = this.count(h);
    let n: number;
    let k: number;
    if (i < total / 2) {
      n = this.headNode(h);
      k = i;
      while (k >= this.nodeCount(n)) {
        k -= this.nodeCount(n);
        n = this.nextNode(n);
      }
    } else {
      n = this.tailNode(h);
      let back = total - 1 - i;
      while (back >= this.nodeCount(n)) {
        back -= this.nodeCount(n);
        n = this.prevNode(n);
      }
      k = this.nodeCount(n) - 1 - back;
    }
    let p = this.nodeStart(n);
    for (let j = 0; j < k; j++) p += PFX + this.elemLen(p);
    return p;
  }

  /** Calls visit(offset, length) for the elements from index start to stop (inclusive, in range), in order. */
  range(h: number, start: number, stop: number, visit: (off: number, len: number) => void): void {
    let n = this.headNode(h);
    let k = start;
    while (n !== 0 && k >= this.nodeCount(n)) {
      k -= this.nodeCount(n);
      n = this.nextNode(n);
    }
    let left = stop - start + 1;
    while (n !== 0 && left > 0) {
      const c = this.nodeCount(n);
      let p = this.nodeStart(n);
      for (let j = 0; j < c && left > 0; j++) {
        const l = this.elemLen(p);
        if (j >= k) {
          visit(p + PFX, l);
          left--;
        }
        p += PFX + l;
      }
      k = 0;
      n = this.nextNode(n);
    }
  }

  /** Calls visit(offset, length, index) from the tail to the head; stops when visit returns false. */
  reverse(h: number, visit: (off: number, len: number, index: number) => boolean): void {
    let idx = this.count(h) - 1;
    for (let n = this.tailNode(h); n !== 0; n = this.prevNode(n)) {
      const c = this.nodeCount(n);
      const o = this.offsetsOf(n).slice(0, c);
      for (let j = c - 1; j >= 0; j--, idx--) if (!visit(o[j] + PFX, this.elemLen(o[j]), idx)) return;
    }
  }

  /** Bytes the list's header and nodes take in the arena (MEMORY USAGE). */
  footprint(h: number, samples = 0): number {
    let read = 0;
    let nodeBytes = 0;
    for (let n = this.headNode(h); n !== 0 && (samples === 0 || read < samples); n = this.nextNode(n)) {
      nodeBytes += this.alloc.usableSize(n * REF_UNIT_BYTES);
      read++;
    }
    const nodes = this.nodes(h);
    const sampled = samples === 0 || read === 0 || read >= nodes ? nodeBytes : Math.round((nodeBytes / read) * nodes);
    return this.alloc.usableSize(h * REF_UNIT_BYTES) + sampled;
  }

  // -- allocation helpers --------------------------------------------------------

  /** Allocates one block per size (bytes), all or none (OutOfMemoryError). Returns refs. */
  private allocAll(sizes: number[]): number[] {
    const refs: number[] = [];
    for (const s of sizes) {
      const a = this.alloc.tryAlloc(s);
      if (a === 0) {
        for (const r of refs) this.alloc.free(r * REF_UNIT_BYTES);
        throw new OutOfMemoryError('arena exhausted');
      }
      refs.push(a / REF_UNIT_BYTES);
    }
    return refs;
  }

  /** Splits pieces into node-sized groups; returns the group boundaries (indexes into pieces). */
  private group(pieces: readonly Piece[], start: number, bytes0: number, count0: number): number[] {
    const cuts: number[] = [start];
    let c = count0;
    let b = bytes0;
    for (let i = start; i < pieces.length; i++) {
      const add = PFX + pieces[i].len;
      if (c > 0 && !this.fits(c + 1, b + add)) {
        cuts.push(i);
        c = 0;
        b = 0;
      }
      c++;
      b += add;
    }
    cuts.push(pieces.length);
    return cuts;
  }

  private packedBytes(pieces: readonly Piece[], from: number, to: number): number {
    let b = 0;
    for (let i = from; i < to; i++) b += PFX + pieces[i].len;
    return b;
  }

  /** Writes pieces[from..to) packed into a fresh node (links left to the caller). */
  private fillNode(n: number, pieces: readonly Piece[], from: number, to: number): void {
    this.u32[n * 2 + W_SKIP] = 0;
    let p = this.nodeStart(n);
    for (let i = from; i < to; i++) {
      const e = pieces[i];
      this.writeLen(p, e.len);
      copyBytes(e.u8, e.off, this.u8, p + PFX, e.len);
      p += PFX + e.len;
    }
    this.u32[n * 2 + W_NCOUNT] = to - from;
    this.u32[n * 2 + W_USED] = p - this.nodeStart(n);
  }

  /** Allocates and fills the nodes for `pieces`, chained in order; all or none. Returns their refs. */
  private buildNodes(pieces: readonly Piece[], balance = false): number[] {
    const cuts = this.group(pieces, 0, 0, 0);
    if (balance && cuts.length === 3) this.balanceCut(pieces, cuts);
    const sizes: number[] = [];
    for (let g = 0; g + 1 < cuts.length; g++) {
      if (cuts[g] === cuts[g + 1]) continue;
      sizes.push(LNODE_HEADER_BYTES + this.packedBytes(pieces, cuts[g], cuts[g + 1]));
    }
    const refs = this.allocAll(sizes);
    let r = 0;
    for (let g = 0; g + 1 < cuts.length; g++) {
      if (cuts[g] === cuts[g + 1]) continue;
      this.fillNode(refs[r], pieces, cuts[g], cuts[g + 1]);
      this.u32[refs[r] * 2 + W_PREV] = r > 0 ? refs[r - 1] : 0;
      this.u32[refs[r] * 2 + W_NEXT] = 0;
      if (r > 0) this.u32[refs[r - 1] * 2 + W_NEXT] = refs[r];
      r++;
    }
    return refs;
  }

  /** Links a built chain between prev and next (either may be 0 = list end). */
  private linkChain(h: number, chain: number[], prev: number, next: number, elements: number): void {
    if (chain.length === 0) return;
    const first = chain[0];
    const last = chain[chain.length - 1];
    this.u32[first * 2 + W_PREV] = prev;
    this.u32[last * 2 + W_NEXT] = next;
    if (prev !== 0) this.u32[prev * 2 + W_NEXT] = first;
    else this.u32[h * 2 + W_HEAD] = first;
    if (next !== 0) this.u32[next * 2 + W_PREV] = last;
    else this.u32[h * 2 + W_TAIL] = last;
    this.u32[h * 2 + W_NODES] += chain.length;
    this.u32[h * 2 + W_COUNT] += elements;
  }

  /** Unlinks and frees a node (its elements leave the count). */
  private dropNode(h: number, n: number): void {
    this.offsNode = 0;
    const prev = this.prevNode(n);
    const next = this.nextNode(n);
    if (prev !== 0) this.u32[prev * 2 + W_NEXT] = next;
    else this.u32[h * 2 + W_HEAD] = next;
    if (next !== 0) this.u32[next * 2 + W_PREV] = prev;
    else this.u32[h * 2 + W_TAIL] = prev;
    this.u32[h * 2 + W_NODES]--;
    this.u32[h * 2 + W_COUNT] -= this.nodeCount(n);
    this.alloc.free(n * REF_UNIT_BYTES);
  }

  /**
   * Moves the cut of a node split in two (cuts = [0, i, end]) to where both
   * halves hold about as many bytes, so that the next inserts there fit
   * without splitting again (a greedy cut leaves one full node and a tiny one).
   */
  private balanceCut(pieces: readonly Piece[], cuts: number[]): void {
    const end = pieces.length;
    const total = this.packedBytes(pieces, 0, end);
    let left = 0;
    let best = cuts[1];
    let bestGap = Infinity;
    for (let i = 1; i < end; i++) {
      left += PFX + pieces[i - 1].len;
      const gap = Math.abs(2 * left - total);
      if (gap < bestGap && this.fits(i, left) && this.fits(end - i, total - left)) {
        best = i;
        bestGap = gap;
      }
    }
    cuts[1] = best;
  }

  /** Replaces node n by nodes built from pieces (which may point into n): all or nothing. */
  private replaceNode(h: number, n: number, pieces: readonly Piece[]): void {
    const chain = this.buildNodes(pieces, true);
    const prev = this.prevNode(n);
    const next = this.nextNode(n);
    this.dropNode(h, n);
    this.linkChain(h, chain, prev, next, pieces.length);
  }

  private piecesOf(n: number): Piece[] {
    const c = this.nodeCount(n);
    const out: Piece[] = [];
    let p = this.nodeStart(n);
    for (let i = 0; i < c; i++) {
      const l = this.elemLen(p);
      out.push({ u8: this.u8, off: p + PFX, len: l });
      p += PFX + l;
    }
    return out;
  }

  // -- whole lists ---------------------------------------------------------------------

  /** A new empty list header (OutOfMemoryError). An empty list must not stay in the keyspace. */
  create(): number {
    const h = this.alloc.alloc(LIST_HEADER_BYTES) / REF_UNIT_BYTES;
    this.u32[h * 2 + W_COUNT] = 0;
    this.u32[h * 2 + W_NODES] = 0;
    this.u32[h * 2 + W_HEAD] = 0;
    this.u32[h * 2 + W_TAIL] = 0;
    return h;
  }

  /** Frees the header and every node. Never allocates. */
  free(h: number): void {
    this.offsNode = 0;
    let n = this.headNode(h);
    while (n !== 0) {
      const next = this.nextNode(n);
      this.alloc.free(n * REF_UNIT_BYTES);
      n = next;
    }
    this.alloc.free(h * REF_UNIT_BYTES);
  }

  /** Allocations free() releases beyond the header: the nodes (Redis: quicklist->len). */
  freeEffort(h: number): number {
    return this.nodes(h);
  }

  /**
   * Lazy freeing: frees up to `budget` nodes from the head, repointing the
   * header at what is left, then the header once no node remains.
   */
  freeSome(h: number, budget: number): boolean {
    this.offsNode = 0;
    let n = this.headNode(h);
    let left = budget;
    while (n !== 0 && left > 0) {
      const next = this.nextNode(n);
      this.u32[h * 2 + W_COUNT] -= this.nodeCount(n);
      this.alloc.free(n * REF_UNIT_BYTES);
      this.u32[h * 2 + W_NODES]--;
      n = next;
      left--;
    }
    this.u32[h * 2 + W_HEAD] = n;
    if (n !== 0) {
      this.u32[n * 2 + W_PREV] = 0;
      return false;
    }
    this.u32[h * 2 + W_TAIL] = 0;
    this.alloc.free(h * REF_UNIT_BYTES);
    return true;
  }

  /** A deep copy (COPY, RENAME): all or nothing. */
  clone(h: number): number {
    const sizes = [LIST_HEADER_BYTES];
    for (let n = this.headNode(h); n !== 0; n = this.nextNode(n)) sizes.push(LNODE_HEADER_BYTES + this.nodeUsed(n));
    const refs = this.allocAll(sizes);
    const nh = refs[0];
    let i = 1;
    for (let n = this.headNode(h); n !== 0; n = this.nextNode(n), i++) {
      const to = refs[i];
      const start = this.nodeStart(n);
      this.u32[to * 2 + W_NCOUNT] = this.nodeCount(n);
      this.u32[to * 2 + W_USED] = this.nodeUsed(n);
      this.u32[to * 2 + W_SKIP] = 0;
      this.u8.copyWithin(this.nodeStart(to), start, start + this.nodeUsed(n));
      this.u32[to * 2 + W_PREV] = i > 1 ? refs[i - 1] : 0;
      this.u32[to * 2 + W_NEXT] = i + 1 < refs.length ? refs[i + 1] : 0;
    }
    this.u32[nh * 2 + W_COUNT] = this.count(h);
    this.u32[nh * 2 + W_NODES] = refs.length - 1;
    this.u32[nh * 2 + W_HEAD] = refs.length > 1 ? refs[1] : 0;
    this.u32[nh * 2 + W_TAIL] = refs.length > 1 ? refs[refs.length - 1] : 0;
    return nh;
  }

  /** Serialized form (payload of __take/__put): u32 count, then each element as u32 length + bytes, little-endian. */
  serialize(h: number): Uint8Array {
    let size = 4;
    for (let n = this.headNode(h); n !== 0; n = this.nextNode(n)) size += this.nodeUsed(n);
    const out = new Uint8Array(size);
    new DataView(out.buffer).setUint32(0, this.count(h), true);
    let p = 4;
    for (let n = this.headNode(h); n !== 0; n = this.nextNode(n)) {
      const s = this.nodeStart(n);
      out.set(this.u8.subarray(s, s + this.nodeUsed(n)), p);
      p += this.nodeUsed(n);
    }
    return out;
  }

  /** Element pieces of a serialized list, or null when malformed or empty. */
  static parseSerialized(b: Uint8Array, o: number, l: number): Piece[] | null {
    if (l < 4) return null;
    const dv = new DataView(b.buffer, b.byteOffset + o, l);
    const count = dv.getUint32(0, true);
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

  /** A new list holding pieces (at least one): all or nothing. */
  createFrom(pieces: readonly Piece[]): number {
    const h = this.create();
    try {
      this.push(h, TAIL, pieces);
    } catch (e) {
      this.alloc.free(h * REF_UNIT_BYTES);
      throw e;
    }
    return h;
  }

  validSerialized(b: Uint8Array, o: number, l: number): boolean {
    return ListStore.parseSerialized(b, o, l) !== null;
  }

  deserialize(b: Uint8Array, o: number, l: number): number {
    const pieces = ListStore.parseSerialized(b, o, l);
    if (pieces === null) throw new Error('malformed list payload');
    return this.createFrom(pieces);
  }

  // -- writes --------------------------------------------------------------------

  /**
   * The usual push of one element: into the end node, when it may hold one
   * more and its area has room on that side as it is. Returns false, with
   * nothing changed, otherwise (push() then grows, moves or chains nodes).
   */
  pushOne(h: number, side: number, src: Uint8Array, off: number, len: number): boolean {
    const node = side === TAIL ? this.tailNode(h) : this.headNode(h);
    if (node === 0) return false;
    const used = this.nodeUsed(node);
    const add = PFX + len;
    const count = this.nodeCount(node) + 1;
    if (!this.fits(count, used + add)) return false;
    const skip = this.u32[node * 2 + W_SKIP];
    let p: number;
    if (side === TAIL) {
      if (skip + used + add > this.areaBytes(node)) return false;
      p = this.nodeStart(node) + used;
    } else {
      if (skip < add) return false;
      this.u32[node * 2 + W_SKIP] = skip - add;
      p = this.nodeStart(node);
    }
    this.offsNode = 0;
    this.writeLen(p, len);
    copyBytes(src, off, this.u8, p + PFX, len);
    this.u32[node * 2 + W_NCOUNT] = count;
    this.u32[node * 2 + W_USED] = used + add;
    this.u32[h * 2 + W_COUNT] += 1;
    return true;
  }

  /**
   * Pushes pieces one by one at the head or the tail (LPUSH a b leaves b first).
   * The end node takes what fits (growing into a new allocation when needed),
   * new nodes the rest; everything is allocated before the list changes.
   */
  push(h: number, side: number, pieces: readonly Piece[]): void {
    this.offsNode = 0;
    if (pieces.length === 0) return;
    const end = side === TAIL ? this.tailNode(h) : this.headNode(h);
    const c0 = end === 0 ? 0 : this.nodeCount(end);
    const b0 = end === 0 ? 0 : this.nodeUsed(end);
    // How many go into the end node.
    let inEnd = 0;
    let endBytes = b0;
    if (end !== 0) {
      while (inEnd < pieces.length && this.fits(c0 + inEnd + 1, endBytes + PFX + pieces[inEnd].len)) {
        endBytes += PFX + pieces[inEnd].len;
        inEnd++;
      }
    }
    // The rest, in list order for a new chain (reversed for the head).
    // The common push fits the end node as it is: no arrays for the rest.
    const allInEnd = inEnd === pieces.length;
    const rest = allInEnd ? NO_PIECES : pieces.slice(inEnd);
    if (side === HEAD && !allInEnd) rest.reverse();
    const grow = inEnd > 0 && endBytes > this.areaBytes(end);
    let grown = 0;
    if (grow) {
      // Greedy growth keeps one-at-a-time pushes linear; never above what the node may hold.
      const want = Math.max(LNODE_HEADER_BYTES + endBytes, Math.min(2 * (LNODE_HEADER_BYTES + b0), this.maxNodeBytes()));
      grown = this.allocAll([want])[0];
    }
    let chain: number[];
    try {
      chain = allInEnd ? NO_REFS : this.buildNodes(rest);
    } catch (e) {
      if (grown !== 0) this.alloc.free(grown * REF_UNIT_BYTES);
      throw e;
    }
    // Nothing can fail from here.
    let node = end;
    if (grow) node = this.moveNode(h, end, grown, side === HEAD);
    if (inEnd > 0) {
      const used = this.nodeUsed(node);
      const add = endBytes - used;
      const area = node * REF_UNIT_BYTES + LNODE_HEADER_BYTES;
      const skip = this.u32[node * 2 + W_SKIP];
      const start = area + skip;
      if (side === TAIL) {
        if (skip + endBytes > this.areaBytes(node)) {
          // No room after the last element: move the elements to the area's start.
          this.u8.copyWithin(area, start, start + used);
          this.u32[node * 2 + W_SKIP] = 0;
        }
        let p = this.nodeStart(node) + used;
        for (let i = 0; i < inEnd; i++) {
          const e = pieces[i];
          this.writeLen(p, e.len);
          copyBytes(e.u8, e.off, this.u8, p + PFX, e.len);
          p += PFX + e.len;
        }
      } else {
        if (skip < add) {
          // No room before the first element: move the elements to the area's end,
          // so that the next head pushes write into the gap.
          const to = this.areaBytes(node) - used;
          this.u8.copyWithin(area + to, start, start + used);
          this.u32[node * 2 + W_SKIP] = to;
        }
        let p = this.nodeStart(node);
        this.u32[node * 2 + W_SKIP] -= add;
        for (let i = 0; i < inEnd; i++) {
          const e = pieces[i];
          p -= PFX + e.len;
          this.writeLen(p, e.len);
          copyBytes(e.u8, e.off, this.u8, p + PFX, e.len);
        }
      }
      this.u32[node * 2 + W_NCOUNT] = c0 + inEnd;
      this.u32[node * 2 + W_USED] = endBytes;
      this.u32[h * 2 + W_COUNT] += inEnd;
    }
    if (side === TAIL) this.linkChain(h, chain, this.tailNode(h), 0, rest.length);
    else this.linkChain(h, chain, 0, this.headNode(h), rest.length);
  }

  private maxNodeBytes(): number {
    if (this.fill >= 0) return SAFETY_BYTES + LNODE_HEADER_BYTES;
    return FILL_BYTES[Math.min(-this.fill, FILL_BYTES.length) - 1];
  }

  /** Copies node n into the (larger) allocation `to` (its elements at the area's end when atEnd), relinks it and frees n. */
  private moveNode(h: number, n: number, to: number, atEnd: boolean): number {
    const from = n * REF_UNIT_BYTES;
    const used = this.nodeUsed(n);
    const start = this.nodeStart(n);
    this.u8.copyWithin(to * REF_UNIT_BYTES, from, from + LNODE_HEADER_BYTES);
    this.u32[to * 2 + W_SKIP] = atEnd ? this.areaBytes(to) - used : 0;
    this.u8.copyWithin(this.nodeStart(to), start, start + used);
    const prev = this.prevNode(n);
    const next = this.nextNode(n);
    if (prev !== 0) this.u32[prev * 2 + W_NEXT] = to;
    else this.u32[h * 2 + W_HEAD] = to;
    if (next !== 0) this.u32[next * 2 + W_PREV] = to;
    else this.u32[h * 2 + W_TAIL] = to;
    this.alloc.free(from);
    return to;
  }

  /**
   * Removes up to `count` elements from one end, calling visit(off, len) for
   * each (in pop order) before it goes. Never allocates. Returns how many.
   */
  pop(h: number, side: number, count: number, visit: ((off: number, len: number) => void) | null): number {
    let done = 0;
    while (done < count && this.count(h) > 0) {
      const n = side === TAIL ? this.tailNode(h) : this.headNode(h);
      const c = this.nodeCount(n);
      const k = Math.min(c, count - done);
      let o: Float64Array;
      if (side === TAIL) {
        o = this.offsNode === n && this.offsNodeCount === c ? this.offs : this.offsetsOf(n);
      } else {
        o = this.headOffsets(n, k);
      }
      if (side === TAIL) {
        if (visit !== null) for (let j = c - 1; j >= c - k; j--) visit(o[j] + PFX, this.elemLen(o[j]));
      } else if (visit !== null) {
        for (let j = 0; j < k; j++) visit(o[j] + PFX, this.elemLen(o[j]));
      }
      done += k;
      if (k === c) {
        this.dropNode(h, n);
        continue;
      }
      const start = this.nodeStart(n);
      const used = this.nodeUsed(n);
      if (side === TAIL) {
        this.u32[n * 2 + W_USED] = o[c - k] - start;
        this.offsNode = n;
        this.offsNodeCount = c - k;
      } else {
        const cut = o[k] - start;
        this.u32[n * 2 + W_SKIP] += cut;
        this.u32[n * 2 + W_USED] = used - cut;
      }
      this.u32[n * 2 + W_NCOUNT] = c - k;
      this.u32[h * 2 + W_COUNT] -= k;
    }
    return done;
  }

  /** Replaces the element at index i (0 <= i < count) with piece: all or nothing. */
  set(h: number, i: number, piece: Piece): void {
    this.offsNode = 0;
    const { node, k } = this.locate(h, i);
    const o = this.offsetsOf(node);
    const oldLen = this.elemLen(o[k]);
    if (oldLen === piece.len) {
      copyBytes(piece.u8, piece.off, this.u8, o[k] + PFX, piece.len);
      return;
    }
    const pieces = this.piecesOf(node);
    pieces[k] = piece;
    this.replaceNode(h, node, pieces);
  }

  /** Inserts piece before (or after) the element at index i: all or nothing. */
  insertAt(h: number, i: number, after: boolean, piece: Piece): void {
    this.offsNode = 0;
    const { node, k } = this.locate(h, i);
    const pieces = this.piecesOf(node);
    pieces.splice(after ? k + 1 : k, 0, piece);
    this.replaceNode(h, node, pieces);
  }

  private locate(h: number, i: number): { node: number; k: number } {
    let n = this.headNode(h);
    let k = i;
    while (k >= this.nodeCount(n)) {
      k -= this.nodeCount(n);
      n = this.nextNode(n);
    }
    return { node: n, k };
  }

  /** Index of the first element equal to piece, or -1. */
  indexOf(h: number, piece: Piece): number {
    let idx = 0;
    for (let n = this.headNode(h); n !== 0; n = this.nextNode(n)) {
      const c = this.nodeCount(n);
      let p = this.nodeStart(n);
      for (let j = 0; j < c; j++, idx++) {
        const l = this.elemLen(p);
        if (this.equals(p + PFX, l, piece)) return idx;
        p += PFX + l;
      }
    }
    return -1;
  }

  equals(off: number, len: number, piece: Piece): boolean {
    if (len !== piece.len) return false;
    const a = this.u8;
    const b = piece.u8;
    for (let i = 0; i < len; i++) if (a[off + i] !== b[piece.off + i]) return false;
    return true;
  }

  /**
   * Removes elements equal to piece: the first `count` from the head (count > 0),
   * from the tail (count < 0) or all (0). In place, never allocates. Returns how many.
   */
  remove(h: number, count: number, piece: Piece): number {
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    const fromTail = count < 0;
    let n = fromTail ? this.tailNode(h) : this.headNode(h);
    while (n !== 0 && removed < limit) {
      const next = fromTail ? this.prevNode(n) : this.nextNode(n);
      const c = this.nodeCount(n);
      const o = this.offsetsOf(n);
      // Which elements go: scan in the walking direction.
      const drop = new Uint8Array(c);
      let dropped = 0;
      for (let s = 0; s < c && removed < limit; s++) {
        const j = fromTail ? c - 1 - s : s;
        if (this.equals(o[j] + PFX, this.elemLen(o[j]), piece)) {
          drop[j] = 1;
          dropped++;
          removed++;
        }
      }
      if (dropped === c) this.dropNode(h, n);
      else if (dropped > 0) this.compact(h, n, o, drop);
      n = next;
    }
    return removed;
  }

  /** Keeps the elements of n whose drop flag is 0, in place. */
  private compact(h: number, n: number, o: Float64Array, drop: Uint8Array): void {
    const c = this.nodeCount(n);
    const start = this.nodeStart(n);
    let w = start;
    let kept = 0;
    for (let j = 0; j < c; j++) {
      if (drop[j] !== 0) continue;
      const size = o[j + 1] - o[j];
      if (w !== o[j]) this.u8.copyWithin(w, o[j], o[j] + size);
      w += size;
      kept++;
    }
    this.u32[h * 2 + W_COUNT] -= c - kept;
    this.u32[n * 2 + W_NCOUNT] = kept;
    this.u32[n * 2 + W_USED] = w - start;
  }
}
