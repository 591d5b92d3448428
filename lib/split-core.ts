import type { EventEmitter } from 'events';
import type { NormalizedConfig } from './config';
import type { ClassifyOptions, SqlClassifier } from './classify';
import type { PooledConnection } from './knex/knex-internals';
import type { Node } from './route/node';
import type { RequestScope } from './route/request-scope';
import type { RouteDecision, Router } from './route/router';
import type { Statement } from './route/statement';
import type { BuilderInternals, CompiledQuery } from './knex/knex-internals';
import { isMisrouteError } from './knex/pg-errors';
import { memoizedCommitPosition } from './route/commit-position';

/** What a committed write tells the subsystems (sticky windows, LSN tracking, cache). */
export interface WriteInfo {
  /** The node that committed it (the primary). */
  node: Node;
  /** Relations written; empty when unknown (then caches clear everything). */
  tables: readonly string[];
  /** True when the write's tables could not be determined or it changed the schema. */
  broad: boolean;
  /** The connection the write ran on, still held: a hook may read the WAL position on it. */
  connection: PooledConnection;
  /** Whether it committed as part of a transaction (hooks run at COMMIT). */
  inTransaction: boolean;
  /**
   * The SQL text of the write when the runner passes it (for a transaction: its writing
   * DDL and unknown-table statements joined with `;\n`). Optional: hooks must cope without it.
   */
  sql?: string;
  /**
   * The primary's WAL position after this commit (bytes since 0/0), read on `connection` the
   * first time a hook asks and shared by every hook of this write. Rejects when it cannot be read.
   */
  commitPosition(): Promise<bigint>;
}

/** What the runner and the transaction pass to {@link SplitCore.afterWrite}. */
export type WriteFacts = Omit<WriteInfo, 'commitPosition'>;

/** A statement that failed on a node, as the retry policies see it. */
export interface FailedAttempt {
  node: Node;
  decision: RouteDecision;
  statement: Statement;
  err: unknown;
  /** 1 for the first try. */
  attempt: number;
  /** Whether taking a connection failed, or the statement itself. */
  phase: 'acquire' | 'query';
  /** Streams are never retried: rows may have reached the caller. */
  streaming: boolean;
  /** Built on `db.primary` / `db.replica()`: the user chose the node. */
  bound: boolean;
}

/**
 * Where a failed statement runs next: a new decision, an error to throw instead of the
 * original, or `undefined` ("not mine", the next policy is asked; the last rethrows).
 */
export type RetryPolicy = (failure: FailedAttempt) => RouteDecision | Error | undefined | Promise<RouteDecision | Error | undefined>;

/** A cache lookup's answer: a hit, or a ticket to store the result of the miss. */
export type CacheTicket = { hit: true; value: unknown } | { hit: false; store(result: unknown): void };

/** The result cache's hook into the runner (installed by the cache subsystem). */
export interface ResultCacheHook {
  /** Called for reads outside transactions before a connection is taken; undefined = not cacheable. */
  lookup(builder: BuilderInternals, statement: Statement, compiled: CompiledQuery | CompiledQuery[], decision: RouteDecision): CacheTicket | undefined;
}

/** Something with timers or connections that `destroy()` stops and `initialize()` restarts. */
export interface Lifecycle {
  start(): void;
  stop(): void | Promise<void>;
}

/** The payload of the `route` event. */
export interface RouteEvent {
  node: string;
  role: 'primary' | 'replica';
  access: 'read' | 'write';
  reason: string;
  sql: string;
  method: string;
  tables: readonly string[];
  inTransaction: boolean;
}

/** The payload of the `misroute` event: a replica refused a statement as read-only. */
export interface MisrouteEvent {
  node: string;
  sql: string;
  code: string;
  message: string;
  retried: boolean;
}

/**
 * The hub one splitKnex instance shares between its knex seams and its subsystems:
 * nodes, router, classifier, scope, write hooks and lifecycles.
 *
 * @internal
 */
export class SplitCore {
  emitter: EventEmitter | undefined;
  readonly writeHooks: Array<(info: WriteInfo) => void | Promise<void>> = [];
  readonly lifecycles: Lifecycle[] = [];
  /** Sections that subsystems add to `stats()`. */
  readonly statsSections = new Map<string, () => unknown>();
  private extras: Partial<ClassifyOptions> = {};
  private optionsCache: [ClassifyOptions | undefined, ClassifyOptions | undefined] = [undefined, undefined];
  /** Asked in order when a statement fails; see {@link RetryPolicy}. */
  readonly retryPolicies: RetryPolicy[] = [];
  /** Told of every error a node raised (connection or SQL), e.g. by health tracking. */
  readonly nodeErrorObservers: Array<(node: Node, err: unknown, phase: 'acquire' | 'query') => void> = [];
  resultCache: ResultCacheHook | undefined;
  misroutes = 0;
  retries = 0;
  private started = false;

  constructor(
    readonly primary: Node,
    readonly replicas: Node[],
    readonly router: Router,
    readonly classifier: SqlClassifier,
    readonly scope: RequestScope,
    readonly routing: NormalizedConfig['routing'],
  ) {
    this.retryPolicies.push((f) => this.misrouteRetry(f));
  }

  // A read a replica refused as read-only (25006) is a misroute: count it, say it, and run
  // it once on the primary. Never inside streams (rows may have been sent) or bound builders.
  private misrouteRetry(f: FailedAttempt): RouteDecision | undefined {
    if (f.phase !== 'query' || f.attempt > 1 || f.node.role !== 'replica' || !isMisrouteError(f.err)) return undefined;
    const retry = !f.streaming && !f.bound && this.routing.retryMisroutes;
    this.noteMisroute(f.node, f.statement.sql, f.err as { code?: string; message?: string }, retry);
    if (!retry) return undefined;
    const code = (f.err as { code?: string }).code;
    return { node: this.router.writer(), access: 'write', reason: `misroute retry: ${f.node.name} refused (${code})`, tables: f.decision.tables };
  }

  /** Records a node's error and tells the observers. */
  noteNodeError(node: Node, err: unknown, phase: 'acquire' | 'query'): void {
    for (const observe of this.nodeErrorObservers) observe(node, err, phase);
  }

  /** Every node, primary first. */
  get nodes(): Node[] {
    return [this.primary, ...this.replicas];
  }

  /** The options every classification of this instance uses. */
  classifyOptions(inTransaction = false): ClassifyOptions {
    // Cached: this runs for every statement.
    const i = inTransaction ? 1 : 0;
    // readOnlyFunctions live in the classifier itself (per-call ones would cost a set per call).
    return (this.optionsCache[i] ??= { ...this.extras, inTransaction });
  }

  /** Adds classifier input (the catalog sets `catalog`). */
  setClassifyExtras(extras: Partial<ClassifyOptions>): void {
    this.extras = { ...this.extras, ...extras };
    this.optionsCache = [undefined, undefined];
  }

  /** Emits `route` when someone listens (building the payload costs only then). */
  emitRoute(decision: RouteDecision, statement: Statement, inTransaction: boolean): void {
    const emitter = this.emitter;
    if (emitter === undefined || emitter.listenerCount('route') === 0) return;
    const event: RouteEvent = {
      node: decision.node.name,
      role: decision.node.role,
      access: decision.access,
      reason: decision.reason,
      sql: statement.sql,
      method: statement.method,
      tables: decision.tables,
      inTransaction,
    };
    emitter.emit('route', event);
  }

  /** Counts and announces a statement a replica refused as read-only. */
  noteMisroute(node: Node, sql: string, err: { code?: string; message?: string }, retried: boolean): void {
    this.misroutes++;
    this.emitter?.emit('misroute', { node: node.name, sql, code: err.code ?? '', message: err.message ?? '', retried } satisfies MisrouteEvent);
  }

  /** Runs the write hooks after a write committed; resolves when all have. */
  afterWrite(facts: WriteFacts): void | Promise<void> {
    if (this.writeHooks.length === 0) return;
    const info: WriteInfo = { ...facts, commitPosition: memoizedCommitPosition(facts.connection) };
    const pending: Promise<void>[] = [];
    for (const hook of this.writeHooks) {
      const r = hook(info);
      if (r instanceof Promise) pending.push(r);
    }
    if (pending.length > 0) return Promise.all(pending).then(() => undefined);
  }

  /** Starts timers (health probes, lag polls, catalog refresh); idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const l of this.lifecycles) l.start();
  }

  /** Stops every timer; `initialize()` starts them again. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all(this.lifecycles.map((l) => l.stop()));
  }
}
