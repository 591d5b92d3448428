import type { Node } from './node';

/** The primary's reads are "slower than the replicas'" at this many times the fastest replica's. */
export const SLOWER_RATIO = 2;
/** …and only when they take at least this long (ms): below it, queueing is not the problem. */
export const SLOWER_FLOOR_MS = 2;
/** A node's read time counts only while its last read ended this recently (ms). */
export const READ_TIME_FRESH_MS = 1000;

/**
 * True when reads sent to `primary` now take much longer than reads on the fastest available
 * replica: the primary's moving average at least {@link SLOWER_FLOOR_MS} and over
 * {@link SLOWER_RATIO} times the replica's, both measured within {@link READ_TIME_FRESH_MS}
 * of `now` (`performance.now()`). Under load that is a saturated primary (its CPU, its pool,
 * its locks), where a read that may wait for a replica should. Unknown (no fresh reads on
 * either side) is false: a primary nobody has measured is not called slow.
 *
 * @example
 * primaryReadsSlower(router.currentWriter, router.replicas, performance.now()) // false on an idle cluster
 */
export function primaryReadsSlower(primary: Node, replicas: readonly Node[], now: number): boolean {
  const p = primary.readMs;
  if (p === undefined || p < SLOWER_FLOOR_MS || now - primary.readAt > READ_TIME_FRESH_MS) return false;
  let fastest = Infinity;
  for (const r of replicas) {
    if (r !== primary && r.available && r.readMs !== undefined && now - r.readAt <= READ_TIME_FRESH_MS && r.readMs < fastest) fastest = r.readMs;
  }
  return p > SLOWER_RATIO * fastest;
}
