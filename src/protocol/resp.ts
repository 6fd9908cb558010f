// Small RESP builders for replies the front thread makes itself (rare paths:
// errors, connection commands, merged fan-out replies). Shards use ReplyBuffer.

export function simple(s: string): Buffer {
  return Buffer.from(`+${s}\r\n`, 'latin1');
}

export function error(msg: string): Buffer {
  return Buffer.from(`-${msg.replace(/[\r\n]+/g, ' ')}\r\n`, 'utf8');
}

export function integer(n: number | bigint): Buffer {
  return Buffer.from(`:${n}\r\n`, 'latin1');
}

export function bulk(s: string | Uint8Array): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`, 'latin1'), b, CRLF]);
}

export function nil(resp: number): Buffer {
  return resp === 3 ? NULL3 : NULL_BULK;
}

export function nilArray(resp: number): Buffer {
  return resp === 3 ? NULL3 : NULL_ARRAY;
}

export function arrayHeader(n: number): Buffer {
  return Buffer.from(`*${n}\r\n`, 'latin1');
}

export function array(items: readonly Uint8Array[]): Buffer {
  return Buffer.concat([arrayHeader(items.length), ...items]);
}

/** A map in RESP3, a flat array of pairs in RESP2. */
export function map(resp: number, pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Buffer {
  const head = resp === 3 ? Buffer.from(`%${pairs.length}\r\n`, 'latin1') : arrayHeader(pairs.length * 2);
  return Buffer.concat([head, ...pairs.flatMap(([k, v]) => [k, v])]);
}

/** A set in RESP3, an array in RESP2. */
export function set(resp: number, items: readonly Uint8Array[]): Buffer {
  const head = resp === 3 ? Buffer.from(`~${items.length}\r\n`, 'latin1') : arrayHeader(items.length);
  return Buffer.concat([head, ...items]);
}

/** RESP3 verbatim text, a bulk string in RESP2. */
export function verbatim(resp: number, text: string): Buffer {
  if (resp !== 3) return bulk(text);
  const b = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`=${b.length + 4}\r\ntxt:`, 'latin1'), b, CRLF]);
}

export const CRLF = Buffer.from('\r\n');
export const OK = simple('OK');
export const NULL_BULK = Buffer.from('$-1\r\n');
export const NULL_ARRAY = Buffer.from('*-1\r\n');
export const NULL3 = Buffer.from('_\r\n');
export const EMPTY_ARRAY = Buffer.from('*0\r\n');
