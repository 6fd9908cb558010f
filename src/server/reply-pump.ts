import type { ShardLink } from '../router/shard-link.ts';
import type { Client } from './client.ts';
import { logWarning } from './log.ts';
import type { Server } from './server.ts';

/**
 * The last stage of a request's path: shards' replies to clients' sockets.
 * It drains the reply rings (each reply goes to the client that waits for it,
 * which puts it back in request order: Client.deliver), then, once per
 * event-loop turn, writes every client that has output and publishes the
 * requests written during the turn (one wake-up per shard per turn). Shards
 * run by this front (embedded) answer during that publish, and their replies
 * leave in the same turn.
 */
export class ReplyPump {
  /** Clients with output to write at the end of this turn. */
  readonly dirtyClients: Client[] = [];
  /** Wall clock sampled once per turn (idle times, client ages). */
  clock = Date.now();
  private readonly srv: Server;
  private pumping = false;
  private flushScheduled = false;
  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    this.clock = Date.now();
    this.flushNow();
  };
  /** The held clients' safety net: a missing reply that arrives without scheduling a turn. */
  private readonly holdTimer = setTimeout(() => this.afterBatch(), 1).unref();

  /** What the replies of the shards this front runs itself are called in the log. */
  private readonly embeddedReplies: string;

  constructor(srv: Server) {
    this.srv = srv;
    const ids = srv.links.filter((l) => l.embedded !== null).map((l) => l.id);
    this.embeddedReplies = `shard ${ids.join(', ')}'s replies`;
  }

  /** Wakes up whenever `link`'s shard publishes replies, and drains them. */
  listen(link: ShardLink): void {
    const loop = (): void => {
      for (;;) {
        const seen = link.signal();
        this.pumpSafely(`shard ${link.id}'s replies`);
        const p = link.park(seen);
        if (p !== null) {
          p.then(loop, loop);
          return;
        }
      }
    };
    loop();
  }

  /**
   * pump(), never throwing: an exception must not end a wake-up loop (replies
   * would stop for good), become an unhandled rejection, or escape a timer.
   * Replies still waiting are drained again next turn.
   */
  pumpSafely(what = 'shard replies'): void {
    try {
      this.pump();
    } catch (e) {
      logWarning(`Error while handing ${what} to clients: ${(e as Error).stack ?? String(e)}`);
      setImmediate(() => this.retryPump());
    }
  }

  private retryPump(): void {
    try {
      this.pump();
    } catch (e) {
      logWarning(`Error while handing shard replies to clients: ${(e as Error).stack ?? String(e)}`);
      setImmediate(() => this.retryPump());
    }
  }

  /** Drains every shard's replies, then writes to clients and retries stalled ones. */
  pump(): void {
    if (this.pumping) return;
    const srv = this.srv;
    this.pumping = true;
    try {
      for (const link of srv.links) link.drain();
    } finally {
      this.pumping = false;
      this.afterBatch();
    }
    // Keys that got values for blocked clients are served before anything that waited.
    if (srv.blocking.hasReady) srv.blocking.serveReady();
    // The rings have room again: whoever waited for it goes before input read later
    // (the flush asked for above is still to come in this turn).
    srv.resumeWaiting();
  }

  /**
   * End of a unit of work: asks for one flush at the end of this event-loop
   * turn, so that every socket read in the same poll phase shares one publish
   * (and at most one wake-up) per shard, and replies from several shards leave
   * in one write per client.
   */
  afterBatch(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushTurn);
  }

  /** Publishes requests, writes replies, resumes blocked clients. */
  flushNow(): void {
    const srv = this.srv;
    this.flushClients();
    if (srv.hasWaiting) {
      srv.resumeWaiting();
      this.flushClients();
    }
    const d = srv.dispatcher;
    d.flush();
    // Shards this front runs itself have answered already: their replies leave in this same turn
    // (what they unblock may send more, a few rounds at most; the rest goes next turn).
    for (let round = 0; round < 4 && d.servedEmbedded; round++) {
      d.servedEmbedded = false;
      this.pumpSafely(this.embeddedReplies);
      this.flushClients();
      d.flush();
    }
  }

  /**
   * Writes every dirty client's output, except clients whose pipeline still
   * waits for replies from other shards: those wait a turn or two (see
   * Client.holdOutput) so that a pipeline's replies leave in one write, as
   * they do from Redis, instead of one write per shard that answered.
   */
  private flushClients(): void {
    // Front commands whose replies have come are logged before those replies leave: a client
    // that reads one and sends its next command must find the slow log in that order.
    this.srv.checkSlowPending();
    const dirty = this.dirtyClients;
    const stats = this.srv.stats;
    let held = 0;
    for (let i = 0; i < dirty.length; i++) {
      const c = dirty[i];
      if (c.holdOutput()) {
        dirty[held++] = c;
        continue;
      }
      const before = c.netOut;
      // Like Redis (client-output-buffer-limit normal 0 0 0), a client that
      // does not read its replies is still read from: one that writes its whole
      // pipeline before reading (redis-py, Jedis) would otherwise deadlock
      // once both directions' buffers are full.
      c.flush();
      stats.netOutput += c.netOut - before;
    }
    dirty.length = held;
    // The held clients' missing replies schedule a turn when they arrive; the
    // timer is the safety net for a reply that arrives without one.
    if (held > 0) this.holdTimer.refresh();
  }

  /** Forgets a closed client. */
  forget(client: Client): void {
    const d = this.dirtyClients.indexOf(client);
    if (d >= 0) this.dirtyClients.splice(d, 1);
  }
}
