import type { Node } from '../route/node';
import type { Access, RouteDecision } from '../route/router';
import type { FailedAttempt } from '../subsystem';
import { routeReasonKind, type RouteReasonKind } from './route-reason';

/** One counted series of routed statements. */
export interface RouteCount {
  node: Node;
  access: Access;
  reason: RouteReasonKind;
  count: number;
}

/** One counted series of retries: from the node that failed to the node that ran it next. */
export interface RetryCount {
  from: Node;
  to: Node;
  phase: 'acquire' | 'query';
  count: number;
}

/**
 * The counters the metrics need beyond `db.stats()`: statements by node, access and kind of
 * route reason (the pipeline's `routed` stage), retries by node pair (its `retried` stage).
 * Each call is a few prefix checks and one increment; nothing is built for a reader that
 * never comes.
 *
 * @example
 * const c = new RouteCounters();
 * c.routed(decision);          // from the `routed` stage
 * c.routes()                   // [{ node, access: 'read', reason: 'read', count: 1 }]
 */
export class RouteCounters {
  private readonly byRoute = new Map<string, RouteCount>();
  private readonly byRetry = new Map<string, RetryCount>();

  /** Counts one routed statement. */
  routed(decision: Pick<RouteDecision, 'node' | 'access' | 'reason'>): void {
    const reason = routeReasonKind(decision.reason, decision.access);
    // Node names are unique within an instance; the separator cannot appear in a kind.
    const key = `${decision.node.name}\u0000${decision.access}\u0000${reason}`;
    const hit = this.byRoute.get(key);
    if (hit !== undefined) hit.count++;
    else this.byRoute.set(key, { node: decision.node, access: decision.access, reason, count: 1 });
  }

  /** Counts one retry. */
  retried(failure: Pick<FailedAttempt, 'node' | 'phase'>, next: Pick<RouteDecision, 'node'>): void {
    const key = `${failure.node.name}\u0000${next.node.name}\u0000${failure.phase}`;
    const hit = this.byRetry.get(key);
    if (hit !== undefined) hit.count++;
    else this.byRetry.set(key, { from: failure.node, to: next.node, phase: failure.phase, count: 1 });
  }

  /** The route series counted so far. */
  routes(): readonly RouteCount[] {
    return [...this.byRoute.values()];
  }

  /** The retry series counted so far. */
  retries(): readonly RetryCount[] {
    return [...this.byRetry.values()];
  }
}
