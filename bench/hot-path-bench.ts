import type { Cluster } from '../test/support/cluster';
import type { HotPathStep } from './hot-path-steps';
import { median } from './latency-summary';
import { spawnWorker, type WorkerHandle, type WorkerInit } from './worker-handle';

export type { HotPathStep } from './hot-path-steps';

/** Untimed rounds per process before the timed ones. */
const WARMUP_ROUNDS = 3;

/** What the hot-path section found. */
export interface HotPathResult {
  /** CPU per point SELECT with the pools' driver stubbed out (no I/O), µs: the JavaScript cost alone. */
  knexUs: number;
  /** split-knex with one replica. */
  splitUs: number;
  /** split-knex − knex, µs per statement. */
  addedUs: number;
  /** split-knex with two replicas, and with two where the second has weight 0 (the router's cost of a second replica). */
  splitTwoUs?: number;
  splitTwoWeight0Us?: number;
  /** Each piece of the path, timed alone (knex's first, then split-knex's). */
  steps: HotPathStep[];
}

/**
 * Section 1b: where split-knex's per-statement CPU goes. A knex process and split-knex
 * processes (one replica, two replicas, two with the second at weight 0) each run
 * sequential point SELECTs with their pools' driver connections stubbed (no network, no
 * server), alternating in rounds, so the difference is our code alone, whatever the
 * machine's cores are doing for the servers; then each step of the path is timed by itself.
 *
 * @example
 * const r = await benchHotPath(cluster, { rounds: 7, iterations: 3000 });
 * r.addedUs // µs of CPU split-knex adds per statement
 */
export async function benchHotPath(cluster: Cluster, options: { rounds: number; iterations: number }): Promise<HotPathResult> {
  // Real URLs: split-knex's health probes and position polls use their own connections and
  // must find live servers; only the pools' connections are stubs.
  const [r1, r2] = [cluster.replicas[0]!, cluster.replicas[1]];
  const split = (replicas: WorkerInit['replicas']): WorkerInit => ({ contender: 'split-knex', url: cluster.primary.url, replicas, poolSize: 1, stub: true });
  const inits: Record<string, WorkerInit> = {
    knex: { contender: 'knex', url: r1.url, poolSize: 1, stub: true },
    split: split([{ name: r1.name, url: r1.url }]),
  };
  if (r2 !== undefined) {
    inits['splitTwo'] = split([{ name: r1.name, url: r1.url }, { name: r2.name, url: r2.url }]);
    inits['splitTwoWeight0'] = split([{ name: r1.name, url: r1.url }, { name: r2.name, url: r2.url, weight: 0 }]);
  }
  const names = Object.keys(inits);
  const workers = new Map<string, WorkerHandle>();
  try {
    for (const n of names) workers.set(n, await spawnWorker(inits[n]!));
    const runs = new Map<string, number[]>(names.map((n) => [n, []]));
    // Warm-up until the JIT has settled: one round of a few thousand statements left
    // split-knex's figure at two to three times its steady state (the larger body of code
    // takes longer to optimize), which read as per-statement cost.
    for (let w = 0; w < WARMUP_ROUNDS; w++) for (const n of names) await workers.get(n)!.call({ cmd: 'loop', iterations: options.iterations });
    for (let r = 0; r < options.rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const n of order) runs.get(n)!.push(await workers.get(n)!.call<number>({ cmd: 'loop', iterations: options.iterations }));
    }
    const us = (n: string) => median(runs.get(n) ?? []);
    const steps: HotPathStep[] = [];
    for (const n of ['knex', 'split']) steps.push(...await workers.get(n)!.call<HotPathStep[]>({ cmd: 'steps' }));
    const result: HotPathResult = { knexUs: us('knex'), splitUs: us('split'), addedUs: us('split') - us('knex'), steps };
    if (workers.has('splitTwo')) {
      result.splitTwoUs = us('splitTwo');
      result.splitTwoWeight0Us = us('splitTwoWeight0');
    }
    return result;
  } finally {
    await Promise.all([...workers.values()].map((w) => w.close()));
  }
}
