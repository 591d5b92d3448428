import type { Node } from '../route/node';
import type { Access, RouteDecision } from '../route/router';
import type { FailedAttempt } from '../subsystem';
import { ROUTE_REASON_KINDS, routeReasonKind, type RouteReasonKind } from './route-reason';

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

const SLOT_OF_KIND = new Map(ROUTE_REASON_KINDS.map((k, i) => [k, i * 2]));

/**
 * The counters the metrics need beyond `db.stats()`: statements by node, access and kind of
 * route reason (the pipeline's `routed` stage), retries by node pair (its `retried` stage).
 * A routed statement costs one prefix check and one array increment; nothing is built for a
 * reader that never comes.
 *
 * @example
 * const c = new RouteCounters();
 * c.routed(decision);          // from the `routed` stage
 * c.routes()                   // [{ node, access: 'read', reason: 'read', count: 1 }]
 */
export class RouteCounters {
  // Per node: one slot per (kind, access), kind-major.
  private readonly byNode = new Map<Node, Float64Array>();
  private readonly byRetry = new Map<string, RetryCount>();

  /** Counts one routed statement. */
  routed(decision: Pick<RouteDecision, 'node' | 'access' | 'reason'>): void {
    let slots = this.byNode.get(decision.node);
    if (slots === undefined) {
      slots = new Float64Array(ROUTE_REASON_KINDS.length * 2);
      this.byNode.set(decision.node, slots);
    }
    const slot = SLOT_OF_KIND.get(routeReasonKind(decision.reason, decision.access))! + (decision.access === 'write' ? 1 : 0);
    slots[slot]!++;
  }

  /** Counts one retry (rare: a string key is fine here). */
  retried(failure: Pick<FailedAttempt, 'node' | 'phase'>, next: Pick<RouteDecision, 'node'>): void {
    const key = `${failure.node.name}\u0000${next.node.name}\u0000${failure.phase}`;
    const hit = this.byRetry.get(key);
    if (hit !== undefined) hit.count++;
    else this.byRetry.set(key, { from: failure.node, to: next.node, phase: failure.phase, count: 1 });
  }

  /** The route series counted so far (those never seen are left out). */
  routes(): RouteCount[] {
    const out: RouteCount[] = [];
    for (const [node, slots] of this.byNode) {
      ROUTE_REASON_KINDS.forEach((reason, i) => {
        for (const [access, offset] of [['read', 0], ['write', 1]] as const) {
          const count = slots[i * 2 + offset]!;
          if (count > 0) out.push({ node, access, reason, count });
        }
      });
    }
    return out;
  }

  /** The retry series counted so far. */
  retries(): RetryCount[] {
    return [...this.byRetry.values()];
  }
}
