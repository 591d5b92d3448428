// `npx tsx bench/render-results.ts [latest.json]`: rewrites bench/results/latest.md and
// latest.svg from a run's JSON, without running anything (for work on the report itself).
import * as fs from 'fs';
import * as path from 'path';
import type { BenchRun } from './bench-run';
import { renderChart } from './render-chart';
import { renderReport } from './render-report';

/**
 * Renders the report and the chart of a saved run into `dir`.
 *
 * @example
 * renderResults('bench/results/latest.json', 'bench/results');
 */
export function renderResults(jsonFile: string, dir: string): void {
  const run = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as BenchRun;
  fs.writeFileSync(path.join(dir, 'latest.md'), renderReport(run));
  fs.writeFileSync(path.join(dir, 'latest.svg'), renderChart(run));
}

if (require.main === module) {
  const dir = path.join(__dirname, 'results');
  renderResults(process.argv[2] ?? path.join(dir, 'latest.json'), dir);
  console.log(`wrote ${path.join(dir, 'latest.md')} and latest.svg`);
}
