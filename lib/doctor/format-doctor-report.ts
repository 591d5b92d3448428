import type { CheckStatus, DoctorReport, NodeFacts } from './doctor-report';
import { serverLabel } from './server-key';
import { formatBytes } from './format-bytes';

/** The mark shown before each check. */
export const STATUS_MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skipped: '?' };

/**
 * The report as people read it: a node table (role, server, version, WAL position, lag),
 * then one line per check with ✓ / ! / ✗ and, under each problem, one line of advice.
 *
 * @example
 * console.log(formatDoctorReport(await db.doctor()));
 */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`split-knex doctor: ${report.nodes.length} node${report.nodes.length === 1 ? '' : 's'}, checked ${report.checkedAt}`);
  lines.push('');
  lines.push(...table(
    ['NODE', 'CONFIGURED', 'ACTUAL', 'SERVER', 'VERSION', 'WAL POSITION', 'LAG'],
    report.nodes.map(nodeRow),
  ));
  lines.push('');
  const nodeWidth = Math.max(...report.checks.map((c) => c.node.length));
  const checkWidth = Math.max(...report.checks.map((c) => c.check.length));
  for (const c of report.checks) {
    lines.push(`${STATUS_MARK[c.status]} ${c.node.padEnd(nodeWidth)}  ${c.check.padEnd(checkWidth)}  ${c.detail}`);
    if (c.advice !== undefined && c.status !== 'ok') lines.push(`${' '.repeat(nodeWidth + checkWidth + 6)}→ ${c.advice}`);
  }
  lines.push('');
  lines.push(summaryLine(report));
  return lines.join('\n');
}

/**
 * `✓ no problems`, `✓ no problems (1 warning, 1 not checked)`, `✗ 2 problems, 1 warning`.
 *
 * @example
 * summaryLine({ problems: 0, warnings: 0, skipped: 1 }) // '✓ no problems (1 not checked)'
 */
export function summaryLine(report: Pick<DoctorReport, 'problems' | 'warnings'> & { skipped?: number }): string {
  const notes: string[] = [];
  if (report.warnings > 0) notes.push(`${report.warnings} warning${report.warnings === 1 ? '' : 's'}`);
  if ((report.skipped ?? 0) > 0) notes.push(`${report.skipped} not checked`);
  const w = notes.join(', ');
  if (report.problems === 0) return `✓ no problems${w === '' ? '' : ` (${w})`}`;
  return `✗ ${report.problems} problem${report.problems === 1 ? '' : 's'}${w === '' ? '' : `, ${w}`}`;
}

function nodeRow(n: NodeFacts): string[] {
  if (!n.reachable) return [n.name, n.configuredRole, 'unreachable', n.target, '-', '-', '-'];
  const actual = n.inRecovery === undefined ? '?' : n.inRecovery ? 'standby' : 'primary';
  const servers = new Set(n.samples.map((s) => `${serverLabel(s)}@${s.started}`)).size;
  const server = `${n.identity === undefined ? n.target : serverLabel(n.identity)}${servers > 1 ? ` (+${servers - 1} more)` : ''}`;
  const position = n.inRecovery === true ? n.replayLsn ?? '-' : n.currentLsn ?? '-';
  let lag = '-';
  if (n.inRecovery === true && n.lagBytes !== undefined) {
    lag = n.lagBytes === 0 ? '0 B' : `${formatBytes(n.lagBytes)}${n.replayAgeSeconds == null ? '' : `, ${n.replayAgeSeconds.toFixed(1)} s`}`;
  }
  return [n.name, n.configuredRole, actual, server, n.serverVersion ?? '?', position, lag];
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [render(header), ...rows.map(render)];
}
