// Benchmark of the consistency subsystem: what LSN tracking costs per write and what the
// causal check costs per read, as ratios against plain routing (sticky mode 'none') on
// the same cluster in the same run. Modes are measured in interleaved rounds and the
// median round is kept, so a noisy neighbour on the machine hits every mode alike.
//
// Run it: npx tsx bench/consistency-bench.ts (starts its own cluster and destroys it).
import { performance } from 'perf_hooks';
import type { SplitKnex, StickyMode } from '../lib';
import { internal, splitKnex } from './library';

const { pipelineOf } = internal<typeof Marks>('knex/split-client-marks');
import type * as Marks from '../lib/knex/split-client-marks';
import type { KnexClient } from '../lib/knex/knex-internals';
import type { Statement } from '../lib/route/statement';
import type { Cluster } from '../test/support/cluster';
import { splitConfigFor } from '../test/support/split-db';
import { runStandalone } from './run-standalone';

/** One measured operation: per-op median time of each mode, and the ratio to plain routing. */
export interface BenchLine {
  what: string;
  plainUs: number;
  trackedUs: number;
  /** trackedUs / plainUs. */
  ratio: number;
}

/** What {@link benchConsistency} returns. */
export interface ConsistencyBench {
  /** End to end through the database, microseconds per operation. */
  lines: BenchLine[];
  /** The routing decision alone (`router.route()`, no I/O), nanoseconds per read. */
  routeLines: BenchLine[];
  /** `stats().consistency.lsnCaptureMs / lsnCaptures` of the LSN instance: the capture query alone. */
  captureUs: number;
}

type Op = 'write' | 'read' | 'pair';
type Mode = 'none' | 'lsn' | 'window';

const WRITES = 800;
const READS = 1500;
const PAIRS = 500;
const ROUTES = 400_000;

/**
 * Measures, against `cluster` (from `startCluster()` / `getTestCluster()`):
 * - a single-row INSERT: plain vs LSN mode (one `pg_current_wal_insert_lsn()` per write) vs window mode;
 * - a point SELECT in a scope whose write every replica has replayed: plain vs LSN (the check answers from the cache);
 * - a write-then-read pair: plain vs LSN (the read asks the replica for its position on demand);
 * - the routing decision alone, in process: plain vs a cached causal check vs a sticky window.
 *
 * @example
 * const result = await benchConsistency(await startCluster({ replicas: 2 }));
 * console.log(formatConsistencyBench(result));
 */
export async function benchConsistency(cluster: Cluster): Promise<ConsistencyBench> {
  const make = (mode: StickyMode): SplitKnex => splitKnex(splitConfigFor(cluster, { pool: { min: 1, max: 2 }, sticky: { mode, windowMs: 2000 } }));
  const dbs = { none: make('none'), lsn: make('lsn'), window: make('window') };
  try {
    await dbs.none.raw('drop table if exists cs_bench; create table cs_bench (id serial primary key, v int not null)');
    const [{ id }] = await dbs.none('cs_bench').insert({ v: 0 }).returning('id');
    await cluster.waitForReplication(30_000);
    // Warm every pool and the classifier memo.
    for (const db of Object.values(dbs)) for (let i = 0; i < 20; i++) await timeOne(db, 'read', id, i);

    // Operations alternate between the instances one by one and each mode keeps the median
    // of its per-operation times: load that comes and goes (a 2-core machine shared with
    // other clusters) hits every mode alike, and outliers do not move a median.
    const times: Record<string, number[]> = {};
    const phase = async (op: Op, modes: readonly Mode[], n: number) => {
      for (let i = 0; i < n; i++) {
        for (const mode of rotate(modes, i)) (times[`${op}:${mode}`] ??= []).push(await timeOne(dbs[mode], op, id, i));
      }
    };
    await phase('write', ['none', 'lsn', 'window'], WRITES);
    // Reads in LSN mode with a requirement every replica has already met: the cached path.
    await cluster.waitForReplication(30_000);
    await dbs.lsn.raw('select 1'); // lets the check refresh its cache once
    await phase('read', ['none', 'lsn'], READS);
    await phase('pair', ['none', 'lsn'], PAIRS);
    const line = (what: string, key: string, tracked: string): BenchLine => {
      const plainUs = median(times[`${key}:none`]!);
      const trackedUs = median(times[`${key}:${tracked}`]!);
      return { what, plainUs, trackedUs, ratio: trackedUs / plainUs };
    };
    const s = dbs.lsn.stats().consistency as { lsnCaptures: number; lsnCaptureMs: number };
    // The decision alone: the LSN instance's global scope holds a write every replica has
    // replayed (the cached path); the window instance's holds a fresh window.
    await dbs.lsn('cs_bench').insert({ v: 1 });
    await cluster.waitForReplication(30_000);
    await dbs.lsn('cs_bench').where({ id }).first();
    await dbs.window('cs_bench').insert({ v: 1 });
    const ns = await routeNs(dbs);
    const routeLine = (what: string, tracked: 'lsn' | 'window'): BenchLine => ({ what, plainUs: ns.none, trackedUs: ns[tracked], ratio: ns[tracked] / ns.none });
    return {
      routeLines: [
        routeLine('route() of a read, cached causal check vs plain', 'lsn'),
        routeLine('route() of a read, sticky window vs plain', 'window'),
      ],
      lines: [
        line('write (INSERT), LSN mode vs plain', 'write', 'lsn'),
        line('write (INSERT), window mode vs plain', 'write', 'window'),
        line('read after replicas caught up, LSN check vs plain', 'read', 'lsn'),
        line('write-then-read pair, LSN mode vs plain', 'pair', 'lsn'),
      ],
      captureUs: s.lsnCaptures === 0 ? 0 : (s.lsnCaptureMs * 1000) / s.lsnCaptures,
    };
  } finally {
    await dbs.none.raw('drop table if exists cs_bench').catch(() => undefined);
    await Promise.all(Object.values(dbs).map((db) => db.destroy()));
  }
}

// One operation; microseconds.
async function timeOne(db: SplitKnex, op: Op, id: number, i: number): Promise<number> {
  const began = performance.now();
  if (op !== 'read') await db('cs_bench').insert({ v: i });
  if (op !== 'write') await db('cs_bench').where({ id }).first();
  return (performance.now() - began) * 1000;
}

// Nanoseconds per routing decision of a point select (classifier memo warm): batches
// alternate between the instances, median batch per instance.
async function routeNs(dbs: Record<Mode, SplitKnex>): Promise<Record<Mode, number>> {
  const statement: Statement = { kind: 'query', method: 'first', sql: 'select * from "cs_bench" where "id" = ? limit ?', lock: undefined, hint: undefined, table: 'cs_bench' };
  const modes: Mode[] = ['none', 'lsn', 'window'];
  const samples: Record<Mode, number[]> = { none: [], lsn: [], window: [] };
  const batch = ROUTES / 20;
  for (let r = 0; r < 20; r++) {
    for (const mode of rotate(modes, r)) {
      const core = pipelineOf(dbs[mode].client as unknown as KnexClient)!;
      // A batch that met the asynchronous path (the last write's position still being read, or
      // a replica waiting for the WAL writer's next flush) is timed again once the decision
      // settled; a batch that never settles fails the bench.
      for (let attempt = 1; ; attempt++) {
        let settled = true;
        const began = performance.now();
        for (let i = 0; i < batch; i++) {
          const decision = core.router.route(statement);
          if (decision instanceof Promise) {
            settled = false;
            await decision.catch(() => undefined);
            break;
          }
        }
        if (settled) {
          samples[mode].push(((performance.now() - began) * 1e6) / batch);
          break;
        }
        if (attempt === 200) throw new Error('the bench expects the cached (synchronous) path');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }
  return { none: median(samples.none), lsn: median(samples.lsn), window: median(samples.window) };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The results as printable lines. */
export function formatConsistencyBench(b: ConsistencyBench): string {
  const rows = b.lines.map((l) => `  ${l.what.padEnd(52)} plain ${l.plainUs.toFixed(0).padStart(6)} µs  tracked ${l.trackedUs.toFixed(0).padStart(6)} µs  ratio ${l.ratio.toFixed(2)}`);
  const routes = b.routeLines.map((l) => `  ${l.what.padEnd(52)} plain ${l.plainUs.toFixed(0).padStart(6)} ns  tracked ${l.trackedUs.toFixed(0).padStart(6)} ns  ratio ${l.ratio.toFixed(2)}`);
  return [`consistency bench, through the database (median per operation, modes interleaved):`, ...rows,
    `  the pg_current_wal_insert_lsn() capture itself: ${b.captureUs.toFixed(0)} µs per write`,
    'routing decision alone, in process (no I/O):', ...routes].join('\n');
}

if (require.main === module) runStandalone(benchConsistency, formatConsistencyBench);
