import type { Node } from '../route/node';
import { BackgroundLink, type LinkClientFactory, type LinkStats } from './background-link';
import type { ConnectionResolver } from './connection-resolver';

/**
 * The `set search_path` statement knex runs on a new pooled connection for a `searchPath`
 * config (knex's PostgreSQL client quotes each schema name), or undefined without one.
 *
 * @example
 * searchPathSql(['app', 'public']) // 'set search_path to "app","public"'
 */
export function searchPathSql(searchPath: unknown): string | undefined {
  if (searchPath === undefined || searchPath === null || searchPath === '') return undefined;
  const parts = Array.isArray(searchPath) ? searchPath.map(String) : [String(searchPath)];
  return `set search_path to ${parts.map((p) => `"${p.replace(/"/g, '""')}"`).join(',')}`;
}

/** Options of {@link BackgroundLinks}. */
export interface BackgroundLinksOptions {
  /** Bound on one background call (connect + query). */
  timeoutMs: number;
  createClient?: LinkClientFactory;
  /** knex's `searchPath` config: set on each background connection as knex sets it on its pool's. */
  searchPath?: unknown;
}

/**
 * The dedicated background connections of one instance: at most one per node, opened on
 * first use by whichever background task needs that node (health probe, position poll,
 * catalog load, cache replay poll), shared by them, closed by `destroy()`.
 *
 * @example
 * const links = new BackgroundLinks([[primary, primaryResolver]], { timeoutMs: 2000 });
 * await links.of(primary).query('select pg_current_wal_lsn()::text as lsn');
 */
export class BackgroundLinks {
  private readonly links = new Map<Node, BackgroundLink>();

  constructor(nodes: ReadonlyArray<readonly [Node, ConnectionResolver]>, options: BackgroundLinksOptions) {
    for (const [node, resolver] of nodes) {
      this.links.set(node, new BackgroundLink({
        node: node.name,
        timeoutMs: options.timeoutMs,
        createClient: options.createClient,
        settings: () => resolver.forBackground(),
        onConnectFailed: () => resolver.invalidate(),
        initSql: searchPathSql(options.searchPath),
      }));
    }
  }

  /** The link to `node`. */
  of(node: Node): BackgroundLink {
    const link = this.links.get(node);
    if (link === undefined) throw new Error(`split-knex: ${node.name} is not a node of this instance`);
    return link;
  }

  /** Closes every link, including connections still being opened. */
  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }

  /** Lets the links connect again (after `initialize()`). */
  reopen(): void {
    for (const l of this.links.values()) l.reopen();
  }

  /** One line per node for `stats().background`. */
  stats(): LinkStats[] {
    return [...this.links.values()].map((l) => l.stats());
  }
}
