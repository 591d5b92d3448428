import { debugLogger } from '../debug-log';
import type { Queryable } from '../background/background-link';
import { loadRelationGraph } from './load-relation-graph';
import { parseWalPosition } from '../wal-position';
import { REACHABLE_INSERT_POSITION } from './lsn';
import type { RelationGraph } from './relation-graph';

const debug = debugLogger('split-knex:cache');

/** Options of a {@link RelationCatalog}. */
export interface RelationCatalogOptions {
  /** Where to read the catalog: the current primary's background connection. */
  primary: () => Queryable;
  /** Reload period in ms to notice DDL by other clients; 0 = never. */
  refreshMs: number;
  /** The catalog changed under a loaded graph (DDL by someone else): clear the cache. `lsn`: the primary's position then. */
  onChange(lsn: bigint): void;
  /** Shortest time between reloads asked for by unknown relations (default 30 s). */
  unknownReloadMs?: number;
}

/**
 * Holds the current {@link RelationGraph}: loads it at start, reloads it after DDL (no
 * graph, hence no caching, until the new one is in), periodically, and (rate-limited)
 * when a read names a relation it does not know. A reload that finds a different catalog
 * than the graph in use tells `onChange`.
 *
 * @example
 * const catalog = new RelationCatalog({ primary: () => links.of(router.writer()), refreshMs: 60_000, onChange });
 * catalog.start(); catalog.graph?.readTags(relations, false);
 */
export class RelationCatalog {
  /** The graph in use; undefined before the first load and after DDL until the reload. */
  graph: RelationGraph | undefined;
  loads = 0;
  /** Bumped by every DDL; a graph is current when loaded at or after the latest bump. */
  private requested = 0;
  private loadedSeq = -1;
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private lastUnknownReload = -Infinity;
  private lastFingerprint: string | undefined;
  private stopped = true;
  private failures = 0;

  constructor(private readonly options: RelationCatalogOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.load();
    if (this.options.refreshMs > 0) {
      this.timer = setInterval(() => void this.load(), this.options.refreshMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
  }

  /** The schema changed (DDL committed): stop using the graph and load a new one. */
  invalidate(): Promise<void> {
    this.graph = undefined;
    this.requested++;
    return this.load();
  }

  /** A read named a relation the graph lacks (created since?): reload, at most every `unknownReloadMs`. */
  unknownRelation(): void {
    const now = performance.now();
    if (now - this.lastUnknownReload < (this.options.unknownReloadMs ?? 30_000)) return;
    this.lastUnknownReload = now;
    void this.load();
  }

  /** Loads now (or joins the load in flight); resolves when a graph at least as new as this call is in. */
  load(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.loading !== undefined) return this.loading.then(() => (this.graphIsCurrent() ? undefined : this.load()));
    const seq = this.requested;
    this.loading = this.loadOnce(seq).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private graphIsCurrent(): boolean {
    return this.graph !== undefined && this.loadedSeq >= this.requested;
  }

  private async loadOnce(seq: number): Promise<void> {
    try {
      const connection = this.options.primary();
      const graph = await loadRelationGraph(connection);
      const res = await connection.query(`select (${REACHABLE_INSERT_POSITION})::text as lsn`);
      const lsn = parseWalPosition(res.rows[0]?.lsn) ?? 0n;
      this.loads++;
      this.failures = 0;
      if (this.stopped) return;
      // A DDL committed while this load ran may be missing from it: load again.
      if (seq < this.requested) return void (await this.loadOnce(this.requested));
      const changed = this.lastFingerprint !== undefined && graph.fingerprint !== this.lastFingerprint;
      this.lastFingerprint = graph.fingerprint;
      this.loadedSeq = seq;
      if (changed) {
        debug('relation catalog changed: clearing the cache');
        // Cleared before the new graph is used, so nothing is stored under the old one afterwards.
        this.options.onChange(lsn);
      }
      this.graph = graph;
    } catch (err) {
      this.failures++;
      debug('relation catalog load failed: %s', (err as Error)?.message ?? err);
      if (this.graph === undefined && !this.stopped) {
        clearTimeout(this.retry);
        this.retry = setTimeout(() => void this.load(), Math.min(5000, 100 * 2 ** this.failures));
        this.retry.unref();
      }
    }
  }
}
