import type { ServerIdentity } from './doctor-report';

/**
 * A key that is equal for two connections served by the same PostgreSQL server:
 * address, port and postmaster start time.
 *
 * @example
 * serverKey({ addr: '127.0.0.1', port: 5432, started: '2024-05-01 10:00:00+00', standby: false, pid: 1 })
 * // '127.0.0.1:5432@2024-05-01 10:00:00+00'
 */
export function serverKey(identity: ServerIdentity): string {
  return `${identity.addr ?? 'local'}:${identity.port ?? '?'}@${identity.started}`;
}

/** `127.0.0.1:5432` (or `socket:5432`) for display. */
export function serverLabel(identity: ServerIdentity): string {
  return `${identity.addr ?? 'socket'}:${identity.port ?? '?'}`;
}
