import { expect } from 'chai';
import type { DoctorReport } from '../../lib/doctor/doctor-report';
import { pgSettingsOf, withSettings } from '../../lib/doctor/raw-connection';
import { redactReport, redactSecrets, secretsOf } from '../../lib/doctor/redact-report';

describe('doctor secrets (no database)', () => {
  it('finds the password in every spelling a connection gives it', () => {
    expect(secretsOf({ password: 'S3cret' })).to.deep.equal(['S3cret']);
    expect(secretsOf({ connectionString: 'postgres://app:p%40ss-word@db/app' })).to.have.members(['p%40ss-word', 'p@ss-word']);
    expect(secretsOf({ connectionString: 'postgres://app@db/app?password=qs-S3cret&sslmode=disable' })).to.deep.equal(['qs-S3cret']);
    expect(secretsOf({ connectionString: "host=db user=app password='a b c d' dbname=x" })).to.deep.equal(['a b c d']);
    expect(secretsOf({ connectionString: 'host=db password=kvS3cret' })).to.deep.equal(['kvS3cret']);
    expect(secretsOf({ password: async () => 'fn' } as never)).to.deep.equal([]);
    expect(secretsOf({ password: 'abc' })).to.deep.equal([]); // too short to mask by value: patterns cover it
  });

  it('masks URL passwords up to the last @, password= values and known secrets', () => {
    expect(redactSecrets('vault: postgres://app:p@ss@db/app failed')).to.equal('vault: postgres://app:***@db/app failed');
    expect(redactSecrets('postgresql://app:x@db:5432/app and redis://:pw@cache:6379')).to.equal('postgresql://app:***@db:5432/app and redis://:***@cache:6379');
    expect(redactSecrets("host=db password='a b' user=app")).to.equal('host=db password=*** user=app');
    expect(redactSecrets('?password=abc&sslmode=require')).to.equal('?password=***&sslmode=require');
    expect(redactSecrets('database "db_S3cret-long" does not exist', ['S3cret', 'S3cret-long'])).to.equal('database "db_***" does not exist');
    expect(redactSecrets('connect ECONNREFUSED 127.0.0.1:5432 postgres://db:5432/app user@host')).to.equal('connect ECONNREFUSED 127.0.0.1:5432 postgres://db:5432/app user@host');
  });

  it('masks every string of a report, nested ones included, and leaves the rest', () => {
    const report = {
      ok: false, problems: 1, warnings: 0, skipped: 0, checkedAt: 'now', instances: 1,
      nodes: [{ name: 'r', configuredRole: 'replica', target: 'h:1/db_S3cret', reachable: false, error: 'password=S3cret', poolMax: 10, samples: [] }],
      routing: { reads: [{ node: 'r', error: 'x S3cret y' }] },
      checks: [{ node: 'r', check: 'reachable', status: 'fail', detail: 'S3cret', advice: 'fix S3cret' }],
    } as DoctorReport;
    const out = redactReport(report, ['S3cret']);
    expect(JSON.stringify(out)).not.to.contain('S3cret');
    expect(out.nodes[0]).to.include({ target: 'h:1/db_***', reachable: false, poolMax: 10 });
    expect(out.routing.reads[0]?.error).to.equal('x *** y');
    expect(report.checks[0]?.detail).to.equal('S3cret'); // a copy: the input is left alone
  });

  it('keeps a password knex stored as a hidden property, and keeps it hidden', async () => {
    // knex's Client copies `connection` and redefines `password` as non-enumerable: a spread loses it.
    const knexCopy = { host: 'db', user: 'app' };
    Object.defineProperty(knexCopy, 'password', { value: 'S3cret', enumerable: false });
    const settings = await pgSettingsOf(knexCopy);
    expect(settings.password).to.equal('S3cret');
    expect(JSON.stringify(settings)).not.to.contain('S3cret');
    const derived = withSettings(settings, { database: 'pgbouncer' });
    expect(derived).to.include({ host: 'db', user: 'app', database: 'pgbouncer', password: 'S3cret' });
    expect(Object.keys(derived)).not.to.include('password');
    const fn = async () => 'S3cret';
    expect((await pgSettingsOf(async () => ({ host: 'db', password: fn, expirationChecker: () => true }))).password).to.equal(fn);
    expect(await pgSettingsOf(async () => ({ host: 'db', expirationChecker: () => true }))).to.deep.equal({ host: 'db' });
    expect(await pgSettingsOf(() => 'postgres://app:pw@db/app')).to.deep.equal({ connectionString: 'postgres://app:pw@db/app' });
  });
});
