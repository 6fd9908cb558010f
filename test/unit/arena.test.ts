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
