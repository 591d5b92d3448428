import type { Cluster } from '../test/support/cluster';
import type { CapDelta } from './cpu-caps';
import { median, summarize, type LatencySummary } from './latency-summary';
import { measureThroughput, seededRandom, type SliceResult } from './measure-throughput';
import type { MixClient, MixContender } from './mix-contenders';
import { nodeTransactions, settledTransactions } from './node-counters';

/** Bounds of the mixed-workload section. */
export interface MixOptions {
  rounds: number;
  sliceMs: number;
  warmupMs: number;
  /** Closed-loop workers (more than the connections: every pool stays saturated). */
  concurrency: number;
  /** Share of writes, e.g. 0.1. */
  writeShare: number;
  /** Rows of the mix table (default 1000). */
  rows?: number;
  /** Called right before each measured slice; the function it returns, right after (CPU caps: throttling per node). */
  observe?: () => () => CapDelta;
  log: (msg: string) => void;
}

/** One contender's figures over every round. */
export interface MixResult {
  name: string;
  setup: string;
  /** Median over rounds, ops/s. */
  throughput: number;
  latency: LatencySummary;
  ops: number;
  errors: number;
  firstError?: string;
  /** Transactions each node counted (pg_stat_database), summed over rounds. */
  serverCounts: Record<string, number>;
  /** split-knex only: statements per node by its own counters, and primary reads by cause. */
  ownCounts?: Record<string, number>;
  primaryReads?: Record<string, number>;
  consistency?: unknown;
  /** Write-then-read pairs through the contender, and how many reads missed the write. */
  ryw: { pairs: number; stale: number };
  /** One entry per measured slice when `observe` was given. */
  observed?: CapDelta[];
}

const RYW_ROWS = 64;
/** The read-your-writes prober's pace: one write-then-read pair at most this often. */
const PROBE_EVERY_MS = 10;

/**
 * Sections 2 and 3: a read-heavy mix (default 90/10) of statements with a few ms of server
 * time, so each node's pool is the bottleneck; every contender runs the same seeded
 * sequence, in interleaved rounds, on fresh pools. Alongside the load, one extra worker
 * writes a row and reads it straight back through the contender's read path, counting reads
 * that miss the write. The servers' own transaction counters say who served what.
 *
 * @example
 * const results = await benchMix(cluster, [plainPrimary(cluster, 4), splitKnexContender(cluster, 4, 'split-knex')], options);
 */
export async function benchMix(cluster: Cluster, contenders: MixContender[], options: MixOptions): Promise<MixResult[]> {
  const rows = options.rows ?? 1000;
  // No autovacuum on the bench tables: a vacuum or analyze in the middle of a slice would
  // land on whichever contender ran then (and, with CPU caps, eat the primary's quota).
  await cluster.query('primary', `drop table if exists bench_mix; drop table if exists bench_ryw;
    create table bench_mix (id int primary key, v bigint not null default 0) with (autovacuum_enabled = off);
    insert into bench_mix (id) select generate_series(1, ${rows});
    create table bench_ryw (id int primary key, v int not null default 0) with (autovacuum_enabled = off);
    insert into bench_ryw (id) select generate_series(1, ${RYW_ROWS * 16})`);
  await cluster.query('primary', 'vacuum analyze bench_mix');
  await cluster.query('primary', 'vacuum analyze bench_ryw');
  await cluster.waitForReplication(60_000);
  const slices = new Map<string, SliceResult[]>();
  const results = new Map<string, MixResult>();
  for (const c of contenders) {
    slices.set(c.name, []);
    results.set(c.name, { name: c.name, setup: c.setup, throughput: 0, latency: { p50: NaN, p99: NaN }, ops: 0, errors: 0, serverCounts: {}, ryw: { pairs: 0, stale: 0 } });
  }
  let rywBase = 0;
  for (let round = 0; round < options.rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
    for (const contender of order) {
      const result = results.get(contender.name)!;
      rywBase = (rywBase + RYW_ROWS) % (RYW_ROWS * 16);
      const slice = await runSlice(cluster, contender, options, rywBase, result);
      if (slice !== undefined) slices.get(contender.name)!.push(slice);
    }
  }
  for (const c of contenders) {
    const r = results.get(c.name)!;
    const s = slices.get(c.name)!;
    r.throughput = median(s.map((x) => x.throughput));
    r.latency = summarize(s.flatMap((x) => x.latencies));
    r.ops = s.reduce((n, x) => n + x.ops, 0);
    r.errors += s.reduce((n, x) => n + x.errors, 0);
    r.firstError ??= s.find((x) => x.firstError !== undefined)?.firstError;
    if (r.firstError === undefined) delete r.firstError;
    const total = Object.values(r.serverCounts).reduce((a, b) => a + b, 0);
    options.log(`mix ${c.name}: ${r.throughput.toFixed(0)} ops/s, p50 ${r.latency.p50.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms, ` +
      `server shares ${Object.entries(r.serverCounts).map(([k, v]) => `${k} ${((v / Math.max(1, total)) * 100).toFixed(0)}%`).join(' ')}, stale ${r.ryw.stale}/${r.ryw.pairs}, errors ${r.errors}`);
  }
  return contenders.map((c) => results.get(c.name)!);
}

async function runSlice(cluster: Cluster, contender: MixContender, options: MixOptions, rywBase: number, result: MixResult): Promise<SliceResult | undefined> {
  const before = await nodeTransactions(cluster);
  let client: MixClient;
  try {
    client = await contender.open();
  } catch (err) {
    result.errors++;
    result.firstError ??= err instanceof Error ? err.message : String(err);
    return undefined;
  }
  let slice: SliceResult | undefined;
  try {
    const rand = Array.from({ length: options.concurrency }, (_, w) => seededRandom(1000 + w));
    const op = (w: number) => {
      const r = rand[w]!;
      const id = 1 + Math.floor(r() * (options.rows ?? 1000));
      return r() < options.writeShare ? client.write(id) : client.read(id);
    };
    await measureThroughput({ concurrency: options.concurrency, durationMs: options.warmupMs, op, record: false });
    // The read-your-writes prober runs beside the load, in its own loop, at most one pair
    // every PROBE_EVERY_MS: a probe, not load (unpaced, a contender whose probe reads are
    // fast would add the most load).
    let stop = false;
    const prober = (async () => {
      for (let i = 0; !stop; i++) {
        const id = rywBase + 1 + (i % RYW_ROWS);
        const v = (i % 1_000_000) + 1;
        const began = Date.now();
        try {
          await client.rywWrite(id, v);
          const seen = await client.rywRead(id);
          result.ryw.pairs++;
          if (seen !== v) result.ryw.stale++;
        } catch {
          result.errors++;
        }
        const rest = PROBE_EVERY_MS - (Date.now() - began);
        if (rest > 0 && !stop) await new Promise((resolve) => setTimeout(resolve, rest));
      }
    })();
    const observed = options.observe?.();
    slice = await measureThroughput({ concurrency: options.concurrency, durationMs: options.sliceMs, op });
    if (observed !== undefined) (result.observed ??= []).push(observed());
    stop = true;
    await prober;
    const own = client.ownStats?.();
    if (own !== undefined) {
      result.ownCounts = addCounts(result.ownCounts ?? {}, own.perNode);
      result.primaryReads = addCounts(result.primaryReads ?? {}, own.primaryReads);
      result.consistency = own.consistency;
    }
  } finally {
    await client.close();
  }
  const after = await settledTransactions(cluster);
  result.serverCounts = addCounts(result.serverCounts, Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)])));
  return slice;
}

function addCounts(into: Record<string, number>, add: Record<string, number>): Record<string, number> {
  const out = { ...into };
  for (const [k, v] of Object.entries(add)) out[k] = (out[k] ?? 0) + v;
  return out;
}
