import type { NormalizedConfig } from '../config';
import { normalizeHealthConfig, type NormalizedHealthConfig } from './health-config';
import { withConnectTimeout } from './node-connection';
import { PrimaryHosts } from './primary-hosts';
import { splitHosts } from './split-hosts';

/** The connections the nodes' pools are built with, and what health needs to know of them. */
export interface NodeConnections {
  /** The primary's knex `connection` (a provider function for a multi-host primary). */
  primary: unknown;
  /** Each replica's knex `connection`, in `config.replicas` order. */
  replicas: unknown[];
  /** Set when the primary lists several hosts. */
  hosts: PrimaryHosts | undefined;
  health: NormalizedHealthConfig;
}

const prepared = new WeakMap<NormalizedConfig, NodeConnections>();

/**
 * Validates the `health` / `discoverRoles` keys (eagerly: before any pool exists) and
 * derives each node's pool connection: the connect timeout added, and a primary listed
 * with several hosts turned into a provider that follows the host answering read-write.
 * The health installer finds the result again with {@link nodeConnectionsOf}.
 *
 * @example
 * const c = prepareNodeConnections(normalizeConfig(config));
 * new ClientPG({ ...knexConfig, connection: c.primary });
 */
export function prepareNodeConnections(n: NormalizedConfig): NodeConnections {
  const health = normalizeHealthConfig(n.raw);
  const hostList = splitHosts(n.primary.connection);
  const hosts = hostList === undefined
    ? undefined
    : new PrimaryHosts(hostList, { timeoutMs: health.timeoutMs, connectTimeoutMs: health.connectTimeoutMs });
  const result: NodeConnections = {
    primary: hosts === undefined ? withConnectTimeout(n.primary.connection, health.connectTimeoutMs) : hosts.provider(),
    replicas: n.replicas.map((r) => withConnectTimeout(r.connection, health.connectTimeoutMs)),
    hosts,
    health,
  };
  prepared.set(n, result);
  return result;
}

/**
 * What {@link prepareNodeConnections} made for this config (it prepares now if nothing did).
 *
 * @example
 * const { health, hosts } = nodeConnectionsOf(normalizedConfig);
 */
export function nodeConnectionsOf(n: NormalizedConfig): NodeConnections {
  return prepared.get(n) ?? prepareNodeConnections(n);
}
