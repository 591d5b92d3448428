import { execFile, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import type { Cluster } from '../../test/support/cluster';
import { allocatePorts } from '../../test/support/cluster/free-port';

/** A proxy daemon started for the bench, with what it listens on and how to stop it. */
export interface ProxyDaemon {
  name: 'pgpool-II' | 'HAProxy' | 'PgBouncer';
  version: string;
  /** The client-facing port on 127.0.0.1. */
  port: number;
  stop(): Promise<void>;
}

const BIN = { pgbouncer: '/usr/sbin/pgbouncer', haproxy: '/usr/sbin/haproxy', pgpool: '/usr/sbin/pgpool' } as const;
const PACKAGES = { pgbouncer: 'pgbouncer', haproxy: 'haproxy', pgpool: 'pgpool2' } as const;
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
// The daemons refuse to run as root: run them as the postgres user, as the guides do.
const asPostgres = (file: string, args: string[]): [string, string[]] => (isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args]);
const started = new Set<number>();

/**
 * Installs the Debian packages of missing proxies (`apt-get install -y pgbouncer haproxy
 * pgpool2`, after `apt-get update` if the first try fails). Returns a message per proxy
 * that is still missing; never throws.
 *
 * @example
 * const missing = await ensureProxyBinaries(console.log); // {} when all three are there
 */
export async function ensureProxyBinaries(log: (m: string) => void): Promise<Partial<Record<keyof typeof BIN, string>>> {
  const missing = () => (Object.keys(BIN) as Array<keyof typeof BIN>).filter((k) => !fs.existsSync(BIN[k]));
  let todo = missing();
  if (todo.length > 0 && isRoot() && fs.existsSync('/usr/bin/apt-get')) {
    const pkgs = todo.map((k) => PACKAGES[k]);
    log(`installing ${pkgs.join(' ')} from Debian's packages`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], 240_000, env);
    if (!(await install())) {
      await run('apt-get', ['update'], 240_000, env);
      await install();
    }
    todo = missing();
  }
  const why = isRoot() ? 'not installed and apt-get install failed' : 'not installed (run as root to let the bench apt-get install it)';
  return Object.fromEntries(todo.map((k) => [k, `${BIN[k]} ${why}`]));
}

function run(file: string, args: string[], timeout: number, env?: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => execFile(file, args, { timeout, env }, (err) => resolve(err === null)));
}

function versionOf(file: string, flag: string): string {
  // pgpool prints its version on stderr, the others on stdout.
  const r = spawnSync(file, [flag], { encoding: 'utf8', timeout: 5000 });
  const line = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find((l) => l !== '');
  return (line ?? 'unknown version').replace(/ - https?:\/\/\S+$/, '').replace(/ \d{4}\/\d{2}\/\d{2}$/, '');
}

// A temp dir the postgres user owns: configs, pid files, sockets, logs.
function workDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `split-knex-bench-${name}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

function render(template: string, dir: string, values: Record<string, string | number>): void {
  let text = fs.readFileSync(path.join(__dirname, template), 'utf8');
  for (const [k, v] of Object.entries({ ...values, DIR: dir })) text = text.split(`{{${k}}}`).join(String(v));
  fs.writeFileSync(path.join(dir, template.replace(/\.tmpl$/, '')), text);
}

function chownToPostgres(dir: string): void {
  if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
}

function launch(file: string, args: string[], cwd: string): Promise<void> {
  const [cmd, argv] = asPostgres(file, args);
  return new Promise((resolve, reject) => execFile(cmd, argv, { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
    if (err === null) resolve();
    else reject(new Error(`${path.basename(file)} failed to start: ${(stderr || stdout || err.message).trim().split('\n').slice(-3).join(' | ')}`));
  }));
}

async function readPid(file: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // parseInt: pgpool ends its pid file with a NUL byte.
    const pid = fs.existsSync(file) ? Number.parseInt(fs.readFileSync(file, 'utf8'), 10) : NaN;
    if (Number.isInteger(pid) && pid > 0) {
      started.add(pid);
      return pid;
    }
    await sleep(50);
  }
  throw new Error(`no pid file ${file}`);
}

// Stops a daemon we started, by its pid, and waits for it to go.
async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    started.delete(pid);
    return;
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && alive(pid)) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  started.delete(pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// If the bench dies, the daemons it started (and only those) go with it.
process.on('exit', () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
});

/** Polls until `check` resolves true, or throws `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`);
}

async function queryVia(port: number, sql: string, database: string): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database, connectionTimeoutMillis: 3000, query_timeout: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * PgBouncer in transaction mode in front of the primary, with `poolSize` server connections.
 *
 * @example
 * const bouncer = await startPgBouncer(cluster, 4); ... await bouncer.stop();
 */
export async function startPgBouncer(cluster: Cluster, poolSize: number): Promise<ProxyDaemon> {
  const dir = workDir('pgbouncer');
  const [port] = await allocatePorts(1);
  render('pgbouncer.ini.tmpl', dir, { PRIMARY_PORT: cluster.primary.port, PGBOUNCER_PORT: port!, POOL_SIZE: poolSize });
  fs.writeFileSync(path.join(dir, 'userlist.txt'), '"postgres" ""\n');
  chownToPostgres(dir);
  await launch(BIN.pgbouncer, ['-d', path.join(dir, 'pgbouncer.ini')], dir);
  const pid = await readPid(path.join(dir, 'pgbouncer.pid'));
  await until('PgBouncer', 15_000, async () => (await queryVia(port!, 'select 1 as ok', cluster.primary.database))[0]?.ok === 1);
  return {
    name: 'PgBouncer', version: versionOf(BIN.pgbouncer, '--version'), port: port!,
    stop: async () => {
      await stopPid(pid, 'SIGINT');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * HAProxy with a role-aware read port over the replicas (the primary is listed and must be
 * held DOWN by the check). Resolves once the check shows replicas UP and the primary DOWN.
 *
 * @example
 * const haproxy = await startHaproxy(cluster);
 */
export async function startHaproxy(cluster: Cluster): Promise<ProxyDaemon> {
  const dir = workDir('haproxy');
  const [port, statsPort] = await allocatePorts(2);
  const servers = [
    ...cluster.replicas.map((r) => `    server ${r.name} 127.0.0.1:${r.port} check`),
    `    server primary 127.0.0.1:${cluster.primary.port} check`,
  ].join('\n');
  render('haproxy.cfg.tmpl', dir, { HAPROXY_PORT: port!, HAPROXY_STATS_PORT: statsPort!, HAPROXY_SERVERS: servers });
  chownToPostgres(dir);
  const pidFile = path.join(dir, 'haproxy.pid');
  await launch(BIN.haproxy, ['-f', path.join(dir, 'haproxy.cfg'), '-D', '-p', pidFile], dir);
  const pid = await readPid(pidFile);
  await until('HAProxy role checks', 20_000, async () => {
    const csv = await httpGet(`http://127.0.0.1:${statsPort}/;csv`);
    const status = new Map(csv.split('\n').filter((l) => l.startsWith('pg_replicas,')).map((l) => [l.split(',')[1], l.split(',')[17]]));
    return status.get('primary') === 'DOWN' && cluster.replicas.every((r) => status.get(r.name) === 'UP');
  });
  return {
    name: 'HAProxy', version: versionOf(BIN.haproxy, '-v'), port: port!,
    stop: async () => {
      await stopPid(pid);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/**
 * pgpool-II in streaming-replication mode with load balancing over the replicas (the primary
 * has weight 0 and takes the writes). `children` bounds concurrent client connections.
 *
 * @example
 * const pgpool = await startPgpool(cluster, 16);
 */
export async function startPgpool(cluster: Cluster, children: number): Promise<ProxyDaemon> {
  const dir = workDir('pgpool');
  const [port, pcpPort] = await allocatePorts(2);
  const backends = cluster.nodes.map((n, i) => [
    `backend_hostname${i} = '127.0.0.1'`,
    `backend_port${i} = ${n.port}`,
    `backend_weight${i} = ${i === 0 ? 0 : 1}`,
    `backend_flag${i} = 'ALLOW_TO_FAILOVER'`,
  ].join('\n')).join('\n');
  render('pgpool.conf.tmpl', dir, { PGPOOL_PORT: port!, PCP_PORT: pcpPort!, PGPOOL_BACKENDS: backends, PGPOOL_CHILDREN: children });
  for (const f of ['pool_passwd', 'pcp.conf', 'pool_hba.conf']) fs.writeFileSync(path.join(dir, f), '');
  fs.mkdirSync(path.join(dir, 'pgpool_log'));
  chownToPostgres(dir);
  const conf = path.join(dir, 'pgpool.conf');
  const args = ['-f', conf, '-F', path.join(dir, 'pcp.conf'), '-a', path.join(dir, 'pool_hba.conf')];
  await launch(BIN.pgpool, args, dir);
  const pid = await readPid(path.join(dir, 'pgpool.pid'));
  await until('pgpool-II backends', 30_000, async () => {
    const rows = await queryVia(port!, 'SHOW pool_nodes', cluster.primary.database);
    return rows.length === cluster.nodes.length && rows.every((r) => ['up', 'waiting'].includes(String(r.status)));
  });
  return {
    name: 'pgpool-II', version: versionOf(BIN.pgpool, '--version'), port: port!,
    stop: async () => {
      const [cmd, argv] = asPostgres(BIN.pgpool, [...args, '-m', 'fast', 'stop']);
      await new Promise<void>((resolve) => execFile(cmd, argv, { cwd: dir, timeout: 20_000 }, () => resolve()));
      await stopPid(pid);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
