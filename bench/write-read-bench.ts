import type { Cluster } from '../test/support/cluster';
import { median, summarize, type LatencySummary } from './latency-summary';
import type { SliceResult } from './measure-throughput';
import { spawnWorker, type WorkerHandle, type WorkerInit } from './worker-handle';

/** Bounds of the write-then-read section. */
export interface WriteReadOptions {
  rounds: number;
  sliceMs: number;
  warmupMs: number;
  poolSize: number;
  log: (msg: string) => void;
}

/** One contender's figures at one concurrency. */
export interface WriteReadFigures {
  /** Median over rounds, write-then-read pairs per second. */
  throughput: number;
  /** Median of per-round ratios to plain knex with everything on the primary. */
  vsPrimary: number;
  roundRatios: number[];
  latency: LatencySummary;
  cpuUsPerOp: number;
  pairs: number;
  /** Reads that did not return the row just inserted. */
  stale: number;
  errors: number;
  firstError?: string;
}

/** One concurrency's figures, per contender label. */
export interface WriteReadRow {
  concurrency: number;
  results: Record<string, WriteReadFigures>;
}

/** What the section returns. */
export interface WriteReadResult {
  rows: WriteReadRow[];
  contenders: string[];
  baseline: string;
  /** Per split-knex contender: share of its statements each node served, by its own stats(). */
  routed: Record<string, Record<string, number>>;
}

type WorkerSlice = SliceResult & { cpuUsPerOp: number; stale: number };
export const WRITE_READ_BASELINE = 'knex → primary';

/**
 * Section 2: read-your-writes cost. Each operation inserts a row and at once selects it by
 * id, at concurrency 1 and 16, through plain knex with everything on the primary and through
 * split-knex (primary + every replica) in each sticky mode: `lsn` (the default), `window`
 * and `none`. One process per contender, rounds in rotating order, ratios to knex → primary
 * as the median of per-round ratios; every read that misses the row just written is counted.
 *
 * @example
 * const r = await benchWriteRead(cluster, { rounds: 4, sliceMs: 800, warmupMs: 300, poolSize: 16, log: console.log });
 */
export async function benchWriteRead(cluster: Cluster, options: WriteReadOptions): Promise<WriteReadResult> {
  await cluster.query('primary', 'drop table if exists bench_wtr; create table bench_wtr (id bigserial primary key, v int not null)');
  await cluster.waitForReplication(60_000);
  const replicas = cluster.replicas.map((r) => ({ name: r.name, url: r.url }));
  const split = (sticky: Record<string, unknown> | undefined): WorkerInit => ({
    contender: 'split-knex', url: cluster.primary.url, replicas, poolSize: options.poolSize, ...(sticky === undefined ? {} : { config: { sticky } }),
  });
  const contenders: Array<[string, WorkerInit]> = [
    [WRITE_READ_BASELINE, { contender: 'knex', url: cluster.primary.url, poolSize: options.poolSize }],
    ['split-knex, sticky lsn (default)', split(undefined)],
    ['split-knex, sticky window', split({ mode: 'window' })],
    ['split-knex, sticky none', split({ mode: 'none' })],
  ];
  const names = contenders.map(([n]) => n);
  const workers = new Map<string, WorkerHandle>();
  try {
    for (const [name, init] of contenders) workers.set(name, await spawnWorker(init));
    const rows: WriteReadRow[] = [];
    for (const concurrency of [1, 16]) {
      for (const n of names) await workers.get(n)!.call({ cmd: 'slice', query: 'write-read', concurrency, durationMs: options.warmupMs, record: false });
      const slices = new Map<string, WorkerSlice[]>(names.map((n) => [n, []]));
      for (let round = 0; round < options.rounds; round++) {
        const order = names.map((_, i) => names[(i + round) % names.length]!);
        for (const n of order) slices.get(n)!.push(await workers.get(n)!.call<WorkerSlice>({ cmd: 'slice', query: 'write-read', concurrency, durationMs: options.sliceMs }));
      }
      const results: Record<string, WriteReadFigures> = {};
      for (const n of names) {
        const s = slices.get(n)!;
        const roundRatios = s.map((x, i) => x.throughput / slices.get(WRITE_READ_BASELINE)![i]!.throughput);
        const f: WriteReadFigures = {
          throughput: median(s.map((x) => x.throughput)),
          vsPrimary: median(roundRatios),
          roundRatios,
          latency: summarize(s.flatMap((x) => x.latencies)),
          cpuUsPerOp: median(s.map((x) => x.cpuUsPerOp)),
          pairs: s.reduce((a, x) => a + x.ops, 0),
          stale: s.reduce((a, x) => a + x.stale, 0),
          errors: s.reduce((a, x) => a + x.errors, 0),
        };
        const firstError = s.find((x) => x.firstError !== undefined)?.firstError;
        if (firstError !== undefined) f.firstError = firstError;
        results[n] = f;
      }
      rows.push({ concurrency, results });
      options.log(`write-then-read c=${concurrency}: ${names.map((n) => `${n} ${results[n]!.throughput.toFixed(0)}/s ×${results[n]!.vsPrimary.toFixed(2)} stale ${results[n]!.stale}/${results[n]!.pairs}`).join(', ')}`);
    }
    const routed: WriteReadResult['routed'] = {};
    for (const [n, init] of contenders) if (init.contender === 'split-knex') routed[n] = await workers.get(n)!.call<Record<string, number>>({ cmd: 'routed' });
    return { rows, contenders: names, baseline: WRITE_READ_BASELINE, routed };
  } finally {
    await Promise.all([...workers.values()].map((w) => w.close()));
  }
}
