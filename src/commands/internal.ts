import type { CommandSpec } from './types.ts';

export const internalCommands: CommandSpec[] = [];
