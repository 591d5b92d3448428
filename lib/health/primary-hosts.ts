import { debugLogger } from '../debug-log';
import { SplitKnexError } from '../errors';
import { describeError } from './connection-error';
import { isWritable, type HealthProbe, type ProbeResult } from './health-probe';
import { hostLabel, resolveConnection, withConnectTimeout, type ConnectionSettings } from './node-connection';
import { BackgroundLink } from '../background/background-link';
import { LinkProbe } from './link-probe';

const debug = debugLogger('split-knex:health');

/** One host of a primary listed with several hosts. */
interface Host {
  connection: unknown;
  label: string;
  probe: HealthProbe;
}

/**
 * A primary listed with several hosts (libpq's `target_session_attrs=read-write`): the
 * pool connects to the host that last answered as a read-write primary. It is the primary
 * node's {@link HealthProbe} too: a probe asks the current host, and when that one fails
 * or answers as a standby, asks them all and switches to the first (in the listed order)
 * that answers read-write. A switch expires the pool's connection settings, so knex
 * discards connections to the old host as they are next taken.
 *
 * @example
 * const hosts = new PrimaryHosts(['postgres://app@h1/app', 'postgres://app@h2/app'], { timeoutMs: 1000, connectTimeoutMs: 5000 });
 * knexConfig.connection = hosts.provider();
 */
export class PrimaryHosts implements HealthProbe {
  private readonly hosts: Host[];
  private current: number | undefined;
  private generation = 0;
  private scanning: Promise<ProbeResult> | undefined;
  private lastScan = 'not asked yet';
  // The host used before invalidate(): a later switch is still a failover from it.
  private lastHost: string | undefined;
  /** Told when the host answering as primary changes (from is undefined at first discovery). */
  onSwitch: ((from: string | undefined, to: string, reason: string) => void) | undefined;

  constructor(
    connections: readonly unknown[],
    private readonly options: { timeoutMs: number; connectTimeoutMs: number; makeProbe?: (connection: unknown) => HealthProbe },
  ) {
    this.hosts = connections.map((connection) => {
      const label = typeof connection === 'string' ? hostLabel({ connectionString: connection }) : hostLabel(connection as ConnectionSettings);
      const link = (): HealthProbe => new LinkProbe(new BackgroundLink({
        node: label, settings: () => resolveConnection(connection), timeoutMs: options.timeoutMs, applicationName: 'split-knex health',
      }), options.timeoutMs, true);
      return { connection, label, probe: options.makeProbe?.(connection) ?? link() };
    });
  }

  /** `host:port` of every listed host, in order. */
  get labels(): string[] {
    return this.hosts.map((h) => h.label);
  }

  /** `host:port` of the host in use, if one is known. */
  get currentHost(): string | undefined {
    return this.current === undefined ? undefined : this.hosts[this.current]!.label;
  }

  /**
   * The knex `connection` provider for the primary's pool: the current host's settings,
   * discovering it first when unknown; expires when the host changes.
   */
  provider(): () => Promise<ConnectionSettings> {
    return async () => {
      if (this.current === undefined) await this.scan('no host known yet');
      const index = this.current;
      if (index === undefined) {
        throw new SplitKnexError('ESPLIT_PRIMARY_DOWN', `split-knex: no host of the primary answers as read-write (${this.lastScan})`, { node: 'primary' });
      }
      const generation = this.generation;
      const settings = withConnectTimeout(await resolveConnection(this.hosts[index]!.connection), this.options.connectTimeoutMs) as ConnectionSettings;
      return { ...settings, expirationChecker: () => this.generation !== generation };
    };
  }

  /** Forgets the current host (it refused a connection): the next connection looks again. */
  invalidate(): void {
    if (this.current === undefined) return;
    this.lastHost = this.currentHost;
    this.current = undefined;
    this.generation++;
  }

  async probe(): Promise<ProbeResult> {
    const index = this.current;
    if (index !== undefined) {
      const host = this.hosts[index]!;
      try {
        const r = await host.probe.probe();
        if (isWritable(r)) return { ...r, host: host.label };
      } catch {
        // Ask every host below.
      }
    }
    return this.scan(index === undefined ? 'no host known yet' : `${this.hosts[index]!.label} no longer answers as primary`);
  }

  // Probes every host at once; the first in the listed order that is read-write wins.
  private scan(reason: string): Promise<ProbeResult> {
    this.scanning ??= this.scanOnce(reason).finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  private async scanOnce(reason: string): Promise<ProbeResult> {
    const results = await Promise.allSettled(this.hosts.map((h) => h.probe.probe()));
    const writable = results.findIndex((r) => r.status === 'fulfilled' && isWritable(r.value));
    if (writable >= 0) {
      const from = this.currentHost ?? this.lastHost;
      if (this.current !== writable) {
        this.current = writable;
        this.lastHost = undefined;
        this.generation++;
        debug('primary host %s -> %s (%s)', from ?? '(none)', this.hosts[writable]!.label, reason);
        if (from !== this.hosts[writable]!.label) this.onSwitch?.(from, this.hosts[writable]!.label, reason);
      }
      return { ...(results[writable] as PromiseFulfilledResult<ProbeResult>).value, host: this.hosts[writable]!.label };
    }
    const summary = results.map((r, i) => `${this.hosts[i]!.label}: ${r.status === 'fulfilled' ? (r.value.inRecovery ? 'in recovery' : 'read-only') : describeError(r.reason)}`);
    this.lastScan = summary.join('; ');
    const reachable = results.findIndex((r) => r.status === 'fulfilled');
    if (reachable >= 0) {
      // Alive but a standby: the node is up, and the writer guard refuses writes.
      return { ...(results[reachable] as PromiseFulfilledResult<ProbeResult>).value, host: this.hosts[reachable]!.label };
    }
    const firstFailure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    throw new SplitKnexError('ESPLIT_PRIMARY_DOWN', `split-knex: no host of the primary answers as read-write (${this.lastScan})`, {
      node: 'primary', cause: firstFailure,
    });
  }

  close(): void {
    for (const h of this.hosts) h.probe.close();
  }
}
