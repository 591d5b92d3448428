import { debugLogger } from '../debug-log';
import { SplitKnexError } from '../errors';
import type { ConnectionSettings } from '../health/node-connection';

const debug = debugLogger('split-knex:background');

/** A query result as background work reads it. */
export interface QueryRows {
  rows: Array<Record<string, unknown>>;
}

/** Anything that runs one SQL text: a background link, a held connection. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<QueryRows>;
}

/** The sliver of node-postgres a link uses. */
export interface LinkClient {
  connect(): Promise<void>;
  query(text: string, params?: unknown[]): Promise<QueryRows>;
  end(): Promise<void>;
  on(event: 'error' | 'end', listener: (err?: Error) => void): unknown;
}

/** Builds a client from settings (tests inject one; default `new pg.Client(settings)`). */
export type LinkClientFactory = (settings: ConnectionSettings) => LinkClient;

/** Options of a {@link BackgroundLink}. */
export interface BackgroundLinkOptions {
  /** The node's name, for errors and debug lines. */
  node: string;
  /** The settings to connect with (see `ConnectionResolver.forBackground`). */
  settings: () => Promise<ConnectionSettings>;
  /** Bound on connect plus query, per call. */
  timeoutMs: number;
  /** `application_name`, so operators can tell these backends in pg_stat_activity. */
  applicationName?: string;
  createClient?: LinkClientFactory;
  /** A connect failed (the settings may have expired: the next connect resolves them again). */
  onConnectFailed?: () => void;
  /**
   * SQL run once on each new connection before any other (the `search_path` knex sets on its
   * pool's connections, so names resolve in the background as in the application).
   */
  initSql?: string;
}

/** A link's counters for `stats().background`. */
export interface LinkStats {
  node: string;
  /** A backend is open now. */
  connected: boolean;
  /** Connections opened so far. */
  connects: number;
  queries: number;
  failures: number;
}

/**
 * One dedicated connection to one node for split-knex's background work (health probes,
 * replica position polls, catalog loads): never a connection of the application's pool, so
 * background work neither takes the application's sessions nor waits behind a saturated
 * pool. Opened on first use, kept open, replaced after any failure. Every call is bounded
 * as a whole (connect + query); on timeout the socket is destroyed. `close()` ends the open
 * connection *and* one still connecting, so `destroy()` leaves no socket behind.
 *
 * @example
 * const link = new BackgroundLink({ node: 'replica1', settings: async () => ({ connectionString: url }), timeoutMs: 1000 });
 * const { rows } = await link.query('select pg_last_wal_replay_lsn()::text as lsn');
 * await link.close();
 */
export class BackgroundLink implements Queryable {
  private client: LinkClient | undefined;
  private connecting: { client: LinkClient; done: Promise<LinkClient> } | undefined;
  private closed = false;
  private connects = 0;
  private queries = 0;
  private failures = 0;
  // Queries run one after another: node-postgres deprecates queueing on one client.
  private tail: Promise<unknown> = Promise.resolve();
  private readonly createClient: LinkClientFactory;

  constructor(private readonly options: BackgroundLinkOptions) {
    this.createClient = options.createClient ?? defaultClientFactory;
  }

  /** Runs `sql` within the timeout. A kept connection the server dropped is replaced once. */
  query(sql: string, params?: unknown[], timeoutMs = this.options.timeoutMs): Promise<QueryRows> {
    const run = this.tail.then(() => this.queryNow(sql, params, timeoutMs));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async queryNow(sql: string, params: unknown[] | undefined, timeoutMs: number): Promise<QueryRows> {
    this.queries++;
    const deadline = { expired: false };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.expired = true;
        // pg destroys the socket of a client ended mid-query: nothing waits on a hung server.
        this.discardAll();
        reject(Object.assign(new Error(`${this.options.node}: no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.run(sql, params, deadline), timeout]);
    } catch (err) {
      this.failures++;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(sql: string, params: unknown[] | undefined, deadline: { expired: boolean }): Promise<QueryRows> {
    const kept = this.client;
    if (kept !== undefined) {
      try {
        return await kept.query(sql, params);
      } catch (err) {
        this.discard(kept);
        // The kept connection may be one the server dropped before a restart: only a fresh
        // connection's failure says something about the server now. SQL errors are final.
        if (deadline.expired || isSqlError(err)) throw err;
      }
    }
    const client = await this.open();
    return client.query(sql, params);
  }

  private open(): Promise<LinkClient> {
    if (this.closed) return Promise.reject(destroyedError(this.options.node));
    if (this.connecting !== undefined) return this.connecting.done;
    // Read inside the attempt only after its first await, by which time it is assigned.
    let attempt!: Promise<LinkClient>;
    attempt = (async (): Promise<LinkClient> => {
      const settings = await this.options.settings();
      if (this.closed) throw destroyedError(this.options.node);
      const client = this.createClient({
        ...settings,
        connectionTimeoutMillis: this.options.timeoutMs,
        application_name: this.options.applicationName ?? 'split-knex background',
      });
      // An idle connection whose server dies emits 'error': unhandled, it would crash the app.
      client.on('error', () => this.forget(client));
      client.on('end', () => this.forget(client));
      this.connecting = { client, done: attempt };
      try {
        await client.connect();
        if (this.options.initSql !== undefined) await client.query(this.options.initSql);
      } catch (err) {
        client.end().catch(() => undefined);
        this.options.onConnectFailed?.();
        throw err;
      }
      // Closed while connecting: close() ended it already; never hand it out.
      if (this.closed || this.connecting?.client !== client) {
        client.end().catch(() => undefined);
        throw this.closed ? destroyedError(this.options.node) : new Error(`${this.options.node}: connection replaced while connecting`);
      }
      this.connects++;
      this.client = client;
      debug('%s: background connection open', this.options.node);
      return client;
    })();
    const placeholder = { client: undefined as unknown as LinkClient, done: attempt };
    this.connecting = placeholder;
    void attempt.then(
      () => { if (this.connecting?.done === attempt) this.connecting = undefined; },
      () => { if (this.connecting?.done === attempt) this.connecting = undefined; },
    );
    return attempt;
  }

  private forget(client: LinkClient): void {
    if (this.client === client) this.client = undefined;
  }

  private discard(client: LinkClient): void {
    this.forget(client);
    client.end().catch(() => undefined);
  }

  // On a timeout: the open connection and one still connecting both go.
  private discardAll(): void {
    if (this.client !== undefined) this.discard(this.client);
    const c = this.connecting?.client;
    this.connecting = undefined;
    if (c !== undefined) c.end().catch(() => undefined);
  }

  /** Ends the connection, and one still connecting; later calls reject with `ESPLIT_DESTROYED` until `reopen()`. */
  async close(): Promise<void> {
    this.closed = true;
    const open = this.client;
    const connecting = this.connecting?.client;
    this.client = undefined;
    this.connecting = undefined;
    await Promise.all([open?.end().catch(() => undefined), connecting?.end().catch(() => undefined)]);
  }

  /** Allows connecting again (after `initialize()`). */
  reopen(): void {
    this.closed = false;
  }

  /** Counters for `stats().background`. */
  stats(): LinkStats {
    return { node: this.options.node, connected: this.client !== undefined, connects: this.connects, queries: this.queries, failures: this.failures };
  }
}

function isSqlError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  // SQLSTATEs are five characters; connection-level errors carry errno names (ECONNRESET) or none.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57P');
}

function destroyedError(node: string): SplitKnexError {
  return new SplitKnexError('ESPLIT_DESTROYED', `split-knex: the instance was destroyed (background connection to ${node})`, { node });
}

const defaultClientFactory: LinkClientFactory = (settings) => {
  const { Client } = require('pg') as { Client: new (s: ConnectionSettings) => LinkClient };
  return new Client(settings);
};
