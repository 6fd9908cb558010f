import type { FrontCommandSpec } from '../front-command.ts';
import { connectionCommands } from './connection.ts';

/** Every command the front thread runs itself. */
export const frontCommands: readonly FrontCommandSpec[] = [
  ...connectionCommands,
];
