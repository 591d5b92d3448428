import type { Knex } from 'knex';
import { SqlClassifier } from './classify';
import { normalizeConfig, type NormalizedConfig, type SplitKnexConfig } from './config';
import { boundInstance } from './knex/bound-instance';
import { ClientPG, makeKnex, Migrator, Seeder, type KnexClient } from './knex/knex-internals';
import { CORE, SplitClient } from './knex/split-client';
import type { BoundTarget } from './knex/split-client-marks';
import { Node } from './route/node';
import { createSelector } from './route/replica-selector';
import { RequestScope } from './route/request-scope';
import { Router } from './route/router';
import { statementClassifier } from './route/statement-classifier';
import { SplitCore, type MisrouteEvent, type RouteEvent } from './split-core';
import { collectStats, type SplitKnexStats } from './stats';
import { SplitKnexError } from './errors';
import { installSubsystems } from './subsystems';
import { prepareNodeConnections } from './health/node-connections';

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
  /** Per-node and per-role counters; no secrets. */
  stats(): SplitKnexStats;
  on(event: 'route', listener: (event: RouteEvent) => void): this;
  on(event: 'misroute', listener: (event: MisrouteEvent) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * Builds a routing Knex instance from a knexfile entry plus `replicas`.
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
  const facadeClient = new SplitClient({ ...n.knexConfig, connection: connections.primary, pool: n.primary.pool });
  const primary = new Node(n.primary.name, 'primary', 0, facadeClient);
  const replicas = n.replicas.map((spec, i) => new Node(spec.name, 'replica', spec.weight, nodeClient(n, connections.replicas[i], spec.pool)));

  const scope = new RequestScope();
  const classifier = new SqlClassifier({ cacheSize: n.routing.classifierCacheSize, readOnlyFunctions: n.routing.readOnlyFunctions });
  let core: SplitCore | undefined;
  const router = new Router({
    primary,
    replicas,
    selector: createSelector(n.routing.strategy),
    classify: statementClassifier(classifier, () => core?.classifyOptions()),
    fallback: n.routing.fallback,
    forcePrimary: () => scope.current()?.forcePrimary === true,
  });
  core = new SplitCore(primary, replicas, router, classifier, scope, n.routing);
  for (const node of core.nodes) node.core = core;
  (facadeClient as unknown as { [CORE]: SplitCore })[CORE] = core;

  const db = makeKnex(facadeClient) as unknown as SplitKnex;
  core.emitter = db;
  attachMethods(db, core, facadeClient);
  installSubsystems(db, core, n);
  core.start();
  return db as unknown as SplitKnex<TRecord, TResult>;
}

function nodeClient(n: NormalizedConfig, connection: unknown, pool: Knex.PoolConfig | undefined): KnexClient {
  return new ClientPG({ ...n.knexConfig, connection, pool });
}

function attachMethods(db: SplitKnex, core: SplitCore, facadeClient: KnexClient): void {
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
  Object.assign(db, {
    replica(name?: string): Knex {
      if (name === undefined) return boundTo('*', 'replica');
      const node = core.replicas.find((r) => r.name === name);
      if (node === undefined) {
        throw new SplitKnexError('ESPLIT_CONFIG', `split-knex: no replica named ${JSON.stringify(name)} (have: ${core.replicas.map((r) => r.name).join(', ') || 'none'})`);
      }
      return boundTo(`=${name}`, node);
    },
    usePrimary<T>(fn: () => T | Promise<T>): Promise<T> {
      return core.scope.run({ forcePrimary: true }, async () => fn());
    },
    stats(): SplitKnexStats {
      return collectStats(core);
    },
  });
}
