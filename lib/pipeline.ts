import { performance } from 'perf_hooks';
import { debugLogger } from './debug-log';
import type { EventEmitter } from 'events';
import type { PooledConnection } from './knex/knex-internals';
import { statementIsTxControl } from './knex/pg-errors';
import type { InstanceLifecycle } from './lifecycle';
import { readCommitPosition } from './route/commit-position';
import type { BoundTarget, Node } from './route/node';
import { redactText, sqlShown } from './redact';
import type { RouteDecision, Router } from './route/router';
import type { Statement } from './route/statement';
import type { StatementClass } from './route/statement-classifier';
import type { Answer, CommittedWrite, FailedAttempt, ReadRequest, RetryPolicy, StatementSource, Subsystem } from './subsystem';
import type { TransactionWrites } from './route/transaction-writes';

const debug = debugLogger('split-knex:route');

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

/** One statement routed by split-knex, as the knex seam hands it to the pipeline. @internal */
export interface StatementRun {
  readonly statement: Statement;
  /** `db.primary` / `db.replica(name)`: the user chose the target. */
  readonly bound: BoundTarget | undefined;
  /** `.stream()`: rows may reach the caller before the statement ends. */
  readonly streaming: boolean;
  /** What the answer stage needs of the builder (read lazily: only the cache asks). */
  source(): StatementSource;
  /** Runs the statement on a connection of `decision.node`; resolves with knex's result. */
  execute(connection: PooledConnection, decision: RouteDecision): Promise<unknown>;
  /** An attempt failed and another follows (knex rewrites the compiled query while running it). */
  retrying(): void;
  /** False for a failure that must reach the caller as it is (knex's `.timeout()`: the statement ran). */
  mayRetry?(err: unknown): boolean;
}

/** A statement whose connection was chosen before it (a transaction, `.connection(conn)`). @internal */
export interface PinnedRun {
  readonly statement: Statement;
  readonly node: Node;
  /** `transaction` or `explicit connection`, for events. */
  readonly reason: string;
  /** The open transaction's write record, when the statement runs inside one. */
  readonly writes: TransactionWrites | undefined;
  execute(): Promise<unknown>;
}

/** What the pipeline is composed of. @internal */
export interface PipelineParts {
  router: Router;
  subsystems: readonly Subsystem[];
  lifecycle: InstanceLifecycle;
  /** The instance (a knex instance) that emits `route`, `misroute` and the subsystems' events. */
  events: EventEmitter;
  /** Classifies a statement inside a transaction (no routing, for counts and write records). */
  classifyPinned(statement: Statement): StatementClass;
  /** Retry policies of the core, asked before the subsystems' (the misroute guard). */
  coreRetries: readonly RetryPolicy[];
  logger: { warn(message: string): void };
}

/**
 * What happens to one statement, top to bottom: lifecycle → classify and route (read
 * policies) → answer from the cache or not → take a connection on the node → run →
 * retry elsewhere or not → after-commit effects (positions, invalidation, catalog) → events.
 * A cache miss continues down this same path once, whatever the store. Composed once by
 * `splitKnex()` from the subsystems' declared stages; immutable afterwards.
 *
 * @example
 * const result = await pipeline.run(runFromRunner);
 */
export class Pipeline {
  /** Statements a replica refused as read-only (SQLSTATE 25006). */
  misroutes = 0;
  /** Statements run again on another node. */
  retries = 0;
  readonly router: Router;
  readonly lifecycle: InstanceLifecycle;
  private readonly answerers: ReadonlyArray<NonNullable<Subsystem['answer']>>;
  private readonly retryPolicies: readonly RetryPolicy[];
  private readonly nodeErrorObservers: ReadonlyArray<NonNullable<Subsystem['nodeError']>>;
  private readonly doneObservers: ReadonlyArray<NonNullable<Subsystem['statementDone']>>;
  private readonly effects: ReadonlyArray<NonNullable<Subsystem['afterCommit']>>;
  private readonly writerWaits: ReadonlyArray<NonNullable<Subsystem['awaitWriter']>>;
  private readonly routeObservers: ReadonlyArray<NonNullable<Subsystem['routed']>>;
  private readonly retryObservers: ReadonlyArray<NonNullable<Subsystem['retried']>>;
  private readonly events: EventEmitter;
  private readonly classifyPinned: PipelineParts['classifyPinned'];
  private readonly logger: PipelineParts['logger'];

  constructor(parts: PipelineParts) {
    const s = parts.subsystems;
    this.router = parts.router;
    this.lifecycle = parts.lifecycle;
    this.events = parts.events;
    this.classifyPinned = parts.classifyPinned;
    this.logger = parts.logger;
    this.answerers = Object.freeze(s.flatMap((x) => (x.answer === undefined ? [] : [x.answer])));
    this.retryPolicies = Object.freeze([...parts.coreRetries, ...s.flatMap((x) => (x.retry === undefined ? [] : [x.retry]))]);
    this.nodeErrorObservers = Object.freeze(s.flatMap((x) => (x.nodeError === undefined ? [] : [x.nodeError])));
    this.doneObservers = Object.freeze(s.flatMap((x) => (x.statementDone === undefined ? [] : [x.statementDone])));
    this.effects = Object.freeze(s.flatMap((x) => (x.afterCommit === undefined ? [] : [x.afterCommit])));
    this.writerWaits = Object.freeze(s.flatMap((x) => (x.awaitWriter === undefined ? [] : [x.awaitWriter])));
    this.routeObservers = Object.freeze(s.flatMap((x) => (x.routed === undefined ? [] : [x.routed])));
    this.retryObservers = Object.freeze(s.flatMap((x) => (x.retried === undefined ? [] : [x.retried])));

  }

  /** Runs one routed statement (outside a transaction). */
  async run(run: StatementRun): Promise<unknown> {
    // 1. Lifecycle: after destroy() nothing runs; the first statement starts background work.
    this.lifecycle.enter();
    const statement = run.statement;

    // 2. Classify and route: hint > bound target > usePrimary > writes to the primary >
    //    reads through the read policies (health, consistency, lag) to a replica > fallback.
    const routed = this.route(run);
    let decision = routed instanceof Promise ? await routed : routed;

    // 3. Answer from the cache, or get a ticket to store what the replica answers.
    const answer = decision.access === 'read' && !run.streaming && this.answerers.length > 0
      ? await this.answer(run, decision) : undefined;
    if (answer?.hit === true) return answer.value;

    // 4. Take a connection on the node and run; on failure ask the retry policies. A read's
    //    time, pool wait included, is recorded on its node (the busy-primary signal); not a
    //    stream's, which lasts as long as its consumer takes.
    for (let attempt = 1; ; attempt++) {
      const node = decision.node;
      const timed = decision.access === 'read' && !run.streaming;
      const asked = timed ? performance.now() : 0;
      let connection: PooledConnection;
      try {
        connection = await node.acquire();
      } catch (err) {
        this.noteNodeError(node, err, 'acquire');
        decision = await this.nextAttempt({ node, decision, statement, err, attempt, phase: 'acquire', streaming: run.streaming, bound: run.bound !== undefined });
        continue;
      }
      this.emitRoute(decision, statement, false);
      node.began(decision.access);
      try {
        const result = await run.execute(connection, decision);
        if (timed) {
          const answered = performance.now();
          node.noteRead(answered - asked, answered);
        }
        this.noteDone(statement.sql, node, decision.access);
        // 5. Effects of a committed autocommit write, on the connection that committed it,
        //    before the caller resumes: positions, cache invalidation, catalog reload. A
        //    statement classified as a write that a replica ran (`db.replica()`, a hint: an
        //    advisory lock, set_config) wrote nothing on the primary: it has no effects.
        if (decision.access === 'write' && this.isWriter(node) && !statementIsTxControl(statement.sql)) {
          const effects = this.afterCommit({
            node, tables: decision.tables, broad: decision.tables.length === 0 || statement.kind === 'schema',
            inTransaction: false, statements: [statement.sql],
          }, connection);
          if (effects !== undefined) await effects;
        } else if (answer !== undefined) {
          answer.store(result, node);
        }
        return result;
      } catch (err) {
        node.errors++;
        if (run.mayRetry?.(err) === false) throw err;
        this.noteNodeError(node, err, 'query');
        decision = await this.nextAttempt({ node, decision, statement, err, attempt, phase: 'query', streaming: run.streaming, bound: run.bound !== undefined });
        run.retrying();
      } finally {
        node.inFlight--;
        await node.release(connection);
      }
    }
  }

  // Routes a statement (synchronously when no read policy has to wait: the hot path). A writer
  // refusal (known down) may be held by a subsystem until a new writer is known (a failover),
  // then the statement is routed again.
  private route(run: StatementRun): RouteDecision | Promise<RouteDecision> {
    try {
      const routed = this.router.route(run.statement, run.bound);
      return routed instanceof Promise ? routed.catch((err: unknown) => this.routeAfterRefusal(err, run)) : routed;
    } catch (err) {
      return this.routeAfterRefusal(err, run);
    }
  }

  private async routeAfterRefusal(err: unknown, run: StatementRun): Promise<RouteDecision> {
    if (!(await this.heldForWriter(err, run.statement))) throw err;
    return this.route(run);
  }

  private async heldForWriter(err: unknown, statement: Statement): Promise<boolean> {
    if ((err as { code?: unknown })?.code !== 'ESPLIT_PRIMARY_DOWN') return false;
    for (const wait of this.writerWaits) {
      const held = wait(err as Error, statement);
      if (held !== undefined) return held;
    }
    return false;
  }

  /** Runs a statement on a connection chosen before it (inside a transaction, or `.connection(conn)`). */
  async runPinned(run: PinnedRun): Promise<unknown> {
    this.lifecycle.enter();
    const { node, statement } = run;
    // Classified for the per-node counts, the route event and the transaction's write record.
    const c = this.classifyPinned(statement);
    // Nothing that runs on a replica may change what we believe about the primary.
    if (c.access === 'write' && run.writes !== undefined && this.isWriter(node) && !statementIsTxControl(statement.sql)) {
      run.writes.add(statement, c.tables);
    }
    this.emitRoute({ node, access: c.access, reason: run.reason, tables: c.tables }, statement, run.writes !== undefined);
    node.began(c.access);
    try {
      const result = await run.execute();
      this.noteDone(statement.sql, node, c.access);
      return result;
    } catch (err) {
      node.errors++;
      throw err;
    } finally {
      node.inFlight--;
    }
  }

  // The writer, or a node that answers as a primary (its role is discovered; the writer is
  // elected from it a probe later during a failover).
  private isWriter(node: Node): boolean {
    return node === this.router.currentWriter || node.role === 'primary';
  }

  /**
   * The after-commit effects of a write (an autocommit statement, or a transaction at COMMIT),
   * run on the connection that committed it. Never rejects: a failed effect is logged. Returns
   * a promise only when an effect answers later (the hot path awaits nothing).
   */
  afterCommit(facts: CommitFacts, connection: PooledConnection): Promise<void> | undefined {
    if (this.effects.length === 0) return undefined;
    const write = new CommittedWriteRecord(facts, connection);
    let pending: Promise<void>[] | undefined;
    for (const effect of this.effects) {
      try {
        const r = effect(write);
        if (r instanceof Promise) (pending ??= []).push(r.catch((err: unknown) => this.effectFailed(err)));
      } catch (err) {
        this.effectFailed(err);
      }
    }
    return pending === undefined ? undefined : Promise.all(pending).then(() => undefined);
  }

  // Stores that answer later (Redis) are awaited here, once: the miss then runs below like any read.
  private answer(run: StatementRun, decision: RouteDecision): Promise<Answer | undefined> {
    return this.lookup({ statement: run.statement, decision, source: run.source() });
  }

  /** The answer stage alone, for one read (the pipeline's step 3; benchmarks time it apart). */
  async lookup(request: ReadRequest): Promise<Answer | undefined> {
    for (const answerer of this.answerers) {
      const a = answerer(request);
      const answer = a instanceof Promise ? await a : a;
      if (answer !== undefined) return answer;
    }
    return undefined;
  }

  // Asks the retry policies (misroute guard first, then the subsystems') where a failed
  // statement runs next; rethrows the error (or a policy's replacement) when none retries it.
  private async nextAttempt(failure: FailedAttempt): Promise<RouteDecision> {
    for (const policy of this.retryPolicies) {
      const verdict = policy(failure);
      const v = verdict instanceof Promise ? await verdict : verdict;
      if (v === undefined) continue;
      if (v instanceof Error) {
        // A writer known down: a subsystem may hold the statement for a new writer (never
        // when the statement was sent: its outcome is unknown, it must not run twice).
        if (failure.phase === 'acquire' && (await this.heldForWriter(v, failure.statement))) {
          const next = await this.router.route(failure.statement);
          this.noteRetry(failure, next);
          return next;
        }
        throw v;
      }
      this.noteRetry(failure, v);
      return v;
    }
    throw failure.err;
  }

  private noteRetry(failure: FailedAttempt, next: RouteDecision): void {
    this.retries++;
    for (const observe of this.retryObservers) observe(failure, next);
  }

  /** Counts and announces a statement a replica refused as read-only. */
  noteMisroute(node: Node, sql: string, err: { code?: string; message?: string }, retried: boolean): void {
    this.misroutes++;
    this.emit('misroute', { node: node.name, sql: sqlShown(sql), code: err.code ?? '', message: redactText(err.message ?? ''), retried } satisfies MisrouteEvent);
  }

  private noteNodeError(node: Node, err: unknown, phase: 'acquire' | 'query'): void {
    for (const observe of this.nodeErrorObservers) observe(node, err, phase);
  }

  private noteDone(sql: string, node: Node, access: 'read' | 'write'): void {
    for (const observe of this.doneObservers) observe(sql, node, access);
  }

  // Emits `route` when someone listens (building the payload costs only then).
  private emitRoute(decision: RouteDecision, statement: Statement, inTransaction: boolean): void {
    for (const observe of this.routeObservers) observe(decision, statement, inTransaction);
    if (this.events.listenerCount('route') === 0) return;
    this.emit('route', {
      node: decision.node.name, role: decision.node.role, access: decision.access, reason: decision.reason,
      sql: sqlShown(statement.sql), method: statement.method, tables: decision.tables, inTransaction,
    } satisfies RouteEvent);
  }

  /** Emits a public event; a throwing listener is contained (it must not fail the statement). */
  emit(event: string, payload: unknown): void {
    try {
      this.events.emit(event, payload);
    } catch (err) {
      debug('listener of %s threw: %s', event, String(err));
    }
  }

  private effectFailed(err: unknown): void {
    this.logger.warn(`split-knex: an after-commit effect failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** What the pipeline knows of a committed write (the rest of {@link CommittedWrite} it adds). */
export type CommitFacts = Omit<CommittedWrite, 'commitPosition' | 'query'>;

// One object per committed write, of one shape: every effect reads the same fields.
class CommittedWriteRecord implements CommittedWrite {
  readonly node: Node;
  readonly tables: readonly string[];
  readonly broad: boolean;
  readonly inTransaction: boolean;
  readonly statements: readonly string[];
  private position: Promise<bigint> | undefined;

  constructor(facts: CommitFacts, private readonly connection: PooledConnection) {
    this.node = facts.node;
    this.tables = facts.tables;
    this.broad = facts.broad;
    this.inTransaction = facts.inTransaction;
    this.statements = facts.statements;
  }

  commitPosition(): Promise<bigint> {
    return (this.position ??= readCommitPosition(this.connection).catch(() => readCommitPosition(this.connection)));
  }

  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> {
    return (this.connection as unknown as { query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> }).query(sql, params);
  }
}
