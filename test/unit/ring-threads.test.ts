import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { createRingBuffer, RingReader } from '../../src/mailbox/ring.ts';
import { recordLength, type RingThreadJob, type RingThreadResult } from './ring-thread-worker.ts';

// The ring's park and notify across real threads: a producer in a worker
// thread, a consumer in another worker (Atomics.wait) or on this thread
// (Atomics.waitAsync, as the front thread parks). A 4 KiB ring with records
// up to a quarter of it wraps around thousands of times, and the producer
// keeps finding it full. Every wait has a long timeout: one that runs into it
// is a lost wake-up.

const WORKER = new URL('./ring-thread-worker.ts', import.meta.url);
const TIMEOUT_MS = 4000;

function runWorker(job: RingThreadJob): Promise<RingThreadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: job });
    w.once('message', (m: RingThreadResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`ring worker exited with ${code}`)); });
  });
}

describe('SPSC ring across threads', () => {
  it('worker to worker: every record arrives whole and in order, no wake-up is lost, the producer waits for room', async () => {
    const sab = createRingBuffer(4096);
    const count = 60_000;
    const base = { sab, count, seed: 12345, maxLen: 1024, timeoutMs: TIMEOUT_MS };
    const [producer, consumer] = await Promise.all([
      runWorker({ ...base, role: 'producer' }),
      runWorker({ ...base, role: 'consumer' }),
    ]);
    expect(consumer.errors).toEqual([]);
    expect(consumer.records).toBe(count);
    expect(producer.records).toBe(count);
    // Both sides really waited (the ring was full, then empty, many times) ...
    expect(producer.waits).toBeGreaterThan(100);
    expect(consumer.waits).toBeGreaterThan(0);
    // ... and the ring wrapped around many times.
    expect(consumer.wraps).toBeGreaterThan(1000);
    // No wait ended by its timeout: every publish and release woke its waiter.
    expect(producer.timedOut).toBe(0);
    expect(consumer.timedOut).toBe(0);
  });

  it('worker to this thread with Atomics.waitAsync (the front thread\'s park): nothing lost, nothing stuck', async () => {
    const sab = createRingBuffer(4096);
    const count = 30_000;
    const seed = 777;
    const maxLen = 1024;
    const r = new RingReader(sab);
    let received = 0;
    let parks = 0;
    let slowParks = 0;
    const errors: string[] = [];
    const consumed = new Promise<void>((resolve) => {
      const loop = (): void => {
        for (;;) {
          const seen = r.signal();
          while (r.refresh()) {
            for (let idx = r.next(); idx >= 0; idx = r.next()) {
              const len = r.readU32(idx);
              if (len !== recordLength(seed, received, maxLen) || r.readU32(idx + 4) !== received) {
                errors.push(`record ${received}: length ${len}, number ${r.readU32(idx + 4)}`);
              }
              r.consume(idx);
              received++;
            }
            r.release();
          }
          if (received >= count || errors.length > 0) {
            r.unpark();
            resolve();
            return;
          }
          const p = r.parkAsync(seen);
          if (p !== null) {
            parks++;
            const t0 = performance.now();
            // The producer never stops for long: a park this long lost its notify.
            const timer = setTimeout(() => { slowParks++; }, TIMEOUT_MS * 0.8);
            void p.then(() => {
              clearTimeout(timer);
              if (performance.now() - t0 >= TIMEOUT_MS * 0.8) slowParks++;
              loop();
            });
            return;
          }
        }
      };
      loop();
    });
    const producer = await runWorker({ role: 'producer', sab, count, seed, maxLen, timeoutMs: TIMEOUT_MS });
    await consumed;
    expect(errors).toEqual([]);
    expect(received).toBe(count);
    expect(producer.records).toBe(count);
    expect(producer.waits).toBeGreaterThan(10);
    expect(producer.timedOut).toBe(0);
    expect(parks).toBeGreaterThan(0);
    expect(slowParks).toBe(0);
  });
});
