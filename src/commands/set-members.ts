import { SET_ENC_INTSET } from '../../native-layout/layout.ts';
import type { Keyspace } from '../store/keyspace.ts';

/**
 * Visits every member of a set (TYPE_SET value `h`) in SMEMBERS order, as
 * bytes that stay valid after the visit: SetStore.forEach formats an intset's
 * integers into one scratch buffer that the next member overwrites, so here
 * they are copied as decimal text into chunks owned by this call. Readers that
 * keep the ranges (SORT's vector, the sorted-set algebra's results) use this.
 */
export function forEachSetMember(ks: Keyspace, h: number,
  visit: (b: Uint8Array, off: number, len: number) => void): void {
  const sets = ks.sets;
  if (sets.encoding(h) !== SET_ENC_INTSET) {
    sets.forEach(h, visit);
    return;
  }
  // At most 20 digits and a sign per integer.
  let chunk = new Uint8Array(Math.min(65536, Math.max(64, sets.count(h) * 21)));
  let used = 0;
  sets.forEach(h, (b, off, len) => {
    if (used + len > chunk.length) {
      chunk = new Uint8Array(4096);
      used = 0;
    }
    for (let i = 0; i < len; i++) chunk[used + i] = b[off + i];
    visit(chunk, used, len);
    used += len;
  });
}
