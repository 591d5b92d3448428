import type { Knex } from 'knex';
import { configError } from './errors';

/**
 * A pg connection object as node-postgres reads it (`pg`'s `ClientConfig` plus knex's
 * `expirationChecker`), typed here so the public types need no `@types/pg`.
 *
 * @example
 * const replica: PgConnectionOptions = { host: 'r1', port: 5433, user: 'app', password, database: 'app' };
 */
export interface PgConnectionOptions extends Knex.PgConnectionConfig {
  lock_timeout?: number;
  fallback_application_name?: string;
  client_encoding?: string;
  enableChannelBinding?: boolean;
  sslnegotiation?: 'postgres' | 'direct';
  pipeline?: boolean;
  binary?: boolean;
  replication?: string | boolean;
  Promise?: PromiseConstructorLike;
  scramMaxIterations?: number;
}

/**
 * Every key node-postgres (8.x: `lib/client.js`, `lib/connection-parameters.js`) or knex reads
 * from a connection object; a bare replica connection object may hold nothing else.
 *
 * @example
 * PG_CONNECTION_KEYS.includes('host') // true
 */
export const PG_CONNECTION_KEYS = [
  'user', 'database', 'password', 'port', 'host', 'connectionString', 'keepAlive', 'stream', 'statement_timeout', 'ssl',
  'enableChannelBinding', 'sslnegotiation', 'query_timeout', 'lock_timeout', 'keepAliveInitialDelayMillis',
  'idle_in_transaction_session_timeout', 'application_name', 'fallback_application_name', 'connectionTimeoutMillis', 'types',
  'options', 'client_encoding', 'pipeline', 'binary', 'replication', 'Promise', 'scramMaxIterations', 'parseInputDatesAsUTC',
  'expirationChecker',
] as const;

/**
 * Every top-level key knex 3 reads from its config (`types/index.d.ts` `Knex.Config`, plus
 * `returning`, `formatting` and `userParams`, which `lib/` reads though the types omit them).
 *
 * @example
 * KNEX_KEYS.includes('searchPath') // true
 */
export const KNEX_KEYS = [
  'client', 'dialect', 'version', 'connection', 'connectionPool', 'pool', 'debug', 'jsonbSupport', 'migrations', 'seeds',
  'searchPath', 'asyncStackTraces', 'postProcessResponse', 'wrapIdentifier', 'useNullAsDefault', 'log', 'compileSqlOnError',
  'acquireConnectionTimeout', 'fetchAsString', 'defaultDateTimePrecision', 'returning', 'formatting', 'userParams',
] as const;

/**
 * `true` when the runtime list `K` names exactly the keys of `T`: used in type aliases next to
 * each key list so a key added to a config type without its validator fails to compile.
 *
 * @example
 * type Check = Exact<ExactKeys<HealthConfig, typeof HEALTH_KEYS>>;
 */
export type ExactKeys<T, K extends readonly PropertyKey[]> =
  [Exclude<keyof T, K[number]>, Exclude<K[number], keyof T>] extends [never, never] ? true : { missing: Exclude<keyof T, K[number]>; extra: Exclude<K[number], keyof T> };

/**
 * Compiles only when given `true` (see {@link ExactKeys}).
 *
 * @example
 * type Check = Exact<ExactKeys<{ a?: 1 }, readonly ['a']>>;
 */
export type Exact<T extends true> = T;

/**
 * The known key closest to a misspelt one (case-insensitive; one edit for short keys, two
 * otherwise, a swap of neighbours counting as one), or `undefined` when none is near.
 *
 * @example
 * closestKey('stikcy', ['sticky', 'lag']) // 'sticky'
 * closestKey('helth', ['health'])         // 'health'
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const limit = key.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Throws `ESPLIT_CONFIG` for the first key of `obj` not in `allowed`, naming `prefix.key`,
 * suggesting the closest allowed key and listing them all.
 *
 * @example
 * rejectUnknownKeys('health', { intervalMS: 5 }, HEALTH_KEYS, 'a health option');
 * // throws: config key "health.intervalMS" is not a health option (did you mean "intervalMs"? expected one of …)
 */
export function rejectUnknownKeys(prefix: string, obj: object, allowed: readonly string[], what: string): void {
  for (const [k, v] of Object.entries(obj)) {
    if (allowed.includes(k)) continue;
    const near = closestKey(k, allowed);
    const hint = near === undefined ? '' : `did you mean "${near}"? `;
    throw configError(prefix === '' ? k : `${prefix}.${k}`, v, `is not ${what} (${hint}expected one of ${allowed.join(', ')})`);
  }
}

/**
 * Throws `ESPLIT_CONFIG` naming `path.key` for a key of a pg connection object that neither
 * node-postgres nor knex reads (it would be ignored, e.g. a misspelt `hots`).
 *
 * @example
 * checkConnectionKeys('replicas[0]', { hots: 'r1' }); // throws: "replicas[0].hots" … did you mean "host"?
 */
export function checkConnectionKeys(path: string, connection: object): void {
  rejectUnknownKeys(path, connection, PG_CONNECTION_KEYS, 'a pg connection option');
}

// Optimal string alignment distance: Levenshtein plus swaps of neighbours (`stikcy`).
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
