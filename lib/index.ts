/**
 * split-knex: read/write splitting for Knex.js on PostgreSQL.
 *
 * @example
 * import { splitKnex } from 'split-knex';
 * const db = splitKnex({ client: 'pg', connection: primaryUrl, replicas: [replicaUrl] });
 */
export { splitKnex } from './split-knex';
export type { SplitKnex } from './split-knex';
export { classifySql, SqlClassifier } from './classify';
export type { SqlClassification, ClassifyOptions, FunctionCatalog } from './classify';
export { SplitKnexError } from './errors';
export type { SplitKnexErrorCode } from './errors';
export type { SplitKnexConfig, ReplicaConfig, RoutingConfig, RoutingStrategy } from './config';
export type { Statement, RouteTarget } from './route/statement';
export type { NodeInfo, NodeRole, NodeState } from './route/node';
export type { ReplicaSelectorFn } from './route/replica-selector';
export type { RouteEvent, MisrouteEvent } from './pipeline';
export type { LifecycleState } from './lifecycle';
export type { SplitKnexStats, NodeStats, RoleTotals } from './stats';
export { formatDoctorReport } from './doctor';
export type { DoctorOptions, DoctorReport, DoctorCheck, CheckStatus, NodeFacts, RoutingFacts, ServerIdentity, PoolerFacts } from './doctor';
export type { ConsistencyMethods, ConsistencyStats, InScope, RunInContextOptions, ConsistencyMiddleware, ConsistencyMiddlewareOptions, StickyConfig, LagConfig, StickyMode, ConsistencyScopeMode, LagExceededAction, ReplicaPositionStats } from './consistency';
export type { CatalogConfig, CatalogOptions, CatalogStats, CatalogRouteCounts } from './catalog';
export type { HealthConfig, HealthClock, NodeDownEvent, NodeUpEvent, FailoverEvent, RoleChangeEvent, HealthStats, NodeHealthStats } from './health';
export { MemoryCacheStore, RedisCacheStore } from './cache';
export type { CacheConfig, CacheStrategy, CacheInvalidation, CacheStore, CachedResult, StoreLookup, TagMarks, MemoryCacheStoreOptions, CacheClock, RedisCacheStoreOptions, RedisLike, CacheEvent, CacheStats } from './cache';
export type { CacheCallOptions } from './knex/cache-methods';
export { PROMETHEUS_CONTENT_TYPE, SPAN_ATTRIBUTES } from './observability';
export type { ObservabilityMethods, MetricRegistry, ReadinessOptions, ReadinessReport, ReadinessPrimary, ReadinessReplica, RouteReasonKind } from './observability';
export type { TopologyStats, TopologyChangeEvent } from './topology/topology-follower';
export type { DiscoverConfig } from './topology/discover-config';
export type { FailoverConfig } from './health/failover-config';
export type { NotAStandbyEvent } from './health';
export type { Clock, NormalizedClock } from './clock';
export { isDdl } from './classify/is-ddl';
