import { parseI64 } from '../util/numbers.ts';

/**
 * The arguments of the command being executed, as (offset, length) pairs into
 * the bytes they arrived in (the request ring, or a side buffer for large
 * requests). Nothing is copied until a command decides to store a value.
 */
export class Args {
  u8: Uint8Array = new Uint8Array(0);
  count = 0;
  off = new Int32Array(64);
  len = new Int32Array(64);

  ensure(n: number): void {
    if (n <= this.off.length) return;
    let size = this.off.length;
    while (size < n) size *= 2;
    this.off = new Int32Array(size);
    this.len = new Int32Array(size);
  }

  /** Argument i as a latin1 string (exact bytes, one char per byte). */
  str(i: number): string {
    return Buffer.from(this.u8.buffer, this.u8.byteOffset + this.off[i], this.len[i]).toString('latin1');
  }

  /** Argument i as UTF-8 text (for messages). */
  text(i: number): string {
    return Buffer.from(this.u8.buffer, this.u8.byteOffset + this.off[i], this.len[i]).toString('utf8');
  }

  /** Case-insensitive comparison with an ASCII keyword written in lower case. */
  is(i: number, lower: string): boolean {
    const n = this.len[i];
    if (n !== lower.length) return false;
    const b = this.u8;
    const o = this.off[i];
    for (let k = 0; k < n; k++) {
      let c = b[o + k];
      if (c >= 65 && c <= 90) c += 32;
      if (c !== lower.charCodeAt(k)) return false;
    }
    return true;
  }

  /** Argument i as a safe integer, or NaN when it is not a Redis integer (or outside ±2^53). */
  int(i: number): number {
    return parseI64(this.u8, this.off[i], this.len[i]);
  }

  /** A copy of argument i's bytes. */
  bytes(i: number): Uint8Array {
    return this.u8.slice(this.off[i], this.off[i] + this.len[i]);
  }
}
