// The anchor for "nothing on top of Node's own cost": one thread, node:net, a Map, RESP for GET and
// SET (plus PING, CONFIG GET -> empty array, FLUSHALL, so that redis-benchmark and memtier run).
//   node bench/minimal-node-server.ts [port]   (prints "Ready to accept connections")
// Arguments are parsed as offsets into the read buffer (no Buffer per argument), and a value is
// kept as its whole bulk reply ("$3\r\nfoo\r\n"), so GET writes one stored buffer.
import net from 'node:net';

const db = new Map<string, Buffer>();
const [OK, NIL, PONG, EMPTY] = ['+OK\r\n', '$-1\r\n', '+PONG\r\n', '*0\r\n'].map((s) => Buffer.from(s)) as Buffer[];
const at: number[] = []; // start, end of each argument of the command being parsed
function run(b: Buffer, n: number, out: Buffer[]): void {
  const c = (b[at[0] as number] as number) | 0x20; // first letter, lower case; then the length tells the command apart
  const len = (at[1] as number) - (at[0] as number);
  const key = (): string => b.toString('latin1', at[2], at[3]);
  if (c === 0x67 && len === 3 && n === 2) out.push(db.get(key()) ?? (NIL as Buffer));
  else if (c === 0x73 && len === 3 && n >= 3) {
    const head = `$${(at[5] as number) - (at[4] as number)}\r\n`;
    const v = Buffer.allocUnsafe(head.length + (at[5] as number) - (at[4] as number) + 2);
    v.write(head, 0, 'latin1'), b.copy(v, head.length, at[4], at[5]), v.write('\r\n', v.length - 2, 'latin1');
    db.set(key(), v), out.push(OK as Buffer);
  } else if (c === 0x70 && len === 4) out.push(PONG as Buffer);
  else if (c === 0x63 && len === 6) out.push(EMPTY as Buffer); // CONFIG (GET): nothing configured
  else if (c === 0x66 && len >= 7) db.clear(), out.push(OK as Buffer); // FLUSHALL / FLUSHDB
  else out.push(Buffer.from(`-ERR unknown command '${b.toString('latin1', at[0], at[1])}'\r\n`));
}
/** The decimal number at b[from] up to the next '\r'; sets `end` to the index of the '\n' after it; -1 if incomplete. */
let end = 0;
function int(b: Buffer, from: number): number {
  let v = 0;
  for (let i = from; i < b.length; i++) if (b[i] === 13) return i + 1 < b.length ? ((end = i + 1), v) : -1; else v = v * 10 + (b[i] as number) - 48;
  return -1;
}
net.createServer({ noDelay: true }, (sock) => {
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const out: Buffer[] = [];
    let pos = 0;
    for (;;) { // one "*n\r\n($len\r\nbytes\r\n)*n" command per turn; stop at an incomplete one
      const n = buf[pos] === 42 ? int(buf, pos + 1) : -1;
      if (n < 0) break;
      let p = end + 1, k = 0;
      for (let len; k < n && (len = int(buf, p + 1)) >= 0 && end + 3 + len <= buf.length; k++, p = end + 3 + len) at[2 * k] = end + 1, at[2 * k + 1] = end + 1 + len;
      if (k < n) break;
      run(buf, n, out), (pos = p);
    }
    buf = buf.subarray(pos);
    if (out.length > 0) sock.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
  });
  sock.on('error', () => sock.destroy());
}).listen(Number(process.argv[2] ?? 6390), '127.0.0.1', () => console.log('Ready to accept connections'));
