/**
 * A share as a percentage with one decimal.
 *
 * @example
 * pct(0.4531) // '45.3%'
 */
export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * A ratio with three decimals and a × sign ('–' when not finite).
 *
 * @example
 * ratio(0.9512) // '0.951×'
 */
export const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(3)}×` : '–');

/**
 * Milliseconds: 2 decimals below 10, 1 above.
 *
 * @example
 * ms(3.14159) // '3.14'
 */
export const ms = (x: number): string => (Number.isFinite(x) ? (x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '–');

/**
 * A whole number (operations per second, µs).
 *
 * @example
 * ops(1234.6) // '1235'
 */
export const ops = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');

/**
 * The report's name for an overhead query.
 *
 * @example
 * queryLabel('range10') // '10-row SELECT'
 */
export const queryLabel = (q: string): string => (q === 'point' ? 'point SELECT' : '10-row SELECT');
