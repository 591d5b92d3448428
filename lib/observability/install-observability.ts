import type { SplitKnex } from '../split-knex';
import type { SubsystemFactory } from '../subsystem';
import { collectMetricFamilies } from './collect-metric-families';
import { formatExposition } from './metric-family';
import { loadOpenTelemetry } from './open-telemetry';
import { registerFamilies, type MetricRegistry } from './prom-client-metrics';
import { defaultMinReplicas, evaluateReadiness, normalizeReadinessOptions, type ReadinessOptions, type ReadinessReport } from './readiness';
import { RouteCounters } from './route-counters';
import { RouteTracing } from './route-tracing';

/**
 * The methods the observability subsystem adds to the instance.
 *
 * @example
 * app.get('/metrics', (req, res) => res.type('text/plain').send(db.metrics()));
 * app.get('/ready', async (req, res) => { const r = await db.readiness(); res.status(r.ok ? 200 : 503).json(r) });
 */
export interface ObservabilityMethods {
  /** Every split-knex metric in the Prometheus text exposition format (docs/observability.md). */
  metrics(): string;
  /** Registers the same metrics into a prom-client `Registry`, read from `db.stats()` at each scrape. */
  registerMetrics(registry: MetricRegistry): void;
  /**
   * For readiness probes: whether the instance can serve, from what the background work
   * already measured (no query, no new connection). Starts background work on a fresh instance.
   */
  readiness(options?: ReadinessOptions): Promise<ReadinessReport>;
}

declare module '../split-knex' {
  interface SplitKnex<TRecord extends {} = any, TResult = any[]> extends ObservabilityMethods {}
}

/**
 * The observability subsystem: metrics (Prometheus text, or into a prom-client registry),
 * OpenTelemetry span attributes and events when `@opentelemetry/api` is installed, and the
 * readiness report. Joins the `routed` and `retried` stages (a counter increment each, plus
 * span attributes when a span records) and reads everything else from `db.stats()` when asked.
 *
 * @example
 * // lib/subsystems.ts
 * export const SUBSYSTEMS = [healthSubsystem, …, doctorSubsystem, observabilitySubsystem];
 */
export const observabilitySubsystem: SubsystemFactory = (ctx) => {
  const counters = new RouteCounters();
  const api = loadOpenTelemetry();
  const tracing = api === undefined ? undefined : new RouteTracing(api);
  if (tracing !== undefined) ctx.events.on('failover', (event) => tracing.failover(event));
  // `stats` and `ready` are the instance's own methods, attached once it is composed.
  const db = (): SplitKnex => ctx.instance as SplitKnex;
  const families = () => collectMetricFamilies(db().stats(), counters);
  const minReplicas = defaultMinReplicas(ctx.config.routing.fallback, ctx.replicas.length);

  const methods: ObservabilityMethods = {
    metrics: () => formatExposition(families()),
    registerMetrics: (registry) => registerFamilies(registry, families),
    readiness: async (options) => {
      const normalized = normalizeReadinessOptions(options, minReplicas);
      if (db().stats().background.state === 'created') {
        // A probe before the first query: start the background work (once), so the next
        // probes report what it measured. A failure here is what the report then shows.
        await db().ready().catch(() => undefined);
      }
      return evaluateReadiness(db().stats(), normalized, ctx.clock.now());
    },
  };

  return {
    name: 'observability',
    routed: tracing === undefined
      ? (decision) => counters.routed(decision)
      : (decision, _statement, inTransaction) => {
        counters.routed(decision);
        tracing.routed(decision, inTransaction);
      },
    retried: tracing === undefined
      ? (failure, next) => counters.retried(failure, next)
      : (failure, next) => {
        counters.retried(failure, next);
        tracing.retried(failure, next);
      },
    methods: methods as unknown as Record<string, (...args: any[]) => unknown>,
  };
};
