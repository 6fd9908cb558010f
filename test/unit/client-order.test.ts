import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import { Client } from '../../src/server/client.ts';
import { ReplyBuffer } from '../../src/protocol/reply-buffer.ts';

/** A client whose socket only records what would be written. */
function recordingClient(): { client: Client; written: Buffer[] } {
  const socket = new net.Socket();
  const written: Buffer[] = [];
  socket.write = ((chunk: Uint8Array) => {
    written.push(Buffer.from(chunk));
    return true;
  }) as typeof socket.write;
  const client = new Client(1, socket, { protoMaxBulkLen: 512 << 20, queryBufferLimit: 1 << 30 }, true, () => {});
  return { client, written };
}

describe('Client reply ordering', () => {
  it('property: replies delivered in any order leave in request order, byte for byte', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 60, max: 70_000 })), { minLength: 1, maxLength: 300 }),
      fc.integer(),
      fc.integer({ min: 1, max: 50 }),
      (sizes, seed, flushEvery) => {
        const { client, written } = recordingClient();
        const replies = sizes.map((n, i) => Buffer.alloc(n, (i * 7 + 1) & 0xff));
        const seqs = replies.map(() => client.takeSeq());
        // Deterministic shuffle of the arrival order.
        const order = seqs.map((s) => s);
        let x = seed >>> 0;
        for (let i = order.length - 1; i > 0; i--) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          const j = x % (i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        order.forEach((seq, k) => {
          const r = replies[seq];
          client.deliver(seq, r, 0, r.length);
          if (k % flushEvery === 0) client.flush();
        });
        client.flush();
        expect(Buffer.concat(written).equals(Buffer.concat(replies))).toBe(true);
        expect(client.pendingReplies).toBe(0);
      },
    ), { numRuns: 200 });
  });

  it('drops the replies of CLIENT REPLY OFF commands but keeps the order of the rest', () => {
    const { client, written } = recordingClient();
    const a = client.takeSeq();
    client.replyMode = 1; // OFF
    const b = client.takeSeq();
    client.replyMode = 0;
    const c = client.takeSeq();
    client.deliver(c, Buffer.from('+C\r\n'), 0, 4);
    client.deliver(b, Buffer.from('+B\r\n'), 0, 4);
    client.deliver(a, Buffer.from('+A\r\n'), 0, 4);
    client.flush();
    expect(Buffer.concat(written).toString()).toBe('+A\r\n+C\r\n');
  });

  it('holds output while its pipeline waits for replies, for a few turns and up to 64 KiB', () => {
    const { client } = recordingClient();
    const a = client.takeSeq();
    const b = client.takeSeq();
    client.deliver(a, Buffer.from('+A\r\n'), 0, 4);
    // b is still in flight: wait for it, but not forever.
    const held: boolean[] = [];
    for (let turn = 0; turn < 6; turn++) held.push(client.holdOutput());
    expect(held).toEqual([true, true, true, true, false, true]);
    client.deliver(b, Buffer.from('+B\r\n'), 0, 4);
    // Nothing in flight: write now.
    expect(client.holdOutput()).toBe(false);

    const c = client.takeSeq();
    client.takeSeq();
    const big = Buffer.alloc(64 * 1024, 0x61);
    client.deliver(c, big, 0, big.length);
    // Enough bytes waiting: write them although a reply is still in flight.
    expect(client.holdOutput()).toBe(false);
  });

  it('property: replies written in place (a command run inline) and replies delivered leave in request order', () => {
    let inPlaceTotal = 0;
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 }), fc.boolean()), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 1, max: 30 }),
      (requests, flushEvery) => {
        const { client, written } = recordingClient();
        const shardReply = new ReplyBuffer(16);
        const replies: Buffer[] = [];
        // The reply of a "ring" request arrives later (with a later request, or at the end), so
        // that some in-place candidates find an earlier reply still missing and are delivered instead.
        let late: { seq: number; bytes: Buffer } | null = null;
        let inPlace = 0;
        for (const [i, [viaRing, size, lateArrives]] of requests.entries()) {
          const bytes = Buffer.alloc(size, (i * 13 + 5) & 0xff);
          replies.push(bytes);
          if (lateArrives && late !== null) {
            client.deliver(late.seq, late.bytes, 0, late.bytes.length);
            late = null;
          }
          const seq = client.takeSeq();
          if (viaRing) {
            if (late !== null) client.deliver(late.seq, late.bytes, 0, late.bytes.length);
            late = { seq, bytes };
          } else {
            const out = client.inPlaceOutput(seq);
            if (out === null) {
              expect(late).not.toBeNull();
              client.deliver(seq, bytes, 0, bytes.length);
            } else {
              expect(late).toBeNull();
              shardReply.borrow(out, client.outLen);
              shardReply.raw(bytes, 0, bytes.length);
              const end = shardReply.len;
              client.wroteInPlace(seq, shardReply.giveBack(), end);
              inPlace++;
            }
          }
          if (i % flushEvery === 0) client.flush();
        }
        if (late !== null) client.deliver(late.seq, late.bytes, 0, late.bytes.length);
        client.flush();
        expect(Buffer.concat(written).equals(Buffer.concat(replies))).toBe(true);
        expect(client.pendingReplies).toBe(0);
        inPlaceTotal += inPlace;
      },
    ), { numRuns: 300 });
    // The runs did write in place (a property that never took that path would prove nothing).
    expect(inPlaceTotal).toBeGreaterThan(100);
  });

  it('offers no output buffer to write into while replies are off, or once the client is closing', () => {
    const { client, written } = recordingClient();
    client.replyMode = 1; // OFF
    const a = client.takeSeq();
    expect(client.inPlaceOutput(a)).toBeNull();
    client.deliver(a, Buffer.from('+A\r\n'), 0, 4);
    client.replyMode = 0;
    const b = client.takeSeq();
    const out = client.inPlaceOutput(b);
    expect(out).not.toBeNull();
    out!.set(Buffer.from('+B\r\n'), client.outLen);
    client.wroteInPlace(b, out!, client.outLen + 4);
    client.closeAfterSeq = client.nextSeq;
    expect(client.inPlaceOutput(client.takeSeq())).toBeNull();
    client.flush();
    expect(Buffer.concat(written).toString()).toBe('+B\r\n');
  });
});
