import * as fs from 'fs';
import * as path from 'path';
import type { Cluster } from '../test/support/cluster';
import { findPgBinDir } from '../test/support/cluster/pg-binaries';
import { runCommand } from '../test/support/cluster/run-command';
import { makeTempRoot } from '../test/support/cluster/temp-root';
import type { CapDelta } from './cpu-caps';
import { median } from './latency-summary';
import type { MixOptions } from './mix-bench';

/** Bounds of the pgbench ceiling on the capped nodes: the capacity section's write share, observer and log. */
export interface CeilingOptions extends Pick<MixOptions, 'writeShare' | 'observe' | 'log'> {
  rounds: number;
  seconds: number;
  /** pgbench clients per node (each its own connection). */
  clientsPerNode: number;
  /** Rows of the mix table the statements pick from. */
  rows: number;
}

/** One way of spreading the mix, over every round. */
export interface CeilingRow {
  name: string;
  setup: string;
  /** Median over rounds, transactions per second summed over the nodes. */
  tps: number;
  /** Measured share of writes among those transactions (all rounds). */
  writeShare: number;
  /** Per-round tps. */
  rounds: number[];
  observed: CapDelta[];
}

/** What the ceiling measured: one node, and reads over every node. */
export interface PgbenchCeiling {
  version: string;
  clientsPerNode: number;
  rows: CeilingRow[];
  /** Median of per-round ratios, reads over every node to the primary alone. */
  ratio: number;
}

/** Weight of the update script on the primary when the replicas take reads too: about the one-node share overall. */
const SPREAD_PRIMARY_WRITE_SHARE = 0.4;

interface PgbenchRun {
  tps: number;
  reads: number;
  writes: number;
}

/**
 * The ceiling of the capped nodes, without any client library: pgbench (one thread per
 * node, `clientsPerNode` connections, the extended protocol as pg uses it for knex's
 * parameterized statements) runs the capacity section's statements on the same
 * table, first everything on the primary at the section's write share, then the updates and
 * some reads on the primary with read-only pgbench on each replica at once (the write share
 * overall lands near the one-node run's; it is measured and reported). Rounds alternate the
 * two. This is what the three nodes can serve; a library routing the same mix can only
 * approach it.
 *
 * @example
 * const c = await benchPgbenchCeiling(cluster, { rounds: 3, seconds: 3, clientsPerNode: 8, rows: 10_000, writeShare: 0.1, log });
 * c.ratio // 2.7: reads over three nodes against everything on the primary
 */
export async function benchPgbenchCeiling(cluster: Cluster, options: CeilingOptions): Promise<PgbenchCeiling> {
  const pgbench = path.join(findPgBinDir(), 'pgbench');
  // The harness's way to run a PostgreSQL binary: as `postgres` when root, without a shell's
  // PG* variables, bounded in time; in a directory that user can read.
  const dir = makeTempRoot();
  const run = (args: string[]) => runCommand(pgbench, args, { cwd: dir, timeoutMs: (options.seconds + 30) * 1000 });
  try {
    const version = (await run(['--version'])).trim();
    const read = path.join(dir, 'read.sql');
    const write = path.join(dir, 'write.sql');
    fs.writeFileSync(read, `\\set id random(1, ${options.rows})\nselect id, v from bench_mix where id = :id;\n`);
    fs.writeFileSync(write, `\\set id random(1, ${options.rows})\nupdate bench_mix set v = v + 1 where id = :id;\n`);
    const args = (url: string, writeShare: number) => {
      const w = Math.round(writeShare * 100);
      const scripts = w === 0 ? ['-f', `${read}@1`] : ['-f', `${read}@${100 - w}`, '-f', `${write}@${w}`];
      // Extended protocol, as knex's parameterized statements through pg (one unnamed statement each).
      return ['-n', '-M', 'extended', '-c', String(options.clientsPerNode), '-j', '1', '-T', String(options.seconds), ...scripts, url];
    };
    const primary = cluster.primary.url;
    const setups: Array<{ name: string; setup: string; runs: () => Array<Promise<PgbenchRun>> }> = [
      {
        name: 'pgbench → primary',
        setup: `pgbench ${options.clientsPerNode} clients on the primary, ${Math.round(options.writeShare * 100)}% updates`,
        runs: () => [run(args(primary, options.writeShare)).then(parsePgbench)],
      },
      {
        name: 'pgbench, reads on all three nodes',
        setup: `pgbench ${options.clientsPerNode} clients per node at once: on the primary ${Math.round(SPREAD_PRIMARY_WRITE_SHARE * 100)}% updates, on each replica reads only`,
        runs: () => [run(args(primary, SPREAD_PRIMARY_WRITE_SHARE)).then(parsePgbench), ...cluster.replicas.map((r) => run(args(r.url, 0)).then(parsePgbench))],
      },
    ];
    const rows: CeilingRow[] = setups.map((s) => ({ name: s.name, setup: s.setup, tps: 0, writeShare: 0, rounds: [], observed: [] }));
    const counts = setups.map(() => ({ reads: 0, writes: 0 }));
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < setups.length; i++) {
        const done = options.observe?.();
        const runs = await Promise.all(setups[i]!.runs());
        if (done !== undefined) rows[i]!.observed.push(done());
        rows[i]!.rounds.push(runs.reduce((s, r) => s + r.tps, 0));
        counts[i]!.reads += runs.reduce((s, r) => s + r.reads, 0);
        counts[i]!.writes += runs.reduce((s, r) => s + r.writes, 0);
      }
    }
    rows.forEach((r, i) => {
      r.tps = median(r.rounds);
      const { reads, writes } = counts[i]!;
      r.writeShare = reads + writes === 0 ? 0 : writes / (reads + writes);
    });
    const ratio = median(rows[1]!.rounds.map((x, i) => x / rows[0]!.rounds[i]!));
    options.log(`pgbench ceiling: ${rows.map((r) => `${r.name} ${r.tps.toFixed(0)} tps (${(r.writeShare * 100).toFixed(1)}% writes)`).join(', ')}; ratio ${ratio.toFixed(2)}×`);
    return { version, clientsPerNode: options.clientsPerNode, rows, ratio };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Reads pgbench's summary: tps, and per script (read first, update second when two ran) the
 * transactions it counted.
 *
 * @example
 * parsePgbench(stdout) // { tps: 5312.4, reads: 14300, writes: 1610 }
 */
export function parsePgbench(out: string): PgbenchRun {
  const tps = /^tps = ([\d.]+)/m.exec(out);
  if (tps === null) throw new Error(`pgbench printed no tps: ${out.slice(0, 300)}`);
  const perScript = [...out.matchAll(/^ - (\d+) transactions \(/gm)].map((m) => Number(m[1]));
  const total = /^number of transactions actually processed: (\d+)/m.exec(out);
  const reads = perScript.length > 0 ? perScript[0]! : Number(total?.[1] ?? 0);
  const writes = perScript.length > 1 ? perScript[1]! : 0;
  return { tps: Number(tps[1]), reads, writes };
}
