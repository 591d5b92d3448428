// Benchmark of the result cache: a cached hot read against the replica round trip it
// replaces (the ratio), and what the cache adds to a miss (lookup, key, copy, store),
// for a 1-row and a 100-row read. Modes run in interleaved rounds and the median round is
// kept, so a noisy neighbour on the machine hits every mode alike. Also, in process: what
// handing out an independent copy of a result costs against freezing it.
//
// Run it: npx tsx bench/cache-bench.ts (starts its own cluster and destroys it).
import { performance } from 'perf_hooks';
import * as v8 from 'v8';
import type { CacheStats, SplitKnex } from '../lib';
import { internal, splitKnex } from './library';

// From the build under test, as the instance is (see bench/library.ts).
const { describeBuilder } = internal<typeof DescribeBuilder>('knex/describe-builder');
const { pipelineOf } = internal<typeof Marks>('knex/split-client-marks');
const { builderSource } = internal<typeof BuilderSource>('knex/builder-source');
import { copyResult } from '../lib/cache/copy-result';
import type * as DescribeBuilder from '../lib/knex/describe-builder';
import type { BuilderInternals, CompiledQuery, KnexClient } from '../lib/knex/knex-internals';
import type * as Marks from '../lib/knex/split-client-marks';
import type * as BuilderSource from '../lib/knex/builder-source';
import type { Cluster } from '../test/support/cluster';
import { splitConfigFor } from '../test/support/split-db';
import { runStandalone } from './run-standalone';

/** One read shape: microseconds per read in each mode (median round). */
export interface CacheBenchLine {
  what: string;
  /** Cache off: routed to a replica, one round trip. */
  replicaUs: number;
  /** `.cache()`, answered from memory. */
  hitUs: number;
  /** `.cache()` on a key never seen: the replica round trip plus lookup, key, copy and store. */
  missUs: number;
  /** replicaUs / hitUs. */
  hitSpeedup: number;
  /** missUs - replicaUs (through the database: noisy, see {@link CacheBenchLine.missInProcessUs}). */
  missOverheadUs: number;
  /** The miss path alone, in process: the hook's lookup (verdict, tags, key, store get) plus the store (copy, set). */
  missInProcessUs: number;
}

/** What {@link benchCache} returns. */
export interface CacheBench {
  lines: CacheBenchLine[];
  /** Handing out a 100-row result, in process, microseconds per call. */
  copyUs: { copyResult: number; structuredClone: number; v8RoundTrip: number; deepFreezeOnce: number };
}

const ROUNDS = 7;
const PER_ROUND = 60;

/**
 * Measures against `cluster` (from `startCluster()` / `getTestCluster()`): hot hits vs
 * replica round trips vs misses, for a point read and a 100-row range read.
 *
 * @example
 * const result = await benchCache(await startCluster({ replicas: 2 }));
 * console.log(formatCacheBench(result));
 */
export async function benchCache(cluster: Cluster): Promise<CacheBench> {
  const make = (cache: boolean): SplitKnex => splitKnex(splitConfigFor(cluster, {
    pool: { min: 1, max: 2 },
    ...(cache ? { cache: { max: 10_000, ttlMs: 600_000 } } : {}),
  }));
  await cluster.query('primary', `drop table if exists ca_bench; create table ca_bench (id int primary key, name text, email text, score int, created_at timestamptz);
    insert into ca_bench select g, 'user ' || g, 'user' || g || '@example.com', g % 97, '2024-01-01'::timestamptz + g * interval '1 minute' from generate_series(1, 2000) g`);
  await cluster.waitForReplication();
  const plain = make(false);
  const cached = make(true);
  try {
    // Background work (the cache's relation catalog) starts with the first statement or ready().
    await Promise.all([plain.ready(), cached.ready()]);
    const end = Date.now() + 15_000;
    while (!(cached.stats().cache as CacheStats).catalog.ready) {
      if (Date.now() > end) throw new Error('cache catalog not loaded');
      await new Promise((r) => setTimeout(r, 10));
    }
    let fresh = 0; // ids never read before: every `.cache()` read of them is a miss
    const shapes = [
      {
        what: 'point read, 1 row (where id = ?, first)',
        run: (db: SplitKnex, id: number, cache: boolean) => (cache ? db('ca_bench').where({ id }).first().cache() : db('ca_bench').where({ id }).first()),
      },
      {
        what: 'range read, 100 rows (id between ? and ? + 99)',
        run: (db: SplitKnex, id: number, cache: boolean) => {
          const q = db('ca_bench').whereBetween('id', [id, id + 99]).orderBy('id');
          return cache ? q.cache() : q;
        },
      },
    ];
    const lines: CacheBenchLine[] = [];
    for (const shape of shapes) {
      const hotId = 1500;
      for (let i = 0; i < 20; i++) {
        await shape.run(cached, hotId, true);
        await shape.run(plain, 1 + i, false);
      }
      const rounds = { replica: [] as number[], hit: [] as number[], miss: [] as number[] };
      for (let r = 0; r < ROUNDS; r++) {
        rounds.replica.push(await timeEach(() => shape.run(plain, 1 + ((fresh + r) % 1000), false)));
        rounds.hit.push(await timeEach(() => shape.run(cached, hotId, true)));
        rounds.miss.push(await timeEach(() => shape.run(cached, 1 + (fresh++ % 1400), true)));
      }
      const replicaUs = median(rounds.replica);
      const hitUs = median(rounds.hit);
      const missUs = median(rounds.miss);
      const result = await shape.run(plain, 1, false);
      const missInProcessUs = await missPathUs((id) => shape.run(cached, id, true) as unknown as BuilderInternals, cached, result, 100_000 + lines.length * 100_000);
      lines.push({ what: shape.what, replicaUs, hitUs, missUs, hitSpeedup: replicaUs / hitUs, missOverheadUs: missUs - replicaUs, missInProcessUs });
    }
    const stats = cached.stats().cache as CacheStats;
    if (stats.hits < ROUNDS * PER_ROUND * 2) throw new Error(`expected every hot read to hit; stats: ${JSON.stringify(stats)}`);
    return { lines, copyUs: copyCosts() };
  } finally {
    await Promise.all([plain.destroy(), cached.destroy()]);
  }
}

// The hook's work for a miss, without I/O: compile and route as the runner does, then lookup
// and store (ids above the table's, so every key is new). Compile and route are timed apart and subtracted.
async function missPathUs(build: (id: number) => BuilderInternals, db: SplitKnex, result: unknown, firstId: number): Promise<number> {
  const pipeline = pipelineOf(db.client as KnexClient)!;
  const n = 2000;
  // Reads right after this instance's writes go to the primary (their position is being
  // read), and the primary's results are never cached: wait until a read routes to a replica.
  const probe = build(firstId - 1);
  const probeStatement = describeBuilder(probe, probe.toSQL() as CompiledQuery);
  for (let k = 0; k < 400; k++) {
    const d = await pipeline.router.route(probeStatement);
    if (d.node.role === 'replica') break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const prepared = Array.from({ length: n }, (_, i) => {
    const builder = build(firstId + i);
    const compiled = builder.toSQL() as CompiledQuery;
    const statement = describeBuilder(builder, compiled);
    const decision = pipeline.router.route(statement);
    if (decision instanceof Promise) throw new Error('the bench expects synchronous routing');
    return { builder, compiled, statement, decision };
  });
  const start = performance.now();
  for (const p of prepared) {
    const ticket = await pipeline.lookup({ statement: p.statement, decision: p.decision, source: builderSource(p.builder, p.compiled) });
    if (ticket === undefined || ticket.hit) throw new Error('expected a cacheable miss');
    ticket.store(result, p.decision.node);
  }
  return ((performance.now() - start) * 1000) / n;
}

// Mean microseconds per call over PER_ROUND sequential calls.
async function timeEach(fn: () => PromiseLike<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < PER_ROUND; i++) await fn();
  return ((performance.now() - start) * 1000) / PER_ROUND;
}

function copyCosts(): CacheBench['copyUs'] {
  const rows = Array.from({ length: 100 }, (_, i) => ({
    id: i, name: `user ${i}`, email: `user${i}@example.com`, score: i % 97, created_at: new Date(1_700_000_000_000 + i * 60_000),
  }));
  const per = (fn: () => unknown, n = 2000): number => {
    for (let i = 0; i < 200; i++) fn();
    const start = performance.now();
    for (let i = 0; i < n; i++) fn();
    return ((performance.now() - start) * 1000) / n;
  };
  return {
    copyResult: per(() => copyResult(rows)),
    structuredClone: per(() => structuredClone(rows)),
    v8RoundTrip: per(() => v8.deserialize(v8.serialize(rows))),
    // Freezing costs once per stored result, then nothing per hit; but callers can no longer change what they get.
    deepFreezeOnce: per(() => deepFreeze(copyResult(rows).value)) - per(() => copyResult(rows)),
  };
}

function deepFreeze(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The results as printable lines. */
export function formatCacheBench(b: CacheBench): string {
  const rows = b.lines.map((l) => `  ${l.what.padEnd(48)} replica ${l.replicaUs.toFixed(0).padStart(5)} µs  hit ${l.hitUs.toFixed(1).padStart(6)} µs`
    + ` (${l.hitSpeedup.toFixed(1)}x faster)  miss ${l.missUs.toFixed(0).padStart(5)} µs (end to end ${l.missOverheadUs >= 0 ? '+' : ''}${l.missOverheadUs.toFixed(0)} µs;`
    + ` in process ${l.missInProcessUs.toFixed(1)} µs = ${((l.missInProcessUs / l.replicaUs) * 100).toFixed(1)}% of the round trip)`);
  const c = b.copyUs;
  return ['cache bench (median of interleaved rounds, µs per read):', ...rows,
    `  handing out a 100-row result: copyResult ${c.copyResult.toFixed(1)} µs, structuredClone ${c.structuredClone.toFixed(1)} µs, `
    + `v8 serialize+deserialize ${c.v8RoundTrip.toFixed(1)} µs; deep-freezing once instead: ${c.deepFreezeOnce.toFixed(1)} µs per store, 0 per hit`].join('\n');
}

if (require.main === module) runStandalone(benchCache, formatCacheBench);
