// `npx tsx bench/profile-write-read.ts`: CPU profiles of the write-then-read path (insert a row,
// select it by id) through plain knex on the primary and split-knex's default config, each
// worker under `node --cpu-prof` for PROFILE_SECONDS (default 15) at PROFILE_CONCURRENCY
// (default 16); then each profile's self time by group, by lib/ file and by function, per pair.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatProfileSummary, summarizeCpuProfile, type CpuProfile } from './cpu-profile-summary';
import type { SliceResult } from './measure-throughput';
import { ensureBuilt } from './library';
import { spawnWorker, type WorkerInit } from './worker-handle';

const SECONDS = Number(process.env['PROFILE_SECONDS'] ?? 15);
const CONCURRENCY = Number(process.env['PROFILE_CONCURRENCY'] ?? 16);

(async () => {
  ensureBuilt();
  const { startCluster } = await import('../test/support/cluster');
  const dir = process.env['PROFILE_DIR'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-wr-profiles-'));
  const log = (m: string) => process.stderr.write(`[profile] ${m}\n`);
  const cluster = await startCluster({ replicas: 2, provider: 'local', log: () => undefined });
  const out: Array<{ label: string; ops: number; throughput: number; cpuUsPerOp: number; profile: string }> = [];
  try {
    await cluster.query('primary', 'drop table if exists bench_wtr; create table bench_wtr (id bigserial primary key, v int not null)');
    await cluster.waitForReplication(60_000);
    const replicas = cluster.replicas.map((r) => ({ name: r.name, url: r.url }));
    const contenders: Array<[string, WorkerInit]> = [
      ['knex → primary', { contender: 'knex', url: cluster.primary.url, poolSize: 16 }],
      ['split-knex default', { contender: 'split-knex', url: cluster.primary.url, replicas, poolSize: 16 }],
      ['split-knex window', { contender: 'split-knex', url: cluster.primary.url, replicas, poolSize: 16, config: { sticky: { mode: 'window' } } }],
    ];
    log(`load ${os.loadavg()[0]!.toFixed(2)}; ${SECONDS} s per contender at concurrency ${CONCURRENCY}; profiles in ${dir}`);
    for (const [label, init] of contenders) {
      const d = path.join(dir, label.replace(/\W+/g, '-'));
      fs.mkdirSync(d, { recursive: true });
      const w = await spawnWorker(init, { execArgv: ['--cpu-prof', `--cpu-prof-dir=${d}`] });
      let slice: SliceResult & { cpuUsPerOp: number };
      let warm = 0;
      try {
        warm = (await w.call<SliceResult>({ cmd: 'slice', query: 'write-read', concurrency: CONCURRENCY, durationMs: 1500, record: false })).ops;
        slice = await w.call({ cmd: 'slice', query: 'write-read', concurrency: CONCURRENCY, durationMs: SECONDS * 1000, record: false });
        const stats = await w.call<{ consistency?: unknown; background?: unknown } | null>({ cmd: 'stats' });
        if (stats !== null) log(`${label} stats: ${JSON.stringify({ consistency: stats.consistency, background: stats.background })}`);
      } finally {
        await w.close();
      }
      log(`${label}: ${slice.ops} pairs, ${slice.throughput.toFixed(0)}/s, ${slice.cpuUsPerOp.toFixed(0)} µs CPU each`);
      const profile = fs.readdirSync(d).map((f) => path.join(d, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
      out.push({ label, ops: slice.ops + warm, throughput: slice.throughput, cpuUsPerOp: slice.cpuUsPerOp, profile });
    }
  } finally {
    await cluster.destroy();
  }
  const root = path.resolve(__dirname, '..');
  for (const r of out) {
    const summary = summarizeCpuProfile(JSON.parse(fs.readFileSync(r.profile, 'utf8')) as CpuProfile, { root, ops: r.ops });
    console.log(`\n=== ${r.label}: ${r.throughput.toFixed(0)} pairs/s, process CPU ${r.cpuUsPerOp.toFixed(0)} µs/pair (${r.profile})`);
    console.log(formatProfileSummary(summary, 40));
  }
})().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
