/**
 * Hiding credentials before anything leaves split-knex (error messages, events, debug lines,
 * `stats()`). One place, so every output point hides the same shapes:
 * - URL userinfo, with or without a scheme: `postgres://app:S3cret@h/db`, `app:S3cret@h:5432/db`;
 * - `password=…` (and `sslpassword`, `passphrase`, `secret`…) in key/value connection strings,
 *   URL query strings, JSON and `util.inspect` output, quoted or not;
 * - `PASSWORD '…'` in SQL (`CREATE ROLE`, `ALTER USER`);
 * - connection objects: any password-like key (any case), a `connectionString`, nested objects.
 *
 * Precision gives way to safety: when a shape is ambiguous, more is hidden, never less.
 */

/** What a hidden value is replaced with. */
export const REDACTED = '***';

// Keys whose value is a credential in connection objects (pg's `password`, `ssl.key`, `ssl.passphrase`, …).
const SECRET_KEY = /^(?:key|pfx)$|pass(?:word|wd|phrase)?$|pwd$|secret|token|credential|private_?key|api_?key/i;

// `scheme://user:password@`: the password runs to the last `@` before whitespace or a
// double quote, without crossing into the next `scheme://` (comma-separated URL lists).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#"'`]*):((?:(?!:\/\/)[^\s"`])*)@/gi;
// The same without a scheme (`app:S3cret@host:5432/db`), starting at a token boundary. The
// password may not start with `//` (that is a scheme URL, handled above).
const BARE_USERINFO = /(^|[\s"'`(<[{,;=])([^\s:@/?#"'`(<[{,;=]+):(?!\/\/)((?:(?!:\/\/)[^\s"`])*)@(?=[\w[.-])/g;
// `password=x`, `password='a b'`, `"password":"x"`, `password: 'x'`, `PGPASSWORD=x`, `sslpassword=x`.
// An unquoted value runs to the next whitespace: libpq allows `,` `;` `&` inside it.
const KEY_VALUE = new RegExp(
  String.raw`((?<![\w.-])["']?[\w.-]*(?:password|passwd|pwd|passphrase|secret)[\w.-]*["']?\s*(?:=>|[=:])\s*)` +
    String.raw`('(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.)*"?|` + '`[^`]*`?' + String.raw`|[^\s]*)`,
  'gi',
);
// SQL: `CREATE ROLE app PASSWORD 'x'`, `ALTER USER app WITH ENCRYPTED PASSWORD 'x'` (in debug lines and events).
const SQL_PASSWORD = /\b(password\s+)(E?'(?:[^'\\]|\\.|'')*'?)/gi;

/**
 * Hides every credential in a free text: a URL, a key/value connection string, an error
 * message or a debug line that embeds any of them. Idempotent.
 *
 * @example
 * redactText('connect to app:S3cret@db:5432/app failed') // 'connect to app:***@db:5432/app failed'
 * redactText("host=db password='a b' user=app")          // "host=db password='***' user=app"
 */
export function redactText(text: string): string {
  return text
    .replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(BARE_USERINFO, (_m, before: string, user: string) => `${before}${user}:${REDACTED}@`)
    .replace(SQL_PASSWORD, (_m, key: string) => `${key}'${REDACTED}'`)
    // A quoted value stays quoted (JSON and inspect output stay well-formed, and a second pass is a no-op).
    .replace(KEY_VALUE, (_m, key: string, value: string) => {
      const quote = value[0] === '"' || value[0] === "'" || value[0] === '`' ? value[0] : '';
      return `${key}${quote}${REDACTED}${quote}`;
    });
}

/**
 * A copy of a connection setting safe to show: strings go through {@link redactText}, objects
 * are copied with every password-like key (any case, at any depth, `ssl.key` included)
 * replaced by `***`, and a `connectionString` redacted. Functions (providers) are shown as
 * `[function]`. Never mutates its argument.
 *
 * @example
 * redactConnection({ host: 'db', Password: 'x', connectionString: 'postgres://u:y@db/app' })
 * // { host: 'db', Password: '***', connectionString: 'postgres://u:***@db/app' }
 */
export function redactConnection(connection: unknown): unknown {
  return copy(connection, new WeakMap(), 0);
}

function copy(value: unknown, seen: WeakMap<object, unknown>, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'function') return '[function]';
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactError(value);
  if (depth > 8) return '[object]';
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(copy(item, seen, depth + 1));
    return out;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== false && v !== '' ? REDACTED : copy(v, seen, depth + 1);
  }
  return out;
}

/**
 * The message of anything thrown, with credentials hidden: for `lastError` fields, events
 * and debug lines that show an error.
 *
 * @example
 * redactError(new Error('getaddrinfo ENOTFOUND app:pw@db')) // 'getaddrinfo ENOTFOUND app:***@db'
 */
export function redactError(err: unknown): string {
  if (err instanceof Error) return redactText(err.message);
  if (typeof err === 'string') return redactText(err);
  try {
    return redactText(JSON.stringify(redactConnection(err)) ?? String(err));
  } catch {
    return redactText(String(err));
  }
}

/**
 * Hides credentials in any value about to be shown: a string ({@link redactText}), an error
 * ({@link redactError}) or an object ({@link redactConnection}).
 *
 * @example
 * redact('postgres://app:S3cret@db/app') // 'postgres://app:***@db/app'
 * redact({ user: 'app', password: 'S3cret' }) // { user: 'app', password: '***' }
 */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return redactError(value);
  return redactConnection(value);
}

/** The part of knex's logger split-knex writes to. */
export interface MessageLogger {
  warn(message: string): void;
  debug(message: unknown): void;
}

/**
 * knex's logger of the instance, with credentials hidden in every message split-knex writes
 * to it (a warning may quote an error from a driver or a connection provider). The user's
 * `log` functions still receive every message, through knex's logger.
 *
 * @example
 * const logger = redactingLogger(client.logger);
 * logger.warn('cannot reach postgres://app:S3cret@db/app') // the log sees postgres://app:***@db/app
 */
export function redactingLogger(logger: MessageLogger): MessageLogger {
  return {
    warn: (message) => logger.warn(redactText(message)),
    debug: (message) => logger.debug(typeof message === 'string' ? redactText(message) : redact(message)),
  };
}

// Every credential shape redactText hides has one of these in it (a URL's userinfo has `@`).
const MAY_HOLD_SECRET = /pass|pwd|secret|@/i;

/**
 * A statement's SQL as events show it: as written, or through {@link redactText} when it may
 * hold a credential (`CREATE ROLE app PASSWORD '…'`, a `dblink` connection string). The
 * common statement costs one short regular-expression test.
 *
 * @example
 * sqlShown("alter role app password 'S3cret'") // "alter role app password '***'"
 * sqlShown('select * from "users" where "id" = ?') // unchanged
 */
export function sqlShown(sql: string): string {
  return MAY_HOLD_SECRET.test(sql) ? redactText(sql) : sql;
}
