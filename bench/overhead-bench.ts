import type { Cluster } from '../test/support/cluster';
import { median, summarize, type LatencySummary } from './latency-summary';
import type { SliceResult } from './measure-throughput';
import { spawnWorker, type WorkerHandle } from './worker-handle';

/** The statements of the overhead section. */
export type OverheadQuery = 'point' | 'range10';
/** The contenders of the overhead section, all pointed at the same replica. */
export type OverheadContender = 'pg.Pool' | 'knex' | 'split-knex';
export const OVERHEAD_CONTENDERS: readonly OverheadContender[] = ['pg.Pool', 'knex', 'split-knex'];

/** One contender's figures in one scenario. */
export interface OverheadFigures {
  /** Median over rounds, ops/s. */
  throughput: number;
  latency: LatencySummary;
  /** Median over rounds of the worker process's CPU (user + system) per operation, µs. */
  cpuUsPerOp: number;
  ops: number;
  errors: number;
  firstError?: string;
}

/** One scenario's figures, per contender and as paired ratios. */
export interface OverheadRow {
  query: OverheadQuery;
  concurrency: number;
  results: Record<OverheadContender, OverheadFigures>;
  /** Median over rounds of the per-round ratio split-knex / knex (1 = no overhead). */
  splitVsKnex: number;
  /** Every round's split-knex / knex ratio, to show the spread. */
  roundRatios: number[];
  splitVsPg: number;
  knexVsPg: number;
}

/** Bounds of the overhead section. */
export interface OverheadOptions {
  rounds: number;
  sliceMs: number;
  warmupMs: number;
  poolSize: number;
  log: (msg: string) => void;
}

type WorkerSlice = SliceResult & { cpuUsPerOp: number };
const ROWS = 10_000;

/**
 * Section 1: the cost split-knex adds to a read. Three contenders read from the SAME
 * replica with the same pool size and the same SQL text: a bare `pg.Pool` (the floor),
 * plain knex, and split-knex configured with that replica only (so every read is routed
 * there), each in its own process (as in an application; sharing one process makes knex's
 * compiler polymorphic and penalises whichever contender the JIT met second). Rounds
 * interleave the contenders in rotating order; ratios are the median of per-round ratios,
 * so slow phases of a busy machine hit every contender alike.
 *
 * @example
 * const { rows } = await benchOverhead(cluster, { rounds: 6, sliceMs: 800, warmupMs: 500, poolSize: 16, log: console.log });
 */
export async function benchOverhead(cluster: Cluster, options: OverheadOptions): Promise<{ rows: OverheadRow[]; routedToReplica: number }> {
  await cluster.query('primary', `drop table if exists bench_items;
    create table bench_items (id int primary key, grp int not null, payload text not null);
    insert into bench_items select g, g % 100, md5(g::text) from generate_series(1, ${ROWS}) g;
    analyze bench_items`);
  await cluster.waitForReplication(60_000);
  const replica = cluster.replicas[0]!;
  const base = { primaryUrl: cluster.primary.url, replicaUrl: replica.url, replicaName: replica.name, poolSize: options.poolSize };
  const workers = {} as Record<OverheadContender, WorkerHandle>;
  try {
    for (const c of OVERHEAD_CONTENDERS) workers[c] = await spawnWorker({ ...base, contender: c });
    // The comparison is only fair if every contender sends the very same statement.
    const sql = await Promise.all(OVERHEAD_CONTENDERS.map((c) => workers[c].call<string[]>({ cmd: 'sql' })));
    if (new Set(sql.map((s) => s.join('|'))).size !== 1) throw new Error(`contenders send different SQL: ${JSON.stringify(sql)}`);
    const rows: OverheadRow[] = [];
    for (const query of ['point', 'range10'] as const) {
      for (const concurrency of [1, 16]) rows.push(await scenario(workers, query, concurrency, options));
    }
    const routedToReplica = await workers['split-knex'].call<number>({ cmd: 'routed' });
    return { rows, routedToReplica };
  } finally {
    await Promise.all(Object.values(workers).map((w) => w.close()));
  }
}

async function scenario(workers: Record<OverheadContender, WorkerHandle>, query: OverheadQuery, concurrency: number, options: OverheadOptions): Promise<OverheadRow> {
  for (const c of OVERHEAD_CONTENDERS) await workers[c].call({ cmd: 'slice', query, concurrency, durationMs: options.warmupMs, record: false });
  const slices: Record<OverheadContender, WorkerSlice[]> = { 'pg.Pool': [], knex: [], 'split-knex': [] };
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order each round: no contender always runs first (or right after another).
    const order = OVERHEAD_CONTENDERS.map((_, i) => OVERHEAD_CONTENDERS[(i + round) % OVERHEAD_CONTENDERS.length]!);
    for (const c of order) slices[c].push(await workers[c].call<WorkerSlice>({ cmd: 'slice', query, concurrency, durationMs: options.sliceMs }));
  }
  const results = {} as OverheadRow['results'];
  for (const c of OVERHEAD_CONTENDERS) {
    const s = slices[c];
    const entry: OverheadFigures = {
      throughput: median(s.map((x) => x.throughput)),
      latency: summarize(s.flatMap((x) => x.latencies)),
      cpuUsPerOp: median(s.map((x) => x.cpuUsPerOp)),
      ops: s.reduce((n, x) => n + x.ops, 0),
      errors: s.reduce((n, x) => n + x.errors, 0),
    };
    const firstError = s.find((x) => x.firstError !== undefined)?.firstError;
    if (firstError !== undefined) entry.firstError = firstError;
    results[c] = entry;
  }
  const ratio = (a: OverheadContender, b: OverheadContender) => median(slices[a].map((x, i) => x.throughput / slices[b][i]!.throughput));
  const roundRatios = slices['split-knex'].map((x, i) => x.throughput / slices.knex[i]!.throughput);
  const row: OverheadRow = {
    query, concurrency, results, splitVsKnex: ratio('split-knex', 'knex'), roundRatios, splitVsPg: ratio('split-knex', 'pg.Pool'), knexVsPg: ratio('knex', 'pg.Pool'),
  };
  options.log(`overhead ${query} c=${concurrency}: pg ${results['pg.Pool'].throughput.toFixed(0)}/s, knex ${results.knex.throughput.toFixed(0)}/s, split-knex ${results['split-knex'].throughput.toFixed(0)}/s, ` +
    `split/knex ${row.splitVsKnex.toFixed(3)} [${roundRatios.map((r) => r.toFixed(3)).join(' ')}], CPU µs/op pg ${results['pg.Pool'].cpuUsPerOp.toFixed(0)} knex ${results.knex.cpuUsPerOp.toFixed(0)} split ${results['split-knex'].cpuUsPerOp.toFixed(0)}`);
  return row;
}
