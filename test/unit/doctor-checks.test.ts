import { expect } from 'chai';
import { resolveDoctorOptions } from '../../lib/doctor/doctor-options';
import type { NodeFacts, RoutingFacts, ServerIdentity } from '../../lib/doctor/doctor-report';
import { evaluateDoctor } from '../../lib/doctor/evaluate-doctor';

// Facts as probeNode would report them for a healthy primary + 2 standbys on one host.
function identity(port: number, standby: boolean, pid = 100): ServerIdentity {
  return { addr: '127.0.0.1', port, started: `2024-05-01 10:00:0${port % 10}+00`, standby, pid };
}

function node(name: string, role: 'primary' | 'replica', port: number, standby: boolean, extra: Partial<NodeFacts> = {}): NodeFacts {
  const id = identity(port, standby);
  return {
    name, configuredRole: role, target: `127.0.0.1:${port}/app`, configuredPort: port, reachable: true, connectMs: 2,
    inRecovery: standby, serverVersion: '15.8', serverVersionNum: 150008, transactionReadOnly: standby, defaultTransactionReadOnly: false,
    systemIdentifier: '7000000000000000001', identity: id,
    ...(standby ? { receiveLsn: '0/3000060', replayLsn: '0/3000060', replayAgeSeconds: 120, walReceiverStatus: 'streaming', upstream: '127.0.0.1:5432' } : { currentLsn: '0/3000060' }),
    maxConnections: 100, reservedConnections: 3, connectionsInUse: 5, poolMax: 10,
    samples: [id, id, id, id, id, id], pooler: { sharedBackend: false, portMismatch: false },
    ...extra,
  };
}

function healthy(): { nodes: NodeFacts[]; routing: RoutingFacts } {
  const nodes = [node('primary', 'primary', 5432, false), node('replica1', 'replica', 5433, true), node('replica2', 'replica', 5434, true)];
  const routing: RoutingFacts = {
    reads: [{ node: 'replica1', identity: identity(5433, true), reason: 'read (select)' }, { node: 'replica2', identity: identity(5434, true), reason: 'read (select)' }],
    write: { node: 'primary', identity: identity(5432, false), inRecovery: false, transactionReadOnly: false, defaultTransactionReadOnly: false },
  };
  return { nodes, routing };
}

const options = resolveDoctorOptions();
const find = (report: ReturnType<typeof evaluateDoctor>, nodeName: string, check: string) => report.checks.find((c) => c.node === nodeName && c.check === check);

describe('doctor checks (no database)', () => {
  it('passes a healthy primary + 2 standbys with every check ✓', () => {
    const { nodes, routing } = healthy();
    const report = evaluateDoctor(nodes, routing, options);
    expect(report.ok).to.equal(true);
    expect(report.problems).to.equal(0);
    expect(report.warnings).to.equal(0);
    expect(report.checks.every((c) => c.status === 'ok' && c.advice === undefined)).to.equal(true);
    for (const n of ['primary', 'replica1', 'replica2']) expect(find(report, n, 'role')?.status).to.equal('ok');
    // An idle primary leaves a large replay age although nothing is missing: no lag warning.
    expect(find(report, 'replica1', 'lag')?.detail).to.contain('caught up');
  });

  it('says primary and replica are swapped, on both nodes', () => {
    const nodes = [node('primary', 'primary', 5433, true), node('replica1', 'replica', 5432, false)];
    const routing: RoutingFacts = {
      reads: [{ node: 'replica1', identity: identity(5432, false) }],
      write: { node: 'primary', identity: identity(5433, true), inRecovery: true, transactionReadOnly: true, defaultTransactionReadOnly: false },
    };
    const report = evaluateDoctor(nodes, routing, options);
    expect(report.ok).to.equal(false);
    expect(find(report, 'primary', 'role')).to.include({ status: 'fail' });
    expect(find(report, 'primary', 'role')?.advice).to.match(/swapped/i);
    expect(find(report, 'replica1', 'role')?.advice).to.match(/swapped/i);
    expect(find(report, 'routing', 'write target')?.status).to.equal('fail');
    expect(find(report, 'routing', 'read probe')?.status).to.equal('fail');
  });

  it('recognises a SQL-aware balancer that sent the facts query to the primary but SELECTs to standbys', () => {
    const { nodes, routing } = healthy();
    nodes[1] = { ...nodes[1]!, inRecovery: false, identity: identity(5432, false), samples: [identity(5433, true), identity(5434, true)] };
    const c = find(evaluateDoctor(nodes, routing, options), 'replica1', 'role');
    expect(c?.status).to.equal('fail');
    expect(c?.advice).to.match(/SQL-aware balancer/);
  });

  it('reports an unreachable node with advice and skips its other checks', () => {
    const { nodes, routing } = healthy();
    nodes[2] = { name: 'replica2', configuredRole: 'replica', target: '127.0.0.1:1/app', reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:1', poolMax: 10, samples: [] };
    const report = evaluateDoctor(nodes, routing, options);
    const c = find(report, 'replica2', 'reachable');
    expect(c?.status).to.equal('fail');
    expect(c?.advice).to.contain('127.0.0.1:1/app');
    expect(report.checks.filter((x) => x.node === 'replica2')).to.have.length(1);
    expect(report.problems).to.equal(1);
  });

  it('advises on credentials when authentication failed', () => {
    const { nodes, routing } = healthy();
    nodes[1] = { ...nodes[1]!, reachable: false, error: 'password authentication failed for user "app"' };
    expect(find(evaluateDoctor(nodes, routing, options), 'replica1', 'reachable')?.advice).to.match(/credentials/);
  });

  it('flags a replica URL that is a balancer mixing a primary and a standby', () => {
    const { nodes, routing } = healthy();
    nodes[1]!.samples = [identity(5433, true), identity(5432, false), identity(5433, true), identity(5432, false)];
    const c = find(evaluateDoctor(nodes, routing, options), 'replica1', 'single server');
    expect(c?.status).to.equal('fail');
    expect(c?.detail).to.contain('2 servers');
    expect(c?.advice).to.match(/balancer/);
  });

  it('only warns about a balancer over standbys', () => {
    const { nodes, routing } = healthy();
    nodes[1]!.samples = [identity(5433, true), identity(5434, true)];
    expect(find(evaluateDoctor(nodes, routing, options), 'replica1', 'single server')?.status).to.equal('warn');
  });

  it('fails a primary URL that reaches several servers', () => {
    const { nodes, routing } = healthy();
    nodes[0]!.samples = [identity(5432, false), identity(5435, false)];
    expect(find(evaluateDoctor(nodes, routing, options), 'primary', 'single server')?.status).to.equal('fail');
  });

  it('fails a replica from another cluster (different system identifier)', () => {
    const { nodes, routing } = healthy();
    nodes[2]!.systemIdentifier = '7999999999999999999';
    const c = find(evaluateDoctor(nodes, routing, options), 'replica2', 'cluster');
    expect(c?.status).to.equal('fail');
    expect(c?.detail).to.contain('7999999999999999999');
  });

  it('warns about lag beyond the byte bound, measured from the primary\'s current position', () => {
    const { nodes, routing } = healthy();
    nodes[0]!.currentLsn = '1/0';
    nodes[1]!.replayLsn = '0/0';
    const report = evaluateDoctor(nodes, routing, options);
    expect(nodes[1]!.lagBytes).to.equal(2 ** 32);
    const c = find(report, 'replica1', 'lag');
    expect(c?.status).to.equal('warn');
    expect(c?.detail).to.contain('4.0 GB');
    expect(report.ok).to.equal(true); // warnings do not fail the run
  });

  it('counts time lag only while received WAL waits to be applied', () => {
    const { nodes, routing } = healthy();
    nodes[0]!.currentLsn = '0/3000100';
    // A few bytes behind a fresh write after an idle period: the old replay timestamp is no lag.
    expect(find(evaluateDoctor(nodes, routing, options), 'replica1', 'lag')?.status).to.equal('ok');
    // Received but not applied (recovery_min_apply_delay): the replay age is real lag.
    nodes[1]!.receiveLsn = '0/3000100';
    const c = find(evaluateDoctor(nodes, routing, options), 'replica1', 'lag');
    expect(c?.status).to.equal('warn');
    expect(c?.detail).to.contain('160 B / 120.0 s behind');
  });

  it('warns when a standby is not streaming', () => {
    const { nodes, routing } = healthy();
    nodes[1]!.walReceiverStatus = null;
    expect(find(evaluateDoctor(nodes, routing, options), 'replica1', 'streaming')?.status).to.equal('warn');
  });

  it('skips the streaming check, with the reason and the grant, when the role may not see the WAL receiver', () => {
    const { nodes, routing } = healthy();
    delete nodes[1]!.walReceiverStatus;
    nodes[1]!.user = 'app';
    nodes[1]!.unreadable = { walReceiver: 'pg_stat_wal_receiver shows role app only the pid (42) of the WAL receiver, not its status' };
    const report = evaluateDoctor(nodes, routing, options);
    const c = find(report, 'replica1', 'streaming');
    expect(c).to.include({ status: 'skipped', detail: nodes[1]!.unreadable.walReceiver });
    expect(c?.advice).to.match(/^GRANT pg_read_all_stats TO app /);
    expect(report).to.include({ ok: true, problems: 0, warnings: 0, skipped: 1 });
  });

  it('skips the cluster check when the role may not read the system identifier of the replica or of the primary', () => {
    const { nodes, routing } = healthy();
    delete nodes[0]!.systemIdentifier;
    nodes[0]!.unreadable = { systemIdentifier: 'pg_control_system() refused to app: permission denied for function pg_control_system' };
    const report = evaluateDoctor(nodes, routing, options);
    expect(find(report, 'replica1', 'cluster')).to.include({ status: 'skipped', detail: nodes[0]!.unreadable.systemIdentifier });
    expect(find(report, 'replica2', 'cluster')?.status).to.equal('skipped');
    expect(report.ok).to.equal(true);
  });

  it('checks pool.max × instances against max_connections minus reserved', () => {
    const { nodes, routing } = healthy();
    expect(find(evaluateDoctor(nodes, routing, resolveDoctorOptions({ instances: 9 })), 'primary', 'pool size')?.status).to.equal('ok');
    const over = find(evaluateDoctor(nodes, routing, resolveDoctorOptions({ instances: 10 })), 'primary', 'pool size');
    expect(over?.status).to.equal('fail');
    expect(over?.detail).to.contain('100 of 97 available');
    // 90 + 4 others in use (5 minus the doctor's own connection) > 97
    expect(find(evaluateDoctor(nodes, routing, resolveDoctorOptions({ instances: 9 })), 'replica1', 'pool size')?.status).to.equal('ok');
    nodes[1]!.connectionsInUse = 20;
    expect(find(evaluateDoctor(nodes, routing, resolveDoctorOptions({ instances: 9 })), 'replica1', 'pool size')?.status).to.equal('warn');
  });

  it('adds up the pools of nodes whose URLs reach the same server', () => {
    const { nodes, routing } = healthy();
    nodes[2] = { ...nodes[1]!, name: 'replica2', samples: nodes[1]!.samples };
    const report = evaluateDoctor(nodes, routing, options);
    expect(find(report, 'replica1', 'pool size')?.detail).to.contain('pool.max 20 (replica1 + replica2)');
    expect(find(report, 'replica2', 'pool size')).to.equal(undefined);
  });

  it('warns about transaction pooling and names the pooler', () => {
    const { nodes, routing } = healthy();
    nodes[0]!.pooler = { sharedBackend: true, portMismatch: true, adminConsole: 'PgBouncer 1.18.0', poolMode: 'transaction' };
    const c = find(evaluateDoctor(nodes, routing, resolveDoctorOptions({ instances: 50 })), 'primary', 'pooler');
    expect(c?.status).to.equal('warn');
    expect(c?.detail).to.contain('PgBouncer 1.18.0 (pool_mode = transaction)');
    expect(c?.advice).to.match(/advisory locks/);
    // Behind a pooler, max_connections is not what limits the client pools.
    expect(find(evaluateDoctor(nodes, routing, resolveDoctorOptions({ instances: 50 })), 'primary', 'pool size')?.status).to.equal('ok');
  });

  it('fails a read-only write target and a read that fell back to the primary', () => {
    const { nodes, routing } = healthy();
    routing.write = { ...routing.write!, defaultTransactionReadOnly: true };
    routing.reads = [{ node: 'primary', identity: identity(5432, false), reason: 'fallback to primary: no healthy replica' }];
    const report = evaluateDoctor(nodes, routing, options);
    expect(find(report, 'routing', 'write target')?.advice).to.contain('default_transaction_read_only');
    const read = find(report, 'routing', 'read probe');
    expect(read?.detail).to.contain('no healthy replica');
    expect(read?.advice).to.match(/fall back/);
  });

  it('only warns when a read policy (read-your-writes, lag) sent the probe read to the primary', () => {
    const { nodes, routing } = healthy();
    routing.reads = [{ node: 'primary', identity: identity(5432, false), reason: 'sticky window (1200 ms left)' }];
    const read = find(evaluateDoctor(nodes, routing, options), 'routing', 'read probe');
    expect(read?.status).to.equal('warn');
    expect(read?.detail).to.contain('sticky window');
  });

  it('warns when no replicas are configured', () => {
    const { nodes, routing } = healthy();
    const report = evaluateDoctor(nodes.slice(0, 1), { reads: [{ node: 'primary', identity: identity(5432, false) }], write: routing.write }, options);
    expect(find(report, 'routing', 'read probe')?.status).to.equal('warn');
  });

  it('measures lag in WAL bytes across the 4 GiB word boundary', () => {
    const { nodes, routing } = healthy();
    nodes[0]!.currentLsn = '1/60';
    nodes[1]!.replayLsn = '0/FFFFFFA0';
    nodes[1]!.receiveLsn = '0/FFFFFFA0';
    const report = evaluateDoctor(nodes, routing, options);
    expect(report.nodes[1]?.lagBytes).to.equal(0xc0);
    expect(find(report, 'replica1', 'lag')?.detail).to.equal('replayed to 0/FFFFFFA0, 192 B behind');
  });

  it('validates doctor options, naming key and value', () => {
    expect(() => resolveDoctorOptions({ samples: -1 })).to.throw(/doctor\.samples.*-1/);
    expect(() => resolveDoctorOptions({ instance: 2 } as never)).to.throw(/doctor\.instance/);
  });
});
