import { EventEmitter } from 'events';
import type { Knex } from 'knex';
import { makeKnex, type KnexClient } from './knex-internals';
import { BOUND, type BoundTarget } from './split-client-marks';

const KNEX_EVENTS = ['start', 'query', 'query-error', 'query-response'] as const;

/**
 * A knex instance that shares the facade's client (config, hooks, compiler, pools) but
 * sends everything to one target: `db.primary`, `db.replica(name)`. Its events reach
 * its own listeners and the facade's.
 *
 * @example
 * const primary = boundInstance(facadeClient, primaryNode);
 * await primary('users').where({ id }); // runs on the primary, whatever it is
 *
 * @internal
 */
export function boundInstance(facadeClient: KnexClient, target: BoundTarget): Knex {
  const client = Object.create(facadeClient) as KnexClient & { [BOUND]: BoundTarget };
  // Own listener lists, so makeKnex's listeners do not land on the facade's client.
  EventEmitter.call(client);
  client[BOUND] = target;
  for (const event of KNEX_EVENTS) {
    client.on(event, (...args: unknown[]) => facadeClient.emit(event, ...args));
  }
  return makeKnex(client);
}
