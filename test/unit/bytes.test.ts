import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { copyBytes, dataViewOf, equalBytes } from '../../src/util/bytes.ts';
import { hashBytes } from '../../src/util/hash.ts';

/** The bytes placed at `at` in a fresh array of the given kind, which itself starts `shift` bytes into its buffer. */
function placed(kind: number, bytes: Uint8Array, at: number, shift: number): Uint8Array {
  const size = shift + at + bytes.length + 3;
  const whole = kind === 0 ? new Uint8Array(size) : kind === 1 ? Buffer.alloc(size) : new Uint8Array(new SharedArrayBuffer(size));
  whole.fill(0xa5);
  const u8 = whole.subarray(shift);
  u8.set(bytes, at);
  return u8;
}

const arrayKind = fc.integer({ min: 0, max: 2 });

describe('byte helpers', () => {
  it('equalBytes agrees with a byte-by-byte compare at any offsets, lengths and array kinds', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }),
        arrayKind, arrayKind, fc.integer({ min: -1, max: 39 }),
        (bytes, n0, at1, at2, s1, s2, k1, k2, flip) => {
          const n = Math.min(n0, bytes.length);
          const a = placed(k1, bytes, at1, s1);
          const other = Uint8Array.from(bytes);
          if (flip >= 0 && flip < n) other[flip] ^= 1 << (flip & 7);
          const b = placed(k2, other, at2, s2);
          let naive = true;
          for (let i = 0; i < n; i++) if (a[at1 + i] !== b[at2 + i]) naive = false;
          expect(equalBytes(a, dataViewOf(a), at1, b, dataViewOf(b), at2, n)).toBe(naive);
          expect(naive).toBe(!(flip >= 0 && flip < n));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('dataViewOf gives a view of the array asked for, while other arrays come and go', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), arrayKind, fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 40 }),
        (picks) => {
          // Eight arrays, each of its own kind and offset into its buffer, marked with its number.
          const arrays = new Map<number, Uint8Array>();
          for (const [id, kind, shift] of picks) {
            let u8 = arrays.get(id);
            if (u8 === undefined) {
              u8 = placed(kind, Uint8Array.of(id, id, id, id, id), 0, shift);
              arrays.set(id, u8);
            }
            const v = dataViewOf(u8);
            expect(v.byteLength).toBe(u8.byteLength);
            expect(v.getUint8(0)).toBe(id);
            expect(v.getInt32(1)).toBe(((id << 24) | (id << 16) | (id << 8) | id) | 0);
          }
        }),
      { numRuns: 500 },
    );
  });

  it('hashBytes gives the same hash for the same bytes wherever they are', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }), arrayKind, arrayKind, fc.integer(),
        (bytes, at1, at2, s1, s2, k1, k2, seed) => {
          const a = placed(k1, bytes, at1, s1);
          const b = placed(k2, bytes, at2, s2);
          expect(hashBytes(a, at1, bytes.length, seed)).toBe(hashBytes(b, at2, bytes.length, seed));
          expect(hashBytes(a, at1, bytes.length, seed)).toBe(hashBytes(Uint8Array.from(bytes), 0, bytes.length, seed));
        }),
      { numRuns: 2000 },
    );
  });

  it('copyBytes copies short and long runs between array kinds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), arrayKind, arrayKind,
        (bytes, at1, at2, k1, k2) => {
          const src = placed(k1, bytes, at1, 1);
          const dst = placed(k2, new Uint8Array(bytes.length), at2, 2);
          copyBytes(src, at1, dst, at2, bytes.length);
          expect(Buffer.from(dst.subarray(at2, at2 + bytes.length)).equals(Buffer.from(bytes))).toBe(true);
          // Nothing around the run was touched.
          if (at2 > 0) expect(dst[at2 - 1]).toBe(0xa5);
          expect(dst[at2 + bytes.length]).toBe(0xa5);
        }),
      { numRuns: 1000 },
    );
  });
});
