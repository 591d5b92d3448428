import { redactText } from '../redact';

/**
 * A display name for a node's connection that never contains a password: `host:port`,
 * falling back to `replicaN`. Reads URLs with or without a scheme, key/value strings and
 * connection objects (`host`/`port` or a `connectionString`).
 *
 * @example
 * connectionLabel('postgres://app:secret@r1.internal:5433/app', 0) // 'r1.internal:5433'
 * connectionLabel('app:secret@r2:5432/app', 1)                     // 'r2:5432'
 * connectionLabel('host=r3 port=5434 password=secret', 2)          // 'r3:5434'
 */
export function connectionLabel(connection: unknown, index: number): string {
  const fallback = `replica${index + 1}`;
  let label: string | undefined;
  if (typeof connection === 'string') label = labelFromString(connection);
  else if (connection !== null && typeof connection === 'object') {
    const c = connection as Record<string, unknown>;
    // pg lets a connectionString win over host/port: so does the label.
    if (typeof c.connectionString === 'string') label = labelFromString(c.connectionString);
    else if (typeof c.host === 'string') label = `${c.host}:${typeof c.port === 'number' || typeof c.port === 'string' ? c.port : 5432}`;
  }
  return label !== undefined && safeLabel(label) ? label : fallback;
}

// A label is shown everywhere (events, errors, stats): anything that could be part of a
// credential, or that redaction would change, is refused in favour of `replicaN`.
function safeLabel(label: string): boolean {
  return label.length > 0 && label.length <= 200 && !/[\s@'"]/.test(label) && redactText(label) === label;
}

function labelFromString(text: string): string | undefined {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return labelFromUrl(trimmed) ?? labelFromAuthority(trimmed.replace(/^[^:]*:\/\//, ''));
  if (/^\w+\s*=/.test(trimmed)) return labelFromKeyValues(trimmed);
  return labelFromAuthority(trimmed);
}

function labelFromUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.hostname === '') return undefined;
    return `${url.hostname}:${url.port === '' ? '5432' : url.port}`;
  } catch {
    return undefined;
  }
}

// `user:password@host:port/db` (no scheme): the host is after the last `@` of the authority.
function labelFromAuthority(text: string): string | undefined {
  const at = text.lastIndexOf('@');
  const rest = at === -1 ? text : text.slice(at + 1);
  const m = /^(\[[^\]]+\]|[^:/?#[\]]+)(?::(\d+))?(?:[/?#]|$)/.exec(rest);
  if (m === null || m[1] === undefined) return undefined;
  return `${m[1]}:${m[2] ?? '5432'}`;
}

function labelFromKeyValues(text: string): string | undefined {
  const value = (key: string): string | undefined => {
    const m = new RegExp(`(?:^|\\s)${key}\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S*)`).exec(text);
    return m?.[1]?.replace(/^'|'$/g, '');
  };
  const host = value('host') ?? value('hostaddr');
  if (host === undefined || host === '') return undefined;
  return `${host}:${value('port') || '5432'}`;
}
