import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ReplyReader,
  RespAttributed,
  RespDouble,
  RespError,
  RespMap,
  RespProtocolError,
  RespPush,
  RespSet,
  RespVerbatim,
  parseAllReplies,
  parseReply,
  replyLength,
  type RespValue,
} from '../../src/protocol/reply-reader.ts';

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Test-side RESP3 encoder (the inverse of the reader's mapping). */
function encode(v: RespValue): Buffer {
  if (v === null) return bytes('_\r\n');
  if (typeof v === 'string') return Buffer.from(`+${v}\r\n`);
  if (typeof v === 'number') return bytes(`:${v}\r\n`);
  if (typeof v === 'bigint') return bytes(`(${v}\r\n`);
  if (typeof v === 'boolean') return bytes(v ? '#t\r\n' : '#f\r\n');
  if (Buffer.isBuffer(v)) return Buffer.concat([bytes(`$${v.length}\r\n`), v, bytes('\r\n')]);
  if (v instanceof RespError) {
    if (/[\r\n]/.test(v.message)) {
      const data = Buffer.from(v.message);
      return Buffer.concat([bytes(`!${data.length}\r\n`), data, bytes('\r\n')]);
    }
    return Buffer.from(`-${v.message}\r\n`);
  }
  if (v instanceof RespDouble) {
    const d = v.value;
    let text: string;
    if (Number.isNaN(d)) text = 'nan';
    else if (d === Infinity) text = 'inf';
    else if (d === -Infinity) text = '-inf';
    else if (Object.is(d, -0)) text = '-0';
    else text = String(d);
    return bytes(`,${text}\r\n`);
  }
  if (v instanceof RespVerbatim) {
    return Buffer.concat([bytes(`=${v.data.length + 4}\r\n${v.format}:`), v.data, bytes('\r\n')]);
  }
  if (v instanceof RespMap) {
    return Buffer.concat([bytes(`%${v.entries.length}\r\n`), ...v.entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
  }
  if (v instanceof RespSet) return Buffer.concat([bytes(`~${v.items.length}\r\n`), ...v.items.map(encode)]);
  if (v instanceof RespPush) return Buffer.concat([bytes(`>${v.items.length}\r\n`), ...v.items.map(encode)]);
  if (v instanceof RespAttributed) {
    const attrs = v.attributes.entries.flatMap(([k, x]) => [encode(k), encode(x)]);
    return Buffer.concat([bytes(`|${v.attributes.entries.length}\r\n`), ...attrs, encode(v.value)]);
  }
  return Buffer.concat([bytes(`*${v.length}\r\n`), ...v.map(encode)]);
}

function one(input: string | Buffer): RespValue {
  const b = typeof input === 'string' ? bytes(input) : input;
  const r = parseReply(b);
  expect(r).not.toBeNull();
  if (r === null) throw new Error('unreachable');
  expect(r.length).toBe(b.length);
  return r.value;
}

describe('parseReply: RESP2 types', () => {
  it('decodes simple strings, errors and integers', () => {
    expect(one('+OK\r\n')).toBe('OK');
    expect(one('+\r\n')).toBe('');
    const e = one('-WRONGTYPE Operation against a key\r\n');
    expect(e).toBeInstanceOf(RespError);
    expect((e as RespError).message).toBe('WRONGTYPE Operation against a key');
    expect((e as RespError).code).toBe('WRONGTYPE');
    expect(one(':0\r\n')).toBe(0);
    expect(one(':-42\r\n')).toBe(-42);
    expect(one(':9007199254740991\r\n')).toBe(Number.MAX_SAFE_INTEGER);
    expect(one(':9223372036854775807\r\n')).toBe(9223372036854775807n);
    expect(one(':-9223372036854775808\r\n')).toBe(-9223372036854775808n);
  });

  it('decodes bulks as copies and null bulks / arrays as null', () => {
    const input = bytes('$5\r\nhe\r\no\r\n');
    const v = one(input);
    expect(v).toEqual(bytes('he\r\no'));
    input.fill(0);
    expect(v).toEqual(bytes('he\r\no'));
    expect(one('$0\r\n\r\n')).toEqual(Buffer.alloc(0));
    expect(one('$-1\r\n')).toBeNull();
    expect(one('*-1\r\n')).toBeNull();
    expect(one('*0\r\n')).toEqual([]);
  });

  it('decodes nested arrays', () => {
    expect(one('*3\r\n:1\r\n*2\r\n+a\r\n$-1\r\n$1\r\nx\r\n')).toEqual([1, ['a', null], bytes('x')]);
  });
});

describe('parseReply: RESP3 types', () => {
  it('decodes null, booleans, doubles and big numbers', () => {
    expect(one('_\r\n')).toBeNull();
    expect(one('#t\r\n')).toBe(true);
    expect(one('#f\r\n')).toBe(false);
    expect(one(',1.5\r\n')).toEqual(new RespDouble(1.5));
    expect(one(',-2\r\n')).toEqual(new RespDouble(-2));
    expect(one(',1e+21\r\n')).toEqual(new RespDouble(1e21));
    expect(one(',inf\r\n')).toEqual(new RespDouble(Infinity));
    expect(one(',-inf\r\n')).toEqual(new RespDouble(-Infinity));
    expect((one(',nan\r\n') as RespDouble).value).toBeNaN();
    expect(one('(3492890328409238509324850943850943825024385\r\n')).toBe(
      3492890328409238509324850943850943825024385n,
    );
    expect(one('(-1\r\n')).toBe(-1n);
  });

  it('decodes blob errors and verbatim strings', () => {
    const e = one('!22\r\nSYNTAX invalid\r\nsyntax\r\n');
    expect(e).toBeInstanceOf(RespError);
    expect((e as RespError).message).toBe('SYNTAX invalid\r\nsyntax');
    const v = one('=15\r\ntxt:Some string\r\n');
    expect(v).toBeInstanceOf(RespVerbatim);
    expect((v as RespVerbatim).format).toBe('txt');
    expect((v as RespVerbatim).data).toEqual(bytes('Some string'));
    expect(String(v)).toBe('Some string');
  });

  it('decodes maps, sets and pushes', () => {
    const m = one('%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n');
    expect(m).toBeInstanceOf(RespMap);
    const map = m as RespMap;
    expect(map.size).toBe(2);
    expect(map.get('first')).toBe(1);
    expect(map.get(bytes('second'))).toBe(2);
    expect(map.get('third')).toBeUndefined();
    expect(one('~2\r\n+a\r\n:1\r\n')).toEqual(new RespSet(['a', 1]));
    expect(one('>3\r\n+message\r\n+ch\r\n$2\r\nhi\r\n')).toEqual(new RespPush(['message', 'ch', bytes('hi')]));
    expect(one('%0\r\n')).toEqual(new RespMap([]));
  });

  it('decodes attributes together with the reply they annotate', () => {
    const input = '|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n';
    const v = one(input);
    expect(v).toBeInstanceOf(RespAttributed);
    const a = v as RespAttributed;
    expect(a.value).toEqual([2039123, 9543892]);
    expect(a.attributes.get('key-popularity')).toEqual(new RespMap([[bytes('a'), new RespDouble(0.19)]]));
    // Inside an aggregate too.
    expect(one('*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n:2\r\n')).toEqual([
      new RespAttributed(new RespMap([['k', 'v']]), 1),
      2,
    ]);
  });
});

describe('replyLength', () => {
  it('measures one reply and ignores what follows', () => {
    const b = bytes('*2\r\n$3\r\nfoo\r\n:1\r\n+NEXT\r\n');
    expect(replyLength(b, 0, b.length)).toBe(b.length - 7);
    expect(replyLength(b, b.length - 7, b.length)).toBe(7);
  });

  it('respects offset and end', () => {
    const b = bytes('xx$3\r\nfoo\r\nyy');
    expect(replyLength(b, 2, b.length)).toBe(9);
    expect(replyLength(b, 2, 10)).toBe(-1);
    expect(replyLength(b, 2, 2)).toBe(-1);
    expect(replyLength(b.subarray(2, 11), 0, 9)).toBe(9);
  });

  it.each([
    '+OK\r\n', '-ERR x\r\n', ':1\r\n', '$3\r\nfoo\r\n', '$-1\r\n', '*-1\r\n', '*0\r\n', '_\r\n', '#t\r\n', ',1.5\r\n',
    '(12\r\n', '!3\r\nerr\r\n', '=7\r\ntxt:abc\r\n', '%1\r\n+a\r\n:1\r\n', '~1\r\n:1\r\n', '>2\r\n+a\r\n+b\r\n',
    '|1\r\n+a\r\n+b\r\n:1\r\n', '*2\r\n*1\r\n$0\r\n\r\n%0\r\n',
  ])('reports every strict prefix of %j as incomplete', (s) => {
    const b = bytes(s);
    expect(replyLength(b, 0, b.length)).toBe(b.length);
    for (let i = 0; i < b.length; i++) expect(replyLength(b, 0, i)).toBe(-1);
    expect(parseReply(b, 0, b.length - 1)).toBeNull();
  });

  it.each([
    ['unknown type byte', '?x\r\n'],
    ['bulk without CRLF after the payload', '$3\r\nfooxx'],
    ['negative bulk length other than -1', '$-2\r\n'],
    ['bulk length with a leading zero', '$03\r\nfoo\r\n'],
    ['non-numeric count', '*x\r\n'],
    ['null set', '~-1\r\n'],
    ['null map', '%-1\r\n'],
    ['null blob error', '!-1\r\n'],
    ['bad boolean', '#x\r\n'],
    ['long boolean', '#tt\r\n'],
    ['non-empty null', '_x\r\n'],
    ['CR not followed by LF', '+a\rb\r\n'],
    ['bare LF', '+a\nb\r\n'],
    ['streamed string', '$?\r\n;4\r\nHell\r\n;0\r\n'],
    ['malformed element inside an array', '*2\r\n:1\r\n?\r\n'],
  ])('rejects %s', (_name, s) => {
    const b = bytes(s);
    expect(replyLength(b, 0, b.length)).toBe(-2);
    expect(() => parseReply(b)).toThrow(RespProtocolError);
  });

  it('handles very deep nesting without recursion', () => {
    const depth = 200000;
    const b = Buffer.concat([bytes('*1\r\n'.repeat(depth)), bytes(':1\r\n')]);
    expect(replyLength(b, 0, b.length)).toBe(b.length);
    expect(replyLength(b, 0, b.length - 1)).toBe(-1);
  });

  it('does not allocate for huge declared counts', () => {
    expect(replyLength(bytes('*999999999999999\r\n:1\r\n'), 0, 22)).toBe(-1);
    expect(replyLength(bytes('$999999999999999\r\nab'), 0, 20)).toBe(-1);
  });
});

describe('parseReply: value errors', () => {
  it.each([
    ['integer with a letter', ':12a\r\n'],
    ['empty integer', ':\r\n'],
    ['integer with a plus sign', ':+1\r\n'],
    ['double that is not a number', ',abc\r\n'],
    ['empty double', ',\r\n'],
    ['big number with a fraction', '(1.5\r\n'],
    ['verbatim without format', '=2\r\nab\r\n'],
    ['verbatim with a bad separator', '=5\r\ntxtab\r\n'],
  ])('throws on %s', (_name, s) => {
    const b = bytes(s);
    expect(replyLength(b, 0, b.length)).toBe(b.length);
    expect(() => parseReply(b)).toThrow(RespProtocolError);
  });
});

describe('ReplyReader', () => {
  it('streams replies fed in small pieces', () => {
    const input = bytes('+OK\r\n$5\r\nhello\r\n*2\r\n:1\r\n_\r\n-ERR bad\r\n');
    const reader = new ReplyReader();
    const out: RespValue[] = [];
    for (const byte of input) {
      reader.feed(Buffer.from([byte]));
      for (let v = reader.next(); v !== undefined; v = reader.next()) out.push(v);
    }
    expect(out).toEqual(['OK', bytes('hello'), [1, null], new RespError('ERR bad')]);
    expect(reader.pendingBytes()).toBe(0);
  });

  it('grows for large replies', () => {
    const big = Buffer.alloc(100000, 0x61);
    const reader = new ReplyReader();
    const input = encode([big, big]);
    reader.feed(input.subarray(0, 50000));
    expect(reader.next()).toBeUndefined();
    expect(reader.pendingBytes()).toBe(50000);
    reader.feed(input.subarray(50000));
    expect(reader.next()).toEqual([big, big]);
  });

  it('throws on malformed input', () => {
    const reader = new ReplyReader();
    reader.feed(bytes('?\r\n'));
    expect(() => reader.next()).toThrow(RespProtocolError);
  });
});

// ---------------------------------------------------------------------------
// Property tests

const lineText = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
const leafArb: fc.Arbitrary<RespValue> = fc.oneof(
  fc.constant(null),
  lineText,
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.bigInt(),
  fc.boolean(),
  fc.uint8Array({ maxLength: 50 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 20 }).map((s) => new RespError(s)),
  fc.double().map((d) => new RespDouble(d)),
  fc
    .tuple(fc.stringMatching(/^[a-z]{3}$/), fc.uint8Array({ maxLength: 30 }))
    .map(([f, d]) => new RespVerbatim(f, Buffer.from(d))),
);

const { value: valueArb } = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((e) => new RespMap(e)),
    fc.array(tie('value'), { maxLength: 4 }).map((i) => new RespSet(i)),
    fc.array(tie('value'), { maxLength: 4 }).map((i) => new RespPush(i)),
    fc
      .tuple(fc.array(fc.tuple(lineText, tie('value')), { minLength: 1, maxLength: 2 }), tie('value'))
      .map(([e, v]) => new RespAttributed(new RespMap(e), v)),
  ),
}));

describe('reply reader: properties', () => {
  it('decodes what the encoder produced and measures it exactly', () => {
    fc.assert(
      fc.property(valueArb, fc.uint8Array({ maxLength: 8 }), (v, trailer) => {
        const enc = encode(v);
        const b = Buffer.concat([bytes('junk'), enc, Buffer.from(trailer)]);
        expect(replyLength(b, 4, b.length)).toBe(enc.length);
        const r = parseReply(b, 4);
        expect(r?.length).toBe(enc.length);
        expect(r?.value).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('reports every strict prefix as incomplete', () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        const enc = encode(v);
        for (let i = 0; i < enc.length; i++) expect(replyLength(enc, 0, i)).toBe(-1);
      }),
      { numRuns: 200 },
    );
  });

  it('streams any sequence of replies through any chunking', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (values, cuts) => {
        const all = Buffer.concat(values.map(encode));
        expect(parseAllReplies(all)).toEqual(values);
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const reader = new ReplyReader();
        const out: RespValue[] = [];
        let prev = 0;
        for (const c of [...points, all.length]) {
          reader.feed(all.subarray(prev, c));
          prev = c;
          for (let v = reader.next(); v !== undefined; v = reader.next()) out.push(v);
        }
        expect(out).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but RespProtocolError on garbage', () => {
    const tokens = fc.constantFrom(
      '*', '$', '%', '~', '>', '|', '!', '=', '(', ',', '#', '_', '+', '-', ':', '\r\n', '\r', '\n', '0', '1', '2',
      '-1', 't', 'x', 'txt:', '.5', 'e', 'inf',
    );
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a)),
      fc.array(tokens, { maxLength: 40 }).map((t) => bytes(t.join(''))),
    );
    fc.assert(
      fc.property(garbage, (b) => {
        const n = replyLength(b, 0, b.length);
        expect(n).toBeGreaterThanOrEqual(-2);
        expect(n).toBeLessThanOrEqual(b.length);
        try {
          parseReply(b);
        } catch (e) {
          expect(e).toBeInstanceOf(RespProtocolError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
