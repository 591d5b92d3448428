/**
 * Every error split-knex raises itself. Database errors are never wrapped: they reach the
 * caller exactly as knex raises them.
 *
 * - `ESPLIT_CONFIG`: the configuration is wrong; the message names the key and the value.
 * - `ESPLIT_NO_REPLICA`: a read needed a replica, none was eligible and `fallback` is `'error'`.
 * - `ESPLIT_PRIMARY_DOWN`: a write could not reach the primary (the cause is attached).
 * - `ESPLIT_TOKEN`: a consistency token could not be decoded.
 * - `ESPLIT_CACHE`: the result cache was misused (e.g. `.cache()` on a write).
 * - `ESPLIT_DESTROYED`: the instance was used after `destroy()` without `initialize()`.
 */
export type SplitKnexErrorCode =
  | 'ESPLIT_CONFIG'
  | 'ESPLIT_NO_REPLICA'
  | 'ESPLIT_PRIMARY_DOWN'
  | 'ESPLIT_TOKEN'
  | 'ESPLIT_CACHE'
  | 'ESPLIT_DESTROYED';

/** Options for {@link SplitKnexError}. */
export interface SplitKnexErrorOptions {
  /** The node the error concerns, by name (never a connection string). */
  node?: string;
  /** The underlying error, if any. */
  cause?: unknown;
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

  constructor(code: SplitKnexErrorCode, message: string, options: SplitKnexErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SplitKnexError';
    this.code = code;
    this.node = options.node;
  }
}

/** Shorthand for a configuration error naming the key and the (redacted) value. */
export function configError(key: string, value: unknown, expected: string): SplitKnexError {
  return new SplitKnexError(
    'ESPLIT_CONFIG',
    `split-knex: config key "${key}" ${expected}; got ${describeValue(key, value)}`,
  );
}

function describeValue(key: string, value: unknown): string {
  if (/password|secret/i.test(key)) return '[hidden]';
  if (typeof value === 'string') return JSON.stringify(redactUrl(value));
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

/** Replaces the password of a connection URL with `***`, leaving everything else. */
export function redactUrl(text: string): string {
  // `scheme://user:password@host`: keep user and host, drop the password.
  return text.replace(/(\w+:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}
