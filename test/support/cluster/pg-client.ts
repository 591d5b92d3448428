import pg from 'pg';
import type { NodeInfo, QueryOptions } from './cluster';
import { sleep } from './poll';

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Opens a `pg.Client` to `node`, runs `fn`, and always closes the client.
 * Every wait is bounded client side, so a paused server makes this reject, not hang.
 *
 * @example
 * const lsn = await withNodeClient(primary, async (c) => (await c.query('SELECT 1')).rows);
 */
export async function withNodeClient<T>(
  node: NodeInfo,
  fn: (client: pg.Client) => Promise<T>,
  options: QueryOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new pg.Client({
    host: node.host,
    port: node.port,
    user: node.user,
    password: node.password,
    database: node.database,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'split-knex-harness',
  });
  // A server killed under us emits 'error' on an idle client; unhandled, it would crash mocha.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot connect to ${node.name} (127.0.0.1:${node.port}): ${messageOf(err)}`, { cause: err });
  }
  try {
    return await fn(client);
  } finally {
    // end() waits for the server to close its side; never let a stuck server hold us.
    await Promise.race([client.end().catch(() => undefined), sleep(2000)]);
  }
}

/**
 * Runs one statement on `node` and returns its rows; errors name the node and the SQL.
 *
 * @example
 * const [row] = await queryNode(replica, 'SELECT pg_is_in_recovery() AS r');
 */
export async function queryNode<T = any>(
  node: NodeInfo,
  sql: string,
  params?: unknown[],
  options?: QueryOptions,
): Promise<T[]> {
  return withNodeClient(
    node,
    async (client) => {
      try {
        return (await client.query(sql, params)).rows as T[];
      } catch (err) {
        throw new Error(`query on ${node.name} failed: ${messageOf(err)} (sql: ${sql.slice(0, 200)})`, {
          cause: err,
        });
      }
    },
    options,
  );
}

/** The message of anything thrown. @internal */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
