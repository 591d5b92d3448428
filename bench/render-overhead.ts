import type { BenchRun } from './bench-run';
import { median } from './latency-summary';
import { KNEX_PRIMARY, KNEX_REPLICA, SPLIT_ONE } from './overhead-bench';
import { ms, ops, pct, queryLabel, ratio } from './render-format';

/**
 * Section 1 of the report: every overhead contender per scenario, with its ratio to plain
 * knex on the same replica and to plain knex on the primary, and the stubbed-driver split.
 *
 * @example
 * lines.push(...renderOverhead(run));
 */
export function renderOverhead(run: BenchRun): string[] {
  const o = run.overhead;
  const lines = ['## 1. Overhead: split-knex vs plain knex on the same replica and on the primary', ''];
  if (o === undefined) return [...lines, '_Not measured in this run (see failures above)._'];
  const label = (id: string) => o.contenders.find((c) => c.id === id)?.label ?? id;
  const routed = Object.entries(o.routed).map(([id, r]) => `${label(id)}: ${Object.entries(r).map(([n, s]) => `${n} ${pct(s)}`).join(', ')}`).join('; ');
  lines.push(`Every contender reads with the same pool size (${o.options.poolSize}) and the same SQL text, each in its own process (sharing one process makes knex's query compiler polymorphic and slows whichever contender the JIT met second). ` +
    `split-knex runs its default configuration (health checks, read-your-writes tracking and the rest on). Statements per node by split-knex's own counters: ${routed}. ` +
    `${o.options.rounds} rounds of ${o.options.sliceMs} ms per contender after ${o.options.warmupMs} ms of warm-up, contenders in rotating order; throughput is the median over rounds, **ratios the median of per-round ratios**, latencies over every operation, client CPU per operation from each worker's \`process.cpuUsage()\`.`, '');
  lines.push(`| query | c | contender | ops/s | **vs ${label(KNEX_REPLICA)}** | vs ${label(KNEX_PRIMARY)} | p50 / p99 ms | client CPU µs/op | per-round vs ${label(KNEX_REPLICA)} |`);
  lines.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of o.rows) {
    for (const c of o.contenders) {
      const f = r.results[c.id];
      if (f === undefined) continue;
      const strong = (s: string) => (c.id.startsWith('split') ? `**${s}**` : s);
      lines.push(`| ${queryLabel(r.query)} | ${r.concurrency} | ${c.label} | ${ops(f.throughput)} | ${strong(ratio(f.vsKnex))} | ${strong(ratio(f.vsPrimary))} | ${ms(f.latency.p50)} / ${ms(f.latency.p99)} | ${ops(f.cpuUsPerOp)} | ${f.roundRatios.map((x) => x.toFixed(2)).join(' ')} |`);
    }
  }
  const errs = o.rows.flatMap((r) => Object.entries(r.results).filter(([, v]) => v.errors > 0).map(([k, v]) => `${label(k)} ${queryLabel(r.query)} c=${r.concurrency}: ${v.errors} errors (${v.firstError})`));
  if (errs.length > 0) lines.push('', ...errs.map((e) => `- ${e}`));
  if (o.rows.every((r) => r.results['split-2'] !== undefined && r.results['split-2w0'] !== undefined)) {
    lines.push('', '**Does the per-query cost grow with the number of replicas?** Split-knex with two replicas against one, and with two where replica2 has weight 0 ' +
      '(the router carries two replicas, every read still goes to replica1, so only the router differs from the one-replica case):', '');
    lines.push('| query | c | 2 replicas / 1 replica | 2 replicas (weight 0) / 1 replica | client CPU µs/op: 1 / 2 / 2 (weight 0) |', '| --- | ---: | ---: | ---: | ---: |');
    for (const r of o.rows) {
      const one = r.results[SPLIT_ONE]!;
      const two = r.results['split-2']!;
      const w0 = r.results['split-2w0']!;
      // Paired per round, like every other ratio here.
      const vsOne = (f: typeof one) => median(f.roundRatios.map((x, i) => x / one.roundRatios[i]!));
      lines.push(`| ${queryLabel(r.query)} | ${r.concurrency} | ${ratio(vsOne(two))} | ${ratio(vsOne(w0))} | ${ops(one.cpuUsPerOp)} / ${ops(two.cpuUsPerOp)} / ${ops(w0.cpuUsPerOp)} |`);
    }
  }
  const h = run.hotPath;
  if (h !== undefined) {
    lines.push('', '### Where split-knex\'s time goes (driver stubbed: no network, no server)', '');
    lines.push(`Two processes run sequential point SELECTs whose pool connections are stubs answering on the next event-loop turn, so only JavaScript is measured: plain knex costs **${h.knexUs.toFixed(1)} µs** of CPU per statement, ` +
      `split-knex **${h.splitUs.toFixed(1)} µs** (adds **${h.addedUs.toFixed(1)} µs**)` +
      (h.splitTwoUs === undefined ? '. ' : `; with two replicas **${h.splitTwoUs.toFixed(1)} µs**, with two where replica2 has weight 0 **${(h.splitTwoWeight0Us ?? NaN).toFixed(1)} µs** (the router's own cost of a second replica, free of the servers' share of the cores). `) +
      'Each piece of the path, timed alone in those processes (µs per call; these reach into the library\'s internals and say so when the core has moved on):', '');
    lines.push('| step | µs |', '| --- | ---: |', ...h.steps.map((s) => `| ${s.step.replace(/^ +/, '↳ ')} | ${Number.isFinite(s.us) ? s.us.toFixed(2) : '–'} |`));
  }
  return lines;
}
