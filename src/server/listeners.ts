import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { logWarning } from './log.ts';

/**
 * The first stage of a request's path, its sockets: listens on the bound
 * addresses as Redis does and hands every accepted connection to the server
 * (Server.onConnection: a client, its parser, its socket's events). With
 * several front threads every front listens on the same port with
 * SO_REUSEPORT, and the kernel spreads the connections over them.
 */
export class Listeners {
  private open: net.Server[] = [];
  private readonly onConnection: (socket: net.Socket) => void;
  private readonly backlog: () => number;
  /** Several front threads share the port (SO_REUSEPORT). */
  private readonly shared: boolean;
  /** This front checks first that nobody else holds the port (the main thread does). */
  private readonly probes: boolean;

  constructor(onConnection: (socket: net.Socket) => void, backlog: () => number, shared: boolean, probes: boolean) {
    this.onConnection = onConnection;
    this.backlog = backlog;
    this.shared = shared;
    this.probes = probes;
  }

  /**
   * Listens on every address of `bind` as Redis's listenToPort() does: an
   * address with ':' is IPv6 (IPv6-only socket), "*" is every IPv4 address and
   * "::*" every IPv6 one, a '-' prefix marks an address that may be missing
   * (EADDRNOTAVAIL skips it), and an unsupported address family is skipped.
   * Every failure is logged as Redis logs it; any other failure closes what
   * was opened and rejects with a ListenError. Resolves with the number of
   * sockets listening (0: nothing to listen on).
   */
  async start(bind: readonly string[], port: number): Promise<number> {
    if (port === 0) return 0; // Redis: port 0 means no TCP listener
    for (const entry of bind) {
      const optional = entry.startsWith('-');
      const addr = optional ? entry.slice(1) : entry;
      try {
        this.open.push(await this.listenOn(addr, port));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        logWarning(`Warning: Could not create server TCP listening socket ${addr}:${port}: ${listenErrorText(e)}`);
        if (code === 'EADDRNOTAVAIL' && optional) continue;
        if (SKIPPED_LISTEN_ERRORS.has(code)) continue;
        await this.close();
        throw new ListenError(`${addr}:${port}: ${listenErrorText(e)}`);
      }
    }
    return this.open.length;
  }

  private async listenOn(addr: string, port: number): Promise<net.Server> {
    const v6 = addr.includes(':');
    let host: string;
    if (addr === '*') host = '0.0.0.0';
    else if (addr === '::*') host = '::';
    else host = (await lookup(addr, { family: v6 ? 6 : 4 })).address;
    const reusePort = this.shared && port !== 0;
    // SO_REUSEPORT would let a second server take the same port silently: the main thread
    // first binds it alone for a moment, so that a port in use fails as it fails for Redis.
    if (reusePort && this.probes) await probeListen(host, port, v6);
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
      srv.once('error', reject);
      // Several front threads listen on the same port; the kernel spreads the connections (SO_REUSEPORT).
      srv.listen({ host, port, backlog: this.backlog(), ipv6Only: v6, reusePort }, () => {
        srv.off('error', reject);
        srv.on('error', (e) => logWarning(`Error on the listening socket ${addr}:${port}: ${e.message}`));
        resolve(srv);
      });
    });
  }

  /**
   * A listener on an ephemeral loopback port for the start-up warm-up
   * (server/warmup.ts), open only while it runs. Its connections are served
   * exactly as the real listeners' are (same client, parser, pump, sockets):
   * the warm-up is there to run those paths.
   */
  async listenWarmUp(): Promise<net.Server[]> {
    // Through listenOn, as the real listeners, on the IPv4 and (where there is one) the IPv6
    // loopback: what happens for the first time there (measured: the first IPv6 listen) throws
    // away optimised code, and the first client would pay for compiling it again.
    const v4 = await this.listenOn('127.0.0.1', 0);
    try {
      return [v4, await this.listenOn('::1', 0)];
    } catch {
      return [v4];
    }
  }

  close(): Promise<void> {
    const open = this.open.splice(0);
    return Promise.all(open.map((l) => new Promise<void>((resolve) => l.close(() => resolve())))).then(() => {});
  }

  /** The port listened on (the first listener's), 0 when none. */
  get port(): number {
    const a = this.open[0]?.address();
    return a !== null && a !== undefined && typeof a === 'object' ? a.port : 0;
  }

  /** The local addresses listened on, as "ip:port". */
  get addresses(): string[] {
    return this.open.map((l) => {
      const a = l.address();
      return a !== null && typeof a === 'object' ? `${a.address}:${a.port}` : String(a);
    });
  }
}

/** Binds host:port without SO_REUSEPORT and closes it: rejects (EADDRINUSE...) when another socket holds it. */
function probeListen(host: string, port: number, ipv6Only: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host, port, ipv6Only, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Start-up could not listen on a non-optional address (the message names it and why). */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** Errors for which Redis skips an address even when it is not optional (no such protocol or family here). */
const SKIPPED_LISTEN_ERRORS = new Set(['ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EPFNOSUPPORT', 'EAFNOSUPPORT']);

const LISTEN_ERRNO_TEXT: Readonly<Record<string, string>> = {
  EADDRINUSE: 'bind: Address already in use',
  EADDRNOTAVAIL: 'bind: Cannot assign requested address',
  EACCES: 'bind: Permission denied',
  EPERM: 'bind: Operation not permitted',
  EINVAL: 'bind: Invalid argument',
  EAFNOSUPPORT: 'unable to bind socket, errno: 97',
  ENOTFOUND: 'Name or service not known',
  EAI_NONAME: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
};

/** The text Redis's anet layer gives for a listen failure (bind(2)'s strerror, or getaddrinfo's). */
function listenErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code !== undefined ? LISTEN_ERRNO_TEXT[code] : undefined) ?? (e as Error).message;
}

