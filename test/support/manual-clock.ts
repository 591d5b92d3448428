import type { NormalizedClock } from '../../lib/clock';

/** Lets settled promises and the callbacks they schedule run (a few event-loop turns). */
export const flushTurns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/**
 * An instance's clock whose timers run only when the test advances time: `advance(ms)`
 * fires what falls due in order, moving the time to each, with a few event-loop turns after
 * each so the work they start can settle.
 *
 * @example
 * const clock = new ManualClock();
 * splitKnex({ …, clock }); await clock.advance(1000);
 */
export class ManualClock implements NormalizedClock {
  t = 0;
  private seq = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.set(++this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(handle: unknown): void { this.timers.delete(handle as number); }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await flushTurns();
    }
    this.t = end;
    await flushTurns();
  }
}
