/**
 * A topology source could not answer, or answered something unusable. `code` is
 * `ESPLIT_TOPOLOGY`; the message names what was tried (URLs without credentials, member
 * names) and why each attempt failed; `cause` holds the underlying error(s).
 *
 * @example
 * try { await source.read() }
 * catch (e) { if (e instanceof TopologyError) console.warn(e.message) }
 */
export class TopologyError extends Error {
  readonly code = 'ESPLIT_TOPOLOGY' as const;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TopologyError';
  }
}
