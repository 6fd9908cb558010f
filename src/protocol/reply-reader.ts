/**
 * RESP2 / RESP3 reply parsing.
 *
 * - replyLength(): framing only, allocation free; used to find reply
 *   boundaries (for instance to merge sub-replies produced by shards).
 * - parseReply(): decode one reply into a RespValue.
 * - ReplyReader: streaming wrapper over a byte stream (tests, clients).
 *
 * Mapping of RESP types to values:
 *   +simple        string
 *   -error         RespError
 *   :integer       number (bigint when outside the safe integer range)
 *   $bulk          Buffer (a copy), $-1 -> null
 *   *array         RespValue[], *-1 -> null
 *   _null          null
 *   ,double        RespDouble (kept apart from integers)
 *   #boolean       boolean
 *   !blob error    RespError
 *   =verbatim      RespVerbatim
 *   (big number    bigint
 *   %map           RespMap (ordered key/value pairs)
 *   ~set           RespSet
 *   >push          RespPush
 *   |attribute     RespAttributed wrapping the reply that follows it
 * RESP3 streamed types ($?, *? ...) are not produced by Redis and are treated
 * as protocol errors.
 */

export class RespError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
  /** The error code: the first word ("ERR", "WRONGTYPE", ...). */
  get code(): string {
    const space = this.message.indexOf(' ');
    return space < 0 ? this.message : this.message.slice(0, space);
  }
  toString(): string {
    return this.message;
  }
}

export class RespDouble {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export class RespVerbatim {
  /** Three-character format, e.g. "txt" or "mkd". */
  readonly format: string;
  readonly data: Buffer;
  constructor(format: string, data: Buffer) {
    this.format = format;
    this.data = data;
  }
  toString(): string {
    return this.data.toString();
  }
}

export class RespMap {
  readonly entries: Array<[RespValue, RespValue]>;
  constructor(entries: Array<[RespValue, RespValue]>) {
    this.entries = entries;
  }
  get size(): number {
    return this.entries.length;
  }
  /** Value of the first entry whose key is a string or bulk equal to `key`. */
  get(key: string | Uint8Array): RespValue | undefined {
    const wanted = typeof key === 'string' ? Buffer.from(key) : key;
    for (const [k, v] of this.entries) {
      if (typeof k === 'string') {
        if (Buffer.from(k).equals(wanted)) return v;
      } else if (k instanceof Uint8Array) {
        if (Buffer.compare(k, wanted) === 0) return v;
      } else if (k instanceof RespVerbatim) {
        if (k.data.equals(wanted)) return v;
      }
    }
    return undefined;
  }
}

export class RespSet {
  readonly items: RespValue[];
  constructor(items: RespValue[]) {
    this.items = items;
  }
}

export class RespPush {
  readonly items: RespValue[];
  constructor(items: RespValue[]) {
    this.items = items;
  }
}

export class RespAttributed {
  readonly attributes: RespMap;
  readonly value: RespValue;
  constructor(attributes: RespMap, value: RespValue) {
    this.attributes = attributes;
    this.value = value;
  }
}

export type RespValue =
  | null
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | RespError
  | RespDouble
  | RespVerbatim
  | RespMap
  | RespSet
  | RespPush
  | RespAttributed
  | RespValue[];

/** Thrown by parseReply / ReplyReader on malformed input. */
export class RespProtocolError extends Error {}

const CR = 13;
const LF = 10;

/**
 * Parse a length/count in buf[start, end): "0", [1-9][0-9]* (at most 15
 * digits) or "-1". Returns -2 when malformed.
 */
function parseLength(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len > 15) return -2;
  let c = buf[start];
  if (c === 45) return len === 2 && buf[start + 1] === 49 ? -1 : -2;
  if (c === 48) return len === 1 ? 0 : -2;
  if (c < 49 || c > 57) return -2;
  let value = c - 48;
  for (let p = start + 1; p < end; p++) {
    c = buf[p];
    if (c < 48 || c > 57) return -2;
    value = value * 10 + (c - 48);
  }
  return value;
}

/**
 * Index of the '\r' ending the line that starts at `from`, -1 if the line
 * (including its '\n') is not complete before `end`, -2 if a '\r' is not
 * followed by '\n' or a bare '\n' appears.
 */
function lineEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const c = buf[i];
    if (c === CR) {
      if (i + 1 >= end) return -1;
      return buf[i + 1] === LF ? i : -2;
    }
    if (c === LF) return -2;
  }
  return -1;
}

/**
 * Byte length of the complete reply starting at `offset`, -1 if the bytes in
 * [offset, end) do not hold a whole reply yet, -2 if they are malformed.
 * An attribute (|) and the reply it annotates count as one reply.
 */
export function replyLength(buf: Uint8Array, offset: number, end: number): number {
  let p = offset;
  let remaining = 1;
  while (remaining > 0) {
    if (p >= end) return -1;
    const type = buf[p];
    const eol = lineEnd(buf, p + 1, end);
    if (eol < 0) return eol;
    switch (type) {
      case 43: // +
      case 45: // -
      case 58: // :
      case 44: // ,
      case 40: // (
        remaining--;
        break;
      case 95: // _
        if (eol !== p + 1) return -2;
        remaining--;
        break;
      case 35: { // #
        const v = buf[p + 1];
        if (eol !== p + 2 || (v !== 116 && v !== 102)) return -2;
        remaining--;
        break;
      }
      case 36: // $
      case 33: // !
      case 61: { // =
        const n = parseLength(buf, p + 1, eol);
        if (n === -1 && type === 36) {
          remaining--;
          break;
        }
        if (n < 0) return -2;
        const bodyEnd = eol + 2 + n;
        if (bodyEnd + 2 > end) return -1;
        if (buf[bodyEnd] !== CR || buf[bodyEnd + 1] !== LF) return -2;
        p = bodyEnd + 2;
        remaining--;
        continue;
      }
      case 42: // *
      case 126: // ~
      case 62: { // >
        const n = parseLength(buf, p + 1, eol);
        if (n === -1 && type === 42) {
          remaining--;
          break;
        }
        if (n < 0) return -2;
        remaining += n - 1;
        break;
      }
      case 37: { // %
        const n = parseLength(buf, p + 1, eol);
        if (n < 0) return -2;
        remaining += 2 * n - 1;
        break;
      }
      case 124: { // | attribute: its pairs come first, then the annotated reply
        const n = parseLength(buf, p + 1, eol);
        if (n < 0) return -2;
        remaining += 2 * n;
        break;
      }
      default:
        return -2;
    }
    p = eol + 2;
  }
  return p - offset;
}

const INTEGER_RE = /^-?(0|[1-9][0-9]*)$/;
const BIGNUM_RE = /^[-+]?[0-9]+$/;
const DOUBLE_RE = /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

/** Decoder over a range already validated by replyLength(). */
class Decoder {
  buf: Uint8Array;
  pos: number;
  constructor(buf: Uint8Array, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }

  private line(): string {
    const start = this.pos + 1;
    let i = start;
    while (this.buf[i] !== CR) i++;
    this.pos = i + 2;
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, i - start).toString('latin1');
  }

  private lineUtf8(): string {
    const start = this.pos + 1;
    let i = start;
    while (this.buf[i] !== CR) i++;
    this.pos = i + 2;
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, i - start).toString('utf8');
  }

  private count(): number {
    return Number(this.line());
  }

  private blob(): Buffer | null {
    const n = this.count();
    if (n < 0) return null;
    const start = this.pos;
    this.pos = start + n + 2;
    return Buffer.from(this.buf.subarray(start, start + n));
  }

  private items(n: number): RespValue[] {
    const out: RespValue[] = new Array<RespValue>(n);
    for (let i = 0; i < n; i++) out[i] = this.value();
    return out;
  }

  private pairs(n: number): Array<[RespValue, RespValue]> {
    const out = new Array<[RespValue, RespValue]>(n);
    for (let i = 0; i < n; i++) {
      const k = this.value();
      const v = this.value();
      out[i] = [k, v];
    }
    return out;
  }

  value(): RespValue {
    const type = this.buf[this.pos];
    switch (type) {
      case 43: // +
        return this.lineUtf8();
      case 45: // -
        return new RespError(this.lineUtf8());
      case 58: { // :
        const text = this.line();
        if (!INTEGER_RE.test(text)) throw new RespProtocolError(`invalid integer reply '${text}'`);
        const n = Number(text);
        if (Number.isSafeInteger(n)) return n;
        return BigInt(text);
      }
      case 44: { // ,
        const text = this.line();
        const lower = text.toLowerCase();
        if (lower === 'inf' || lower === '+inf') return new RespDouble(Infinity);
        if (lower === '-inf') return new RespDouble(-Infinity);
        if (lower === 'nan' || lower === '-nan') return new RespDouble(NaN);
        if (!DOUBLE_RE.test(text)) throw new RespProtocolError(`invalid double reply '${text}'`);
        return new RespDouble(Number(text));
      }
      case 40: { // (
        const text = this.line();
        if (!BIGNUM_RE.test(text)) throw new RespProtocolError(`invalid big number reply '${text}'`);
        return BigInt(text);
      }
      case 95: // _
        this.pos += 3;
        return null;
      case 35: { // #
        const v = this.buf[this.pos + 1];
        this.pos += 4;
        return v === 116;
      }
      case 36: // $
        return this.blob();
      case 33: { // !
        const data = this.blob();
        return new RespError(data === null ? '' : data.toString('utf8'));
      }
      case 61: { // =
        const data = this.blob();
        if (data === null || data.length < 4 || data[3] !== 58) {
          throw new RespProtocolError('invalid verbatim string reply');
        }
        return new RespVerbatim(data.toString('latin1', 0, 3), data.subarray(4));
      }
      case 42: { // *
        const n = this.count();
        return n < 0 ? null : this.items(n);
      }
      case 126: // ~
        return new RespSet(this.items(this.count()));
      case 62: // >
        return new RespPush(this.items(this.count()));
      case 37: // %
        return new RespMap(this.pairs(this.count()));
      case 124: { // |
        const attributes = new RespMap(this.pairs(this.count()));
        return new RespAttributed(attributes, this.value());
      }
      default:
        throw new RespProtocolError(`unknown reply type byte ${type}`);
    }
  }
}

export interface ParsedReply {
  value: RespValue;
  /** Bytes the reply occupies. */
  length: number;
}

/**
 * Decode one reply starting at `offset`. Returns null when the reply is not
 * complete yet; throws RespProtocolError when it is malformed.
 */
export function parseReply(buf: Uint8Array, offset = 0, end = buf.length): ParsedReply | null {
  const length = replyLength(buf, offset, end);
  if (length === -1) return null;
  if (length < 0) throw new RespProtocolError('malformed RESP reply');
  const decoder = new Decoder(buf, offset);
  const value = decoder.value();
  return { value, length };
}

/** Decode every reply in buf (which must hold only complete replies). */
export function parseAllReplies(buf: Uint8Array): RespValue[] {
  const out: RespValue[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const r = parseReply(buf, offset);
    if (r === null) throw new RespProtocolError('incomplete RESP reply');
    out.push(r.value);
    offset += r.length;
  }
  return out;
}

/** Streaming reader: feed() bytes as they arrive, next() replies out. */
export class ReplyReader {
  private buf: Buffer = Buffer.allocUnsafe(4096);
  private start = 0;
  private end = 0;

  feed(chunk: Uint8Array): void {
    const n = chunk.length;
    if (this.buf.length - this.end < n) {
      const keep = this.end - this.start;
      if (this.buf.length >= keep + n && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = Buffer.allocUnsafe(Math.max(keep + n, this.buf.length * 2));
        this.buf.copy(grown, 0, this.start, this.end);
        this.buf = grown;
      }
      this.start = 0;
      this.end = keep;
    }
    this.buf.set(chunk, this.end);
    this.end += n;
  }

  /** Next complete reply, or undefined when more bytes are needed. */
  next(): RespValue | undefined {
    const r = parseReply(this.buf, this.start, this.end);
    if (r === null) return undefined;
    this.start += r.length;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    return r.value;
  }

  /** Bytes buffered and not yet returned as replies. */
  pendingBytes(): number {
    return this.end - this.start;
  }
}
