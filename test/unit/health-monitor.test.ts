import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import { normalizeHealthConfig } from '../../lib/health/health-config';
import { HealthMonitor } from '../../lib/health/health-monitor';
import type { HealthProbe, ProbeResult } from '../../lib/health/health-probe';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';
import { createSelector } from '../../lib/route/replica-selector';
import { Router } from '../../lib/route/router';
import type { Statement } from '../../lib/route/statement';
import { ManualClock } from '../support/manual-clock';

const STANDBY: ProbeResult = { inRecovery: true, readOnly: true, latencyMs: 1 };
const PRIMARY: ProbeResult = { inRecovery: false, readOnly: false, latencyMs: 1 };
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });
const read: Statement = { kind: 'query', method: 'select', sql: 'select 1', lock: undefined, hint: undefined, table: undefined };


/** A probe whose answer the test sets; counts calls and overlaps. */
class ScriptedProbe implements HealthProbe {
  answer: ProbeResult | Error | 'hang';
  calls = 0;
  running = 0;
  maxRunning = 0;
  closed = 0;
  private release: (() => void) | undefined;
  constructor(answer: ProbeResult | Error | 'hang') { this.answer = answer; }
  async probe(): Promise<ProbeResult> {
    this.calls++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.answer === 'hang') await new Promise<void>((r) => { this.release = r; });
      if (this.answer instanceof Error) throw this.answer;
      return this.answer === 'hang' ? STANDBY : this.answer;
    } finally {
      this.running--;
    }
  }
  unblock(): void { this.release?.(); }
  close(): void { this.closed++; }
}

function setup(options: { discoverRoles?: boolean; failuresToDown?: number } = {}) {
  const client = {} as KnexClient;
  // Weight 1 on the primary, as splitKnex() builds it: back as a standby, it takes reads.
  const primary = new Node('primary', 'primary', 1, client);
  const r1 = new Node('r1', 'replica', 1, client);
  const r2 = new Node('r2', 'replica', 1, client);
  const router = new Router({
    primary, replicas: [r1, r2], readers: [primary, r1, r2], selector: createSelector('round-robin'),
    classify: () => ({ access: 'read', reason: 'read', tables: [] }), fallback: 'primary', forcePrimary: () => false,
  });
  const probes = new Map<Node, ScriptedProbe>([[primary, new ScriptedProbe(PRIMARY)], [r1, new ScriptedProbe(STANDBY)], [r2, new ScriptedProbe(STANDBY)]]);
  const clock = new ManualClock();
  const events: Array<{ event: string; payload: any; at: number }> = [];
  const drains: Array<[string, boolean]> = [];
  const config = normalizeHealthConfig({ health: { intervalMs: 100, timeoutMs: 50, failuresToDown: options.failuresToDown ?? 2, maxBackoffMs: 400 }, discoverRoles: options.discoverRoles ?? false });
  const monitor = new HealthMonitor({
    nodes: [primary, r1, r2], router, config, probes, clock,
    emit: (event, payload) => events.push({ event, payload, at: clock.now() }),
    drain: (node, closeInFlight) => drains.push([node.name, closeInFlight]),
  });
  router.compose([], [(w) => monitor.writerRefusal(w)]);
  const readsGoTo = () => new Set(Array.from({ length: 6 }, () => (router.route(read) as { node: Node }).node.name));
  return { primary, r1, r2, router, probes, clock, events, drains, monitor, readsGoTo, p: (n: Node) => probes.get(n)! };
}

describe('health monitor (fake clock, scripted probes)', () => {
  it('probes every node at start, then once per interval, on unref-able timers it clears on stop', async () => {
    const s = setup();
    s.monitor.start();
    await s.clock.advance(0);
    expect([s.p(s.primary).calls, s.p(s.r1).calls, s.p(s.r2).calls]).to.deep.equal([1, 1, 1]);
    await s.clock.advance(1000);
    expect(s.p(s.r1).calls).to.equal(11);
    s.monitor.stop();
    expect(s.clock.timers.size).to.equal(0);
    expect(s.p(s.r1).closed).to.equal(1);
    await s.clock.advance(1000);
    expect(s.p(s.r1).calls).to.equal(11);
  });

  it('never runs two probes of one node at once, however slow a probe is', async () => {
    const s = setup();
    s.p(s.r1).answer = 'hang';
    s.monitor.start();
    await s.clock.advance(1000);
    s.monitor.probeSoon(s.r1);
    s.monitor.reportError(s.r1, refused());
    await s.clock.advance(1000);
    expect(s.p(s.r1).calls).to.equal(1);
    expect(s.p(s.r1).maxRunning).to.equal(1);
    s.p(s.r1).unblock();
    s.monitor.stop();
  });

  it('ejects a replica after 2 failed probes: no reads, pool drained with its connections closed, node-down event', async () => {
    const s = setup();
    s.monitor.start();
    await s.clock.advance(0);
    expect(s.readsGoTo()).to.deep.equal(new Set(['r1', 'r2']));
    s.p(s.r1).answer = refused();
    await s.clock.advance(100);
    expect(s.r1.state).to.equal('suspect');
    expect(s.r1.available).to.equal(true);
    await s.clock.advance(100);
    expect(s.r1.state).to.equal('down');
    expect(s.r1.available).to.equal(false);
    expect(s.r1.lastError).to.equal('connect ECONNREFUSED 127.0.0.1:5433');
    expect(s.readsGoTo()).to.deep.equal(new Set(['r2']));
    expect(s.drains).to.deep.equal([['r1', true]]);
    expect(s.events).to.deep.equal([{ event: 'node-down', payload: { node: 'r1', role: 'replica', reason: 'connect ECONNREFUSED 127.0.0.1:5433', failures: 2 }, at: 200 }]);
    s.monitor.stop();
  });

  it('re-probes a down replica with backoff and re-admits it when it answers as a replica again', async () => {
    const s = setup();
    s.p(s.r1).answer = refused();
    s.monitor.start();
    await s.clock.advance(100); // probes at 0 and 100: down at 100
    expect(s.r1.state).to.equal('down');
    const at: number[] = [];
    const probe = s.p(s.r1);
    const original = probe.probe.bind(probe);
    probe.probe = () => { at.push(s.clock.now()); return original(); };
    await s.clock.advance(1600);
    expect(at).to.deep.equal([200, 400, 800, 1200, 1600]); // 100, 200, 400 (cap), 400…
    probe.answer = STANDBY;
    await s.clock.advance(400);
    expect(s.r1.state).to.equal('up');
    expect(s.events.map((e) => e.event)).to.deep.equal(['node-down', 'node-up']);
    expect(s.events[1]).to.deep.equal({ event: 'node-up', payload: { node: 'r1', role: 'replica', downForMs: 1900 }, at: 2000 });
    expect(s.readsGoTo()).to.deep.equal(new Set(['r1', 'r2']));
    s.monitor.stop();
  });

  it("turns an application's connection error into suspect plus an immediate probe; SQL errors change nothing", async () => {
    const s = setup();
    s.monitor.start();
    await s.clock.advance(1000);
    const calls = s.p(s.r2).calls;
    s.monitor.reportError(s.r2, Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }));
    await s.clock.advance(0);
    expect([s.r2.state, s.p(s.r2).calls]).to.deep.equal(['up', calls]);
    s.p(s.r2).answer = refused();
    s.monitor.reportError(s.r2, Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    expect(s.r2.state).to.equal('suspect');
    // At once, but no sooner than a quarter interval after the last probe (it ran at 1000).
    await s.clock.advance(24);
    expect(s.p(s.r2).calls).to.equal(calls);
    await s.clock.advance(1);
    expect(s.p(s.r2).calls).to.equal(calls + 1);
    expect(s.r2.state).to.equal('down'); // the traffic error and the confirming probe
    s.monitor.stop();
  });

  it('keeps reads off a suspect replica only through the read policy (the monitor leaves it available)', async () => {
    const s = setup({ failuresToDown: 3 });
    s.monitor.start();
    await s.clock.advance(0);
    s.p(s.r1).answer = refused();
    await s.clock.advance(100);
    expect([s.r1.state, s.r1.available]).to.deep.equal(['suspect', true]);
    s.monitor.stop();
  });

  it('refuses writes at once while the primary is down, with the cause and the node', async () => {
    const s = setup();
    s.p(s.primary).answer = refused();
    s.monitor.start();
    await s.clock.advance(100);
    let err: unknown;
    try { s.router.writer(); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(SplitKnexError);
    expect((err as SplitKnexError).code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect((err as SplitKnexError).node).to.equal('primary');
    expect((err as Error).message).to.equal('split-knex: the primary (primary) is down: connect ECONNREFUSED 127.0.0.1:5433');
    expect(((err as Error).cause as { code: string }).code).to.equal('ECONNREFUSED');
    expect(s.drains).to.deep.equal([['primary', false]]); // its in-flight writes keep their chance
    // Reads keep going to the replicas.
    expect(s.readsGoTo()).to.deep.equal(new Set(['r1', 'r2']));
    s.p(s.primary).answer = PRIMARY;
    await s.clock.advance(200);
    expect(s.router.writer()).to.equal(s.primary);
    s.monitor.stop();
  });

  it('without discoverRoles, a primary answering as a standby gets no writes and the error says how to follow a failover', async () => {
    const s = setup();
    s.p(s.primary).answer = STANDBY;
    s.p(s.r1).answer = PRIMARY;
    s.monitor.start();
    await s.clock.advance(0);
    expect(() => s.router.writer()).to.throw(SplitKnexError, 'split-knex: the primary (primary) answers as in recovery (a standby); set discoverRoles: true to follow a failover');
    expect([s.primary.role, s.r1.role]).to.deep.equal(['primary', 'replica']);
    expect(s.events.map((e) => e.event)).to.deep.equal(['not-a-standby']);
    s.monitor.stop();
  });

  it('a replica entry that answers as a primary takes no reads, says so once (event and log line), and takes reads again once it answers as a standby', async () => {
    const warnings: string[] = [];
    const s = setup();
    const monitor = new HealthMonitor({
      nodes: [s.primary, s.r1, s.r2], router: s.router, probes: s.probes, clock: s.clock,
      config: normalizeHealthConfig({ health: { intervalMs: 100, timeoutMs: 50 } }),
      emit: (event, payload) => s.events.push({ event, payload, at: s.clock.now() }),
      warn: (m) => warnings.push(m),
    });
    s.p(s.r1).answer = PRIMARY; // a wrong URL: r1 is the primary itself
    monitor.start();
    await s.clock.advance(0);
    expect(s.readsGoTo()).to.deep.equal(new Set(['r2']));
    expect(s.r1.notStandby).to.equal(true);
    await s.clock.advance(300);
    expect(s.events).to.deep.equal([{ event: 'not-a-standby', at: 0, payload: {
      node: 'r1', role: 'replica', reason: 'r1 is listed as a replica but answers as a primary (pg_is_in_recovery() is false): it takes no reads',
    } }]);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^split-knex: r1 is listed as a replica but answers as a primary/);
    s.p(s.r1).answer = STANDBY;
    await s.clock.advance(100);
    expect(s.r1.notStandby).to.equal(false);
    expect(s.readsGoTo()).to.deep.equal(new Set(['r1', 'r2']));
    monitor.stop();
  });

  it('with discoverRoles, follows a promotion: the promoted replica stops taking reads, then takes writes once the primary is down', async () => {
    const s = setup({ discoverRoles: true });
    s.monitor.start();
    await s.clock.advance(0);
    s.p(s.r1).answer = PRIMARY; // pg_ctl promote
    await s.clock.advance(100);
    expect(s.r1.role).to.equal('primary');
    expect(s.readsGoTo()).to.deep.equal(new Set(['r2']));
    expect(s.router.writer()).to.equal(s.primary); // the configured primary still answers read-write
    s.p(s.primary).answer = refused(); // the old primary stops
    await s.clock.advance(200);
    expect(s.router.writer()).to.equal(s.r1);
    expect(s.events.map((e) => [e.event, e.payload])).to.deep.equal([
      ['role-change', { node: 'r1', from: 'replica', to: 'primary' }],
      ['not-a-standby', { node: 'r1', role: 'primary', reason: 'r1 is listed as a replica but answers as a primary (pg_is_in_recovery() is false): it takes no reads' }],
      ['node-down', { node: 'primary', role: 'primary', reason: 'connect ECONNREFUSED 127.0.0.1:5433', failures: 2 }],
      ['failover', { from: 'primary', to: 'r1', reason: 'primary is down; r1 answers as primary' }],
    ]);
    expect(s.drains).to.deep.include(['r1', false]);
    // The old primary comes back as a standby (rewound): a replica now, still no writes.
    s.p(s.primary).answer = STANDBY;
    await s.clock.advance(400);
    expect([s.primary.state, s.primary.role, s.router.writer().name]).to.deep.equal(['up', 'replica', 'r1']);
    // …and takes reads again (it used to come back with weight 0, outside the replica list).
    expect(s.readsGoTo()).to.deep.equal(new Set(['primary', 'r2']));
    s.monitor.stop();
  });

  it('with discoverRoles, a primary that answers as a standby hands writes to the node that answers read-write', async () => {
    const s = setup({ discoverRoles: true });
    s.p(s.primary).answer = STANDBY;
    s.p(s.r2).answer = PRIMARY;
    s.monitor.start();
    await s.clock.advance(0);
    expect(s.router.writer()).to.equal(s.r2);
    expect(s.events.find((e) => e.event === 'failover')?.payload.reason).to.equal('primary answers as a standby; r2 answers as primary');
    s.monitor.stop();
  });

  it('destroy() then initialize() while a probe is running: the probe loop resumes, the stale answer is ignored', async () => {
    const s = setup();
    s.monitor.start();
    await s.clock.advance(0);
    s.p(s.r1).answer = 'hang';
    await s.clock.advance(100);
    s.monitor.stop();
    s.monitor.start();
    await s.clock.advance(0);
    s.p(s.r1).answer = STANDBY;
    s.p(s.r1).unblock();
    await s.clock.advance(0);
    const calls = s.p(s.r1).calls;
    await s.clock.advance(300);
    expect(s.p(s.r1).calls).to.be.greaterThan(calls);
    s.monitor.stop();
  });

  it('a listener that throws does not stop the health checks', async () => {
    const s = setup();
    const monitor = new HealthMonitor({
      nodes: [s.primary, s.r1, s.r2], router: s.router, config: normalizeHealthConfig({ health: { intervalMs: 100 } }), probes: s.probes, clock: s.clock,
      emit: () => { throw new Error('listener bug'); },
    });
    s.p(s.r1).answer = refused();
    monitor.start();
    await s.clock.advance(500);
    expect(s.r1.state).to.equal('down');
    monitor.stop();
  });
});
