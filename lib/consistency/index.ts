// Read-your-writes: scopes, sticky windows, causal reads by WAL position, lag-aware replicas.
export { consistencySubsystem } from './install-consistency';
export type { ConsistencyStats } from './install-consistency';
export type { ConsistencyMethods } from './consistency-methods';
export type { InScope, RunInContextOptions, ConsistencyMiddleware, ConsistencyMiddlewareOptions } from './consistency-scopes';
export type { StickyConfig, LagConfig, StickyMode, ConsistencyScopeMode, LagExceededAction } from './consistency-config';
export type { ReplicaPositionStats } from './replica-positions';
export { parseLsn, formatLsn } from '../wal-position';
