// Server-wide state across front threads (io-threads > 1).
//
// Each front thread runs its own Server: its own clients, counters (INFO
// stats, commandstats, errorstats), slow log, copy of the settings, and
// blocked clients. What a client sees as the server's (CLIENT LIST / KILL /
// UNBLOCK, INFO clients, stats and cpu, CONFIG SET, CONFIG RESETSTAT,
// SLOWLOG) is gathered from, or sent to, every other front over the peer mesh
// (front-peers.ts), and the command answers once they have all answered: it
// blocks its client until then (BLOCK_REPLY, as SCAN does). With one front
// thread nothing is asked and every command answers at once, as before.
//
// Client ids, the client count (maxclients) and slow-log ids are shared
// counters in the order block instead: no question needed.

import type { FrontContext } from './front-command.ts';
import type { PeerAsk } from './front-peers.ts';
import { clientLines, killMatching } from './commands/connection.ts';
import { applyConfigSet, resetStats, slowEntries, type WireSlowEntry } from './commands/server-cmds.ts';
import { adoptServerIdentity, frontFigures, serverIdentity } from './info.ts';
import { logWarning } from './log.ts';
import type { Server } from './server.ts';

/** Wires a front's Server to the others: answers their questions; shares slow-log ids. Called by the Server's constructor. */
export function installServerWide(srv: Server, order: Int32Array | null): void {
  if (order !== null) srv.slowlog.shareIds(order);
  if (srv.peers.single) return;
  // One run_id for the whole server. Front 0 is built before the other front threads start, so
  // this reaches each of them before their first client (the message waits in the port until then).
  if (srv.peers.index === 0) srv.peers.tell({ kind: 'identity', id: serverIdentity(srv) });
  srv.peers.onAsk = (ask) => {
    try {
      return answer(srv, ask);
    } finally {
      // What it did (a client killed or unblocked) reaches the sockets at the end of this turn.
      srv.afterBatch();
    }
  };
}

function answer(srv: Server, ask: PeerAsk): unknown {
  switch (ask.kind) {
    case 'client-list':
      return clientLines(srv, ask.ids, null);
    case 'client-kill':
      return killMatching(srv, ask.filter);
    case 'client-unblock':
      return srv.blocking.unblock(ask.id, ask.how);
    case 'info':
      return frontFigures(srv);
    case 'config-set': {
      const err = applyConfigSet(srv, ask.pairs, true).error;
      if (err !== null) logWarning(`Front thread ${srv.peers.index} refused a CONFIG SET another front applied: ${err}`);
      return err;
    }
    case 'reset-stat':
      resetStats(srv);
      return null;
    case 'slowlog-get':
      srv.checkSlowPending();
      return slowEntries(srv, ask.count) satisfies WireSlowEntry[];
    case 'slowlog-len':
      srv.checkSlowPending();
      return srv.slowlog.length;
    case 'identity':
      adoptServerIdentity(srv, ask.id);
      return null;
    case 'shutdown':
      // Another front ran SHUTDOWN: no new connections here either while the process stops.
      srv.shuttingDown = true;
      void srv.close();
      return null;
    case 'slowlog-reset':
      srv.slowlog.reset();
      return null;
    case 'forget-warmup':
      srv.forgetWarmUp();
      return null;
    default:
      return null;
  }
}

/**
 * Runs `finish` with every other front's answer to `ask` (in front order),
 * then replies as `finish` does. With one front thread it runs at once, with
 * no answers. Otherwise the command has not replied when it returns, so its
 * client waits for this reply (Server.runFront: BLOCK_REPLY); an error reply
 * made here counts as a failed call, as one made at once does.
 */
export function withPeers<T>(c: FrontContext, ask: PeerAsk, finish: (answers: T[]) => void): void {
  const { srv, client } = c;
  if (srv.peers.single) {
    finish([]);
    return;
  }
  const name = client.lastCommand;
  const run = (answers: T[]): void => {
    const before = srv.stats.errorReplies;
    try {
      finish(answers);
    } catch (e) {
      logWarning(`Internal error in '${name}': ${(e as Error).stack ?? String(e)}`);
      if (!client.hasReplied(c.seq)) srv.replyError(client, c.seq, `ERR internal error in '${name}'`);
    }
    if (srv.stats.errorReplies > before) srv.stats.command(name).failed++;
  };
  srv.peers.ask<T>(ask).then(run, (e: Error) => {
    logWarning(`Another front thread failed to answer '${name}': ${e.message}`);
    srv.replyError(client, c.seq, `ERR ${e.message}`);
    srv.stats.command(name).failed++;
  }).finally(() => srv.afterBatch());
}
