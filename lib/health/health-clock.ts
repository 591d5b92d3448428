/**
 * Time and timers for the health checks, injectable so tests need no sleeps. The default
 * uses `Date.now()` and `setTimeout`, with every timer `unref()`ed: probes never keep a
 * process alive.
 *
 * @example
 * const clock: HealthClock = { now: () => t, setTimeout: (fn, ms) => queue.push({ fn, at: t + ms }), clearTimeout: () => {} };
 */
export interface HealthClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock.
 *
 * @example
 * systemClock.setTimeout(() => probe(), 1000); // unref()ed
 */
export const systemClock: HealthClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The clock from the top-level `clock` config key, when it offers what health needs:
 * `now()` alone gives timestamps (timers stay real), `setTimeout`/`clearTimeout` too give timers.
 *
 * @example
 * healthClock({ now: () => 0 }).now() // 0
 */
export function healthClock(value: unknown): HealthClock {
  if (value === null || typeof value !== 'object') return systemClock;
  const c = value as Partial<HealthClock>;
  const timers = typeof c.setTimeout === 'function' && typeof c.clearTimeout === 'function';
  return {
    now: typeof c.now === 'function' ? () => c.now!() : systemClock.now,
    setTimeout: timers ? (fn, ms) => c.setTimeout!(fn, ms) : systemClock.setTimeout,
    clearTimeout: timers ? (h) => c.clearTimeout!(h) : systemClock.clearTimeout,
  };
}
