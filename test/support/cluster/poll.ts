/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** Give up after this many ms. */
  timeoutMs: number;
  /** Pause between attempts in ms (default 25). */
  intervalMs?: number;
  /** Completes "timed out after N ms waiting for …" in the error. */
  what: string;
  /** Adds detail (e.g. a log tail) to the timeout error. */
  describe?: () => Promise<string> | string;
}

/**
 * Resolves after `ms` without keeping the process alive.
 *
 * @example
 * await sleep(100);
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Calls `check` until it returns true; errors thrown by `check` count as "not yet"
 * and the last one becomes the timeout error's `cause`.
 *
 * @example
 * await pollUntil(async () => (await ping()) === 'ok', { timeoutMs: 5000, what: 'ping' });
 */
export async function pollUntil(check: () => Promise<boolean>, options: PollOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(options.intervalMs ?? 25, Math.max(1, deadline - Date.now())));
  }
  let detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
  if (options.describe) detail += `\n${await options.describe()}`;
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail}`, {
    cause: lastError,
  });
}
