import type { Cluster } from '../test/support/cluster';
import { median, summarize, type LatencySummary } from './latency-summary';
import type { SliceResult } from './measure-throughput';
import { spawnWorker, type WorkerHandle, type WorkerInit } from './worker-handle';

/** The statements of the overhead section. */
export type OverheadQuery = 'point' | 'range10';

/** One contender of the overhead section: an id for the tables, a label, how its worker builds it. */
export interface OverheadContender {
  id: string;
  label: string;
  init: WorkerInit;
}

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
  /** Median of per-round ratios to plain knex on the same replica, and to plain knex on the primary. */
  vsKnex: number;
  vsPrimary: number;
  /** Every round's ratio to knex on the same replica, to show the spread. */
  roundRatios: number[];
}

/** One scenario's figures, per contender (keyed by contender id). */
export interface OverheadRow {
  query: OverheadQuery;
  concurrency: number;
  results: Record<string, OverheadFigures>;
  /** split-knex with one replica / plain knex on that replica (the 3% target). */
  splitVsKnex: number;
}

/** Bounds of the overhead section. */
export interface OverheadOptions {
  rounds: number;
  sliceMs: number;
  warmupMs: number;
  poolSize: number;
  log: (msg: string) => void;
}

/** What the overhead section returns: rows, its contenders, and where split-knex routed. */
export interface OverheadResult {
  rows: OverheadRow[];
  contenders: Array<Omit<OverheadContender, 'init'>>;
  /** Per split-knex contender: share of its statements each node served, by its own stats(). */
  routed: Record<string, Record<string, number>>;
}

type WorkerSlice = SliceResult & { cpuUsPerOp: number };
const ROWS = 10_000;
/** Ids the ratios are taken against. */
export const KNEX_REPLICA = 'knex';
export const KNEX_PRIMARY = 'knex-primary';
export const SPLIT_ONE = 'split-1';

/**
 * The contenders, all sending the same SQL: a bare pg.Pool and plain knex on replica1, plain
 * knex on the primary, and split-knex with replica1 only, with both replicas, and with both
 * where replica2 has weight 0 (so every read still lands on replica1: the router carries
 * two replicas, the servers do not). That last one separates the router's cost of a second
 * replica from the machine's (two replicas' backends sharing its cores).
 *
 * @example
 * const list = overheadContenders(cluster, 16);
 */
export function overheadContenders(cluster: Cluster, poolSize: number): OverheadContender[] {
  const [r1, r2] = [cluster.replicas[0]!, cluster.replicas[1]];
  const one = [{ name: r1.name, url: r1.url }];
  const list: OverheadContender[] = [
    { id: 'pg.Pool', label: `pg.Pool → ${r1.name}`, init: { contender: 'pg.Pool', url: r1.url, poolSize } },
    { id: KNEX_REPLICA, label: `knex → ${r1.name}`, init: { contender: 'knex', url: r1.url, poolSize } },
    { id: KNEX_PRIMARY, label: 'knex → primary', init: { contender: 'knex', url: cluster.primary.url, poolSize } },
    { id: SPLIT_ONE, label: `split-knex, 1 replica (${r1.name})`, init: { contender: 'split-knex', url: cluster.primary.url, replicas: one, poolSize } },
  ];
  if (r2 !== undefined) {
    list.push(
      { id: 'split-2', label: 'split-knex, 2 replicas', init: { contender: 'split-knex', url: cluster.primary.url, replicas: [...one, { name: r2.name, url: r2.url }], poolSize } },
      { id: 'split-2w0', label: `split-knex, 2 replicas, ${r2.name} weight 0`, init: { contender: 'split-knex', url: cluster.primary.url, replicas: [...one, { name: r2.name, url: r2.url, weight: 0 }], poolSize } },
    );
  }
  return list;
}

/**
 * Section 1: the cost split-knex adds to a read. Every contender of overheadContenders()
 * runs in its own process (as in an application; sharing one process makes knex's
 * compiler polymorphic and penalises whichever contender the JIT met second) with the same
 * pool size and SQL text. Rounds interleave the contenders in rotating order; ratios are
 * the median of per-round ratios, so slow phases of a busy machine hit every contender alike.
 *
 * @example
 * const { rows } = await benchOverhead(cluster, { rounds: 5, sliceMs: 700, warmupMs: 400, poolSize: 16, log: console.log });
 */
export async function benchOverhead(cluster: Cluster, options: OverheadOptions): Promise<OverheadResult> {
  await cluster.query('primary', `drop table if exists bench_items;
    create table bench_items (id int primary key, grp int not null, payload text not null);
    insert into bench_items select g, g % 100, md5(g::text) from generate_series(1, ${ROWS}) g;
    analyze bench_items`);
  await cluster.waitForReplication(60_000);
  const contenders = overheadContenders(cluster, options.poolSize);
  const workers = new Map<string, WorkerHandle>();
  try {
    for (const c of contenders) workers.set(c.id, await spawnWorker(c.init));
    // The comparison is only fair if every contender sends the very same statement.
    const sql = await Promise.all(contenders.map((c) => workers.get(c.id)!.call<string[]>({ cmd: 'sql' })));
    if (new Set(sql.map((s) => s.join('|'))).size !== 1) throw new Error(`contenders send different SQL: ${JSON.stringify(sql)}`);
    const rows: OverheadRow[] = [];
    // Fresh processes compile knex, pg and split-knex on the way: the first scenario gets a
    // longer warm-up so JIT tiers are not part of its first rounds.
    for (const c of contenders) await workers.get(c.id)!.call({ cmd: 'slice', query: 'point', concurrency: 4, durationMs: Math.max(options.warmupMs, 1000), record: false });
    for (const query of ['point', 'range10'] as const) {
      for (const concurrency of [1, 16]) rows.push(await scenario(contenders, workers, query, concurrency, options));
    }
    const routed: OverheadResult['routed'] = {};
    for (const c of contenders.filter((x) => x.init.contender === 'split-knex')) routed[c.id] = await workers.get(c.id)!.call<Record<string, number>>({ cmd: 'routed' });
    return { rows, contenders: contenders.map(({ id, label }) => ({ id, label })), routed };
  } finally {
    await Promise.all([...workers.values()].map((w) => w.close()));
  }
}

async function scenario(contenders: OverheadContender[], workers: Map<string, WorkerHandle>, query: OverheadQuery, concurrency: number, options: OverheadOptions): Promise<OverheadRow> {
  const ids = contenders.map((c) => c.id);
  for (const id of ids) await workers.get(id)!.call({ cmd: 'slice', query, concurrency, durationMs: options.warmupMs, record: false });
  const slices = new Map<string, WorkerSlice[]>(ids.map((id) => [id, []]));
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order each round: no contender always runs first (or right after another).
    const order = ids.map((_, i) => ids[(i + round) % ids.length]!);
    for (const id of order) slices.get(id)!.push(await workers.get(id)!.call<WorkerSlice>({ cmd: 'slice', query, concurrency, durationMs: options.sliceMs }));
  }
  const perRound = (a: string, b: string) => slices.get(a)!.map((x, i) => x.throughput / slices.get(b)![i]!.throughput);
  const results: Record<string, OverheadFigures> = {};
  for (const id of ids) {
    const s = slices.get(id)!;
    const roundRatios = perRound(id, KNEX_REPLICA);
    const entry: OverheadFigures = {
      throughput: median(s.map((x) => x.throughput)),
      latency: summarize(s.flatMap((x) => x.latencies)),
      cpuUsPerOp: median(s.map((x) => x.cpuUsPerOp)),
      ops: s.reduce((n, x) => n + x.ops, 0),
      errors: s.reduce((n, x) => n + x.errors, 0),
      vsKnex: median(roundRatios),
      vsPrimary: median(perRound(id, KNEX_PRIMARY)),
      roundRatios,
    };
    const firstError = s.find((x) => x.firstError !== undefined)?.firstError;
    if (firstError !== undefined) entry.firstError = firstError;
    results[id] = entry;
  }
  const row: OverheadRow = { query, concurrency, results, splitVsKnex: results[SPLIT_ONE]!.vsKnex };
  options.log(`overhead ${query} c=${concurrency}: ${ids.map((id) => `${id} ${results[id]!.throughput.toFixed(0)}/s (×${results[id]!.vsKnex.toFixed(3)} knex, ×${results[id]!.vsPrimary.toFixed(3)} primary, ${results[id]!.cpuUsPerOp.toFixed(0)} µs CPU)`).join(', ')}`);
  return row;
}
