import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';

// The LFU access counter (OBJECT FREQ) at the keyspace level. Until eviction
// is implemented, CONFIG SET refuses the LFU policies, so clients cannot turn
// LFU mode on; these tests keep the counter itself covered (they replace the
// integration tests that switched the policy to allkeys-lfu).

function lfuKeyspace(): Keyspace {
  const ks = new Keyspace(new Arena(new SharedArrayBuffer(16 << 20)), 1, new Float64Array(256), 7);
  ks.lfuMode = true;
  ks.tick(Date.now());
  return ks;
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function set(ks: Keyspace, key: string, value: string): number {
  const k = b(key);
  const v = b(value);
  // The lookup itself may raise the counter (as Redis's lookupKeyWrite does,
  // with a probability): keep it out, so only the overwrite is observed.
  ks.noTouch = true;
  ks.lookupWrite(0, k, 0, k.length);
  ks.noTouch = false;
  return ks.putString(0, k, 0, k.length, v, 0, v.length, Keyspace.stringEncoding(v, 0, v.length), -1);
}

function freq(ks: Keyspace, key: string): number {
  const k = b(key);
  return ks.lfuDecayed(ks.peek(0, k, 0, k.length));
}

describe('LFU counter', () => {
  it('a new key starts at 5, reads raise it, an overwrite keeps it', () => {
    const ks = lfuKeyspace();
    set(ks, 'a', 'v');
    expect(freq(ks, 'a')).toBe(5);
    const k = b('a');
    for (let i = 0; i < 300; i++) ks.lookupRead(0, k, 0, k.length);
    const raised = freq(ks, 'a');
    expect(raised).toBeGreaterThan(5);
    set(ks, 'a', 'a much longer value that needs a new record');
    expect(freq(ks, 'a')).toBe(raised);
  });

  it('the counter travels in a dumped entry when the clock is kept (RENAME), not otherwise (COPY)', () => {
    const ks = lfuKeyspace();
    const ref = set(ks, 'src', 'v');
    const k = b('src');
    for (let i = 0; i < 300; i++) ks.lookupRead(0, k, 0, k.length);
    const before = freq(ks, 'src');
    const payload = ks.dumpEntry(ref);
    for (const [dst, keep, want] of [['moved', true, before], ['copied', false, 5]] as const) {
      const d = b(dst);
      ks.lookupWrite(0, d, 0, d.length);
      ks.restoreEntry(0, d, 0, d.length, payload, 0, payload.length, false, keep);
      expect(freq(ks, dst)).toBe(want);
    }
  });
});
