import { debugLogger } from '../debug-log';
import type { NormalizedClock } from '../clock';
import { SplitKnexError } from '../errors';
import type { Node } from '../route/node';
import type { PlannedStop } from '../topology/topology-source';

const debug = debugLogger('split-knex:health');

/**
 * How long before a planned stop's time writes start to wait, in ms. Writes sent before it
 * have this long, plus the time Patroni takes to check the candidate and CHECKPOINT (70 ms
 * or more measured), to finish before the fast shutdown ends them; it also absorbs that
 * much clock skew between this host and Patroni's.
 */
export const PLANNED_STOP_LEAD_MS = 200;

/** `stats().health.hold.plannedStop`: what the pause for planned stops did. */
export interface PlannedStopStats {
  /**
   * The stop the topology source announces now, if any (writes pause for it only while it
   * is the writer's and its time, less the lead, has come).
   */
  pending: { node: string; at: string | null; reason: string } | null;
  /** Planned stops of the writer that paused writes (held statements: `hold.held`). */
  pauses: number;
}

/**
 * Writes pause before a planned stop of the writer (a Patroni switchover scheduled for
 * later): from {@link PLANNED_STOP_LEAD_MS} before its time, the writer guard refuses the
 * writer, so `failover.holdWritesMs` holds new statements until the health checks elect the
 * new writer (then they run there) or the stop is called off (then they run on the same
 * writer). No statement is in flight on the old leader when its PostgreSQL stops, so none
 * ends with an unknown outcome. The pause ends at the stop's time plus the hold bound at the
 * latest; only with a hold configured, since without one the writes would fail instead.
 *
 * @example
 * const pause = new PlannedStopPause(8000, clock);
 * pause.update(new Map([[writer, { member: 'n1', at: Date.parse(at), reason: 'switchover to n2 scheduled' }]]));
 * pause.refusal(writer); // ESPLIT_PRIMARY_DOWN from at - 200 ms on
 */
export class PlannedStopPause {
  private stops: ReadonlyMap<Node, PlannedStop> = new Map();
  private readonly counted = new WeakSet<PlannedStop>();
  private readonly firstSeen = new WeakMap<PlannedStop, number>();
  private readonly counters = { pauses: 0 };

  constructor(private readonly holdMs: number, private readonly clock: NormalizedClock) {}

  /** The stops the topology source announced, by node (replaces the last set). */
  update(stops: ReadonlyMap<Node, PlannedStop>): void {
    const now = this.clock.now();
    const next = new Map<Node, PlannedStop>();
    for (const [node, stop] of stops) {
      const same = this.stops.get(node);
      // The same announcement read again keeps its identity (its first sighting, its count).
      if (same !== undefined && same.at === stop.at && same.reason === stop.reason) {
        next.set(node, same);
        continue;
      }
      this.firstSeen.set(stop, now);
      next.set(node, stop);
      debug('%s: planned stop (%s)%s', node.name, stop.reason, stop.at === undefined ? '' : ` at ${new Date(stop.at).toISOString()}`);
    }
    this.stops = next;
  }

  /** Why `writer` must not take a statement now (it is about to stop), if it must not. */
  refusal(writer: Node): SplitKnexError | undefined {
    const stop = this.activeStop(writer);
    if (stop === undefined) return undefined;
    if (!this.counted.has(stop)) {
      this.counted.add(stop);
      this.counters.pauses++;
      debug('%s: writes wait for its planned stop (%s)', writer.name, stop.reason);
    }
    const when = stop.at === undefined ? '' : ` at ${new Date(stop.at).toISOString()}`;
    return new SplitKnexError('ESPLIT_PRIMARY_DOWN', `split-knex: the primary (${writer.name}) is about to stop${when} (${stop.reason}); writes wait for the new primary`, {
      node: writer.name, plannedStop: true,
    });
  }

  stats(): PlannedStopStats {
    let pending: PlannedStopStats['pending'] = null;
    for (const [node, stop] of this.stops) {
      pending = { node: node.name, at: stop.at === undefined ? null : new Date(stop.at).toISOString(), reason: stop.reason };
    }
    return { pending, ...this.counters };
  }

  private activeStop(writer: Node): PlannedStop | undefined {
    if (this.holdMs <= 0) return undefined;
    const stop = this.stops.get(writer);
    if (stop === undefined) return undefined;
    const at = stop.at ?? this.firstSeen.get(stop) ?? this.clock.now();
    const now = this.clock.now();
    return now >= at - PLANNED_STOP_LEAD_MS && now <= at + this.holdMs ? stop : undefined;
  }
}
