import type { NodeState } from '../route/node';
import { describeError } from './connection-error';
import { isWritable, type ProbeResult } from './health-probe';

/** A change of state, as {@link NodeHealth} reports it. */
export interface StateChange {
  from: NodeState;
  to: NodeState;
}

/** Where a failure was seen: the background probe, or a query of the application. */
export type FailureSource = 'probe' | 'traffic';

/**
 * The health of one node as a small state machine, free of timers and I/O:
 *
 * - `up` → `suspect` on the first failure; `suspect` → `down` after `failuresToDown`
 *   consecutive failures; any successful probe → `up`.
 * - Failures of the application's own queries count once between two probes: a dead
 *   server fails every pooled connection at once, and that is one piece of evidence, not
 *   eight. The probe that follows (the monitor runs one at once) gives the second.
 * - A `down` node is re-probed with backoff: `intervalMs`, doubling up to `maxBackoffMs`.
 *
 * @example
 * const h = new NodeHealth(2);
 * h.fail(new Error('Connection terminated'), 'traffic', 0); // { from: 'up', to: 'suspect' }
 * h.fail(refused, 'probe', 10);                             // { from: 'suspect', to: 'down' }
 * h.succeed({ inRecovery: true, readOnly: true, latencyMs: 1 }, 900); // { from: 'down', to: 'up' }
 */
export class NodeHealth {
  state: NodeState = 'up';
  /** Consecutive failures since the last successful probe. */
  failures = 0;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  /** The error object itself, attached as `cause` to `ESPLIT_PRIMARY_DOWN`. */
  lastCause: unknown;
  lastProbe: ProbeResult | undefined;
  lastProbeAt: number | undefined;
  downSince: number | undefined;
  /** How many times it was ejected / re-admitted. */
  ejections = 0;
  readmissions = 0;
  probes = 0;
  probeFailures = 0;
  private trafficCounted = false;

  constructor(private readonly failuresToDown: number) {}

  /** Records a successful probe; returns the state change, if any. */
  succeed(result: ProbeResult, now: number): StateChange | undefined {
    this.probes++;
    this.failures = 0;
    this.trafficCounted = false;
    this.lastProbe = result;
    this.lastProbeAt = now;
    return this.moveTo('up', now);
  }

  /** Records a failure; returns the state change, if any. */
  fail(err: unknown, source: FailureSource, now: number): StateChange | undefined {
    this.lastError = describeError(err);
    this.lastErrorAt = now;
    this.lastCause = err;
    if (source === 'probe') {
      this.probes++;
      this.probeFailures++;
      this.trafficCounted = false;
      this.lastProbeAt = now;
    } else {
      if (this.trafficCounted || this.state === 'down') return undefined;
      this.trafficCounted = true;
    }
    this.failures++;
    return this.moveTo(this.failures >= this.failuresToDown ? 'down' : 'suspect', now);
  }

  /** Delay before the next probe: the interval, or the backoff of a down node. */
  nextDelay(intervalMs: number, maxBackoffMs: number): number {
    if (this.state !== 'down') return intervalMs;
    const doublings = Math.min(this.failures - this.failuresToDown, 20);
    return Math.min(intervalMs * 2 ** Math.max(doublings, 0), maxBackoffMs);
  }

  /** What the last successful probe said: writable, a standby, or not known yet. */
  get writable(): boolean | undefined {
    return this.lastProbe === undefined ? undefined : isWritable(this.lastProbe);
  }

  private moveTo(to: NodeState, now: number): StateChange | undefined {
    const from = this.state;
    if (from === to || (from === 'down' && to === 'suspect')) return undefined;
    this.state = to;
    if (to === 'down') {
      this.ejections++;
      this.downSince = now;
    } else if (from === 'down') {
      this.readmissions++;
      this.downSince = undefined;
    }
    return { from, to };
  }
}
