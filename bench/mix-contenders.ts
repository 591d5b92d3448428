import knex, { type Knex } from 'knex';
import type { SplitKnex, SplitKnexConfig } from '../lib';
import { splitKnex } from './library';
import type { Cluster } from '../test/support/cluster';

/** What a contender of the mixed workload must do; each slice opens a fresh one. */
export interface MixClient {
  /** A read with a few ms of server time. */
  read(id: number): Promise<unknown>;
  /** A write with a few ms of server time. */
  write(id: number): Promise<unknown>;
  /** Read-your-writes probe: a light write, then an immediate read of the same row through the read path. */
  rywWrite(id: number, v: number): Promise<unknown>;
  rywRead(id: number): Promise<number | undefined>;
  /** split-knex only: statements per node by its own counters, and reads sent to the primary by cause. */
  ownStats?(): { perNode: Record<string, number>; primaryReads: Record<string, number>; consistency?: unknown };
  close(): Promise<void>;
}

/** A contender: a name, how it is deployed, and how to open a client. */
export interface MixContender {
  name: string;
  /** One line on how it is deployed, for the report. */
  setup: string;
  open(): Promise<MixClient>;
}

/** Server time each statement of the mix spends (pg_sleep), seconds. */
export const SERVER_SECONDS = 0.003;

// The same statements for every contender: knex builders, so split-knex classifies what it
// would see in an application; the proxies see identical SQL text. With `serverSeconds` 0
// (nodes confined by CPU caps) the statements are plain point reads and updates.
function ops(readQ: Knex, writeQ: Knex, serverSeconds: number): Omit<MixClient, 'close'> {
  if (serverSeconds === 0) {
    return {
      read: (id) => readQ('bench_mix').select('id', 'v').where({ id }),
      write: (id) => writeQ('bench_mix').where({ id }).increment('v', 1),
      rywWrite: (id, v) => writeQ('bench_ryw').where({ id }).update({ v }),
      rywRead: async (id) => ((await readQ('bench_ryw').select('v').where({ id }).first()) as { v: number } | undefined)?.v,
    };
  }
  return {
    read: (id) => readQ('bench_mix').select('id', 'v', readQ.raw(`pg_sleep(${serverSeconds})`)).where({ id }),
    write: (id) => writeQ.raw(`update bench_mix set v = v + 1 from pg_sleep(${serverSeconds}) where id = ?`, [id]),
    rywWrite: (id, v) => writeQ('bench_ryw').where({ id }).update({ v }),
    rywRead: async (id) => ((await readQ('bench_ryw').select('v').where({ id }).first()) as { v: number } | undefined)?.v,
  };
}

const url = (port: number, database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;

/** Plain knex with all traffic on the primary: the baseline. */
export function plainPrimary(cluster: Cluster, poolPerNode: number, serverSeconds = SERVER_SECONDS): MixContender {
  return {
    name: 'knex → primary',
    setup: `plain knex, pool ${poolPerNode}, everything on the primary`,
    async open() {
      const q = knex({ client: 'pg', connection: cluster.primary.url, pool: { min: 0, max: poolPerNode } });
      return { ...ops(q, q, serverSeconds), close: () => q.destroy() };
    },
  };
}

/**
 * split-knex over the primary and every replica, with the same pool per node. With
 * `perRequest`, every operation runs as one request of a web application would, in its own
 * `db.runInContext()` scope; the read-your-writes probe writes in one request and reads in
 * the next with the consistency token the first handed out (a cookie, after a redirect).
 */
export function splitKnexContender(cluster: Cluster, poolPerNode: number, label: string, extra: Partial<SplitKnexConfig> = {}, serverSeconds = SERVER_SECONDS, perRequest = false): MixContender {
  const config = Object.keys(extra).length === 0 ? ', default config' : `, ${JSON.stringify(extra)}`;
  return {
    name: label,
    setup: `splitKnex, ${cluster.replicas.length} replicas, pool ${poolPerNode} per node${config}${perRequest ? '; each operation a request in its own runInContext() scope, the read-your-writes probe reading with the token its write handed out' : ''}`,
    async open() {
      const db: SplitKnex = splitKnex({
        client: 'pg',
        connection: cluster.primary.url,
        replicas: cluster.replicas.map((r) => ({ name: r.name, connection: r.url })),
        pool: { min: 0, max: poolPerNode },
        ...extra,
      });
      const base = ops(db, db, serverSeconds);
      let token: string | undefined;
      const scoped: Omit<MixClient, 'close'> = !perRequest ? base : {
        read: (id) => db.runInContext(() => base.read(id)),
        write: (id) => db.runInContext(() => base.write(id)),
        rywWrite: (id, v) => db.runInContext(async () => {
          await base.rywWrite(id, v);
          token = db.consistencyToken();
        }),
        rywRead: (id) => db.runInContext(() => base.rywRead(id), { token }),
      };
      return {
        ...scoped,
        ownStats() {
          const s = db.stats();
          return { perNode: Object.fromEntries(s.nodes.map((n) => [n.name, n.queries])), primaryReads: s.primaryReads, consistency: s['consistency'] };
        },
        close: () => db.destroy(),
      };
    },
  };
}

/** Everything through pgpool-II (it parses SQL and balances SELECTs to the standbys). */
export function pgpoolContender(cluster: Cluster, port: number, pool: number, version: string, serverSeconds = SERVER_SECONDS): MixContender {
  return {
    name: 'pgpool-II',
    setup: `${version}, load_balance_mode on, knex pool ${pool} to pgpool`,
    async open() {
      const q = knex({ client: 'pg', connection: url(port, cluster.primary.database), pool: { min: 0, max: pool } });
      return { ...ops(q, q, serverSeconds), close: () => q.destroy() };
    },
  };
}

/** The classic tutorial split: reads to HAProxy's role-aware read port, writes through PgBouncer. */
export function haproxyPgBouncerContender(cluster: Cluster, readPort: number, writePort: number, readPool: number, writePool: number, versions: string, serverSeconds = SERVER_SECONDS): MixContender {
  return {
    name: 'HAProxy + PgBouncer',
    setup: `${versions}; the application picks: reads → HAProxy read port (knex pool ${readPool}), writes → PgBouncer transaction mode (knex pool ${writePool})`,
    async open() {
      const reads = knex({ client: 'pg', connection: url(readPort, cluster.primary.database), pool: { min: 0, max: readPool } });
      const writes = knex({ client: 'pg', connection: url(writePort, cluster.primary.database), pool: { min: 0, max: writePool } });
      return { ...ops(reads, writes, serverSeconds), close: async () => { await Promise.all([reads.destroy(), writes.destroy()]); } };
    },
  };
}
