import { Client } from 'pg';
import type { Cluster } from '../test/support/cluster';

/**
 * Transactions each node has counted in `pg_stat_database` (commits + rollbacks of the
 * bench database): the servers' own account of who served what.
 *
 * @example
 * const before = await nodeTransactions(cluster); // { primary: 1234, replica1: 567, … }
 */
export async function nodeTransactions(cluster: Cluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  await Promise.all(cluster.nodes.map(async (n) => {
    const client = new Client({ connectionString: n.url, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      const r = await client.query('select (xact_commit + xact_rollback)::float8 as x from pg_stat_database where datname = current_database()');
      out[n.name] = Number(r.rows[0]?.x ?? 0);
    } finally {
      await client.end();
    }
  }));
  return out;
}

/**
 * Reads the counters until they stop moving. Backends flush their statistics when they
 * exit (or within about a second under load, up to 10 s when idle): close the clients
 * first, then settle. Each reading counts one transaction per node (its own), subtracted.
 */
export async function settledTransactions(cluster: Cluster, maxWaitMs = 4000): Promise<Record<string, number>> {
  const deadline = Date.now() + maxWaitMs;
  let last = await nodeTransactions(cluster);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    const next = await nodeTransactions(cluster);
    // Only our own reading moved: +1 per node.
    if (Object.keys(next).every((k) => next[k]! - last[k]! <= 1)) return next;
    last = next;
  }
  return last;
}
