import type { CommandSpec } from './types.ts';

export const bitmapCommands: CommandSpec[] = [];
