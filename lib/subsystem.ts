import type { EventEmitter } from 'events';
import type { Knex } from 'knex';
import type { ClassifyOptions } from './classify';
import type { NormalizedClock } from './clock';
import type { NormalizedConfig } from './config';
import type { BackgroundLinks } from './background/background-links';
import type { Node } from './route/node';
import type { RequestScope } from './route/request-scope';
import type { ReadPolicy, RouteDecision, Router } from './route/router';
import type { Statement } from './route/statement';
import type { SqlClassification, SqlClassifier } from './classify';
import type { PlannedStop } from './topology/topology-source';

/**
 * A write that committed on the primary, as the after-commit effects see it. Handed to
 * every subsystem's {@link Subsystem.afterCommit} once per autocommit write or per COMMIT
 * (never on ROLLBACK), before the caller's `await` resumes.
 */
export interface CommittedWrite {
  /** The node that committed it (the primary). */
  readonly node: Node;
  /** Relations written; empty when unknown (then caches clear everything). */
  readonly tables: readonly string[];
  /** True when the write's tables could not be determined or it changed the schema. */
  readonly broad: boolean;
  /** Whether it committed as part of a transaction. */
  readonly inTransaction: boolean;
  /** Every statement that wrote (for a transaction: each of its writing statements, in order). */
  readonly statements: readonly string[];
  /**
   * The primary's WAL position after this commit (bytes since 0/0), read the first time a
   * subsystem asks and shared by every subsystem of this write. Rejects when it cannot be read.
   * A method of the record: call it on the record, never pass it on detached (`this` is typed so
   * that the compiler refuses a detached use where a `(this: void) => …` callback is expected).
   */
  commitPosition(this: CommittedWrite): Promise<bigint>;
  /**
   * Runs one query on the connection that committed (still held, idle, on the primary):
   * for effects that must follow the write on the same session (publishing a NOTIFY, a catalog
   * reload that must include this DDL). Never for background work.
   */
  query(this: CommittedWrite, sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * Nodes that joined or left the instance at run time (topology discovery, `discover`): a
 * node is announced as added before the router can pick it, and as removed after the router
 * stopped picking it (its in-flight statements may still finish; its pool is closed later).
 * With role discovery the configured primary is announced as added once, at composition:
 * after a failover it may serve reads as a standby. A subsystem ignores a node it knows.
 */
export interface NodeChange {
  readonly added: readonly Node[];
  readonly removed: readonly Node[];
}

/** A statement that failed on a node, as the retry policies see it. */
export interface FailedAttempt {
  readonly node: Node;
  readonly decision: RouteDecision;
  readonly statement: Statement;
  readonly err: unknown;
  /** 1 for the first try. */
  readonly attempt: number;
  /** Whether taking a connection failed, or the statement itself. */
  readonly phase: 'acquire' | 'query';
  /** Streams are never retried once a row may have reached the caller. */
  readonly streaming: boolean;
  /** Built on `db.primary` / `db.replica()`: the user chose the node. */
  readonly bound: boolean;
}

/**
 * Where a failed statement runs next: a new decision, an error to throw instead of the
 * original, or `undefined` ("not mine": the next policy is asked; the last rethrows).
 */
export type RetryPolicy = (failure: FailedAttempt) => RouteDecision | Error | undefined | Promise<RouteDecision | Error | undefined>;

/** A read the answer stage may answer: a hit, or a ticket to store the result of the miss. */
export type Answer = { hit: true; value: unknown } | { hit: false; store(result: unknown, answeredBy: Node): void };

/** What the answer stage (the result cache) is given for one read before a connection is taken. */
export interface ReadRequest {
  readonly statement: Statement;
  readonly decision: RouteDecision;
  /** The seam's view of the builder (bindings, query context, cache marks). */
  readonly source: StatementSource;
}

/** What the knex seam knows about the statement beyond {@link Statement}. @internal */
export interface StatementSource {
  /** The compiled bindings of a single statement; undefined for several statements. */
  readonly bindings: readonly unknown[] | undefined;
  /** Several statements (a schema builder). */
  readonly multiple: boolean;
  /** The builder's `.cache()` / `.noCache()` mark, if any. */
  readonly cacheMark: { mode: 'on' | 'off'; key?: string; ttlMs?: number } | undefined;
  /** The `searchPath` of the client that built it. */
  readonly searchPath: unknown;
  /** The builder's query context when the client has a `postProcessResponse` that sees it. */
  readonly context: unknown;
  /** The bound target of the instance that built it, as text (`primary`, `replica`, `=name`), if bound. */
  readonly bound: string | undefined;
}

/** The answer stage: looks a read up before any connection is taken; `undefined` = not answerable. */
export type Answerer = (request: ReadRequest) => Answer | undefined | Promise<Answer | undefined>;

/**
 * Work a subsystem does outside statements (probes, polls, catalog loads, LISTEN), on its own
 * connections ({@link SubsystemContext.links}), never the application's pool. Started on the
 * first statement or `db.ready()`, stopped by `destroy()`.
 */
export interface BackgroundTask {
  start(): void;
  /** Resolves when what `db.ready()` promises is loaded (e.g. the catalog); optional. */
  ready?(): Promise<void>;
  stop(): void | Promise<void>;
}

/**
 * One subsystem as the pipeline sees it: the stages it joins, declared once, composed by
 * `splitKnex()` into an immutable pipeline. A subsystem never mutates another's objects.
 *
 * @example
 * const audit: SubsystemFactory = (ctx) => ({
 *   name: 'audit',
 *   afterCommit: (w) => void ctx.emit('audit', { tables: w.tables }),
 * });
 */
export interface Subsystem {
  readonly name: string;
  /** Classifier input (the catalog): merged into every classification's options. */
  readonly classifyOptions?: () => Partial<ClassifyOptions> | undefined;
  /**
   * Wraps each routed classification (outside transactions), e.g. to count what the catalog
   * decided; must return what `classify()` returns.
   */
  readonly observeClassification?: (classify: () => SqlClassification) => SqlClassification;
  /** Read policies, asked in order for every read that could go to a replica. */
  readonly readPolicies?: readonly ReadPolicy[];
  /** Why the writer must not take statements now (known down, a standby), if it must not. */
  readonly writerGuard?: (writer: Node) => Error | undefined;
  /** Answers a read before a connection is taken (the result cache). */
  readonly answer?: Answerer;
  /** Where a failed statement runs next. */
  readonly retry?: RetryPolicy;
  /**
   * The writer refused a statement before it was sent (`ESPLIT_PRIMARY_DOWN` from a writer
   * guard): return a promise that resolves `true` once a writer may take it (the statement is
   * then routed again) or `false` to let the refusal stand; `undefined`: not mine. For a
   * bounded hold of writes during a failover.
   */
  readonly awaitWriter?: (refusal: Error, statement: Statement) => Promise<boolean> | undefined;
  /** Told of every routing decision, cheaply (no payload is built for it): metrics, traces. */
  readonly routed?: (decision: RouteDecision, statement: Statement, inTransaction: boolean) => void;
  /** Told of every retry: the failed attempt and where it runs next. */
  readonly retried?: (failure: FailedAttempt, next: RouteDecision) => void;
  /** Told of every error a node raised on the application's behalf. */
  readonly nodeError?: (node: Node, err: unknown, phase: 'acquire' | 'query') => void;
  /** Told of every statement that completed on a node (for the catalog: DDL seen, first statement done). */
  readonly statementDone?: (sql: string, node: Node, access: 'read' | 'write') => void;
  /** Effects after a write committed; the caller resumes once every one has settled. */
  readonly afterCommit?: (write: CommittedWrite) => void | Promise<void>;
  /** Background work on its own connections. */
  readonly background?: BackgroundTask;
  /**
   * Told when nodes join or leave at run time (see {@link NodeChange}): a subsystem that
   * keeps per-node state (probes, positions) creates or drops it here. Must not throw.
   */
  readonly nodesChanged?: (change: NodeChange) => void;
  /**
   * Told after each read of the topology source (`discover`) which nodes it announced a stop
   * for, e.g. a Patroni switchover scheduled for later (empty when none). Must not throw.
   */
  readonly plannedStops?: (stops: ReadonlyMap<Node, PlannedStop>) => void;
  /** This subsystem's section of `db.stats()`. */
  readonly stats?: () => unknown;
  /** Public methods added to the instance (names must not shadow knex's). */
  readonly methods?: Readonly<Record<string, (...args: any[]) => unknown>>;
}

/** What a subsystem is built from. Read-only views of the instance's parts. */
export interface SubsystemContext {
  readonly config: NormalizedConfig;
  /**
   * Every node, the configured primary first. A live view: with `discover`, nodes join and
   * leave at run time ({@link Subsystem.nodesChanged}); copy it for per-node state.
   */
  readonly nodes: readonly Node[];
  readonly primary: Node;
  /** The replicas, a live view like {@link SubsystemContext.nodes}. */
  readonly replicas: readonly Node[];
  readonly router: Router;
  readonly classifier: SqlClassifier;
  /** The classification options in force (including other subsystems' inputs). */
  classifyOptions(inTransaction?: boolean): ClassifyOptions;
  readonly scope: RequestScope;
  /** The one clock of the instance (`config.clock`, validated once). */
  readonly clock: NormalizedClock;
  /** Dedicated background connections, one per node. */
  readonly links: BackgroundLinks;
  /** Emits a public event on the instance (listener errors are contained). */
  emit(event: string, payload: unknown): void;
  /** The instance's event emitter (the knex instance), for `listenerCount`. */
  readonly events: EventEmitter;
  /** The instance itself, for subsystems that run statements through it (the doctor's routed probe). */
  readonly instance: Knex;
  /** knex's logger of the instance. */
  readonly logger: { warn(message: string): void; debug(message: unknown): void };
}

/** Builds a subsystem for one instance. */
export type SubsystemFactory = (ctx: SubsystemContext) => Subsystem;
