import { expect } from 'chai';
import { parseCliArgs } from '../../lib/cli/parse-cli-args';
import type { DoctorReport } from '../../lib/doctor/doctor-report';
import { formatDoctorReport, summaryLine } from '../../lib/doctor/format-doctor-report';
import { describeTarget, endpointOf, errorLine } from '../../lib/doctor/raw-connection';

const report: DoctorReport = {
  ok: false, problems: 1, warnings: 1, skipped: 1, checkedAt: '2024-05-01T10:00:00.000Z', instances: 1,
  nodes: [
    {
      name: 'primary', configuredRole: 'primary', target: 'db:5432/app', reachable: true, inRecovery: false, serverVersion: '15.8',
      currentLsn: '0/3000060', identity: { addr: '10.0.0.1', port: 5432, started: 's', standby: false, pid: 1 }, poolMax: 10, samples: [],
    },
    {
      name: 'replica1', configuredRole: 'replica', target: 'r1:5432/app', reachable: true, inRecovery: true, serverVersion: '15.8',
      replayLsn: '0/3000000', lagBytes: 96, replayAgeSeconds: 0.25, identity: { addr: '10.0.0.2', port: 5432, started: 's', standby: true, pid: 2 }, poolMax: 10, samples: [],
    },
    { name: 'replica2', configuredRole: 'replica', target: 'r2:5432/app', reachable: false, error: 'connect ECONNREFUSED', poolMax: 10, samples: [] },
  ],
  routing: { reads: [] },
  checks: [
    { node: 'primary', check: 'role', status: 'ok', detail: 'primary (pg_is_in_recovery() = f)' },
    { node: 'replica1', check: 'lag', status: 'warn', detail: '96 B behind', advice: 'Look at it.' },
    { node: 'replica2', check: 'reachable', status: 'fail', detail: 'connect ECONNREFUSED', advice: 'Start the server.' },
    { node: 'replica1', check: 'streaming', status: 'skipped', detail: 'status hidden from role app', advice: 'GRANT pg_read_all_stats TO app.' },
  ],
};

describe('doctor report formatting (no database)', () => {
  it('prints a node table with role, server, position and lag', () => {
    const text = formatDoctorReport(report);
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('NODE'));
    expect(header).to.match(/NODE\s+CONFIGURED\s+ACTUAL\s+SERVER\s+VERSION\s+WAL POSITION\s+LAG/);
    expect(lines.find((l) => l.startsWith('replica1'))).to.match(/replica\s+standby\s+10\.0\.0\.2:5432\s+15\.8\s+0\/3000000\s+96 B, 0\.3 s/);
    expect(lines.find((l) => l.startsWith('replica2'))).to.match(/unreachable\s+r2:5432\/app/);
  });

  it('marks checks ✓ / ! / ✗ / ? and puts one advice line under each problem or check not made', () => {
    const lines = formatDoctorReport(report).split('\n');
    const i = lines.findIndex((l) => l.startsWith('✗ replica2'));
    expect(lines[i]).to.match(/^✗ replica2\s+reachable\s+connect ECONNREFUSED$/);
    expect(lines[i + 1]).to.match(/^\s+→ Start the server\.$/);
    expect(lines.some((l) => /^! replica1\s+lag/.test(l))).to.equal(true);
    expect(lines.some((l) => /^✓ primary\s+role/.test(l))).to.equal(true);
    expect(lines.some((l) => /^\? replica1\s+streaming\s+status hidden from role app$/.test(l))).to.equal(true);
    expect(lines[lines.indexOf(lines.find((l) => l.startsWith('? replica1'))!) + 1]).to.match(/^\s+→ GRANT pg_read_all_stats TO app\.$/);
    expect(lines[lines.length - 1]).to.equal('✗ 1 problem, 1 warning, 1 not checked');
  });

  it('summarises', () => {
    expect(summaryLine({ problems: 0, warnings: 0 })).to.equal('✓ no problems');
    expect(summaryLine({ problems: 0, warnings: 2 })).to.equal('✓ no problems (2 warnings)');
    expect(summaryLine({ problems: 3, warnings: 0 })).to.equal('✗ 3 problems');
    expect(summaryLine({ problems: 0, warnings: 1, skipped: 2 })).to.equal('✓ no problems (1 warning, 2 not checked)');
  });

  it('never shows user or password of a connection', () => {
    expect(describeTarget({ connectionString: 'postgres://app:s3cret@db.internal:6432/shop' })).to.equal('db.internal:6432/shop');
    expect(describeTarget({ host: 'h', port: 5433, database: 'd', user: 'u', password: 'p' })).to.equal('h:5433/d');
    expect(endpointOf({ connectionString: 'host=h port=6000 dbname=x user=u password=p' })).to.deep.equal({ host: 'h', port: 6000, database: 'x' });
    expect(errorLine(new Error('bad url postgres://u:pw@h/db'))).to.equal('bad url postgres://u:***@h/db');
  });
});

describe('split-knex CLI arguments (no database)', () => {
  it('defaults the env to NODE_ENV, then development', () => {
    expect(parseCliArgs(['doctor'], {})).to.include({ command: 'doctor', env: 'development', json: false, knexfile: undefined });
    expect(parseCliArgs(['doctor'], { NODE_ENV: 'production' })).to.include({ env: 'production' });
  });

  it('reads --knexfile, --env, --json and numeric options in both spellings', () => {
    expect(parseCliArgs(['doctor', '--knexfile', 'k.js', '--env=staging', '--json', '--instances', '4', '--samples=8', '--timeout', '2000'], {}))
      .to.deep.equal({ command: 'doctor', knexfile: 'k.js', env: 'staging', json: true, instances: 4, samples: 8, timeoutMs: 2000 });
  });

  it('turns mistakes into usage errors', () => {
    expect(parseCliArgs(['doctr'], {})).to.deep.equal({ command: 'error', message: 'unknown command "doctr"' });
    expect(parseCliArgs(['doctor', '--env'], {})).to.deep.equal({ command: 'error', message: '--env needs a value' });
    expect(parseCliArgs(['doctor', '--instances', 'two'], {})).to.include({ command: 'error' });
    expect(parseCliArgs(['doctor', '--verbose'], {})).to.include({ command: 'error' });
    expect(parseCliArgs([], {})).to.deep.equal({ command: 'help' });
    expect(parseCliArgs(['doctor', '--help'], {})).to.deep.equal({ command: 'help' });
  });
});
