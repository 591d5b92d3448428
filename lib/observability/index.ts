/**
 * Observability: `db.metrics()` (Prometheus), `db.registerMetrics(registry)` (prom-client),
 * OpenTelemetry span attributes and events, `db.readiness()`. See docs/observability.md.
 *
 * @example
 * import type { ReadinessReport } from 'split-knex';
 */
export { observabilitySubsystem } from './install-observability';
export type { ObservabilityMethods } from './install-observability';
export { PROMETHEUS_CONTENT_TYPE, formatExposition } from './metric-family';
export type { MetricFamily, MetricSample, MetricType } from './metric-family';
export type { MetricRegistry } from './prom-client-metrics';
export type { ReadinessOptions, ReadinessReport, ReadinessPrimary, ReadinessReplica } from './readiness';
export { SPAN_ATTRIBUTES } from './route-tracing';
export type { RouteReasonKind } from './route-reason';
