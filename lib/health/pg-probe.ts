import type { HealthProbe, ProbeResult } from './health-probe';
import type { ConnectionSettings } from './node-connection';

/**
 * The one query a probe runs: role and writability, nothing that takes a lock or writes.
 *
 * @example
 * (await client.query(PROBE_SQL)).rows[0] // { in_recovery: true, read_only: 'on' }
 */
export const PROBE_SQL = "select pg_is_in_recovery() as in_recovery, current_setting('transaction_read_only') as read_only";

// The sliver of node-postgres the probe uses (the repository has no @types/pg).
interface PgClient {
  connect(): Promise<void>;
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error' | 'end', listener: (err?: Error) => void): unknown;
}
type PgClientCtor = new (config: ConnectionSettings) => PgClient;
interface Attempt {
  client?: PgClient;
  expired?: boolean;
}

/**
 * A {@link HealthProbe} over its own `pg.Client`, kept open between probes (one idle
 * backend per node, no fork per probe) and replaced after any failure. Never the node's
 * pool: a pool full of hung connections must not hide a healthy server, nor the reverse.
 * Every probe is bounded by `timeoutMs` as a whole (connect + query); on timeout the
 * socket is destroyed, so a server that accepts TCP but never answers costs nothing more.
 *
 * @example
 * const probe = new PgProbe(() => resolveConnection(url), 1000);
 * const { inRecovery } = await probe.probe();
 */
export class PgProbe implements HealthProbe {
  private client: PgClient | undefined;
  private readonly Client: PgClientCtor;

  constructor(
    private readonly settings: () => Promise<ConnectionSettings>,
    private readonly timeoutMs: number,
    Client?: PgClientCtor,
  ) {
    this.Client = Client ?? (require('pg') as { Client: PgClientCtor }).Client;
  }

  probe(): Promise<ProbeResult> {
    const attempt: Attempt = {};
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        attempt.expired = true;
        if (attempt.client !== undefined) this.discard(attempt.client);
        reject(Object.assign(new Error(`health probe timeout expired after ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, this.timeoutMs);
      timer.unref();
    });
    return Promise.race([this.run(attempt), timeout]).finally(() => clearTimeout(timer));
  }

  private async run(attempt: Attempt): Promise<ProbeResult> {
    const kept = this.client;
    if (kept !== undefined) {
      try {
        attempt.client = kept;
        return await this.ask(kept);
      } catch (err) {
        this.discard(kept);
        // The kept connection may be one the server dropped before a restart: only a fresh
        // connection's failure says something about the server now.
        if (attempt.expired === true) throw err;
      }
    }
    try {
      return await this.ask(await this.open(attempt));
    } catch (err) {
      if (attempt.client !== undefined) this.discard(attempt.client);
      throw err;
    }
  }

  private async ask(client: PgClient): Promise<ProbeResult> {
    const began = performance.now();
    const { rows } = await client.query(PROBE_SQL);
    const row = rows[0] ?? {};
    return {
      inRecovery: row.in_recovery === true,
      readOnly: row.read_only === 'on',
      latencyMs: Math.round((performance.now() - began) * 10) / 10,
    };
  }

  private async open(attempt: Attempt): Promise<PgClient> {
    const settings = await this.settings();
    const client = new this.Client({
      ...settings,
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      application_name: 'split-knex-health',
    });
    // An idle probe connection whose server dies emits 'error': unhandled, it would crash the app.
    client.on('error', () => this.forget(client));
    client.on('end', () => this.forget(client));
    attempt.client = client;
    await client.connect();
    // Connected after the probe gave up: nobody would ever close it.
    if (attempt.expired === true) throw new Error('health probe connected after its timeout');
    this.client = client;
    return client;
  }

  private forget(client: PgClient): void {
    if (this.client === client) this.client = undefined;
  }

  // Ends one probe connection; with a query in flight node-postgres destroys the socket.
  private discard(client: PgClient): void {
    this.forget(client);
    client.end().catch(() => undefined);
  }

  /** Drops the probe connection; with a query in flight, node-postgres destroys the socket. */
  close(): void {
    if (this.client !== undefined) this.discard(this.client);
  }
}
