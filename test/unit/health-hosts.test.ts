import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import type { HealthProbe, ProbeResult } from '../../lib/health/health-probe';
import { hostLabel, resolveConnection, withConnectTimeout } from '../../lib/health/node-connection';
import { PrimaryHosts } from '../../lib/health/primary-hosts';
import { splitHosts } from '../../lib/health/split-hosts';

const STANDBY: ProbeResult = { inRecovery: true, readOnly: true, latencyMs: 1 };
const PRIMARY: ProbeResult = { inRecovery: false, readOnly: false, latencyMs: 1 };
const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('health: a primary listed with several hosts', () => {
  it('splits a URL with a host list into one URL per host, keeping user, password, database and parameters', () => {
    expect(splitHosts('postgres://app:pw@h1:5432,h2:5433,h3/app?sslmode=require')).to.deep.equal([
      'postgres://app:pw@h1:5432/app?sslmode=require',
      'postgres://app:pw@h2:5433/app?sslmode=require',
      'postgres://app:pw@h3/app?sslmode=require',
    ]);
  });

  it('leaves single-host connections alone', () => {
    expect(splitHosts('postgres://app@h1:5432/app')).to.equal(undefined);
    expect(splitHosts({ host: 'h1', port: 5432 })).to.equal(undefined);
    expect(splitHosts(() => ({}))).to.equal(undefined);
    expect(splitHosts(undefined)).to.equal(undefined);
  });

  it('splits host/port lists of a connection object (one port for all, or one per host)', () => {
    expect(splitHosts({ host: ['h1', 'h2'], port: [5432, 5433], user: 'app' })).to.deep.equal([
      { host: 'h1', port: 5432, user: 'app' }, { host: 'h2', port: 5433, user: 'app' },
    ]);
    expect(splitHosts({ host: 'h1,h2', port: 6432 })).to.deep.equal([{ host: 'h1', port: 6432 }, { host: 'h2', port: 6432 }]);
    expect(splitHosts({ host: ['h1', 'h2'] })).to.deep.equal([{ host: 'h1', port: 5432 }, { host: 'h2', port: 5432 }]);
    expect(splitHosts({ connectionString: 'postgres://h1,h2/db', ssl: true })).to.deep.equal([
      { connectionString: 'postgres://h1/db', ssl: true }, { connectionString: 'postgres://h2/db', ssl: true },
    ]);
  });

  it('rejects port lists that do not match the hosts, naming the key', () => {
    expect(() => splitHosts({ host: ['h1', 'h2', 'h3'], port: [1, 2] })).to.throw(SplitKnexError, 'config key "connection.port" must be one port, or one port per host (3)');
    expect(() => splitHosts({ host: ['h1', 'h2'], port: ['x'] })).to.throw(SplitKnexError, /connection.port/);
    expect(() => splitHosts('postgres://u:secret@h1,,h2/db')).to.throw(SplitKnexError, /lists an empty host; got "postgres:\/\/u:\*\*\*@h1,,h2\/db"/);
  });

  function hostsWith(answers: Array<ProbeResult | Error>) {
    const probes: Array<HealthProbe & { answer: ProbeResult | Error; calls: number }> = [];
    const hosts = new PrimaryHosts(['postgres://app:pw@h1:5432/app', 'postgres://app:pw@h2:5433/app', 'postgres://app:pw@h3:5434/app'], {
      timeoutMs: 100, connectTimeoutMs: 1000,
      makeProbe: () => {
        const p = {
          answer: answers[probes.length]!, calls: 0,
          async probe() { p.calls++; if (p.answer instanceof Error) throw p.answer; return p.answer; },
          close() {},
        };
        probes.push(p);
        return p;
      },
    });
    const switches: Array<[string | undefined, string]> = [];
    hosts.onSwitch = (from, to) => switches.push([from, to]);
    return { hosts, probes, switches };
  }

  it('connects to the first host, in the listed order, that answers read-write', async () => {
    const { hosts, switches } = hostsWith([STANDBY, PRIMARY, PRIMARY]);
    const settings = await hosts.provider()();
    expect(settings.connectionString).to.equal('postgres://app:pw@h2:5433/app');
    expect(settings.connectionTimeoutMillis).to.equal(1000);
    expect(hosts.currentHost).to.equal('h2:5433');
    expect(switches).to.deep.equal([[undefined, 'h2:5433']]);
  });

  it('keeps asking only the current host while it answers read-write', async () => {
    const { hosts, probes } = hostsWith([PRIMARY, STANDBY, STANDBY]);
    await hosts.probe();
    await hosts.probe();
    expect(probes.map((p) => p.calls)).to.deep.equal([2, 1, 1]);
  });

  it('switches when the current host fails or is demoted, and expires the connection settings knex holds', async () => {
    const { hosts, probes, switches } = hostsWith([PRIMARY, STANDBY, STANDBY]);
    const first = await hosts.provider()();
    const expired = first.expirationChecker as () => boolean;
    expect(expired()).to.equal(false);
    probes[0]!.answer = refused();
    probes[2]!.answer = PRIMARY;
    const r = await hosts.probe();
    expect(r.host).to.equal('h3:5434');
    expect(expired()).to.equal(true);
    expect(switches).to.deep.equal([[undefined, 'h1:5432'], ['h1:5432', 'h3:5434']]);
  });

  it('reports a failover from the last host even after a refused connection made it look again', async () => {
    const { hosts, probes, switches } = hostsWith([PRIMARY, STANDBY, STANDBY]);
    await hosts.probe();
    hosts.invalidate();
    probes[0]!.answer = refused();
    probes[1]!.answer = PRIMARY;
    await hosts.provider()();
    expect(switches.at(-1)).to.deep.equal(['h1:5432', 'h2:5433']);
  });

  it('with no host read-write: the probe still answers (node up, writes refused) while any host answers', async () => {
    const { hosts } = hostsWith([refused(), STANDBY, STANDBY]);
    expect((await hosts.probe()).inRecovery).to.equal(true);
    const err = await hosts.provider()().then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(err?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect(err?.message).to.equal('split-knex: no host of the primary answers as read-write (h1:5432: connect ECONNREFUSED; h2:5433: in recovery; h3:5434: in recovery)');
  });

  it('with no host answering at all: the probe fails with ESPLIT_PRIMARY_DOWN and the first cause', async () => {
    const { hosts } = hostsWith([refused(), refused(), refused()]);
    const err = await hosts.probe().then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(err?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect((err?.cause as { code: string }).code).to.equal('ECONNREFUSED');
  });
});

describe('health: node connections', () => {
  it('adds a connect timeout unless the connection has one; URLs become objects, providers are wrapped', async () => {
    expect(withConnectTimeout('postgres://a@h/db', 5000)).to.deep.equal({ connectionString: 'postgres://a@h/db', connectionTimeoutMillis: 5000 });
    expect(withConnectTimeout({ host: 'h', connectionTimeoutMillis: 100 }, 5000)).to.deep.equal({ host: 'h', connectionTimeoutMillis: 100 });
    expect(withConnectTimeout({ host: 'h' }, 5000)).to.deep.equal({ host: 'h', connectionTimeoutMillis: 5000 });
    expect(withConnectTimeout('postgres://a@h/db', 0)).to.equal('postgres://a@h/db');
    const wrapped = withConnectTimeout(async () => ({ host: 'h', expirationChecker: () => false }), 700) as () => Promise<Record<string, unknown>>;
    expect(await wrapped()).to.include({ host: 'h', connectionTimeoutMillis: 700 });
  });

  it('resolves any connection form to a node-postgres config for the probe', async () => {
    expect(await resolveConnection('postgres://a@h/db')).to.deep.equal({ connectionString: 'postgres://a@h/db' });
    expect(await resolveConnection(async () => ({ host: 'h', expirationChecker: () => true }))).to.deep.equal({ host: 'h' });
  });

  it('labels a host without its password', () => {
    expect(hostLabel({ connectionString: 'postgres://app:secret@db.internal:6432/app' })).to.equal('db.internal:6432');
    expect(hostLabel({ connectionString: 'postgres://app@db/app' })).to.equal('db:5432');
    // A password holding '@' or '/' never leaks into the label (failover events, debug lines).
    expect(hostLabel({ connectionString: 'postgres://u:p@ss@db:5433/app' })).to.equal('db:5433');
    expect(hostLabel({ connectionString: 'postgres://u:pw/x@db/app' })).to.equal('db:5432');
    expect(hostLabel({ host: 'h', port: 5433 })).to.equal('h:5433');
  });
});
