// `npm run bench`: every contender in one session against one dedicated cluster, results
// as ratios in bench/results/latest.md and latest.svg (raw figures in latest.json).
// BENCH_QUICK=1 shortens every section (for trying the runner, not for publishing).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startCluster, type Cluster } from '../test/support/cluster';
import type { BenchRun, ProxyStatus } from './bench-run';
import { benchCappedCapacity } from './capped-capacity-bench';
import { capsUnavailable } from './cpu-caps';
import { benchHotPath } from './hot-path-bench';
import { machineInfo } from './machine-info';
import { benchMix } from './mix-bench';
import { haproxyPgBouncerContender, pgpoolContender, plainPrimary, splitKnexContender, type MixContender } from './mix-contenders';
import { runOtherBenches } from './other-benches';
import { benchOverhead } from './overhead-bench';
import { ensureProxyBinaries, startHaproxy, startPgBouncer, startPgpool, type ProxyDaemon } from './proxies/proxy-daemons';
import { ensureBuilt } from './library';
import { renderChart } from './render-chart';
import { renderReport } from './render-report';
import { benchWriteRead } from './write-read-bench';

const QUICK = process.env['BENCH_QUICK'] === '1';
// BENCH_ONLY=overhead,hot-path,write-read,capacity,others runs only the sections named (for
// rerunning one section when the machine is quiet); the report marks the others as not run.
const ONLY = process.env['BENCH_ONLY']?.split(',').map((x) => x.trim()).filter(Boolean);
const wants = (name: string) => ONLY === undefined || ONLY.includes(name);
const began = Date.now();
const log = (m: string) => process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(3)} s] ${m}\n`);

const OVERHEAD = { rounds: QUICK ? 2 : 5, sliceMs: QUICK ? 250 : 700, warmupMs: QUICK ? 200 : 400, poolSize: 16 };
const WRITE_READ = { rounds: QUICK ? 2 : 4, sliceMs: QUICK ? 300 : 800, warmupMs: QUICK ? 200 : 300, poolSize: 16 };
const POOL_PER_NODE = 4;
// pg_sleep mix: only when CPU caps are unavailable.
const MIX = { rounds: QUICK ? 1 : 3, sliceMs: QUICK ? 1000 : 2000, warmupMs: 300, concurrency: 32, writeShare: 0.1 };
// Capped nodes: 0.25 core each (3 nodes = 0.75 core leaves the 2-core host room for the
// client and the proxies), 8 connections per node as in the capacity study.
const CAP = { fraction: 0.25, poolPerNode: 8 };
const CAPPED = { rounds: QUICK ? 1 : 3, sliceMs: QUICK ? 1500 : 3000, warmupMs: 500, concurrency: 16, writeShare: 0.1, rows: 10_000 };
// The nodes' own ceiling under the same caps: pgbench, 8 clients per node as in the capacity study.
const CEILING = { rounds: QUICK ? 1 : 3, seconds: 3, clientsPerNode: CAP.poolPerNode };
const BASELINE = 'knex → primary';
const SPLIT = 'split-knex (default config)';
const SPLIT_PER_REQUEST = 'split-knex (default config, a scope per request)';
const SPLIT_PRIMARY_READS = 'split-knex (a scope per request, primary weight 1)';

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  // The workers load the compiled package, as users do (bench/library.ts).
  ensureBuilt();
  // The local provider by default: proxies and clients all on loopback, no container hops.
  const provider = process.env['SPLIT_KNEX_PROVIDER'] || process.env['SPLIT_KNEX_PRIMARY_URL'] ? undefined : 'local';
  log(`starting a dedicated cluster (primary + 2 replicas${provider === undefined ? '' : `, ${provider} provider`})`);
  const cluster = await startCluster({ replicas: 2, provider, log: () => undefined });
  const daemons: ProxyDaemon[] = [];
  const failures: string[] = [];
  const proxies: ProxyStatus[] = [];
  let run: BenchRun | undefined;
  try {
    const machine = await machineInfo(cluster);
    log(`cluster up: ${cluster.nodes.map((n) => `${n.name}:${n.port}`).join(' ')}, PostgreSQL ${machine.postgres}, load ${machine.loadAtStart.toFixed(2)}`);
    const command = `${QUICK ? 'BENCH_QUICK=1 ' : ''}${ONLY === undefined ? '' : `BENCH_ONLY=${ONLY.join(',')} `}npm run bench`;
    run = { startedAt, seconds: 0, command, machine, loadAtEnd: 0, proxies, others: [], failures };

    const overhead = wants('overhead') ? await section('overhead', failures, () => benchOverhead(cluster, { ...OVERHEAD, log })) : undefined;
    if (overhead !== undefined) run.overhead = { ...overhead, options: OVERHEAD };
    const hot = !wants('hot-path') ? undefined : await section('hot path', failures, () => benchHotPath(cluster, { rounds: QUICK ? 3 : 7, iterations: QUICK ? 1000 : 10_000 }));
    if (hot !== undefined) {
      run.hotPath = hot;
      log(`hot path: knex ${hot.knexUs.toFixed(1)} µs, split-knex ${hot.splitUs.toFixed(1)} µs, 2 replicas ${hot.splitTwoUs?.toFixed(1)} µs, 2 with weight 0 ${hot.splitTwoWeight0Us?.toFixed(1)} µs per statement (driver stubbed)`);
    }

    const wr = !wants('write-read') ? undefined : await section('write-then-read', failures, () => benchWriteRead(cluster, { ...WRITE_READ, log }));
    if (wr !== undefined) run.writeRead = { ...wr, options: WRITE_READ };

    const noCaps = capsUnavailable(cluster);
    if (wants('capacity') && noCaps === undefined) {
      const p = CAP.poolPerNode;
      const contenders: MixContender[] = [
        plainPrimary(cluster, p, 0),
        splitKnexContender(cluster, p, SPLIT, {}, 0),
        // The default before a busy primary shed reads to replicas: never wait for a replica.
        splitKnexContender(cluster, p, 'split-knex (sticky.maxWaitMs: 0)', { sticky: { maxWaitMs: 0 } }, 0),
        splitKnexContender(cluster, p, SPLIT_PER_REQUEST, {}, 0, true),
        splitKnexContender(cluster, p, 'split-knex (sticky: none)', { sticky: { mode: 'none' } }, 0),
        // The strategy before least-busy became the default, and the primary in the read rotation.
        splitKnexContender(cluster, p, 'split-knex (sticky: none, round-robin)', { sticky: { mode: 'none' }, routing: { strategy: 'round-robin' } }, 0),
        splitKnexContender(cluster, p, SPLIT_PRIMARY_READS, { routing: { primaryWeight: 1 } }, 0, true),
        ...(await proxyContenders(cluster, daemons, proxies, p, 0)),
      ];
      const capped = await section('capped capacity', failures, () => benchCappedCapacity(cluster, contenders, { ...CAPPED, fraction: CAP.fraction, ceiling: CEILING, log }));
      if (capped !== undefined) {
        const { results, ceiling, ceilingError, ...caps } = capped;
        run.capped = { results, caps, options: CAPPED, poolPerNode: p, baseline: BASELINE, split: SPLIT };
        if (ceiling !== undefined) run.capped.ceiling = ceiling;
        if (ceilingError !== undefined) run.capped.ceilingError = ceilingError;
      }
    } else if (wants('capacity')) {
      // No per-node CPU caps here: show what replicas add with server time that is not this
      // machine's CPU instead (pg_sleep in every statement).
      run.cappedSkipped = noCaps;
      log(`capped capacity skipped: ${noCaps}; running the pg_sleep mix instead`);
      const contenders: MixContender[] = [
        plainPrimary(cluster, POOL_PER_NODE),
        splitKnexContender(cluster, POOL_PER_NODE, SPLIT),
        splitKnexContender(cluster, POOL_PER_NODE, 'split-knex (sticky: none)', { sticky: { mode: 'none' } }),
        ...(await proxyContenders(cluster, daemons, proxies, POOL_PER_NODE)),
      ];
      const mix = await section('mix', failures, () => benchMix(cluster, contenders, { ...MIX, log }));
      if (mix !== undefined) run.mix = { results: mix, options: MIX, poolPerNode: POOL_PER_NODE, baseline: BASELINE, split: SPLIT };
    }
    await Promise.all(daemons.splice(0).map((d) => d.stop().catch(() => undefined)));

    if (wants('others')) run.others = await runOtherBenches(cluster, log);
  } finally {
    await Promise.all(daemons.map((d) => d.stop().catch(() => undefined)));
    await cluster.destroy();
  }
  run.seconds = (Date.now() - began) / 1000;
  run.loadAtEnd = os.loadavg()[0] ?? 0;
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.md'), renderReport(run));
  fs.writeFileSync(path.join(dir, 'latest.svg'), renderChart(run));
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(run, (k, v) => (k === 'latencies' ? undefined : v), 2)}\n`);
  log(`wrote bench/results/latest.md, latest.svg and latest.json in ${run.seconds.toFixed(0)} s`);
  if (failures.length > 0) process.exitCode = 1;
}

async function section<T>(name: string, failures: string[], fn: () => Promise<T>): Promise<T | undefined> {
  log(`${name}: start`);
  try {
    return await fn();
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    failures.push(`${name}: ${message}`);
    log(`${name} FAILED: ${message}`);
    return undefined;
  }
}

// pgpool-II (load balancing) and HAProxy's read port + PgBouncer for writes: installed from
// Debian's packages when absent, started as the postgres user on loopback, skipped with a
// message when that is impossible.
async function proxyContenders(cluster: Cluster, daemons: ProxyDaemon[], proxies: ProxyStatus[], poolPerNode: number, serverSeconds?: number): Promise<MixContender[]> {
  const out: MixContender[] = [];
  const missing = await ensureProxyBinaries(log);
  const start = async (name: ProxyStatus['name'], key: keyof typeof missing, fn: () => Promise<ProxyDaemon>): Promise<ProxyDaemon | undefined> => {
    if (missing[key] !== undefined) {
      proxies.push({ name, status: 'skipped', note: missing[key] });
      log(`${name} skipped: ${missing[key]}`);
      return undefined;
    }
    try {
      const d = await fn();
      daemons.push(d);
      proxies.push({ name, status: 'ok', version: d.version });
      log(`${name} up on 127.0.0.1:${d.port} (${d.version})`);
      return d;
    } catch (err) {
      const note = `could not start: ${err instanceof Error ? err.message : String(err)}`;
      proxies.push({ name, status: 'skipped', note });
      log(`${name} skipped: ${note}`);
      return undefined;
    }
  };
  // 3 nodes × the per-node pool, as split-knex has; 4 more pgpool children leave room.
  const pgpool = await start('pgpool-II', 'pgpool', () => startPgpool(cluster, poolPerNode * 3 + 4));
  if (pgpool !== undefined) out.push(pgpoolContender(cluster, pgpool.port, poolPerNode * 3, pgpool.version, serverSeconds));
  const haproxy = await start('HAProxy', 'haproxy', () => startHaproxy(cluster));
  const bouncer = await start('PgBouncer', 'pgbouncer', () => startPgBouncer(cluster, poolPerNode));
  if (haproxy !== undefined && bouncer !== undefined) {
    out.push(haproxyPgBouncerContender(cluster, haproxy.port, bouncer.port, poolPerNode * 2, poolPerNode, `${haproxy.version.split(' - ')[0]}; ${bouncer.version}`, serverSeconds));
  }
  return out;
}

process.on('SIGINT', () => process.exit(130));
main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
