// Redis's shared error replies, spelled once. Texts exclude the leading '-'
// and trailing CRLF; the reply encoder adds them.

export const ERR_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_OVERFLOW = 'ERR increment or decrement would overflow';
export const ERR_NO_SUCH_KEY = 'ERR no such key';
export const ERR_OUT_OF_RANGE = 'ERR index out of range';
export const ERR_DB_INDEX = 'ERR DB index is out of range';
export const ERR_INVALID_DB = 'ERR invalid DB index';
export const ERR_SAME_OBJECT = 'ERR source and destination objects are the same';
export const ERR_BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
export const ERR_BIT_VALUE = 'ERR bit is not an integer or out of range';
export const ERR_STRING_TOO_LONG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
export const ERR_NOAUTH = 'NOAUTH Authentication required.';
export const ERR_OOM = "OOM command not allowed when used memory > 'maxmemory'.";

export function errArity(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}

export function errInvalidExpire(name: string): string {
  return `ERR invalid expire time in '${name}' command`;
}

export function errUnknownSubcommand(sub: string, cmd: string): string {
  return `ERR unknown subcommand '${sub}'. Try ${cmd} HELP.`;
}
