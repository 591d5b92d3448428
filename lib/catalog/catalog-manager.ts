import { debugLogger } from '../debug-log';
import { redactText } from '../redact';
import type { Queryable } from '../background/background-link';
import type { ClassifyOptions } from '../classify';
import type { Node } from '../route/node';
import type { CommittedWrite } from '../subsystem';
import type { NormalizedCatalogConfig } from './catalog-config';
import { isCatalogDdl } from './catalog-ddl';
import { readCatalog, type CatalogRows } from './catalog-queries';
import { CatalogRefresher, realTimers, type CatalogTimers } from './catalog-refresher';
import { CatalogSnapshot } from './catalog-snapshot';
import { LiveCatalog, type CatalogRouteCounts } from './live-catalog';

const debug = debugLogger('split-knex:catalog');

// The first load waits for the instance's first statement to complete (so it never
// competes with it for CPU or connections), or this long when none completes sooner.
const FIRST_LOAD_DELAY_MS = 500;
// After a replica refused a statement, reload at most this often.
const MISROUTE_RELOAD_GAP_MS = 1000;

/**
 * The `catalog` section of `db.stats()`.
 *
 * @example
 * const { catalog } = db.stats() as { catalog: CatalogStats };
 * if (catalog.state !== 'ready') console.warn('routing conservatively:', catalog.lastError);
 */
export interface CatalogStats {
  enabled: boolean;
  /**
   * `loading`: no answers yet (conservative rules apply); `ready`: the classifier uses the
   * catalog; `unavailable`: loading failed and no trustworthy answers are left
   * (conservative rules apply until a load succeeds); `off`: `catalog: false`.
   */
  state: 'off' | 'loading' | 'ready' | 'unavailable';
  /** Goes up each time the answers change. */
  version: number;
  /** Milliseconds since the answers in use were loaded; undefined before the first load. */
  ageMs: number | undefined;
  /** Duration of the last successful load (acquire, one round trip, build), ms. */
  loadMs: number | undefined;
  /** Successful loads so far. */
  loads: number;
  /** Failed loads so far, and in a row now. */
  failures: number;
  consecutiveFailures: number;
  lastError: string | undefined;
  /** Distinct schema-qualified functions known. */
  functions: number;
  /** Relations a standby refuses to read (unlogged, temporary, and parents/views reaching them). */
  unloggedRelations: number;
  /** Where bare function names are resolved, in order. */
  searchPath: readonly string[];
  /** Classifications the catalog decided (see docs/catalog.md: counted per routed statement). */
  routes: CatalogRouteCounts;
}

/**
 * How the manager reads the catalog; a test may give a fake.
 *
 * @example
 * const fake: CatalogReader = async () => ({ role: 'app', schemas: ['pg_catalog', 'public'], functions: [], relations: [] });
 */
export type CatalogReader = (connection: Queryable) => Promise<CatalogRows>;

/**
 * The catalog subsystem of one instance: loads the catalog from the primary in the
 * background, hands it to the classifier once loaded, reloads it on an interval and after
 * DDL sent through split-knex, and falls back to the conservative rules when it cannot.
 *
 * @example
 * const manager = new CatalogManager({ writer: () => router.writer(), link: (n) => links.of(n) }, normalizeCatalogConfig('auto', true));
 * manager.refresher.start();
 * await manager.afterWrite(committedWrite);
 */
export class CatalogManager {
  readonly live = new LiveCatalog();
  readonly refresher: CatalogRefresher;
  private installed = false;
  private loads = 0;
  private failures = 0;
  private lastError: string | undefined;
  private loadMs: number | undefined;
  // Reads are numbered as they begin; an older read finishing last must not win.
  private reads = 0;
  private installedRead = 0;

  private readonly withCatalog: Partial<ClassifyOptions> = { catalog: this.live };

  constructor(
    /** Where loads run: the writer now, over its background connection. */
    private readonly nodes: { writer(): Node; link(node: Node): Queryable },
    private readonly settings: NormalizedCatalogConfig,
    private readonly timers: CatalogTimers = realTimers,
    // readCatalog runs one multi-statement query: any Queryable (a background link, a held connection) will do.
    private readonly read: CatalogReader = readCatalog as unknown as CatalogReader,
  ) {
    this.refresher = new CatalogRefresher({
      load: (connection, begin) => this.load(connection, begin),
      refreshMs: settings.refreshMs,
      initialDelayMs: FIRST_LOAD_DELAY_MS,
      timers,
      onFailure: (err, consecutive, retryIn, knownStale) => this.failed(err, consecutive, retryIn, knownStale),
      onSuccess: (failedBefore) => {
        if (failedBefore > 0) debug('catalog loaded again after %d failed attempts', failedBefore);
      },
    });
  }

  /** The classifier input: the catalog once loaded, nothing before (the conservative rules apply). */
  classifyOptions(): Partial<ClassifyOptions> | undefined {
    return this.installed ? this.withCatalog : undefined;
  }

  /** Resolves once a first load has finished, successfully or not (for `db.ready()`). */
  async ready(): Promise<void> {
    if (this.installed || this.failures > 0) return;
    await this.refresher.refresh().catch(() => undefined);
  }

  /** Whether the classifier uses the catalog now. */
  get active(): boolean {
    return this.installed;
  }

  /**
   * The write hook: when the write may have changed the catalog, reload it and resolve once
   * the answers include it, so the caller's next query is routed by them. Never rejects.
   */
  afterWrite(info: CommittedWrite): Promise<void> | undefined {
    const r = this.refresher;
    if (info.statements.some((sql) => isCatalogDdl(sql))) r.noteChange();
    if (r.covered >= r.changes) return undefined;
    // No answers in use and none coming: the conservative rules apply, nothing can be stale.
    if (!this.installed && !r.loading) return undefined;
    // On the write's own connection: it is the primary's, idle, still held, and has seen the
    // DDL — the background connection would do too, but this one needs no connect.
    return r.ensure(r.changes, info).catch(() => undefined);
  }

  /**
   * Told of every statement that completed (query-response): DDL marks the catalog
   * changed, and the first one lets the first load begin.
   */
  noteStatement(sql: unknown): void {
    this.refresher.soon();
    if (typeof sql === 'string' && isCatalogDdl(sql)) this.refresher.noteChange();
  }

  /**
   * A replica refused a statement as one a standby cannot run (25006, or 0A000 "during
   * recovery"). When the catalog routed it there, its answers may be stale (DDL behind
   * split-knex's back): reload in the background, so the statements after the retried one
   * go to the right node without waiting for the interval.
   */
  noteMisroute(): void {
    if (this.installed) this.refresher.reloadSoon(MISROUTE_RELOAD_GAP_MS);
  }

  /** `db.refreshCatalog()`: a load that starts now; rejects with the database's error. */
  refresh(): Promise<void> {
    return this.refresher.refresh();
  }

  stats(): CatalogStats {
    const snap = this.live.current;
    const state = this.installed ? 'ready' : this.failures > 0 ? 'unavailable' : 'loading';
    return {
      enabled: true,
      state,
      version: this.live.version,
      ageMs: this.live.loadedAt === undefined ? undefined : this.timers.now() - this.live.loadedAt,
      loadMs: this.loadMs,
      loads: this.loads,
      failures: this.failures,
      consecutiveFailures: this.refresher.failures,
      lastError: this.lastError,
      functions: snap?.functionCount ?? 0,
      unloggedRelations: snap?.relationCount ?? 0,
      searchPath: snap?.searchPath ?? [],
      routes: { ...this.live.routes },
    };
  }

  private async load(held: Queryable | undefined, begin: () => void): Promise<void> {
    const started = this.timers.now();
    // The writer: after a failover with role discovery it is the new primary.
    const connection = held ?? this.nodes.link(this.nodes.writer());
    begin();
    const read = ++this.reads;
    const rows = await this.read(connection);
    if (read < this.installedRead) return;
    this.installedRead = read;
    const snapshot = new CatalogSnapshot(rows, this.settings.searchPath);
    const now = this.timers.now();
    const changed = this.live.install(snapshot, now);
    this.loads++;
    this.loadMs = now - started;
    this.installed = true;
    if (debug.enabled) {
      debug('loaded %d functions, %d unlogged relations in %d ms (version %d%s; search_path %s)',
        snapshot.functionCount, snapshot.relationCount, this.loadMs, this.live.version, changed ? ', changed' : '', snapshot.searchPath.join(', '));
    }
  }

  private failed(err: unknown, consecutive: number, retryInMs: number, knownStale: boolean): void {
    this.failures++;
    this.lastError = redactText(err instanceof Error ? err.message : String(err));
    // Answers we know to be stale (a change no load has seen) could misroute: drop them.
    // Otherwise the last good answers stay (the misroute guard catches what they miss).
    if (knownStale && this.installed) this.installed = false;
    // Once per run of failures, not once per retry.
    if (consecutive === 1) {
      debug('catalog load failed (%s); %s; retrying in %d ms with backoff', this.lastError,
        this.installed ? 'keeping the last loaded catalog' : 'conservative routing until it loads', retryInMs);
    }
  }
}
