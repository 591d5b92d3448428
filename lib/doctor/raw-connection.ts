import type { Client, ClientConfig } from 'pg';
import { redactSecrets } from './redact-report';

/** How long the doctor waits for a connection or a statement, by default. */
export const DEFAULT_DOCTOR_TIMEOUT_MS = 5000;

/**
 * Turns a knex `connection` (URL, object, or provider function, possibly async) into
 * node-postgres client settings, resolved the way knex resolves them for its pool, so that
 * the doctor logs in where and as the application does. The doctor opens its own
 * short-lived connections with them so that every sample is a NEW connection, exactly as a
 * pool would open one.
 *
 * @example
 * await pgSettingsOf('postgres://app@db:5432/app') // { connectionString: 'postgres://app@db:5432/app' }
 */
export async function pgSettingsOf(connection: unknown): Promise<ClientConfig> {
  let value = connection;
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (typeof value === 'string') {
    // knex hands a string to node-postgres as is; it reads URLs and key=value strings alike.
    return { connectionString: value };
  }
  if (value !== null && typeof value === 'object') return withSettings(value as ClientConfig, {});
  throw new Error(`cannot read connection settings of type ${typeof value}`);
}

/**
 * A copy of client settings with `extra` applied, that keeps the password. knex stores the
 * password of its `connection` as a non-enumerable property (so it stays out of logs):
 * spreading (`{ ...settings }`) silently drops it, and the server then sees no password
 * ("client password must be a string"). The copy keeps it non-enumerable too, so it never
 * reaches JSON or `console.log`; a password function (node-postgres calls it) is kept as is.
 *
 * @example
 * const s = withSettings(knexClient.config.connection, { database: 'pgbouncer' });
 * s.password // the configured password, though Object.keys(s) does not list it
 */
export function withSettings(settings: ClientConfig, extra: Partial<ClientConfig>): ClientConfig {
  const out: Record<string, unknown> = {};
  const source = settings as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(source)) {
    // knex removes a provider's expirationChecker before the driver sees the settings.
    if (key === 'expirationChecker' || key === 'password') continue;
    out[key] = source[key];
  }
  Object.assign(out, extra);
  const password = 'password' in extra ? extra.password : source.password;
  if (password !== undefined) Object.defineProperty(out, 'password', { value: password, enumerable: false, writable: true, configurable: true });
  return out as ClientConfig;
}

/**
 * `host:port/database` of a connection, for display: never the user or the password.
 *
 * @example
 * describeTarget({ connectionString: 'postgres://u:secret@10.0.0.5:6432/app' }) // '10.0.0.5:6432/app'
 */
export function describeTarget(settings: ClientConfig): string {
  const parsed = endpointOf(settings);
  return `${parsed.host ?? 'localhost'}:${parsed.port ?? 5432}/${parsed.database ?? '?'}`;
}

/** Host, port and database of client settings (from the URL when there is one). */
export function endpointOf(settings: ClientConfig): { host?: string; port?: number; database?: string } {
  const out: { host?: string; port?: number; database?: string } = {};
  if (settings.host !== undefined) out.host = settings.host;
  if (settings.port !== undefined) out.port = Number(settings.port);
  if (settings.database !== undefined) out.database = settings.database;
  const cs = settings.connectionString;
  if (typeof cs === 'string' && /^postgres(ql)?:\/\//i.test(cs)) {
    try {
      const url = new URL(cs);
      if (url.hostname !== '') out.host = decodeURIComponent(url.hostname);
      if (url.port !== '') out.port = Number(url.port);
      const db = decodeURIComponent(url.pathname.replace(/^\//, ''));
      if (db !== '') out.database = db;
    } catch {
      // A URL node-postgres can read but WHATWG URL cannot: leave the fields unknown.
    }
  } else if (typeof cs === 'string') {
    for (const [, key, val] of cs.matchAll(/(\w+)\s*=\s*'?([^'\s]*)'?/g)) {
      if (key === 'host' && val !== undefined) out.host = val;
      if (key === 'port' && val !== undefined) out.port = Number(val);
      if (key === 'dbname' && val !== undefined) out.database = val;
    }
  }
  return out;
}

/**
 * Opens one new connection with client-side bounds on connecting and on every statement
 * (the only bound that works against a server that accepts TCP but never answers).
 *
 * @example
 * const client = await openConnection(settings, 5000);
 * try { await client.query('select 1') } finally { await closeConnection(client) }
 */
export async function openConnection(settings: ClientConfig, timeoutMs: number): Promise<Client> {
  const { Client: PgClient } = require('pg') as typeof import('pg');
  const client = new PgClient(withSettings(settings, {
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'split-knex-doctor',
  }));
  // An error event after connect (server went away) must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

/** Closes a connection, ignoring errors (the server may be gone). */
export async function closeConnection(client: Client): Promise<void> {
  await client.end().catch(() => undefined);
}

/** A one-line, password-free description of an error. */
export function errorLine(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? ` (${e.code})` : '';
  return redactSecrets(message.split('\n')[0] ?? '') + code;
}
