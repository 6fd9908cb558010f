import { ENC_RAW, TYPE_STRING } from '../../native-layout/layout.ts';
import {
  BFOVERFLOW_FAIL, BFOVERFLOW_SAT, BFOVERFLOW_WRAP, BITOP_AND, BITOP_NOT, BITOP_OR, BITOP_XOR, bitfieldLimit, bitop,
  bitpos, checkSignedOverflow, checkUnsignedOverflow, getSignedBitfield, getUnsignedBitfield, popcount, setBitfield,
  type ByteRange,
} from '../store/bit-ops.ts';
import { INT_UNSAFE, parseI64, parseI64Big, parseI64Status } from '../util/numbers.ts';
import type { Argv } from '../protocol/argv.ts';
import { ERR_BIT_OFFSET, ERR_BIT_VALUE, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE } from './errors.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// Bitmap commands (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
// BITFIELD, BITFIELD_RO. Bitmaps are plain strings stored inline in the entry.

export const ERR_BITOP_NOT = 'ERR BITOP NOT must be called with a single source key.';
export const ERR_BIT_ARG = 'ERR The bit argument must be 1 or 0.';
export const ERR_BITFIELD_TYPE =
  'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
export const ERR_BITFIELD_OVERFLOW = 'ERR Invalid OVERFLOW type specified';
export const ERR_BITFIELD_RO = 'ERR BITFIELD_RO only supports the GET subcommand';

/** Internal: fetch raw string values for a cross-shard BITOP. */
export const BITOP_FETCH = '__bitop_fetch';
/** Internal: compute and store a cross-shard BITOP on the destination's shard. */
export const BITOP_STORE = '__bitop_store';

// ---------------------------------------------------------------------------
// Argument helpers

/** Stand-in for |values| beyond 2^53: larger than any string length in bits, exact as a double. */
const HUGE = 2 ** 60;
/** The exact value of the last argLongLong() result when it was outside ±2^53, else null. */
let lastBig: bigint | null = null;

/**
 * A signed 64-bit integer argument (string2ll rules) as a number; values
 * beyond ±2^53 come back as ±2^60 (exact value in lastBig). NaN when invalid.
 */
function argLongLong(a: Argv, i: number): number {
  lastBig = null;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  if (!Number.isNaN(v)) return v;
  if (parseI64Status() !== INT_UNSAFE) return NaN;
  const big = parseI64Big(a.u8, a.off[i], a.len[i]) as bigint;
  lastBig = big;
  return big < 0n ? -HUGE : HUGE;
}

/**
 * getBitOffsetFromArgument(): a bit offset, or -1 after replying the error.
 * With `hash` (BITFIELD) "#n" means n*bits; the product wraps like int64.
 */
function parseBitOffset(c: ShardContext, i: number, hash: boolean, bits: number): number {
  const a = c.args;
  let o = a.off[i];
  let l = a.len[i];
  const usehash = hash && bits > 0 && l > 0 && a.u8[o] === 0x23; /* # */
  if (usehash) {
    o++;
    l--;
  }
  let off = parseI64(a.u8, o, l);
  if (Number.isNaN(off) || (usehash && !Number.isSafeInteger(off * bits))) {
    let big = parseI64Big(a.u8, o, l);
    if (big === null) {
      c.reply.error(ERR_BIT_OFFSET);
      return -1;
    }
    if (usehash) big = BigInt.asIntN(64, big * BigInt(bits));
    off = big < 0n ? -1 : big > BigInt(HUGE) ? HUGE : Number(big);
  } else if (usehash) {
    off *= bits;
  }
  if (off < 0 || Math.floor(off / 8) >= c.config.protoMaxBulkLen) {
    c.reply.error(ERR_BIT_OFFSET);
    return -1;
  }
  return off;
}

// ---------------------------------------------------------------------------
// Writing into a string in place

/** Set by lookupStringForWrite: the key was created or grown. */
let bitDirty = false;
/** Set by lookupStringForWrite: the key's slot handle. */
let bitHandle = -1;

/**
 * lookupStringForBitCommand(): the string at key argument 1, created or zero
 * padded to at least `byteLen` bytes and made raw-encoded. Returns 0 after
 * replying WRONGTYPE.
 */
function lookupStringForWrite(c: ShardContext, byteLen: number): number {
  const a = c.args;
  const ks = c.ks;
  const ko = a.off[1];
  const kl = a.len[1];
  let ref = ks.lookupWrite(c.db, a.u8, ko, kl);
  bitDirty = false;
  if (ref !== 0 && ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return 0;
  }
  if (ref === 0) {
    ref = ks.putString(c.db, a.u8, ko, kl, null, 0, byteLen, ENC_RAW, -1);
    bitDirty = true;
  } else {
    // Redis's lookupKeyWrite refreshes the access clock too.
    if (!ks.noTouch) ks.touchAccess(ref);
    const old = ks.stringLength(ref);
    if (old < byteLen) {
      ref = ks.growString(c.db, ks.handle, ref, byteLen);
      const vo = ks.stringOffset(ref);
      ks.arena.u8.fill(0, vo + old, vo + byteLen);
      ks.setStringLength(ref, byteLen);
      bitDirty = true;
    }
    ks.setEncoding(ref, ENC_RAW);
  }
  bitHandle = ks.handle;
  return ref;
}

/** Looks up key argument `i` for reading: the entry, 0 when missing, -1 after replying WRONGTYPE. */
function lookupStringRead(c: ShardContext, i: number): number {
  const a = c.args;
  const ref = c.ks.lookupRead(c.db, a.u8, a.off[i], a.len[i]);
  if (ref !== 0 && c.ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return -1;
  }
  return ref;
}

// ---------------------------------------------------------------------------
// SETBIT / GETBIT

/** SETBIT key offset value */
function setbitCommand(c: ShardContext): void {
  const off = parseBitOffset(c, 2, false, 0);
  if (off < 0) return;
  const on = c.args.int(3);
  if (on !== 0 && on !== 1) {
    c.reply.error(ERR_BIT_VALUE);
    return;
  }
  const byte = Math.floor(off / 8);
  const ref = lookupStringForWrite(c, byte + 1);
  if (ref === 0) return;
  const u8 = c.ks.arena.u8;
  const p = c.ks.stringOffset(ref) + byte;
  const shift = 7 - (off - byte * 8);
  const old = (u8[p] >> shift) & 1;
  if (bitDirty || old !== on) {
    u8[p] = (u8[p] & ~(1 << shift)) | (on << shift);
    c.ks.dbs[c.db].touch(bitHandle);
  }
  c.reply.int(old);
}

/** GETBIT key offset */
function getbitCommand(c: ShardContext): void {
  const off = parseBitOffset(c, 2, false, 0);
  if (off < 0) return;
  const ref = lookupStringRead(c, 1);
  if (ref < 0) return;
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  const ks = c.ks;
  const byte = Math.floor(off / 8);
  let bit = 0;
  if (byte < ks.stringLength(ref)) bit = (ks.arena.u8[ks.stringOffset(ref) + byte] >> (7 - (off - byte * 8))) & 1;
  c.reply.int(bit);
}

// ---------------------------------------------------------------------------
// BITCOUNT / BITPOS

/** Result of normalizeRange (module scratch: no allocation per command). */
const range = { start: 0, end: 0, firstMask: 0, lastMask: 0 };

/**
 * BITCOUNT and BITPOS ranges, as Redis's bitcountCommand/bitposCommand
 * normalise them: negative indexes count from the end, then clamp; in BIT
 * units the range becomes whole bytes plus masks for the partial first and
 * last bytes.
 */
function normalizeRange(start: number, end: number, totlen: number, isbit: boolean): void {
  if (isbit) totlen *= 8;
  if (start < 0) start = totlen + start;
  if (end < 0) end = totlen + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= totlen) end = totlen - 1;
  let firstMask = 0;
  let lastMask = 0;
  if (isbit && start <= end) {
    firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
    lastMask = (1 << (7 - (end & 7))) - 1;
    start = Math.floor(start / 8);
    end = Math.floor(end / 8);
  }
  range.start = start;
  range.end = end;
  range.firstMask = firstMask;
  range.lastMask = lastMask;
}

/** BITCOUNT key [start end [BYTE|BIT]] */
function bitcountCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const ref = lookupStringRead(c, 1);
  if (ref < 0) return;
  if (ref === 0) {
    c.reply.int(0);
    return;
  }
  const strlen = ks.stringLength(ref);
  const base = ks.stringOffset(ref);
  const u8 = ks.arena.u8;
  let start: number;
  let end: number;
  let firstMask = 0;
  let lastMask = 0;
  if (a.count === 4 || a.count === 5) {
    let totlen = strlen;
    start = argLongLong(a, 2);
    const startBig = lastBig;
    if (Number.isNaN(start)) {
      c.reply.error(ERR_NOT_INTEGER);
      return;
    }
    end = argLongLong(a, 3);
    const endBig = lastBig;
    if (Number.isNaN(end)) {
      c.reply.error(ERR_NOT_INTEGER);
      return;
    }
    if (start < 0 && end < 0 && (startBig !== null && endBig !== null ? startBig > endBig : start > end)) {
      c.reply.int(0);
      return;
    }
    let isbit = false;
    if (a.count === 5) {
      if (a.is(4, 'bit')) isbit = true;
      else if (!a.is(4, 'byte')) {
        c.reply.error(ERR_SYNTAX);
        return;
      }
    }
    normalizeRange(start, end, totlen, isbit);
    start = range.start;
    end = range.end;
    firstMask = range.firstMask;
    lastMask = range.lastMask;
  } else if (a.count === 2) {
    start = 0;
    end = strlen - 1;
  } else {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  if (start > end) {
    c.reply.int(0);
    return;
  }
  let count = popcount(u8, base + start, end - start + 1);
  if (firstMask !== 0) count -= popcount1(u8[base + start] & firstMask);
  if (lastMask !== 0) count -= popcount1(u8[base + end] & lastMask);
  c.reply.int(count);
}

function popcount1(b: number): number {
  let n = 0;
  for (; b !== 0; b &= b - 1) n++;
  return n;
}

/** redisBitpos() over one byte. */
function bitposByte(b: number, bit: number): number {
  if (bit) return b === 0 ? -1 : Math.clz32(b) - 24;
  return b === 0xff ? 8 : Math.clz32(~b & 0xff) - 24;
}

/** BITPOS key bit [start [end [BYTE|BIT]]] */
function bitposCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const bit = a.int(2);
  if (Number.isNaN(bit) && parseI64Status() !== INT_UNSAFE) {
    c.reply.error(ERR_NOT_INTEGER);
    return;
  }
  if (bit !== 0 && bit !== 1) {
    c.reply.error(ERR_BIT_ARG);
    return;
  }
  const ref = ks.lookupRead(c.db, a.u8, a.off[1], a.len[1]);
  if (ref === 0) {
    // A missing key is an infinite run of zeros.
    c.reply.int(bit ? -1 : 0);
    return;
  }
  if (ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const strlen = ks.stringLength(ref);
  const base = ks.stringOffset(ref);
  const u8 = ks.arena.u8;
  let start: number;
  let end: number;
  let endGiven = false;
  let firstMask = 0;
  let lastMask = 0;
  if (a.count >= 4 && a.count <= 6) {
    let totlen = strlen;
    start = argLongLong(a, 3);
    if (Number.isNaN(start)) {
      c.reply.error(ERR_NOT_INTEGER);
      return;
    }
    let isbit = false;
    if (a.count === 6) {
      if (a.is(5, 'bit')) isbit = true;
      else if (!a.is(5, 'byte')) {
        c.reply.error(ERR_SYNTAX);
        return;
      }
    }
    if (a.count >= 5) {
      end = argLongLong(a, 4);
      if (Number.isNaN(end)) {
        c.reply.error(ERR_NOT_INTEGER);
        return;
      }
      endGiven = true;
    } else {
      end = isbit ? totlen * 8 + 7 : totlen - 1;
    }
    normalizeRange(start, end, totlen, isbit);
    start = range.start;
    end = range.end;
    firstMask = range.firstMask;
    lastMask = range.lastMask;
  } else if (a.count === 3) {
    start = 0;
    end = strlen - 1;
  } else {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  // An empty range holds neither a 0 nor a 1.
  if (start > end) {
    c.reply.int(-1);
    return;
  }
  let bytes = end - start + 1;
  let pos: number;
  found: {
    if (firstMask !== 0) {
      let tmp = bit ? u8[base + start] & ~firstMask : u8[base + start] | firstMask;
      if (lastMask !== 0 && bytes === 1) tmp = bit ? tmp & ~lastMask : tmp | lastMask;
      pos = bitposByte(tmp, bit);
      if (bytes === 1 || (pos !== -1 && pos !== 8)) break found;
      start++;
      bytes--;
    }
    const curbytes = bytes - (lastMask !== 0 ? 1 : 0);
    if (curbytes > 0) {
      pos = bitpos(u8, base + start, curbytes, bit);
      if (bytes === curbytes || (pos !== -1 && pos !== curbytes * 8)) break found;
      start += curbytes;
      bytes -= curbytes;
    }
    const tmp = bit ? u8[base + end] & ~lastMask : u8[base + end] | lastMask;
    pos = bitposByte(tmp, bit);
  }
  // With an explicit end, the bits right of the range are not zero padding:
  // no clear bit inside the range means -1.
  if (endGiven && bit === 0 && pos === bytes * 8) {
    c.reply.int(-1);
    return;
  }
  if (pos !== -1) pos += start * 8;
  c.reply.int(pos);
}

// ---------------------------------------------------------------------------
// BITOP

function parseBitopOp(a: Argv, i: number): number {
  if (a.is(i, 'and')) return BITOP_AND;
  if (a.is(i, 'or')) return BITOP_OR;
  if (a.is(i, 'xor')) return BITOP_XOR;
  if (a.is(i, 'not')) return BITOP_NOT;
  return -1;
}

const EMPTY = new Uint8Array(0);
let scratch = new Uint8Array(4096);

/**
 * Computes op over the sources, stores the result at key argument `destArg`
 * (raw encoded, no TTL) or deletes the key when the result is empty, and
 * replies the result length.
 */
function bitopStore(c: ShardContext, op: number, destArg: number, srcs: ByteRange[]): void {
  const a = c.args;
  const ks = c.ks;
  let maxLen = 0;
  for (const s of srcs) if (s.len > maxLen) maxLen = s.len;
  if (maxLen > 0) {
    let out = scratch;
    if (maxLen > out.length) {
      if (maxLen <= 1 << 16) out = scratch = new Uint8Array(1 << 16);
      else out = new Uint8Array(maxLen);
    }
    bitop(op, srcs, out, maxLen);
    ks.lookupWrite(c.db, a.u8, a.off[destArg], a.len[destArg]);
    ks.putString(c.db, a.u8, a.off[destArg], a.len[destArg], out, 0, maxLen, ENC_RAW, -1);
    ks.dbs[c.db].touch(ks.handle);
  } else {
    ks.deleteKey(c.db, a.u8, a.off[destArg], a.len[destArg]);
  }
  c.reply.int(maxLen);
}

/** A source string for BITOP from key argument i: its range, null after WRONGTYPE. */
function sourceOfKey(c: ShardContext, i: number): ByteRange | null {
  const ref = lookupStringRead(c, i);
  if (ref < 0) return null;
  if (ref === 0) return { u8: EMPTY, off: 0, len: 0 };
  return { u8: c.ks.arena.u8, off: c.ks.stringOffset(ref), len: c.ks.stringLength(ref) };
}

/** BITOP AND|OR|XOR|NOT destkey srckey [srckey ...] (all keys on this shard). */
function bitopCommand(c: ShardContext): void {
  const a = c.args;
  const op = parseBitopOp(a, 1);
  if (op < 0) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  if (op === BITOP_NOT && a.count !== 4) {
    c.reply.error(ERR_BITOP_NOT);
    return;
  }
  const srcs: ByteRange[] = [];
  for (let i = 3; i < a.count; i++) {
    const s = sourceOfKey(c, i);
    if (s === null) return;
    srcs.push(s);
  }
  bitopStore(c, op, 2, srcs);
}

/**
 * __bitop_fetch key [key ...]: an array with each key's string value (nil
 * when missing), or WRONGTYPE if any of them is not a string.
 */
function bitopFetchCommand(c: ShardContext): void {
  const a = c.args;
  const ks = c.ks;
  const refs: number[] = [];
  for (let i = 1; i < a.count; i++) {
    const ref = lookupStringRead(c, i);
    if (ref < 0) return;
    refs.push(ref);
  }
  c.reply.array(refs.length);
  for (const ref of refs) {
    if (ref === 0) c.reply.nil();
    else c.reply.bulk(ks.arena.u8, ks.stringOffset(ref), ks.stringLength(ref));
  }
}

/**
 * __bitop_store op destkey [tag payload ...]: BITOP on the destination's
 * shard. Each source is a pair: "k" key (a key of this shard), "v" value (a
 * value fetched from another shard) or "n" "" (a missing key).
 */
function bitopStoreCommand(c: ShardContext): void {
  const a = c.args;
  const op = parseBitopOp(a, 1);
  if (op < 0 || (a.count - 3) % 2 !== 0) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const srcs: ByteRange[] = [];
  for (let i = 3; i < a.count; i += 2) {
    if (a.is(i, 'k')) {
      const s = sourceOfKey(c, i + 1);
      if (s === null) return;
      srcs.push(s);
    } else if (a.is(i, 'v')) {
      srcs.push({ u8: a.u8, off: a.off[i + 1], len: a.len[i + 1] });
    } else {
      srcs.push({ u8: EMPTY, off: 0, len: 0 });
    }
  }
  bitopStore(c, op, 2, srcs);
}

// ---------------------------------------------------------------------------
// BITFIELD / BITFIELD_RO

const OP_GET = 0;
const OP_SET = 1;
const OP_INCRBY = 2;

// Parsed operations of the current command (reused between commands).
let opCode: Uint8Array = new Uint8Array(16);
let opOverflow: Uint8Array = new Uint8Array(16);
let opBits: Uint8Array = new Uint8Array(16);
let opSigned: Uint8Array = new Uint8Array(16);
let opOffset = new Float64Array(16);
let opValue: bigint[] = [];

function ensureOps(n: number): void {
  if (n <= opCode.length) return;
  const size = Math.max(n, opCode.length * 2);
  const grow8 = (old: Uint8Array): Uint8Array => {
    const b = new Uint8Array(size);
    b.set(old);
    return b;
  };
  opCode = grow8(opCode);
  opOverflow = grow8(opOverflow);
  opBits = grow8(opBits);
  opSigned = grow8(opSigned);
  const f = new Float64Array(size);
  f.set(opOffset);
  opOffset = f;
}

/**
 * getBitfieldTypeFromArgument(): "i1".."i64" or "u1".."u63". Returns the bit
 * width (negative for signed types), or 0 after replying the error. Like the
 * C code, the width is read up to the first NUL byte.
 */
function parseBitfieldType(c: ShardContext, i: number): number {
  const a = c.args;
  const o = a.off[i];
  const l = a.len[i];
  const s = l > 0 ? a.u8[o] : 0;
  if (s === 0x69 /* i */ || s === 0x75 /* u */) {
    let n = 1;
    while (n < l && a.u8[o + n] !== 0) n++;
    const bits = parseI64(a.u8, o + 1, n - 1);
    if (bits >= 1 && bits <= (s === 0x69 ? 64 : 63)) return s === 0x69 ? -bits : bits;
  }
  c.reply.error(ERR_BITFIELD_TYPE);
  return 0;
}

function replyI64(c: ShardContext, v: bigint): void {
  if (v >= -9007199254740991n && v <= 9007199254740991n) c.reply.int(Number(v));
  else c.reply.bigint(v);
}

function bitfieldGeneric(c: ShardContext, readonlyCommand: boolean): void {
  const a = c.args;
  const ks = c.ks;
  let numops = 0;
  let owtype = BFOVERFLOW_WRAP;
  let readonly = true;
  let highestWrite = 0;
  for (let j = 2; j < a.count; j++) {
    const remargs = a.count - j - 1;
    let opcode: number;
    if (remargs >= 2 && a.is(j, 'get')) opcode = OP_GET;
    else if (remargs >= 3 && a.is(j, 'set')) opcode = OP_SET;
    else if (remargs >= 3 && a.is(j, 'incrby')) opcode = OP_INCRBY;
    else if (remargs >= 1 && a.is(j, 'overflow')) {
      j++;
      if (a.is(j, 'wrap')) owtype = BFOVERFLOW_WRAP;
      else if (a.is(j, 'sat')) owtype = BFOVERFLOW_SAT;
      else if (a.is(j, 'fail')) owtype = BFOVERFLOW_FAIL;
      else {
        c.reply.error(ERR_BITFIELD_OVERFLOW);
        return;
      }
      continue;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    const type = parseBitfieldType(c, j + 1);
    if (type === 0) return;
    const bits = type < 0 ? -type : type;
    const offset = parseBitOffset(c, j + 2, true, bits);
    if (offset < 0) return;
    let value = 0n;
    if (opcode !== OP_GET) {
      readonly = false;
      if (highestWrite < offset + bits - 1) highestWrite = offset + bits - 1;
      const v = parseI64Big(a.u8, a.off[j + 3], a.len[j + 3]);
      if (v === null) {
        c.reply.error(ERR_NOT_INTEGER);
        return;
      }
      value = v;
    }
    ensureOps(numops + 1);
    opCode[numops] = opcode;
    opOverflow[numops] = owtype;
    opBits[numops] = bits;
    opSigned[numops] = type < 0 ? 1 : 0;
    opOffset[numops] = offset;
    opValue[numops] = value;
    numops++;
    j += opcode === OP_GET ? 2 : 3;
  }

  let ref: number;
  if (readonly) {
    ref = lookupStringRead(c, 1);
    if (ref < 0) return;
  } else {
    if (readonlyCommand) {
      c.reply.error(ERR_BITFIELD_RO);
      return;
    }
    ref = lookupStringForWrite(c, Math.floor(highestWrite / 8) + 1);
    if (ref === 0) return;
  }

  const u8 = ks.arena.u8;
  const base = ref === 0 ? 0 : ks.stringOffset(ref);
  const strlen = ref === 0 ? 0 : ks.stringLength(ref);
  let changes = 0;
  c.reply.array(numops);
  for (let k = 0; k < numops; k++) {
    const bits = opBits[k];
    const offset = opOffset[k];
    const signed = opSigned[k] === 1;
    const ow = opOverflow[k];
    if (opCode[k] === OP_GET) {
      replyI64(c, signed
        ? getSignedBitfield(u8, base, strlen, offset, bits)
        : getUnsignedBitfield(u8, base, strlen, offset, bits));
      continue;
    }
    const incrby = opCode[k] === OP_INCRBY;
    const arg = opValue[k];
    let oldval: bigint;
    let newval: bigint;
    let overflow: number;
    if (signed) {
      oldval = getSignedBitfield(u8, base, strlen, offset, bits);
      if (incrby) {
        overflow = checkSignedOverflow(oldval, arg, bits, ow);
        newval = overflow ? bitfieldLimit : oldval + arg;
      } else {
        newval = arg;
        overflow = checkSignedOverflow(newval, 0n, bits, ow);
        if (overflow) newval = bitfieldLimit;
      }
    } else {
      oldval = getUnsignedBitfield(u8, base, strlen, offset, bits);
      if (incrby) {
        overflow = checkUnsignedOverflow(oldval, arg, bits, ow);
        newval = overflow ? bitfieldLimit : BigInt.asUintN(64, oldval + arg);
      } else {
        newval = BigInt.asUintN(64, arg);
        overflow = checkUnsignedOverflow(newval, 0n, bits, ow);
        if (overflow) newval = bitfieldLimit;
      }
    }
    if (overflow && ow === BFOVERFLOW_FAIL) {
      c.reply.nil();
      continue;
    }
    replyI64(c, BigInt.asIntN(64, incrby ? newval : oldval));
    setBitfield(u8, base, offset, bits, newval);
    if (bitDirty || oldval !== newval) changes++;
  }
  if (!readonly && (changes > 0 || bitDirty)) ks.dbs[c.db].touch(bitHandle);
  opValue.length = 0;
}

function bitfieldCommand(c: ShardContext): void {
  bitfieldGeneric(c, false);
}

function bitfieldRoCommand(c: ShardContext): void {
  bitfieldGeneric(c, true);
}

// ---------------------------------------------------------------------------

export const bitmapCommands: CommandSpec[] = [
  {
    name: 'setbit', arity: 4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'bitmap', since: '2.2.0', summary: 'Sets or clears the bit at offset in the string value stored at key',
    complexity: 'O(1)', shard: setbitCommand,
  },
  {
    name: 'getbit', arity: 3, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'bitmap', since: '2.2.0', summary: 'Returns the bit value at offset in the string value stored at key',
    complexity: 'O(1)', shard: getbitCommand,
  },
  {
    name: 'bitcount', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'bitmap', since: '2.6.0', summary: 'Count set bits in a string', complexity: 'O(N)',
    shard: bitcountCommand,
  },
  {
    name: 'bitpos', arity: -3, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'bitmap', since: '2.8.7', summary: 'Find first bit set or clear in a string', complexity: 'O(N)',
    shard: bitposCommand,
  },
  {
    name: 'bitop', arity: -4, flags: ['write', 'denyoom'], firstKey: 2, lastKey: -1, keyStep: 1,
    group: 'bitmap', since: '2.6.0', summary: 'Perform bitwise operations between strings', complexity: 'O(N)',
    shard: bitopCommand, multi: 'coordinated',
  },
  {
    name: 'bitfield', arity: -2, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'bitmap', since: '3.2.0', summary: 'Perform arbitrary bitfield integer operations on strings',
    complexity: 'O(1) for each subcommand specified', shard: bitfieldCommand,
  },
  {
    name: 'bitfield_ro', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'bitmap', since: '6.0.0',
    summary: 'Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD',
    complexity: 'O(1) for each subcommand specified', shard: bitfieldRoCommand,
  },
  {
    name: BITOP_FETCH, arity: -2, flags: ['readonly'], firstKey: 1, lastKey: -1, keyStep: 1,
    group: 'bitmap', since: '7.0.0', summary: 'Internal: string values of BITOP sources on this shard.',
    shard: bitopFetchCommand, internal: true,
  },
  {
    name: BITOP_STORE, arity: -3, flags: ['write', 'denyoom'], firstKey: 2, lastKey: 2, keyStep: 1,
    group: 'bitmap', since: '7.0.0', summary: 'Internal: BITOP computed and stored on the destination\'s shard.',
    shard: bitopStoreCommand, internal: true,
  },
];
