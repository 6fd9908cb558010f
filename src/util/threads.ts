import type { Worker } from 'node:worker_threads';

/**
 * Calls `onDeath` once, with why, when the thread ends: an uncaught error or
 * an exit. Sabre's threads (shards, front threads) never end on their own
 * while the server runs, so either means the server lost part of itself.
 */
export function onThreadDeath(worker: Worker, onDeath: (why: string) => void): void {
  let dead = false;
  worker.on('error', (err) => {
    if (dead) return;
    dead = true;
    onDeath(`uncaught ${err.stack ?? `${err.name}: ${err.message}`}`);
  });
  worker.on('exit', (code) => {
    if (dead) return;
    dead = true;
    onDeath(`its thread exited with code ${code}`);
  });
}
