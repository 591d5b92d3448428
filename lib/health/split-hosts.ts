import { configError } from '../errors';

const URL_PARTS = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/is;

/**
 * Expands a primary `connection` that lists several hosts (like libpq's
 * `target_session_attrs=read-write`) into one connection per host, in order; `undefined`
 * when it names one host (or is a provider function, resolved per connection by knex).
 *
 * Accepted forms: `postgres://user:pw@h1:5432,h2:5433/db?…` (a port per host, default
 * 5432), and `{ host: ['h1', 'h2'], port: [5432, 5433], … }` or `{ host: 'h1,h2', port: 5432 }`
 * (one port for all, or one per host), or `{ connectionString: 'postgres://h1,h2/db', … }`.
 *
 * @example
 * splitHosts('postgres://app@h1:5432,h2:5433/app')
 * // ['postgres://app@h1:5432/app', 'postgres://app@h2:5433/app']
 */
export function splitHosts(connection: unknown): Array<string | Record<string, unknown>> | undefined {
  if (typeof connection === 'string') return splitUrl(connection);
  if (connection === null || typeof connection !== 'object' || Array.isArray(connection)) return undefined;
  const obj = connection as Record<string, unknown>;
  if (typeof obj.connectionString === 'string') {
    const urls = splitUrl(obj.connectionString);
    return urls?.map((connectionString) => ({ ...obj, connectionString }));
  }
  const hosts = listOf(obj.host);
  if (hosts === undefined || hosts.length < 2) return undefined;
  if (!hosts.every((h) => typeof h === 'string' && h.length > 0)) {
    throw configError('connection.host', obj.host, 'must be a host name or a list of host names');
  }
  const ports = obj.port === undefined ? [5432] : listOf(obj.port) ?? [obj.port];
  if (ports.length !== 1 && ports.length !== hosts.length) {
    throw configError('connection.port', obj.port, `must be one port, or one port per host (${hosts.length})`);
  }
  return hosts.map((host, i) => {
    const raw = ports.length === 1 ? ports[0] : ports[i];
    const port = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw configError('connection.port', obj.port, 'must be port numbers from 1 to 65535');
    }
    return { ...obj, host, port };
  });
}

function listOf(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string' && value.includes(',')) return value.split(',').map((s) => s.trim());
  return undefined;
}

function splitUrl(url: string): string[] | undefined {
  const m = URL_PARTS.exec(url);
  if (m === null) return undefined;
  const [, scheme, userinfo = '', hostList = '', rest = ''] = m;
  const hosts = hostList.split(',');
  if (hosts.length < 2) return undefined;
  if (hosts.some((h) => h === '')) throw configError('connection', url, 'lists an empty host');
  return hosts.map((h) => `${scheme}${userinfo}${h}${rest}`);
}
