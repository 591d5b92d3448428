import { callbackTopology } from './callback-topology';
import type { NormalizedDiscoverConfig } from './discover-config';
import { PatroniTopology } from './patroni-topology';
import { ReplicationTopology } from './replication-topology';
import type { TopologySource } from './topology-source';

/** What the replication source needs of the instance. */
export interface WriterAccess {
  /** The configured primary's name (the queried node's name in the topology). */
  name: string;
  /** Runs SQL on the current writer's background connection. */
  query: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>;
  /** The configured primary's `host:port`, when known. */
  address: string | undefined;
}

/**
 * The topology source a `discover` section names.
 *
 * @example
 * const source = topologySourceOf(normalizeDiscoverConfig(config)!, writerAccess);
 */
export function topologySourceOf(d: NormalizedDiscoverConfig, writer: WriterAccess): TopologySource {
  switch (d.source) {
    case 'patroni':
      return new PatroniTopology({ urls: d.patroni!, timeoutMs: d.timeoutMs });
    case 'callback':
      return callbackTopology(d.callback!);
    case 'replication': {
      const [host, port] = splitAddress(writer.address);
      return new ReplicationTopology({ query: writer.query, primary: { name: writer.name, host, port }, hosts: d.replication!.hosts });
    }
  }
}

// The primary's own line in the topology; an unknown address matches no member (harmless).
function splitAddress(address: string | undefined): [string, number] {
  const i = address?.lastIndexOf(':') ?? -1;
  if (address === undefined || i < 0) return ['unknown', 5432];
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
