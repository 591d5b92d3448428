/**
 * Failure handling: node health, probes, ejection and re-admission, read retries,
 * `ESPLIT_PRIMARY_DOWN`, role discovery and failover.
 *
 * @example
 * import { healthSubsystem } from './health';
 */
export { healthSubsystem } from './install-health';
export { normalizeHealthConfig, HEALTH_DEFAULTS } from './health-config';
export type { HealthConfig, NormalizedHealthConfig } from './health-config';
export type { HealthProbe, ProbeResult } from './health-probe';
export type { HealthClock } from './health-clock';
export type { NodeDownEvent, NodeUpEvent, FailoverEvent, RoleChangeEvent, NotAStandbyEvent } from './health-events';
export type { HealthStats, NodeHealthStats } from './health-stats';
export { connectionErrorKind, isNodeFailure } from './connection-error';
export type { ConnectionErrorKind } from './connection-error';
export { prepareNodeConnections } from './node-connections';
