import { copyBytes } from '../util/bytes.ts';
import { formatDouble } from '../util/numbers.ts';

const CRLF0 = 13;
const CRLF1 = 10;
/** A bulk at least this big grows the buffer to fit it exactly rather than by doubling. */
const EXACT_GROWTH_MIN = 1024 * 1024;
/** Room left after such a bulk for what may follow it (more of an array, a RESP3 attribute...). */
const EXACT_GROWTH_SLACK = 4096;

/** Decimal digits of 0 <= m < 2^31 (compares for the usual small numbers, divisions past them). */
function decimalDigits(m: number): number {
  if (m < 1000000) return m < 10 ? 1 : m < 100 ? 2 : m < 1000 ? 3 : m < 10000 ? 4 : m < 100000 ? 5 : 6;
  let count = 7;
  for (let t = (m / 10000000) | 0; t > 0; t = (t / 10) | 0) count++;
  return count;
}

/**
 * RESP encoder writing into a reusable byte buffer. A shard encodes each
 * reply here (RESP2 or RESP3, as the request asked) and then copies it into the
 * reply ring as one record; the front thread forwards the bytes untouched.
 */
export class ReplyBuffer {
  /** A small buffer for one front-thread reply in the client's protocol. */
  static forClient(resp: number): ReplyBuffer {
    const r = new ReplyBuffer(256);
    r.reset(resp === 3);
    return r;
  }

  buf: Uint8Array;
  /** Where the reply being built starts in `buf`: 0, or past another owner's bytes while borrowed. */
  start = 0;
  /** Where the reply being built ends in `buf`. */
  len = 0;
  resp3 = false;
  private readonly initial: number;
  /** This buffer's own bytes while it writes into a borrowed one (see borrow), else null. */
  private own: Uint8Array | null = null;

  constructor(initial = 64 * 1024) {
    this.initial = initial;
    this.buf = new Uint8Array(initial);
  }

  reset(resp3: boolean): void {
    this.len = this.start;
    this.resp3 = resp3;
  }

  /** True while writing into a borrowed buffer. */
  get borrowed(): boolean {
    return this.own !== null;
  }

  /** Bytes of the reply built so far. */
  get size(): number {
    return this.len - this.start;
  }

  /**
   * Writes the next reply into `buf` after its first `at` bytes, in place (a
   * client's output buffer: no copy on the way out), until giveBack. A reply
   * that outgrows it moves, with those bytes, to a bigger buffer.
   */
  borrow(buf: Uint8Array, at: number): void {
    this.own ??= this.buf;
    this.buf = buf;
    this.start = at;
    this.len = at;
  }

  /** Ends a borrow: returns the borrowed buffer (or the bigger one it moved to), the reply ending at `len`. */
  giveBack(): Uint8Array {
    const b = this.buf;
    this.buf = this.own ?? b;
    this.own = null;
    this.start = 0;
    this.len = 0;
    return b;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    // (A borrowed buffer may be empty: doubling starts from something.)
    let size = Math.max(this.buf.length * 2, 64);
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /**
   * Room for a big bulk: exactly what it needs when the buffer holds little
   * yet (one big value is written once, into a buffer of its size, then sent
   * as it is), at least double what it holds otherwise (many big values).
   */
  private ensureExact(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.len + n + EXACT_GROWTH_SLACK, 2 * this.len));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /**
   * Hands over the reply built so far in its own buffer (to be transferred to
   * another thread: no copy) and starts again with a fresh buffer.
   */
  take(): Uint8Array {
    if (this.own !== null) {
      // A borrowed buffer is not this one's to give: the reply is copied out of it.
      const copy = this.buf.slice(this.start, this.len);
      this.len = this.start;
      return copy;
    }
    const reply = new Uint8Array(this.buf.buffer, 0, this.len);
    this.buf = new Uint8Array(this.initial);
    this.len = 0;
    return reply;
  }

  private ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.len;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.len = p;
  }

  private crlf(): void {
    this.buf[this.len++] = CRLF0;
    this.buf[this.len++] = CRLF1;
  }

  /** Writes a non-negative or negative safe integer in decimal. */
  private decimal(n: number): void {
    this.ensure(24);
    if (n < 0) {
      this.buf[this.len++] = 45;
      n = -n;
    }
    if (n <= 0x7fffffff) {
      this.digits(n, 1);
      return;
    }
    // Beyond int32: the part above 10^9 (at most 9007199 for a safe integer),
    // then exactly nine digits, so all the arithmetic stays in int32.
    const high = Math.floor(n / 1e9);
    this.digits(high, 1);
    this.digits(n - high * 1e9, 9);
  }

  /** `m` (0 <= m < 2^31) in decimal, zero-padded to at least `width` digits; int32 arithmetic only. */
  private digits(m: number, width: number): void {
    let count = decimalDigits(m);
    if (count < width) count = width;
    const b = this.buf;
    let p = this.len + count;
    this.len = p;
    for (let i = 0; i < count; i++) {
      const q = (m / 10) | 0;
      b[--p] = 48 + (m - q * 10);
      m = q;
    }
  }

  private header(prefix: number, n: number): void {
    this.ensure(26);
    this.buf[this.len++] = prefix;
    this.decimal(n);
    this.crlf();
  }

  ok(): this {
    // The most common reply, written without going through the string.
    this.ensure(5);
    const b = this.buf;
    const p = this.len;
    b[p] = 43; // +
    b[p + 1] = 79; // O
    b[p + 2] = 75; // K
    b[p + 3] = CRLF0;
    b[p + 4] = CRLF1;
    this.len = p + 5;
    return this;
  }

  simple(s: string): this {
    this.ensure(3);
    this.buf[this.len++] = 43; // +
    this.ascii(s);
    this.ensure(2);
    this.crlf();
    return this;
  }

  /** Error reply; `msg` is the full text after '-', e.g. "ERR syntax error". */
  error(msg: string): this {
    this.ensure(3);
    this.buf[this.len++] = 45; // -
    this.ascii(msg.replace(/[\r\n]/g, ' ')); // each CR or LF becomes a space, as Redis does
    this.ensure(2);
    this.crlf();
    return this;
  }

  int(n: number): this {
    if (n >= 0 && n <= 0x7fffffff) {
      // The usual integer reply (a count, a length): one room check, no sign or range work.
      this.ensure(13);
      this.buf[this.len++] = 58; // :
      this.digits(n, 1);
      this.crlf();
      return this;
    }
    this.header(58, n); // :
    return this;
  }

  /** Integer reply whose decimal form is already written out (INCR's new value, digits[off, off + n)). */
  intDigits(digits: Uint8Array, off: number, n: number): this {
    this.ensure(n + 3);
    const b = this.buf;
    let p = this.len;
    b[p++] = 58; // :
    for (let i = 0; i < n; i++) b[p++] = digits[off + i];
    b[p++] = CRLF0;
    b[p++] = CRLF1;
    this.len = p;
    return this;
  }

  bigint(n: bigint): this {
    this.ensure(1);
    this.buf[this.len++] = 58;
    this.ascii(n.toString());
    this.ensure(2);
    this.crlf();
    return this;
  }

  bulk(src: Uint8Array, off: number, n: number): this {
    if (n < 100) {
      // The usual small value: one room check, its header and both line ends written here.
      this.ensure(n + 7);
      const b = this.buf;
      let p = this.len;
      b[p++] = 36; // $
      if (n >= 10) {
        const tens = (n / 10) | 0;
        b[p++] = 48 + tens;
        b[p++] = 48 + n - tens * 10;
      } else {
        b[p++] = 48 + n;
      }
      b[p++] = CRLF0;
      b[p++] = CRLF1;
      copyBytes(src, off, b, p, n);
      p += n;
      b[p++] = CRLF0;
      b[p++] = CRLF1;
      this.len = p;
      return this;
    }
    this.header(36, n); // $
    if (n >= EXACT_GROWTH_MIN) this.ensureExact(n + 2);
    else this.ensure(n + 2);
    this.buf.set(src.subarray(off, off + n), this.len);
    this.len += n;
    this.crlf();
    return this;
  }

  /** Bulk string from a JS string of bytes (latin1). */
  bulkString(s: string): this {
    this.header(36, s.length);
    this.ascii(s);
    this.ensure(2);
    this.crlf();
    return this;
  }

  /** Bulk string from UTF-8 text. */
  bulkText(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.bulk(bytes, 0, bytes.length);
    return this;
  }

  bulkInt(n: number): this {
    this.bulkString(String(n));
    return this;
  }

  nil(): this {
    this.ensure(5);
    const b = this.buf;
    const p = this.len;
    if (this.resp3) {
      b[p] = 95; // _
      b[p + 1] = CRLF0;
      b[p + 2] = CRLF1;
      this.len = p + 3;
    } else {
      b[p] = 36; // $
      b[p + 1] = 45; // -
      b[p + 2] = 49; // 1
      b[p + 3] = CRLF0;
      b[p + 4] = CRLF1;
      this.len = p + 5;
    }
    return this;
  }

  nilArray(): this {
    if (this.resp3) this.ascii('_\r\n');
    else this.ascii('*-1\r\n');
    return this;
  }

  array(n: number): this {
    this.header(42, n); // *
    return this;
  }

  /** RESP3 map, flattened to an array of 2n items in RESP2. */
  map(n: number): this {
    if (this.resp3) this.header(37, n); // %
    else this.header(42, n * 2);
    return this;
  }

  /** RESP3 set, an array in RESP2. */
  set(n: number): this {
    this.header(this.resp3 ? 126 : 42, n); // ~
    return this;
  }

  /** A double: RESP3 ',' type, a bulk string in RESP2. */
  double(x: number): this {
    const s = formatDouble(x);
    if (this.resp3) {
      this.ensure(1);
      this.buf[this.len++] = 44; // ,
      this.ascii(s);
      this.ensure(2);
      this.crlf();
    } else {
      this.bulkString(s);
    }
    return this;
  }

  /** Verbatim text (RESP3 '=' with the txt format), a bulk string in RESP2. */
  verbatim(text: string): this {
    if (!this.resp3) {
      this.bulkText(text);
      return this;
    }
    const bytes = Buffer.from(text, 'utf8');
    this.header(61, bytes.length + 4); // =
    this.ascii('txt:');
    this.ensure(bytes.length + 2);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    this.crlf();
    return this;
  }

  /** Bulk string from UTF-8 text or from bytes (front-thread convenience). */
  bulkOf(v: string | Uint8Array): this {
    return typeof v === 'string' ? this.bulkText(v) : this.bulk(v, 0, v.length);
  }

  /** A copy of the reply built so far (front thread: the bytes outlive this buffer). */
  done(): Buffer {
    return Buffer.from(this.buf.subarray(this.start, this.len));
  }

  /** Appends pre-encoded RESP. */
  raw(src: Uint8Array, off: number, n: number): this {
    this.ensure(n);
    this.buf.set(src.subarray(off, off + n), this.len);
    this.len += n;
    return this;
  }

  rawString(s: string): this {
    this.ascii(s);
    return this;
  }
}
