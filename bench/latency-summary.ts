/**
 * Order statistics for benchmark samples.
 *
 * @example
 * percentile([3, 1, 2], 0.5) // 2
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  // Nearest-rank: the smallest value with at least p of the samples at or below it.
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The median (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** p50 and p99 of latencies in ms. */
export interface LatencySummary {
  p50: number;
  p99: number;
}

/** Summarises latencies (ms). */
export function summarize(latencies: readonly number[]): LatencySummary {
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}
