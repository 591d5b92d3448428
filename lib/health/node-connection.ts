import { redactText } from '../redact';
/** A node-postgres `Client` config object. */
export type ConnectionSettings = Record<string, unknown>;

/**
 * Turns a knex `connection` value (URL, object, or provider function) into a fresh
 * node-postgres config object, for connections split-knex opens itself (the probe).
 *
 * @example
 * await resolveConnection('postgres://app@r1:5432/app') // { connectionString: 'postgres://app@r1:5432/app' }
 */
export async function resolveConnection(connection: unknown): Promise<ConnectionSettings> {
  let value = connection;
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (typeof value === 'string') return { connectionString: value };
  if (value !== null && typeof value === 'object') {
    const { expirationChecker: _ignored, ...rest } = value as ConnectionSettings;
    return rest;
  }
  throw new TypeError('split-knex: a node connection must be a URL, an object or a function returning one');
}

/**
 * Adds node-postgres's `connectionTimeoutMillis` to a knex `connection` unless it has one,
 * so that a pool never waits forever for a server that accepts TCP and says nothing.
 * URLs become `{ connectionString, connectionTimeoutMillis }` (node-postgres does not read
 * a timeout from the URL); provider functions are wrapped. `ms = 0` changes nothing.
 *
 * @example
 * withConnectTimeout('postgres://app@db/app', 5000) // { connectionString: 'postgres://app@db/app', connectionTimeoutMillis: 5000 }
 */
export function withConnectTimeout(connection: unknown, ms: number): unknown {
  if (ms <= 0 || connection === undefined || connection === null) return connection;
  if (typeof connection === 'string') return { connectionString: connection, connectionTimeoutMillis: ms };
  if (typeof connection === 'function') {
    const provider = connection as () => unknown;
    return async () => withConnectTimeout(await provider(), ms);
  }
  if (typeof connection === 'object' && !('connectionTimeoutMillis' in connection)) {
    return { ...(connection as ConnectionSettings), connectionTimeoutMillis: ms };
  }
  return connection;
}

/**
 * `host:port` of a config object, for messages and events (never the password).
 *
 * @example
 * hostLabel({ host: 'db1', port: 5433 }) // 'db1:5433'
 */
export function hostLabel(settings: ConnectionSettings): string {
  if (typeof settings.connectionString === 'string') {
    const m = /^[a-z]+:\/\/(.*)$/i.exec(settings.connectionString);
    // The host follows the last '@': a password may hold '@' or '/' (never a label's part).
    const rest = m === null ? '' : m[1]!.slice(m[1]!.lastIndexOf('@') + 1);
    const host = /^[^/?]*/.exec(rest)![0];
    if (host !== '') return redactText(host.includes(':') ? host : `${host}:5432`);
  }
  const host = typeof settings.host === 'string' ? settings.host : 'localhost';
  const port = typeof settings.port === 'number' || typeof settings.port === 'string' ? settings.port : 5432;
  return `${host}:${port}`;
}
