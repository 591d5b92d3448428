import type { ClientConfig } from 'pg';
import type { DoctorReport } from './doctor-report';

const MASK = '***';
// Shorter secrets would mask ordinary words of the report; patterns still cover them.
const MIN_SECRET_LENGTH = 4;

/**
 * The passwords in client settings, in every spelling they may take in a message: the
 * `password` key, a URL's userinfo (raw and decoded) or `?password=`, a key/value string's
 * `password=`. A password function's value is never known here.
 *
 * @example
 * secretsOf({ connectionString: 'postgres://app:p%40ss@db/app' }) // ['p%40ss', 'p@ss']
 */
export function secretsOf(settings: ClientConfig): string[] {
  const out = new Set<string>();
  const add = (s: unknown) => {
    if (typeof s === 'string' && s.length >= MIN_SECRET_LENGTH) out.add(s);
  };
  add(settings.password);
  const cs = settings.connectionString;
  if (typeof cs === 'string') {
    try {
      const url = new URL(cs);
      add(url.password);
      add(decodeURIComponent(url.password));
      add(url.searchParams.get('password'));
    } catch {
      // A key/value string: `host=db password='a b'`.
      for (const m of cs.matchAll(/password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/gi)) add(m[1] ?? m[2]);
    }
  }
  return [...out];
}

/**
 * Hides credentials in one line of text: the password of a URL (up to its last `@`, since
 * an unencoded `@` may sit inside the password), `password=` values, and every known secret.
 *
 * @example
 * redactSecrets('vault: postgres://app:p@ss@db/app password=xyz') // 'vault: postgres://app:***@db/app password=***'
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/(\w+:\/\/[^:/@\s]*:)[^\s/]*@/g, `$1${MASK}@`)
    .replace(/(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s,;&]+)/gi, `$1${MASK}`);
  // Longest first: a secret that contains another must not be left half masked.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(MASK);
  return out;
}

/**
 * A copy of the report with {@link redactSecrets} applied to every string in it (details,
 * advice, errors, targets, facts), so neither `--json` nor the table can carry a password.
 *
 * @example
 * redactReport(report, secretsOf(settings)).checks[0].detail // no password in it
 */
export function redactReport(report: DoctorReport, secrets: readonly string[]): DoctorReport {
  return mapStrings(report, (s) => redactSecrets(s, secrets));
}

function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, fn);
    return out as T;
  }
  return value;
}
