import type { BoundTarget } from '../route/node';
import type { Pipeline } from '../pipeline';
import type { TransactionWrites } from '../route/transaction-writes';
import type { KnexClient, PooledConnection } from './knex-internals';

// String keys, not symbols: knex's `withUserParams()` clones a client with lodash `merge`,
// which copies string keys only (class instances by reference).
/** Where a facade client keeps its pipeline (inherited by `db.primary`/`db.replica()` clients). */
export const PIPELINE = '_splitKnexPipeline';
/** Where a bound client (`db.primary`, `db.replica(name)`) keeps its target. */
export const BOUND = '_splitKnexBound';
/** The mark an open transaction puts on its connection (knex's transaction clients carry no marks of ours). */
export const TRANSACTION_OF_CONNECTION = Symbol('split-knex:transaction');

export type { BoundTarget };

/** What an open transaction tells the statements that run on its connection. */
export interface OpenTransaction {
  pipeline: Pipeline;
  writes: TransactionWrites;
}

type Marked = KnexClient & { [PIPELINE]?: Pipeline; [BOUND]?: BoundTarget };

/** The pipeline of a facade or bound client; undefined for knex's transaction clients. */
export function pipelineOf(client: KnexClient): Pipeline | undefined {
  return (client as Marked)[PIPELINE];
}

/** The bound target of a client, if it is `db.primary` or `db.replica(…)`. */
export function boundNodeOf(client: KnexClient): BoundTarget | undefined {
  return (client as Marked)[BOUND];
}

/** The open transaction on a connection, if any. */
export function transactionOf(connection: PooledConnection): OpenTransaction | undefined {
  return connection[TRANSACTION_OF_CONNECTION] as OpenTransaction | undefined;
}
