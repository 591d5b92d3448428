/**
 * A display name for a node's connection that never contains a password: `host:port`
 * (or `host:port/db`), falling back to `replicaN`.
 *
 * @example
 * connectionLabel('postgres://app:secret@r1.internal:5433/app', 0) // 'r1.internal:5433'
 */
export function connectionLabel(connection: unknown, index: number): string {
  const fallback = `replica${index + 1}`;
  if (typeof connection === 'string') return labelFromUrl(connection) ?? fallback;
  if (connection !== null && typeof connection === 'object') {
    const c = connection as Record<string, unknown>;
    if (typeof c.connectionString === 'string') return labelFromUrl(c.connectionString) ?? fallback;
    if (typeof c.host === 'string') return `${c.host}:${typeof c.port === 'number' || typeof c.port === 'string' ? c.port : 5432}`;
  }
  return fallback;
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
