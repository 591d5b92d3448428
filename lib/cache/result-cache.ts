import { debugLogger } from '../debug-log';
import { LRUCache } from 'lru-cache';
import type { FunctionCatalog } from '../classify';
import type { EventEmitter } from 'events';
import type { ClassifyOptions } from '../classify';
import { sqlShown } from '../redact';
import type { Node } from '../route/node';
import type { Statement } from '../route/statement';
import type { Answer, ReadRequest, StatementSource } from '../subsystem';
import type { NormalizedCacheConfig } from './cache-config';
import { cacheKey, connectionIdentity, serializeValue } from './cache-key';
import type { CacheStore, StoreLookup, TagMarks } from './cache-store';
import type { CacheCounters } from './cache-stats';
import { cacheableSql, clockBinding, type RelationRef } from './cacheable-sql';
import { copyResult } from './copy-result';
import type { RelationCatalog } from './relation-catalog';
import type { RelationGraph } from './relation-graph';
import type { ReplayTracker } from './replay-tracker';

const debug = debugLogger('split-knex:cache');

/**
 * The payload of the `cache` event (emitted on the db only when someone listens): what
 * the cache did with a read, or an invalidation.
 *
 * @example
 * db.on('cache', (e: CacheEvent) => { if (e.outcome === 'skip') console.log(e.reason, e.sql) });
 */
export interface CacheEvent {
  outcome: 'hit' | 'miss' | 'skip' | 'invalidate';
  /** Why a read was skipped, or what caused an invalidation. */
  reason?: string;
  sql?: string;
  /** The read's tags, or the invalidated tags (`'all'` for a clear). */
  tags: readonly string[] | 'all';
  /** For invalidations: this instance's write, or another instance's notification. */
  source?: 'local' | 'remote';
}

/** What the cache makes of one SQL text: why not, or the tags it depends on. */
interface ReadPlan {
  refusal: string | undefined;
  /** The refusal is an unknown relation (the catalog may be out of date). */
  unknown: boolean;
  tags: string[];
  /** The text as it goes into keys, quoted once. */
  quotedSql: string;
}

/** What one cacheable read carries from lookup to store. */
interface ReadContext {
  key: string;
  tags: string[];
  ttlMs: number;
  sql: string;
  node: Node;
  failures: number;
}

/**
 * The pipeline's answer stage: decides whether a read may be cached, answers hits, and
 * stores misses only when nothing invalidated their tables while they ran and the replica
 * that answered had replayed the last invalidating write (see docs/caching.md). With a
 * store that answers later (Redis) the lookup is a promise; a miss then runs down the same
 * pipeline as any read (routed once, retried like any read).
 *
 * @internal
 */
export class ResultCache {
  private readonly plans = new LRUCache<string, { graph: RelationGraph; plan: ReadPlan }>({ max: 1000 });
  private readonly identities = new Map<Node, string>();
  /** Failures seen per node (connection or query): a change between lookup and store means a retry may have answered. */
  readonly failures = new Map<Node, number>();

  constructor(
    private readonly instance: { classifyOptions(): ClassifyOptions; events: EventEmitter },
    private readonly config: NormalizedCacheConfig,
    private readonly store: CacheStore,
    private readonly catalog: RelationCatalog,
    private readonly replay: ReplayTracker,
    private readonly counters: CacheCounters,
    /** Why the cache cannot be trusted right now (listener down, catalog loading), if so. */
    private readonly closedBecause: () => string | undefined,
  ) {}

  lookup(request: ReadRequest): Answer | Promise<Answer> | undefined {
    const { statement, decision, source } = request;
    const mark = source.cacheMark;
    if (mark === undefined && this.config.strategy === 'explicit') return undefined;
    if (mark?.mode === 'off') return this.skip('.noCache()', statement.sql);
    if (decision.node.role !== 'replica') return this.skip('routed to the primary', statement.sql);
    if (statement.hint !== undefined) return this.skip(`hint: ${statement.hint}`, statement.sql);
    if (source.multiple) return this.skip('several statements', statement.sql);
    const closed = this.closedBecause();
    if (closed !== undefined) return this.skip(closed, statement.sql);
    const graph = this.catalog.graph;
    if (graph === undefined) return this.skip('relation catalog not loaded', statement.sql);

    const plan = this.planOf(statement, graph);
    if (plan.refusal !== undefined) {
      if (plan.unknown) this.catalog.unknownRelation();
      return this.skip(plan.refusal, statement.sql);
    }
    if (clockBinding(source.bindings)) return this.skip('a binding reads the clock', statement.sql);
    const scope = this.scopeValue();
    if (scope === undefined) return this.skip('cache.scope gave no value', statement.sql);

    let key: string;
    try {
      const own = mark?.mode === 'on' && mark.key !== undefined;
      key = cacheKey({
        identity: this.identityOf(decision.node),
        searchPath: searchPathOf(source),
        route: routeOf(source),
        scope,
        context: contextOf(source),
        text: own ? `key:${mark.key}` : statement.sql,
        quotedText: own ? undefined : plan.quotedSql,
        bindings: own ? undefined : source.bindings,
      });
    } catch (err) {
      return this.skip(`binding cannot be keyed: ${(err as Error).message}`, statement.sql);
    }
    const ctx: ReadContext = {
      key, tags: plan.tags, ttlMs: (mark?.mode === 'on' ? mark.ttlMs : undefined) ?? this.config.ttlMs,
      sql: statement.sql, node: decision.node, failures: this.failures.get(decision.node) ?? 0,
    };
    let found: StoreLookup | Promise<StoreLookup>;
    try {
      found = this.store.get(key, plan.tags);
    } catch (err) {
      this.storeFailed(err);
      return undefined;
    }
    return found instanceof Promise
      ? found.then((f) => this.ticket(f, ctx), (err: unknown) => {
        this.storeFailed(err);
        return undefined as unknown as Answer;
      })
      : this.ticket(found, ctx);
  }

  private ticket(found: StoreLookup, ctx: ReadContext): Answer {
    if (found.entry !== undefined) {
      this.counters.hits++;
      this.emit({ outcome: 'hit', sql: ctx.sql, tags: ctx.tags });
      return { hit: true, value: found.entry.value };
    }
    this.counters.misses++;
    this.emit({ outcome: 'miss', sql: ctx.sql, tags: ctx.tags });
    const marks = found.marks;
    // Asked now, before the read runs: a replica known to have replayed the last invalidation
    // of these tables cannot answer with rows older than it.
    const replayed = !this.config.lagGuard || this.replay.hasReplayed(ctx.node, marks.lsn);
    return {
      hit: false,
      store: (result, answeredBy) => {
        // Retried elsewhere (a failure, a misroute): whatever answered was not asked about.
        if (answeredBy !== ctx.node || answeredBy.role !== 'replica') this.counters.retryRejections++;
        else if (!replayed) this.counters.lagRejections++;
        else if ((this.failures.get(ctx.node) ?? 0) !== ctx.failures) this.counters.retryRejections++;
        else void this.put(ctx, marks, result);
      },
    };
  }

  private async put(ctx: ReadContext, marks: TagMarks, result: unknown): Promise<void> {
    let copied;
    try {
      copied = copyResult(result);
    } catch (err) {
      debug('result not copied: %s', (err as Error).message);
      this.counters.tooLarge++;
      return;
    }
    if (copied.bytes > this.config.maxResultBytes) {
      this.counters.tooLarge++;
      return;
    }
    try {
      const entry = { value: copied.value, bytes: copied.bytes, asOf: this.replay.replayed(ctx.node) };
      const stored = this.store.set(ctx.key, entry, ctx.tags, marks, ctx.ttlMs);
      if (stored instanceof Promise ? await stored : stored) this.counters.stores++;
      else this.counters.staleRejections++;
    } catch (err) {
      this.storeFailed(err);
    }
  }

  // What a SQL text reads and whether it may be cached, worked out once per text, catalog
  // version and relation graph (the per-read part is the key and the store).
  private planOf(statement: Statement, graph: RelationGraph): ReadPlan {
    const catalog = this.instance.classifyOptions().catalog;
    const version = catalogVersion(catalog);
    const memoKey = version === undefined || statement.sql.length > 16 * 1024 ? undefined : `${version}\u0000${statement.table ?? ''}\u0000${statement.sql}`;
    const memo = memoKey === undefined ? undefined : this.plans.get(memoKey);
    if (memo !== undefined && memo.graph === graph) return memo.plan;
    const plan = this.makePlan(statement, graph, catalog);
    if (memoKey !== undefined) this.plans.set(memoKey, { graph, plan });
    return plan;
  }

  private makePlan(statement: Statement, graph: RelationGraph, catalog: FunctionCatalog | undefined): ReadPlan {
    const quotedSql = JSON.stringify(statement.sql);
    const verdict = cacheableSql(statement.sql, catalog);
    if (verdict.refusal !== undefined) return { refusal: verdict.refusal, unknown: false, tags: [], quotedSql };
    // The builder's own table is in its SQL already; it only adds a tag when it resolves.
    const own = statement.table === undefined ? undefined : builderTable(statement.table);
    const relations = own === undefined || graph.resolve(own) === undefined ? verdict.relations : [...verdict.relations, own];
    const read = graph.readTags(relations, this.config.scope !== undefined);
    if (read.refusal !== undefined) return { refusal: read.refusal, unknown: read.unknown === true, tags: [], quotedSql };
    return { refusal: undefined, unknown: false, tags: read.tags, quotedSql };
  }

  private scopeValue(): string | undefined {
    const scope = this.config.scope;
    if (scope === undefined) return '';
    if (typeof scope === 'string') return scope;
    try {
      const v = scope();
      return typeof v === 'string' ? v : undefined;
    } catch (err) {
      debug('cache.scope threw: %s', (err as Error)?.message ?? err);
      return undefined;
    }
  }

  private identityOf(node: Node): string {
    let id = this.identities.get(node);
    if (id === undefined) this.identities.set(node, (id = connectionIdentity(node.client.config.connection, node.name)));
    return id;
  }

  private skip(reason: string, sql: string): undefined {
    this.counters.skipped++;
    this.emit({ outcome: 'skip', reason, sql, tags: [] });
    return undefined;
  }

  private storeFailed(err: unknown): void {
    this.counters.storeErrors++;
    debug('cache store failed: %s', (err as Error)?.message ?? err);
  }

  /** Emits a `cache` event on the db when someone listens (its SQL shown without credentials). */
  emit(event: CacheEvent): void {
    const emitter = this.instance.events;
    if (emitter.listenerCount('cache') === 0) return;
    emitter.emit('cache', event.sql === undefined ? event : { ...event, sql: sqlShown(event.sql) });
  }
}

// `db('public.users as u')`: the relation part of a builder's table name.
function builderTable(table: string): RelationRef {
  const name = table.trim().split(/\s+(?:as\s+)?/i)[0]!;
  const parts = name.split('.');
  return parts.length >= 2
    ? { schema: parts[parts.length - 2], name: parts[parts.length - 1]!, display: name }
    : { schema: undefined, name, display: name };
}

function routeOf(source: StatementSource): string {
  const bound = source.bound;
  return bound === undefined || !bound.startsWith('=') ? 'replicas' : `node:${bound.slice(1)}`;
}

function searchPathOf(source: StatementSource): string {
  const sp = source.searchPath;
  return sp === undefined ? '' : Array.isArray(sp) ? sp.join(',') : String(sp);
}

// The query context changes a result only through a postProcessResponse hook (the source gives it only then).
function contextOf(source: StatementSource): string {
  return source.context === undefined ? '' : serializeValue(source.context, 0);
}

function catalogVersion(catalog: FunctionCatalog | undefined): string | undefined {
  if (catalog === undefined) return '-';
  return typeof catalog.version === 'number' ? String(catalog.version) : undefined;
}
