// One end of a ring, run in a worker thread by ring-threads.test.ts: the
// producer writes numbered records of pseudo-random sizes and waits for room
// when the ring is full; the consumer reads, checks and releases them, and
// parks when the ring is empty. Both time every wait: a wait that lasts until
// its timeout means a notify was lost.

import { parentPort, workerData } from 'node:worker_threads';
import { RingReader, RingWriter } from '../../src/mailbox/ring.ts';

export interface RingThreadJob {
  role: 'producer' | 'consumer';
  sab: SharedArrayBuffer;
  count: number;
  seed: number;
  maxLen: number;
  timeoutMs: number;
}

export interface RingThreadResult {
  role: 'producer' | 'consumer';
  records: number;
  /** Waits (for room, or for records) that were entered. */
  waits: number;
  /** Waits that ran into their timeout: lost wake-ups. */
  timedOut: number;
  /** Ring positions at which a record started at offset 0 after the end (wrap-arounds seen). */
  wraps: number;
  errors: string[];
}

/** The length (header included) of record i: the same sequence on both sides. */
export function recordLength(seed: number, i: number, maxLen: number): number {
  let x = (Math.imul(seed ^ i, 0x9e3779b1) ^ (i * 0x85ebca6b)) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  x ^= x >>> 12;
  return 8 + ((x >>> 0) % (maxLen - 7));
}

/** Byte k of record i's payload after its number. */
function fillByte(i: number, k: number): number {
  return (i * 31 + k * 7) & 0xff;
}

function produce(job: RingThreadJob): RingThreadResult {
  const w = new RingWriter(job.sab);
  const res: RingThreadResult = { role: 'producer', records: 0, waits: 0, timedOut: 0, wraps: 0, errors: [] };
  let lastAt = -1;
  for (let i = 0; i < job.count; i++) {
    const len = recordLength(job.seed, i, job.maxLen);
    let at = w.reserve(len);
    while (at < 0) {
      // Show the consumer what is there, then sleep until it frees room.
      w.publish();
      const t0 = performance.now();
      res.waits++;
      w.waitForSpace(2 * ((len + 7) & ~7) + 8, job.timeoutMs);
      if (performance.now() - t0 >= job.timeoutMs * 0.8) res.timedOut++;
      at = w.reserve(len);
    }
    if (at < lastAt) res.wraps++;
    lastAt = at;
    w.writeU32(at + 4, i);
    for (let k = 8; k < len; k++) w.u8[at + k] = fillByte(i, k);
    w.commit(len);
    // Publish in batches of varying size, as the front does once per turn.
    if ((i * 7 + job.seed) % 5 === 0) w.publish();
    res.records++;
  }
  w.publish();
  return res;
}

function consume(job: RingThreadJob): RingThreadResult {
  const r = new RingReader(job.sab);
  const res: RingThreadResult = { role: 'consumer', records: 0, waits: 0, timedOut: 0, wraps: 0, errors: [] };
  let lastIdx = -1;
  while (res.records < job.count) {
    const seen = r.signal();
    while (r.refresh()) {
      for (let idx = r.next(); idx >= 0; idx = r.next()) {
        const i = res.records;
        const len = r.readU32(idx);
        const want = recordLength(job.seed, i, job.maxLen);
        if (len !== want) res.errors.push(`record ${i}: length ${len}, expected ${want}`);
        else if (r.readU32(idx + 4) !== i) res.errors.push(`record ${i}: numbered ${r.readU32(idx + 4)}`);
        else {
          for (let k = 8; k < len; k++) {
            if (r.u8[idx + k] !== fillByte(i, k)) {
              res.errors.push(`record ${i}: byte ${k} torn`);
              break;
            }
          }
        }
        if (res.errors.length > 10) return res;
        if (idx < lastIdx) res.wraps++;
        lastIdx = idx;
        r.consume(idx);
        res.records++;
        // Give room back in batches, as the shard does.
        if ((res.records & 3) === 0) r.release();
      }
      r.release();
    }
    if (res.records >= job.count) break;
    const t0 = performance.now();
    res.waits++;
    r.park(seen, job.timeoutMs);
    if (performance.now() - t0 >= job.timeoutMs * 0.8) res.timedOut++;
  }
  return res;
}

// Runs only as the worker (the test imports recordLength from this file too).
const job = workerData as RingThreadJob | null;
if (parentPort !== null && job !== null && typeof job === 'object' && job.sab instanceof SharedArrayBuffer) {
  parentPort.postMessage(job.role === 'producer' ? produce(job) : consume(job));
}
