import type { Coordinator } from '../front-command.ts';
import { bitmapCoordinators } from '../coordinators/bitmaps.ts';
import { keyCoordinators } from '../coordinators/keys.ts';
import { listCoordinators } from '../coordinators/lists.ts';
import { sortCoordinators } from '../coordinators/sort.ts';
import { setCoordinators } from '../coordinators/sets.ts';
import { stringCoordinators } from '../coordinators/strings.ts';
import { zsetCoordinators } from '../coordinators/zsets.ts';
import { hyperloglogCoordinators } from '../coordinators/hyperloglog.ts';

/** Keyed commands that span shards and need several phases, by name. */
export const coordinators: ReadonlyMap<string, Coordinator> = new Map<string, Coordinator>([
  ...stringCoordinators,
  ...keyCoordinators,
  ...bitmapCoordinators,
  ...listCoordinators,
  ...zsetCoordinators,
  ...hyperloglogCoordinators,
  ...sortCoordinators,
  ...setCoordinators,
]);
