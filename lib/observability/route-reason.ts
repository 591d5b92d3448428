import type { Access } from '../route/router';

/**
 * The bounded set a route reason is reduced to for metrics and traces. Route reasons are
 * sentences (`volatile function nextval`, `lag: every replica is too far behind (…)`) that
 * name functions, tables and numbers: as a label they would make one series per statement
 * shape. The full sentence stays on the `route` event, the span and the debug log.
 */
export type RouteReasonKind =
  | 'read' | 'write' | 'hint' | 'bound' | 'use_primary' | 'fallback' | 'sticky' | 'causal' | 'lag'
  | 'transaction' | 'read_only_transaction' | 'explicit_connection';

/** Every {@link RouteReasonKind}, in a fixed order (the route counters index by it). */
export const ROUTE_REASON_KINDS: readonly RouteReasonKind[] = Object.freeze([
  'read', 'write', 'hint', 'bound', 'use_primary', 'fallback', 'sticky', 'causal', 'lag',
  'transaction', 'read_only_transaction', 'explicit_connection',
] as const);

// The prefixes the router, the read policies and the knex seam put in front of a reason, by
// first letter: one comparison per statement in the common case. `transaction` and
// `explicit connection` (the seam's words for pinned statements) are whole reasons: the
// classifier's `transaction control BEGIN` is a write.
const BY_FIRST_CHAR: ReadonlyMap<string, ReadonlyArray<readonly [string, RouteReasonKind, boolean]>> = new Map([
  ['h', [['hint: ', 'hint', false]]],
  ['b', [['bound to ', 'bound', false]]],
  ['u', [['usePrimary scope', 'use_primary', false]]],
  ['f', [['fallback to primary', 'fallback', false]]],
  ['s', [['sticky window', 'sticky', false]]],
  ['c', [['causal: ', 'causal', false]]],
  ['l', [['lag: ', 'lag', false]]],
  ['r', [['read-only transaction', 'read_only_transaction', true]]],
  ['t', [['transaction', 'transaction', true]]],
  ['e', [['explicit connection', 'explicit_connection', true]]],
]);

/**
 * The kind of a route reason: why the node was chosen, in one word fit for a label.
 * A classifier's own reason (`read-only SELECT`, `INSERT`) is its access: `read` or `write`.
 *
 * @example
 * routeReasonKind('fallback to primary: no healthy replica', 'read') // 'fallback'
 * routeReasonKind('volatile function nextval', 'write')              // 'write'
 */
export function routeReasonKind(reason: string, access: Access): RouteReasonKind {
  const candidates = BY_FIRST_CHAR.get(reason.charAt(0));
  if (candidates !== undefined) {
    for (const [prefix, kind, whole] of candidates) {
      if (whole ? reason === prefix : reason.startsWith(prefix)) return kind;
    }
  }
  return access;
}
