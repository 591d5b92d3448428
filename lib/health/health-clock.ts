import type { NormalizedClock } from '../clock';

/**
 * The clock of the health checks: the one {@link NormalizedClock} (timers included).
 *
 * @deprecated Use `Clock` / `NormalizedClock` from the clock module; kept so public types do not break.
 * @example
 * const clock: HealthClock = normalizeClock({ now: () => 0 });
 */
export type HealthClock = NormalizedClock;

