import { SplitKnexError } from '../errors';
import type { Node } from '../route/node';

/** What {@link primaryUnusable} asks of the router. */
export interface WriterView {
  readonly currentWriter: Node;
  writerRefusal(writer: Node): Error | undefined;
}

/**
 * True when the primary cannot take a read that read-your-writes sends it: known down, or
 * refused by a writer guard (e.g. it answers as a standby). Then such a read goes to the
 * freshest replica instead (availability wins, and stats() counts it). A pause before a
 * planned stop is not "down": the primary is up and has every write, so the read waits
 * with the writes for the next primary (a replica might not have the last write yet).
 *
 * @example
 * const primaryDown = () => primaryUnusable(router);
 */
export function primaryUnusable(router: WriterView): boolean {
  const writer = router.currentWriter;
  if (writer.state === 'down') return true;
  const refusal = router.writerRefusal(writer);
  return refusal !== undefined && !(refusal instanceof SplitKnexError && refusal.plannedStop);
}
