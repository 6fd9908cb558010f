import type { ReplyBuffer } from '../protocol/reply-buffer.ts';

// Helpers of the string family that do not depend on a command context:
// C-string option matching and the LCS computation (Redis's lcsCommand).

/**
 * Case-insensitive match of argument bytes against a lower-case ASCII
 * keyword with C-string semantics, like Redis's strcasecmp() and its
 * `opt[2] == '\0'` checks: the argument ends at its first NUL byte, so
 * "nx\0junk" matches "nx".
 */
export function optionIs(u8: Uint8Array, off: number, len: number, lower: string): boolean {
  const n = lower.length;
  if (len < n) return false;
  for (let k = 0; k < n; k++) {
    let c = u8[off + k];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return len === n || u8[off + n] === 0;
}

export const ERR_LCS_TOO_LONG = 'ERR String too long for LCS';
export const ERR_LCS_MEMORY = 'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len';

export interface LcsOptions {
  getLen: boolean;
  getIdx: boolean;
  withMatchLen: boolean;
  /** Ranges shorter than this are not reported by IDX (0: report all). */
  minMatchLen: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Computes the longest common subsequence of a[ao..ao+alen) and
 * b[bo..bo+blen) and writes the reply LCS gives for `opts`: the string, its
 * length (LEN), or the matching ranges (IDX, a map in RESP3). Replicates
 * Redis's table walk so ties and ranges come out identical. The caller has
 * already validated the options. `maxTransient` is proto-max-bulk-len.
 */
export function lcsReply(r: ReplyBuffer, maxTransient: number,
  a: Uint8Array, ao: number, alen: number, b: Uint8Array, bo: number, blen: number, opts: LcsOptions): void {
  if (alen >= 0xfffffffe || blen >= 0xfffffffe) {
    r.error(ERR_LCS_TOO_LONG);
    return;
  }
  if ((alen + 1) * (blen + 1) * 4 > maxTransient) {
    r.error(ERR_LCS_MEMORY);
    return;
  }
  if (opts.getLen && !opts.getIdx) {
    r.int(lcsLength(a, ao, alen, b, bo, blen));
    return;
  }
  const w = blen + 1;
  const t = new Uint32Array((alen + 1) * w);
  for (let i = 1; i <= alen; i++) {
    const ai = a[ao + i - 1];
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= blen; j++) {
      if (ai === b[bo + j - 1]) {
        t[row + j] = t[prev + j - 1] + 1;
      } else {
        const l1 = t[prev + j];
        const l2 = t[row + j - 1];
        t[row + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  const total = t[alen * w + blen];
  let idx = total;
  const result = opts.getIdx ? EMPTY : new Uint8Array(total);
  // Ranges found, 5 numbers each: aStart, aEnd, bStart, bEnd, length.
  const ranges: number[] = [];
  let aStart = alen; // alen: no range open
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[ao + i - 1] === b[bo + j - 1]) {
      if (!opts.getIdx) result[idx - 1] = a[ao + i - 1];
      if (aStart === alen) {
        aStart = i - 1;
        aEnd = i - 1;
        bStart = j - 1;
        bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const l1 = t[(i - 1) * w + j];
      const l2 = t[i * w + j - 1];
      if (l1 > l2) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (opts.getIdx && (opts.minMatchLen === 0 || matchLen >= opts.minMatchLen)) {
        ranges.push(aStart, aEnd, bStart, bEnd, matchLen);
      }
      aStart = alen;
    }
  }
  if (!opts.getIdx) {
    r.bulk(result, 0, result.length);
    return;
  }
  r.map(2);
  r.bulkString('matches');
  const n = ranges.length / 5;
  r.array(n);
  for (let k = 0; k < ranges.length; k += 5) {
    r.array(opts.withMatchLen ? 3 : 2);
    r.array(2);
    r.int(ranges[k]);
    r.int(ranges[k + 1]);
    r.array(2);
    r.int(ranges[k + 2]);
    r.int(ranges[k + 3]);
    if (opts.withMatchLen) r.int(ranges[k + 4]);
  }
  r.bulkString('len');
  r.int(total);
}

/** LCS length only, with two rows instead of the whole table. */
function lcsLength(a: Uint8Array, ao: number, alen: number, b: Uint8Array, bo: number, blen: number): number {
  let prev = new Uint32Array(blen + 1);
  let cur = new Uint32Array(blen + 1);
  for (let i = 1; i <= alen; i++) {
    const ai = a[ao + i - 1];
    for (let j = 1; j <= blen; j++) {
      if (ai === b[bo + j - 1]) {
        cur[j] = prev[j - 1] + 1;
      } else {
        const l1 = prev[j];
        const l2 = cur[j - 1];
        cur[j] = l1 > l2 ? l1 : l2;
      }
    }
    const tmp = prev;
    prev = cur;
    cur = tmp;
  }
  return prev[blen];
}
