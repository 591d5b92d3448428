import { expect } from 'chai';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import knex, { type Knex } from 'knex';
import * as pg from 'pg';
import { splitKnex, SplitKnexError, type DoctorReport } from '../../lib';
import { getTestCluster, startCluster, type Cluster, type NodeInfo } from '../support/cluster';
import { destroyAll, makeDb } from '../support/split-db';

const ROOT = path.join(__dirname, '..', '..');

interface CliResult { code: number; stdout: string; stderr: string }

// The CLI as users run it: a child process reading a knexfile.
function runCli(knexfile: string, ...extra: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'lib/cli/split-knex-cli.ts', 'doctor', '--knexfile', knexfile, ...extra], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function writeKnexfile(dir: string, name: string, entries: Record<string, unknown>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `module.exports = ${JSON.stringify(entries, null, 2)};\n`);
  return file;
}

// A port nothing listens on: bind one, note it, close it.
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// A plain TCP round-robin balancer (what a role-blind HAProxy/pgpool port does): each new
// connection goes to the next upstream port.
async function roundRobinBalancer(ports: number[]): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(ports[next++ % ports.length]!, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('split-knex doctor against the real cluster', () => {
  const cluster = () => getTestCluster();
  let dir: string;
  const healthyEntry = () => ({
    client: 'pg',
    connection: cluster().primary.url,
    replicas: cluster().replicas.map((r) => ({ name: r.name, connection: r.url })),
    pool: { min: 0, max: 4 },
  });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-doctor-'));
    await cluster().waitForReplication(30_000);
  });
  after(async () => {
    await destroyAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes a healthy config: every check ✓ and exit code 0 (CLI, --json)', async () => {
    const file = writeKnexfile(dir, 'healthy.js', { development: healthyEntry() });
    const { code, stdout, stderr } = await runCli(file, '--json');
    expect(code, stderr).to.equal(0);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report.ok).to.equal(true);
    expect(report.checks.filter((c) => c.status === 'fail')).to.deep.equal([]);
    const byNode = (n: string, check: string) => report.checks.find((c) => c.node === n && c.check === check);
    expect(byNode('primary', 'role')?.status).to.equal('ok');
    for (const r of cluster().replicas) {
      expect(byNode(r.name, 'role')?.status).to.equal('ok');
      expect(byNode(r.name, 'cluster')?.status).to.equal('ok');
      expect(byNode(r.name, 'single server')?.status).to.equal('ok');
    }
    // The facts are the servers' own answers.
    expect(report.nodes.map((n) => [n.name, n.inRecovery, n.identity?.port])).to.deep.equal(
      cluster().nodes.map((n) => [n.name, n.role === 'replica', n.port]),
    );
    expect(report.routing.reads.every((r) => r.identity?.standby === true)).to.equal(true);
    expect(report.routing.write?.inRecovery).to.equal(false);
  });

  it('prints a readable ✓ table without --json', async () => {
    const file = writeKnexfile(dir, 'healthy-text.js', { development: healthyEntry() });
    const { code, stdout } = await runCli(file);
    expect(code).to.equal(0);
    expect(stdout).to.match(/^NODE\s+CONFIGURED\s+ACTUAL/m);
    expect(stdout).to.match(/^✓ primary\s+role\s+primary/m);
    expect(stdout.trimEnd().split('\n').pop()).to.match(/^✓ no problems/);
  });

  it('db.doctor() from code agrees on a healthy instance', async () => {
    const db = makeDb();
    const report = await db.doctor({ samples: 3 });
    expect(report.ok, JSON.stringify(report.checks.filter((c) => c.status !== 'ok'))).to.equal(true);
    expect(report.nodes.map((n) => n.name)).to.deep.equal(['primary', ...cluster().replicas.map((r) => r.name)]);
    expect(new Set(report.routing.reads.map((r) => r.node))).to.deep.equal(new Set(cluster().replicas.map((r) => r.name)));
  });

  it('flags a swapped primary/replica and a dead node with advice, and exits 1', async () => {
    const [r1] = cluster().replicas;
    const port = await deadPort();
    const file = writeKnexfile(dir, 'broken.js', {
      production: {
        client: 'pg',
        connection: r1!.url,
        replicas: [{ name: 'was-primary', connection: cluster().primary.url }, { name: 'dead', connection: `postgres://postgres@127.0.0.1:${port}/postgres` }],
        pool: { min: 0, max: 2 },
      },
    });
    const { code, stdout } = await runCli(file, '--json', '--env', 'production', '--samples', '2');
    expect(code).to.equal(1);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report.ok).to.equal(false);
    const check = (n: string, c: string) => report.checks.find((x) => x.node === n && x.check === c);
    expect(check('primary', 'role')).to.include({ status: 'fail' });
    expect(check('primary', 'role')?.advice).to.match(/swapped/i);
    expect(check('was-primary', 'role')).to.include({ status: 'fail' });
    expect(check('was-primary', 'role')?.advice).to.match(/swapped/i);
    expect(check('dead', 'reachable')).to.include({ status: 'fail' });
    expect(check('dead', 'reachable')?.detail).to.match(/ECONNREFUSED/);
    expect(check('dead', 'reachable')?.advice).to.contain(`127.0.0.1:${port}`);
    expect(check('routing', 'write target')?.status).to.equal('fail');
    // The database said so: the configured primary is in recovery.
    expect(report.nodes[0]?.inRecovery).to.equal(true);
  });

  it('detects a replica URL that is a balancer mixing the primary and a standby', async () => {
    const c = cluster();
    const balancer = await roundRobinBalancer([c.primary.port, c.replicas[0]!.port]);
    let db: ReturnType<typeof makeDb> | undefined;
    try {
      db = makeDb({ replicas: [{ name: 'mixed', connection: `postgres://postgres@127.0.0.1:${balancer.port}/${c.primary.database}` }] });
      const report = await db.doctor({ samples: 4 });
      const mixed = report.checks.find((x) => x.node === 'mixed' && x.check === 'single server');
      expect(mixed?.status).to.equal('fail');
      expect(mixed?.detail).to.match(/4 new connections reached 2 servers/);
      expect(report.nodes[1]?.samples.map((s) => s.standby)).to.include.members([true, false]);
      expect(report.ok).to.equal(false);
    } finally {
      // Pools first: the balancer closing under them would be logged as connection errors.
      await db?.destroy();
      await balancer.close();
    }
  });

  it('as a non-superuser, says the WAL receiver status could not be read instead of warning, and still counts others\' sessions', async () => {
    const c = cluster();
    await c.query('primary', 'drop role if exists doctor_plain');
    await c.query('primary', 'create role doctor_plain login');
    await c.waitForReplication(30_000);
    const asPlain = (u: string) => u.replace(/^postgres:\/\/postgres@/, 'postgres://doctor_plain@');
    // Sessions of another user on replica1, which pg_stat_activity blanks for doctor_plain.
    const others = await Promise.all([1, 2, 3, 4, 5].map(async () => {
      const client = new pg.Client({ connectionString: c.replicas[0]!.url });
      await client.connect();
      return client;
    }));
    const db = makeDb({ connection: asPlain(c.primary.url), replicas: c.replicas.map((r) => ({ name: r.name, connection: asPlain(r.url) })) });
    try {
      const report = await db.doctor({ samples: 1 });
      for (const r of c.replicas) {
        const streaming = report.checks.find((x) => x.node === r.name && x.check === 'streaming');
        expect(streaming?.status, JSON.stringify(streaming)).to.equal('skipped');
        expect(streaming?.detail).to.match(/pg_stat_wal_receiver shows role doctor_plain only the pid \(\d+\) of the WAL receiver/);
        expect(streaming?.advice).to.contain('GRANT pg_read_all_stats TO doctor_plain');
        expect(report.nodes.find((n) => n.name === r.name)?.user).to.equal('doctor_plain');
      }
      expect(report.checks.filter((x) => x.status === 'warn' || x.status === 'fail')).to.deep.equal([]);
      expect(report).to.include({ ok: true, skipped: c.replicas.length });
      expect(report.nodes[1]?.connectionsInUse).to.be.at.least(others.length + 1);
    } finally {
      await Promise.all(others.map((o) => o.end()));
      await db.destroy();
      await c.query('primary', 'drop role if exists doctor_plain');
    }
  });

  it('never prints a password: URL userinfo, a dead node, a provider error quoting its credentials (--json, table, stderr)', async () => {
    const c = cluster();
    const SECRET = 'Zq9-doctor-S3cret';
    const url = (port: number) => `postgres://postgres:${SECRET}@127.0.0.1:${port}/${c.primary.database}`; // trust ignores it
    const file = path.join(dir, 'secrets.js');
    fs.writeFileSync(file, `module.exports = { development: {
      client: 'pg', connection: ${JSON.stringify(url(c.primary.port))}, pool: { min: 0, max: 2 },
      replicas: [
        { name: 'replica1', connection: ${JSON.stringify(url(c.replicas[0]!.port))} },
        { name: 'dead', connection: ${JSON.stringify(url(await deadPort()))} },
        { name: 'vault', connection: () => { throw new Error(${JSON.stringify(`vault: cannot renew postgres://postgres:${SECRET}@x@127.0.0.1/db password=${SECRET}`)}); } },
      ],
    } };\n`);
    const json = await runCli(file, '--json', '--samples', '1');
    const text = await runCli(file, '--samples', '1');
    expect(json.code).to.equal(1);
    expect(text.code).to.equal(1);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.checks.find((x) => x.node === 'vault' && x.check === 'reachable')?.detail)
      .to.equal('vault: cannot renew postgres://postgres:***@127.0.0.1/db password=***');
    expect(report.checks.find((x) => x.node === 'dead' && x.check === 'reachable')?.status).to.equal('fail');
    for (const out of [json.stdout, json.stderr, text.stdout, text.stderr]) {
      expect(out).not.to.contain(SECRET);
      expect(out).not.to.contain('Zq9');
    }
  });

  it('exits 2 with a message for a knexfile without the requested env', async () => {
    const file = writeKnexfile(dir, 'envs.js', { development: healthyEntry() });
    const { code, stderr } = await runCli(file, '--env', 'staging');
    expect(code).to.equal(2);
    expect(stderr).to.contain('no "staging" entry (has: development)');
  });
});

// A throwaway cluster whose pg_hba.conf demands a password (SCRAM) from every role but the
// harness's own `postgres`: under the shared cluster's trust rules a dropped password never shows.
describe('doctor connects with the credentials knex uses, under real password authentication', () => {
  const PASSWORD = 'S3cret-pw';
  let pw: Cluster;
  let hbaDir: string;
  const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };
  const url = (n: NodeInfo, password = PASSWORD) => `postgres://doctor_app:${encodeURIComponent(password)}@127.0.0.1:${n.port}/${n.database}`;
  const obj = (n: NodeInfo) => ({ host: '127.0.0.1', port: n.port, database: n.database, user: 'doctor_app', password: PASSWORD });
  // Every way a knex `connection` can be given; `knex` says whether plain knex logs in with it.
  // `rejected`: split-knex refuses the config outright (a key node-postgres would silently ignore).
  const FORMS: Array<{ form: string; knex: boolean; rejected?: boolean; connection: (n: NodeInfo) => unknown }> = [
    { form: 'a URL holding the password', knex: true, connection: (n) => url(n) },
    { form: 'an object with user and password', knex: true, connection: obj },
    { form: 'an object whose connectionString holds the password', knex: true, connection: (n) => ({ connectionString: url(n) }) },
    { form: 'an object with a password-less connectionString and a password key', knex: false, connection: (n) => ({ connectionString: `postgres://doctor_app@127.0.0.1:${n.port}/${n.database}`, password: PASSWORD }) },
    { form: 'a provider function returning an object', knex: true, connection: (n) => () => obj(n) },
    { form: 'an async provider returning a URL', knex: true, connection: (n) => async () => url(n) },
    { form: 'an async provider returning an object with an expirationChecker', knex: true, connection: (n) => async () => ({ ...obj(n), expirationChecker: () => false }) },
    { form: 'an object whose password is an async function', knex: true, connection: (n) => ({ ...obj(n), password: async () => PASSWORD }) },
    { form: 'an object with ssl: false', knex: true, connection: (n) => ({ ...obj(n), ssl: false }) },
    { form: 'an object asking for ssl the server does not offer', knex: false, connection: (n) => ({ ...obj(n), ssl: { rejectUnauthorized: false } }) },
    { form: 'an object spelling the user "username" (node-postgres reads only "user")', knex: false, rejected: true, connection: (n) => ({ host: '127.0.0.1', port: n.port, database: n.database, username: 'doctor_app', password: PASSWORD }) },
    { form: 'a URL with a wrong password', knex: false, connection: (n) => url(n, 'wrong-password') },
  ];

  async function viaKnex(connection: unknown): Promise<{ user?: string; error?: string }> {
    const k = knex({ client: 'pg', connection, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 5000, log: quiet } as Knex.Config);
    try {
      const res = await k.raw('select current_user::text as u');
      return { user: (res.rows[0] as { u: string }).u };
    } catch (err) {
      return { error: (err as Error).message.split('\n')[0] };
    } finally {
      await k.destroy();
    }
  }

  before(async () => {
    hbaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-doctor-hba-'));
    fs.chmodSync(hbaDir, 0o755); // the server runs as postgres and must read the file
    const hba = path.join(hbaDir, 'pg_hba.conf');
    fs.writeFileSync(hba, [
      'local all all trust', 'local replication all trust', 'host all postgres 127.0.0.1/32 trust',
      'host replication all 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', '',
    ].join('\n'), { mode: 0o644 });
    pw = await startCluster({ replicas: 1, fixtures: false, provider: 'local', settings: { hba_file: hba, password_encryption: 'scram-sha-256' } });
    await pw.query('primary', `create role doctor_app login password '${PASSWORD}'`);
    await pw.waitForReplication(30_000);
  });
  after(async () => {
    await pw?.destroy();
    fs.rmSync(hbaDir, { recursive: true, force: true });
  });

  for (const { form, knex: knexConnects, rejected, connection } of FORMS) {
    it(`${rejected === true ? 'refuses the config (knex cannot log in either)' : 'reaches every node as knex does'} with ${form}`, async () => {
      const expected = await viaKnex(connection(pw.primary));
      expect(expected.user !== undefined, `plain knex: ${expected.error}`).to.equal(knexConnects);
      if (rejected === true) {
        expect(() => splitKnex({ client: 'pg', connection: connection(pw.primary) as never, log: quiet }))
          .to.throw(SplitKnexError, /config key "connection\.username" is not a pg connection option/);
        return;
      }
      const db = splitKnex({
        client: 'pg', connection: connection(pw.primary) as never, replicas: [{ name: 'replica1', connection: connection(pw.replicas[0]!) as never }],
        pool: { min: 0, max: 1 }, acquireConnectionTimeout: 5000, log: quiet,
      });
      try {
        const report = await db.doctor({ samples: 1 });
        for (const node of report.nodes) {
          if (knexConnects) {
            expect(node.reachable, `${node.name}: ${node.error}`).to.equal(true);
            expect(node.user).to.equal(expected.user);
            expect(node.error).to.equal(undefined);
          } else {
            expect(node.reachable, node.name).to.equal(false);
            expect(node.error).to.contain(expected.error);
          }
        }
        expect(JSON.stringify(report)).not.to.contain(PASSWORD);
      } finally {
        await db.destroy();
      }
    });
  }
});
