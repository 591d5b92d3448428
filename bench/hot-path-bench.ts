import type { Cluster } from '../test/support/cluster';
import type { HotPathStep } from './hot-path-steps';
import { median } from './latency-summary';
import { spawnWorker } from './worker-handle';

export type { HotPathStep } from './hot-path-steps';

/** What the hot-path section found. */
export interface HotPathResult {
  /** CPU per point SELECT with the pools' driver stubbed out (no I/O), µs: the JavaScript cost alone. */
  knexUs: number;
  splitUs: number;
  /** split-knex − knex, µs per statement. */
  addedUs: number;
  /** Each piece of the path, timed alone (knex's first, then split-knex's). */
  steps: HotPathStep[];
}

/**
 * Section 1b: where split-knex's per-statement CPU goes. A knex process and a split-knex
 * process each run sequential point SELECTs with their pools' driver connections stubbed
 * (no network, no server), alternating in rounds, so the difference is our code alone;
 * then each step of the path is timed by itself in the same processes.
 *
 * @example
 * const r = await benchHotPath(cluster, { rounds: 7, iterations: 3000 });
 * r.addedUs // µs of CPU split-knex adds per statement
 */
export async function benchHotPath(cluster: Cluster, options: { rounds: number; iterations: number }): Promise<HotPathResult> {
  // Real URLs: split-knex's health probes and position polls use their own connections and
  // must find live servers; only the pools' connections are stubs.
  const replica = cluster.replicas[0]!;
  const knexW = await spawnWorker({ contender: 'knex', url: replica.url, poolSize: 1, stub: true });
  const splitW = await spawnWorker({ contender: 'split-knex', url: cluster.primary.url, replicas: [{ name: replica.name, url: replica.url }], poolSize: 1, stub: true });
  const workers = { knex: knexW, split: splitW };
  try {
    const runs = { knex: [] as number[], split: [] as number[] };
    const names = ['knex', 'split'] as const;
    for (const who of names) await workers[who].call({ cmd: 'loop', iterations: options.iterations });
    for (let r = 0; r < options.rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const who of order) runs[who].push(await workers[who].call<number>({ cmd: 'loop', iterations: options.iterations }));
    }
    const knexUs = median(runs.knex);
    const splitUs = median(runs.split);
    const steps: HotPathStep[] = [];
    for (const who of names) steps.push(...await workers[who].call<HotPathStep[]>({ cmd: 'steps' }));
    return { knexUs, splitUs, addedUs: splitUs - knexUs, steps };
  } finally {
    await Promise.all(Object.values(workers).map((w) => w.close()));
  }
}
