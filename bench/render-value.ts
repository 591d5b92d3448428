/**
 * Renders an unknown benchmark result as markdown: arrays of flat objects become tables,
 * nested objects become sub-sections, scalars a bullet list. Used for the other issues'
 * benchmark results, whose shapes this runner does not own.
 *
 * @example
 * renderValue([{ name: 'a', ns: 12.5 }]) // '| name | ns |\n| --- | ---: |\n| a | 12.5 |'
 */
export function renderValue(value: unknown, depth = 0): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '_(empty)_';
    if (value.every(isFlatObject)) return table(value as Array<Record<string, unknown>>);
    return value.map((v) => `- ${cell(v)}`).join('\n');
  }
  if (isObject(value)) {
    const scalars = Object.entries(value).filter(([, v]) => !isObject(v) && !Array.isArray(v));
    const nested = Object.entries(value).filter(([, v]) => isObject(v) || Array.isArray(v));
    const parts: string[] = [];
    if (scalars.length > 0) parts.push(scalars.map(([k, v]) => `- ${k}: ${cell(v)}`).join('\n'));
    for (const [k, v] of nested) {
      if (isObject(v) && isFlatObject(v)) parts.push(`${'#'.repeat(Math.min(6, 4 + depth))} ${k}\n\n${table([v])}`);
      else parts.push(`${'#'.repeat(Math.min(6, 4 + depth))} ${k}\n\n${renderValue(v, depth + 1)}`);
    }
    return parts.join('\n\n');
  }
  return cell(value);
}

function table(rows: Array<Record<string, unknown>>): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const numeric = keys.map((k) => rows.every((r) => r[k] === undefined || typeof r[k] === 'number'));
  return [
    `| ${keys.join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(' | ')} |`),
  ].join('\n');
}

/** A number with sensible precision, or text with pipes escaped. */
export function cell(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    const abs = Math.abs(v);
    return abs >= 100 || Number.isInteger(v) ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toFixed(3);
  }
  if (v === undefined || v === null) return '';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isFlatObject(v: unknown): boolean {
  return isObject(v) && Object.values(v).every((x) => x === null || typeof x !== 'object');
}
