// Container commands on the front thread (CLIENT, CONFIG, COMMAND, ...): the
// subcommand lookup, its arity and authentication checks, per-subcommand
// statistics, and the HELP reply format, all as Redis 7 does them.

import { ERR_NOAUTH, errArity } from '../commands/errors.ts';
import type { CommandSpec } from '../commands/types.ts';
import { subcommandFullName, subcommandShortName } from './command-docs.ts';
import type { FrontCommandSpec, FrontContext, FrontHandler } from './front-command.ts';

/** A subcommand run by the front thread. `name` is the short name ("id") or the full one ("client|id"). */
export interface FrontSubcommandSpec extends CommandSpec {
  readonly front: FrontHandler;
  readonly noAuth?: boolean;
}

/**
 * Containers whose statistics this module records per subcommand: INFO
 * commandstats shows "cmdstat_client|id" lines for them and hides the
 * container's own line (Redis never counts calls on a container).
 */
export const trackedContainers = new Set<string>();

/** ASCII-only upper case, like sdstoupper(). */
export function asciiUpper(s: string): string {
  return s.replace(/[a-z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 32));
}

/** Error text with CR/LF mapped to spaces one by one (Redis's sdsmapchars), for texts quoting user input. */
export function safeErrorText(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

/** Runs a handler and counts it as failed when it replied with an error synchronously. */
function runCounted(c: FrontContext, name: string, fn: FrontHandler): void {
  const stats = c.srv.stats;
  const before = stats.errorReplies;
  fn(c);
  if (stats.errorReplies > before) stats.command(name).failed++;
}

/** Wraps a top-level front handler so errors it replies count as failed_calls in INFO commandstats. */
export function counted(name: string, fn: FrontHandler): FrontHandler {
  return (c) => runCounted(c, name, fn);
}

/**
 * Builds a container command. The container itself is marked noAuth so that,
 * like Redis, an unknown subcommand or a wrong arity is reported before the
 * NOAUTH check, which then happens here. `base` runs when no subcommand is
 * given (COMMAND alone); other containers have arity -2.
 */
export function containerCommand(
  spec: Omit<FrontCommandSpec, 'front' | 'noAuth' | 'subcommands'>,
  subs: readonly FrontSubcommandSpec[],
  base?: FrontHandler,
): FrontCommandSpec {
  const table = new Map<string, FrontSubcommandSpec>();
  for (const s of subs) table.set(subcommandShortName(s), s);
  trackedContainers.add(spec.name);
  const front: FrontHandler = (c) => {
    const { argv, client, srv } = c;
    if (argv.count < 2) {
      if (!client.authenticated) {
        srv.stats.command(spec.name).rejected++;
        srv.replyError(client, c.seq, ERR_NOAUTH);
        return;
      }
      if (base !== undefined) runCounted(c, spec.name, base);
      else srv.replyError(client, c.seq, errArity(spec.name));
      return;
    }
    const sub = table.get(argv.lower(1));
    if (sub === undefined) {
      // '%.128s' of a C string: a NUL byte ends the name; the bytes go out as they came.
      const name = argv.str(1).split('\0', 1)[0];
      srv.replyError(client, c.seq, safeErrorText(
        `ERR unknown subcommand '${name.length > 128 ? name.slice(0, 128) : name}'. Try ${asciiUpper(argv.str(0))} HELP.`), true);
      return;
    }
    const full = subcommandFullName(spec.name, sub);
    if ((sub.arity > 0 && argv.count !== sub.arity) || (sub.arity < 0 && argv.count < -sub.arity)) {
      srv.stats.command(full).rejected++;
      srv.replyError(client, c.seq, errArity(full));
      return;
    }
    if (!client.authenticated && sub.noAuth !== true) {
      srv.stats.command(full).rejected++;
      srv.replyError(client, c.seq, ERR_NOAUTH);
      return;
    }
    client.lastCommand = full;
    const t0 = performance.now();
    runCounted(c, full, sub.front);
    // Looked up afterwards: CONFIG RESETSTAT clears the table and then counts itself, like Redis.
    const stat = srv.stats.command(full);
    stat.calls++;
    stat.usec += Math.round((performance.now() - t0) * 1000);
  };
  return { ...spec, subcommands: subs, noAuth: true, front };
}

/** The HELP reply: a header naming the command, the given lines, and the HELP entry, as status replies. */
export function helpReply(c: FrontContext, lines: readonly string[]): Buffer {
  const all = [
    `${asciiUpper(c.argv.str(0))} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Prints this help.',
  ];
  return Buffer.from(`*${all.length}\r\n${all.map((l) => `+${l}\r\n`).join('')}`, 'utf8');
}
