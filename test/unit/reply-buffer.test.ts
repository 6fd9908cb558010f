import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReplyBuffer } from '../../src/protocol/reply-buffer.ts';

function text(r: ReplyBuffer): string {
  return Buffer.from(r.buf.subarray(0, r.len)).toString('latin1');
}

describe('ReplyBuffer', () => {
  it('property: integers and lengths are written in decimal as Redis writes them (whole safe range)', () => {
    const r = new ReplyBuffer(16);
    fc.assert(fc.property(
      fc.oneof(
        fc.integer({ min: -2000, max: 2000 }),
        fc.integer(),
        fc.integer({ min: 2 ** 31 - 3, max: 2 ** 31 + 3 }),
        fc.maxSafeInteger(),
        fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0, 9, 10, 99, 100, -1, -10),
      ),
      fc.nat({ max: 2 ** 31 + 10 }),
      (n, count) => {
        r.reset(false);
        r.int(n).array(count);
        expect(text(r)).toBe(`:${n}\r\n*${count}\r\n`);
      },
    ), { numRuns: 2000 });
  });

  it('property: a bulk reply is its length header and its bytes, across buffer growth', () => {
    const r = new ReplyBuffer(8);
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (values) => {
      r.reset(false);
      for (const v of values) r.bulk(v, 0, v.length);
      const want = Buffer.concat(values.map((v) => Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')])));
      expect(Buffer.from(r.buf.subarray(0, r.len)).equals(want)).toBe(true);
    }));
  });

  it('property: OK and nil replies, in either protocol, written after anything and across growth', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('ok', 'nil', 'bulk'), fc.uint8Array({ maxLength: 20 })), { maxLength: 40 }),
      fc.boolean(), (parts, resp3) => {
        const r = new ReplyBuffer(4);
        r.reset(resp3);
        let want = '';
        for (const [kind, bytes] of parts) {
          if (kind === 'ok') {
            r.ok();
            want += '+OK\r\n';
          } else if (kind === 'nil') {
            r.nil();
            want += resp3 ? '_\r\n' : '$-1\r\n';
          } else {
            r.bulk(bytes, 0, bytes.length);
            want += `$${bytes.length}\r\n${Buffer.from(bytes).toString('latin1')}\r\n`;
          }
        }
        expect(text(r)).toBe(want);
      }), { numRuns: 500 });
  });

  it('nil and maps follow the protocol the client chose', () => {
    const r = new ReplyBuffer();
    r.reset(false);
    r.nil().nilArray().map(2);
    expect(text(r)).toBe('$-1\r\n*-1\r\n*4\r\n');
    r.reset(true);
    r.nil().nilArray().map(2);
    expect(text(r)).toBe('_\r\n_\r\n%2\r\n');
  });

  it('property: a reply written into a borrowed buffer follows its bytes, as in its own buffer, across growth and reset', () => {
    fc.assert(fc.property(
      fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 64 }), fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 12 }),
      fc.boolean(), fc.boolean(),
      (before, room, values, resp3, resetHalfway) => {
        const own = new ReplyBuffer(8);
        own.reset(resp3);
        own.ok();
        const lent = new Uint8Array(before.length + room);
        lent.set(before);
        own.borrow(lent, before.length);
        own.reset(resp3);
        expect(own.borrowed).toBe(true);
        values.forEach((v, i) => {
          if (resetHalfway && i === values.length >> 1) own.reset(resp3);
          own.bulk(v, 0, v.length).nil();
        });
        const kept = resetHalfway ? values.slice(values.length >> 1) : values;
        const nil = resp3 ? '_\r\n' : '$-1\r\n';
        const reply = kept.map((v) => `$${v.length}\r\n${Buffer.from(v).toString('latin1')}\r\n${nil}`).join('');
        expect(own.size).toBe(Buffer.byteLength(reply, 'latin1'));
        const end = own.len;
        const out = own.giveBack();
        // The borrowed bytes come first, untouched, then the reply.
        expect(Buffer.from(out.subarray(0, end)).toString('latin1')).toBe(Buffer.from(before).toString('latin1') + reply);
        if (out !== lent) expect(out.length).toBeGreaterThan(lent.length);
        // The buffer's own bytes are back, and writing goes on there from the start.
        expect(own.borrowed).toBe(false);
        expect(own.len).toBe(0);
        own.ok();
        expect(text(own)).toBe('+OK\r\n');
      }), { numRuns: 500 });
  });

  it('take() copies a reply out of a borrowed buffer and leaves the buffer as it was lent', () => {
    const r = new ReplyBuffer(8);
    const lent = Uint8Array.from(Buffer.from('abc'));
    const room = new Uint8Array(64);
    room.set(lent);
    r.borrow(room, 3);
    r.bulk(Buffer.from('value'), 0, 5);
    const taken = r.take();
    expect(Buffer.from(taken).toString()).toBe('$5\r\nvalue\r\n');
    expect(taken.buffer).not.toBe(room.buffer);
    expect(r.size).toBe(0);
    expect(Buffer.from(r.giveBack().subarray(0, 3)).toString()).toBe('abc');
  });
});
