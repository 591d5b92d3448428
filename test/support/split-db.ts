import { splitKnex, type SplitKnex, type SplitKnexConfig } from '../../lib';
import { getTestCluster, type Cluster } from './cluster';

/** Every instance made by `makeDb`, destroyed by `destroyAll` (call it in `after`). */
const open: SplitKnex[] = [];

/**
 * A splitKnex instance on the shared test cluster: the primary and its replicas by name,
 * with the replicas' names `replica1`, `replica2` (as the harness calls them).
 *
 * @example
 * const db = makeDb({ routing: { strategy: 'random' } });
 */
export function makeDb(extra: Partial<SplitKnexConfig> = {}, cluster: Cluster = getTestCluster()): SplitKnex {
  const db = splitKnex(splitConfigFor(cluster, { pool: { min: 0, max: 4 }, ...extra }));
  open.push(db);
  return db;
}

/**
 * The splitKnex config for a harness cluster: its primary, its replicas by name, and `extra`.
 *
 * @example
 * const db = splitKnex(splitConfigFor(cluster, { sticky: { mode: 'none' } }));
 */
export function splitConfigFor(cluster: Cluster, extra: Partial<SplitKnexConfig> = {}): SplitKnexConfig {
  return {
    client: 'pg',
    connection: cluster.primary.url,
    replicas: cluster.replicas.map((r) => ({ name: r.name, connection: r.url })),
    ...extra,
  };
}

/** Destroys every instance `makeDb` made. */
export async function destroyAll(): Promise<void> {
  const all = open.splice(0);
  await Promise.all(all.map((db) => db.destroy()));
}

/** The SQL that asks the database which server answers: its port and whether it is a standby. */
export const WHERE_AM_I = 'inet_server_port() as port, pg_is_in_recovery() as standby';

/** Maps a port to the harness's node name. */
export function nodeByPort(port: number, cluster: Cluster = getTestCluster()): string {
  const node = cluster.nodes.find((n) => n.port === Number(port));
  if (node === undefined) throw new Error(`no node on port ${port}`);
  return node.name;
}
