import type { BackgroundLink } from '../background/background-link';
import type { HealthProbe, ProbeResult } from './health-probe';

/**
 * The one query a probe runs: role and writability, nothing that takes a lock or writes.
 *
 * @example
 * (await link.query(PROBE_SQL)).rows[0] // { in_recovery: true, read_only: 'on' }
 */
export const PROBE_SQL = "select pg_is_in_recovery() as in_recovery, current_setting('transaction_read_only') as read_only";

/**
 * A {@link HealthProbe} over a dedicated background connection: the node's own (shared with
 * its position polls and catalog loads), or, for each host of a multi-host primary, one the
 * probe owns. Never the application's pool: a pool full of hung connections must not hide a
 * healthy server, nor the reverse. The link bounds connect plus query, replaces its
 * connection after a failure, and closes connects still in flight.
 *
 * @example
 * const probe = new LinkProbe(links.of(node), 1000);
 * const { inRecovery } = await probe.probe();
 */
export class LinkProbe implements HealthProbe {
  constructor(
    private readonly link: BackgroundLink,
    private readonly timeoutMs: number,
    /** The probe owns the link (a host of a multi-host primary): `close()` closes it. */
    private readonly owned = false,
  ) {}

  async probe(): Promise<ProbeResult> {
    const began = performance.now();
    const { rows } = await this.link.query(PROBE_SQL, undefined, this.timeoutMs);
    const row = rows[0] ?? {};
    return {
      inRecovery: row.in_recovery === true,
      readOnly: row.read_only === 'on',
      latencyMs: Math.round((performance.now() - began) * 10) / 10,
    };
  }

  // A node's own link is closed with the others by destroy(); an owned one here.
  close(): void {
    if (this.owned) void this.link.close();
  }
}
