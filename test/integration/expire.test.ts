import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useSabre } from '../helpers/suites.ts';

// Expiry: lazy (on access) and active (the shard's cron reclaims keys nobody
// reads). DBSIZE counts keys not reclaimed yet, as Redis's does, so DBSIZE
// falling without any read of the keys proves the active cycle works.

let r: Redis;
useSabre((_server, c) => { r = c; });

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function waitFor(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

describe('active expiry', () => {
  it('reclaims keys that nobody reads, on every shard', async () => {
    const p = r.pipeline();
    for (let i = 0; i < 5000; i++) p.set(`vol:${i}`, 'v', 'PX', 1500 + (i % 100));
    for (let i = 0; i < 100; i++) p.set(`keep:${i}`, 'v');
    await p.exec();
    expect(await r.dbsize()).toBe(5100);
    // Only DBSIZE from here: it never looks a key up, so only the active cycle can shrink it.
    const drained = await waitFor(async () => (await r.dbsize()) === 100, 10_000);
    expect(drained).toBe(true);
    const [, keys] = (await r.call('SCAN', '0', 'COUNT', '1000')) as [string, string[]];
    expect(keys.length).toBe(100);
    for (const k of keys) expect(k.startsWith('keep:')).toBe(true);
  });

  it('reclaims keys in other databases too, and keys whose TTL came with RENAME', async () => {
    await r.select(9);
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.set(`k${i}`, 'v', 'PX', 150);
    await p.exec();
    await r.set('a', 'v', 'PX', 300);
    await r.rename('a', 'b'); // shard 3 -> shard 0: the TTL must travel and be swept there
    expect(await r.dbsize()).toBe(501);
    expect(await waitFor(async () => (await r.dbsize()) === 0, 8000)).toBe(true);
    await r.select(0);
  });
});

describe('lazy expiry and TTL replies', () => {
  it('an expired key is gone for every command that looks it up', async () => {
    await r.set('a', 'v', 'PX', 60);
    await r.set('b', 'v', 'PX', 60);
    await r.set('c', 'v', 'PX', 60);
    await r.set('d', 'v', 'PX', 60);
    expect(await r.exists('a', 'b', 'c', 'd')).toBe(4);
    await sleep(120);
    expect(await r.get('a')).toBe(null);
    expect(await r.exists('b')).toBe(0);
    expect(await r.ttl('c')).toBe(-2);
    expect(await r.pttl('d')).toBe(-2);
    expect(await r.type('d')).toBe('none');
    expect(await r.call('OBJECT', 'ENCODING', 'd')).toBe(null);
    expect(await r.expire('d', 100)).toBe(0);
    expect(await r.persist('d')).toBe(0);
    await expect(r.rename('d', 'e')).rejects.toThrow('ERR no such key');
    expect(await r.copy('d', 'e')).toBe(0);
  });

  it('KEYS, SCAN and RANDOMKEY skip expired keys', async () => {
    await r.set('live', 'v');
    const p = r.pipeline();
    for (let i = 0; i < 50; i++) p.set(`gone:${i}`, 'v', 'PX', 40);
    await p.exec();
    await sleep(100);
    expect(await r.keys('*')).toEqual(['live']);
    const [, keys] = (await r.call('SCAN', '0', 'COUNT', '1000')) as [string, string[]];
    expect(keys).toEqual(['live']);
    for (let i = 0; i < 10; i++) expect(await r.randomkey()).toBe('live');
  });

  it('TTL rounds to the nearest second, PTTL counts down', async () => {
    await r.set('a', 'v');
    await r.pexpire('a', 1500);
    expect([1, 2]).toContain(await r.ttl('a'));
    const p1 = await r.pttl('a');
    expect(p1).toBeGreaterThan(1000);
    expect(p1).toBeLessThanOrEqual(1500);
    await sleep(200);
    expect(await r.pttl('a')).toBeLessThanOrEqual(p1 - 150);
    await r.expire('a', 10);
    expect(await r.ttl('a')).toBe(10);
    const at = Math.floor(Date.now() / 1000) + 1000;
    await r.expireat('a', at);
    expect(await r.call('EXPIRETIME', 'a')).toBe(at);
    expect(await r.call('PEXPIRETIME', 'a')).toBe(at * 1000);
    const ttl = await r.ttl('a');
    expect(ttl).toBeGreaterThanOrEqual(998);
    expect(ttl).toBeLessThanOrEqual(1000);
  });

  it('a time in the past deletes the key at once (and counts as success)', async () => {
    await r.set('a', 'v');
    expect(await r.expireat('a', Math.floor(Date.now() / 1000) - 10)).toBe(1);
    expect(await r.exists('a')).toBe(0);
    expect(await r.dbsize()).toBe(0);
    await r.set('b', 'v');
    expect(await r.pexpire('b', -1)).toBe(1);
    expect(await r.dbsize()).toBe(0);
  });

  it('GT and LT compare with the current expiry; a persistent key counts as infinite', async () => {
    await r.set('a', 'v');
    expect(await r.call('EXPIRE', 'a', '100', 'GT')).toBe(0);
    expect(await r.ttl('a')).toBe(-1);
    expect(await r.call('EXPIRE', 'a', '100', 'LT')).toBe(1);
    expect(await r.call('EXPIRE', 'a', '200', 'LT')).toBe(0);
    expect(await r.call('EXPIRE', 'a', '50', 'LT')).toBe(1);
    expect(await r.ttl('a')).toBe(50);
    expect(await r.call('PEXPIRE', 'a', '60000', 'GT')).toBe(1);
    expect(await r.ttl('a')).toBe(60);
    expect(await r.call('EXPIRE', 'a', '60', 'NX')).toBe(0);
    expect(await r.call('EXPIRE', 'a', '70', 'XX')).toBe(1);
    expect(await r.persist('a')).toBe(1);
    expect(await r.call('EXPIRE', 'a', '70', 'XX')).toBe(0);
    expect(await r.call('EXPIRE', 'a', '70', 'NX')).toBe(1);
    expect(await r.ttl('a')).toBe(70);
  });

  it('overwriting with SET drops the TTL; the key then survives the old expiry', async () => {
    await r.set('a', 'v', 'PX', 100);
    await r.set('a', 'w');
    await sleep(200);
    expect(await r.get('a')).toBe('w');
  });

  it('MOVE and COPY carry the expiry, which then fires in the destination', async () => {
    await r.set('a', 'v', 'PX', 150);
    await r.copy('a', 'b'); // shard 3 -> shard 0
    await r.move('a', 2);
    await r.select(2);
    expect(await r.pttl('a')).toBeGreaterThan(0);
    await r.select(0);
    expect(await r.pttl('b')).toBeGreaterThan(0);
    await sleep(250);
    expect(await r.exists('b')).toBe(0);
    await r.select(2);
    expect(await r.exists('a')).toBe(0);
    await r.select(0);
  });
});
