import type { FailoverEvent } from '../health/health-events';
import type { RouteDecision } from '../route/router';
import type { FailedAttempt } from '../subsystem';
import type { OpenTelemetryApi } from './open-telemetry';
import { routeReasonKind } from './route-reason';

/** The span attributes split-knex sets on the active span of each statement. */
export const SPAN_ATTRIBUTES = Object.freeze({
  node: 'split_knex.node',
  role: 'split_knex.role',
  access: 'split_knex.access',
  reason: 'split_knex.route_reason',
  reasonKind: 'split_knex.route_reason_kind',
  inTransaction: 'split_knex.in_transaction',
});

/**
 * Puts routing on the application's traces: the node, role and route reason as attributes of
 * the span active when a statement is routed (the request's span, or the one around the
 * query), a `split_knex.retry` event on it for each retry, and for each failover a short
 * `split-knex failover` span of its own (a failover is found by background probes, outside
 * any request). Nothing is done when no span records.
 *
 * @example
 * const tracing = new RouteTracing(api);
 * tracing.routed(decision, false); // from the `routed` stage
 */
export class RouteTracing {
  constructor(private readonly api: OpenTelemetryApi) {}

  /** Sets the routing attributes on the active span. */
  routed(decision: RouteDecision, inTransaction: boolean): void {
    const span = this.api.trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) return;
    span.setAttributes({
      [SPAN_ATTRIBUTES.node]: decision.node.name,
      [SPAN_ATTRIBUTES.role]: decision.node.role,
      [SPAN_ATTRIBUTES.access]: decision.access,
      [SPAN_ATTRIBUTES.reason]: decision.reason,
      [SPAN_ATTRIBUTES.reasonKind]: routeReasonKind(decision.reason, decision.access),
      [SPAN_ATTRIBUTES.inTransaction]: inTransaction,
    });
  }

  /** Adds a `split_knex.retry` event to the active span. */
  retried(failure: FailedAttempt, next: RouteDecision): void {
    const span = this.api.trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) return;
    const code = (failure.err as { code?: unknown } | undefined)?.code;
    span.addEvent('split_knex.retry', {
      'split_knex.from_node': failure.node.name,
      'split_knex.to_node': next.node.name,
      'split_knex.attempt': failure.attempt,
      'split_knex.phase': failure.phase,
      // The code only: an error's message may quote row values.
      ...(typeof code === 'string' ? { 'error.type': code } : {}),
    });
  }

  /** Records a failover as a span of its own carrying a `split_knex.failover` event. */
  failover(event: FailoverEvent): void {
    const attributes = {
      'split_knex.from_node': event.from,
      'split_knex.to_node': event.to,
      'split_knex.failover_reason': event.reason,
      ...(event.fromHost === undefined ? {} : { 'split_knex.from_host': event.fromHost }),
      ...(event.toHost === undefined ? {} : { 'split_knex.to_host': event.toHost }),
    };
    // A root span: the background probe that found the failover runs in whatever context
    // started the instance (often a request long finished), which must not be its parent.
    const span = this.api.trace.getTracer('split-knex').startSpan('split-knex failover', { root: true, attributes });
    span.addEvent('split_knex.failover', attributes);
    span.end();
  }
}
