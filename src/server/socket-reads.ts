import net from 'node:net';

/**
 * Reading a client's socket into one buffer that the front thread reuses.
 *
 * Node's default read path mallocs 64 KiB for every read, wraps what was read in
 * a new ArrayBuffer and Buffer (an ArrayBuffer the sweeper must later finalize
 * and free), and passes it through the Readable stream machinery to a 'data'
 * listener. A socket made with `onread: { buffer, callback }` (Node's documented
 * option, net.Socket) reads into the caller's buffer instead and calls back
 * directly. Node offers that option only to sockets a program creates, not to
 * those a server accepts, so this sets up an accepted socket exactly as the
 * Socket constructor does for that option: the same two fields, then
 * `useUserBuffer` on the handle before its first read. The fields are found by
 * name on a probe socket; where this Node version does not have them, accepted
 * sockets keep the 'data' path (`readSocket` passes its chunks on).
 *
 * One buffer serves every socket of the thread: a read and its callback run
 * back to back on this thread, and the callback's consumer (the request parser)
 * keeps no reference to the bytes once it returns (RequestParser.compact copies
 * what is still pending).
 */

/** 64 KiB: what Node asks libuv for per read (a bigger read just takes several). */
const READ_BUFFER_BYTES = 64 * 1024;

interface UserBufferHandle {
  useUserBuffer(buf: Uint8Array): void;
}

type SocketFields = Record<symbol, unknown>;

function findSymbols(): { buffer: symbol; callback: symbol } | null {
  const probe = new net.Socket();
  try {
    const own = Object.getOwnPropertySymbols(probe);
    const buffer = own.find((s) => s.description === 'kBuffer');
    const callback = own.find((s) => s.description === 'kBufferCb');
    if (buffer === undefined || callback === undefined) return null;
    const fields = probe as unknown as SocketFields;
    // Both start as null on a socket made without `onread`: anything else means another layout.
    if (fields[buffer] !== null || fields[callback] !== null) return null;
    return { buffer, callback };
  } finally {
    probe.destroy();
  }
}

const symbols = findSymbols();
let readBuffer: Buffer | null = null;

/** True when accepted sockets can read into the front buffer on this Node version. */
export const frontBufferReads = symbols !== null;

/** Called with what one read brought: the first `n` bytes of `buf`, valid only during the call. */
export type OnRead = (buf: Buffer, n: number) => void;

/**
 * Makes `socket` (just accepted, not yet read from) deliver its bytes to
 * `onRead` in the thread's read buffer: the buffer itself and the count, not a
 * view made per read (a new object stored into long-lived ones costs a write
 * barrier per command). Where that cannot be done, the socket's 'data' events
 * are passed on the same way.
 */
export function readSocket(socket: net.Socket, onRead: OnRead): void {
  const handle = (socket as unknown as { _handle: Partial<UserBufferHandle> | null })._handle;
  if (symbols === null || handle === null || typeof handle.useUserBuffer !== 'function') {
    socket.on('data', (chunk: Buffer) => onRead(chunk, chunk.length));
    return;
  }
  if (readBuffer === null) readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  const buf = readBuffer;
  const fields = socket as unknown as SocketFields;
  fields[symbols.buffer] = buf;
  fields[symbols.callback] = (nread: number): void => {
    onRead(buf, nread);
  };
  handle.useUserBuffer(buf);
}
