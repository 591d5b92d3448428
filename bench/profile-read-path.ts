// `npx tsx bench/profile-read-path.ts`: CPU profiles of the real-I/O read path. Point SELECTs
// through plain knex on replica1, split-knex with replica1 only, with both replicas, and with
// both where replica2 has weight 0, each worker under `node --cpu-prof` for PROFILE_SECONDS
// (default 30) at PROFILE_CONCURRENCY (default 16); then each profile's self time by group,
// by lib/ file and by function, per query. Profiles stay in PROFILE_DIR (default a temp dir).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Cluster } from '../test/support/cluster';
import { formatProfileSummary, summarizeCpuProfile, type CpuProfile } from './cpu-profile-summary';
import type { SliceResult } from './measure-throughput';
import { overheadContenders } from './overhead-bench';
import { ensureBuilt } from './library';
import { spawnWorker } from './worker-handle';

const SECONDS = Number(process.env['PROFILE_SECONDS'] ?? 30);
const CONCURRENCY = Number(process.env['PROFILE_CONCURRENCY'] ?? 16);
const PROFILED = ['knex', 'split-1', 'split-2', 'split-2w0'];

/** One profiled contender: what it did and where its profile is. */
export interface ProfiledRun {
  id: string;
  label: string;
  ops: number;
  throughput: number;
  cpuUsPerOp: number;
  profile: string;
}

/**
 * Profiles each contender in turn (one process each, the same SQL, the same replica) and
 * returns where the profiles were written.
 *
 * @example
 * const runs = await profileReadPath(cluster, { seconds: 30, concurrency: 16, dir: '/tmp/prof' });
 */
export async function profileReadPath(cluster: Cluster, options: { seconds: number; concurrency: number; dir: string; log: (m: string) => void }): Promise<ProfiledRun[]> {
  await cluster.query('primary', `drop table if exists bench_items;
    create table bench_items (id int primary key, grp int not null, payload text not null);
    insert into bench_items select g, g % 100, md5(g::text) from generate_series(1, 10000) g;
    analyze bench_items`);
  await cluster.waitForReplication(60_000);
  const out: ProfiledRun[] = [];
  for (const c of overheadContenders(cluster, 16).filter((x) => PROFILED.includes(x.id))) {
    // One directory per contender: tsx's module loader runs in a thread of its own, which
    // writes a profile too; the main thread's is the largest.
    const dir = path.join(options.dir, c.id);
    fs.mkdirSync(dir, { recursive: true });
    const w = await spawnWorker(c.init, { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    let slice: SliceResult & { cpuUsPerOp: number };
    let warmOps = 0;
    try {
      warmOps = (await w.call<SliceResult>({ cmd: 'slice', query: 'point', concurrency: options.concurrency, durationMs: 2000, record: false })).ops;
      slice = await w.call({ cmd: 'slice', query: 'point', concurrency: options.concurrency, durationMs: options.seconds * 1000, record: false });
    } finally {
      // The profile is written when the worker exits.
      await w.close();
    }
    options.log(`${c.label}: ${slice.ops} point SELECTs, ${slice.throughput.toFixed(0)}/s, ${slice.cpuUsPerOp.toFixed(0)} µs CPU each`);
    // The profile covers the warm-up too (and the worker's start, a fraction of a second).
    const profile = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    if (profile === undefined) throw new Error(`no profile written in ${dir}`);
    out.push({ id: c.id, label: c.label, ops: slice.ops + warmOps, throughput: slice.throughput, cpuUsPerOp: slice.cpuUsPerOp, profile });
  }
  return out;
}

if (require.main === module) {
  (async () => {
    ensureBuilt();
    const { startCluster } = await import('../test/support/cluster');
    const dir = process.env['PROFILE_DIR'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-profiles-'));
    fs.mkdirSync(dir, { recursive: true });
    const log = (m: string) => process.stderr.write(`[profile] ${m}\n`);
    const cluster = await startCluster({ replicas: 2, provider: 'local', log: () => undefined });
    let runs: ProfiledRun[];
    try {
      log(`load ${os.loadavg()[0]!.toFixed(2)}; ${SECONDS} s per contender at concurrency ${CONCURRENCY}; profiles in ${dir}`);
      runs = await profileReadPath(cluster, { seconds: SECONDS, concurrency: CONCURRENCY, dir, log });
    } finally {
      await cluster.destroy();
    }
    const root = path.resolve(__dirname, '..');
    const table: string[] = [];
    for (const r of runs) {
      const profile = JSON.parse(fs.readFileSync(r.profile, 'utf8')) as CpuProfile;
      const summary = summarizeCpuProfile(profile, { root, ops: r.ops });
      console.log(`\n=== ${r.label}: ${r.throughput.toFixed(0)} ops/s, process CPU ${r.cpuUsPerOp.toFixed(0)} µs/op (${r.profile})`);
      console.log(formatProfileSummary(summary, 30));
      // The profiler samples the main thread's wall time while it is not idle, so on a busy
      // machine time spent preempted lands on whatever was on the stack: shares are what to
      // read, scaled here to the process's measured CPU per query.
      const share = (g: string) => (summary.groups.find((x) => x.name === g)?.ms ?? 0) / summary.busyMs;
      const groups = ['split-knex lib/', 'knex', 'tarn (knex pool)', 'pg', 'node internals', 'V8 / native', '(garbage collector)'];
      table.push(`| ${r.label} | ${r.throughput.toFixed(0)} | ${r.cpuUsPerOp.toFixed(0)} | ${groups.map((g) => `${(share(g) * 100).toFixed(1)}% (${(share(g) * r.cpuUsPerOp).toFixed(1)})`).join(' | ')} |`);
      if (table.length === 1) table.unshift(`| contender | ops/s | CPU µs/op | ${groups.join(' | ')} |`, `| --- | ---: | ---: | ${groups.map(() => '---:').join(' | ')} |`);
    }
    console.log(`\nShare of busy samples (and µs of CPU per query, scaled to the process's measured CPU):\n${table.join('\n')}`);
  })().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
