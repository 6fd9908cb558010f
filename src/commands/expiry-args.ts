import { parseI64Big } from '../util/numbers.ts';
import { ERR_NOT_INTEGER, errInvalidExpire } from './errors.ts';
import type { ShardContext } from './types.ts';

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;

export const UNIT_SECONDS = 1;
export const UNIT_MS = 2;

/**
 * Parses an expiry argument as Redis's getExpireMillisecondsOrReply does:
 * not an integer -> ERR value is not an integer; <= 0 or overflowing -> ERR
 * invalid expire time in '<cmd>' command. Returns the absolute unix ms time, or
 * NaN after writing the error reply.
 */
export function parseExpireArg(c: ShardContext, i: number, unit: number, relative: boolean, cmd: string): number {
  const a = c.args;
  const v = parseI64Big(a.u8, a.off[i], a.len[i]);
  if (v === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return NaN;
  }
  if (v <= 0n || (unit === UNIT_SECONDS && v > I64_MAX / 1000n)) {
    c.reply.error(errInvalidExpire(cmd));
    return NaN;
  }
  let ms = unit === UNIT_SECONDS ? v * 1000n : v;
  if (relative) {
    ms += BigInt(c.ks.now);
    if (ms > I64_MAX) {
      c.reply.error(errInvalidExpire(cmd));
      return NaN;
    }
  }
  return Number(ms);
}

/**
 * Parses the time argument of EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT as Redis's
 * expireGenericCommand does: any signed 64-bit integer (negative allowed: the
 * key then expires at once); only an overflow of the unit conversion or of
 * basetime + when is an invalid expire time. basetime: the command time for the
 * relative forms, 0 for the *AT forms. Returns the absolute unix ms time as a
 * bigint, or null after writing the error reply.
 */
export function parseExpireTime(c: ShardContext, i: number, unit: number, basetime: number, cmd: string): bigint | null {
  const a = c.args;
  let when = parseI64Big(a.u8, a.off[i], a.len[i]);
  if (when === null) {
    c.reply.error(ERR_NOT_INTEGER);
    return null;
  }
  if (unit === UNIT_SECONDS) {
    if (when > I64_MAX / 1000n || when < I64_MIN / 1000n) {
      c.reply.error(errInvalidExpire(cmd));
      return null;
    }
    when *= 1000n;
  }
  const base = BigInt(basetime);
  if (when > I64_MAX - base) {
    c.reply.error(errInvalidExpire(cmd));
    return null;
  }
  return when + base;
}
