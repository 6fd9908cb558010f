/**
 * CRC16-CCITT (XMODEM variant: poly 0x1021, init 0, no reflection, no final
 * xor), the checksum Redis Cluster uses for key hash slots.
 * Check value: crc16("123456789") === 0x31c3.
 */

const TABLE: Uint16Array = buildTable();

function buildTable(): Uint16Array {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    t[i] = crc;
  }
  return t;
}

/** CRC16/XMODEM of `b[off .. off+len)`. */
export function crc16(b: Uint8Array, off: number, len: number): number {
  let crc = 0;
  const end = off + len;
  for (let i = off; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ b[i]) & 0xff];
  }
  return crc;
}

export const CLUSTER_SLOTS = 16384;

/**
 * Redis Cluster hash slot of a key (0..16383).  If the key contains a `{`
 * followed later by a `}` with at least one byte between them, only the bytes
 * between the first `{` and the first `}` after it are hashed; otherwise
 * (no `{`, no closing `}`, or an empty tag `{}`) the whole key is hashed.
 */
export function keyHashSlot(key: Uint8Array, off: number, len: number): number {
  const end = off + len;
  let s = off;
  while (s < end && key[s] !== 0x7b) s++; // '{'
  if (s === end) return crc16(key, off, len) & 0x3fff;
  let e = s + 1;
  while (e < end && key[e] !== 0x7d) e++; // '}'
  if (e === end || e === s + 1) return crc16(key, off, len) & 0x3fff;
  return crc16(key, s + 1, e - s - 1) & 0x3fff;
}
