// The anchor for "nothing on top of Node's own cost": one thread, node:net, a Map, RESP for GET and
// SET (plus PING, CONFIG GET -> empty array, FLUSHALL, so that redis-benchmark and memtier run).
//   node bench/minimal-node-server.ts [port]   (prints "Ready to accept connections")
// A value is kept as its whole bulk reply ("$3\r\nfoo\r\n"), so GET writes one stored buffer.
import net from 'node:net';

const db = new Map<string, Buffer>();
const [OK, NIL, PONG, EMPTY] = ['+OK\r\n', '$-1\r\n', '+PONG\r\n', '*0\r\n'].map((s) => Buffer.from(s)) as Buffer[];
function run(a: Buffer[], out: Buffer[]): void {
  const c = (a[0]?.[0] ?? 0) | 0x20; // first letter, lower case; then the length tells the command apart
  const n = a[0]?.length ?? 0;
  if (c === 0x67 && n === 3 && a.length === 2) out.push(db.get((a[1] as Buffer).toString('latin1')) ?? (NIL as Buffer));
  else if (c === 0x73 && n === 3 && a.length >= 3) {
    const v = a[2] as Buffer;
    db.set((a[1] as Buffer).toString('latin1'), Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')]));
    out.push(OK as Buffer);
  } else if (c === 0x70 && n === 4) out.push(PONG as Buffer);
  else if (c === 0x63 && n === 6) out.push(EMPTY as Buffer); // CONFIG (GET): nothing configured
  else if (c === 0x66 && n >= 7) db.clear(), out.push(OK as Buffer); // FLUSHALL / FLUSHDB
  else out.push(Buffer.from(`-ERR unknown command '${a[0]?.toString('latin1') ?? ''}'\r\n`));
}
/** The decimal number at buf[from] up to the next '\r'; [value, index of the '\n' after it], or null if incomplete. */
function int(buf: Buffer, from: number): [number, number] | null {
  let v = 0;
  for (let i = from; i < buf.length; i++) if (buf[i] === 13) return i + 1 < buf.length ? [v, i + 1] : null; else v = v * 10 + (buf[i] as number) - 48;
  return null;
}
net.createServer({ noDelay: true }, (sock) => {
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const out: Buffer[] = [];
    let pos = 0;
    for (;;) { // one "*n\r\n($len\r\nbytes\r\n)*n" command per turn; stop at an incomplete one
      const head = buf[pos] === 42 ? int(buf, pos + 1) : null;
      if (head === null) break;
      const args: Buffer[] = [];
      let p = head[1] + 1;
      for (let len; args.length < head[0] && (len = int(buf, p + 1)) !== null && len[1] + 3 + len[0] <= buf.length; p = len[1] + 3 + len[0]) {
        args.push(buf.subarray(len[1] + 1, len[1] + 1 + len[0]));
      }
      if (args.length < head[0]) break;
      run(args, out), (pos = p);
    }
    buf = buf.subarray(pos);
    if (out.length > 0) sock.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
  });
  sock.on('error', () => sock.destroy());
}).listen(Number(process.argv[2] ?? 6390), '127.0.0.1', () => console.log('Ready to accept connections'));
