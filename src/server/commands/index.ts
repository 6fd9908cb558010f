import type { FrontCommandSpec } from '../front-command.ts';
import { connectionCommands } from './connection.ts';
import { keyspaceCommands } from './keyspace.ts';
import { serverCommands } from './server-cmds.ts';

/** Every command the front thread runs itself. */
export const frontCommands: readonly FrontCommandSpec[] = [
  ...connectionCommands,
  ...keyspaceCommands,
  ...serverCommands,
];
