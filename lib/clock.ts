import { configError } from './errors';

/**
 * The one clock of split-knex: the time source of every subsystem (health probes, catalog
 * refreshes, sticky windows and consistency tokens, cache expiry), injectable through the
 * top-level `clock` key so tests need no sleeps. `now()` is required and returns
 * milliseconds on the wall clock (consistency tokens carry absolute times). The timers are
 * optional: give both to drive background work from a test, or neither to keep real,
 * `unref()`ed timers. `setTimeout` may return any handle, or none: `clearTimeout` gets back
 * what it returned.
 *
 * @example
 * const clock: Clock = { now: () => t, setTimeout: (fn, ms) => queue.push({ fn, at: t + ms }), clearTimeout: () => {} };
 * splitKnex({ client: 'pg', connection, replicas, clock });
 */
export interface Clock {
  now(): number;
  setTimeout?(fn: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
}

/**
 * A {@link Clock} after {@link normalizeClock}: timers always present (the system's when the
 * configured clock has none).
 *
 * @example
 * const clock: NormalizedClock = normalizeClock({ now: () => 0 });
 * clock.setTimeout(() => probe(), 1000); // a real, unref()ed timer
 */
export type NormalizedClock = Required<Clock>;

/**
 * The real clock: `Date.now()` and `setTimeout`, with every timer `unref()`ed so background
 * work never keeps a process alive.
 *
 * @example
 * systemClock.setTimeout(() => probe(), 1000); // unref()ed
 */
export const systemClock: NormalizedClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Validates the top-level `clock` key: `undefined` gives {@link systemClock}; anything else
 * must have a `now()` function, and `setTimeout`/`clearTimeout` functions both or neither.
 * Throws `ESPLIT_CONFIG` naming `clock` otherwise. The only validator of clocks.
 *
 * @example
 * normalizeClock({ now: () => 0 }).now() // 0, with real timers
 * normalizeClock(42)                     // throws: config key "clock" must be an object with a now() method …
 */
export function normalizeClock(value: unknown): NormalizedClock {
  if (value === undefined) return systemClock;
  // `Date` itself is a fine clock: a function object with a now().
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || typeof (value as Clock).now !== 'function') {
    throw configError('clock', value, 'must be an object with a now() method returning milliseconds (and optionally setTimeout/clearTimeout)');
  }
  const c = value as Clock;
  const set = (c as { setTimeout?: unknown }).setTimeout;
  const clear = (c as { clearTimeout?: unknown }).clearTimeout;
  if ((set !== undefined && typeof set !== 'function') || (clear !== undefined && typeof clear !== 'function')) {
    throw configError('clock', value, 'must have setTimeout and clearTimeout functions (or neither)');
  }
  if ((set === undefined) !== (clear === undefined)) {
    // Half a timer pair would cancel fake timers with real clearTimeout (or the reverse).
    throw configError('clock', value, 'must have both setTimeout and clearTimeout, or neither (real timers are used then)');
  }
  if (set === undefined) return { now: () => c.now(), setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
  // The subsystems tell an armed timer by its handle: each timer gets one of its own, whatever
  // the configured clock returns (a fake may return nothing), and the clock gets its own back.
  return {
    now: () => c.now(),
    setTimeout: (fn, ms) => new TimerHandle(c.setTimeout!(fn, ms)),
    clearTimeout: (h) => c.clearTimeout!(h instanceof TimerHandle ? h.inner : h),
  };
}

class TimerHandle {
  constructor(readonly inner: unknown) {}
}
