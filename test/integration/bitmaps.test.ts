import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { useSabre, redisClient, shardOfKey } from '../helpers/suites.ts';
import { bitop, bitpos, popcount, BITOP_AND, BITOP_NOT, BITOP_OR, BITOP_XOR } from '../../src/store/bit-ops.ts';
import type { ServerHandle } from '../helpers/servers.ts';

// The bitmap family end to end over a 4-shard server, checked against simple
// bit-by-bit reference models (fast-check), plus the helpers on their own.

let server: ServerHandle;
let r: Redis;
/** Integer replies as strings (exact 64-bit values). */
let rs: Redis;

useSabre((s, c) => {
  server = s;
  r = c;
  rs = redisClient(s.port, { stringNumbers: true });
});

afterAll(() => {
  rs?.disconnect();
});

const shardOf = (k: string): number => shardOfKey(k, 4);

// ---------------------------------------------------------------------------
// Reference models: one bit at a time, straight from the documentation.

function bitAt(b: Uint8Array, i: number): number {
  return (b[i >> 3] >> (7 - (i & 7))) & 1;
}

/** Inclusive bit range a BITCOUNT/BITPOS range selects, or null when empty. */
function modelRange(len: number, start: number, end: number, isbit: boolean): [number, number] | null {
  const total = isbit ? len * 8 : len;
  let s = start < 0 ? start + total : start;
  let e = end < 0 ? end + total : end;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= total) e = total - 1;
  if (s > e) return null;
  return isbit ? [s, e] : [s * 8, e * 8 + 7];
}

function modelBitcount(b: Uint8Array, range?: { start: number; end: number; isbit: boolean }): number {
  let lo = 0;
  let hi = b.length * 8 - 1;
  if (range !== undefined) {
    if (range.start < 0 && range.end < 0 && range.start > range.end) return 0;
    const r2 = modelRange(b.length, range.start, range.end, range.isbit);
    if (r2 === null) return 0;
    [lo, hi] = r2;
  }
  let n = 0;
  for (let i = lo; i <= hi; i++) n += bitAt(b, i);
  return n;
}

function modelBitpos(b: Uint8Array, bit: number, start?: number, end?: number, isbit = false): number {
  let lo = 0;
  let hi = b.length * 8 - 1;
  if (start !== undefined) {
    const r2 = modelRange(b.length, start, end ?? b.length - 1, isbit);
    if (r2 === null) return -1;
    [lo, hi] = r2;
  } else if (b.length === 0) {
    return -1;
  }
  for (let i = lo; i <= hi; i++) if (bitAt(b, i) === bit) return i;
  // Not found: no 1 means -1; no 0 means the first bit past the range, unless
  // an explicit end says the right side is not zero padding.
  if (bit === 1 || end !== undefined) return -1;
  return hi + 1;
}

function modelBitop(op: string, srcs: Uint8Array[]): Uint8Array {
  const len = Math.max(0, ...srcs.map((s) => s.length));
  const out = new Uint8Array(len);
  for (let j = 0; j < len; j++) {
    const at = (s: Uint8Array): number => (j < s.length ? s[j] : 0);
    let v = at(srcs[0]);
    if (op === 'NOT') v = ~v & 0xff;
    for (let k = 1; k < srcs.length; k++) {
      if (op === 'AND') v &= at(srcs[k]);
      else if (op === 'OR') v |= at(srcs[k]);
      else v ^= at(srcs[k]);
    }
    out[j] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------

describe('bitmaps: helper functions', () => {
  // Random offsets inside a shared buffer exercise the unaligned head, the
  // 32-bit word loop and the byte tail.
  const sliceArb = fc.record({
    bytes: fc.uint8Array({ minLength: 0, maxLength: 300 }),
    pad: fc.integer({ min: 0, max: 7 }),
    runs: fc.constantFrom('random', 'zeros', 'ones'),
  }).map(({ bytes, pad, runs }) => {
    const sab = new SharedArrayBuffer(bytes.length + pad + 8);
    const u8 = new Uint8Array(sab, 1);
    const data = runs === 'random' ? bytes : bytes.map((x, i) => (i === bytes.length - 3 ? x : runs === 'zeros' ? 0 : 0xff));
    u8.set(data, pad);
    return { u8, off: pad, len: data.length, data };
  });

  it('popcount equals the bit-by-bit count', () => {
    fc.assert(fc.property(sliceArb, ({ u8, off, len, data }) => {
      expect(popcount(u8, off, len)).toBe(modelBitcount(data));
    }), { numRuns: 500 });
  });

  it('bitpos equals the bit-by-bit search (zero padded on the right for 0)', () => {
    fc.assert(fc.property(sliceArb, fc.constantFrom(0, 1), ({ u8, off, len, data }, bit) => {
      let want = -1;
      for (let i = 0; i < len * 8; i++) if (bitAt(data, i) === bit) { want = i; break; }
      if (want === -1 && bit === 0) want = len * 8;
      expect(bitpos(u8, off, len, bit)).toBe(want);
    }), { numRuns: 800 });
  });

  it('bitop equals the byte-by-byte model', () => {
    const ops = [['AND', BITOP_AND], ['OR', BITOP_OR], ['XOR', BITOP_XOR], ['NOT', BITOP_NOT]] as const;
    fc.assert(fc.property(fc.constantFrom(...ops), fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 5 }),
      ([name, op], srcs) => {
        const used = op === BITOP_NOT ? srcs.slice(0, 1) : srcs;
        const want = modelBitop(name, used);
        const out = new Uint8Array(want.length + 4).fill(0xaa);
        bitop(op, used.map((s) => ({ u8: s, off: 0, len: s.length })), out, want.length);
        expect([...out.subarray(0, want.length)]).toEqual([...want]);
      }), { numRuns: 500 });
  });
});

describe('bitmaps: integration', () => {
  it('BITCOUNT and BITPOS agree with the reference model on random strings', async () => {
    const idx = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -2500, max: 2500 }));
    await fc.assert(fc.asyncProperty(
      fc.uint8Array({ maxLength: 260 }).chain((b) => fc.constant(b)),
      fc.constantFrom<'a' | 'b' | '{t}a'>('a', 'b', '{t}a'),
      fc.array(fc.record({
        kind: fc.constantFrom('count', 'pos'),
        bit: fc.constantFrom(0, 1),
        nargs: fc.integer({ min: 0, max: 3 }),
        start: idx,
        end: idx,
        unit: fc.constantFrom('BYTE', 'BIT', 'bit', null),
      }), { minLength: 1, maxLength: 8 }),
      async (bytes, key, queries) => {
        await r.set(key, Buffer.from(bytes));
        const p = r.pipeline();
        const want: number[] = [];
        for (const q of queries) {
          const isbit = q.unit !== null && q.unit.toLowerCase() === 'bit';
          if (q.kind === 'count') {
            if (q.nargs === 0) {
              p.call('BITCOUNT', key);
              want.push(modelBitcount(bytes));
            } else {
              p.call('BITCOUNT', key, q.start, q.end, ...(q.unit === null ? [] : [q.unit]));
              want.push(modelBitcount(bytes, { start: q.start, end: q.end, isbit }));
            }
          } else if (q.nargs === 0) {
            p.call('BITPOS', key, q.bit);
            want.push(modelBitpos(bytes, q.bit));
          } else if (q.nargs === 1) {
            p.call('BITPOS', key, q.bit, q.start);
            want.push(modelBitpos(bytes, q.bit, q.start));
          } else if (q.nargs === 2) {
            p.call('BITPOS', key, q.bit, q.start, q.end);
            want.push(modelBitpos(bytes, q.bit, q.start, q.end));
          } else {
            p.call('BITPOS', key, q.bit, q.start, q.end, q.unit ?? 'BYTE');
            want.push(modelBitpos(bytes, q.bit, q.start, q.end, isbit));
          }
        }
        const res = await p.exec();
        expect(res?.map(([err, v]) => err ?? v)).toEqual(want);
      }), { numRuns: 250 });
  });

  it('BITPOS / BITCOUNT on a missing key', async () => {
    expect(await r.bitpos('nokey', 1)).toBe(-1);
    expect(await r.bitpos('nokey', 0)).toBe(0);
    expect(await r.call('BITPOS', 'nokey', 0, 5, 10, 'BIT')).toBe(0);
    expect(await r.bitcount('nokey')).toBe(0);
    expect(await r.exists('nokey')).toBe(0);
  });

  it('SETBIT / GETBIT agree with a byte array model (random offsets, keys on all shards)', async () => {
    const keys = ['a', 'b', 'c', 'd'];
    expect(new Set(keys.map(shardOf)).size).toBe(4);
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ key: fc.constantFrom(...keys), off: fc.integer({ min: 0, max: 4000 }), on: fc.constantFrom(0, 1) }),
        { minLength: 1, maxLength: 60 }),
      async (ops) => {
        await r.flushall();
        const model = new Map<string, Uint8Array>();
        const p = r.pipeline();
        const want: number[] = [];
        for (const { key, off, on } of ops) {
          let b = model.get(key) ?? new Uint8Array(0);
          if (b.length <= off >> 3) {
            const nb = new Uint8Array((off >> 3) + 1);
            nb.set(b);
            b = nb;
            model.set(key, b);
          }
          want.push(bitAt(b, off));
          b[off >> 3] = (b[off >> 3] & ~(1 << (7 - (off & 7)))) | (on << (7 - (off & 7)));
          p.setbit(key, off, on);
          p.getbit(key, off);
          want.push(on);
        }
        for (const k of keys) p.getBuffer(k);
        const res = await p.exec();
        const got = res?.map(([err, v]) => err ?? v) ?? [];
        expect(got.slice(0, want.length)).toEqual(want);
        keys.forEach((k, i) => {
          const m = model.get(k);
          const v = got[want.length + i];
          expect(v === null ? null : [...(v as Buffer)]).toEqual(m === undefined ? null : [...m]);
        });
      }), { numRuns: 60 });
  });

  it('BITOP agrees with the model across shards and on one shard', async () => {
    const cross = ['a', 'b', 'c', 'd', 'nokey'];
    const local = ['{t}a', '{t}b', '{t}c', '{t}d', '{t}nokey'];
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(cross, local),
      fc.array(fc.uint8Array({ maxLength: 100 }), { minLength: 4, maxLength: 4 }),
      fc.constantFrom('AND', 'OR', 'XOR', 'NOT'),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 0, max: 3 }),
      async (keys, values, op, srcIdx, destIdx) => {
        await r.flushall();
        for (let i = 0; i < 4; i++) await r.set(keys[i], Buffer.from(values[i]));
        const used = op === 'NOT' ? srcIdx.slice(0, 1) : srcIdx;
        const srcBytes = used.map((i) => (i === 4 ? new Uint8Array(0) : values[i]));
        const want = modelBitop(op, srcBytes);
        const dest = keys[destIdx];
        expect(await r.call('BITOP', op, dest, ...used.map((i) => keys[i]))).toBe(want.length);
        const got = await r.getBuffer(dest);
        if (want.length === 0) expect(got).toBeNull();
        else expect([...(got ?? [])]).toEqual([...want]);
      }), { numRuns: 150 });
  });

  it('BITOP across shards moves large values and keeps pipelined order', async () => {
    expect(shardOf('src1')).not.toBe(shardOf('src2'));
    expect(shardOf('src1')).not.toBe(shardOf('dst'));
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    await r.set('src1', big);
    await r.setbit('src2', 5_000_000, 1);
    expect(await r.call('BITOP', 'XOR', 'dst', 'src1', 'src2')).toBe(big.length);
    const got = await r.getBuffer('dst');
    const want = Buffer.from(big);
    want[5_000_000 >> 3] ^= 1 << (7 - (5_000_000 & 7));
    expect(got?.equals(want)).toBe(true);

    // One client pipelines writes and cross-shard BITOPs: every BITOP must see
    // exactly the writes sent before it.
    await r.flushall();
    const p = r.pipeline();
    const wantReplies: unknown[] = [];
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    const lens = [0, 0];
    for (let i = 0; i < 300; i++) {
      const off = (i * 37) % 512;
      const target = i % 2 === 0 ? a : b;
      const key = i % 2 === 0 ? 'src1' : 'src2';
      wantReplies.push(bitAt(target, off));
      target[off >> 3] ^= 1 << (7 - (off & 7));
      lens[i % 2] = Math.max(lens[i % 2], (off >> 3) + 1);
      p.setbit(key, off, bitAt(target, off));
      const res = modelBitop('OR', [a.subarray(0, lens[0]), b.subarray(0, lens[1])]);
      p.call('BITOP', 'OR', 'dst', 'src1', 'src2');
      wantReplies.push(res.length);
      p.bitcount('dst');
      wantReplies.push(modelBitcount(res));
    }
    const res = await p.exec();
    expect(res?.map(([err, v]) => err ?? v)).toEqual(wantReplies);
  });

  it('BITOP from many clients at once on overlapping shards', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, async () => {
      const c = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
      await c.connect();
      return c;
    }));
    try {
      await r.set('a', Buffer.from([0xf0, 0x0f]));
      await r.set('b', Buffer.from([0x0f]));
      await r.set('c', Buffer.from([0x00, 0x00, 0xff]));
      const replies = await Promise.all(clients.map(async (c, n) => {
        const p = c.pipeline();
        for (let i = 0; i < 200; i++) {
          p.call('BITOP', 'OR', `d${n}`, 'a', 'b', 'c');
          p.call('BITOP', 'AND', `{t}${n}`, 'a', 'c');
          p.call('BITOP', 'XOR', 'c', 'c', 'a', 'a');
        }
        return (await p.exec())?.map(([err, v]) => err ?? v);
      }));
      for (const rep of replies) expect(rep).toEqual(Array.from({ length: 600 }, () => 3));
      for (let n = 0; n < 6; n++) {
        expect([...((await r.getBuffer(`d${n}`)) ?? [])]).toEqual([0xff, 0x0f, 0xff]);
        expect([...((await r.getBuffer(`{t}${n}`)) ?? [])]).toEqual([0, 0, 0]);
      }
      expect([...((await r.getBuffer('c')) ?? [])]).toEqual([0, 0, 0xff]);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('BITFIELD agrees with a BigInt model (WRAP / SAT / FAIL, signed and unsigned)', async () => {
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('overflow' as const), ow: fc.constantFrom('WRAP', 'SAT', 'FAIL') }),
      fc.record({
        kind: fc.constantFrom('get' as const, 'set' as const, 'incrby' as const),
        signed: fc.boolean(),
        bits: fc.integer({ min: 1, max: 64 }),
        off: fc.integer({ min: 0, max: 120 }),
        value: fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.bigInt({ min: -300n, max: 300n })),
      }),
    );
    await fc.assert(fc.asyncProperty(fc.array(opArb, { maxLength: 8 }), fc.uint8Array({ maxLength: 10 }),
      async (ops, initial) => {
        await rs.set('bf', Buffer.from(initial));
        let buf = Uint8Array.from(initial);
        const args: string[] = [];
        let highest = -1;
        for (const o of ops) {
          if (o.kind === 'overflow') {
            args.push('OVERFLOW', o.ow);
            continue;
          }
          const bits = o.signed ? o.bits : Math.min(o.bits, 63);
          const type = `${o.signed ? 'i' : 'u'}${bits}`;
          if (o.kind === 'get') args.push('GET', type, String(o.off));
          else args.push(o.kind.toUpperCase(), type, String(o.off), o.value.toString());
          if (o.kind !== 'get') highest = Math.max(highest, o.off + bits - 1);
        }
        // Model: grow once for the whole command, then run each operation.
        if (highest >= 0 && buf.length < (highest >> 3) + 1) {
          const nb = new Uint8Array((highest >> 3) + 1);
          nb.set(buf);
          buf = nb;
        }
        const read = (off: number, bits: number): bigint => {
          let v = 0n;
          for (let i = 0; i < bits; i++) v = (v << 1n) | BigInt(off + i < buf.length * 8 ? bitAt(buf, off + i) : 0);
          return v;
        };
        const write = (off: number, bits: number, v: bigint): void => {
          const u = BigInt.asUintN(bits, v);
          for (let i = 0; i < bits; i++) {
            const p = off + i;
            const bit = Number((u >> BigInt(bits - 1 - i)) & 1n);
            buf[p >> 3] = (buf[p >> 3] & ~(1 << (7 - (p & 7)))) | (bit << (7 - (p & 7)));
          }
        };
        const want: Array<string | null> = [];
        let ow = 'WRAP';
        for (const o of ops) {
          if (o.kind === 'overflow') {
            ow = o.ow;
            continue;
          }
          const bits = o.signed ? o.bits : Math.min(o.bits, 63);
          const min = o.signed ? -(1n << BigInt(bits - 1)) : 0n;
          const max = o.signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
          const raw = read(o.off, bits);
          const old = o.signed ? BigInt.asIntN(bits, raw) : raw;
          if (o.kind === 'get') {
            want.push(old.toString());
            continue;
          }
          // SET of an unsigned field takes the value as a uint64 (so -1 is huge).
          let v = o.kind === 'set' ? (o.signed ? o.value : BigInt.asUintN(64, o.value)) : old + o.value;
          // Direction of a signed overflow as Redis's checkSignedBitfieldOverflow decides it:
          // `max - value` is computed in wrapping int64, so a SET far below the minimum
          // (e.g. i58 to -9079256848778919937) saturates to the MAXIMUM (checked on redis-server).
          let up = v > max;
          if (o.signed) {
            const value = o.kind === 'set' ? o.value : old;
            const incr = o.kind === 'set' ? 0n : o.value;
            const maxincr = BigInt.asIntN(64, max - value);
            up = value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr);
          }
          if (v < min || v > max) {
            if (ow === 'FAIL') {
              want.push(null);
              continue;
            }
            if (ow === 'SAT') v = up ? max : min;
            else v = o.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
          }
          want.push((o.kind === 'set' ? old : v).toString());
          write(o.off, bits, v);
        }
        const got = await rs.call('BITFIELD', 'bf', ...args);
        expect(got).toEqual(want);
        const after = await rs.getBuffer('bf');
        expect([...(after ?? [])]).toEqual([...buf]);
      }), { numRuns: 300 });
  });

  it('internal shard commands are not reachable from clients', async () => {
    await expect(r.call('__bitop_store', 'AND', 'd', 'k', 'a')).rejects.toThrow("ERR unknown command '__bitop_store'");
    await expect(r.call('__bitop_fetch', 'a')).rejects.toThrow("ERR unknown command '__bitop_fetch'");
  });

  it('COMMAND metadata', async () => {
    const info: unknown = await r.call('COMMAND', 'INFO', 'bitop', 'bitfield_ro', 'setbit');
    const rows = info as Array<[string, number, string[], number, number, number]>;
    expect(rows.map((x) => x.slice(0, 6))).toEqual([
      ['bitop', -4, ['write', 'denyoom'], 2, -1, 1],
      ['bitfield_ro', -2, ['readonly', 'fast'], 1, 1, 1],
      ['setbit', 4, ['write', 'denyoom'], 1, 1, 1],
    ]);
  });
});
