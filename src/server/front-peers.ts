import type { MessagePort } from 'node:worker_threads';
import type { ServerIdentity } from './info.ts';

// The front threads of one server (io-threads) and what they ask each other.
//
// Each front thread owns its clients, its counters and its copy of the
// settings; what a client sees as server-wide (CLIENT LIST, CLIENT KILL,
// INFO clients and stats, CONFIG SET, RESETSTAT, SHUTDOWN...) is gathered
// from, or sent to, every other front over a full mesh of MessagePorts. Keys
// never travel this way: they are the shards' (the rings), and the one order
// across fronts is the order block's (router/dispatcher.ts).

/**
 * What one front asks the others (server/server-wide.ts answers); the payload
 * and the answer are structured-cloneable.
 */
export type PeerAsk =
  /** Their CLIENT LIST lines, [id, line], for these ids (null: every client). */
  | { kind: 'client-list'; ids: number[] | null }
  /** Kill their clients that match; answers how many. */
  | { kind: 'client-kill'; filter: PeerKillFilter }
  /** CLIENT UNBLOCK of a client of theirs; answers whether it was blocked. */
  | { kind: 'client-unblock'; id: number; how: 'timeout' | 'error' }
  /** Their figures for INFO (server-wide.ts FrontFigures). */
  | { kind: 'info' }
  /** Apply a CONFIG SET another front already validated and applied (and pushed to the shards). */
  | { kind: 'config-set'; pairs: Array<[string, string]> }
  /** CONFIG RESETSTAT. */
  | { kind: 'reset-stat' }
  /** Their newest `count` slow-log entries (-1: all), once their pending front commands are logged. */
  | { kind: 'slowlog-get'; count: number }
  /** Their slow-log length. */
  | { kind: 'slowlog-len' }
  | { kind: 'slowlog-reset' }
  /** Front 0's run_id, master_replid and start time, told to the others at start-up. */
  | { kind: 'identity'; id: ServerIdentity }
  | { kind: 'forget-warmup' }
  /** SHUTDOWN ran on another front: close the listeners and the clients. */
  | { kind: 'shutdown'; code: number }
  | { kind: 'warmup-done' };

/** CLIENT KILL's filters (the new form's; the old form is ADDR only). Redis 7.0 has no MAXAGE. */
export interface PeerKillFilter {
  id: number | null;
  addr: string | null;
  laddr: string | null;
  type: string | null;
  user: string | null;
}

interface AskMessage { t: 'ask'; id: number; ask: PeerAsk }
interface AnswerMessage { t: 'answer'; id: number; value: unknown; error: string | null }

/**
 * This front's view of the others. With one front thread, `ask` resolves
 * at once with no answers, so every command works the same either way.
 */
export class FrontPeers {
  /** This front's index (0: the main thread). */
  readonly index: number;
  /** Front threads in all (io-threads). */
  readonly count: number;
  private readonly ports: MessagePort[];
  private nextId = 1;
  private readonly waiting = new Map<number, (a: AnswerMessage) => void>();
  /** Answers another front's question (set by the server). */
  onAsk: (ask: PeerAsk) => unknown | Promise<unknown> = () => null;

  /** `ports`: one per other front, in front order (this front skipped). */
  constructor(index: number, count: number, ports: MessagePort[] = []) {
    this.index = index;
    this.count = count;
    this.ports = ports;
    for (const port of ports) {
      port.on('message', (m: AskMessage | AnswerMessage) => this.onMessage(port, m));
      port.unref();
    }
  }

  get single(): boolean {
    return this.count === 1;
  }

  private onMessage(port: MessagePort, m: AskMessage | AnswerMessage): void {
    if (m.t === 'answer') {
      const done = this.waiting.get(m.id);
      if (done !== undefined) {
        this.waiting.delete(m.id);
        done(m);
      }
      return;
    }
    const answer = (value: unknown, error: string | null): void => {
      port.postMessage({ t: 'answer', id: m.id, value: value ?? null, error } satisfies AnswerMessage);
    };
    try {
      Promise.resolve(this.onAsk(m.ask)).then((v) => answer(v, null), (e: Error) => answer(null, e.message));
    } catch (e) {
      answer(null, (e as Error).message);
    }
  }

  /** Asks every other front; resolves with their answers (in front order, this one left out). */
  ask<T>(ask: PeerAsk): Promise<T[]> {
    if (this.ports.length === 0) return Promise.resolve([]);
    return Promise.all(this.ports.map((port) => new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, (a) => (a.error === null ? resolve(a.value as T) : reject(new Error(a.error))));
      port.postMessage({ t: 'ask', id, ask } satisfies AskMessage);
    })));
  }

  /** Tells every other front without waiting for answers. */
  tell(ask: PeerAsk): void {
    void this.ask(ask).catch(() => {});
  }
}
