import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRingBuffer, RingReader, RingWriter } from '../../src/mailbox/ring.ts';

/** Writes a record of `len` bytes (header included) whose payload bytes all equal `fill`. */
function writeRecord(w: RingWriter, len: number, fill: number): boolean {
  const at = w.reserve(len);
  if (at < 0) return false;
  w.u8.fill(fill, at + 4, at + len);
  w.commit(len);
  return true;
}

describe('SPSC ring', () => {
  it('property: records come out whole and in order across wrap-arounds; lookahead sees what next() will return', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 5, max: 1500 }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 400 }),
      fc.integer({ min: 1, max: 20 }),
      (records, lookaheadMax) => {
        const sab = createRingBuffer(4096);
        const w = new RingWriter(sab);
        const r = new RingReader(sab);
        const ahead = new Int32Array(lookaheadMax);
        const expected: Array<[number, number]> = [];
        const got: Array<[number, number]> = [];
        let k = 0;
        const drain = (): void => {
          w.publish();
          while (r.refresh()) {
            for (let n = r.lookahead(ahead, lookaheadMax); n > 0; n = r.lookahead(ahead, lookaheadMax)) {
              for (let j = 0; j < n; j++) {
                const idx = r.next();
                expect(idx).toBe(ahead[j]);
                const len = r.readU32(idx);
                const fill = r.u8[idx + 4];
                for (let i = 4; i < len; i++) if (r.u8[idx + i] !== fill) throw new Error(`record ${got.length} torn at byte ${i}`);
                got.push([len, fill]);
                r.consume(idx);
              }
            }
            expect(r.next()).toBe(-1);
            r.release();
          }
        };
        for (const [len, fill] of records) {
          if (!writeRecord(w, len, fill + k++ % 7)) {
            drain();
            expect(writeRecord(w, len, fill + (k - 1) % 7)).toBe(true);
          }
          expected.push([len, fill + (k - 1) % 7]);
        }
        drain();
        expect(got).toEqual(expected);
      },
    ), { numRuns: 200 });
  });

  it('refuses a record when the consumer has not released room, and accepts it once it has', () => {
    const sab = createRingBuffer(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    let written = 0;
    while (writeRecord(w, 1000, 1)) written++;
    expect(written).toBe(4);
    w.publish();
    expect(r.refresh()).toBe(true);
    const idx = r.next();
    r.consume(idx);
    // Consumed but not released: the writer must still see the ring as full.
    expect(writeRecord(w, 1000, 2)).toBe(false);
    r.release();
    expect(writeRecord(w, 1000, 2)).toBe(true);
  });
});
