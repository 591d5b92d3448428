import { redactConnection, redactText } from './redact';

/**
 * Every error split-knex raises itself. Database errors are never wrapped: they reach the
 * caller exactly as knex raises them.
 *
 * - `ESPLIT_CONFIG`: the configuration is wrong; the message names the key and the value.
 * - `ESPLIT_NO_REPLICA`: a read needed a replica, none was eligible and `fallback` is `'error'`.
 * - `ESPLIT_PRIMARY_DOWN`: a write could not reach the primary (the cause is attached).
 * - `ESPLIT_WRITE_UNKNOWN`: the primary's connection broke while a write ran: it may have
 *   committed or not, so it was not run again (the cause is attached).
 * - `ESPLIT_TOKEN`: a consistency token could not be decoded.
 * - `ESPLIT_CACHE`: the result cache was misused (e.g. `.cache()` on a write).
 * - `ESPLIT_DESTROYED`: the instance was used after `destroy()` without `initialize()`.
 * - `ESPLIT_OUTSIDE_TRANSACTION`: with `routing.strictTransactions`, a read ran outside the
 *   transaction its async context holds open (a forgotten `.transacting(trx)`).
 */
export type SplitKnexErrorCode =
  | 'ESPLIT_CONFIG'
  | 'ESPLIT_NO_REPLICA'
  | 'ESPLIT_PRIMARY_DOWN'
  | 'ESPLIT_WRITE_UNKNOWN'
  | 'ESPLIT_TOKEN'
  | 'ESPLIT_CACHE'
  | 'ESPLIT_DESTROYED'
  | 'ESPLIT_OUTSIDE_TRANSACTION';

/** Options for {@link SplitKnexError}. */
export interface SplitKnexErrorOptions {
  /** The node the error concerns, by name (never a connection string). */
  node?: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /** `ESPLIT_PRIMARY_DOWN` only: the primary is up, writes pause before its planned stop. */
  plannedStop?: boolean;
}

/**
 * The one error class of split-knex, with a machine-readable `code`.
 *
 * @example
 * try { splitKnex({ client: 'mysql2' }) }
 * catch (e) { if (e instanceof SplitKnexError && e.code === 'ESPLIT_CONFIG') console.error(e.message) }
 */
export class SplitKnexError extends Error {
  readonly code: SplitKnexErrorCode;
  readonly node: string | undefined;
  /**
   * True on an `ESPLIT_PRIMARY_DOWN` that is a pause before a planned stop of the primary (a
   * Patroni switchover scheduled ahead): the primary is still up, statements wait for the next.
   */
  readonly plannedStop: boolean;

  constructor(code: SplitKnexErrorCode, message: string, options: SplitKnexErrorOptions = {}) {
    // Redacted before `super`: the stack captured there repeats the message.
    super(redactText(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SplitKnexError';
    this.code = code;
    this.node = options.node;
    this.plannedStop = options.plannedStop === true;
  }
}

/**
 * A configuration error naming the key and the value, with credentials hidden in every form
 * (a password-like key shows `[hidden]`; URLs, key/value strings and objects are redacted).
 *
 * @example
 * throw configError('replicas[0]', 'app:S3cret@db/app', 'must be a postgres:// URL');
 * // split-knex: config key "replicas[0]" must be a postgres:// URL; got "app:***@db/app"
 */
export function configError(key: string, value: unknown, expected: string): SplitKnexError {
  return new SplitKnexError(
    'ESPLIT_CONFIG',
    `split-knex: config key "${key}" ${expected}; got ${describeValue(key, value)}`,
  );
}

/**
 * How a config value is shown in an error message: short, and never a credential.
 *
 * @example
 * describeValue('replicas[0]', 'postgres://u:pw@h/db') // '"postgres://u:***@h/db"'
 * describeValue('connection.password', 'pw')          // '[hidden]'
 */
export function describeValue(key: string, value: unknown): string {
  if (SECRET_KEY.test(key.slice(key.lastIndexOf('.') + 1))) return '[hidden]';
  if (typeof value === 'string') return JSON.stringify(redactText(value));
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return describeObject(value as Record<string, unknown>);
}

// Keys whose value is never shown, misspelt ones included (`pasword`, `pssword`, `passwd`).
const SECRET_KEY = /pa?s?s?w(or)?d|pass|pwd|^pw$|secret|token|credential|^(ssl)?key$|pfx/i;

function describeObject(value: Record<string, unknown>): string {
  // Show the keys (they are what a typo is in), never the values: `an object { host, password }`.
  const keys = Object.keys(redactConnection(value) as Record<string, unknown>);
  if (keys.length === 0) return 'an empty object';
  const shown = keys.slice(0, 8).join(', ');
  return `an object { ${shown}${keys.length > 8 ? ', …' : ''} }`;
}

