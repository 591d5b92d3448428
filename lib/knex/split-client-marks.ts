import type { Node } from '../route/node';
import type { SplitCore } from '../split-core';
import type { KnexClient } from './knex-internals';

// String keys, not symbols: knex's `withUserParams()` clones a client with lodash `merge`,
// which copies string keys only (class instances by reference).
/** Where a facade client keeps its core (inherited by `db.primary`/`db.replica()` clients). */
export const CORE = '_splitKnexCore';
/** Where a bound client (`db.primary`, `db.replica(name)`) keeps its target. */
export const BOUND = '_splitKnexBound';

/** What a bound client is pinned to: one node, whichever node is the primary now, or any eligible replica. */
export type BoundTarget = Node | 'primary' | 'replica';

type Marked = KnexClient & { [CORE]?: SplitCore; [BOUND]?: BoundTarget };

/** The core of a facade or bound client; undefined for knex's transaction clients. */
export function coreOf(client: KnexClient): SplitCore | undefined {
  return (client as Marked)[CORE];
}

/** The bound target of a client, if it is `db.primary` or `db.replica(…)`. */
export function boundNodeOf(client: KnexClient, _core?: SplitCore): BoundTarget | undefined {
  return (client as Marked)[BOUND];
}
