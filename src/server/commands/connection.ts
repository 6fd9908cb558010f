import { ERR_DB_INDEX, ERR_NOT_INTEGER, ERR_SYNTAX } from '../../commands/errors.ts';
import * as resp from '../../protocol/resp.ts';
import { INT_OK, INT_UNSAFE, parseI64, parseI64Big, parseI64Status } from '../../util/numbers.ts';
import { REPLY_OFF, REPLY_ON, REPLY_SKIP, type Client } from '../client.ts';
import { ReplyBuffer } from '../../protocol/reply-buffer.ts';
import type { FrontCommandSpec, FrontContext } from '../front-command.ts';
import type { PeerKillFilter } from '../front-peers.ts';
import { withPeers } from '../server-wide.ts';
import { containerCommand, counted, helpReply, safeErrorText, type FrontSubcommandSpec } from '../front-dispatch.ts';
import { clientMemory, REDIS_COMPAT_VERSION } from '../info.ts';
import type { Server } from '../server.ts';

// Connection commands (Redis's connection group), run on the front thread:
// PING, ECHO, SELECT, QUIT, HELLO, AUTH, RESET and the CLIENT container.

const ERR_WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
const ERR_NOPASS_CONFIGURED = 'ERR AUTH <password> called without any password configured for the default user. ' +
  'Are you sure your configuration is correct?';
const ERR_HELLO_NOAUTH = 'NOAUTH HELLO must be called with the client already authenticated, otherwise the ' +
  'HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version ' +
  'at the same time';
const ERR_CLIENT_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

function fail(c: FrontContext, msg: string): void {
  c.srv.replyError(c.client, c.seq, msg);
}

function reply(c: FrontContext, b: Uint8Array): void {
  c.srv.reply(c, b);
}

/** Delivers nothing for this command (CLIENT REPLY OFF/SKIP answer nothing themselves). */
function replyNothing(c: FrontContext): void {
  c.client.deliver(c.seq, EMPTY, 0, 0);
}

const EMPTY = new Uint8Array(0);
const PONG = resp.simple('PONG');
const RESET = resp.simple('RESET');

/** Redis's getLongLongFromObject: a strict integer (string2ll rules), or null. */
export function argInt64(c: FrontContext, i: number): bigint | null {
  const a = c.argv;
  const v = parseI64(a.u8, a.off[i], a.len[i]);
  const st = parseI64Status();
  if (st === INT_OK) return BigInt(v);
  if (st === INT_UNSAFE) return parseI64Big(a.u8, a.off[i], a.len[i]);
  return null;
}

/** True for connections from the loopback interface (Redis's islocalClient). */
export function isLocalClient(client: Client): boolean {
  const ip = client.socket.remoteAddress ?? '';
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || ip === '';
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

const DEFAULT_USER = Buffer.from('default');

/**
 * Checks credentials against the only user Sabre has, "default": without
 * requirepass it takes any password (nopass), with it only that password.
 * Success authenticates the connection (and lifts the parser's
 * unauthenticated limits).
 */
function authenticate(srv: Server, client: Client, user: Uint8Array, pass: Uint8Array): boolean {
  if (!bytesEqual(user, DEFAULT_USER)) return false;
  const rp = srv.config.requirepass;
  if (rp !== '' && !bytesEqual(pass, Buffer.from(rp, 'utf8'))) return false;
  client.authenticated = true;
  client.parser.authenticated = true;
  client.user = 'default';
  return true;
}

/** A client name or SETINFO value: printable ASCII without spaces (Redis's validateClientAttr). */
function validAttr(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] < 0x21 || b[i] > 0x7e) return false;
  return true;
}

// ---------------------------------------------------------------------------
// PING, ECHO, SELECT, QUIT

function ping(c: FrontContext): void {
  const { argv } = c;
  if (argv.count > 2) {
    fail(c, "ERR wrong number of arguments for 'ping' command");
    return;
  }
  reply(c, argv.count === 2 ? resp.bulk(argv.bytes(1)) : PONG);
}

function echo(c: FrontContext): void {
  reply(c, resp.bulk(c.argv.bytes(1)));
}

function select(c: FrontContext): void {
  const id = argInt64(c, 1);
  if (id === null) {
    fail(c, ERR_NOT_INTEGER);
    return;
  }
  if (id < -2147483648n || id > 2147483647n) {
    fail(c, 'ERR value is out of range, value must between -2147483648 and 2147483647');
    return;
  }
  if (id < 0n || id >= BigInt(c.srv.config.databases)) {
    fail(c, ERR_DB_INDEX);
    return;
  }
  c.client.db = Number(id);
  reply(c, resp.OK);
}

function quit(c: FrontContext): void {
  c.client.closeAfterSeq = c.seq;
  reply(c, resp.OK);
}

// ---------------------------------------------------------------------------
// HELLO, AUTH, RESET

function hello(c: FrontContext): void {
  const { argv, client, srv } = c;
  let ver = 0;
  let next = 1;
  if (argv.count >= 2) {
    const v = argInt64(c, next++);
    if (v === null) {
      fail(c, 'ERR Protocol version is not an integer or out of range');
      return;
    }
    if (v < 2n || v > 3n) {
      fail(c, 'NOPROTO unsupported protocol version');
      return;
    }
    ver = Number(v);
  }
  for (let j = next; j < argv.count; j++) {
    const more = argv.count - 1 - j;
    if (argv.is(j, 'auth') && more >= 2) {
      if (!authenticate(srv, client, argv.bytes(j + 1), argv.bytes(j + 2))) {
        fail(c, ERR_WRONGPASS);
        return;
      }
      j += 2;
    } else if (argv.is(j, 'setname') && more >= 1) {
      const name = argv.bytes(j + 1);
      if (!validAttr(name)) {
        fail(c, ERR_CLIENT_NAME);
        return;
      }
      client.name = name.toString('latin1');
      j++;
    } else {
      fail(c, safeErrorText(`ERR Syntax error in HELLO option '${argv.str(j)}'`));
      return;
    }
  }
  if (!client.authenticated) {
    fail(c, ERR_HELLO_NOAUTH);
    return;
  }
  if (ver !== 0) client.resp = ver;
  const out = ReplyBuffer.forClient(client.resp);
  out.map(7);
  out.bulkOf('server').bulkOf('redis');
  out.bulkOf('version').bulkOf(REDIS_COMPAT_VERSION);
  out.bulkOf('proto').int(client.resp);
  out.bulkOf('id').int(client.id);
  out.bulkOf('mode').bulkOf('standalone');
  out.bulkOf('role').bulkOf('master');
  out.bulkOf('modules').array(0);
  reply(c, out.done());
}

function auth(c: FrontContext): void {
  const { argv, client, srv } = c;
  if (argv.count > 3) {
    fail(c, ERR_SYNTAX);
    return;
  }
  let user: Uint8Array;
  let pass: Uint8Array;
  if (argv.count === 2) {
    if (srv.config.requirepass === '') {
      fail(c, ERR_NOPASS_CONFIGURED);
      return;
    }
    user = DEFAULT_USER;
    pass = argv.bytes(1);
  } else {
    user = argv.bytes(1);
    pass = argv.bytes(2);
  }
  if (authenticate(srv, client, user, pass)) reply(c, resp.OK);
  else fail(c, ERR_WRONGPASS);
}

function reset(c: FrontContext): void {
  const { client, srv } = c;
  client.db = 0;
  client.resp = 2;
  client.name = '';
  client.noTouch = false;
  client.noEvict = false;
  // Like Redis, RESET lifts CLIENT REPLY OFF before answering, but a RESET that
  // is the command CLIENT REPLY SKIP skips stays unanswered.
  if (client.replyMode === REPLY_OFF) client.unsuppress(c.seq);
  client.replyMode = REPLY_ON;
  const open = srv.config.requirepass === '';
  client.authenticated = open;
  client.parser.authenticated = open;
  client.user = 'default';
  reply(c, RESET);
}

// ---------------------------------------------------------------------------
// CLIENT

function socketFd(client: Client): number {
  const h = (client.socket as unknown as { _handle?: { fd?: number } | null })._handle;
  return typeof h?.fd === 'number' ? h.fd : -1;
}

function clientFlags(client: Client): string {
  let f = '';
  if (client.blockedOnKeys) f += 'b';
  if (client.closeAfterSeq >= 0) f += 'c';
  if (client.killed) f += 'A';
  if (client.noEvict) f += 'e';
  if (client.noTouch) f += 'T';
  return f === '' ? 'N' : f;
}

/** One CLIENT LIST line (without the newline), with Redis 7.2's fields. */
export function clientInfoLine(client: Client, now: number, current: FrontContext | null): string {
  const parser = client.parser;
  // The running command (and the rest of its read) is still in Redis's query buffer.
  const qbuf = current !== null && current.client === client ? client.batchQueryBytes : parser.pendingBytes();
  const rbs = parser.buf.length;
  let argvMem = 0;
  if (current !== null && current.client === client) {
    for (let i = 0; i < current.argv.count; i++) argvMem += current.argv.len[i];
  }
  // What client-output-buffer-limit counts (Redis's omem); obl is the staged buffer, oll the pending chunks.
  const omem = client.outputBytes;
  return `id=${client.id} addr=${client.addr} laddr=${client.laddr} fd=${socketFd(client)} name=${client.name}` +
    ` age=${Math.floor((now - client.createdAt) / 1000)} idle=${Math.floor((now - client.lastInteraction) / 1000)}` +
    ` flags=${clientFlags(client)} db=${client.db} sub=0 psub=0 ssub=0 multi=-1 qbuf=${qbuf}` +
    ` qbuf-free=${Math.max(0, rbs - qbuf)} argv-mem=${argvMem} multi-mem=0 rbs=${rbs} rbp=${rbs}` +
    ` obl=${client.outLen} oll=${client.outputChunks} omem=${omem} tot-mem=${clientMemory(client)}` +
    ` events=r${client.pendingOutputBytes > 0 ? 'w' : ''} cmd=${client.lastCommand} user=${client.user} redir=-1 resp=${client.resp}` +
    ` lib-name=${client.libName} lib-ver=${client.libVer}`;
}

const CLIENT_TYPES = ['normal', 'slave', 'replica', 'pubsub', 'master'];

/** Redis's getClientTypeByName, then whether a Sabre client is of that type (all are "normal"). */
function clientTypeMatches(type: string): boolean {
  return type === 'normal';
}

function clientId(c: FrontContext): void {
  reply(c, resp.integer(c.client.id));
}

function clientInfo(c: FrontContext): void {
  const line = clientInfoLine(c.client, Date.now(), c) + '\n';
  reply(c, ReplyBuffer.forClient(c.client.resp).verbatim(line).done());
}

/**
 * This front's CLIENT LIST lines, as [id, line]: of the clients with these ids
 * (null: of every client, in id order). `current` is the command asking, if it
 * runs here (its client's line shows the command's query buffer).
 */
export function clientLines(srv: Server, ids: readonly number[] | null, current: FrontContext | null): Array<[number, string]> {
  const now = Date.now();
  const out: Array<[number, string]> = [];
  if (ids === null) {
    for (const cl of srv.clients.values()) out.push([cl.id, clientInfoLine(cl, now, current)]);
    return out;
  }
  for (const id of new Set(ids)) {
    const cl = srv.clients.get(id);
    if (cl !== undefined) out.push([id, clientInfoLine(cl, now, current)]);
  }
  return out;
}

function clientList(c: FrontContext): void {
  const { argv, srv } = c;
  /** The ids asked for, in the order given (repeats are listed again, as Redis does); null: every client. */
  let ids: number[] | null = null;
  if (argv.count === 4 && argv.is(2, 'type')) {
    const type = argv.str(3).toLowerCase();
    if (!CLIENT_TYPES.includes(type)) {
      fail(c, safeErrorText(`ERR Unknown client type '${argv.str(3)}'`));
      return;
    }
    if (!clientTypeMatches(type)) ids = [];
  } else if (argv.count > 3 && argv.is(2, 'id')) {
    ids = [];
    for (let j = 3; j < argv.count; j++) {
      const id = argInt64(c, j);
      if (id === null) {
        fail(c, 'ERR Invalid client ID');
        return;
      }
      if (id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER)) ids.push(Number(id));
    }
  } else if (argv.count !== 2) {
    fail(c, ERR_SYNTAX);
    return;
  }
  const asked = ids;
  const finish = (remote: Array<Array<[number, string]>>): void => {
    const local = clientLines(srv, asked, c);
    let text = '';
    if (remote.length === 0 && asked === null) {
      for (const [, line] of local) text += line + '\n';
    } else {
      const lines = new Map(local);
      for (const answer of remote) for (const [id, line] of answer) lines.set(id, line);
      // Every client in id order (the order Redis lists them: by connection), or the ids in the order asked.
      const order = asked ?? [...lines.keys()].sort((a, b) => a - b);
      for (const id of order) {
        const line = lines.get(id);
        if (line !== undefined) text += line + '\n';
      }
    }
    reply(c, ReplyBuffer.forClient(c.client.resp).verbatim(text).done());
  };
  // Ids are unique across front threads: those all found here need no other front.
  if (asked !== null && asked.every((id) => srv.clients.has(id))) finish([]);
  else withPeers(c, { kind: 'client-list', ids: asked }, finish);
}

/** Closes another connection now: what it has buffered is written, then the socket is shut. */
export function killClient(srv: Server, target: Client): void {
  if (target.closed) return;
  target.killed = true;
  target.socket.pause();
  target.flush();
  target.socket.destroySoon();
  // Gone from CLIENT LIST and from the client count at once, as Redis frees it at once.
  srv.dropClient(target);
}

function killMatches(cl: Client, f: PeerKillFilter): boolean {
  if (cl.closed || cl.killed) return false;
  if (f.addr !== null && cl.addr !== f.addr) return false;
  if (f.laddr !== null && cl.laddr !== f.laddr) return false;
  if (f.type !== null && !clientTypeMatches(f.type)) return false;
  if (f.id !== null && cl.id !== f.id) return false;
  if (f.user !== null && cl.user !== f.user) return false;
  return true;
}

/** Kills this front's clients that match (CLIENT KILL asked by another front); returns how many. */
export function killMatching(srv: Server, f: PeerKillFilter): number {
  let killed = 0;
  for (const cl of [...srv.clients.values()]) {
    if (!killMatches(cl, f)) continue;
    killClient(srv, cl);
    killed++;
  }
  return killed;
}

function clientKill(c: FrontContext): void {
  const { argv, client, srv } = c;
  const filter: PeerKillFilter = { id: null, addr: null, laddr: null, type: null, user: null };
  /** An id past 2^53 names nobody (ids are counted from 1 and never get there). */
  let nobody = false;
  let skipme = true;
  if (argv.count === 3) {
    filter.addr = argv.str(2);
    skipme = false;
  } else {
    for (let i = 2; i < argv.count; i += 2) {
      const more = argv.count > i + 1;
      if (argv.is(i, 'id') && more) {
        const v = argInt64(c, i + 1);
        if (v === null || v < 1n) {
          fail(c, 'ERR client-id should be greater than 0');
          return;
        }
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) nobody = true;
        else filter.id = Number(v);
      } else if (argv.is(i, 'type') && more) {
        const type = argv.str(i + 1).toLowerCase();
        if (!CLIENT_TYPES.includes(type)) {
          fail(c, safeErrorText(`ERR Unknown client type '${argv.str(i + 1)}'`));
          return;
        }
        filter.type = type;
      } else if (argv.is(i, 'addr') && more) {
        filter.addr = argv.str(i + 1);
      } else if (argv.is(i, 'laddr') && more) {
        filter.laddr = argv.str(i + 1);
      } else if (argv.is(i, 'user') && more) {
        const user = argv.str(i + 1);
        if (user !== 'default') {
          fail(c, safeErrorText(`ERR No such user '${user}'`));
          return;
        }
        filter.user = user;
      } else if (argv.is(i, 'skipme') && more) {
        if (argv.is(i + 1, 'yes')) skipme = true;
        else if (argv.is(i + 1, 'no')) skipme = false;
        else {
          fail(c, ERR_SYNTAX);
          return;
        }
      } else {
        fail(c, ERR_SYNTAX);
        return;
      }
    }
  }
  let killed = 0;
  let killSelf = false;
  if (!nobody) {
    for (const cl of [...srv.clients.values()]) {
      if (!killMatches(cl, filter)) continue;
      if (cl === client && skipme) continue;
      if (cl === client) killSelf = true;
      else killClient(srv, cl);
      killed++;
    }
  }
  // Set before replying: the connection closes once this reply is written.
  if (killSelf) client.closeAfterSeq = c.seq;
  const finish = (remote: number[]): void => {
    for (const n of remote) killed += n;
    if (argv.count === 3) {
      if (killed === 0) fail(c, 'ERR No such client');
      else reply(c, resp.OK);
    } else {
      reply(c, resp.integer(killed));
    }
  };
  // Ids are unique across front threads: an id found here is nowhere else.
  if (nobody || (filter.id !== null && srv.clients.has(filter.id))) finish([]);
  else withPeers(c, { kind: 'client-kill', filter }, finish);
}

function clientSetname(c: FrontContext): void {
  const name = c.argv.bytes(2);
  if (!validAttr(name)) {
    fail(c, ERR_CLIENT_NAME);
    return;
  }
  c.client.name = name.toString('latin1');
  reply(c, resp.OK);
}

function clientGetname(c: FrontContext): void {
  const name = c.client.name;
  reply(c, name === '' ? resp.nil(c.client.resp) : resp.bulk(Buffer.from(name, 'latin1')));
}

function clientSetinfo(c: FrontContext): void {
  const { argv, client } = c;
  const attr = argv.str(2);
  const value = argv.bytes(3);
  const isName = argv.is(2, 'lib-name');
  if (!isName && !argv.is(2, 'lib-ver')) {
    fail(c, safeErrorText(`ERR Unrecognized option '${attr}'`));
    return;
  }
  if (!validAttr(value)) {
    fail(c, safeErrorText(`ERR ${attr} cannot contain spaces, newlines or special characters.`));
    return;
  }
  if (isName) client.libName = value.toString('latin1');
  else client.libVer = value.toString('latin1');
  reply(c, resp.OK);
}

function onOff(c: FrontContext, set: (on: boolean) => void): void {
  if (c.argv.is(2, 'on')) set(true);
  else if (c.argv.is(2, 'off')) set(false);
  else {
    fail(c, ERR_SYNTAX);
    return;
  }
  reply(c, resp.OK);
}

function clientNoEvict(c: FrontContext): void {
  onOff(c, (on) => { c.client.noEvict = on; });
}

function clientNoTouch(c: FrontContext): void {
  onOff(c, (on) => { c.client.noTouch = on; });
}

function clientReply(c: FrontContext): void {
  const { argv, client } = c;
  if (argv.is(2, 'on')) {
    client.replyMode = REPLY_ON;
    client.unsuppress(c.seq);
    reply(c, resp.OK);
  } else if (argv.is(2, 'off')) {
    client.replyMode = REPLY_OFF;
    replyNothing(c);
  } else if (argv.is(2, 'skip')) {
    if (client.replyMode !== REPLY_OFF) client.replyMode = REPLY_SKIP;
    replyNothing(c);
  } else {
    fail(c, ERR_SYNTAX);
  }
}

function clientUnblock(c: FrontContext): void {
  const { argv, srv } = c;
  if (argv.count === 4 && !argv.is(3, 'timeout') && !argv.is(3, 'error')) {
    fail(c, 'ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
    return;
  }
  const big = argInt64(c, 2);
  if (big === null) {
    fail(c, ERR_NOT_INTEGER);
    return;
  }
  const how = argv.count === 4 && argv.is(3, 'error') ? 'error' : 'timeout';
  if (big <= 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) {
    reply(c, resp.integer(0));
    return;
  }
  const id = Number(big);
  const unblocked = srv.blocking.unblock(id, how);
  // A client of this front (ids are unique across front threads), or a client blocked on another front.
  if (unblocked || srv.clients.has(id)) reply(c, resp.integer(unblocked ? 1 : 0));
  else withPeers<boolean>(c, { kind: 'client-unblock', id, how }, (remote) => reply(c, resp.integer(remote.includes(true) ? 1 : 0)));
}

function clientUnpause(c: FrontContext): void {
  reply(c, resp.OK);
}

function clientGetredir(c: FrontContext): void {
  reply(c, resp.integer(-1));
}

function clientTrackinginfo(c: FrontContext): void {
  const out = ReplyBuffer.forClient(c.client.resp);
  out.map(3);
  out.bulkOf('flags').set(1).bulkOf('off');
  out.bulkOf('redirect').int(-1);
  out.bulkOf('prefixes').array(0);
  reply(c, out.done());
}

function clientCaching(c: FrontContext): void {
  fail(c, 'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
}

const CLIENT_HELP = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <option> <value>',
  '    Set client meta attr. Options are:',
  '    * LIB-NAME: the client lib name.',
  '    * LIB-VER: the client lib version.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'NO-TOUCH (ON|OFF)',
  '    Will not touch LRU/LFU stats when this mode is on.',
];

function clientHelp(c: FrontContext): void {
  reply(c, helpReply(c, CLIENT_HELP));
}

// ---------------------------------------------------------------------------
// Tables

const STD = ['noscript', 'loading', 'stale'];

function sub(name: string, arity: number, flags: string[], since: string, summary: string, complexity: string,
  front: (c: FrontContext) => void): FrontSubcommandSpec {
  return { name, arity, flags, firstKey: 0, lastKey: 0, keyStep: 0, group: 'connection', since, summary, complexity, front };
}

const clientSubcommands: FrontSubcommandSpec[] = [
  sub('caching', 3, STD, '6.0.0', 'Instructs the server whether to track the keys in the next request.', 'O(1)', clientCaching),
  sub('getname', 2, STD, '2.6.9', 'Returns the name of the connection.', 'O(1)', clientGetname),
  sub('getredir', 2, STD, '6.0.0', 'Returns the client ID to which the connection\'s tracking notifications are redirected.',
    'O(1)', clientGetredir),
  sub('help', 2, ['loading', 'stale'], '5.0.0', 'Returns helpful text about the different subcommands.', 'O(1)', clientHelp),
  sub('id', 2, STD, '5.0.0', 'Returns the unique client ID of the connection.', 'O(1)', clientId),
  sub('info', 2, STD, '6.2.0', 'Returns information about the connection.', 'O(1)', clientInfo),
  sub('kill', -3, ['admin', ...STD], '2.4.0', 'Terminates open connections.',
    'O(N) where N is the number of client connections', clientKill),
  sub('list', -2, ['admin', ...STD], '2.4.0', 'Lists open connections.',
    'O(N) where N is the number of client connections', clientList),
  sub('no-evict', 3, ['admin', ...STD], '7.0.0', 'Sets the client eviction mode of the connection.', 'O(1)', clientNoEvict),
  sub('no-touch', 3, STD, '7.2.0', 'Controls whether commands sent by the client affect the LRU/LFU of accessed keys.',
    'O(1)', clientNoTouch),
  sub('reply', 3, STD, '3.2.0', 'Instructs the server whether to reply to commands.', 'O(1)', clientReply),
  sub('setinfo', 4, STD, '7.2.0', 'Sets information specific to the client or connection.', 'O(1)', clientSetinfo),
  sub('setname', 3, STD, '2.6.9', 'Sets the connection name.', 'O(1)', clientSetname),
  sub('trackinginfo', 2, STD, '6.2.0', 'Returns information about server-assisted client-side caching for the connection.',
    'O(1)', clientTrackinginfo),
  sub('unblock', -3, ['admin', ...STD], '5.0.0', 'Unblocks a client blocked by a blocking command from a different connection.',
    'O(log N) where N is the number of client connections', clientUnblock),
  sub('unpause', 2, ['admin', ...STD], '6.2.0', 'Resumes processing commands from paused clients.',
    'O(N) Where N is the number of paused clients', clientUnpause),
];

function cmd(name: string, arity: number, flags: string[], since: string, summary: string, complexity: string,
  front: (c: FrontContext) => void, noAuth = false): FrontCommandSpec {
  return {
    name, arity, flags, firstKey: 0, lastKey: 0, keyStep: 0, group: 'connection', since, summary, complexity,
    front: counted(name, front), ...(noAuth ? { noAuth: true } : {}),
  };
}

const AUTHLESS = ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'];

export const connectionCommands: FrontCommandSpec[] = [
  cmd('ping', -1, ['fast'], '1.0.0', 'Returns the server\'s liveliness response.', 'O(1)', ping),
  cmd('echo', 2, ['loading', 'stale', 'fast'], '1.0.0', 'Returns the given string.', 'O(1)', echo),
  cmd('select', 2, ['loading', 'stale', 'fast'], '1.0.0', 'Changes the selected database.', 'O(1)', select),
  cmd('quit', -1, ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'], '1.0.0', 'Closes the connection.',
    'O(1)', quit, true),
  cmd('hello', -1, AUTHLESS, '6.0.0', 'Handshakes with the Redis server.', 'O(1)', hello, true),
  cmd('auth', -2, AUTHLESS, '1.0.0', 'Authenticates the connection.',
    'O(N) where N is the number of passwords defined for the user', auth, true),
  cmd('reset', 1, AUTHLESS, '6.2.0', 'Resets the connection.', 'O(1)', reset, true),
  containerCommand({
    name: 'client', arity: -2, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, group: 'connection', since: '2.4.0',
    summary: 'A container for client connection commands.', complexity: 'Depends on subcommand.',
  }, clientSubcommands),
];
