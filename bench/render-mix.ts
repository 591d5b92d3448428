import type { ConsistencyStats } from '../lib';
import type { BenchRun, MixRun } from './bench-run';
import { capLimit, throttleSummary } from './capped-capacity-bench';
import type { MixResult } from './mix-bench';
import { ms, ops, pct } from './render-format';
import { cell } from './render-value';

/**
 * Share of the statements a node served, by the servers' own transaction counters.
 *
 * @example
 * share(result, 'primary') // 0.12
 */
export function share(r: MixResult, node: string): number {
  const total = Object.values(r.serverCounts).reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : (r.serverCounts[node] ?? 0) / total;
}

/**
 * Primary transactions per completed operation, against the baseline's (1 − ratio).
 *
 * @example
 * primaryReduction(splitResult, knexPrimaryResult) // 0.877: the primary does 88% less per operation
 */
export function primaryReduction(r: MixResult, base: MixResult): number {
  const per = (x: MixResult) => (x.ops === 0 ? NaN : (x.serverCounts['primary'] ?? 0) / x.ops);
  return 1 - per(r) / per(base);
}

/**
 * Section 3 of the report: the capacity mix, on CPU-capped nodes when the machine allows it,
 * else with pg_sleep standing for server time; one table with throughput, node shares,
 * stale read-your-writes and (capped) how often each node was throttled.
 *
 * @example
 * lines.push(...renderMix(run));
 */
export function renderMix(run: BenchRun): string[] {
  const mix = run.capped ?? run.mix;
  const capped = run.capped !== undefined;
  const lines = [capped ? '## 3. Capacity on capped nodes: a 90/10 mix where each node has its own fraction of a core' : '## 3. Capacity: a 90/10 read-heavy mix where each node\'s pool is the bottleneck (pg_sleep)', ''];
  if (run.cappedSkipped !== undefined) lines.push(`_Per-node CPU caps were not available: ${run.cappedSkipped}. The pg_sleep variant ran instead._`, '');
  if (mix === undefined) return [...lines, '_Not measured in this run (see failures above)._'];
  const nodes = [...new Set(mix.results.flatMap((r) => Object.keys(r.serverCounts)))].sort((a, b) => (a === 'primary' ? -1 : b === 'primary' ? 1 : a.localeCompare(b)));
  const base = mix.results.find((r) => r.name === mix.baseline);
  lines.push(describe(run, mix), '');
  lines.push(`| contender | ops/s | vs ${mix.baseline} | p50 ms | p99 ms | ${nodes.map((n) => `${n} share`).join(' | ')} | primary load reduction | stale read-your-writes | errors |${capped ? ' throttled periods / periods, node CPU (cores); host busy |' : ''}`);
  lines.push(`| --- | ---: | ---: | ---: | ---: | ${nodes.map(() => '---:').join(' | ')} | ---: | ---: | ---: |${capped ? ' --- |' : ''}`);
  for (const r of mix.results) {
    const vs = base !== undefined && base.throughput > 0 ? `**${(r.throughput / base.throughput).toFixed(2)}×**` : '–';
    const red = base !== undefined && r !== base ? pct(primaryReduction(r, base)) : '–';
    lines.push(`| ${r.name} | ${ops(r.throughput)} | ${vs} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${nodes.map((n) => pct(share(r, n))).join(' | ')} | ${red} | ${r.ryw.stale} / ${r.ryw.pairs} | ${r.errors}${r.firstError === undefined ? '' : ` (${cell(r.firstError)})`} |${capped ? ` ${throttleSummary(r.observed ?? [], run.capped!.caps.fraction)} |` : ''}`);
  }
  const hostBound = capped ? mix.results.filter((r) => capLimit(r.observed ?? []) === 'host').map((r) => r.name) : [];
  if (hostBound.length > 0) lines.push('', `**Host-bound:** for ${hostBound.join(', ')} no node was throttled in 80% of the CFS periods while the host had 1.8 or more of its cores busy: the host's CPU (other processes, the client, the proxies) ran out before the quotas did, so those figures do not measure what replicas add. Rerun on a quiet machine.`);
  lines.push('', 'How each contender is deployed:', '', ...mix.results.map((r) => `- **${r.name}**: ${cell(r.setup)}`));
  for (const r of mix.results.filter((x) => x.ownCounts !== undefined)) {
    const own = r.ownCounts!;
    const total = Object.values(own).reduce((a, b) => a + b, 0);
    lines.push('', `${r.name}, by its own \`stats()\`: ${Object.entries(own).map(([k, v]) => `${k} ${v} (${pct(total === 0 ? 0 : v / total)})`).join(', ')}` +
      `; reads sent to the primary by cause: ${Object.entries(r.primaryReads ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.`);
  }
  for (const r of mix.results) {
    const waits = readWaits(r);
    if (waits !== undefined) lines.push('', `${r.name}, by its \`stats().consistency\` at the end of its last slice (warm-up included): ${waits}.`);
  }
  for (const p of run.proxies.filter((x) => x.status === 'skipped')) lines.push('', `- **${p.name} skipped:** ${p.note}`);
  lines.push(...renderCeiling(run));
  return lines;
}

/**
 * The pgbench ceiling under the same caps, when it ran: what the three nodes can serve
 * without any client library, for the contenders above to be read against.
 *
 * @example
 * lines.push(...renderCeiling(run));
 */
export function renderCeiling(run: BenchRun): string[] {
  const c = run.capped?.ceiling;
  if (c === undefined) return run.capped?.ceilingError === undefined ? [] : ['', `The pgbench ceiling was not measured: ${cell(run.capped.ceilingError)}`];
  const first = c.rows[0];
  const lines = ['', '### The nodes\' ceiling under the same caps (pgbench)', '',
    `${c.version}, one thread per node, ${c.clientsPerNode} clients (connections) per node, the extended protocol (as pg runs knex's parameterized statements), the same point read and \`update … set v = v + 1\` on the same table, ${c.rows[0]?.rounds.length ?? 0} rounds of each, alternating. ` +
    'No client library, a C client using a few percent of a core: this is what the capped nodes can serve, not a contender (the summary gives each contender\'s share of it). ' +
    `Reads over all three nodes reached **${c.ratio.toFixed(2)}×** of everything on the primary (median of per-round ratios).`, '',
    '| setup | tps | vs the first row | share of updates | per-round tps | throttled periods / periods, node CPU (cores); host busy |',
    '| --- | ---: | ---: | ---: | --- | --- |'];
  for (const r of c.rows) {
    const vs = first !== undefined && first.tps > 0 ? `${(r.tps / first.tps).toFixed(2)}×` : '–';
    lines.push(`| ${r.name} (${cell(r.setup)}) | ${ops(r.tps)} | ${vs} | ${pct(r.writeShare)} | ${r.rounds.map((x) => x.toFixed(0)).join(' ')} | ${throttleSummary(r.observed, run.capped!.caps.fraction)} |`);
  }
  return lines;
}

function describe(run: BenchRun, mix: MixRun): string {
  const common = `${mix.options.concurrency} closed-loop workers, ${pct(1 - mix.options.writeShare)} reads, the same seeded sequence for every contender, ${mix.options.rounds} interleaved rounds of ${mix.options.sliceMs} ms on fresh pools (pool ${mix.poolPerNode} per node). ` +
    'Node shares come from each server\'s `pg_stat_database` transaction counters (so they include split-knex\'s own health and position queries). ' +
    'Beside the load, one more worker writes a row and immediately reads it back through the contender\'s read path: a read that does not return the value just written is a **stale read-your-writes**.';
  const c = run.capped;
  if (c === undefined) {
    return `Every statement spends about 3 ms on the server (\`pg_sleep(0.003)\`: server time that is not this machine's CPU, as I/O or a bigger server would be). ${common}`;
  }
  return `Each PostgreSQL node (primary, replica1, replica2) is confined to **${c.caps.fraction} core** by its own cgroup v1 cpu group (\`cpu.cfs_quota_us\` = ${c.caps.fraction * c.caps.periodUs} per ${c.caps.periodUs} µs period; postmaster and every child moved: ${Object.entries(c.caps.moved).map(([n, k]) => `${n} ${k}`).join(', ')} processes; ` +
    `a backend forked afterwards reported ${Object.entries(c.caps.verified).map(([n, v]) => `${n} \`${v.split(': ')[1] ?? v}\``).join(', ')}), so each node behaves like a slower machine of its own and replicas add real capacity. ` +
    `Statements are plain point reads by primary key and \`update … set v = v + 1\` on a ${mix.options.rows ?? 1000}-row table (autovacuum off on the bench tables, vacuumed before). ${common} ` +
    'The last column checks the caps did the limiting: a node that did real work should be throttled in (almost) every CFS period of the slice; if not, the host was the limit. ' +
    'The proxies run uncapped beside the client (as separate machines would). A throttled primary also throttles its walsenders, so replicas lag by up to about one period here: stale reads show up much more than on the uncapped cluster.';
}

/**
 * What a split-knex contender's reads waited for in its last slice (read-your-writes): reads
 * that waited for a replica to replay their scope's writes, and the shared reads of the
 * primary's WAL position; undefined for a contender without those counters or that never
 * waited.
 *
 * @example
 * readWaits(result) // '6,257 reads waited for a replica to replay their scope's writes, 2.48 ms each on average; …'
 */
export function readWaits(r: MixResult): string | undefined {
  const c = r.consistency as Partial<Pick<ConsistencyStats, 'causalWaits' | 'causalWaitMs' | 'lsnCaptures' | 'lsnCaptureMs'>> | undefined;
  const num = (x: number | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  const waits = num(c?.causalWaits);
  const captures = num(c?.lsnCaptures);
  if (waits === 0 && captures === 0) return undefined;
  const parts: string[] = [];
  if (waits > 0) parts.push(`${waits.toLocaleString('en-US')} reads waited for a replica to replay their scope's writes, ${(num(c?.causalWaitMs) / waits).toFixed(2)} ms each on average`);
  if (captures > 0) parts.push(`${captures.toLocaleString('en-US')} shared reads of the primary's WAL position, ${(num(c?.lsnCaptureMs) / captures).toFixed(2)} ms each`);
  return parts.join('; ');
}
