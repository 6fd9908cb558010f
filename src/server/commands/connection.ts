import * as resp from '../../protocol/resp.ts';
import { ERR_INVALID_DB, ERR_DB_INDEX } from '../../commands/errors.ts';
import type { FrontCommandSpec, FrontContext } from '../front-command.ts';

// Connection commands (Redis's connection group), run on the front thread.

function ping(c: FrontContext): void {
  const { argv, client, srv } = c;
  if (argv.count > 2) {
    srv.replyError(client, c.seq, "ERR wrong number of arguments for 'ping' command");
    return;
  }
  srv.reply(c, argv.count === 2 ? resp.bulk(argv.bytes(1)) : PONG);
}

function echo(c: FrontContext): void {
  c.srv.reply(c, resp.bulk(c.argv.bytes(1)));
}

function select(c: FrontContext): void {
  const n = Number(c.argv.str(1));
  if (!/^-?\d+$/.test(c.argv.str(1))) {
    c.srv.replyError(c.client, c.seq, ERR_INVALID_DB);
    return;
  }
  if (n < 0 || n >= c.srv.config.databases) {
    c.srv.replyError(c.client, c.seq, ERR_DB_INDEX);
    return;
  }
  c.client.db = n;
  c.srv.reply(c, resp.OK);
}

function quit(c: FrontContext): void {
  c.client.closeAfterSeq = c.seq;
  c.srv.reply(c, resp.OK);
}

const PONG = resp.simple('PONG');

export const connectionCommands: FrontCommandSpec[] = [
  { name: 'ping', arity: -1, flags: ['fast'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'connection', since: '1.0.0',
    summary: 'Returns the server\'s liveliness response.', complexity: 'O(1)', front: ping },
  { name: 'echo', arity: 2, flags: ['fast'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'connection', since: '1.0.0',
    summary: 'Returns the given string.', complexity: 'O(1)', front: echo },
  { name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], firstKey: 0, lastKey: 0, keyStep: 0, group: 'connection',
    since: '1.0.0', summary: 'Changes the selected database.', complexity: 'O(1)', front: select },
  { name: 'quit', arity: -1, flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'], firstKey: 0, lastKey: 0,
    keyStep: 0, group: 'connection', since: '1.0.0', summary: 'Closes the connection.', complexity: 'O(1)', front: quit, noAuth: true },
];
