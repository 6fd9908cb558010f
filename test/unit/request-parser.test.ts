import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { RequestParser, type ParserLimits } from '../../src/protocol/request-parser.ts';
import { redisForComparison } from '../helpers/suites.ts';

const MB = 1024 * 1024;
const DEFAULT_LIMITS: ParserLimits = { protoMaxBulkLen: 512 * MB, queryBufferLimit: 1024 * MB };

function newParser(limits: Partial<ParserLimits> = {}): RequestParser {
  return new RequestParser({ ...DEFAULT_LIMITS, ...limits });
}

interface Outcome {
  commands: string[][];
  inline: boolean[];
  /** Last status returned by next(): 0 (waiting) or -1 (error). */
  status: number;
  error: string;
}

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function argsOf(p: RequestParser): string[] {
  const out: string[] = [];
  for (let i = 0; i < p.argc; i++) {
    out.push(p.buf.toString('latin1', p.argOffset[i], p.argOffset[i] + p.argLength[i]));
  }
  return out;
}

/** Feed each chunk, drain commands after each, compact after each batch. */
function parseChunks(chunks: Buffer[], p: RequestParser = newParser()): Outcome {
  const out: Outcome = { commands: [], inline: [], status: 0, error: '' };
  for (const chunk of chunks) {
    p.feed(chunk);
    for (;;) {
      const r = p.next();
      expect([1, 0, -1]).toContain(r);
      if (r === 1) {
        out.commands.push(argsOf(p));
        out.inline.push(p.isInline);
        continue;
      }
      out.status = r;
      if (r === -1) {
        out.error = p.error;
        return out;
      }
      break;
    }
    p.compact();
  }
  return out;
}

function parse(input: string | Buffer, p?: RequestParser): Outcome {
  return parseChunks([typeof input === 'string' ? bytes(input) : Buffer.from(input)], p);
}

function parseByteByByte(input: string | Buffer, p?: RequestParser): Outcome {
  const b = typeof input === 'string' ? bytes(input) : input;
  const chunks: Buffer[] = [];
  for (let i = 0; i < b.length; i++) chunks.push(Buffer.from(b.subarray(i, i + 1)));
  return parseChunks(chunks, p);
}

function expectError(input: string | Buffer, error: string, p?: RequestParser): void {
  const o = parse(input, p);
  expect(o.status).toBe(-1);
  expect(o.error).toBe(error);
}

function encodeMultibulk(args: Uint8Array[]): Buffer {
  const parts: Buffer[] = [bytes(`*${args.length}\r\n`)];
  for (const a of args) {
    parts.push(bytes(`$${a.length}\r\n`), Buffer.from(a), bytes('\r\n'));
  }
  return Buffer.concat(parts);
}

function splitAt(b: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const c of points) {
    if (c > prev) chunks.push(Buffer.from(b.subarray(prev, c)));
    prev = c;
  }
  if (prev < b.length) chunks.push(Buffer.from(b.subarray(prev)));
  return chunks;
}

const E = {
  inline: 'Protocol error: too big inline request',
  mbulkCount: 'Protocol error: too big mbulk count string',
  bulkCount: 'Protocol error: too big bulk count string',
  mbulkLen: 'Protocol error: invalid multibulk length',
  bulkLen: 'Protocol error: invalid bulk length',
  quotes: 'Protocol error: unbalanced quotes in request',
  unauthMbulk: 'Protocol error: unauthenticated multibulk length',
  unauthBulk: 'Protocol error: unauthenticated bulk length',
  expected: (c: string) => `Protocol error: expected '$', got '${c}'`,
};

describe('RequestParser: multibulk', () => {
  it('parses a command', () => {
    const o = parse('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n');
    expect(o.commands).toEqual([['SET', 'k', 'value']]);
    expect(o.inline).toEqual([false]);
    expect(o.status).toBe(0);
  });

  it('parses a pipeline from one chunk and byte by byte', () => {
    let input = '';
    const expected: string[][] = [];
    for (let i = 0; i < 500; i++) {
      input += `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n`;
      expected.push(['ECHO', String(i)]);
    }
    expect(parse(input).commands).toEqual(expected);
    expect(parseByteByByte(input).commands).toEqual(expected);
  });

  it('keeps binary payloads intact (CR, LF, NUL, high bytes)', () => {
    const arg = Buffer.from([0, 13, 10, 42, 36, 255, 0, 13]);
    const p = newParser();
    p.feed(encodeMultibulk([bytes('SET'), arg]));
    expect(p.next()).toBe(1);
    expect(Buffer.from(p.buf.subarray(p.argOffset[1], p.argOffset[1] + p.argLength[1]))).toEqual(arg);
  });

  it('accepts empty bulks', () => {
    expect(parse('*2\r\n$4\r\nECHO\r\n$0\r\n\r\n').commands).toEqual([['ECHO', '']]);
  });

  it('skips *0, *-1 and other non-positive counts', () => {
    const o = parse('*0\r\n*-1\r\n*-5\r\n*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n');
    expect(o.commands).toEqual([['PING']]);
    expect(o.status).toBe(0);
  });

  it('does not check the two bytes after a bulk or after a count line CR', () => {
    expect(parse('*1\r\n$4\r\nPINGxx*1\rx$4\rxPINGab').commands).toEqual([['PING'], ['PING']]);
  });

  it('waits for the byte after the CR of a count line', () => {
    const p = newParser();
    p.feed(bytes('*1\r'));
    expect(p.next()).toBe(0);
    p.feed(bytes('\n$4\r'));
    expect(p.next()).toBe(0);
    p.feed(bytes('\nPING\r'));
    expect(p.next()).toBe(0);
    p.feed(bytes('\n'));
    expect(p.next()).toBe(1);
    expect(argsOf(p)).toEqual(['PING']);
  });

  it('accepts INT_MAX as a count without allocating for it', () => {
    const p = newParser();
    p.feed(bytes('*2147483647\r\n$1\r\na\r\n'));
    expect(p.next()).toBe(0);
    expect(p.argOffset.length).toBeLessThan(1024);
  });

  it.each([
    ['*abc\r\n'],
    ['*\r\n'],
    ['*03\r\n'],
    ['*-0\r\n'],
    ['*+1\r\n'],
    ['*1 \r\n'],
    ['* 1\r\n'],
    ['*-\r\n'],
    ['*2147483648\r\n'],
    ['*9223372036854775807\r\n'],
    ['*9223372036854775808\r\n'],
    ['*12345678901234567890\r\n'],
    ['*-9223372036854775809\r\n'],
    ['*-12345678901234567890\r\n'],
  ])('rejects the count line %j', (input) => {
    expectError(input, E.mbulkLen);
  });

  it('reports a too big mbulk count string only beyond 64 KiB', () => {
    const p = newParser();
    p.feed(bytes('*' + '1'.repeat(65535)));
    expect(p.next()).toBe(0);
    p.feed(bytes('1'));
    expect(p.next()).toBe(-1);
    expect(p.error).toBe(E.mbulkCount);
    // A CR beyond 64 KiB still ends the line (then the number is invalid).
    expectError('*' + '1'.repeat(70000) + '\r\n', E.mbulkLen);
  });

  it('treats a NUL before the CR as no line end (strchr semantics)', () => {
    const p = newParser();
    p.feed(Buffer.from('*1\0\r\n$4\r\nPING\r\n', 'latin1'));
    expect(p.next()).toBe(0);
    p.feed(Buffer.alloc(65536, 0x31));
    expect(p.next()).toBe(-1);
    expect(p.error).toBe(E.mbulkCount);
    const q = newParser();
    q.feed(Buffer.from('*1\r\n$4\0\r\nPING\r\n', 'latin1'));
    expect(q.next()).toBe(0);
  });

  it.each([
    ['*1\r\nx\r\n', 'x'],
    ['*1\r\n:1\r\n', ':'],
    ['*1\r\n\r\r\n', ' '],
    ['*1\r\n\n\r\n', ' '],
    ['*1\r\n\xff\r\n', '\xff'],
    ['*2\r\n$1\r\na\r\n*1\r\n', '*'],
  ])('reports expected $ for %j', (input, got) => {
    expectError(input, E.expected(got));
  });

  it('waits for a CR before judging a bulk header', () => {
    expect(parse('*1\r\nxyz').status).toBe(0);
  });

  it('reports a too big bulk count string only beyond 64 KiB', () => {
    expect(parse('*1\r\n$' + '1'.repeat(65535)).status).toBe(0);
    expectError('*1\r\n$' + '1'.repeat(65536), E.bulkCount);
    expect(parse('*1\r\n' + 'x'.repeat(65536)).status).toBe(0);
    expectError('*1\r\n' + 'x'.repeat(65537), E.bulkCount);
  });

  it.each([
    ['$-1'],
    ['$-5'],
    ['$abc'],
    ['$'],
    ['$01'],
    ['$+1'],
    ['$ 1'],
    ['$1 '],
    ['$536870913'],
    ['$99999999999999999999'],
  ])('rejects the bulk header %j', (header) => {
    expectError(`*1\r\n${header}\r\n`, E.bulkLen);
  });

  it('honours protoMaxBulkLen exactly and reads limits live', () => {
    const p = newParser({ protoMaxBulkLen: 100 });
    const o = parse('*1\r\n$100\r\n' + 'a'.repeat(100) + '\r\n', p);
    expect(o.commands).toEqual([['a'.repeat(100)]]);
    expectError('*1\r\n$101\r\n', E.bulkLen, newParser({ protoMaxBulkLen: 100 }));
    const q = newParser({ protoMaxBulkLen: 100 });
    q.limits.protoMaxBulkLen = 200;
    expect(parse('*1\r\n$150\r\n' + 'b'.repeat(150) + '\r\n', q).commands).toHaveLength(1);
    q.limits = { protoMaxBulkLen: 10, queryBufferLimit: DEFAULT_LIMITS.queryBufferLimit };
    expectError('*1\r\n$11\r\n', E.bulkLen, q);
  });

  it('stays failed after an error', () => {
    const p = newParser();
    p.feed(bytes('*1\r\n$4\r\nPING\r\n*x\r\n*1\r\n$4\r\nPING\r\n'));
    expect(p.next()).toBe(1);
    expect(p.next()).toBe(-1);
    expect(p.error).toBe(E.mbulkLen);
    p.feed(bytes('*1\r\n$4\r\nPING\r\n'));
    expect(p.next()).toBe(-1);
    p.compact();
    expect(p.next()).toBe(-1);
  });
});

describe('RequestParser: unauthenticated limits', () => {
  function unauth(): RequestParser {
    const p = newParser();
    p.authenticated = false;
    return p;
  }

  it('allows up to 10 arguments and 16384-byte bulks', () => {
    const args = Array.from({ length: 10 }, () => Buffer.alloc(16384, 0x61));
    const o = parse(encodeMultibulk(args), unauth());
    expect(o.commands).toHaveLength(1);
    expect(o.status).toBe(0);
  });

  it('rejects more than 10 arguments', () => {
    expectError('*11\r\n', E.unauthMbulk, unauth());
  });

  it('rejects bulks over 16384 bytes', () => {
    expectError('*1\r\n$16385\r\n', E.unauthBulk, unauth());
  });

  it('checks invalid lengths before the unauthenticated limits', () => {
    expectError('*2147483648\r\n', E.mbulkLen, unauth());
    expectError('*1\r\n$536870913\r\n', E.bulkLen, unauth());
  });

  it('follows the authenticated flag as it changes', () => {
    const p = unauth();
    p.feed(bytes('*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n'));
    expect(p.next()).toBe(1);
    p.authenticated = true;
    p.feed(bytes('*12\r\n' + '$1\r\na\r\n'.repeat(12)));
    expect(p.next()).toBe(1);
    expect(p.argc).toBe(12);
  });

  it('does not limit inline requests beyond 64 KiB', () => {
    const o = parse('SET k ' + 'v'.repeat(20000) + ' a b c d e f g h i j k\r\n', unauth());
    expect(o.commands[0]).toHaveLength(14);
  });
});

describe('RequestParser: inline', () => {
  it.each<[string, string[][]]>([
    ['PING\r\n', [['PING']]],
    ['PING\n', [['PING']]],
    ['  SET\t k   v  \r\n', [['SET', 'k', 'v']]],
    ['ECHO a\x0bb\r\n', [['ECHO', 'a\x0bb']]],
    ['\x0bECHO\x0b "x"\x0b\r\n', [['ECHO\x0b', 'x']]],
    ['ECHO\r\r\n', [['ECHO']]],
    ['ECHO x\rPING\r\n', [['ECHO', 'x', 'PING']]],
    ['ECHO "a\\x4Fb\\x4g"\r\n', [['ECHO', 'aObx4g']]],
    ['ECHO "\\x00\\xfF\\xA0"\r\n', [['ECHO', '\x00\xff\xa0']]],
    ['ECHO "\\n\\r\\t\\b\\a\\q\\\\\\""\r\n', [['ECHO', '\n\r\t\b\x07q\\"']]],
    ['ECHO "a\\\\"\r\n', [['ECHO', 'a\\']]],
    ["ECHO 'a\\'b'\r\n", [['ECHO', "a'b"]]],
    ["ECHO 'a\\nb'\r\n", [['ECHO', 'a\\nb']]],
    ["ECHO 'a\"b'\r\n", [['ECHO', 'a"b']]],
    ['ECHO "a\'b"\r\n', [['ECHO', "a'b"]]],
    ['ECHO ""\r\n', [['ECHO', '']]],
    ["ECHO ''\r\n", [['ECHO', '']]],
    ['ECHO "a"\x0b\r\n', [['ECHO', 'a']]],
    ['ECHO x"a"\r\n', [['ECHO', 'xa']]],
    ['ECHO a"b c" d\r\n', [['ECHO', 'ab c', 'd']]],
    ["ECHO x'a b'\r\n", [['ECHO', 'xa b']]],
    ['ECHO "a b"\tc\r\n', [['ECHO', 'a b', 'c']]],
  ])('splits %j', (input, expected) => {
    const o = parse(input);
    expect(o.commands).toEqual(expected);
    expect(o.inline.every((x) => x)).toBe(true);
    expect(o.status).toBe(0);
  });

  it.each([
    ['"PING\r\n'],
    ['"PING"x\r\n'],
    ["'PING\r\n"],
    ["'a'b\r\n"],
    ['ECHO a"b c"d\r\n'],
    ['ECHO "a\\"\r\n'],
    ['ECHO "a\\\r\n'],
    ['ECHO "a""b"\r\n'],
    ["ECHO 'a\\'\r\n"],
  ])('rejects unbalanced quotes in %j', (input) => {
    expectError(input, E.quotes);
  });

  it('skips empty and blank lines', () => {
    const o = parse('\r\n\n   \r\n\t\n\x0b\r\nPING\n\n');
    expect(o.commands).toEqual([['PING']]);
    expect(o.status).toBe(0);
  });

  it('mixes inline and multibulk and reports isInline', () => {
    const o = parse('PING\r\n*1\r\n$4\r\nPING\r\n *1\r\n');
    expect(o.commands).toEqual([['PING'], ['PING'], ['*1']]);
    expect(o.inline).toEqual([true, false, true]);
  });

  it('reports a too big inline request only beyond 64 KiB', () => {
    const p = newParser();
    p.feed(Buffer.alloc(65536, 0x61));
    expect(p.next()).toBe(0);
    expect(p.pendingBytes()).toBe(65536);
    p.feed(bytes('a'));
    expect(p.next()).toBe(-1);
    expect(p.error).toBe(E.inline);
    // A complete line longer than 64 KiB that arrived at once is accepted.
    const o = parse('ECHO ' + 'x'.repeat(70000) + '\r\n');
    expect(o.commands[0][1]).toHaveLength(70000);
  });

  it('treats a NUL before the newline as no line end (strchr semantics)', () => {
    const p = newParser();
    p.feed(Buffer.from('PING\0\r\nPING\r\n', 'latin1'));
    expect(p.next()).toBe(0);
    p.feed(Buffer.alloc(65536, 0x61));
    expect(p.next()).toBe(-1);
    expect(p.error).toBe(E.inline);
  });

  it('rewrites escapes in place without disturbing following commands', () => {
    const o = parse('SET "k\\x41" "\\x42v"\r\n*2\r\n$3\r\nGET\r\n$2\r\nkA\r\nECHO done\n');
    expect(o.commands).toEqual([['SET', 'kA', 'Bv'], ['GET', 'kA'], ['ECHO', 'done']]);
  });
});

describe('RequestParser: buffers', () => {
  it('parses straight out of the fed chunk when nothing is pending', () => {
    const p = newParser();
    const chunk = bytes('*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n');
    p.feed(chunk);
    expect(p.next()).toBe(1);
    expect(p.buf).toBe(chunk);
    expect(p.next()).toBe(1);
    expect(p.buf).toBe(chunk);
    expect(p.next()).toBe(0);
  });

  it('reuses the argument arrays across commands', () => {
    const p = newParser();
    const offsets = p.argOffset;
    for (let i = 0; i < 100; i++) {
      p.feed(bytes('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n'));
      expect(p.next()).toBe(1);
      expect(p.next()).toBe(0);
      p.compact();
    }
    expect(p.argOffset).toBe(offsets);
  });

  it('grows the argument arrays for many arguments', () => {
    const args = Array.from({ length: 5000 }, (_, i) => bytes(String(i)));
    const o = parseChunks(splitAt(encodeMultibulk(args), [7, 100, 1000, 5000, 20000]));
    expect(o.commands).toHaveLength(1);
    expect(o.commands[0]).toEqual(args.map((a) => a.toString('latin1')));
  });

  it('holds no reference to a fed chunk after compact()', () => {
    const p = newParser();
    const whole = bytes('*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n');
    const first = Buffer.from(whole.subarray(0, 30));
    p.feed(first);
    expect(p.next()).toBe(1);
    expect(p.next()).toBe(0);
    p.compact();
    first.fill(0xee);
    p.feed(Buffer.from(whole.subarray(30)));
    expect(p.next()).toBe(1);
    expect(argsOf(p)).toEqual(['SET', 'key', 'value']);
  });

  it('reports pending bytes', () => {
    const p = newParser();
    expect(p.pendingBytes()).toBe(0);
    p.feed(bytes('*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$3\r\nk'));
    expect(p.next()).toBe(1);
    expect(p.pendingBytes()).toBe(18);
    expect(p.next()).toBe(0);
    // Parsed headers and arguments are no longer "pending" (like Redis's qbuf).
    expect(p.pendingBytes()).toBe(1);
    p.compact();
    expect(p.pendingBytes()).toBe(1);
    p.feed(bytes('ey\r\n'));
    expect(p.next()).toBe(1);
    expect(p.pendingBytes()).toBe(0);
  });

  it('reserves a big bulk once and fills it without re-copying', () => {
    const size = 5 * MB;
    const value = Buffer.alloc(size);
    for (let i = 0; i < size; i++) value[i] = (i * 31) & 0xff;
    const input = encodeMultibulk([bytes('SET'), bytes('key'), value, bytes('EX'), bytes('10')]);
    const p = newParser();
    let reserved: Buffer | null = null;
    let done = false;
    for (let off = 0; off < input.length; off += 65536) {
      p.feed(Buffer.from(input.subarray(off, off + 65536)));
      const r = p.next();
      if (reserved === null) {
        reserved = p.buf;
        expect(reserved.length).toBeGreaterThanOrEqual(size);
        expect(reserved.length).toBeLessThan(size + 65536);
      } else {
        expect(p.buf).toBe(reserved);
      }
      if (r === 1) {
        done = true;
        expect(p.argc).toBe(5);
        expect(p.argLength[2]).toBe(size);
        expect(p.buf.subarray(p.argOffset[2], p.argOffset[2] + size).equals(value)).toBe(true);
        expect(p.buf.toString('latin1', p.argOffset[4], p.argOffset[4] + 2)).toBe('10');
      } else {
        expect(r).toBe(0);
      }
      p.compact();
    }
    expect(done).toBe(true);
    // An idle parser does not keep the big buffer.
    expect(p.buf.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('handles a 100 MB bulk in linear time', () => {
    const size = 100 * MB;
    const header = bytes(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${size}\r\n`);
    const chunk = Buffer.alloc(65536, 0x78);
    const p = newParser();
    const t0 = performance.now();
    p.feed(Buffer.concat([header, chunk]));
    expect(p.next()).toBe(0);
    let sent = chunk.length;
    while (sent + chunk.length <= size) {
      p.feed(chunk);
      expect(p.next()).toBe(0);
      p.compact();
      sent += chunk.length;
    }
    p.feed(Buffer.concat([chunk.subarray(0, size - sent), bytes('\r\n')]));
    expect(p.next()).toBe(1);
    expect(p.argLength[2]).toBe(size);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('does not reserve space for a declared small bulk that has not arrived', () => {
    const p = newParser();
    p.feed(bytes('*1\r\n$32767\r\n'));
    expect(p.next()).toBe(0);
    p.compact();
    expect(p.buf.length).toBeLessThan(32767);
  });

  it('reassembles many big bulks in one command', () => {
    const args = [bytes('MSET')];
    for (let i = 0; i < 40; i++) {
      args.push(bytes(`k${i}`), Buffer.alloc(40000 + i, 97 + (i % 26)));
    }
    const input = encodeMultibulk(args);
    const cuts: number[] = [];
    for (let c = 1000; c < input.length; c += 7777) cuts.push(c);
    const o = parseChunks(splitAt(input, cuts));
    expect(o.commands).toEqual([args.map((a) => a.toString('latin1'))]);
  });

  it('closes silently when unparsed bytes exceed the query buffer limit', () => {
    const p = newParser({ queryBufferLimit: 1000 });
    p.feed(bytes('*1\r\n$2000\r\n' + 'x'.repeat(900)));
    expect(p.next()).toBe(0);
    p.feed(bytes('x'.repeat(200)));
    expect(p.next()).toBe(-1);
    expect(p.error).toBe('');
  });

  it('does not count completed commands against the query buffer limit', () => {
    const p = newParser({ queryBufferLimit: 1000 });
    const o = parse('*1\r\n$2000\r\n' + 'x'.repeat(2000) + '\r\n', p);
    expect(o.commands).toHaveLength(1);
    expect(o.status).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// Property tests

const argArb = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(...['\r\n', '*1\r\n', '$3\r\n', '"', '\0', ''].map((s) => bytes(s))) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 3000 }) },
);
const commandArb = fc.array(argArb, { minLength: 1, maxLength: 12 });
const cutsArb = fc.array(fc.nat(), { maxLength: 30 });

function toLatin1(args: Uint8Array[]): string[] {
  return args.map((a) => Buffer.from(a).toString('latin1'));
}

describe('RequestParser: properties', () => {
  it('multibulk commands round-trip through any chunking', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 8 }), cutsArb, (commands, cuts) => {
        const input = Buffer.concat(commands.map(encodeMultibulk));
        const o = parseChunks(splitAt(input, cuts));
        expect(o.status).toBe(0);
        expect(o.commands).toEqual(commands.map(toLatin1));
        expect(o.inline.every((x) => !x)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('malformed multibulk input gives the same commands and error whole as byte by byte', () => {
    // Whole, every line and payload is found in one go; byte by byte, each waits at every byte:
    // the checks, their order and the errors must agree between the two.
    const token = fc.oneof(
      { weight: 6, arbitrary: commandArb.map((args) => encodeMultibulk(args)) },
      { weight: 4, arbitrary: fc.constantFrom(...['*', '$', '-', '+', '0', '1', '3', '9', '01', '00', '\r', '\n', '\r\n', '\0',
        ' ', 'x', '*2\r\n', '*11\r\n', '*-1\r\n', '*0\r\n', '$0\r\n\r\n', '$-1\r\n', '$3\r\nabc', '$99999\r\n',
        '$16385\r\n', '*1\r\n$3\r\nGET\r\n'].map((x) => bytes(x))) },
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 10 }), fc.boolean(), fc.integer({ min: 1, max: 64 }),
        (tokens, authenticated, maxBulk) => {
          const input = Buffer.concat(tokens);
          const make = (): RequestParser => {
            const p = newParser({ protoMaxBulkLen: maxBulk });
            p.authenticated = authenticated;
            return p;
          };
          expect(parse(input, make())).toEqual(parseByteByByte(input, make()));
        }),
      { numRuns: 500 },
    );
  });

  it('a reused read buffer gives what fresh chunks give (stale bytes past each read, overwritten after it)', () => {
    // The server reads every socket into one buffer (server/socket-reads.ts): feed() gets that
    // buffer and a count, the bytes past the count are left from older reads, and the next read
    // overwrites everything once compact() has run. Nothing may be read past the count, and
    // nothing may be kept from the buffer after compact().
    const token = fc.oneof(
      { weight: 6, arbitrary: commandArb.map((args) => encodeMultibulk(args)) },
      { weight: 2, arbitrary: fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 })
        .map((words) => bytes(`${words.join(' ')}\r\n`)) },
      { weight: 2, arbitrary: fc.constantFrom(...['*', '$', '\r', '\n', '\r\n', '\0', '*2\r\n', '$3\r\nabc', '$99999\r\n',
        '*1\r\n$3\r\nGET\r\n', '"unterminated', 'x\r\n'].map((x) => bytes(x))) },
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 10 }), cutsArb, fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (tokens, cuts, stale) => {
          const chunks = splitAt(Buffer.concat(tokens), cuts);
          const size = Math.max(...chunks.map((c) => c.length)) + 64;
          const shared = Buffer.alloc(size);
          const fill = (): void => {
            for (let i = 0; i < size; i++) shared[i] = stale[i % stale.length];
          };
          const p = newParser();
          const got: Outcome = { commands: [], inline: [], status: 0, error: '' };
          for (const chunk of chunks) {
            fill();
            chunk.copy(shared, 0);
            p.feed(shared, chunk.length);
            let r: number;
            while ((r = p.next()) === 1) {
              got.commands.push(argsOf(p));
              got.inline.push(p.isInline);
            }
            got.status = r;
            if (r === -1) {
              got.error = p.error;
              break;
            }
            p.compact();
          }
          expect(got).toEqual(parseChunks(chunks));
        }),
      { numRuns: 400 },
    );
  });

  it('big bulks round-trip through any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 30000, max: 100000 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.boolean(),
        (sizes, cuts, withPrefix) => {
          const args = [bytes('MSET'), ...sizes.map((n, i) => Buffer.alloc(n, 65 + i))];
          const parts = [encodeMultibulk(args), encodeMultibulk([bytes('PING')])];
          if (withPrefix) parts.unshift(encodeMultibulk([bytes('ECHO'), bytes('x')]));
          const o = parseChunks(splitAt(Buffer.concat(parts), cuts));
          const expected = [toLatin1(args), ['PING']];
          if (withPrefix) expected.unshift(['ECHO', 'x']);
          expect(o.commands).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  // Inline encoding of an argument: plain when possible, else quoted.
  const SPACE_BYTES = new Set([9, 10, 11, 12, 13, 32]);
  function plainOk(a: Uint8Array, first: boolean): boolean {
    if (a.length === 0) return false;
    if (first && a[0] === 42) return false;
    for (const c of a) {
      if (c === 0 || SPACE_BYTES.has(c) || c === 34 || c === 39) return false;
    }
    return true;
  }
  function singleOk(a: Uint8Array): boolean {
    for (const c of a) if (c === 0 || c === 10 || c === 92 || c === 39) return false;
    return true;
  }
  function encodeInlineArg(a: Uint8Array, style: number, first: boolean): Buffer {
    if (style === 0 && plainOk(a, first)) return Buffer.from(a);
    if (style === 1 && singleOk(a)) return Buffer.concat([bytes("'"), Buffer.from(a), bytes("'")]);
    let s = '"';
    for (const c of a) {
      if (c >= 32 && c < 127 && c !== 34 && c !== 92) s += String.fromCharCode(c);
      else if (c === 34) s += '\\"';
      else if (c === 92) s += '\\\\';
      else if (c === 10 && style === 2) s += '\\n';
      else s += '\\x' + c.toString(16).padStart(2, '0');
    }
    return bytes(s + '"');
  }

  it('inline commands round-trip through any chunking', () => {
    const inlineCmd = fc.record({
      args: fc.array(fc.uint8Array({ maxLength: 30 }), { minLength: 1, maxLength: 8 }),
      styles: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
      seps: fc.array(fc.constantFrom(' ', '\t', '  ', ' \t\x0b'), { minLength: 9, maxLength: 9 }),
      eol: fc.constantFrom('\r\n', '\n'),
      lead: fc.constantFrom('', ' ', '\t'),
    });
    fc.assert(
      fc.property(fc.array(inlineCmd, { minLength: 1, maxLength: 6 }), cutsArb, (cmds, cuts) => {
        const lines = cmds.map((c) => {
          const parts: Buffer[] = [bytes(c.lead)];
          c.args.forEach((a, i) => {
            if (i > 0) parts.push(bytes(c.seps[i]));
            parts.push(encodeInlineArg(a, c.styles[i], i === 0 && c.lead === ''));
          });
          parts.push(bytes(c.eol));
          return Buffer.concat(parts);
        });
        const o = parseChunks(splitAt(Buffer.concat(lines), cuts));
        expect(o.status).toBe(0);
        expect(o.commands).toEqual(cmds.map((c) => toLatin1(c.args)));
        expect(o.inline.every((x) => x)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  const tokenArb = fc.constantFrom(
    '*', '$', '\r\n', '\r', '\n', '0', '1', '2', '3', '9', '-', ' ', '\t', '"', "'", '\\', 'x', 'a', 'F',
    '\0', '*1\r\n', '*2\r\n', '$1\r\n', '$0\r\n', '$4\r\nPING\r\n', 'PING', '\xff',
  );
  const garbageArb = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.array(tokenArb, { maxLength: 80 }).map((t) => bytes(t.join(''))),
  );

  it('never throws on garbage, and an error is final', () => {
    fc.assert(
      fc.property(garbageArb, cutsArb, fc.boolean(), (input, cuts, auth) => {
        const p = newParser({ protoMaxBulkLen: 50, queryBufferLimit: 200 });
        p.authenticated = auth;
        let failed = false;
        for (const chunk of splitAt(input, cuts)) {
          p.feed(chunk);
          for (;;) {
            const r = p.next();
            expect([1, 0, -1]).toContain(r);
            if (failed) expect(r).toBe(-1);
            if (r === 1) {
              expect(p.argc).toBeGreaterThan(0);
              for (let i = 0; i < p.argc; i++) {
                expect(p.argOffset[i]).toBeGreaterThanOrEqual(0);
                expect(p.argOffset[i] + p.argLength[i]).toBeLessThanOrEqual(p.buf.length);
              }
              continue;
            }
            if (r === -1) failed = true;
            break;
          }
          p.compact();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same outcome whatever the chunking (inputs below 64 KiB)', () => {
    fc.assert(
      fc.property(garbageArb, cutsArb, (input, cuts) => {
        const whole = parseChunks([Buffer.from(input)], newParser({ protoMaxBulkLen: 50 }));
        const split = parseChunks(splitAt(input, cuts), newParser({ protoMaxBulkLen: 50 }));
        expect(split).toEqual(whole);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------
// Error texts compared with a real redis-server

function hasRedisServer(): boolean {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Send bytes, collect everything until the server closes or `quietMs` of silence. */
async function exchange(port: number, payload: Buffer, quietMs = 300): Promise<{ data: Buffer; closed: boolean }> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(parts), closed });
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    };
    sock.on('data', (d: Buffer) => {
      parts.push(d);
      arm();
    });
    sock.on('close', () => finish(true));
    sock.on('error', (e) => {
      if (!finished) reject(e);
    });
    sock.on('connect', () => {
      sock.write(payload);
      arm();
    });
  });
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Fails under CI when redis-server is missing (redisForComparison), skips with a warning elsewhere.
const redisAvailable = redisForComparison('request-parser.test') && hasRedisServer();

describe.skipIf(!redisAvailable)('RequestParser: agrees with redis-server', () => {
  let server: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitForPort(port, Date.now() + 10_000);
  });

  afterAll(() => {
    server?.kill('SIGTERM');
  });

  const big = (n: number, c = 'a'): string => c.repeat(n);
  // Every case is preceded by "PING\r\n" so pipelining up to the error is covered too.
  const errorCases: Array<[string, string]> = [
    ['mbulk count not a number', '*abc\r\n'],
    ['empty mbulk count', '*\r\n'],
    ['mbulk count with leading zero', '*03\r\n'],
    ['mbulk count -0', '*-0\r\n'],
    ['mbulk count > INT_MAX', '*2147483648\r\n'],
    ['mbulk count overflow', '*99999999999999999999\r\n'],
    ['expected $ got x', '*1\r\nx\r\n'],
    ['expected $ got CR', '*1\r\n\r\r\n'],
    ['expected $ got LF', '*1\r\n\n\r\n'],
    ['expected $ got 0xff', '*1\r\n\xff\r\n'],
    ['expected $ got *', '*2\r\n$1\r\na\r\n*1\r\n'],
    ['bulk length -1', '*1\r\n$-1\r\n'],
    ['bulk length not a number', '*1\r\n$abc\r\n'],
    ['empty bulk length', '*1\r\n$\r\n'],
    ['bulk length above proto-max-bulk-len', '*1\r\n$536870913\r\n'],
    ['too big inline request', big(65537)],
    ['too big mbulk count string', '*' + big(65536, '1')],
    ['too big bulk count string', '*1\r\n$' + big(65536, '1')],
    ['too big bulk count string without $', '*1\r\n' + big(65537, 'x')],
    ['unbalanced double quote', '"PING\r\n'],
    ['closing quote followed by a letter', 'ECHO "a"x\r\n'],
    ['unbalanced single quote', "ECHO 'a\\'\r\n"],
    ['escaped closing quote', 'ECHO "a\\"\r\n'],
  ];

  it.each(errorCases)('%s', async (_name, input) => {
    const payload = bytes('PING\r\n' + input);
    const o = parse(payload);
    expect(o.commands).toEqual([['PING']]);
    expect(o.status).toBe(-1);
    const expected = Buffer.concat([bytes('+PONG\r\n-ERR '), Buffer.from(o.error, 'latin1'), bytes('\r\n')]);
    const real = await exchange(port, payload);
    expect(real.data.toString('latin1')).toBe(expected.toString('latin1'));
    expect(real.closed).toBe(true);
  });

  // Inline argument splitting: ECHO the parsed argument back.
  const echoCases = [
    'ECHO "a\\x4Fb\\x4g"\r\n',
    'ECHO "\\n\\r\\t\\b\\a\\q\\\\\\""\r\n',
    "ECHO 'a\\'b'\r\n",
    "ECHO 'a\\nb'\r\n",
    'ECHO a\x0bb\r\n',
    'ECHO x"a b"\r\n',
    'ECHO ""\r\n',
    '\r\n\n  \nECHO "\\x00\\xff"\n',
    '*1\r\n$4\r\nPINGxx*2\rx$4\rxECHOzz$2\r\nhi\r\n',
  ];

  it.each(echoCases)('splits echo case %# like Redis', async (input) => {
    const o = parse(input);
    expect(o.status).toBe(0);
    let expected = '';
    for (const cmd of o.commands) {
      if (cmd[0] === 'PING') expected += '+PONG\r\n';
      else expected += `$${cmd[1].length}\r\n${cmd[1]}\r\n`;
    }
    const real = await exchange(port, bytes(input));
    expect(real.data.toString('latin1')).toBe(expected);
    expect(real.closed).toBe(false);
  });

  it('waits like Redis when a NUL hides the line end', async () => {
    const input = 'PING\0\r\nPING\r\n';
    expect(parse(input).commands).toEqual([]);
    const real = await exchange(port, bytes(input));
    expect(real.data.length).toBe(0);
    expect(real.closed).toBe(false);
  });

  it('applies the unauthenticated limits like Redis', async () => {
    const admin = await exchange(port, bytes('CONFIG SET requirepass sabre-test\r\n'));
    expect(admin.data.toString()).toBe('+OK\r\n');
    try {
      for (const input of ['*11\r\n', '*1\r\n$16385\r\n', '*2147483648\r\n']) {
        const payload = bytes('PING\r\n' + input);
        const p = newParser();
        p.authenticated = false;
        const o = parse(payload, p);
        expect(o.status).toBe(-1);
        const real = await exchange(port, payload);
        expect(real.data.toString('latin1')).toBe(
          '-NOAUTH Authentication required.\r\n-ERR ' + o.error + '\r\n',
        );
      }
    } finally {
      await exchange(port, bytes('AUTH sabre-test\r\nCONFIG SET requirepass ""\r\n'));
    }
  });
});
