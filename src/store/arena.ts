import { MAX_SMALL_ALLOC, REF_UNIT_BYTES, SLAB_BYTES } from '../../native-layout/layout.ts';

/**
 * A shard's memory: one fixed-size SharedArrayBuffer with typed views over it.
 * Fixed, not growable: V8 compiles accesses through growable-SAB views about 8x
 * slower (measured on Node 24), while a large fixed SAB is committed lazily by
 * the kernel, so untouched slabs cost no RSS.
 */
export class Arena {
  readonly sab: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** For reads of several bytes at once at any offset (key compares). */
  readonly view: DataView;
  readonly byteLength: number;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.byteLength = sab.byteLength;
    this.u8 = new Uint8Array(sab);
    this.u32 = new Uint32Array(sab);
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    this.view = new DataView(sab);
  }
}

// Size classes: 8-byte steps up to 64, then four classes per power of two (the
// jemalloc spacing), up to MAX_SMALL_ALLOC. Worst-case internal waste is 20%.
const CLASS_SIZES: number[] = [];
for (let s = 16; s <= 64; s += 8) CLASS_SIZES.push(s);
for (let base = 64; base < MAX_SMALL_ALLOC; base *= 2) {
  const step = base / 4;
  for (let i = 1; i <= 4; i++) CLASS_SIZES.push(base + i * step);
}
export const SIZE_CLASSES: readonly number[] = CLASS_SIZES;
const CLASS_COUNT = CLASS_SIZES.length;

/** (size + 7) >> 3 -> class index, for every small size. */
const CLASS_OF_UNITS = new Uint8Array((MAX_SMALL_ALLOC >> 3) + 1);
{
  let c = 0;
  for (let units = 0; units < CLASS_OF_UNITS.length; units++) {
    while (CLASS_SIZES[c] < units * 8) c++;
    CLASS_OF_UNITS[units] = c;
  }
}

/** Slab table values: 0 unused/free, 1..CLASS_COUNT small class + 1, RUN_HEAD/RUN_BODY for large runs. */
const SLAB_FREE = 0;
const SLAB_RUN_HEAD = 254;
const SLAB_RUN_BODY = 255;

/**
 * The arena cannot satisfy an allocation. Every keyspace operation that throws
 * it has changed nothing; the shard answers Redis's -OOM error.
 */
export class OutOfMemoryError extends Error {}

/** Slab number of an address (addresses may exceed 2^31: no shifts). */
function slabOf(addr: number): number {
  return (addr / SLAB_BYTES) | 0;
}

/**
 * Slab allocator: small requests come from per-class free lists (intrusive,
 * the next pointer stored in the freed block, in REF_UNIT_BYTES units) or are
 * carved from the class's current slab; large requests take runs of whole
 * slabs. Metadata is per slab, never per allocation, so it stays under a
 * megabyte even for a 32 GiB arena. Addresses are plain byte numbers and may
 * exceed 2^31, so no address goes through a shift or a 32-bit mask.
 */
export class SlabAllocator {
  readonly arena: Arena;
  /** Bytes handed out (rounded to the class size), the basis of used_memory. */
  used = 0;
  private readonly slabKind: Uint8Array;
  private readonly runSlabs: Uint32Array;
  private readonly slabCount: number;
  private topSlab = 1; // slab 0 is reserved so that address 0 means null
  private highWaterSlab = 1;
  private readonly freeHead = new Float64Array(CLASS_COUNT);
  private readonly bumpPtr = new Float64Array(CLASS_COUNT);
  private readonly bumpEnd = new Float64Array(CLASS_COUNT);
  /** Slabs in free runs (below the top): with the untouched ones, what a new slab can come from. */
  private freeRunSlabs = 0;
  /** Small blocks freed since empty class slabs were last looked for (none: nothing to reclaim). */
  private freesSinceReclaim = 0;
  /** Free runs of slabs: start -> length, and end (exclusive) -> start, for coalescing. */
  private readonly freeRunsByStart = new Map<number, number>();
  private readonly freeRunsByEnd = new Map<number, number>();

  constructor(arena: Arena) {
    this.arena = arena;
    this.slabCount = Math.floor(arena.byteLength / SLAB_BYTES);
    this.slabKind = new Uint8Array(this.slabCount);
    this.runSlabs = new Uint32Array(this.slabCount);
  }

  /** Bytes of the arena ever touched: the allocator's contribution to RSS. */
  get committedBytes(): number {
    return this.highWaterSlab * SLAB_BYTES;
  }

  get capacityBytes(): number {
    return this.slabCount * SLAB_BYTES;
  }

  /** Returns an 8-aligned address with at least `size` usable bytes. Throws OutOfMemoryError. */
  alloc(size: number): number {
    const addr = this.tryAlloc(size);
    if (addr === 0) throw new OutOfMemoryError('arena exhausted');
    return addr;
  }

  /** Like alloc, but returns 0 (having changed nothing) when the arena cannot satisfy the request. */
  tryAlloc(size: number): number {
    if (size <= MAX_SMALL_ALLOC) {
      const c = CLASS_OF_UNITS[(size + 7) >> 3];
      const classSize = CLASS_SIZES[c];
      const head = this.freeHead[c];
      if (head !== 0) {
        this.freeHead[c] = this.arena.u32[head / 4] * REF_UNIT_BYTES;
        this.used += classSize;
        return head;
      }
      let p = this.bumpPtr[c];
      if (p === 0 || p + classSize > this.bumpEnd[c]) {
        const slab = this.takeSlabs(1);
        if (slab < 0 && this.reclaimEmptySlabs()) return this.tryAlloc(size);
        if (slab < 0) return 0;
        this.slabKind[slab] = c + 1;
        p = slab * SLAB_BYTES;
        this.bumpEnd[c] = p + SLAB_BYTES;
      }
      this.bumpPtr[c] = p + classSize;
      this.used += classSize;
      return p;
    }
    const n = Math.ceil(size / SLAB_BYTES);
    let slab = this.takeSlabs(n);
    if (slab < 0 && this.reclaimEmptySlabs()) slab = this.takeSlabs(n);
    if (slab < 0) return 0;
    this.slabKind[slab] = SLAB_RUN_HEAD;
    for (let i = 1; i < n; i++) this.slabKind[slab + i] = SLAB_RUN_BODY;
    this.runSlabs[slab] = n;
    this.used += n * SLAB_BYTES;
    return slab * SLAB_BYTES;
  }

  /**
   * Bytes of whole free slabs (free runs plus the untouched top): small
   * allocations are sure to find a slab while this is at least a slab each.
   * Blocks on the size classes' free lists are not counted.
   */
  get wholeSlabBytes(): number {
    return (this.slabCount - this.topSlab + this.freeRunSlabs) * SLAB_BYTES;
  }

  /** Bytes of the untouched top, one contiguous run: any mix of allocations this size in total fits. */
  get topBytes(): number {
    return (this.slabCount - this.topSlab) * SLAB_BYTES;
  }

  /** Allocation that is zero-filled (hash index tables need empty tags). */
  allocZeroed(size: number): number {
    const addr = this.alloc(size);
    this.arena.u8.fill(0, addr, addr + size);
    return addr;
  }

  free(addr: number): void {
    const slab = slabOf(addr);
    const kind = this.slabKind[slab];
    if (kind > 0 && kind <= CLASS_COUNT) {
      const c = kind - 1;
      this.used -= CLASS_SIZES[c];
      this.arena.u32[addr / 4] = this.freeHead[c] / REF_UNIT_BYTES;
      this.freeHead[c] = addr;
      this.freesSinceReclaim++;
      return;
    }
    // `& (SLAB_BYTES - 1)` reads the low bits exactly even above 2^31 (ToInt32 is modular).
    if (kind !== SLAB_RUN_HEAD || (addr & (SLAB_BYTES - 1)) !== 0) {
      throw new Error(`free of an address the allocator did not hand out: ${addr}`);
    }
    const n = this.runSlabs[slab];
    this.used -= n * SLAB_BYTES;
    for (let i = 0; i < n; i++) this.slabKind[slab + i] = SLAB_FREE;
    this.runSlabs[slab] = 0;
    this.releaseRun(slab, n);
  }

  /** Usable bytes at addr (its class size or run length). */
  usableSize(addr: number): number {
    const slab = slabOf(addr);
    const kind = this.slabKind[slab];
    if (kind > 0 && kind <= CLASS_COUNT) return CLASS_SIZES[kind - 1];
    return this.runSlabs[slab] * SLAB_BYTES;
  }

  /** The size a request of `size` bytes really occupies. */
  static roundedSize(size: number): number {
    if (size <= MAX_SMALL_ALLOC) return CLASS_SIZES[CLASS_OF_UNITS[(size + 7) >> 3]];
    return Math.ceil(size / SLAB_BYTES) * SLAB_BYTES;
  }

  /**
   * Gives the slabs of size classes whose blocks are all free back to the
   * slab pool, so that a large value fits again after many small keys were
   * deleted. Walks every free list: it runs only when an allocation found no
   * slab, and only if blocks were freed since it last ran. Returns true when
   * it released at least one slab.
   */
  private reclaimEmptySlabs(): boolean {
    if (this.freesSinceReclaim === 0) return false;
    this.freesSinceReclaim = 0;
    const u32 = this.arena.u32;
    const freeBlocks = new Uint32Array(this.slabCount);
    for (let c = 0; c < CLASS_COUNT; c++) {
      for (let p = this.freeHead[c]; p !== 0; p = u32[p / 4] * REF_UNIT_BYTES) freeBlocks[slabOf(p)]++;
    }
    const empty = new Uint8Array(this.slabCount);
    let found = false;
    for (let slab = 1; slab < this.topSlab; slab++) {
      const kind = this.slabKind[slab];
      if (kind === SLAB_FREE || kind > CLASS_COUNT || freeBlocks[slab] === 0) continue;
      const c = kind - 1;
      const start = slab * SLAB_BYTES;
      // Blocks carved so far: the whole slab, or up to the bump pointer in the class's current slab.
      const carved = this.bumpEnd[c] === start + SLAB_BYTES
        ? (this.bumpPtr[c] - start) / CLASS_SIZES[c]
        : Math.floor(SLAB_BYTES / CLASS_SIZES[c]);
      if (freeBlocks[slab] === carved) {
        empty[slab] = 1;
        found = true;
      }
    }
    if (!found) return false;
    // Unlink the empty slabs' blocks, keeping the order of the rest.
    for (let c = 0; c < CLASS_COUNT; c++) {
      let head = 0;
      let tail = 0;
      for (let p = this.freeHead[c]; p !== 0;) {
        const next = u32[p / 4] * REF_UNIT_BYTES;
        if (empty[slabOf(p)] === 0) {
          if (tail === 0) head = p;
          else u32[tail / 4] = p / REF_UNIT_BYTES;
          tail = p;
        }
        p = next;
      }
      if (tail !== 0) u32[tail / 4] = 0;
      this.freeHead[c] = head;
    }
    for (let slab = 1; slab < this.slabCount; slab++) {
      if (empty[slab] === 0) continue;
      const c = this.slabKind[slab] - 1;
      if (this.bumpEnd[c] === (slab + 1) * SLAB_BYTES) {
        this.bumpPtr[c] = 0;
        this.bumpEnd[c] = 0;
      }
      this.slabKind[slab] = SLAB_FREE;
      this.releaseRun(slab, 1);
    }
    return true;
  }

  private takeSlabs(n: number): number {
    for (const [start, len] of this.freeRunsByStart) {
      if (len < n) continue;
      this.freeRunsByStart.delete(start);
      this.freeRunsByEnd.delete(start + len);
      this.freeRunSlabs -= len;
      if (len > n) this.addFreeRun(start + n, len - n);
      return start;
    }
    if (this.topSlab + n > this.slabCount) return -1;
    const start = this.topSlab;
    this.topSlab += n;
    if (this.topSlab > this.highWaterSlab) this.highWaterSlab = this.topSlab;
    return start;
  }

  private releaseRun(start: number, n: number): void {
    let s = start;
    let len = n;
    const before = this.freeRunsByEnd.get(s);
    if (before !== undefined) {
      const beforeLen = this.freeRunsByStart.get(before) as number;
      this.freeRunsByStart.delete(before);
      this.freeRunsByEnd.delete(s);
      this.freeRunSlabs -= beforeLen;
      s = before;
      len += beforeLen;
    }
    const afterLen = this.freeRunsByStart.get(s + len);
    if (afterLen !== undefined) {
      this.freeRunsByStart.delete(s + len);
      this.freeRunsByEnd.delete(s + len + afterLen);
      this.freeRunSlabs -= afterLen;
      len += afterLen;
    }
    // A run that reaches the top goes back to the untouched region.
    if (s + len === this.topSlab) this.topSlab = s;
    else this.addFreeRun(s, len);
  }

  private addFreeRun(start: number, len: number): void {
    this.freeRunSlabs += len;
    this.freeRunsByStart.set(start, len);
    this.freeRunsByEnd.set(start + len, start);
  }
}

