/**
 * Streaming, zero-copy RESP request parser for the front thread.
 *
 * Behaviour follows Redis 7.0 networking.c (processInputBuffer,
 * processInlineBuffer, processMultibulkBuffer) byte for byte, including its
 * quirks:
 *  - line searches behave like strchr() on a NUL-terminated buffer: a NUL byte
 *    before the searched '\r' / '\n' means "not found yet" (the request then
 *    waits until the 64 KiB inline limit turns it into a protocol error);
 *  - the two bytes after a count line's '\r' and after a bulk's payload are
 *    skipped without checking that they are "\r\n";
 *  - numbers are parsed with string2ll() rules (no '+', no leading zeros,
 *    "-0" is invalid, at most 20 characters, int64 range);
 *  - `*N` with N <= 0 and empty inline lines produce no command.
 *
 * Memory model: when nothing is pending, feed() adopts the caller's chunk as
 * `buf` (no copy). Bytes that must survive across chunks are copied into a
 * parser-owned buffer that grows geometrically. A bulk of 32 KiB or more that
 * is not yet complete gets its whole size reserved once (like Redis's
 * sdsMakeRoomForNonGreedy), so a huge value is copied exactly once.
 *
 * Ownership: feed() takes the chunk. Inline parsing un-escapes quoted
 * arguments in place, rewriting bytes of the line that was just consumed.
 * After compact() the parser holds no reference to any chunk passed to feed(),
 * so a caller may reuse its read buffer after calling compact().
 */

export interface ParserLimits {
  protoMaxBulkLen: number;
  queryBufferLimit: number;
}

const PROTO_INLINE_MAX_SIZE = 64 * 1024;
const PROTO_MBULK_BIG_ARG = 32 * 1024;
const INT_MAX = 2147483647;
const UNAUTH_MAX_MULTIBULK = 10;
const UNAUTH_MAX_BULK = 16384;
/** Offsets are stored in Int32Array, so one command must fit in 2 GiB. */
const MAX_BUFFER = 0x7fffffff;
const MIN_OWNED = 16 * 1024;
/** An idle owned buffer larger than this is dropped by compact(). */
const MAX_IDLE_OWNED = 64 * 1024;

const MODE_NONE = 0;
const MODE_INLINE = 1;
const MODE_MULTIBULK = 2;

const NUL = 0;
const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const DQUOTE = 34;
const DOLLAR = 36;
const SQUOTE = 39;
const STAR = 42;
const MINUS = 45;
const BACKSLASH = 92;
const LOWER_X = 120;

const EMPTY = Buffer.alloc(0);

/** Digits of -LLONG_MIN and LLONG_MAX, for the exact 19-digit overflow check. */
const LLONG_MAX_DIGITS = [9, 2, 2, 3, 3, 7, 2, 0, 3, 6, 8, 5, 4, 7, 7, 5, 8, 0, 7];

/**
 * string2ll() over buf[start, end). Returns NaN when Redis would reject the
 * text. Values beyond 2^53 are approximate, which only matters for comparisons
 * against limits far below that.
 */
function parseLongLong(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len >= 21) return NaN;
  let p = start;
  let c = buf[p];
  if (len === 1 && c === 48) return 0;
  let negative = false;
  if (c === MINUS) {
    negative = true;
    p++;
    if (p === end) return NaN;
    c = buf[p];
  }
  if (c < 49 || c > 57) return NaN;
  const digitsStart = p;
  let value = c - 48;
  p++;
  for (; p < end; p++) {
    c = buf[p];
    if (c < 48 || c > 57) return NaN;
    value = value * 10 + (c - 48);
  }
  const digits = end - digitsStart;
  if (digits > 19) return NaN;
  if (digits === 19) {
    // Compare against 9223372036854775807 (or ...808 for negatives).
    for (let i = 0; i < 19; i++) {
      const limit = i === 18 && negative ? 8 : LLONG_MAX_DIGITS[i];
      const d = buf[digitsStart + i] - 48;
      if (d < limit) break;
      if (d > limit) return NaN;
    }
  }
  return negative ? -value : value;
}

function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class RequestParser {
  /** Mutable: CONFIG SET may replace or modify it at any time. */
  limits: ParserLimits;
  /** When false, Redis's unauthenticated limits apply (argc <= 10, bulk <= 16384). */
  authenticated = true;

  /** Number of arguments of the last command returned by next(). */
  argc = 0;
  /** Buffer the arguments live in; valid until the next feed()/next()/compact(). */
  buf: Buffer = EMPTY;
  argOffset: Int32Array = new Int32Array(16);
  argLength: Int32Array = new Int32Array(16);
  /**
   * Protocol error text without the leading "-ERR " (empty string: close the
   * connection without a reply). It may hold one raw byte (the "got 'X'"
   * case), encoded as latin1: write it with Buffer.from(error, 'latin1').
   */
  error = '';
  /** The last command came in the inline protocol. */
  isInline = false;
  /**
   * With an empty `error`: the buffer for a declared bulk could not be
   * allocated (the machine is out of memory), rather than the query buffer
   * limit being passed. The connection is closed either way.
   */
  outOfMemory = false;

  /** End of valid data in buf. */
  private end = 0;
  /** Parse position (Redis's qb_pos). */
  private pos = 0;
  /** Start of the command being assembled; equals pos when idle. */
  private cmdStart = 0;
  /** buf is a chunk handed to feed(), not owned by the parser. */
  private external = false;
  /** Parser-owned storage (buf when not external). */
  private owned: Buffer = EMPTY;

  private mode = MODE_NONE;
  /** Arguments still expected by the multibulk being parsed. */
  private multibulkLen = 0;
  /** Length of the bulk being read, -1 when its header is still to come. */
  private bulkLen = -1;
  /** Arguments collected so far for the command being assembled. */
  private nargs = 0;
  private failed = false;

  /** Memo for the line scan: scanning from scanFrom resumes at scanResume (-1: a NUL blocks it). */
  private scanFrom = -1;
  private scanResume = 0;

  constructor(limits: ParserLimits) {
    this.limits = limits;
  }

  /**
   * Append bytes received from the socket: the first `n` bytes of `chunk` (all
   * of it by default; a reused read buffer holds older bytes past `n`).
   */
  feed(chunk: Buffer, n = chunk.length): void {
    if (n === 0 || this.failed) return;
    if (this.cmdStart === this.end) {
      // Nothing pending: parse straight out of the caller's chunk.
      this.buf = chunk;
      this.external = true;
      this.end = n;
      this.pos = 0;
      this.cmdStart = 0;
      this.scanFrom = -1;
      return;
    }
    if (!this.external && this.buf.length - this.end >= n) {
      chunk.copy(this.buf, this.end, 0, n);
      this.end += n;
      return;
    }
    const keep = this.end - this.cmdStart;
    if (!this.relocate(keep + n, keep * 2)) return;
    chunk.copy(this.buf, this.end, 0, n);
    this.end += n;
  }

  /**
   * Parse the next complete command: 1 = ready (argc/buf/argOffset/argLength),
   * 0 = more bytes needed, -1 = protocol error (see `error`).
   */
  next(): number {
    if (this.failed) return -1;
    for (;;) {
      if (this.mode === MODE_NONE) {
        if (this.pos >= this.end) return this.needMore();
        this.cmdStart = this.pos;
        this.nargs = 0;
        this.mode = this.buf[this.pos] === STAR ? MODE_MULTIBULK : MODE_INLINE;
      }
      const inline = this.mode === MODE_INLINE;
      const r = inline ? this.parseInline() : this.parseMultibulk();
      if (r === 1) {
        this.mode = MODE_NONE;
        this.cmdStart = this.pos;
        if (this.nargs === 0) continue; // empty line, *0, *-1: no command
        this.argc = this.nargs;
        this.isInline = inline;
        return 1;
      }
      if (r === 0) return this.needMore();
      return -1;
    }
  }

  /**
   * Gives away the buffer holding the command next() just returned, for a
   * caller that transfers it to another thread: its arguments stay at
   * argOffset/argLength in the returned buffer, and the bytes received after
   * the command move to a new buffer. Null when the command lies in a chunk
   * the parser does not own, or in a buffer that shares its memory (the
   * caller then copies the arguments). A bound function, for Argv.release.
   */
  readonly release = (): Uint8Array | null => {
    const old = this.buf;
    if (this.external || this.mode !== MODE_NONE || this.failed) return null;
    if (old.byteOffset !== 0 || old.buffer.byteLength !== old.length) return null;
    const rest = this.end - this.pos;
    const next = Buffer.allocUnsafeSlow(Math.max(MIN_OWNED, rest));
    old.copy(next, 0, this.pos, this.end);
    this.buf = next;
    this.owned = next;
    this.end = rest;
    this.pos = 0;
    this.cmdStart = 0;
    this.scanFrom = -1;
    return old;
  };

  /** Bytes received but not parsed yet (Redis's qbuf for CLIENT LIST). */
  pendingBytes(): number {
    return this.end - this.pos;
  }

  /** The first `n` of those bytes (a view: valid until the next feed()/next()/compact()). */
  pendingHead(n: number): Uint8Array {
    return this.buf.subarray(this.pos, Math.min(this.end, this.pos + n));
  }

  /**
   * Drop consumed bytes. Afterwards no chunk passed to feed() is referenced and
   * the arguments of the last command are no longer valid.
   */
  compact(): void {
    if (this.cmdStart === this.end) {
      if (this.owned.length > MAX_IDLE_OWNED) this.owned = EMPTY;
      this.buf = this.owned;
      this.external = false;
      this.end = 0;
      this.pos = 0;
      this.cmdStart = 0;
      this.scanFrom = -1;
      return;
    }
    if (this.external) {
      const keep = this.end - this.cmdStart;
      this.relocate(keep, keep);
    }
  }

  private needMore(): number {
    if (this.end - this.pos > this.limits.queryBufferLimit) {
      // Redis closes such a client without a reply.
      return this.fail('');
    }
    return 0;
  }

  private fail(message: string): number {
    this.error = message;
    this.failed = true;
    return -1;
  }

  /**
   * Move the pending bytes [cmdStart, end) to the start of an owned buffer of
   * at least `need` bytes (`want` is the preferred size when a new one must be
   * allocated) and rebase every stored offset.
   */
  private relocate(need: number, want: number): boolean {
    if (need > MAX_BUFFER) {
      this.fail('');
      return false;
    }
    const start = this.cmdStart;
    const keep = this.end - start;
    let target: Buffer;
    if (!this.external && this.buf.length >= need) {
      target = this.buf;
      if (start > 0) target.copyWithin(0, start, this.end);
    } else {
      if (this.external && this.owned.length >= need) {
        target = this.owned;
      } else {
        const size = Math.min(MAX_BUFFER, Math.max(need, want, MIN_OWNED));
        try {
          target = Buffer.allocUnsafe(size);
        } catch {
          // A declared 512 MB bulk on a machine without the memory: this client goes, not the server.
          this.outOfMemory = true;
          this.fail('');
          return false;
        }
      }
      this.buf.copy(target, 0, start, this.end);
    }
    if (start > 0) {
      const offsets = this.argOffset;
      for (let i = 0; i < this.nargs; i++) offsets[i] -= start;
      this.pos -= start;
      this.cmdStart = 0;
      if (this.scanFrom >= 0) {
        this.scanFrom -= start;
        if (this.scanResume >= 0) this.scanResume -= start;
      }
    }
    this.end = keep;
    this.buf = target;
    this.owned = target;
    this.external = false;
    return true;
  }

  /**
   * strchr(buf + pos, target) on a NUL-terminated buffer: index of the first
   * `target` byte at or after pos, or -1 when there is none or a NUL comes
   * first. Remembers how far it got so a line arriving in small pieces is not
   * rescanned from its start every time.
   */
  private scanLine(target: number): number {
    const from = this.pos;
    let i = from;
    if (this.scanFrom === from) {
      i = this.scanResume;
      if (i < 0) return -1;
    }
    const buf = this.buf;
    const end = this.end;
    for (; i < end; i++) {
      const c = buf[i];
      if (c === target) return i;
      if (c === NUL) {
        this.scanFrom = from;
        this.scanResume = -1;
        return -1;
      }
    }
    this.scanFrom = from;
    this.scanResume = end;
    return -1;
  }

  private pushArg(offset: number, length: number): void {
    const n = this.nargs;
    if (n === this.argOffset.length) {
      const grownOffset = new Int32Array(n * 2);
      grownOffset.set(this.argOffset);
      this.argOffset = grownOffset;
      const grownLength = new Int32Array(n * 2);
      grownLength.set(this.argLength);
      this.argLength = grownLength;
    }
    this.argOffset[n] = offset;
    this.argLength[n] = length;
    this.nargs = n + 1;
  }

  private parseInline(): number {
    const start = this.pos;
    const newline = this.scanLine(LF);
    if (newline < 0) {
      if (this.end - start > PROTO_INLINE_MAX_SIZE) {
        return this.fail('Protocol error: too big inline request');
      }
      return 0;
    }
    let lineEnd = newline;
    if (newline !== start && this.buf[newline - 1] === CR) lineEnd--;
    if (!this.splitArgs(start, lineEnd)) {
      return this.fail('Protocol error: unbalanced quotes in request');
    }
    this.pos = newline + 1;
    return 1;
  }

  /**
   * sdssplitargs() over buf[start, end), un-escaping in place (the output of
   * a token is never longer than its input, so writes stay behind the reads).
   * The range holds no NUL byte (scanLine stops at one).
   */
  private splitArgs(start: number, end: number): boolean {
    const buf = this.buf;
    let p = start;
    for (;;) {
      while (p < end && isSpace(buf[p])) p++;
      if (p >= end) return true;
      const tokenStart = p;
      let w = p;
      let inDouble = false;
      let inSingle = false;
      let done = false;
      while (!done) {
        const c = p < end ? buf[p] : NUL;
        if (inDouble) {
          if (
            c === BACKSLASH &&
            p + 3 < end &&
            buf[p + 1] === LOWER_X &&
            hexValue(buf[p + 2]) >= 0 &&
            hexValue(buf[p + 3]) >= 0
          ) {
            buf[w++] = hexValue(buf[p + 2]) * 16 + hexValue(buf[p + 3]);
            p += 3;
          } else if (c === BACKSLASH && p + 1 < end) {
            p++;
            const e = buf[p];
            switch (e) {
              case 110: buf[w++] = LF; break; // \n
              case 114: buf[w++] = CR; break; // \r
              case 116: buf[w++] = TAB; break; // \t
              case 98: buf[w++] = 8; break; // \b
              case 97: buf[w++] = 7; break; // \a
              default: buf[w++] = e; break;
            }
          } else if (c === DQUOTE) {
            // The closing quote must be followed by a space or nothing at all.
            if (p + 1 < end && !isSpace(buf[p + 1])) return false;
            done = true;
          } else if (p >= end) {
            return false;
          } else {
            buf[w++] = c;
          }
        } else if (inSingle) {
          if (c === BACKSLASH && p + 1 < end && buf[p + 1] === SQUOTE) {
            p++;
            buf[w++] = SQUOTE;
          } else if (c === SQUOTE) {
            if (p + 1 < end && !isSpace(buf[p + 1])) return false;
            done = true;
          } else if (p >= end) {
            return false;
          } else {
            buf[w++] = c;
          }
        } else {
          switch (c) {
            case SPACE:
            case LF:
            case CR:
            case TAB:
            case NUL:
              done = true;
              break;
            case DQUOTE:
              inDouble = true;
              break;
            case SQUOTE:
              inSingle = true;
              break;
            default:
              if (w !== p) buf[w] = c;
              w++;
              break;
          }
        }
        if (p < end) p++;
      }
      this.pushArg(tokenStart, w - tokenStart);
    }
  }

  /**
   * A bulk whose header is "$" and 1 to 4 digits without a leading zero and
   * whose header, payload and the 2 bytes after it have all arrived: pushes
   * the argument and returns the position after it. Otherwise -1, having
   * changed nothing. Such a length is within every limit (at most 9999: below
   * the unauthenticated 16384 and the big-argument 32 KiB; proto-max-bulk-len
   * is checked), so this decides exactly as the general path does.
   */
  private fastBulk(buf: Uint8Array, p: number): number {
    const end = this.end;
    if (p + 4 > end || buf[p] !== DOLLAR) return -1;
    let c = buf[p + 1];
    if (c < 49 || c > 57) return -1;
    let len = c - 48;
    let q = p + 2;
    for (;;) {
      if (q >= end) return -1;
      c = buf[q];
      if (c === CR) break;
      if (c < 48 || c > 57 || q - p > 4) return -1;
      len = len * 10 + (c - 48);
      q++;
    }
    const payload = q + 2;
    if (payload + len + 2 > end || len > this.limits.protoMaxBulkLen) return -1;
    this.pushArg(payload, len);
    return payload + len + 2;
  }

  private parseMultibulk(): number {
    const buf = this.buf;
    if (this.multibulkLen === 0) {
      const start = this.pos;
      // "*<1 to 9>\r\n", the usual count, needs no line scan.
      if (start + 4 <= this.end && buf[start + 2] === CR) {
        const d = buf[start + 1] - 48;
        if (d >= 1 && d <= 9) {
          this.pos = start + 4;
          this.multibulkLen = d;
        }
      }
    }
    if (this.multibulkLen === 0) {
      const start = this.pos;
      const newline = this.scanLine(CR);
      if (newline < 0) {
        if (this.end - start > PROTO_INLINE_MAX_SIZE) {
          return this.fail('Protocol error: too big mbulk count string');
        }
        return 0;
      }
      // The byte after '\r' must have arrived too (it is not checked).
      if (newline + 2 > this.end) return 0;
      const count = parseLongLong(buf, start + 1, newline);
      if (!(count <= INT_MAX)) {
        return this.fail('Protocol error: invalid multibulk length');
      }
      if (count > UNAUTH_MAX_MULTIBULK && !this.authenticated) {
        return this.fail('Protocol error: unauthenticated multibulk length');
      }
      this.pos = newline + 2;
      if (count <= 0) return 1;
      this.multibulkLen = count;
    }

    while (this.multibulkLen > 0) {
      if (this.bulkLen === -1) {
        // The usual argument, "$<1 to 4 digits>\r\n<payload>\r\n" wholly received, is taken
        // here with no line scan: what this cannot decide goes the general way below.
        const at = this.fastBulk(buf, this.pos);
        if (at >= 0) {
          this.pos = at;
          this.multibulkLen--;
          continue;
        }
        const start = this.pos;
        const newline = this.scanLine(CR);
        if (newline < 0) {
          if (this.end - start > PROTO_INLINE_MAX_SIZE) {
            return this.fail('Protocol error: too big bulk count string');
          }
          return 0;
        }
        if (newline + 2 > this.end) return 0;
        const first = this.buf[start];
        if (first !== DOLLAR) {
          // Redis replaces '\r' and '\n' in error texts with spaces.
          const shown = first === CR || first === LF ? ' ' : String.fromCharCode(first);
          return this.fail(`Protocol error: expected '$', got '${shown}'`);
        }
        const len = parseLongLong(this.buf, start + 1, newline);
        if (!(len >= 0) || len > this.limits.protoMaxBulkLen) {
          return this.fail('Protocol error: invalid bulk length');
        }
        if (len > UNAUTH_MAX_BULK && !this.authenticated) {
          return this.fail('Protocol error: unauthenticated bulk length');
        }
        this.pos = newline + 2;
        this.bulkLen = len;
        if (len >= PROTO_MBULK_BIG_ARG && this.end - this.pos < len + 2) {
          // Reserve the whole bulk once so it is not re-copied per chunk.
          const need = this.pos - this.cmdStart + len + 2;
          if (this.external || this.buf.length - this.cmdStart < need) {
            const keep = this.end - this.cmdStart;
            if (!this.relocate(need, Math.max(need + MIN_OWNED, keep * 2))) return -1;
          }
        }
      }
      const len = this.bulkLen;
      if (this.end - this.pos < len + 2) return 0;
      this.pushArg(this.pos, len);
      this.pos += len + 2;
      this.bulkLen = -1;
      this.multibulkLen--;
    }
    return 1;
  }
}
