/** Number formats shared by the report's sections. */
export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
/** A ratio with three decimals and a × sign. */
export const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(3)}×` : '–');
/** Milliseconds: 2 decimals below 10, 1 above. */
export const ms = (x: number): string => (Number.isFinite(x) ? (x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '–');
/** Whole operations per second (or µs). */
export const ops = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');
/** 'point SELECT' or '10-row SELECT'. */
export const queryLabel = (q: string): string => (q === 'point' ? 'point SELECT' : '10-row SELECT');
