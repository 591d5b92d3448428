/** What the election needs to know of one node. */
export interface Candidate {
  name: string;
  /** Ejected by the health checks. */
  down: boolean;
  /** The last probe's answer: read-write primary (true), standby or read-only (false), unknown. */
  writable: boolean | undefined;
  /** The node the configuration calls the primary. */
  configured: boolean;
}

/** The election's verdict: keep the writer, or move writes to another node and why. */
export type Election<T> = { writer: T; changed: false } | { writer: T; changed: true; reason: string };

/**
 * Picks the node that takes writes (role discovery). Conservative by design, because a
 * write on the wrong node is lost on the next resync:
 *
 * - the current writer stays while it is not down and does not answer as a standby;
 * - otherwise exactly one other node answering read-write takes over (the configured
 *   primary wins a tie, e.g. when it comes back after a switchover);
 * - when none, or several, answer read-write the writer does not change, and the writer
 *   guard refuses writes (`ESPLIT_PRIMARY_DOWN`) until the situation is clear.
 *
 * A node that answers read-write while the writer is healthy (split brain, or a replica
 * promoted by mistake) never receives writes.
 *
 * @example
 * electWriter(primary, [primary, r1], view) // { writer: r1, changed: true, reason: 'primary is down; r1 answers as primary' }
 */
export function electWriter<T>(current: T, nodes: readonly T[], view: (node: T) => Candidate): Election<T> {
  const cur = view(current);
  if (!cur.down && cur.writable !== false) return { writer: current, changed: false };
  const claimants = nodes.filter((n) => {
    if (n === current) return false;
    const v = view(n);
    return !v.down && v.writable === true;
  });
  let next: T | undefined;
  if (claimants.length === 1) next = claimants[0];
  else if (claimants.length > 1) next = claimants.find((n) => view(n).configured);
  if (next === undefined) return { writer: current, changed: false };
  const why = cur.down ? `${cur.name} is down` : `${cur.name} answers as a standby`;
  return { writer: next, changed: true, reason: `${why}; ${view(next).name} answers as primary` };
}
