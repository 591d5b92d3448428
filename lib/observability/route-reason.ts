import type { Access } from '../route/router';

/**
 * The bounded set a route reason is reduced to for metrics and traces. Route reasons are
 * sentences (`volatile function nextval`, `lag: every replica is too far behind (…)`) that
 * name functions, tables and numbers: as a label they would make one series per statement
 * shape. The full sentence stays on the `route` event and the debug log.
 */
export type RouteReasonKind =
  | 'read' | 'write' | 'hint' | 'bound' | 'use_primary' | 'fallback' | 'sticky' | 'causal' | 'lag'
  | 'transaction' | 'read_only_transaction' | 'explicit_connection';

// Prefixes the router, the read policies and the knex seam put in front of a reason.
const PREFIXES: ReadonlyArray<readonly [string, RouteReasonKind]> = [
  ['hint: ', 'hint'],
  ['bound to ', 'bound'],
  ['usePrimary scope', 'use_primary'],
  ['fallback to primary', 'fallback'],
  ['sticky window', 'sticky'],
  ['causal: ', 'causal'],
  ['lag: ', 'lag'],
  ['read-only transaction', 'read_only_transaction'],
];

// Whole reasons of statements whose connection was chosen before them (the knex seam's words);
// matched exactly: the classifier's `transaction control BEGIN` is a write, not a pinned statement.
const PINNED: ReadonlyMap<string, RouteReasonKind> = new Map([['transaction', 'transaction'], ['explicit connection', 'explicit_connection']]);

/**
 * The kind of a route reason: why the node was chosen, in one word fit for a label.
 * A classifier's own reason (`read-only SELECT`, `INSERT`) is its access: `read` or `write`.
 *
 * @example
 * routeReasonKind('fallback to primary: no healthy replica', 'read') // 'fallback'
 * routeReasonKind('volatile function nextval', 'write')              // 'write'
 */
export function routeReasonKind(reason: string, access: Access): RouteReasonKind {
  const pinned = PINNED.get(reason);
  if (pinned !== undefined) return pinned;
  for (const [prefix, kind] of PREFIXES) if (reason.startsWith(prefix)) return kind;
  return access;
}
