import type { EventEmitter } from 'events';
import type { NormalizedConfig } from './config';
import type { ClassifyOptions, SqlClassifier } from './classify';
import type { PooledConnection } from './knex/knex-internals';
import type { Node } from './route/node';
import type { RequestScope } from './route/request-scope';
import type { RouteDecision, Router } from './route/router';
import type { Statement } from './route/statement';

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
  ) {}

  /** Every node, primary first. */
  get nodes(): Node[] {
    return [this.primary, ...this.replicas];
  }

  /** The options every classification of this instance uses. */
  classifyOptions(inTransaction = false): ClassifyOptions {
    // Cached: this runs for every statement.
    const i = inTransaction ? 1 : 0;
    return (this.optionsCache[i] ??= { readOnlyFunctions: this.routing.readOnlyFunctions, ...this.extras, inTransaction });
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
  afterWrite(info: WriteInfo): void | Promise<void> {
    if (this.writeHooks.length === 0) return;
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
