import type { Coordinator } from '../front-command.ts';

/** Keyed commands that span shards and need several phases, by name. */
export const coordinators: ReadonlyMap<string, Coordinator> = new Map<string, Coordinator>([]);
