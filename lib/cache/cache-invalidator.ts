import { randomBytes } from 'crypto';
import { debugLogger } from '../debug-log';
import { LRUCache } from 'lru-cache';
import type { Queryable } from '../background/background-link';
import type { ClassifyOptions } from '../classify';
import type { Node } from '../route/node';
import type { CommittedWrite } from '../subsystem';
import type { NormalizedCacheConfig } from './cache-config';
import type { CacheStore } from './cache-store';
import type { CacheCounters } from './cache-stats';
import { parseInvalidation, payloadHalves } from './invalidation-message';
import { parseWalPosition } from '../wal-position';
import { REACHABLE_INSERT_POSITION } from './lsn';
import type { RelationCatalog } from './relation-catalog';
import type { CacheEvent } from './result-cache';
import { widerEffect, writeEffect, type WriteEffect } from './write-effect';

const debug = debugLogger('split-knex:cache');

// Position (see REACHABLE_INSERT_POSITION) and notification in one round trip; the
// payload's two halves go around the position.
const LSN_SQL = `select (${REACHABLE_INSERT_POSITION})::text as lsn`;
const NOTIFY_SQL = `select pg_catalog.pg_notify($1, $2 || s.n::text || $3), s.n::text as lsn
  from (select ${REACHABLE_INSERT_POSITION} as n) s`;

interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** What the invalidator needs of the instance. */
export interface InvalidatorDeps {
  /** The node writes go to now. */
  writer(): Node;
  /** A node's background connection. */
  link(node: Node): Queryable;
  classifyOptions(): ClassifyOptions;
  readOnlyFunctions: readonly string[];
}

/**
 * Turns committed writes into invalidations: works out what the write's statements can
 * change (a transaction's writing statements, as the pipeline recorded them), takes the primary's WAL position right after the commit
 * (and publishes with NOTIFY in the same round trip), then bumps the tags' generations in
 * the store. Also applies other instances' invalidations.
 *
 * @internal
 */
export class CacheInvalidator {
  /** Identifies this instance's notifications, so it ignores its own echo. */
  readonly origin = randomBytes(9).toString('base64url');
  /** Highest primary WAL position seen. */
  lastLsn = 0n;
  /** Invalidations whose WAL position is not known yet: caching waits for them. */
  pending = 0;
  private readonly effectMemo = new LRUCache<string, WriteEffect>({ max: 1000 });
  private stopped = false;

  constructor(
    private readonly deps: InvalidatorDeps,
    private readonly config: NormalizedCacheConfig,
    private readonly store: CacheStore,
    private readonly catalog: RelationCatalog,
    private readonly counters: CacheCounters,
    private readonly emit: (event: CacheEvent) => void,
  ) {}

  /** The after-commit effect: runs after an autocommit write, or at COMMIT. */
  async onWrite(info: CommittedWrite): Promise<void> {
    let effect: WriteEffect = info.statements.length === 0 ? (info.broad ? 'broad' : 'tables') : 'quiet';
    for (const sql of info.statements) effect = widerEffect(effect, this.effectOf(sql));
    if (effect === 'quiet') return;
    let tags: string[] | undefined;
    if (effect === 'tables' && !info.broad && info.tables.length > 0) {
      tags = this.catalog.graph?.writeTags(info.tables, this.config.trustTriggers);
    }
    await this.invalidateOn(info, tags, effect === 'ddl', () => info.commitPosition());
  }

  /** `db.invalidateCache()`: what a write to `tables` (or to everything) would invalidate. */
  async invalidateTables(tables: readonly string[] | undefined): Promise<void> {
    const tags = tables === undefined ? undefined : this.catalog.graph?.writeTags(tables, this.config.trustTriggers);
    await this.invalidateOn(this.deps.link(this.deps.writer()), tags, false);
  }

  /** A NOTIFY payload from the channel. */
  onRemote(payload: string): void {
    const m = parseInvalidation(payload, parseWalPosition);
    if (m === undefined || m.origin === this.origin) return;
    if (m.lsn > this.lastLsn) this.lastLsn = m.lsn;
    // A shared store already holds the sender's invalidation.
    if (this.store.shared === true) {
      if (m.ddl) void this.catalog.invalidate();
      return;
    }
    void this.apply(m.tags, m.lsn, m.ddl, 'remote');
  }

  stop(): void {
    this.stopped = true;
  }

  start(): void {
    this.stopped = false;
  }

  private async invalidateOn(
    connection: PgQueryable, tags: string[] | undefined, ddl: boolean, position?: (this: void) => Promise<bigint>,
  ): Promise<void> {
    let lsn: bigint | undefined;
    try {
      lsn = await this.publish(connection, tags, ddl, position);
    } catch (err) {
      debug('WAL position after a write unknown: %s', (err as Error)?.message ?? err);
    }
    if (lsn !== undefined) return this.apply(tags, lsn, ddl, 'local');
    // The write committed, but its position (and notification) is unknown: invalidate now with
    // the best bound we have, keep caching shut, and finish the job on a fresh connection.
    this.pending++;
    await this.apply(tags, this.lastLsn, ddl, 'local');
    void this.recover(tags, ddl);
  }

  private async recover(tags: string[] | undefined, ddl: boolean): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const lsn = await this.publish(this.deps.link(this.deps.writer()), tags, ddl);
        await this.apply(tags, lsn, ddl, undefined);
        break;
      } catch (err) {
        debug('invalidation retry failed: %s', (err as Error)?.message ?? err);
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** attempt)).unref());
      }
    }
    this.pending--;
  }

  private async publish(
    connection: PgQueryable, tags: string[] | undefined, ddl: boolean, position?: (this: void) => Promise<bigint>,
  ): Promise<bigint> {
    if (this.config.invalidation !== 'notify' && !this.config.lagGuard) return 0n;
    // Without NOTIFY, the write's shared position (read once for all write hooks) is enough.
    const text = this.config.invalidation !== 'notify' && position !== undefined
      ? String(await position())
      : String((await connection.query(this.config.invalidation === 'notify'
        ? NOTIFY_SQL : LSN_SQL, this.config.invalidation === 'notify'
        ? [this.config.channel, ...payloadHalves(this.origin, tags, ddl)] : undefined)).rows[0]?.lsn ?? '');
    const lsn = parseWalPosition(text);
    if (lsn === undefined) throw new Error(`unexpected WAL position ${text}`);
    if (lsn > this.lastLsn) this.lastLsn = lsn;
    return lsn;
  }

  /** Applies an invalidation to the store; `source` undefined: a repeat not counted again. */
  async apply(tags: readonly string[] | undefined, lsn: bigint, ddl: boolean, source: 'local' | 'remote' | undefined): Promise<void> {
    // The graph goes first: no read may be tagged with the old schema once the store is cleared.
    if (ddl) void this.catalog.invalidate();
    try {
      const r = tags === undefined ? this.store.clear(lsn) : this.store.clearTags(tags, lsn);
      if (r instanceof Promise) await r;
    } catch (err) {
      this.counters.storeErrors++;
      debug('cache invalidation failed in the store: %s', (err as Error)?.message ?? err);
    }
    if (source === undefined) return;
    this.counters[source]++;
    if (tags === undefined) this.counters.clears++;
    this.emit({ outcome: 'invalidate', reason: ddl ? 'schema change' : undefined, tags: tags ?? 'all', source });
  }

  private effectOf(sql: string): WriteEffect {
    let e = this.effectMemo.get(sql);
    if (e === undefined) {
      const readOnly = new Set(this.deps.readOnlyFunctions.map((f) => f.toLowerCase()));
      const catalog = this.deps.classifyOptions().catalog;
      e = writeEffect(sql, (name, schema) => {
        if (readOnly.has(name) || (schema !== undefined && readOnly.has(`${schema}.${name}`))) return true;
        try {
          const v = catalog?.functionVolatility(name, schema);
          return v === 'stable' || v === 'immutable';
        } catch {
          return false;
        }
      });
      // Catalog answers may change: memoize only what does not depend on one.
      if (sql.length <= 16 * 1024 && catalog === undefined) this.effectMemo.set(sql, e);
    }
    return e;
  }
}
