import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import { Client } from '../../src/server/client.ts';

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
});
