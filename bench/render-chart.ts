import type { BenchRun } from './bench-run';
import { OVERHEAD_TARGET } from './render-report';

const OVERHEAD_COLORS: Record<string, string> = { 'pg.Pool': '#9aa5b1', knex: '#4c78a8', 'knex-primary': '#72b7b2', 'split-1': '#f58518', 'split-2': '#e45756', 'split-2w0': '#eeca3b' };
const MIX_COLORS = ['#4c78a8', '#f58518', '#e4a35a', '#54a24b', '#b279a2', '#9d755d'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
const rect = (x: number, y: number, w: number, h: number, fill: string) => `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${fill}"/>`;

/**
 * A hand-written SVG bar chart of a run (bench/results/latest.svg): left, read throughput
 * of every overhead contender relative to plain knex on the same replica, with the 97%
 * target line; middle, write-then-read throughput relative to knex → primary per sticky
 * mode with stale reads; right, the capacity mix (capped nodes, or pg_sleep) per contender.
 *
 * @example
 * fs.writeFileSync('bench/results/latest.svg', renderChart(run));
 */
export function renderChart(run: BenchRun): string {
  const W = 1420;
  const H = 430;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    text(20, 24, `split-knex benchmarks — ${run.machine.cpu}, ${run.machine.cores} cores, Node ${run.machine.node}, PostgreSQL ${run.machine.postgres.split(' ')[0]} — ${run.startedAt.slice(0, 10)}`, 'font-size="14" font-weight="bold"'),
  ];
  parts.push(...overheadPanel(run, 20, 50, 440, 340));
  parts.push(...writeReadPanel(run, 490, 50, 420, 340));
  parts.push(...mixPanel(run, 960, 50, 440, 340));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function overheadPanel(run: BenchRun, x0: number, y0: number, w: number, h: number): string[] {
  const out = [text(x0, y0, 'Overhead: read throughput relative to plain knex on the same replica', 'font-weight="bold"')];
  const o = run.overhead;
  if (o === undefined || o.rows.length === 0) return [...out, text(x0, y0 + 30, 'not measured in this run')];
  const top = y0 + 20;
  const bottom = y0 + h - 70;
  const ids = o.contenders.map((c) => c.id);
  const values = o.rows.flatMap((r) => ids.map((id) => r.results[id]?.vsKnex ?? NaN));
  const max = Math.max(1.2, ...values.filter(Number.isFinite)) * 1.1;
  const y = (v: number) => bottom - (v / max) * (bottom - top);
  const left = x0 + 30;
  const groupW = (w - 40) / o.rows.length;
  const barW = groupW / (ids.length + 1);
  for (const tick of [0, 0.5, 1, 1.5, 2, 2.5, 3].filter((t) => t <= max)) {
    out.push(`<line x1="${left}" x2="${x0 + w}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e5e5"/>`, text(x0, y(tick) + 4, tick.toFixed(1), 'fill="#666"'));
  }
  out.push(`<line x1="${left}" x2="${x0 + w}" y1="${y(OVERHEAD_TARGET).toFixed(1)}" y2="${y(OVERHEAD_TARGET).toFixed(1)}" stroke="#d62728" stroke-dasharray="4 3"/>`);
  out.push(text(x0 + w - 60, y(OVERHEAD_TARGET) - 4, 'target 0.97', 'fill="#d62728" font-size="10"'));
  o.rows.forEach((r, i) => {
    const gx = left + i * groupW + barW * 0.5;
    ids.forEach((id, j) => {
      const v = r.results[id]?.vsKnex ?? NaN;
      if (!Number.isFinite(v)) return;
      const bx = gx + j * barW;
      out.push(rect(bx, y(v), barW - 1, bottom - y(v), OVERHEAD_COLORS[id] ?? '#999'), text(bx + (barW - 1) / 2, y(v) - 3, v.toFixed(2), 'text-anchor="middle" font-size="8"'));
    });
    out.push(text(gx + (barW * ids.length) / 2, bottom + 15, `${r.query === 'point' ? 'point' : '10 rows'}, c=${r.concurrency}`, 'text-anchor="middle"'));
  });
  out.push(`<line x1="${left}" x2="${x0 + w}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  o.contenders.forEach((c, i) => {
    const lx = left + (i % 2) * 210;
    const ly = bottom + 28 + Math.floor(i / 2) * 14;
    out.push(rect(lx, ly, 10, 10, OVERHEAD_COLORS[c.id] ?? '#999'), text(lx + 14, ly + 9, c.label, 'font-size="10"'));
  });
  return out;
}

function writeReadPanel(run: BenchRun, x0: number, y0: number, w: number, h: number): string[] {
  const wr = run.writeRead;
  const out = [text(x0, y0, `Insert then read by id: throughput vs ${wr?.baseline ?? 'knex → primary'}`, 'font-weight="bold"')];
  if (wr === undefined) return [...out, text(x0, y0 + 30, 'not measured in this run')];
  const top = y0 + 20;
  const bottom = y0 + h - 70;
  const max = Math.max(1.2, ...wr.rows.flatMap((r) => Object.values(r.results).map((f) => f.vsPrimary)).filter(Number.isFinite)) * 1.1;
  const y = (v: number) => bottom - (v / max) * (bottom - top);
  const left = x0 + 30;
  const groupW = (w - 40) / wr.rows.length;
  const barW = groupW / (wr.contenders.length + 1);
  for (const tick of [0, 0.5, 1, 1.5, 2].filter((t) => t <= max)) {
    out.push(`<line x1="${left}" x2="${x0 + w}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e5e5"/>`, text(x0, y(tick) + 4, tick.toFixed(1), 'fill="#666"'));
  }
  wr.rows.forEach((r, i) => {
    const gx = left + i * groupW + barW * 0.5;
    wr.contenders.forEach((name, j) => {
      const f = r.results[name];
      if (f === undefined || !Number.isFinite(f.vsPrimary)) return;
      const bx = gx + j * barW;
      out.push(rect(bx, y(f.vsPrimary), barW - 2, bottom - y(f.vsPrimary), MIX_COLORS[j % MIX_COLORS.length]!));
      out.push(text(bx + barW / 2, y(f.vsPrimary) - 14, f.vsPrimary.toFixed(2), 'text-anchor="middle" font-size="10"'));
      out.push(text(bx + barW / 2, y(f.vsPrimary) - 3, `${f.stale} stale`, `text-anchor="middle" font-size="9" fill="${f.stale > 0 ? '#d62728' : '#666'}"`));
    });
    out.push(text(gx + (barW * wr.contenders.length) / 2, bottom + 15, `concurrency ${r.concurrency}`, 'text-anchor="middle"'));
  });
  out.push(`<line x1="${left}" x2="${x0 + w}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  wr.contenders.forEach((name, i) => {
    const lx = left + (i % 2) * 200;
    const ly = bottom + 28 + Math.floor(i / 2) * 14;
    out.push(rect(lx, ly, 10, 10, MIX_COLORS[i % MIX_COLORS.length]!), text(lx + 14, ly + 9, name, 'font-size="10"'));
  });
  return out;
}

function mixPanel(run: BenchRun, x0: number, y0: number, w: number, h: number): string[] {
  const title = run.capped !== undefined ? `Capacity, 90/10 mix, every node capped at ${run.capped.caps.fraction} core: ops/s` : 'Read-heavy mix (90/10, ~3 ms server time): ops/s';
  const out = [text(x0, y0, title, 'font-weight="bold"')];
  const results = (run.capped ?? run.mix)?.results ?? [];
  if (results.length === 0) return [...out, text(x0, y0 + 30, 'not measured in this run')];
  const top = y0 + 20;
  const bottom = y0 + h - 70;
  const max = Math.max(1, ...results.map((r) => r.throughput).filter(Number.isFinite)) * 1.15;
  const y = (v: number) => bottom - (v / max) * (bottom - top);
  const left = x0 + 40;
  const slot = (w - 50) / results.length;
  const step = niceStep(max);
  for (let t = 0; t <= max; t += step) {
    out.push(`<line x1="${left}" x2="${x0 + w}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`, text(x0, y(t) + 4, t.toFixed(0), 'fill="#666"'));
  }
  results.forEach((r, i) => {
    const bx = left + i * slot + slot * 0.15;
    const bw = slot * 0.7;
    out.push(rect(bx, y(r.throughput), bw, bottom - y(r.throughput), MIX_COLORS[i % MIX_COLORS.length]!));
    const base = results[0]!.throughput;
    out.push(text(bx + bw / 2, y(r.throughput) - 4, `${r.throughput.toFixed(0)}${i === 0 || !(base > 0) ? '' : ` (${(r.throughput / base).toFixed(2)}×)`}`, 'text-anchor="middle" font-size="10"'));
    const words = r.name.split(' ');
    const half = Math.ceil(words.length / 2);
    out.push(text(bx + bw / 2, bottom + 15, words.slice(0, half).join(' '), 'text-anchor="middle" font-size="11"'));
    if (words.length > 1) out.push(text(bx + bw / 2, bottom + 28, words.slice(half).join(' '), 'text-anchor="middle" font-size="11"'));
    out.push(text(bx + bw / 2, bottom + 44, `stale ${r.ryw.stale}/${r.ryw.pairs}`, 'text-anchor="middle" font-size="10" fill="#666"'));
  });
  out.push(`<line x1="${left}" x2="${x0 + w}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  return out;
}

function niceStep(max: number): number {
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
}
