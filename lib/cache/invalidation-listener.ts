import { debugLogger } from '../debug-log';
import { parseWalPosition } from '../wal-position';
import { REACHABLE_INSERT_POSITION } from './lsn';

const debug = debugLogger('split-knex:cache');

/** The part of a `pg.Client` the listener uses. */
interface ListenClient {
  connect(): Promise<void>;
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  on(event: 'notification', fn: (msg: { channel: string; payload?: string }) => void): unknown;
}

/** Options of an {@link InvalidationListener}. */
export interface InvalidationListenerOptions {
  channel: string;
  /** The primary's connection settings, as `new pg.Client(settings)` takes them. */
  settings: () => Promise<unknown>;
  onMessage(payload: string): void;
  /** Listening (again); `lsn` is the primary's WAL position just after LISTEN took effect. */
  onUp(lsn: bigint): void;
  /** The connection is gone: notifications may be missed until `onUp`. */
  onDown(reason: string): void;
  /** How often the connection is checked with `select 1` (default 10 000 ms). */
  pingIntervalMs?: number;
  /** Reconnect delays double from `minBackoffMs` (default 100) up to `maxBackoffMs` (default 5 000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Builds the client (tests inject failures); default `new (require('pg').Client)(settings)`. */
  createClient?: (settings: unknown) => ListenClient;
}

/**
 * A dedicated `pg.Client` (not from a pool: a pooled connection would be handed to other
 * queries and its LISTEN lost) that LISTENs on the primary for other instances'
 * invalidations. It reconnects with exponential backoff; every loss is reported (the cache
 * then stops serving and storing), every (re)connection too (the cache clears itself, since
 * notifications may have been missed). `stop()` ends it for good until `start()`.
 *
 * @example
 * const l = new InvalidationListener({ channel: 'split_knex_cache', settings, onMessage, onUp, onDown });
 * l.start(); … await l.stop();
 */
export class InvalidationListener {
  connected = false;
  /** Successful connections after the first. */
  reconnects = 0;
  private client: ListenClient | undefined;
  private stopped = true;
  private attempt = 0;
  private everConnected = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly gone = new WeakSet<ListenClient>();

  constructor(private readonly options: InvalidationListenerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client !== undefined) {
      this.gone.add(client);
      await client.end().catch(() => undefined);
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let client: ListenClient | undefined;
    try {
      const settings = await this.options.settings();
      client = (this.options.createClient ?? defaultClient)(settings);
      const c = client;
      // Listeners before connect(): an 'error' without one would crash the process.
      c.on('error', (err) => this.lost(c, err.message));
      c.on('end', () => this.lost(c, 'connection ended'));
      c.on('notification', (msg) => {
        if (msg.channel === this.options.channel && typeof msg.payload === 'string') this.options.onMessage(msg.payload);
      });
      await c.connect();
      await c.query(`LISTEN "${this.options.channel}"`);
      const res = await c.query(`select (${REACHABLE_INSERT_POSITION})::text as lsn`);
      if (this.stopped || this.gone.has(c)) {
        this.gone.add(c);
        await c.end().catch(() => undefined);
        return;
      }
      this.client = c;
      this.connected = true;
      this.attempt = 0;
      if (this.everConnected) this.reconnects++;
      this.everConnected = true;
      this.startPing(c);
      this.options.onUp(parseWalPosition(res.rows[0]?.lsn) ?? 0n);
    } catch (err) {
      debug('cache listener could not listen: %s', (err as Error)?.message ?? err);
      if (client !== undefined) this.lost(client, (err as Error)?.message ?? String(err));
      else this.scheduleReconnect();
    }
  }

  private lost(client: ListenClient, reason: string): void {
    if (this.gone.has(client)) return;
    this.gone.add(client);
    void client.end().catch(() => undefined);
    if (client === this.client) {
      this.client = undefined;
      clearInterval(this.pingTimer);
      this.connected = false;
      debug('cache listener lost: %s', reason);
      this.options.onDown(reason);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const min = this.options.minBackoffMs ?? 100;
    const max = this.options.maxBackoffMs ?? 5000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.8 + 0.4 * Math.random());
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  // A connection can die silently (no RST): a query that does not come back in time counts as a loss.
  private startPing(client: ListenClient): void {
    const every = this.options.pingIntervalMs ?? 10_000;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), every);
        timer.unref();
      });
      Promise.race([client.query('select 1'), timeout])
        .catch((err: unknown) => this.lost(client, (err as Error)?.message ?? String(err)))
        .finally(() => clearTimeout(timer));
    }, every);
    this.pingTimer.unref();
  }
}

function defaultClient(settings: unknown): ListenClient {
  const { Client } = require('pg') as { Client: new (s: unknown) => ListenClient };
  return new Client(settings);
}
