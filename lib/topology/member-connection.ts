/**
 * The `host:port` a knex connection points at (URL or connection object), for matching
 * configured nodes with the members a topology source reports; `undefined` when it cannot
 * be known without connecting (a provider function, a key/value string, several hosts).
 *
 * @example
 * addressOfConnection('postgres://app@10.0.0.1:5433/app') // '10.0.0.1:5433'
 * addressOfConnection({ host: 'db', database: 'app' })     // 'db:5432'
 */
export function addressOfConnection(connection: unknown): string | undefined {
  if (typeof connection === 'string') {
    if (!/^postgres(ql)?:\/\//i.test(connection)) return undefined;
    try {
      const url = new URL(connection);
      return url.hostname === '' ? undefined : `${url.hostname}:${url.port === '' ? 5432 : Number(url.port)}`;
    } catch {
      return undefined;
    }
  }
  if (connection !== null && typeof connection === 'object') {
    const c = connection as { host?: unknown; port?: unknown; connectionString?: unknown };
    if (typeof c.connectionString === 'string') return addressOfConnection(c.connectionString);
    if (typeof c.host !== 'string' || c.host.includes(',') || c.host.startsWith('/')) return undefined;
    return `${c.host}:${c.port === undefined ? 5432 : Number(c.port)}`;
  }
  return undefined;
}

/**
 * The connection of a member a topology source reported: the primary's connection (user,
 * password, database, TLS and every other setting) pointed at the member's host and port.
 * `undefined` when the primary's connection cannot be re-pointed (a key/value string).
 *
 * @example
 * connectionForMember('postgres://app:pw@10.0.0.1:5432/app', '10.0.0.3', 5432) // 'postgres://app:pw@10.0.0.3:5432/app'
 */
export function connectionForMember(base: unknown, host: string, port: number): unknown {
  if (typeof base === 'string') {
    if (!/^postgres(ql)?:\/\//i.test(base)) return undefined;
    // Several hosts (`h1:1,h2:2`) do not parse as a URL: replace the authority by hand.
    const m = /^(postgres(?:ql)?:\/\/(?:[^@/]*@)?)([^/?#]*)(.*)$/i.exec(base);
    if (m === null) return undefined;
    const bracketed = host.includes(':') ? `[${host}]` : host;
    return `${m[1]}${bracketed}:${port}${m[3]}`;
  }
  if (typeof base === 'function') {
    const provider = base as () => unknown;
    return async () => ({ ...((await provider()) as Record<string, unknown>), host, port });
  }
  if (base !== null && typeof base === 'object') {
    const { connectionString, ...rest } = base as Record<string, unknown>;
    if (typeof connectionString === 'string') {
      return { ...rest, connectionString: connectionForMember(connectionString, host, port) };
    }
    return { ...rest, host, port };
  }
  return undefined;
}
