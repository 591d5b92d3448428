import type { BackgroundLink } from '../background/background-link';
import type { HealthProbe, ProbeResult } from './health-probe';
import { PROBE_SQL } from './pg-probe';

/**
 * A {@link HealthProbe} over the node's dedicated background connection (shared with the
 * position polls and catalog loads of the same node, never the application's pool). The
 * link bounds connect plus query and replaces its connection after a failure.
 *
 * @example
 * const probe = new LinkProbe(links.of(node), 1000);
 * const { inRecovery } = await probe.probe();
 */
export class LinkProbe implements HealthProbe {
  constructor(private readonly link: BackgroundLink, private readonly timeoutMs: number) {}

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

  // The link is closed with the others by destroy().
  close(): void {}
}
