/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
export const SLOWLOG_MAX_ARGC = 32;
export const SLOWLOG_MAX_STRING = 128;

const encoder = new TextEncoder();

/**
 * The arguments as a slow-log entry shows them, as Redis's slowlogCreateEntry
 * cuts them: at most 32 (the last one then says how many more there were),
 * each at most 128 bytes (then "... (N more bytes)"), copied. `arg(i)` gives
 * argument i's bytes (not kept). The shard (for its reply trailer) and the
 * front (for its own commands) both cut with this.
 */
export function slowlogArgs(argc: number, arg: (i: number) => Uint8Array): Uint8Array[] {
  const shown = Math.min(argc, SLOWLOG_MAX_ARGC);
  const out: Uint8Array[] = [];
  for (let i = 0; i < shown; i++) {
    if (shown !== argc && i === shown - 1) {
      out.push(encoder.encode(`... (${argc - shown + 1} more arguments)`));
      break;
    }
    const a = arg(i);
    if (a.length <= SLOWLOG_MAX_STRING) {
      // A copy: `a` may be a Buffer, whose slice() is a view of the request's bytes.
      out.push(new Uint8Array(a));
      continue;
    }
    const more = encoder.encode(`... (${a.length - SLOWLOG_MAX_STRING} more bytes)`);
    const cut = new Uint8Array(SLOWLOG_MAX_STRING + more.length);
    cut.set(a.subarray(0, SLOWLOG_MAX_STRING));
    cut.set(more, SLOWLOG_MAX_STRING);
    out.push(cut);
  }
  return out;
}
