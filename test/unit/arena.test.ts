import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena, SIZE_CLASSES, SlabAllocator, OutOfMemoryError } from '../../src/store/arena.ts';
import { MAX_SMALL_ALLOC, SLAB_BYTES } from '../../native-layout/layout.ts';

function newAllocator(mb = 64): SlabAllocator {
  return new SlabAllocator(new Arena(new SharedArrayBuffer(mb * 1024 * 1024)));
}

describe('SlabAllocator', () => {
  it('size classes are increasing, 8-aligned, and waste at most 7 bytes or 20%', () => {
    for (let i = 1; i < SIZE_CLASSES.length; i++) {
      expect(SIZE_CLASSES[i]).toBeGreaterThan(SIZE_CLASSES[i - 1]);
      expect(SIZE_CLASSES[i] % 8).toBe(0);
      const waste = SIZE_CLASSES[i] - SIZE_CLASSES[i - 1] - 1;
      expect(waste <= 7 || waste / SIZE_CLASSES[i] <= 0.2).toBe(true);
    }
    expect(SIZE_CLASSES[SIZE_CLASSES.length - 1]).toBe(MAX_SMALL_ALLOC);
  });

  it('never hands out address 0 and rounds to the class size', () => {
    const a = newAllocator();
    const p = a.alloc(1);
    expect(p).toBeGreaterThan(0);
    expect(a.usableSize(p)).toBe(16);
    expect(a.used).toBe(16);
    const q = a.alloc(100);
    expect(a.usableSize(q)).toBe(SlabAllocator.roundedSize(100));
    a.free(p);
    a.free(q);
    expect(a.used).toBe(0);
  });

  it('large allocations take whole slabs and coalesce when freed', () => {
    const a = newAllocator(8);
    const slabs = (8 * 1024 * 1024) / SLAB_BYTES - 1;
    const x = a.alloc(SLAB_BYTES * 3);
    const y = a.alloc(SLAB_BYTES * 2 + 1);
    expect(a.usableSize(y)).toBe(SLAB_BYTES * 3);
    a.free(x);
    a.free(y);
    // After coalescing, one allocation spanning every slab fits again.
    const all = a.alloc(slabs * SLAB_BYTES);
    expect(all).toBe(SLAB_BYTES);
    expect(() => a.alloc(SLAB_BYTES)).toThrow(OutOfMemoryError);
  });

  it('property: live blocks never overlap and keep their contents (model check)', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(
        fc.record({ op: fc.constant('alloc' as const), size: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200_000 })) }),
        fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
      ), { maxLength: 300 }),
      (ops) => {
        const a = newAllocator(64);
        const u8 = a.arena.u8;
        const live: { addr: number; size: number; fill: number }[] = [];
        let fill = 1;
        for (const o of ops) {
          if (o.op === 'alloc') {
            const addr = a.alloc(o.size);
            expect(addr % 8).toBe(0);
            expect(a.usableSize(addr)).toBeGreaterThanOrEqual(o.size);
            const f = fill++ & 0xff || 1;
            u8.fill(f, addr, addr + o.size);
            live.push({ addr, size: o.size, fill: f });
          } else if (live.length > 0) {
            const [b] = live.splice(o.pick % live.length, 1);
            a.free(b.addr);
          }
        }
        const sorted = [...live].sort((x, y) => x.addr - y.addr);
        for (let i = 1; i < sorted.length; i++) {
          expect(sorted[i].addr).toBeGreaterThanOrEqual(sorted[i - 1].addr + sorted[i - 1].size);
        }
        for (const b of live) {
          expect(u8[b.addr]).toBe(b.fill);
          expect(u8[b.addr + b.size - 1]).toBe(b.fill);
        }
        const expectedUsed = live.reduce((n, b) => n + a.usableSize(b.addr), 0);
        expect(a.used).toBe(expectedUsed);
      },
    ), { numRuns: 60 });
  });
});

describe('SlabAllocator when full', () => {
  it('tryAlloc returns 0 with nothing changed, and emptied class slabs serve large requests again', () => {
    const a = newAllocator(1);
    const small: number[] = [];
    for (let p = a.tryAlloc(40); p !== 0; p = a.tryAlloc(40)) small.push(p);
    const used = a.used;
    expect(a.tryAlloc(40)).toBe(0);
    expect(a.tryAlloc(SLAB_BYTES * 2)).toBe(0);
    expect(a.used).toBe(used);
    // Free every small block: their slabs hold nothing, so a run of slabs fits again.
    for (const p of small) a.free(p);
    expect(a.used).toBe(0);
    const big = a.alloc(15 * SLAB_BYTES);
    expect(big).toBe(SLAB_BYTES);
    a.free(big);
    // And small blocks of another class can use those slabs.
    expect(a.tryAlloc(1000)).not.toBe(0);
  });

  it('property: in a 1 MiB arena, allocations that fail change nothing and live blocks keep their contents', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(
        // Few blocks per slab (20-30 KB) so that class slabs empty out, and
        // runs big enough to fail until they are given back.
        fc.record({ op: fc.constant('alloc' as const), size: fc.oneof(
          fc.constantFrom(24, 200, 3000, 20_000, 30_000, 100_000, 300_000, 500_000),
          fc.integer({ min: 1, max: 600_000 }),
        ) }),
        fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
      ), { maxLength: 400 }),
      (ops) => {
        const a = newAllocator(1);
        const u8 = a.arena.u8;
        const live: { addr: number; size: number; fill: number }[] = [];
        let fill = 1;
        for (const o of ops) {
          if (o.op === 'alloc') {
            const before = a.used;
            const addr = a.tryAlloc(o.size);
            if (addr === 0) {
              expect(a.used).toBe(before);
              continue;
            }
            expect(addr % 8).toBe(0);
            expect(addr + o.size).toBeLessThanOrEqual(a.capacityBytes);
            const f = fill++ & 0xff || 1;
            u8.fill(f, addr, addr + o.size);
            live.push({ addr, size: o.size, fill: f });
          } else if (live.length > 0) {
            const [b] = live.splice(o.pick % live.length, 1);
            a.free(b.addr);
          }
        }
        const sorted = [...live].sort((x, y) => x.addr - y.addr);
        for (let i = 1; i < sorted.length; i++) {
          expect(sorted[i].addr).toBeGreaterThanOrEqual(sorted[i - 1].addr + sorted[i - 1].size);
        }
        for (const b of live) {
          expect(u8[b.addr]).toBe(b.fill);
          expect(u8[b.addr + b.size - 1]).toBe(b.fill);
        }
        expect(a.used).toBe(live.reduce((n, b) => n + a.usableSize(b.addr), 0));
        // Everything freed, the whole arena is one run again (no slab lost, no block handed out twice).
        for (const b of live) a.free(b.addr);
        expect(a.used).toBe(0);
        const all = a.tryAlloc(a.capacityBytes - SLAB_BYTES);
        expect(all).toBe(SLAB_BYTES);
        a.free(all);
        for (let i = 0; i < 64; i++) expect(a.tryAlloc(24)).not.toBe(0);
      },
    ), { numRuns: 200 });
  });
});
