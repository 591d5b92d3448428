import { resolveConnection, type ConnectionSettings } from '../health/node-connection';

/** What a knex connection provider may return. */
type ProviderResult = Record<string, unknown> & { expirationChecker?: () => boolean };

/**
 * One node's knex `connection`, shared by the node's pool and split-knex's background
 * connections so that a provider function is called where knex would call it, and no more:
 *
 * - The pool gets {@link forPool}: for a provider, a function knex calls when *it* decides
 *   (first connection, then whenever the result's `expirationChecker()` says expired). It
 *   answers from the last result while that has not expired, so knex sees what it would see.
 * - Background work gets {@link forBackground}: the settings most recently resolved. It calls
 *   the provider only when nothing was resolved yet (a node that has had no traffic), and
 *   never because a result expired: a background connection is opened rarely and kept, and an
 *   expired token is tried once — the server's answer, not a timer, decides. After a failed
 *   connect the next background connect asks the provider again (`invalidate()`).
 *
 * @example
 * const r = new ConnectionResolver(async () => ({ host, user, password: await token() }));
 * new ClientPG({ ...config, connection: r.forPool() });
 * const settings = await r.forBackground();
 */
export class ConnectionResolver {
  private last: ProviderResult | undefined;
  private pending: Promise<ProviderResult> | undefined;
  private stale = false;
  /** Times the user's provider was called. */
  calls = 0;

  constructor(private readonly connection: unknown) {}

  /** True when the connection is a provider function. */
  get isProvider(): boolean {
    return typeof this.connection === 'function';
  }

  /** The `connection` value to give knex for the node's pool. */
  forPool(): unknown {
    if (!this.isProvider) return this.connection;
    return async (): Promise<ProviderResult> => {
      const last = this.last;
      if (last !== undefined && !this.stale && !expired(last)) return { ...last };
      return { ...(await this.call()) };
    };
  }

  /** The settings background connections open with (see the class comment). */
  async forBackground(): Promise<ConnectionSettings> {
    if (!this.isProvider) return resolveConnection(this.connection);
    const last = this.last !== undefined && !this.stale ? this.last : await this.call();
    return resolveConnection(last);
  }

  /** A background connect with the last settings failed: the next one asks the provider. */
  invalidate(): void {
    if (this.isProvider) this.stale = true;
  }

  private call(): Promise<ProviderResult> {
    // Concurrent callers share one call.
    this.pending ??= (async () => {
      try {
        this.calls++;
        const result = (await (this.connection as () => unknown)()) as ProviderResult;
        this.last = result;
        this.stale = false;
        return result;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}

function expired(result: ProviderResult): boolean {
  const check = result.expirationChecker;
  return typeof check === 'function' && check() === true;
}
