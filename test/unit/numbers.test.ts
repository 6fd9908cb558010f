import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import {
  INT_INVALID,
  INT_OK,
  INT_UNSAFE,
  LD_ZERO,
  addLongDouble,
  formatDouble,
  formatIncrByFloat,
  formatLongDoubleHuman,
  i64BigLength,
  i64Length,
  incrByFloatLongDouble,
  longDoubleFromInt,
  longDoubleFromNumber,
  longDoubleIsFinite,
  longDoubleToNumber,
  parseDouble,
  parseI64,
  parseI64Big,
  parseI64Status,
  parseLongDouble,
  parseRedisDouble,
  writeI64,
  writeI64Big,
  type LongDouble,
} from '../../src/util/numbers.ts';
import { encodeCommand, rawCommand, type ServerHandle } from '../helpers/servers.ts';
import { redisForComparison, useRedis } from '../helpers/suites.ts';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');

function pI(s: string): [number, number] {
  const b = enc(s);
  const v = parseI64(b, 0, b.length);
  return [v, parseI64Status()];
}
function pBig(s: string): bigint | null {
  const b = enc(s);
  return parseI64Big(b, 0, b.length);
}
function pD(s: string): number | null {
  const b = enc(s);
  return parseDouble(b, 0, b.length);
}
function pRD(s: string): number | null {
  const b = enc(s);
  return parseRedisDouble(b, 0, b.length);
}
function pLD(s: string): LongDouble | null {
  const b = enc(s);
  return parseLongDouble(b, 0, b.length);
}
/** INCRBYFLOAT emulation on strings: the reply, or the error Redis gives. */
function incr(cur: string | null, by: string): string {
  const a = cur === null ? LD_ZERO : pLD(cur);
  const b = pLD(by);
  if (a === null || b === null) return 'ERR value is not a valid float';
  return incrByFloatLongDouble(a, b) ?? 'ERR increment would produce NaN or Infinity';
}

/** string2ll, written the obvious way. */
function refString2ll(s: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v < 2n ** 63n ? v : null;
}

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------
describe('parseI64 / parseI64Big', () => {
  it.each([
    ['0', 0, INT_OK],
    ['1', 1, INT_OK],
    ['-1', -1, INT_OK],
    ['99', 99, INT_OK],
    ['-99', -99, INT_OK],
    ['123456789012345', 123456789012345, INT_OK],
    ['9007199254740991', 9007199254740991, INT_OK],
    ['-9007199254740991', -9007199254740991, INT_OK],
  ])('valid safe %j', (s, v, st) => {
    expect(pI(s)).toEqual([v, st]);
    expect(pBig(s)).toBe(BigInt(v));
  });

  it.each([
    ['9007199254740992'],
    ['-9007199254740992'],
    ['9999999999999999'],
    ['10000000000000000'],
    ['9223372036854775807'],
    ['-9223372036854775808'],
    ['1000000000000000000'],
  ])('valid but unsafe %j', (s) => {
    const [v, st] = pI(s);
    expect(Number.isNaN(v)).toBe(true);
    expect(st).toBe(INT_UNSAFE);
    expect(pBig(s)).toBe(BigInt(s));
  });

  it.each([
    [''],
    ['-'],
    ['+1'],
    [' 1'],
    ['1 '],
    ['01'],
    ['00'],
    ['-0'],
    ['-01'],
    ['1a'],
    ['1.0'],
    ['1e3'],
    ['0x10'],
    ['9223372036854775808'],
    ['-9223372036854775809'],
    ['9223372036854775810'],
    ['18446744073709551615'],
    ['99999999999999999999'],
    ['123456789012345678901'],
    ['1\x00'],
  ])('invalid %j', (s) => {
    const [v, st] = pI(s);
    expect(Number.isNaN(v)).toBe(true);
    expect(st).toBe(INT_INVALID);
    expect(pBig(s)).toBeNull();
  });

  it('status is reset on every call', () => {
    pI('x');
    expect(pI('5')).toEqual([5, INT_OK]);
  });

  it('respects offsets', () => {
    const b = enc('xx-1234yy');
    expect(parseI64(b, 2, 5)).toBe(-1234);
    expect(parseI64(b, 3, 3)).toBe(123);
    expect(parseI64Big(b, 2, 5)).toBe(-1234n);
  });

  it('round-trips every int64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const s = v.toString();
        expect(pBig(s)).toBe(v);
        const [n, st] = pI(s);
        if (v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) expect([n, st]).toEqual([Number(v), INT_OK]);
        else expect(st).toBe(INT_UNSAFE);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with a reference string2ll on arbitrary digit soup', () => {
    const soup = fc.string({ unit: fc.constantFrom('0', '1', '9', '2', '-', '+', ' ', '8', '7', '5'), maxLength: 22 });
    fc.assert(
      fc.property(soup, (s) => {
        expect(pBig(s)).toBe(refString2ll(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with a reference string2ll around the int64 limits', () => {
    const near = fc.tuple(fc.constantFrom('922337203685477', '-922337203685477', '184467440737095', '900719925474099', '-900719925474099'), fc.stringMatching(/^[0-9]{0,6}$/));
    fc.assert(
      fc.property(near, ([a, b]) => {
        const s = a + b;
        expect(pBig(s)).toBe(refString2ll(s));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('writeI64 / writeI64Big', () => {
  it('writes safe integers at an offset', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.nat(5), (v, off) => {
        const buf = new Uint8Array(off + 20).fill(0x78);
        const end = writeI64(buf, off, v);
        expect(end - off).toBe(i64Length(v));
        expect(Buffer.from(buf.subarray(off, end)).toString('latin1')).toBe(String(v));
        expect(buf[end] === undefined || buf[end] === 0x78).toBe(true);
      }),
      { numRuns: 3000 },
    );
    const buf = new Uint8Array(24);
    for (const v of [0, -0, 1, -1, 9, 10, 4294967295, 4294967296, -4294967296, 1e15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
      const end = writeI64(buf, 1, v);
      expect(Buffer.from(buf.subarray(1, end)).toString()).toBe(String(v));
    }
  });

  it('writes bigints (int64, uint64 and beyond)', () => {
    const cases = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 10n ** 16n, -(10n ** 16n) - 7n, 10n ** 40n + 3n, -(10n ** 32n)];
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...cases), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n })), (v) => {
        const buf = new Uint8Array(64);
        const end = writeI64Big(buf, 3, v);
        expect(end - 3).toBe(i64BigLength(v));
        expect(Buffer.from(buf.subarray(3, end)).toString()).toBe(v.toString());
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------
// Double syntax
// ---------------------------------------------------------------------------

// [input, string2d (ZADD) valid, string2ld (INCRBYFLOAT) valid] -- all checked against redis-server 7.0.15.
const SYNTAX: Array<[string, boolean, boolean]> = [
  ['', false, false],
  [' 1', false, false],
  ['1 ', false, false],
  ['\t1', false, false],
  ['1\x00', false, false],
  ['+1', true, true],
  ['-1', true, true],
  ['.5', true, true],
  ['5.', true, true],
  ['.', false, false],
  ['-', false, false],
  ['+', false, false],
  ['e5', false, false],
  ['1e', false, false],
  ['1e+', false, false],
  ['1e+5', true, true],
  ['1E-5', true, true],
  ['inf', true, true],
  ['-inf', true, true],
  ['+inf', true, true],
  ['INF', true, true],
  ['Infinity', true, true],
  ['-infinity', true, true],
  ['infinit', false, false],
  ['infx', false, false],
  ['nan', false, false],
  ['NaN', false, false],
  ['-nan', false, false],
  ['nan(1)', false, false],
  ['0x', false, false],
  ['0x1', true, true],
  ['0x1p3', true, true],
  ['0X1P-3', true, true],
  ['0x.8', true, true],
  ['0x8.', true, true],
  ['0x.', false, false],
  ['0x1p', false, false],
  ['0x1.8p1', true, true],
  ['0xg', false, false],
  ['0x1e', true, true],
  ['1e400', false, true],
  ['-1e400', false, true],
  ['1e-400', false, true],
  ['1e-320', true, true],
  ['2e-324', false, true],
  ['3e-324', true, true],
  ['0e-400', true, true],
  ['0.0', true, true],
  ['-0', true, true],
  ['00012', true, true],
  ['1_000', false, false],
  ['1,5', false, false],
  ['1.5.5', false, false],
  ['1e5000', false, false],
  ['1e-5000', false, false],
  ['1e4932', false, true],
  ['1.2e4932', false, false],
  ['1e-4950', false, true],
  ['1e-4952', false, false],
  ['0x1p16383', false, true],
  ['0x1p16384', false, false],
  ['0x1p-16445', false, true],
  ['0x1p-16446', false, false],
  ['0x1.8p-16446', false, true],
  ['1d', false, false],
  ['1f', false, false],
  ['1L', false, false],
  ['0b1', false, false],
  ['1e0000000000000000000000000000003', true, true],
  ['1.7976931348623157e308', true, true],
  ['1.7976931348623159e308', false, true],
];

/** The strtod grammar as a regex (range aside). */
const FLOAT_RE = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?[0-9]+)?|inf|infinity)$/i;
const floatSoup = fc.string({ unit: fc.constantFrom('0', '1', '9', '.', 'e', 'E', '+', '-', 'x', 'p', 'a', 'f', 'i', 'n', 't', 'y', ' '), maxLength: 9 });

describe('parseDouble (string2d) / parseRedisDouble + parseLongDouble (string2ld)', () => {
  it.each(SYNTAX)('%j: string2d %s, string2ld %s', (s, d, ld) => {
    expect(pD(s) !== null).toBe(d);
    expect(pRD(s) !== null).toBe(ld);
    expect(pLD(s) !== null).toBe(ld);
  });

  it('values', () => {
    expect(pD('3.5')).toBe(3.5);
    expect(pD('-0')).toBe(-0);
    expect(pD('0x1.8p1')).toBe(3);
    expect(pD('0x1p-1074')).toBe(5e-324);
    expect(pD('0x1p-1075')).toBeNull(); // tie to even -> 0 -> underflow
    expect(pD('0x1.000001p-1074')).toBe(5e-324);
    expect(pD('0x1.fffffffffffff8p0')).toBe(2); // ties to even upwards
    expect(pD('0x1.fffffffffffff7p0')).toBe(2 - 2 ** -52);
    expect(pD('0x1p1023')).toBe(2 ** 1023);
    expect(pD('0x1p1024')).toBeNull();
    expect(pD('-inf')).toBe(-Infinity);
    expect(pD('1' + '0'.repeat(400) + 'e-400')).toBe(1);
    expect(pD('0.' + '0'.repeat(400) + '1e401')).toBe(1);
    expect(pRD('1e400')).toBe(Infinity); // valid long double, beyond double
    expect(pRD('1e-400')).toBe(0);
    expect(pRD('0x1.8p1')).toBe(3);
    expect(pRD('0'.repeat(5118) + '1')).toBe(1);
    expect(pRD('0'.repeat(5119) + '1')).toBeNull(); // MAX_LONG_DOUBLE_CHARS
    expect(pD('0'.repeat(5119) + '1')).toBe(1); // string2d has no length limit
    expect(pD('1'.repeat(200))).toBe(Number('1'.repeat(200)));
  });

  it('matches the strtod grammar on random soup', () => {
    fc.assert(
      fc.property(floatSoup, (s) => {
        fc.pre(!/[ep][+-]?[0-9]{3}/i.test(s));
        const want = FLOAT_RE.test(s);
        expect(pD(s) !== null).toBe(want);
        expect(pLD(s) !== null).toBe(want);
      }),
      { numRuns: 20000 },
    );
  });

  it('decimal values equal JS Number() for in-range input', () => {
    const dec = fc.tuple(fc.stringMatching(/^-?[0-9]{1,20}(\.[0-9]{0,20})?$/), fc.integer({ min: -330, max: 310 })).map(([m, e]) => `${m}e${e}`);
    fc.assert(
      fc.property(dec, (s) => {
        const want = Number(s);
        const zeroDigits = !/[1-9]/.test(s.split('e')[0]);
        if (!Number.isFinite(want) || (want === 0 && !zeroDigits)) expect(pD(s)).toBeNull();
        else expect(pD(s)).toBe(want);
        const r = pRD(s);
        expect(r === null ? null : Object.is(r, -0) ? 0 : r).toBe(Object.is(want, -0) ? 0 : want);
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips every finite double through formatDouble', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        expect(Object.is(pD(formatDouble(x)), x)).toBe(true);
        expect(Object.is(pRD(formatDouble(x)), x)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

// ---------------------------------------------------------------------------
// Double formatting
// ---------------------------------------------------------------------------
describe('formatDouble (%.17g, Redis 7.0 replies)', () => {
  it.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-2.5, '-2.5'],
    [0.1, '0.10000000000000001'],
    [0.5, '0.5'],
    [1.5, '1.5'],
    [3.14, '3.1400000000000001'],
    [1e-5, '1.0000000000000001e-05'],
    [0.0001, '0.0001'],
    [1e16, '10000000000000000'],
    [2 ** 53 + 2, '9007199254740994'],
    [99999999999999984, '99999999999999984'],
    [1e17, '1e+17'],
    [1.5e300, '1.5000000000000001e+300'],
    [123456789012345680, '1.2345678901234568e+17'],
    [5e-324, '4.9406564584124654e-324'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [2 ** -25, '2.9802322387695312e-08'], // exact tie: glibc rounds half to even
    [100000000000000.125, '100000000000000.12'],
    [100000000000000.375, '100000000000000.38'],
    [-100000000000000.125, '-100000000000000.12'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
  ])('%s -> %s', (x, s) => {
    expect(formatDouble(x)).toBe(s);
  });
});

describe('long double emulation', () => {
  it('INCRBYFLOAT examples (values verified against redis-server 7.0.15)', () => {
    expect(incr('10.50', '0.1')).toBe('10.6');
    expect(incr('10.6', '-5')).toBe('5.6');
    expect(incr('5.0e3', '2.0e2')).toBe('5200');
    expect(incr('5.0e3', '1.1')).toBe('5001.10000000000000009');
    expect(incr('3.0e3', '0')).toBe('3000');
    expect(incr('0.1', '0.2')).toBe('0.3');
    expect(incr('1000', '0.1')).toBe('1000.09999999999999998');
    expect(incr(null, '1.5')).toBe('1.5');
    expect(incr('1', '-1')).toBe('0');
    expect(incr('-0', '-0')).toBe('0');
    expect(incr('0', '-1e-18')).toBe('0'); // "-0.00000000000000000" -> "-0" -> "0"
    expect(incr('0', '-6e-18')).toBe('-0.00000000000000001');
    expect(incr('0', '5e-18')).toBe('0'); // long double 5e-18 is just below the tie
    expect(incr('0', '5.000000000000001e-18')).toBe('0.00000000000000001');
    expect(incr('0', '1.5e-17')).toBe('0.00000000000000002');
    expect(incr('0', 'inf')).toBe('ERR increment would produce NaN or Infinity');
    expect(incr('abc', '1')).toBe('ERR value is not a valid float');
    expect(incr('0', '1e400')).toBe(
      '10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880',
    );
    expect(incr('1e4932', '1e4932')).toBe('ERR increment would produce NaN or Infinity');
    expect(incr('0', '0x1p3')).toBe('8');
  });

  it('formatIncrByFloat on doubles', () => {
    expect(formatIncrByFloat(10.5 + 0.1)).toBe('10.6');
    expect(formatIncrByFloat(3.0e3)).toBe('3000');
    expect(formatIncrByFloat(5.0e3 + 2.0e2)).toBe('5200');
    expect(formatIncrByFloat(5.0e3 + 1.1)).toBe('5001.10000000000000009');
    expect(formatIncrByFloat(1000 + 0.1)).toBe('1000.09999999999999998');
    expect(formatIncrByFloat(-1.25)).toBe('-1.25');
    expect(formatIncrByFloat(1e21)).toBe('1000000000000000000000');
    expect(formatIncrByFloat(1e-20)).toBe('0');
    expect(formatIncrByFloat(-1e-20)).toBe('0');
    expect(formatIncrByFloat(1.5e-17)).toBe('0.00000000000000002'); // 1.5e-17 in long double is just above the tie
    expect(formatIncrByFloat(2 ** 60)).toBe('1152921504606847000'); // shortest decimal of the double
    expect(formatIncrByFloat(Infinity)).toBe('inf');
    // Known double-vs-long-double difference: the double sum carries the error.
    expect(formatIncrByFloat(0.1 + 0.2)).toBe('0.30000000000000004'); // Redis says "0.3"
  });

  it('conversions', () => {
    expect(longDoubleToNumber(pLD('0.1')!)).toBe(0.1);
    expect(longDoubleToNumber(pLD('1e400')!)).toBe(Infinity);
    expect(longDoubleToNumber(pLD('-1e-400')!)).toBe(-0);
    expect(longDoubleToNumber(longDoubleFromInt(2n ** 63n - 1n))).toBe(2 ** 63);
    expect(formatLongDoubleHuman(longDoubleFromInt(2n ** 63n - 1n))).toBe('9223372036854775807');
    expect(formatLongDoubleHuman(longDoubleFromInt(-(2n ** 63n)))).toBe('-9223372036854775808');
    expect(formatLongDoubleHuman(longDoubleFromNumber(0.1))).toBe('0.10000000000000001');
    expect(formatLongDoubleHuman(longDoubleFromNumber(5e-324))).toBe('0');
    expect(longDoubleIsFinite(addLongDouble(pLD('inf')!, pLD('-inf')!))).toBe(false);
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        expect(Object.is(longDoubleToNumber(longDoubleFromNumber(x)), x)).toBe(true);
      }),
    );
  });

  it('addition is exact when the exact sum fits in 64 bits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), (a, b) => {
        const s = addLongDouble(longDoubleFromInt(a), longDoubleFromInt(b));
        expect(formatLongDoubleHuman(s)).toBe((a + b).toString());
      }),
    );
  });

  it('human format re-parses to the same long double when printing is exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 0, max: 17 }), (n, k) => {
        // n / 2^k has at most 17 fractional decimal digits, so %.17Lf is exact.
        const x = n / 2 ** k;
        const s = formatLongDoubleHuman(addLongDouble(longDoubleFromNumber(x), LD_ZERO));
        expect(pD(s)).toBe(x);
        expect(s).toBe(x.toFixed(17).replace(/\.?0+$/, '').replace(/^-0$/, '0'));
      }),
    );
  });
});

// ---------------------------------------------------------------------------
// Differential tests against redis-server
// ---------------------------------------------------------------------------
const haveRedis = redisForComparison('numbers.test');

/** Deterministic generators of INCRBYFLOAT operands, by category. */
const CATEGORIES: Record<string, fc.Arbitrary<string>> = {
  int: fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  money: fc.integer({ min: -10_000_000, max: 10_000_000 }).map((c) => (c / 100).toFixed(2)),
  dec6: fc.integer({ min: -100_000_000, max: 100_000_000 }).map((c) => (c / 1e6).toFixed(6)),
  smallfrac: fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: 1, max: 17 })).map(([x, k]) => x.toFixed(k)),
  exp: fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.integer({ min: -25, max: 25 })).map(([m, e]) => `${m / 1000}e${e}`),
  wide: fc.tuple(fc.integer({ min: -9999, max: 9999 }), fc.integer({ min: -4940, max: 4930 })).map(([m, e]) => `${m}E${e}`),
  longdigits: fc.stringMatching(/^-?[1-9][0-9]{15,30}\.[0-9]{10,30}$/),
  hex: fc.tuple(fc.stringMatching(/^-?0x[0-9a-f]{1,20}\.[0-9a-f]{0,10}$/), fc.integer({ min: -80, max: 80 })).map(([m, e]) => `${m}p${e}`),
  special: fc.constantFrom('inf', '-inf', 'nan', '', ' 1', '1e5000', '1e-5000', '0x1p16383', '-0', '+.5', '7.', '1e4932'),
};

describe.skipIf(!haveRedis)('numbers vs redis-server', () => {
  let server: ServerHandle;
  let client: Redis;
  useRedis((srv, c) => { server = srv; client = c; });

  async function redisIncr(pairs: Array<[string, string]>): Promise<string[]> {
    const p = client.pipeline();
    for (const [a, b] of pairs) {
      p.set('k', a);
      p.incrbyfloat('k', b);
    }
    const res = await p.exec();
    if (res === null) throw new Error('pipeline failed');
    return pairs.map((_, i) => {
      const [err, v] = res[2 * i + 1];
      return err ? String((err as Error).message) : String(v);
    });
  }

  it('INCRBYFLOAT: long double emulation is byte-exact; double path differences are measured', async () => {
    const names = Object.keys(CATEGORIES);
    const report: string[] = [];
    let seed = 11;
    for (const a of names) {
      for (const b of [a, 'int', 'smallfrac', 'wide']) {
        const pairs = fc.sample(fc.tuple(CATEGORIES[a], CATEGORIES[b]), { numRuns: 150, seed: seed++ });
        const want = await redisIncr(pairs);
        let doubleMismatch = 0;
        let comparable = 0;
        pairs.forEach(([x, y], i) => {
          expect({ x, y, r: incr(x, y) }).toEqual({ x, y, r: want[i] });
          const dx = pRD(x);
          const dy = pRD(y);
          if (dx !== null && dy !== null && !want[i].startsWith('ERR')) {
            comparable++;
            if (formatIncrByFloat(dx + dy) !== want[i]) doubleMismatch++;
          }
        });
        report.push(`${a}+${b}: ${doubleMismatch}/${comparable}`);
      }
    }
    console.info('formatIncrByFloat(double sum) mismatches vs redis by category: ' + report.join(', '));
  });

  it('INCRBYFLOAT chains re-parse Redis-formatted values exactly', async () => {
    const steps = fc.sample(fc.oneof(CATEGORIES.money, CATEGORIES.smallfrac, CATEGORIES.exp, CATEGORIES.int), { numRuns: 600, seed: 5 });
    await client.set('chain', '0');
    const p = client.pipeline();
    for (const s of steps) p.incrbyfloat('chain', s);
    const res = await p.exec();
    if (res === null) throw new Error('pipeline failed');
    let cur = '0';
    steps.forEach((s, i) => {
      const [err, v] = res[i];
      const ours = incr(cur, s);
      expect({ i, s, ours }).toEqual({ i, s, ours: err ? (err as Error).message : String(v) });
      if (!err) cur = String(v);
    });
  });

  it('HINCRBYFLOAT uses the same arithmetic', async () => {
    const pairs = fc.sample(fc.tuple(CATEGORIES.money, CATEGORIES.smallfrac), { numRuns: 200, seed: 9 });
    const p = client.pipeline();
    for (const [a, b] of pairs) {
      p.hset('h', 'f', a);
      p.hincrbyfloat('h', 'f', b);
    }
    const res = await p.exec();
    if (res === null) throw new Error('pipeline failed');
    pairs.forEach(([a, b], i) => expect(incr(a, b)).toBe(String(res[2 * i + 1][1])));
  });

  it('float syntax: ZADD (string2d) and INCRBYFLOAT (string2ld) validity', async () => {
    const soup = fc.sample(floatSoup, { numRuns: 3000, seed: 13 });
    const inputs = [...SYNTAX.map((s) => s[0]), ...soup];
    const p = client.pipeline();
    for (const s of inputs) {
      p.call('ZADD', 'z', Buffer.from(s, 'latin1'), 'm');
      p.set('k', '1');
      p.call('INCRBYFLOAT', 'k', Buffer.from(s, 'latin1'));
    }
    const res = await p.exec();
    if (res === null) throw new Error('pipeline failed');
    inputs.forEach((s, i) => {
      const zaddOk = res[3 * i][0] === null;
      const [ierr, iv] = res[3 * i + 2];
      expect({ s, zadd: pD(s) !== null }).toEqual({ s, zadd: zaddOk });
      expect({ s, incr: incr('1', s) }).toEqual({ s, incr: ierr ? (ierr as Error).message : String(iv) });
    });
  });

  it('ZSCORE formatting (%.17g) of random doubles', async () => {
    const f64 = new Float64Array(1);
    const u32 = new Uint32Array(f64.buffer);
    const bits = fc.sample(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })), { numRuns: 2500, seed: 17 }).map(([lo, hi]) => {
      u32[0] = lo;
      u32[1] = hi;
      return f64[0];
    });
    const dyadic = fc.sample(fc.tuple(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.integer({ min: 0, max: 30 })), { numRuns: 2500, seed: 19 }).map(
      ([n, k]) => n / 2 ** k,
    );
    const decimals = fc.sample(fc.integer({ min: -1e9, max: 1e9 }), { numRuns: 1000, seed: 23 }).map((n) => n / 1000);
    const xs = [...bits, ...dyadic, ...decimals, 2 ** -25, 100000000000000.125, 1e17, 1e16, 5e-324].filter((x) => !Number.isNaN(x));
    const p = client.pipeline();
    for (const x of xs) {
      p.zadd('z', x === Infinity ? 'inf' : x === -Infinity ? '-inf' : formatDouble(x), 'm');
      p.zscore('z', 'm');
    }
    const res = await p.exec();
    if (res === null) throw new Error('pipeline failed');
    xs.forEach((x, i) => {
      expect({ x, s: formatDouble(x) }).toEqual({ x, s: String(res[2 * i + 1][1]) });
    });
  });

  it('RESP3 double replies use the same text', async () => {
    const cmds = [encodeCommand(['HELLO', '3']), encodeCommand(['ZADD', 'z3', '0.1', 'a']), encodeCommand(['ZSCORE', 'z3', 'a']), encodeCommand(['ZINCRBY', 'z3', '1e20', 'a'])];
    const out = (await rawCommand(server.port, Buffer.concat(cmds), { replies: 4 })).toString('latin1');
    expect(out.endsWith(`,${formatDouble(0.1)}\r\n,${formatDouble(0.1 + 1e20)}\r\n`)).toBe(true);
  });
});
