/**
 * Time and timers for split-knex's background work (health probes, catalog refreshes),
 * injectable so tests need no sleeps. The default uses `Date.now()` and `setTimeout`, with
 * every timer `unref()`ed: background work never keeps a process alive.
 *
 * @example
 * const clock: Clock = { now: () => t, setTimeout: (fn, ms) => queue.push({ fn, at: t + ms }), clearTimeout: () => {} };
 */
export interface Clock {
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
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The clock from the top-level `clock` config key, when it offers what the background work needs:
 * `now()` alone gives timestamps (timers stay real), `setTimeout`/`clearTimeout` too give timers.
 *
 * @example
 * clockFrom({ now: () => 0 }).now() // 0
 */
export function clockFrom(value: unknown): Clock {
  if (value === null || typeof value !== 'object') return systemClock;
  const c = value as Partial<Clock>;
  const timers = typeof c.setTimeout === 'function' && typeof c.clearTimeout === 'function';
  return {
    now: typeof c.now === 'function' ? () => c.now!() : systemClock.now,
    setTimeout: timers ? (fn, ms) => c.setTimeout!(fn, ms) : systemClock.setTimeout,
    clearTimeout: timers ? (h) => c.clearTimeout!(h) : systemClock.clearTimeout,
  };
}
