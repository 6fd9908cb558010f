import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { globMatch, globMatchString } from '../../src/util/glob.ts';
import { redisForComparison, useRedis } from '../helpers/suites.ts';

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

function m(pattern: string, s: string, nocase = false): boolean {
  return globMatchString(pattern, s, nocase);
}

// ---------------------------------------------------------------------------
// Reference: a literal transliteration of Redis 7.0 stringmatchlen_impl(),
// recursion and skipLongerMatches flag included, over a copy of the pattern
// followed by the NUL terminator the C code may peek at.  `useSkip = false`
// gives the unoptimised (exponential) pre-7.0 behaviour.
// ---------------------------------------------------------------------------
function refMatch(pat: Uint8Array, str: Uint8Array, nocase: boolean, useSkip = true): boolean {
  const P = new Uint8Array(pat.length + 1);
  P.set(pat);
  const lower = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);
  const sch = (c: number): number => (c > 127 ? c - 256 : c);
  const flag = { skip: false };
  const impl = (p: number, pl: number, s: number, sl: number): boolean => {
    while (pl > 0 && sl > 0) {
      switch (P[p]) {
        case 42: {
          while (pl > 0 && P[p + 1] === 42) {
            p++;
            pl--;
          }
          if (pl === 1) return true;
          while (sl > 0) {
            if (impl(p + 1, pl - 1, s, sl)) return true;
            if (useSkip && flag.skip) return false;
            s++;
            sl--;
          }
          flag.skip = true;
          return false;
        }
        case 63:
          s++;
          sl--;
          break;
        case 91: {
          p++;
          pl--;
          const not = P[p] === 94;
          if (not) {
            p++;
            pl--;
          }
          let match = false;
          for (;;) {
            if (P[p] === 92 && pl >= 2) {
              p++;
              pl--;
              if (P[p] === str[s]) match = true;
            } else if (P[p] === 93) {
              break;
            } else if (pl === 0) {
              p--;
              pl++;
              break;
            } else if (pl >= 3 && P[p + 1] === 45) {
              let start = sch(P[p]);
              let end = sch(P[p + 2]);
              let c = sch(str[s]);
              if (start > end) [start, end] = [end, start];
              if (nocase) {
                start = lower(start);
                end = lower(end);
                c = lower(c);
              }
              p += 2;
              pl -= 2;
              if (c >= start && c <= end) match = true;
            } else if (nocase ? lower(P[p]) === lower(str[s]) : P[p] === str[s]) {
              match = true;
            }
            p++;
            pl--;
          }
          if (not) match = !match;
          if (!match) return false;
          s++;
          sl--;
          break;
        }
        default: {
          if (P[p] === 92 && pl >= 2) {
            p++;
            pl--;
          }
          if (nocase ? lower(P[p]) !== lower(str[s]) : P[p] !== str[s]) return false;
          s++;
          sl--;
          break;
        }
      }
      p++;
      pl--;
      if (sl === 0) {
        while (P[p] === 42) {
          p++;
          pl--;
        }
        break;
      }
    }
    return pl === 0 && sl === 0;
  };
  return impl(0, pat.length, 0, str.length);
}

function escapeAll(s: string): string {
  let out = '';
  for (const c of s) out += '\\' + c;
  return out;
}

// Arbitraries biased towards glob metacharacters.
const patChar = fc.constantFrom('*', '?', '[', ']', '^', '-', '\\', 'a', 'b', 'A', 'z', '\x00', '\xe9', '\x80');
const strChar = fc.constantFrom('a', 'b', 'A', 'B', 'z', '-', ']', '[', '\\', '*', '^', '\x00', '\xe9', '\x80', '\xff');
const patArb = fc.array(patChar, { maxLength: 12 }).map((a) => a.join(''));
const strArb = fc.array(strChar, { maxLength: 10 }).map((a) => a.join(''));

describe('globMatch basics', () => {
  it.each([
    ['*', '', false], // Redis 7.0 quirk: no pattern but "" matches "" (KEYS/SCAN special-case "*")
    ['**', '', false],
    ['*', 'anything', true],
    ['', '', true],
    ['', 'a', false],
    ['a', '', false],
    ['?', '', false],
    ['?', 'x', true],
    ['??', 'x', false],
    ['h?llo', 'hello', true],
    ['h*llo', 'hllo', true],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[a-b]llo', 'hcllo', false],
    ['h[b-a]llo', 'hallo', true], // reversed range
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['*a*b*c*', 'xaybzc', true],
    ['*a*b*c*', 'xaybz', false],
    ['a*', 'a', true],
    ['a**', 'a', true],
    ['a*?', 'a', false],
    ['*?', 'a', true],
    ['foo*bar', 'foobar', true],
    ['foo*bar', 'foo_bar_baz', false],
    ['user:*:name', 'user:1000:name', true],
  ])('%j vs %j -> %s', (p, s, want) => {
    expect(m(p, s)).toBe(want);
    expect(refMatch(bytes(p), bytes(s), false)).toBe(want);
  });
});

describe('globMatch Redis quirks', () => {
  it('unterminated class is closed by the end of the pattern', () => {
    expect(m('[abc', 'a')).toBe(true);
    expect(m('[abc', 'c')).toBe(true);
    expect(m('[abc', 'd')).toBe(false);
    expect(m('[abc', 'ab')).toBe(false);
    expect(m('x[a', 'xa')).toBe(true);
    expect(m('[', '')).toBe(false);
    expect(m('[', '[')).toBe(false);
    expect(m('[^', 'q')).toBe(true);
    expect(m('[^', '')).toBe(false);
    expect(m('[a-', 'a')).toBe(true);
    expect(m('[a-', '-')).toBe(true);
    expect(m('[a-]', ']')).toBe(true); // range a..] (reversed) then unterminated
    expect(m('[a-]', '^')).toBe(true);
    expect(m('[a-]', 'b')).toBe(false);
  });

  it('empty class and leading ]', () => {
    expect(m('[]', 'a')).toBe(false);
    expect(m('[]a]', 'a')).toBe(false); // "[]" never matches
    expect(m('[^]', 'a')).toBe(true);
    expect(m('[^]a', 'xa')).toBe(true);
  });

  it('backslash handling', () => {
    expect(m('\\', '\\')).toBe(true); // trailing lone backslash is literal
    expect(m('a\\', 'a\\')).toBe(true);
    expect(m('a\\', 'a')).toBe(false);
    expect(m('\\a', 'a')).toBe(true);
    expect(m('\\\\', '\\')).toBe(true);
    expect(m('[\\]]', ']')).toBe(true);
    expect(m('[\\]', '\\')).toBe(false); // "\]" escapes ]: unterminated class {]}
    expect(m('[\\]', ']')).toBe(true);
    expect(m('[a\\', '\\')).toBe(true); // trailing backslash inside class is literal
    expect(m('[\\-a]', '-')).toBe(true);
    expect(m('[\\-a]', 'b')).toBe(false);
  });

  it('nocase', () => {
    expect(m('HELLO', 'hello', true)).toBe(true);
    expect(m('h[A-C]llo', 'hbllo', true)).toBe(true);
    expect(m('h[a-c]llo', 'hBllo', true)).toBe(true);
    expect(m('[Z-a]', 'z', true)).toBe(false); // swapped then lowered: z..a is empty
    expect(m('[Z-a]', '_', false)).toBe(true);
    expect(m('[\\A]', 'a', true)).toBe(false); // escaped class member is case-sensitive
    expect(m('[\\A]', 'A', true)).toBe(true);
    expect(m('\\A', 'a', true)).toBe(true); // escaped literal outside a class is not
    expect(m('\xc9', '\xe9', true)).toBe(false); // ASCII-only case folding
  });

  it('ranges compare bytes as signed chars', () => {
    expect(m('[a-\xff]', 'b')).toBe(false); // -1..97
    expect(m('[a-\xff]', 'A')).toBe(true);
    expect(m('[a-\xff]', '\xfe')).toBe(false);
    expect(m('[a-\xff]', '\xff')).toBe(true);
    expect(m('[\x80-\x81]', '\x80')).toBe(true);
    expect(m('[\x00-\x7f]', '\x80')).toBe(false);
  });

  it('NUL bytes are ordinary', () => {
    expect(m('a\x00*', 'a\x00b')).toBe(true);
    expect(m('[\x00]', '\x00')).toBe(true);
    expect(m('?', '\x00')).toBe(true);
  });

  it('respects offsets and ignores bytes outside the slices', () => {
    // Bytes after the pattern slice must read as the NUL terminator.
    const ab = bytes('__a__b__');
    const pat = bytes('XX[a-z]YY');
    expect(globMatch(pat, 2, 2, ab, 2, 1, false)).toBe(true); // "[a" vs "a"
    expect(globMatch(pat, 2, 2, ab, 5, 1, false)).toBe(false); // "[a" vs "b" (no "-z" range)
    expect(globMatch(pat, 2, 1, ab, 2, 1, false)).toBe(false); // "[" vs "a"
    expect(globMatch(pat, 2, 5, ab, 5, 1, false)).toBe(true); // "[a-z]" vs "b"
    const p2 = bytes('a**b');
    expect(globMatch(p2, 0, 2, bytes('abc'), 0, 3, false)).toBe(true); // "a*" slice
    expect(globMatch(p2, 0, 3, bytes('xabcx'), 1, 3, false)).toBe(true); // "a**" vs "abc"
    expect(globMatch(bytes('\\*'), 0, 1, bytes('\\'), 0, 1, false)).toBe(true); // lone "\\" slice
  });
});

describe('globMatch complexity', () => {
  it('pathological a*a*a*...b finishes fast', () => {
    const pat = bytes('a*'.repeat(30) + 'b');
    const str = bytes('a'.repeat(20000));
    const t0 = performance.now();
    expect(globMatch(pat, 0, pat.length, str, 0, str.length, false)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('long star patterns do not recurse', () => {
    const pat = bytes('*a'.repeat(50000) + '*');
    const str = bytes('a'.repeat(50000));
    expect(globMatch(pat, 0, pat.length, str, 0, str.length, false)).toBe(true);
    expect(globMatch(pat, 0, pat.length, str, 0, str.length - 1, false)).toBe(false);
  });

  it('many stars against a long non-matching string', () => {
    const pat = bytes('*?*?*?*?*?*?*?*?*?*?x');
    const str = bytes('y'.repeat(100000));
    const t0 = performance.now();
    expect(globMatch(pat, 0, pat.length, str, 0, str.length, true)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('globMatch properties', () => {
  it('agrees with a transliteration of the C code (with skipLongerMatches)', () => {
    fc.assert(
      fc.property(patArb, strArb, fc.boolean(), (p, s, nocase) => {
        expect(m(p, s, nocase)).toBe(refMatch(bytes(p), bytes(s), nocase));
      }),
      { numRuns: 20000 },
    );
  });

  it('skipLongerMatches never changes the result (vs full backtracking)', () => {
    fc.assert(
      fc.property(patArb, strArb, fc.boolean(), (p, s, nocase) => {
        expect(m(p, s, nocase)).toBe(refMatch(bytes(p), bytes(s), nocase, false));
      }),
      { numRuns: 10000 },
    );
  });

  it('a fully escaped pattern matches exactly itself', () => {
    const anyByteString = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 16 }).map((a) => String.fromCharCode(...a));
    fc.assert(
      fc.property(anyByteString, anyByteString, (lit, other) => {
        const p = escapeAll(lit);
        expect(m(p, lit)).toBe(true);
        expect(m(p, other)).toBe(other === lit);
      }),
    );
  });

  it('* matches every non-empty string, ?^n matches exactly length n', () => {
    const anyByteString = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map((a) => String.fromCharCode(...a));
    fc.assert(
      fc.property(anyByteString, fc.nat(45), fc.boolean(), (s, n, nocase) => {
        // Only the empty pattern matches the empty string (Redis 7.0 loop condition).
        expect(m('*', s, nocase)).toBe(s.length > 0);
        expect(m('**', s, nocase)).toBe(s.length > 0);
        expect(m('?'.repeat(n), s, nocase)).toBe(s.length === n);
        expect(m('?'.repeat(n) + '*', s, nocase)).toBe(s.length >= n && s.length > 0);
      }),
    );
  });

  it('prefix* and *suffix behave like startsWith / endsWith for plain text', () => {
    const plain = fc.string({ unit: fc.constantFrom('a', 'b', 'c', ':', '1'), maxLength: 12 });
    fc.assert(
      fc.property(plain, plain, (a, s) => {
        const nonEmpty = s.length > 0;
        expect(m(a + '*', s)).toBe(nonEmpty && s.startsWith(a));
        expect(m('*' + a, s)).toBe(nonEmpty && s.endsWith(a));
        expect(m('*' + a + '*', s)).toBe(nonEmpty && s.includes(a));
      }),
    );
  });

  it('nocase equals matching lower-cased ASCII when the pattern has no classes or escapes', () => {
    const t = fc.string({ unit: fc.constantFrom('a', 'B', 'c', 'D', '*', '?', 'x', 'X'), maxLength: 10 });
    fc.assert(
      fc.property(t, t, (p, s) => {
        expect(m(p, s, true)).toBe(m(p.toLowerCase(), s.toLowerCase(), false));
      }),
    );
  });
});

// ---------------------------------------------------------------------------
// Differential tests against a real redis-server (KEYS for case-sensitive
// matching of binary keys, COMMAND LIST FILTERBY PATTERN for nocase).
// ---------------------------------------------------------------------------
const haveRedis = redisForComparison('glob.test');

describe.skipIf(!haveRedis)('globMatch vs redis-server', () => {
  let client: Redis;
  useRedis((_server, c) => { client = c; });

  it('KEYS agrees on random binary patterns', async () => {
    const rng = fc.sample(fc.tuple(fc.array(strArb, { minLength: 40, maxLength: 40 }), fc.array(patArb, { minLength: 300, maxLength: 300 })), {
      numRuns: 6,
      seed: 42,
    });
    let compared = 0;
    for (const [keys, patterns] of rng) {
      const uniq = [...new Set(keys.filter((k) => k.length > 0))];
      await client.flushall();
      const setp = client.pipeline();
      for (const k of uniq) setp.set(Buffer.from(k, 'latin1'), '1');
      await setp.exec();
      const kp = client.pipeline();
      for (const p of patterns) kp.callBuffer('KEYS', Buffer.from(p, 'latin1'));
      const res = await kp.exec();
      if (res === null) throw new Error('pipeline failed');
      patterns.forEach((p, i) => {
        const [err, got] = res[i];
        expect(err).toBeNull();
        const redisSet = new Set((got as Buffer[]).map((b) => b.toString('latin1')));
        const ours = uniq.filter((k) => m(p, k)).sort();
        expect({ p, keys: ours }).toEqual({ p, keys: [...redisSet].sort() });
        compared++;
      });
    }
    expect(compared).toBe(1800);
  });

  it('COMMAND LIST FILTERBY PATTERN (nocase) agrees', async () => {
    const all = ((await client.call('COMMAND', 'LIST')) as string[]).sort();
    const nocasePat = fc.array(fc.constantFrom('*', '?', '[', ']', '^', '-', '\\', 'C', 'o', 'G', 'e', 't', '|', 'S', 'a', 'Z', 'x'), {
      maxLength: 8,
    });
    const patterns = fc.sample(nocasePat.map((a) => a.join('')), { numRuns: 400, seed: 7 });
    patterns.push('*GET*', 'CONFIG|*', '[A-C]*', 'h[^E]*', '[Z-a]*', '*\\|*');
    const pl = client.pipeline();
    for (const p of patterns) pl.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', p);
    const res = await pl.exec();
    if (res === null) throw new Error('pipeline failed');
    patterns.forEach((p, i) => {
      const [err, got] = res[i];
      expect(err).toBeNull();
      const ours = all.filter((name) => m(p, name, true));
      expect({ p, names: ours }).toEqual({ p, names: (got as string[]).sort() });
    });
  });
});
