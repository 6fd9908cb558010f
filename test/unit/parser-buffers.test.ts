import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestParser } from '../../src/protocol/request-parser.ts';

// The parser's buffers for big bulks: reserved at their exact size, given away
// whole (Argv.release) so a huge command crosses to its shard uncopied, and a
// reservation the machine cannot back closes the client instead of the server.

const MB = 1024 * 1024;

function parser(): RequestParser {
  return new RequestParser({ protoMaxBulkLen: 512 * MB, queryBufferLimit: 1024 * MB });
}

function arg(p: RequestParser, i: number): Buffer {
  return p.buf.subarray(p.argOffset[i], p.argOffset[i] + p.argLength[i]);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('big bulks in the parser', () => {
  it('reserves a big bulk at its size once, when its length is read', () => {
    const p = parser();
    p.feed(Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${4 * MB}\r\n`));
    expect(p.next()).toBe(0);
    const reserved = p.buf;
    expect(reserved.length).toBeGreaterThanOrEqual(4 * MB + 2);
    expect(reserved.length).toBeLessThan(4 * MB + 64 * 1024);
    const value = Buffer.alloc(4 * MB, 'z');
    for (let o = 0; o < value.length; o += 65_536) {
      p.feed(value.subarray(o, o + 65_536));
      expect(p.next()).toBe(0);
      expect(p.buf).toBe(reserved); // filled in place, never regrown
    }
    p.feed(Buffer.from('\r\n'));
    expect(p.next()).toBe(1);
    expect(arg(p, 2).equals(value)).toBe(true);
  });

  it('gives the command\'s buffer away whole and keeps parsing what came after it', () => {
    const p = parser();
    const value = Buffer.alloc(MB, 'v');
    p.feed(Buffer.from(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${MB}\r\n`));
    expect(p.next()).toBe(0);
    p.feed(Buffer.concat([value, Buffer.from('\r\n*2\r\n$3\r\nGET\r\n$3\r\nb')]));
    expect(p.next()).toBe(1);
    const whole = p.release();
    expect(whole).not.toBeNull();
    if (whole === null) return;
    // The arguments are where argOffset says, in the buffer given away.
    const at = (i: number): Buffer => Buffer.from(whole.buffer, whole.byteOffset + p.argOffset[i], p.argLength[i]);
    expect(at(0).toString()).toBe('SET');
    expect(at(1).toString()).toBe('big');
    expect(at(2).equals(value)).toBe(true);
    // It is a whole ArrayBuffer of its own, so it can be transferred.
    expect(whole.byteOffset).toBe(0);
    expect(whole.buffer.byteLength).toBe(whole.length);
    // The parser goes on in another buffer, with the partial GET it had.
    expect(p.buf.buffer).not.toBe(whole.buffer);
    expect(p.pendingBytes()).toBe('*2\r\n$3\r\nGET\r\n$3\r\nb'.length);
    p.feed(Buffer.from('ig\r\n'));
    expect(p.next()).toBe(1);
    expect([arg(p, 0).toString(), arg(p, 1).toString()]).toEqual(['GET', 'big']);
    // Giving it away does not disturb the bytes: the release was a move, not a copy.
    expect(at(2).equals(value)).toBe(true);
  });

  it('keeps a buffer it does not own: the caller then copies', () => {
    const p = parser();
    p.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'));
    expect(p.next()).toBe(1);
    expect(p.release()).toBeNull(); // the caller's chunk
    expect(p.next()).toBe(0);
  });

  it('closes the client, not the server, when a declared bulk cannot be allocated', () => {
    const p = parser();
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation(() => {
      throw new RangeError('Array buffer allocation failed');
    });
    p.feed(Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${500 * MB}\r\nabc`));
    expect(p.next()).toBe(-1);
    expect(p.error).toBe('');
    expect(p.outOfMemory).toBe(true);
  });
});
