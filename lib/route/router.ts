import { debugLogger } from '../debug-log';
import { SplitKnexError } from '../errors';
import type { SqlClassification } from '../classify';
import type { Node, NodeInfo } from './node';
import type { ReplicaSelector } from './replica-selector';
import type { Statement } from './statement';

const debugRoute = debugLogger('split-knex:route');

/** Whether a statement only reads or may write (or change session/server state). */
export type Access = 'read' | 'write';

/** The router's answer for one statement. */
export interface RouteDecision {
  node: Node;
  access: Access;
  /** Why this node: a sentence a person can read, e.g. `read (select)`, `row lock forUpdate`. */
  reason: string;
  /** Relations the statement reads or writes, as the classifier found them. */
  tables: readonly string[];
}

/** A read's verdict on one replica, or on replicas as a whole, from a consistency or lag policy. */
export interface ReadPolicy {
  /** Name used in reasons and stats, e.g. `sticky`, `lag`. */
  readonly name: string;
  /**
   * Called for a read that could go to a replica. Return `undefined` to allow replicas,
   * a string (the reason) to send the read to the primary, or a filter that narrows the
   * replicas; return a promise only when you must wait (e.g. for a replica to catch up).
   */
  check(statement: Statement, replicas: readonly Node[]):
    | undefined | string | ((node: Node) => boolean)
    | Promise<undefined | string | ((node: Node) => boolean)>;
}

/** How a statement is classified; the router's only dependency on the classifiers. */
export type StatementClassifier = (statement: Statement) => { access: Access; reason: string; tables: readonly string[] };

/** Options for {@link Router}. */
export interface RouterOptions {
  primary: Node;
  replicas: Node[];
  /**
   * Every node that may take reads while it answers as a replica (default `replicas`):
   * with the configured primary in it, a former primary back as a standby takes reads. A
   * live list: nodes join and leave at run time (`lib/route/node-set.ts`).
   */
  readers?: readonly Node[];
  selector: ReplicaSelector;
  classify: StatementClassifier;
  fallback: 'primary' | 'error';
  /** True inside `db.usePrimary()`; read per statement. */
  forcePrimary: () => boolean;
  /** `routing.primaryWeight`: the primary's share in the read rotation beside the replicas' weights (default 0: none). */
  primaryWeight?: number;
}

/**
 * Decides the node for each statement: hint > bound target > usePrimary scope >
 * writes to the primary > reads through the read policies to an eligible replica >
 * fallback. Pure decision: it neither runs nor counts queries.
 *
 * @example
 * const d = await router.route(statement); // { node, access: 'read', reason: 'read (select)', tables: ['users'] }
 */
export class Router {
  readonly primary: Node;
  readonly replicas: Node[];
  private readonly readers: readonly Node[];
  private policies: readonly ReadPolicy[] = [];
  private guards: ReadonlyArray<(writer: Node) => Error | undefined> = [];
  private composed = false;
  private readonly selector: ReplicaSelector;
  private readonly classify: StatementClassifier;
  private readonly fallback: 'primary' | 'error';
  private readonly forcePrimary: () => boolean;
  /** Reads sent to the primary, by the policy (or cause) that sent them. */
  readonly primaryReads = new Map<string, number>();
  private writerNode: Node;
  private readonly primaryWeight: number;
  private primaryView: { node: Node; view: NodeInfo } | undefined;

  constructor(options: RouterOptions) {
    this.primaryWeight = options.primaryWeight ?? 0;
    this.primary = options.primary;
    this.writerNode = options.primary;
    this.replicas = options.replicas;
    this.readers = options.readers ?? options.replicas;
    this.selector = options.selector;
    this.classify = options.classify;
    this.fallback = options.fallback;
    this.forcePrimary = options.forcePrimary;
  }

  /**
   * Takes the subsystems' read policies (in order) and writer guards; once, when the
   * instance is composed.
   */
  compose(policies: readonly ReadPolicy[], guards: ReadonlyArray<(writer: Node) => Error | undefined>): void {
    if (this.composed) throw new Error('split-knex: the router is composed once');
    this.composed = true;
    this.policies = Object.freeze([...policies]);
    this.guards = Object.freeze([...guards]);
  }

  /** The read policies in the order they are asked. */
  get readPolicies(): readonly ReadPolicy[] {
    return this.policies;
  }

  /**
   * Why the writer must not take statements now (known down, answering as a standby), if
   * it must not; `undefined` lets it through.
   */
  writerRefusal(writer: Node = this.writerNode): Error | undefined {
    for (const guard of this.guards) {
      const refusal = guard(writer);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }

  /**
   * The node that takes writes now (changes after a failover with role discovery). Throws
   * the guard's error (`ESPLIT_PRIMARY_DOWN`) when the writer is known to be unable to take
   * statements, so writes fail fast instead of waiting for a connect timeout.
   */
  writer(): Node {
    const node = this.writerNode;
    if (this.guards.length === 0) return node;
    const refusal = this.writerRefusal(node);
    if (refusal !== undefined) throw refusal;
    return node;
  }

  /** The node writes go to now, without the guard: for stats and bookkeeping. */
  get currentWriter(): Node {
    return this.writerNode;
  }

  /** Makes `node` the writer (health's role discovery after a failover). */
  setWriter(node: Node): void {
    this.writerNode = node;
  }

  /**
   * Classifies and routes one statement. `bound` pins it (db.primary / db.replica()).
   * `exclude` keeps a read off some replicas (when it is retried after a connection error:
   * the one it failed on, and any that is not healthy).
   */
  route(statement: Statement, bound?: Node | 'primary' | 'replica', exclude?: (node: Node) => boolean): RouteDecision | Promise<RouteDecision> {
    const c = this.classify(statement);
    if (bound === 'replica') return this.pickReplica(statement, c.tables, 'bound to a replica', true);
    if (bound === 'primary') return this.decide(this.writer(), c.access, 'bound to the primary', c.tables, statement, 'bound');
    if (bound !== undefined) {
      return this.decide(bound, c.access, `bound to ${bound.name}`, c.tables, statement);
    }
    if (statement.hint === 'primary') return this.decide(this.writer(), c.access, 'hint: primary', c.tables, statement, 'hint');
    if (c.access === 'write') {
      if (statement.hint === 'replica' && statement.kind === 'raw') {
        // The user vouches for this raw SQL (e.g. a helper function the classifier cannot see
        // into). If it writes after all, the replica refuses it (25006) and the misroute guard retries.
        return this.pickReplica(statement, c.tables, 'hint: replica', true);
      }
      return this.decide(this.writer(), 'write', c.reason, c.tables, statement);
    }
    if (this.forcePrimary()) return this.decide(this.writer(), 'read', 'usePrimary scope', c.tables, statement, 'usePrimary');
    return this.pickReplica(statement, c.tables, statement.hint === 'replica' ? 'hint: replica' : c.reason, false, exclude, statement.hint === undefined);
  }

  /** Classifies without routing (for statements pinned by a transaction). */
  classifyOnly(statement: Statement): { access: Access; reason: string; tables: readonly string[] } {
    return this.classify(statement);
  }

  /** Chooses a replica for a read-only transaction (pinned for its life), or the fallback. */
  routeReadOnlyTransaction(): RouteDecision | Promise<RouteDecision> {
    const statement: Statement = { kind: 'raw', method: 'transaction', sql: 'BEGIN READ ONLY', lock: undefined, hint: undefined, table: undefined };
    if (this.forcePrimary()) return this.decide(this.writer(), 'read', 'usePrimary scope', [], statement, 'usePrimary');
    return this.pickReplica(statement, [], 'read-only transaction', false);
  }

  private pickReplica(statement: Statement, tables: readonly string[], reason: string, hinted: boolean, exclude?: (node: Node) => boolean, share = false):
    RouteDecision | Promise<RouteDecision> {
    let candidates = this.readers.filter((n) => isEligible(n) && exclude?.(n) !== true);
    // routing.primaryWeight: the writer joins the read rotation (never for hinted or bound reads).
    if (share && this.primaryWeight > 0) {
      const writer = this.writerNode;
      if (writer.available && exclude?.(writer) !== true && this.writerRefusal(writer) === undefined) candidates.push(writer);
    }
    if (candidates.length === 0) return this.noReplica(statement, tables, this.replicas.length === 0 ? 'no replicas configured' : 'no healthy replica');
    if (hinted) return this.choose(candidates, statement, tables, reason);
    for (let i = 0; i < this.policies.length; i++) {
      const policy = this.policies[i]!;
      const verdict = policy.check(statement, candidates);
      if (verdict instanceof Promise) {
        return verdict.then((v) => this.continueAfter(v, i, policy, candidates, statement, tables, reason));
      }
      if (typeof verdict === 'string') return this.decide(this.writer(), 'read', verdict, tables, statement, policy.name);
      if (typeof verdict === 'function') {
        candidates = candidates.filter(verdict);
        if (candidates.length === 0) return this.noReplica(statement, tables, `${policy.name}: no eligible replica`, policy.name);
      }
    }
    return this.choose(candidates, statement, tables, reason);
  }

  // The slow path after a policy had to wait: apply its verdict, then the remaining policies.
  private async continueAfter(
    verdict: undefined | string | ((node: Node) => boolean), index: number, policy: ReadPolicy,
    candidates: Node[], statement: Statement, tables: readonly string[], reason: string,
  ): Promise<RouteDecision> {
    if (typeof verdict === 'string') return this.decide(this.writer(), 'read', verdict, tables, statement, policy.name);
    let rest = typeof verdict === 'function' ? candidates.filter(verdict) : candidates;
    if (rest.length === 0) return this.noReplica(statement, tables, `${policy.name}: no eligible replica`, policy.name);
    for (let i = index + 1; i < this.policies.length; i++) {
      const next = this.policies[i]!;
      const v = await next.check(statement, rest);
      if (typeof v === 'string') return this.decide(this.writer(), 'read', v, tables, statement, next.name);
      if (typeof v === 'function') rest = rest.filter(v);
      if (rest.length === 0) return this.noReplica(statement, tables, `${next.name}: no eligible replica`, next.name);
    }
    return this.choose(rest, statement, tables, reason);
  }

  private choose(candidates: Node[], statement: Statement, tables: readonly string[], reason: string): RouteDecision {
    const node = this.primaryWeight > 0 ? this.selectWithPrimary(candidates, statement) : this.selector.select(candidates, statement);
    if (node === undefined) return this.noReplica(statement, tables, 'selector chose none');
    if (node.role === 'primary') return this.decide(node, 'read', `${reason}; primary's read share`, tables, statement, 'share');
    return this.decide(node, 'read', reason, tables, statement);
  }

  // The selector sees the primary with weight routing.primaryWeight (its node's weight is 0).
  private selectWithPrimary(candidates: Node[], statement: Statement): Node | undefined {
    const at = candidates.findIndex((n) => n.role === 'primary');
    if (at < 0) return this.selector.select(candidates, statement);
    const views: NodeInfo[] = candidates.slice();
    views[at] = this.readView(candidates[at]!);
    const picked = this.selector.select(views, statement);
    return picked === undefined ? undefined : candidates[views.indexOf(picked)];
  }

  private readView(node: Node): NodeInfo {
    if (this.primaryView?.node !== node) {
      const weight = this.primaryWeight;
      this.primaryView = {
        node,
        view: {
          get name() { return node.name; },
          get role() { return node.role; },
          weight,
          get state() { return node.state; },
          get inFlight() { return node.inFlight; },
        },
      };
    }
    return this.primaryView.view;
  }

  private noReplica(statement: Statement, tables: readonly string[], why: string, counter = 'fallback'): RouteDecision {
    if (this.fallback === 'error' && this.replicas.length > 0) {
      throw new SplitKnexError('ESPLIT_NO_REPLICA', `split-knex: no replica can take this read (${why}) and routing.fallback is 'error'`);
    }
    return this.decide(this.writer(), 'read', `fallback to primary: ${why}`, tables, statement, this.replicas.length === 0 ? undefined : counter);
  }

  private decide(node: Node, access: Access, reason: string, tables: readonly string[], statement: Statement, primaryReadCause?: string): RouteDecision {
    if (access === 'read' && primaryReadCause !== undefined && node.role === 'primary') {
      this.primaryReads.set(primaryReadCause, (this.primaryReads.get(primaryReadCause) ?? 0) + 1);
    }
    if (debugRoute.enabled) debugRoute('%s -> %s (%s): %s', access, node.name, reason, statement.sql.replace(/%/g, '%%').slice(0, 200));
    return { node, access, reason, tables };
  }
}

function isEligible(node: Node): boolean {
  return node.available && node.role === 'replica' && node.weight > 0;
}

/** Adapts a SQL classification to the router's vocabulary. */
export function accessOf(c: SqlClassification): Access {
  return c.target === 'replica' ? 'read' : 'write';
}
