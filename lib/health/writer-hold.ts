import type { NormalizedClock } from '../clock';
import type { Node } from '../route/node';
import type { Statement } from '../route/statement';

/** How often the nodes are probed while a statement is held (a promotion is seen within this). */
export const HOLD_PROBE_MS = 50;

/** What {@link WriterHold} asks of the health checks. */
export interface WriterWatch {
  /** The node writes go to now. */
  writer(): Node;
  /** Why the writer cannot take statements now, if it cannot (down, a standby). */
  refusal(writer: Node): Error | undefined;
  /** Asks for a probe of every node within `delayMs`. */
  hurry(delayMs: number): void;
  /** Resolves at the next probe result or failure, of any node. */
  nextChange(): Promise<void>;
}

/** Counters of the hold for `stats().health.hold`. */
export interface HoldStats {
  /** Statements that had to wait for a writer. */
  held: number;
  /** Of those, the ones a writer took in time. */
  released: number;
  /** Of those, the ones that waited the whole bound and failed. */
  timedOut: number;
  /** Total time statements waited, in ms. */
  waitedMs: number;
}

/**
 * The bounded hold of `failover.holdWritesMs`: a statement bound for the writer while no
 * writable primary is known waits, each node probed every {@link HOLD_PROBE_MS}, until the
 * health checks know a writer again (then it is routed again) or the bound passes (then the
 * refusal stands). The bound counts once per statement, however often it is held. Only
 * statements never sent are held: the pipeline never hands it one whose outcome is unknown.
 *
 * @example
 * const hold = new WriterHold(8000, clock, watch);
 * const ok = await hold.wait(statement); // true: route it again; false: fail with the refusal
 */
export class WriterHold {
  readonly stats: HoldStats = { held: 0, released: 0, timedOut: 0, waitedMs: 0 };
  private readonly deadlines = new WeakMap<Statement, number>();

  constructor(readonly holdMs: number, private readonly clock: NormalizedClock, private readonly watch: WriterWatch) {}

  /** Waits for a writer; `undefined` when no hold is configured (the refusal stands). */
  wait(statement: Statement): Promise<boolean> | undefined {
    if (this.holdMs <= 0) return undefined;
    return this.waitFor(statement);
  }

  private async waitFor(statement: Statement): Promise<boolean> {
    const began = this.clock.now();
    let deadline = this.deadlines.get(statement);
    if (deadline === undefined) {
      deadline = began + this.holdMs;
      this.deadlines.set(statement, deadline);
      this.stats.held++;
    }
    try {
      for (;;) {
        if (this.watch.refusal(this.watch.writer()) === undefined) {
          this.stats.released++;
          return true;
        }
        const left = deadline - this.clock.now();
        if (left <= 0) {
          this.stats.timedOut++;
          return false;
        }
        this.watch.hurry(HOLD_PROBE_MS);
        await this.changeOrTimeout(Math.min(left, HOLD_PROBE_MS * 2));
      }
    } finally {
      this.stats.waitedMs += this.clock.now() - began;
    }
  }

  private changeOrTimeout(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, ms);
      void this.watch.nextChange().then(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }
}
