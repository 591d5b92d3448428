import { SplitKnexError } from '../errors';
import type { MetricFamily, MetricType } from './metric-family';

/**
 * The part of a prom-client `Registry` split-knex uses: `registerMetric`. A duck type, so
 * that split-knex needs no import of prom-client (an optional peer).
 *
 * @example
 * import { register } from 'prom-client';
 * db.registerMetrics(register);
 */
export interface MetricRegistry {
  registerMetric(metric: never): void;
}

/** A metric in the shape a prom-client registry collects (what its own metrics' `get()` returns). @internal */
export interface CollectedMetric {
  name: string;
  help: string;
  type: MetricType;
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: MetricType; aggregator: 'sum'; values: Array<{ labels: Record<string, string>; value: number }> }>;
  reset(): void;
}

/**
 * Registers one prom-client metric per family into `registry`. Each scrape reads
 * `db.stats()` once (the first family asked takes the snapshot the others of the same scrape
 * share), so the application's `/metrics` serves split-knex's series beside its own.
 *
 * @example
 * registerFamilies(register, () => collectMetricFamilies(db.stats(), counters));
 */
export function registerFamilies(registry: MetricRegistry, collect: () => readonly MetricFamily[]): void {
  if (typeof (registry as { registerMetric?: unknown })?.registerMetric !== 'function') {
    throw new SplitKnexError('ESPLIT_CONFIG', 'split-knex: registerMetrics() needs a prom-client Registry (an object with registerMetric())');
  }
  let snapshot: Map<string, MetricFamily> | undefined;
  const familyNamed = (name: string): MetricFamily | undefined => {
    if (snapshot === undefined) {
      snapshot = new Map(collect().map((f) => [f.name, f]));
      // A registry asks every metric in the same turn; the next scrape reads fresh stats.
      queueMicrotask(() => { snapshot = undefined; });
    }
    return snapshot.get(name);
  };
  for (const f of collect()) {
    const metric: CollectedMetric = {
      name: f.name, help: f.help, type: f.type, aggregator: 'sum',
      // `metric.name`, not `f.name`: an OpenMetrics registry renames counters (drops `_total`).
      get: async () => ({
        name: metric.name, help: f.help, type: f.type, aggregator: 'sum',
        values: (familyNamed(f.name)?.samples ?? []).map((s) => ({ labels: { ...s.labels }, value: s.value })),
      }),
      reset() {},
    };
    registry.registerMetric(metric as never);
  }
}
