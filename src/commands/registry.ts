import { internalCommands } from './internal.ts';
import { keyCommands } from './keys.ts';
import { stringCommands } from './strings.ts';
import { bitmapCommands } from './bitmaps.ts';
import { debugCommands } from './debug.ts';
import { listCommands } from './lists.ts';
import { zsetCommands } from './zsets.ts';
import { hyperloglogCommands } from './hyperloglog.ts';
import { hashCommands } from './hashes.ts';
import { sortCommands } from './sort.ts';
import { setCommands } from './sets.ts';
import type { CommandSpec } from './types.ts';

/**
 * Every command that executes on a shard, in one ordered table. A command's
 * index here is its opcode in request records, so the front thread and the
 * workers must build the same list: both import this module.
 */
export const SHARD_COMMANDS: readonly CommandSpec[] = [
  ...stringCommands,
  ...bitmapCommands,
  ...keyCommands,
  ...listCommands,
  ...zsetCommands,
  ...hyperloglogCommands,
  ...hashCommands,
  ...sortCommands,
  ...setCommands,
  ...internalCommands,
  ...debugCommands,
];

/**
 * 1 for the opcodes of commands flagged denyoom. The front counts the bytes of
 * their records as sent and the shard as done (STAT_WRITE_BYTES_DONE): both must
 * count the same records, so both read this one table.
 */
export const DENYOOM_OPCODES: Uint8Array = Uint8Array.from(SHARD_COMMANDS, (spec) => (spec.flags.includes('denyoom') ? 1 : 0));

const opcodes = new Map<string, number>();
SHARD_COMMANDS.forEach((spec, i) => {
  if (opcodes.has(spec.name)) throw new Error(`command declared twice: ${spec.name}`);
  opcodes.set(spec.name, i);
});

export function opcodeOf(name: string): number {
  const op = opcodes.get(name);
  if (op === undefined) throw new Error(`not a shard command: ${name}`);
  return op;
}
