import * as http from 'node:http';
import type { Cluster, NodeInfo } from './cluster';
import type { ContainerCluster } from './cluster/container-cluster';
import { allocatePorts } from './cluster/free-port';
import { withNodeClient } from './cluster/pg-client';
import { pollUntil } from './cluster/poll';

/** Where the proxies of {@link startProxies} listen on the host (127.0.0.1). */
export interface ProxyEndpoints {
  /** HAProxy: only the node answering `pg_is_in_recovery() = f`. */
  write: NodeInfo;
  /** HAProxy: round-robin over the nodes answering `t`. */
  read: NodeInfo;
  /** PgBouncer in transaction mode in front of the primary. */
  pgbouncer: NodeInfo;
  /** HAProxy's stats page. */
  statsUrl: string;
}

/** Options of {@link startProxies}. */
export interface ProxyOptions {
  /** PgBouncer's `default_pool_size` (default 3). */
  pgbouncerPoolSize?: number;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * Starts split-knex/haproxy (role-aware write and read ports over every node) and
 * split-knex/pgbouncer (transaction mode, in front of the primary) on the network of a
 * container cluster, and waits until each answers a query with the right role. PgBouncer
 * hands out its server connections in turn (`server_round_robin`), so consecutive
 * statements of one client outside a transaction land on different backends.
 *
 * @example
 * const cluster = (await startCluster({ provider: 'containers' })) as ContainerCluster;
 * const { write, read } = await startProxies(cluster);
 * splitKnex({ client: 'pg', connection: write.url, replicas: [{ name: 'haproxy-read', connection: read.url }] });
 */
export async function startProxies(cluster: ContainerCluster, options: ProxyOptions = {}): Promise<ProxyEndpoints> {
  const [writePort, readPort, statsPort, bouncerPort] = (await allocatePorts(4)) as [number, number, number, number];
  const endpoint = (name: string, port: number): NodeInfo => ({
    name,
    role: 'primary',
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: cluster.primary.database,
    url: `postgres://postgres@127.0.0.1:${port}/${cluster.primary.database}`,
  });
  const poolSize = options.pgbouncerPoolSize ?? 3;
  await Promise.all([
    cluster.startSidecar({
      name: 'haproxy',
      image: 'split-knex/haproxy',
      ports: [writePort, readPort, statsPort],
      env: {
        // Nodes by their network alias and the port they listen on inside their container.
        NODES: cluster.nodes.map((n) => `${n.name}:${n.port}`).join(' '),
        WRITE_PORT: String(writePort),
        READ_PORT: String(readPort),
        STATS_PORT: String(statsPort),
      },
      readyCommand: `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${writePort}'`,
    }),
    cluster.startSidecar({
      name: 'pgbouncer',
      image: 'split-knex/pgbouncer',
      ports: [bouncerPort],
      env: {
        DB_HOST: 'primary',
        DB_PORT: String(cluster.primary.port),
        LISTEN_PORT: String(bouncerPort),
        POOL_MODE: 'transaction',
        DEFAULT_POOL_SIZE: String(poolSize),
        MIN_POOL_SIZE: String(Math.min(2, poolSize)),
        SERVER_ROUND_ROBIN: '1',
        // A client waiting for a primary that is gone gets an error, not a 2-minute hang.
        QUERY_WAIT_TIMEOUT: '15',
      },
      readyCommand: `pg_isready -q -h 127.0.0.1 -p ${bouncerPort} -U postgres -d pgbouncer`,
    }),
  ]);
  const endpoints: ProxyEndpoints = {
    write: endpoint('haproxy-write', writePort),
    read: endpoint('haproxy-read', readPort),
    pgbouncer: endpoint('pgbouncer', bouncerPort),
    statsUrl: `http://127.0.0.1:${statsPort}/`,
  };
  // Servers start DOWN and come UP after their first passing role check: wait until HAProxy
  // says every node is where it belongs, then ask through each port which server answers.
  const expected = new Map<string, string>();
  for (const node of cluster.nodes) {
    expected.set(`pg_write/${node.name}`, node.role === 'primary' ? 'UP' : 'DOWN');
    expected.set(`pg_read/${node.name}`, node.role === 'replica' ? 'UP' : 'DOWN');
  }
  let seen = new Map<string, string>();
  await pollUntil(
    async () => {
      seen = await haproxyStatus(endpoints.statsUrl);
      return [...expected].every(([server, status]) => seen.get(server) === status);
    },
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: 'HAProxy to mark every node by its role', describe: () => `${JSON.stringify(Object.fromEntries(seen))}\n${cluster.logTail('haproxy')}` },
  );
  await Promise.all([
    waitForRole(endpoints.write, false, () => cluster.logTail('haproxy')),
    waitForRole(endpoints.read, true, () => cluster.logTail('haproxy')),
    waitForRole(endpoints.pgbouncer, false, () => cluster.logTail('pgbouncer')),
  ]);
  return endpoints;
}

/**
 * HAProxy's view of its servers, from the stats page's CSV: `proxy/server` → status
 * (`UP`, `DOWN`, `MAINT`, `no check`, … as HAProxy writes it).
 *
 * @example
 * (await haproxyStatus(endpoints.statsUrl)).get('pg_write/replica1'); // 'UP' after a promotion
 */
export function haproxyStatus(statsUrl: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${statsUrl};csv`, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const statuses = new Map<string, string>();
        const [header, ...lines] = body.split('\n');
        const column = (header ?? '').replace(/^# /, '').split(',').indexOf('status');
        for (const line of lines) {
          const fields = line.split(',');
          const [proxy, server] = fields;
          if (proxy && server && server !== 'FRONTEND' && server !== 'BACKEND') statuses.set(`${proxy}/${server}`, fields[column] ?? '');
        }
        resolve(statuses);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${statsUrl} within 3 s`)));
    req.on('error', reject);
  });
}

/**
 * Polls until a new connection to `endpoint` reaches a server whose `pg_is_in_recovery()`
 * is `standby`; resolves with that server's port (`inet_server_port()`).
 *
 * @example
 * const port = await waitForRole(endpoints.write, false); // the primary, or the promoted node
 */
export async function waitForRole(
  endpoint: NodeInfo,
  standby: boolean,
  describe?: () => string,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<number> {
  let port = 0;
  await pollUntil(
    async () => {
      const row = await askServer(endpoint);
      port = row.port;
      return row.standby === standby;
    },
    { timeoutMs, intervalMs: 100, what: `${endpoint.name} (127.0.0.1:${endpoint.port}) to reach a server with pg_is_in_recovery() = ${standby}`, describe },
  );
  return port;
}

/**
 * Asks the server behind `endpoint`, over a fresh connection, which it is (after running
 * `first`, if given, on the same connection).
 *
 * @example
 * const { port, standby } = await askServer(endpoints.read);
 */
export async function askServer(endpoint: NodeInfo, first?: string): Promise<{ port: number; standby: boolean }> {
  const rows = await withNodeClient(
    endpoint,
    async (c) => {
      if (first) await c.query(first);
      return (await c.query('select inet_server_port() as port, pg_is_in_recovery() as standby')).rows;
    },
    { timeoutMs: 5000 },
  );
  return { port: Number(rows[0]?.port), standby: rows[0]?.standby === true };
}

/**
 * A view of `cluster` whose primary is reached at `url` (e.g. through PgBouncer) by
 * anything that connects by URL (`makeDb()`), while `query()` and the fault injection keep
 * talking to the node itself and the node keeps its port (so `nodeByPort()` still works).
 *
 * @example
 * setTestCluster(withPrimaryUrl(cluster, endpoints.pgbouncer.url));
 */
export function withPrimaryUrl(cluster: Cluster, url: string): Cluster {
  const primary: NodeInfo = { ...cluster.primary, url };
  return new Proxy(cluster, {
    get(target, prop) {
      if (prop === 'primary') return primary;
      if (prop === 'nodes') return [primary, ...target.replicas];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
