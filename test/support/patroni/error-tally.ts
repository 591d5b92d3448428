/**
 * An error's SQLSTATE or split-knex code, else the start of its message: what the lane's
 * failure tallies count.
 *
 * @example
 * codeOf(new SplitKnexError('ESPLIT_WRITE_UNKNOWN', '…')) // 'ESPLIT_WRITE_UNKNOWN'
 */
export function codeOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' ? e.code : String(e.message ?? err).slice(0, 60);
}

/**
 * Failures counted by error, as JSON for a figure line.
 *
 * @example
 * tally([{ error: 'ESPLIT_WRITE_UNKNOWN' }, { error: 'ESPLIT_WRITE_UNKNOWN' }]) // '{"ESPLIT_WRITE_UNKNOWN":2}'
 */
export function tally(items: Array<{ error?: string }>): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.error ?? '?', (counts.get(i.error ?? '?') ?? 0) + 1);
  return JSON.stringify(Object.fromEntries(counts));
}
