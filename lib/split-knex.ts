import type { Knex } from 'knex';
import { ConnectionResolver } from './background/connection-resolver';
import { SqlClassifier, type ClassifyOptions, type SqlClassification } from './classify';
import { normalizeConfig, type NormalizedConfig, type SplitKnexConfig } from './config';
import { SplitKnexError } from './errors';
import { prepareNodeConnections, type NodeConnections } from './health/node-connections';
import { withConnectTimeout } from './health/node-connection';
import { NodeSet } from './route/node-set';
import { addressOfConnection, connectionForMember } from './topology/member-connection';
import { NodeLinks } from './topology/node-links';
import { TopologyFollower } from './topology/topology-follower';
import { topologySourceOf } from './topology/topology-source-of';
import type { PlannedStop } from './topology/topology-source';
import { boundInstance } from './knex/bound-instance';
import { ClientPG, makeKnex, Migrator, Seeder } from './knex/knex-internals';
import { SplitClient, PIPELINE } from './knex/split-client';
import type { BoundTarget } from './knex/split-client-marks';
import { InstanceLifecycle } from './lifecycle';
import { Pipeline, type MisrouteEvent, type RouteEvent } from './pipeline';
import { forgottenTransactingGuard } from './route/forgotten-transacting';
import { misrouteRetry } from './route/misroute-retry';
import { tempRelationRetry } from './route/temp-relation-retry';
import { Node } from './route/node';
import { createSelector } from './route/replica-selector';
import { RequestScope } from './route/request-scope';
import { Router } from './route/router';
import { statementClassifier } from './route/statement-classifier';
import { redactingLogger } from './redact';
import { collectStats, type SplitKnexStats } from './stats';
import type { Subsystem, SubsystemContext } from './subsystem';
import { SUBSYSTEMS } from './subsystems';

/**
 * A Knex instance that routes: everything knex offers, plus the escape hatches and
 * observability of split-knex.
 */
export interface SplitKnex<TRecord extends {} = any, TResult = any[]> extends Knex<TRecord, TResult> {
  /** A Knex instance bound to the primary: `db.primary('users').where(...)`. */
  readonly primary: Knex<TRecord, TResult>;
  /** A Knex instance bound to the named replica, or to any eligible replica when no name is given. */
  replica(name?: string): Knex<TRecord, TResult>;
  /** Runs `fn`; every query in its async scope goes to the primary. */
  usePrimary<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * Starts background work now (it otherwise starts with the first query) and resolves once
   * the catalog and the replicas' positions are loaded: a warm instance before traffic.
   * Rejects with `ESPLIT_DESTROYED` after `destroy()`.
   *
   * @example
   * const db = splitKnex(config);
   * await db.ready(); // catalog loaded, replica positions known
   */
  ready(): Promise<void>;
  /** Per-node and per-role counters; no secrets. */
  stats(): SplitKnexStats;
  on(event: 'route', listener: (event: RouteEvent) => void): this;
  on(event: 'misroute', listener: (event: MisrouteEvent) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

// Names a knex instance already has (or knex routes through): no subsystem method may take them.
const KNEX_NAMES = new Set(['context', 'client', 'userParams', 'schema', 'migrate', 'seed', 'fn', 'raw', 'ref', 'transaction',
  'transactionProvider', 'destroy', 'initialize', 'batchInsert', 'queryBuilder', 'withUserParams', 'on', 'emit']);

/**
 * Builds a routing Knex instance from a knexfile entry plus `replicas`. Nothing connects,
 * and no `connection` provider is called, until the first query or `db.ready()`.
 *
 * @example
 * const db = splitKnex({
 *   client: 'pg',
 *   connection: process.env.DATABASE_URL,
 *   replicas: process.env.REPLICA_URLS, // 'postgres://r1/app,postgres://r2/app'
 * });
 * await db('users').where({ id: 1 }).first(); // a replica
 * await db('users').insert({ name: 'Ada' });  // the primary
 */
export function splitKnex<TRecord extends {} = any, TResult = any[]>(config: SplitKnexConfig): SplitKnex<TRecord, TResult> {
  const n = normalizeConfig(config);
  // Connect timeouts, and a multi-host primary that follows the host answering read-write.
  const connections = prepareNodeConnections(n);
  const primaryResolver = new ConnectionResolver(connections.primary);
  const facadeClient = new SplitClient({ ...n.knexConfig, connection: primaryResolver.forPool(), pool: n.primary.pool });
  // Weight 1: once a failover makes it a replica, it takes its share of reads.
  const primary = new Node(n.primary.name, 'primary', 1, facadeClient, primaryResolver);
  const configured = n.replicas.map((spec, i) => {
    const resolver = new ConnectionResolver(connections.replicas[i]);
    return new Node(spec.name, 'replica', spec.weight, new ClientPG({ ...n.knexConfig, connection: resolver.forPool(), pool: spec.pool }), resolver);
  });
  // The node set changes at run time with `discover`; `replicas` and `nodes` are its live lists.
  const nodeSet = new NodeSet(primary, configured);
  const replicas = nodeSet.replicas;
  const nodes = nodeSet.all;

  const scope = new RequestScope();
  const classifier = new SqlClassifier({ cacheSize: n.routing.classifierCacheSize, readOnlyFunctions: n.routing.readOnlyFunctions });
  let subsystems: readonly Subsystem[] = [];
  const options = classifyOptionsOf(() => subsystems);
  // Routed classifications pass the subsystems' observers (the catalog counts what it decided).
  const forgotten = forgottenTransactingGuard({ strict: n.routing.strictTransactions });
  const classify = forgotten.wrap(statementClassifier(classifier, () => options(false), observerOf(() => subsystems)));
  const router = new Router({
    primary,
    replicas,
    readers: nodes,
    selector: createSelector(n.routing.strategy),
    classify,
    fallback: n.routing.fallback,
    primaryWeight: n.routing.primaryWeight,
    forcePrimary: () => scope.current()?.forcePrimary === true,
  });

  const db = makeKnex(facadeClient) as unknown as SplitKnex;
  const links = new NodeLinks(nodes.map((node) => [node, node.resolver] as const), {
    timeoutMs: connections.health.timeoutMs,
    searchPath: n.knexConfig.searchPath,
  });
  let pipeline: Pipeline | undefined;
  // Every message split-knex writes to knex's logger, credentials hidden.
  const logger = redactingLogger(facadeClient.logger as SubsystemContext['logger']);
  const ctx: SubsystemContext = {
    config: n, nodes, primary, replicas, router, classifier, scope, links,
    clock: n.clock,
    classifyOptions: options,
    events: db,
    instance: db,
    emit: (event, payload) => (pipeline === undefined ? db.emit(event, payload) : pipeline.emit(event, payload)),
    logger,
  };
  subsystems = Object.freeze(SUBSYSTEMS.map((make) => make(ctx)));
  router.compose(
    subsystems.flatMap((s) => s.readPolicies ?? []),
    subsystems.flatMap((s) => (s.writerGuard === undefined ? [] : [s.writerGuard])),
  );
  // Subsystems learn of nodes that join or leave (per-node probes, positions) before the router does.
  const watchers = subsystems.flatMap((s) => (s.nodesChanged === undefined ? [] : [s.nodesChanged]));
  nodeSet.onChange((change) => { for (const w of watchers) w(change); });
  // With role discovery the configured primary may come back as a standby and serve reads:
  // per-reader state (replay positions) must cover it too. Its probes exist already.
  if (n.health.discoverRoles) for (const w of watchers) w({ added: [primary], removed: [] });
  const stopWatchers = subsystems.flatMap((s) => (s.plannedStops === undefined ? [] : [s.plannedStops]));
  const follower = followTopology(n, connections, nodeSet, links, router, ctx, (stops) => { for (const w of stopWatchers) w(stops); });
  const lifecycle = new InstanceLifecycle([
    ...subsystems.flatMap((s) => (s.background === undefined ? [] : [s.background])),
    ...(follower === undefined ? [] : [follower]),
  ], links);
  const classifyInTransaction = statementClassifier(classifier, () => options(true));
  pipeline = new Pipeline({
    router, subsystems, lifecycle, events: db,
    classifyPinned: classifyInTransaction,
    coreRetries: [
      misrouteRetry(router, n.routing.retryMisroutes, (...a) => pipeline!.noteMisroute(...a)),
      tempRelationRetry({ router, enabled: !n.catalog.enabled, note: (e) => pipeline!.emit('read-retry', e) }),
    ],
    logger,
  });
  (facadeClient as unknown as { [PIPELINE]: Pipeline })[PIPELINE] = pipeline;
  forgotten.attach(pipeline);

  const topologyStats = follower === undefined ? [] : [{ name: 'topology', stats: () => follower.stats() }];
  attachMethods(db, pipeline, facadeClient, scope, () => collectStats({ pipeline: pipeline!, nodes, subsystems: [...subsystems, ...topologyStats], links }));
  for (const s of subsystems) {
    for (const [name, method] of Object.entries(s.methods ?? {})) {
      if (KNEX_NAMES.has(name) || name in db) throw new Error(`split-knex: subsystem ${s.name} would shadow db.${name}`);
      Object.defineProperty(db, name, { value: method, enumerable: true, configurable: true, writable: true });
    }
  }
  return db as unknown as SplitKnex<TRecord, TResult>;
}

// With `discover`: a follower of the topology source that adds a node (own pool, background
// link) for each new member and drains the ones that left.
function followTopology(
  n: NormalizedConfig, connections: NodeConnections, nodeSet: NodeSet, links: NodeLinks, router: Router, ctx: SubsystemContext,
  plannedStops: (stops: ReadonlyMap<Node, PlannedStop>) => void,
): TopologyFollower | undefined {
  const discover = n.discover;
  if (discover === undefined) return undefined;
  const configuredAddress = new Map<Node, string | undefined>([
    [nodeSet.primary, addressOfConnection(n.primary.connection)],
    ...nodeSet.replicas.map((r, i) => [r, addressOfConnection(n.replicas[i]!.connection)] as const),
  ]);
  return new TopologyFollower({
    source: topologySourceOf(discover, {
      name: nodeSet.primary.name,
      query: async (sql) => (await links.of(router.currentWriter).query(sql)).rows,
      address: configuredAddress.get(nodeSet.primary),
    }),
    nodes: nodeSet,
    intervalMs: discover.intervalMs,
    clock: n.clock,
    addressOf: (node) => configuredAddress.get(node),
    createNode: (member, name) => {
      const connection = connectionForMember(n.primary.connection, member.host, member.port);
      if (connection === undefined) return undefined;
      const resolver = new ConnectionResolver(withConnectTimeout(connection, connections.health.connectTimeoutMs));
      const node = new Node(name, 'replica', 1, new ClientPG({ ...n.knexConfig, connection: resolver.forPool(), pool: n.primary.pool }), resolver);
      links.add(node, resolver);
      return node;
    },
    retire: async (node) => {
      await Promise.all([links.remove(node), node.client.destroy()]);
    },
    writer: () => router.currentWriter,
    emit: (event, payload) => ctx.emit(event, payload),
    plannedStops,
  });
}

// The classification options in force: the subsystems' inputs (the catalog) merged, cached
// while those inputs are the same objects (this runs for every statement).
function classifyOptionsOf(subsystems: () => readonly Subsystem[]): (inTransaction?: boolean) => ClassifyOptions {
  // The subsystems that give classifier input (the catalog), found once they are composed.
  let sources: Array<() => Partial<ClassifyOptions> | undefined> | undefined;
  const cache: Array<{ parts: Array<Partial<ClassifyOptions> | undefined>; value: ClassifyOptions } | undefined> = [undefined, undefined];
  return (inTransaction = false) => {
    if (sources === undefined) {
      const composed = subsystems();
      // Asked before composition (it is not): answer without caching the empty list.
      if (composed.length === 0) return { inTransaction };
      sources = composed.flatMap((s) => (s.classifyOptions === undefined ? [] : [s.classifyOptions]));
    }
    const i = inTransaction ? 1 : 0;
    const hit = cache[i];
    if (hit !== undefined) {
      let same = true;
      for (let k = 0; k < sources.length && same; k++) same = sources[k]!() === hit.parts[k];
      if (same) return hit.value;
    }
    const parts = sources.map((source) => source());
    const value: ClassifyOptions = Object.assign({}, ...parts.filter((p) => p !== undefined), { inTransaction });
    cache[i] = { parts, value };
    return value;
  };
}

// Composes the subsystems' classification observers once (the catalog's counter), not per statement.
function observerOf(subsystems: () => readonly Subsystem[]): (classify: () => SqlClassification) => SqlClassification {
  let observe: ((classify: () => SqlClassification) => SqlClassification) | undefined;
  return (classify) => {
    if (observe === undefined) {
      if (subsystems().length === 0) return classify();
      const observers = subsystems().flatMap((s) => (s.observeClassification === undefined ? [] : [s.observeClassification]));
      observe = observers.reduce<(c: () => SqlClassification) => SqlClassification>(
        (inner, outer) => (c) => outer(() => inner(c)),
        (c) => c(),
      );
    }
    return observe(classify);
  };
}

function attachMethods(db: SplitKnex, pipeline: Pipeline, facadeClient: SplitClient, scope: RequestScope, stats: () => SplitKnexStats): void {
  const bound = new Map<string, Knex>();
  const boundTo = (key: string, target: BoundTarget): Knex => {
    let instance = bound.get(key);
    if (instance === undefined) {
      instance = boundInstance(facadeClient, target);
      bound.set(key, instance);
    }
    return instance;
  };
  // `context`, `client`, `schema`… are knex's own: nothing here shadows them.
  Object.defineProperty(db, 'primary', {
    get: () => boundTo('primary', 'primary'),
    enumerable: true,
    configurable: true,
  });
  // Migrations and seeds run on the primary from start to end, the lock table included:
  // the migrator's reads of its own tables must see what it just wrote.
  Object.defineProperty(db, 'migrate', { get: () => new Migrator(boundTo('primary', 'primary')), configurable: true });
  Object.defineProperty(db, 'seed', { get: () => new Seeder(boundTo('primary', 'primary')), configurable: true });
  const replicas = pipeline.router.replicas;
  Object.assign(db, {
    replica(name?: string): Knex {
      if (name === undefined) return boundTo('*', 'replica');
      const node = replicas.find((r) => r.name === name);
      if (node === undefined) {
        throw new SplitKnexError('ESPLIT_CONFIG', `split-knex: no replica named ${JSON.stringify(name)} (have: ${replicas.map((r) => r.name).join(', ') || 'none'})`);
      }
      return boundTo(`=${name}`, node);
    },
    usePrimary<T>(fn: () => T | Promise<T>): Promise<T> {
      return scope.run({ forcePrimary: true }, async () => fn());
    },
    ready: (): Promise<void> => pipeline.lifecycle.ready(),
    stats,
  });
}
