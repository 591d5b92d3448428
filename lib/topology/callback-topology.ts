import { checkTopology } from './check-topology';
import { TopologyError } from './topology-error';
import type { Topology, TopologyMember, TopologySource } from './topology-source';

/** What a topology callback may return: a {@link Topology} or just its members. */
export type TopologyCallbackResult = Topology | TopologyMember[];

/**
 * A topology source backed by the application's own function (a service registry, a
 * Kubernetes endpoint list, a config file it re-reads). Each `read()` calls `fn` once and
 * checks the answer ({@link checkTopology}); a throwing or rejecting `fn` becomes a
 * {@link TopologyError} whose `cause` is the original error. Its message is not copied,
 * since it may hold a connection string.
 *
 * @example
 * const source = callbackTopology(async () => (await registry.list('pg')).map((s) => ({
 *   name: s.id, host: s.address, port: s.port, role: s.tags.includes('primary') ? 'primary' : 'replica', state: 'running',
 * })));
 */
export function callbackTopology(fn: () => TopologyCallbackResult | Promise<TopologyCallbackResult>): TopologySource {
  if (typeof fn !== 'function') throw new TypeError('callbackTopology(fn): fn must be a function');
  return {
    kind: 'callback',
    async read(): Promise<Topology> {
      let value: unknown;
      try {
        value = await fn();
      } catch (err) {
        throw new TopologyError('split-knex: the topology callback failed (see cause)', { cause: err });
      }
      return checkTopology(value, 'callback');
    },
  };
}
