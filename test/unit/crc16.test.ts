import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { CLUSTER_SLOTS, crc16, keyHashSlot } from '../../src/util/crc16.ts';
import { redisForComparison, useRedis } from '../helpers/suites.ts';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** Bit-at-a-time CRC16/XMODEM, straight from the definition. */
function refCrc16(b: Uint8Array): number {
  let crc = 0;
  for (const byte of b) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function slot(s: string): number {
  const b = enc(s);
  return keyHashSlot(b, 0, b.length);
}

describe('crc16', () => {
  it('check value', () => {
    expect(crc16(enc('123456789'), 0, 9)).toBe(0x31c3);
    expect(crc16(enc(''), 0, 0)).toBe(0);
  });

  it('matches the bitwise definition for any bytes and offsets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), fc.nat(8), (body, pre, post) => {
        const buf = new Uint8Array(pre + body.length + post).fill(0xa5);
        buf.set(body, pre);
        expect(crc16(buf, pre, body.length)).toBe(refCrc16(body));
      }),
    );
  });
});

describe('keyHashSlot', () => {
  it('known slots (from Redis Cluster)', () => {
    expect(slot('foo')).toBe(12182);
    expect(slot('bar')).toBe(5061);
    expect(slot('123456789')).toBe(0x31c3 & 0x3fff);
    expect(slot('{user1000}.following')).toBe(3443);
    expect(slot('{user1000}.followers')).toBe(3443);
    expect(slot('foo{}{bar}')).toBe(8363); // empty first tag: whole key
    expect(slot('foo{{bar}}zap')).toBe(4015); // tag is "{bar"
    expect(slot('foo{bar}{zap}')).toBe(5061); // tag is "bar"
    expect(slot('{}')).toBe(15257);
    expect(slot('a{b')).toBe(13340); // unterminated: whole key
  });

  it('hash tag rules', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 }), (pre, tag, post) => {
        fc.pre(!pre.includes('{') && !tag.includes('}') && !tag.includes('{'));
        expect(slot(pre + '{' + tag + '}' + post)).toBe(slot(tag));
      }),
    );
  });

  it('is always in range and offset-independent', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(5), (key, pre) => {
        const buf = new Uint8Array(pre + key.length + 3).fill(0x7b); // '{' around the slice
        buf.set(key, pre);
        const s = keyHashSlot(buf, pre, key.length);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(CLUSTER_SLOTS);
        expect(s).toBe(keyHashSlot(key, 0, key.length));
      }),
    );
  });
});

const haveRedis = redisForComparison('crc16.test');

describe.skipIf(!haveRedis)('keyHashSlot vs redis-server CLUSTER KEYSLOT', () => {
  let client: Redis;
  useRedis((_server, c) => { client = c; }, { args: ['--cluster-enabled', 'yes'] });

  it('agrees on random binary keys with braces', async () => {
    const keyArb = fc.array(fc.oneof(fc.constantFrom(0x7b, 0x7d), fc.integer({ min: 0, max: 255 })), { maxLength: 24 });
    const keys = fc.sample(keyArb, { numRuns: 2000, seed: 1 }).map((a) => Buffer.from(a));
    keys.push(Buffer.from(''), Buffer.from('{'), Buffer.from('}{'), Buffer.from('{a}'), Buffer.from('x{}y{z}'));
    const p = client.pipeline();
    for (const k of keys) p.call('CLUSTER', 'KEYSLOT', k);
    const res = await p.exec();
    if (res === null) throw new Error('pipeline failed');
    keys.forEach((k, i) => {
      const [err, got] = res[i];
      expect(err).toBeNull();
      expect({ k: k.toString('hex'), slot: keyHashSlot(k, 0, k.length) }).toEqual({ k: k.toString('hex'), slot: got });
    });
  });
});
