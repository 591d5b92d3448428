import type { BenchRun } from './bench-run';
import { ms, ops, pct, ratio } from './render-format';

/**
 * Section 2 of the report: insert a row then read it by id, per sticky mode, against plain
 * knex with everything on the primary, with stale reads.
 *
 * @example
 * lines.push(...renderWriteRead(run));
 */
export function renderWriteRead(run: BenchRun): string[] {
  const w = run.writeRead;
  const lines = ['## 2. Read-your-writes: insert a row, then read it by id at once', ''];
  if (w === undefined) return [...lines, '_Not measured in this run (see failures above)._'];
  lines.push(`Each operation inserts a row (\`insert … returning id\`) and immediately selects it by id through the same instance. split-knex has the primary and both replicas, pool ${w.options.poolSize} per node; ` +
    `plain knex sends everything to the primary (pool ${w.options.poolSize}). One process per contender, ${w.options.rounds} rounds of ${w.options.sliceMs} ms in rotating order after ${w.options.warmupMs} ms of warm-up; ` +
    `ratios are the median of per-round ratios to ${w.baseline}. A read that does not return the row just written is **stale**. Normal cluster: replicas on this machine, no injected lag.`, '');
  lines.push(`| c | contender | pairs/s | **vs ${w.baseline}** | p50 / p99 ms | client CPU µs/pair | stale / pairs | errors | per-round ratios |`);
  lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of w.rows) {
    for (const name of w.contenders) {
      const f = r.results[name];
      if (f === undefined) continue;
      lines.push(`| ${r.concurrency} | ${name} | ${ops(f.throughput)} | **${ratio(f.vsPrimary)}** | ${ms(f.latency.p50)} / ${ms(f.latency.p99)} | ${ops(f.cpuUsPerOp)} | ${f.stale} / ${f.pairs} | ${f.errors}${f.firstError === undefined ? '' : ` (${f.firstError.replace(/\|/g, '\\|')})`} | ${f.roundRatios.map((x) => x.toFixed(2)).join(' ')} |`);
    }
  }
  const routed = Object.entries(w.routed).map(([n, r]) => `${n}: ${Object.entries(r).map(([node, s]) => `${node} ${pct(s)}`).join(', ')}`);
  if (routed.length > 0) lines.push('', `Statements per node by split-knex's own counters (both concurrencies): ${routed.join('; ')}.`);
  return lines;
}
