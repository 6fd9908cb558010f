import { TYPE_STRING } from '../../native-layout/layout.ts';
import { Keyspace } from '../store/keyspace.ts';
import { ERR_SYNTAX, ERR_WRONGTYPE } from './errors.ts';
import { parseExpireArg, UNIT_MS, UNIT_SECONDS } from './expiry-args.ts';
import type { CommandSpec, ShardContext } from './types.ts';

// String commands (Redis's t_string.c). Values are stored inline in the entry.

function replyValue(c: ShardContext, ref: number): void {
  const ks = c.ks;
  c.reply.bulk(ks.arena.u8, ks.stringOffset(ref), ks.stringLength(ref));
}

/** GET's core: replies the value, nil, or WRONGTYPE. Returns false after WRONGTYPE. */
export function getGeneric(c: ShardContext, keyArg: number): boolean {
  const a = c.args;
  const ref = c.ks.lookupRead(c.db, a.u8, a.off[keyArg], a.len[keyArg]);
  if (ref === 0) {
    c.reply.nil();
    return true;
  }
  if (c.ks.typeOf(ref) !== TYPE_STRING) {
    c.reply.error(ERR_WRONGTYPE);
    return false;
  }
  replyValue(c, ref);
  return true;
}

function getCommand(c: ShardContext): void {
  getGeneric(c, 1);
}

const SET_NX = 1;
const SET_XX = 2;
const SET_GET = 4;
const SET_KEEPTTL = 8;
const SET_EX = 16;
const SET_PX = 32;
const SET_EXAT = 64;
const SET_PXAT = 128;
const SET_EXPIRE_ANY = SET_EX | SET_PX | SET_EXAT | SET_PXAT;

/**
 * SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL], with the
 * argument checks in Redis's order: syntax, then the expire value, then GET's
 * type check, then NX/XX.
 */
function setCommand(c: ShardContext): void {
  const a = c.args;
  let flags = 0;
  let expireArg = -1;
  for (let i = 3; i < a.count; i++) {
    const more = i + 1 < a.count;
    if (a.is(i, 'nx') && !(flags & SET_XX)) flags |= SET_NX;
    else if (a.is(i, 'xx') && !(flags & SET_NX)) flags |= SET_XX;
    else if (a.is(i, 'get')) flags |= SET_GET;
    else if (a.is(i, 'keepttl') && !(flags & SET_EXPIRE_ANY)) flags |= SET_KEEPTTL;
    else if (more && !(flags & (SET_KEEPTTL | SET_EXPIRE_ANY)) && a.is(i, 'ex')) { flags |= SET_EX; expireArg = ++i; }
    else if (more && !(flags & (SET_KEEPTTL | SET_EXPIRE_ANY)) && a.is(i, 'px')) { flags |= SET_PX; expireArg = ++i; }
    else if (more && !(flags & (SET_KEEPTTL | SET_EXPIRE_ANY)) && a.is(i, 'exat')) { flags |= SET_EXAT; expireArg = ++i; }
    else if (more && !(flags & (SET_KEEPTTL | SET_EXPIRE_ANY)) && a.is(i, 'pxat')) { flags |= SET_PXAT; expireArg = ++i; }
    else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  let expireAt = -1;
  if (expireArg > 0) {
    const unit = flags & (SET_EX | SET_EXAT) ? UNIT_SECONDS : UNIT_MS;
    expireAt = parseExpireArg(c, expireArg, unit, (flags & (SET_EX | SET_PX)) !== 0, 'set');
    if (Number.isNaN(expireAt)) return;
  }
  if (flags & SET_GET && !getGeneric(c, 1)) return;
  setGeneric(c, flags, expireAt);
}

function setGeneric(c: ShardContext, flags: number, expireAt: number): void {
  const a = c.args;
  const ks = c.ks;
  const ko = a.off[1];
  const kl = a.len[1];
  const old = ks.lookupWrite(c.db, a.u8, ko, kl);
  if ((flags & SET_NX && old !== 0) || (flags & SET_XX && old === 0)) {
    if (!(flags & SET_GET)) c.reply.nil();
    return;
  }
  if (flags & SET_KEEPTTL && old !== 0) expireAt = ks.expireOf(old);
  const vo = a.off[2];
  const vl = a.len[2];
  ks.putString(c.db, a.u8, ko, kl, a.u8, vo, vl, Keyspace.stringEncoding(a.u8, vo, vl), expireAt);
  if (!(flags & SET_GET)) c.reply.ok();
}

export const stringCommands: CommandSpec[] = [
  {
    name: 'get', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0', summary: 'Returns the string value of a key.', complexity: 'O(1)',
    shard: getCommand,
  },
  {
    name: 'set', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1,
    group: 'string', since: '1.0.0',
    summary: 'Sets the string value of a key, ignoring its type. The key is created if it doesn\'t exist.',
    complexity: 'O(1)', shard: setCommand,
  },
];
