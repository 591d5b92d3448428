import { expect } from 'chai';
import { Registry } from 'prom-client';
import { SplitKnexError, splitKnex, type SplitKnex, type SplitKnexStats } from '../../lib';
import { formatExposition } from '../../lib/observability/metric-family';
import { loadOpenTelemetry } from '../../lib/observability/open-telemetry';
import { defaultMinReplicas, evaluateReadiness, normalizeReadinessOptions } from '../../lib/observability/readiness';
import { RouteCounters } from '../../lib/observability/route-counters';
import { routeReasonKind } from '../../lib/observability/route-reason';
import type { Node } from '../../lib/route/node';

const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };
// Port 9 on loopback: nothing connects in these tests (the instance is never started).
const url = (db: string) => `postgres://app:s3cret-pw@127.0.0.1:9/${db}`;
const fakeNode = (name: string, role: 'primary' | 'replica') => ({ name, role }) as Node;

describe('observability (no database)', () => {
  let db: SplitKnex | undefined;
  afterEach(async () => { await db?.destroy(); db = undefined; });
  const make = (extra: Record<string, unknown> = {}): SplitKnex => {
    db = splitKnex({ client: 'pg', connection: url('p'), replicas: [{ name: 'replica1', connection: url('r1') }, { name: 'replica2', connection: url('r2') }], log: QUIET, ...extra });
    return db;
  };

  describe('route reason kinds', () => {
    const cases: Array<[string, 'read' | 'write', string]> = [
      ['read-only SELECT', 'read', 'read'],
      ['volatile function nextval', 'write', 'write'],
      ['transaction control BEGIN', 'write', 'write'],
      ['hint: replica', 'read', 'hint'],
      ['hint: primary', 'write', 'hint'],
      ['bound to replica1', 'read', 'bound'],
      ['bound to the primary', 'write', 'bound'],
      ['usePrimary scope', 'read', 'use_primary'],
      ['fallback to primary: no healthy replica', 'read', 'fallback'],
      ['fallback to primary: lag: no eligible replica', 'read', 'fallback'],
      ['sticky window (1200 ms left)', 'read', 'sticky'],
      ['causal: no replica has replayed 0/3000060 (waited 20 ms)', 'read', 'causal'],
      ['lag: every replica is too far behind (replica1: 900 ms, ? bytes)', 'read', 'lag'],
      ['read-only transaction', 'read', 'read_only_transaction'],
      ['transaction', 'write', 'transaction'],
      ['explicit connection', 'read', 'explicit_connection'],
    ];
    for (const [reason, access, kind] of cases) {
      it(`reduces "${reason}" (${access}) to ${kind}`, () => expect(routeReasonKind(reason, access)).to.equal(kind));
    }

    it('keeps one series per node, access and kind however many distinct reason sentences arrive', () => {
      const counters = new RouteCounters();
      const replica = fakeNode('replica1', 'replica');
      for (let i = 0; i < 1000; i++) counters.routed({ node: replica, access: 'read', reason: `sticky window (${i} ms left)` });
      for (let i = 0; i < 1000; i++) counters.routed({ node: replica, access: 'read', reason: `read-only SELECT ${i}` });
      expect(counters.routes().map((r) => [r.node.name, r.access, r.reason, r.count])).to.deep.equal([
        ['replica1', 'read', 'read', 1000], ['replica1', 'read', 'sticky', 1000],
      ]);
    });
  });

  describe('metrics', () => {
    it('escapes label values and help text as the exposition format requires', () => {
      const text = formatExposition([{ name: 'x_total', help: 'a \\ b\nc', type: 'counter', samples: [{ labels: { node: 'a"b\\c\nd' }, value: 2 }] }]);
      expect(text).to.equal('# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\nx_total{node="a\\"b\\\\c\\nd"} 2\n');
    });

    it('renders every family with HELP and TYPE, Prometheus names, no password, and connects nothing', () => {
      const d = make({ cache: { max: 10, ttlMs: 1000 } });
      const text = d.metrics();
      expect(text).not.to.contain('s3cret');
      const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
      const helps = [...text.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]);
      expect(helps).to.deep.equal(types.map(([n]) => n));
      for (const [name, type] of types) {
        expect(name).to.match(/^split_knex_[a-z_]+$/);
        expect(name.endsWith('_total'), `${name} is a ${type}`).to.equal(type === 'counter');
      }
      for (const name of ['split_knex_reads_total', 'split_knex_writes_total', 'split_knex_errors_total', 'split_knex_routes_total', 'split_knex_read_your_writes_total',
        'split_knex_cache_hits_total', 'split_knex_cache_misses_total', 'split_knex_node_state', 'split_knex_replica_lag_seconds', 'split_knex_misroutes_total',
        'split_knex_retries_total', 'split_knex_background_connection_up']) {
        expect(types.map(([n]) => n)).to.include(name);
      }
      expect(text).to.match(/^split_knex_reads_total\{node="replica1",role="replica"\} 0$/m);
      expect(d.stats().background.state).to.equal('created');
    });

    it('leaves the cache families out when no cache is configured', () => {
      expect(make().metrics()).not.to.contain('split_knex_cache_');
    });

    it('refuses to register into something that is not a prom-client registry', () => {
      const d = make();
      expect(() => d.registerMetrics({} as Registry)).to.throw(SplitKnexError).with.property('code', 'ESPLIT_CONFIG');
      d.registerMetrics(new Registry());
    });
  });

  describe('readiness', () => {
    const running = (s: SplitKnexStats): SplitKnexStats => ({ ...s, background: { ...s.background, state: 'running' } });
    const probed = (s: SplitKnexStats, node: string, inRecovery: boolean): SplitKnexStats =>
      ({ ...s, health: { ...s.health, nodes: { ...s.health.nodes, [node]: { ...s.health.nodes[node]!, inRecovery, lastProbeAt: new Date(0).toISOString() } } } });
    const opts = normalizeReadinessOptions(undefined, 0);

    it('is not ok before the instance started and before the primary answered a probe', () => {
      const r = evaluateReadiness(make().stats(), opts, 0);
      expect(r.ok).to.equal(false);
      expect(r.reasons).to.deep.equal(['the instance has not started', 'the primary (primary) has not answered a health probe yet']);
      expect(r.primary.reachable).to.equal(false);
    });

    it('is ok once running with a primary that answered as a primary', () => {
      const r = evaluateReadiness(probed(running(make().stats()), 'primary', false), opts, 1000);
      expect(r).to.include({ ok: true, servingReplicas: 2, minReplicas: 0 });
      expect(r.primary).to.include({ reachable: true, writable: true, probedMsAgo: 1000 });
    });

    it('is not ok when the primary answers as a standby', () => {
      const r = evaluateReadiness(probed(running(make().stats()), 'primary', true), opts, 0);
      expect(r.reasons).to.deep.equal(['the primary (primary) answers as a standby']);
    });

    it('with health: false it cannot tell whether the primary is reachable, and does not block on it', () => {
      const r = evaluateReadiness(running(make({ health: false }).stats()), opts, 0);
      expect(r.ok).to.equal(true);
      expect(r.primary.reachable).to.equal(null);
    });

    it('with maxLagMs a replica whose lag is unknown does not count as serving', () => {
      const r = evaluateReadiness(probed(running(make().stats()), 'primary', false), normalizeReadinessOptions({ minReplicas: 1, maxLagMs: 100 }, 0), 0);
      expect(r.replicas.map((x) => x.serving)).to.deep.equal([false, false]);
      expect(r.reasons).to.deep.equal(['0 replica(s) serving, 1 required (within 100 ms of lag)']);
    });

    it("requires one replica by default only with routing.fallback: 'error' (reads fail without one)", () => {
      expect([defaultMinReplicas('error', 2), defaultMinReplicas('primary', 2), defaultMinReplicas('error', 0)]).to.deep.equal([1, 0, 0]);
      const stats = probed(running(make().stats()), 'primary', false);
      const down = { ...stats, nodes: stats.nodes.map((n) => ({ ...n, state: n.role === 'replica' ? 'down' as const : n.state })) };
      expect(evaluateReadiness(down, normalizeReadinessOptions(undefined, 1), 0).reasons).to.deep.equal(['0 replica(s) serving, 1 required']);
      expect(evaluateReadiness(down, normalizeReadinessOptions(undefined, 0), 0).ok).to.equal(true);
    });

    it('rejects wrong options with ESPLIT_CONFIG naming the option', async () => {
      const d = make();
      for (const [options, key] of [[{ minReplicas: -1 }, 'readiness.minReplicas'], [{ minReplicas: 1.5 }, 'readiness.minReplicas'], [{ maxLagMs: 'soon' }, 'readiness.maxLagMs']] as const) {
        const err = await d.readiness(options as never).then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(SplitKnexError).with.property('code', 'ESPLIT_CONFIG');
        expect((err as Error).message).to.contain(`"${key}"`);
      }
    });
  });

  describe('@opentelemetry/api as an optional peer', () => {
    it('is left out when it cannot be loaded, or is not the OpenTelemetry API', () => {
      expect(loadOpenTelemetry(() => { throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' }); })).to.equal(undefined);
      expect(loadOpenTelemetry(() => ({}))).to.equal(undefined);
    });

    it('is used when installed', () => {
      expect(loadOpenTelemetry()).to.not.equal(undefined);
    });
  });
});
