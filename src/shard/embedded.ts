import { RING_CONSUMER_PARKED, RING_SIGNAL } from '../../native-layout/layout.ts';
import { ShardRuntime, type ShardWorkerData } from './runtime.ts';

/**
 * A shard run by a front thread in its own event loop, without a hop
 * (`embedded-shards yes`, as Dragonfly's threads own a shard each): the
 * front runs the shard's records right after writing them, in the same turn,
 * and reads the replies at once. No thread wakes up for a request of its own.
 * Other front threads still reach it through their rings; their publishes
 * ring the shard's bell, which the owning front watches asynchronously. The
 * cron and lazy freeing run on timers of the front's event loop.
 */
export class EmbeddedShard {
  readonly runtime: ShardRuntime;
  /** Called after the shard ran something on its own (bell, cron): the front drains and writes. */
  onServed: () => void = () => {};
  private readonly bell: Int32Array;
  private timer: NodeJS.Timeout | null = null;

  /**
   * `owner`: the front thread that runs it; `drainOwner` empties that front's
   * reply ring from this shard (the shard cannot wait for its own thread).
   */
  constructor(data: ShardWorkerData, owner: number, drainOwner: () => void) {
    this.runtime = new ShardRuntime(data);
    this.runtime.setOwner(owner, drainOwner);
    this.bell = new Int32Array(data.bell);
    this.schedule();
    if (data.requestRings.length > 1) this.watchBell();
  }

  /** Runs every record that may run now (the owner calls it after publishing). */
  serve(): number {
    return this.runtime.serveAvailable();
  }

  /** The cron at hz, and lazy freeing in slices while values wait to be freed. */
  private schedule(): void {
    const rt = this.runtime;
    const delay = rt.freeing ? 0 : Math.max(0, rt.cronDue - Date.now());
    this.timer = setTimeout(this.tick, delay);
    this.timer.unref();
  }

  private readonly tick = (): void => {
    try {
      this.runtime.housekeeping(Date.now());
      this.serve();
      this.onServed();
    } finally {
      this.schedule();
    }
  };

  /** Other front threads' records: served when their publish rings the bell. */
  private watchBell(): void {
    const loop = (): void => {
      for (;;) {
        const seen = Atomics.load(this.bell, RING_SIGNAL);
        if (this.serve() > 0) this.onServed();
        Atomics.store(this.bell, RING_CONSUMER_PARKED, 1);
        const w = Atomics.waitAsync(this.bell, RING_SIGNAL, seen);
        if (w.async) {
          w.value.then(() => {
            Atomics.store(this.bell, RING_CONSUMER_PARKED, 0);
            loop();
          }, loop);
          return;
        }
        Atomics.store(this.bell, RING_CONSUMER_PARKED, 0);
      }
    };
    loop();
  }
}
