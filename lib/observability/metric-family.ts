/** A Prometheus metric type split-knex exposes. */
export type MetricType = 'counter' | 'gauge';

/** One sample of a family: its labels and value. */
export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * One metric family (a name, its help and type, and its samples), the unit both the text
 * exposition and a prom-client registry are built from.
 *
 * @example
 * const reads: MetricFamily = { name: 'split_knex_reads_total', help: 'Reads run.', type: 'counter',
 *   samples: [{ labels: { node: 'replica1', role: 'replica' }, value: 12 }] };
 */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly MetricSample[];
}

/**
 * Renders families in the Prometheus text exposition format (version 0.0.4): `# HELP`,
 * `# TYPE`, then one line per sample, label values escaped. Serve it with the content type
 * {@link PROMETHEUS_CONTENT_TYPE}.
 *
 * @example
 * formatExposition([reads])
 * // # HELP split_knex_reads_total Reads run.
 * // # TYPE split_knex_reads_total counter
 * // split_knex_reads_total{node="replica1",role="replica"} 12
 */
export function formatExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * The content type of {@link formatExposition}'s text.
 *
 * @example
 * res.set('Content-Type', PROMETHEUS_CONTENT_TYPE).send(db.metrics());
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

// The format's escapes: backslash and newline in help; those and the double quote in label values.
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
