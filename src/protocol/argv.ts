import { parseI64 } from '../util/numbers.ts';

/**
 * A command's arguments sent to a shard in the buffer they were parsed into
 * (the side-port message of a large request record whose bytes were not
 * repacked): argument i is u8[off[i], off[i] + len[i]).
 */
export interface ArgvParts {
  u8: Uint8Array;
  off: Int32Array;
  len: Int32Array;
}

/**
 * A command's arguments as (offset, length) pairs over one byte buffer. On the
 * front thread the parser fills one in place over its read buffer (no copy);
 * commands that must outlive the read buffer (deferred behind a held shard)
 * are cloned. On a shard, one Argv is pointed at each request record in the
 * ring in turn, so a value is copied only when a command stores it.
 */
export class Argv {
  u8: Uint8Array;
  off: Int32Array;
  len: Int32Array;
  count: number;
  /**
   * Set by an owner of `u8` that can give the whole buffer away (the front's
   * parser): returns `u8`, which the owner no longer uses, or null when it
   * cannot. A shard link uses it to transfer a huge command to its shard
   * without copying it; after a successful call `u8` must not be read again.
   */
  release: (() => Uint8Array | null) | null = null;

  constructor(u8: Uint8Array = new Uint8Array(0), off: Int32Array = new Int32Array(8), len: Int32Array = new Int32Array(8), count = 0) {
    this.u8 = u8;
    this.off = off;
    this.len = len;
    this.count = count;
  }

  /** Makes room for n arguments. */
  ensure(n: number): void {
    if (n <= this.off.length) return;
    let size = this.off.length;
    while (size < n) size *= 2;
    this.off = new Int32Array(size);
    this.len = new Int32Array(size);
  }

  static fromStrings(items: ReadonlyArray<string | Uint8Array>): Argv {
    const parts = items.map((s) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const u8 = Buffer.allocUnsafe(total);
    const off = new Int32Array(Math.max(1, parts.length));
    const len = new Int32Array(Math.max(1, parts.length));
    let p = 0;
    parts.forEach((b, i) => {
      u8.set(b, p);
      off[i] = p;
      len[i] = b.length;
      p += b.length;
    });
    return new Argv(u8, off, len, parts.length);
  }

  clone(): Argv {
    let total = 0;
    for (let i = 0; i < this.count; i++) total += this.len[i];
    const u8 = Buffer.allocUnsafe(total);
    const off = new Int32Array(Math.max(1, this.count));
    const len = new Int32Array(Math.max(1, this.count));
    let p = 0;
    for (let i = 0; i < this.count; i++) {
      u8.set(this.u8.subarray(this.off[i], this.off[i] + this.len[i]), p);
      off[i] = p;
      len[i] = this.len[i];
      p += this.len[i];
    }
    return new Argv(u8, off, len, this.count);
  }

  /** Argument i as a latin1 string (one char per byte). */
  str(i: number): string {
    return Buffer.from(this.u8.buffer, this.u8.byteOffset + this.off[i], this.len[i]).toString('latin1');
  }

  /** A view of argument i (no copy: valid while the underlying bytes are). */
  bytes(i: number): Buffer {
    return Buffer.from(this.u8.buffer, this.u8.byteOffset + this.off[i], this.len[i]);
  }

  /** Argument i as UTF-8 text (for messages). */
  text(i: number): string {
    return this.bytes(i).toString('utf8');
  }

  /** Argument i as a safe integer, or NaN when it is not a Redis integer (or outside ±2^53). */
  int(i: number): number {
    return parseI64(this.u8, this.off[i], this.len[i]);
  }

  /** Case-insensitive match against a lower-case ASCII keyword. */
  is(i: number, lower: string): boolean {
    const n = this.len[i];
    if (n !== lower.length) return false;
    const o = this.off[i];
    for (let k = 0; k < n; k++) {
      let c = this.u8[o + k];
      if (c >= 65 && c <= 90) c += 32;
      if (c !== lower.charCodeAt(k)) return false;
    }
    return true;
  }

  /** Lower-case name of argument i (command names). */
  lower(i: number): string {
    return this.str(i).toLowerCase();
  }

  strings(from = 0): string[] {
    const out: string[] = [];
    for (let i = from; i < this.count; i++) out.push(this.str(i));
    return out;
  }
}
