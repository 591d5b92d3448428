// `npx tsx bench/cpu-profile-summary.ts <file.cpuprofile> [ops] [top]`: where a process spent
// its CPU, by self time, grouped into split-knex's lib/ files, knex, pg and the rest.
import * as fs from 'fs';
import * as path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** The parts of a V8 .cpuprofile (node --cpu-prof) this summary reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one group of frames. */
export interface SelfTime {
  name: string;
  ms: number;
  /** µs per operation, when the operation count is known. */
  usPerOp?: number;
}

/** A profile's self time by group, by lib/ file and by function. */
export interface ProfileSummary {
  /** Sampled wall time in ms, and the part that was not idle. */
  wallMs: number;
  busyMs: number;
  ops?: number;
  groups: SelfTime[];
  libFiles: SelfTime[];
  functions: SelfTime[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/**
 * Which group a frame belongs to: `split-knex lib/`, `knex`, `pg` (pg, pg-pool, pg-protocol),
 * `node internals`, `other dependencies`, `bench harness`, or V8's own entries
 * ((garbage collector), (program), (idle)).
 *
 * @example
 * frameGroup('file:///repo/node_modules/knex/lib/runner.js', '/repo') // 'knex'
 */
export function frameGroup(url: string, root: string): string {
  const file = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  if (file === '') return 'V8 / native';
  if (file.startsWith('node:') || !file.startsWith('/')) return 'node internals';
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const pkg = file.slice(nm + 14).split('/')[0]!;
    if (pkg === 'knex') return 'knex';
    if (pkg === 'pg' || pkg === 'pg-pool' || pkg === 'pg-protocol' || pkg === 'pg-types' || pkg === 'pg-connection-string') return 'pg';
    if (pkg === 'tarn') return 'tarn (knex pool)';
    return 'other dependencies';
  }
  const rel = path.relative(root, file);
  if (rel.startsWith('lib/') || rel.startsWith('dist/cjs/')) return 'split-knex lib/';
  if (rel.startsWith('bench/')) return 'bench harness';
  return 'other dependencies';
}

/**
 * Sums self time per frame (each sample's time delta goes to the frame on top of the
 * stack), then groups it; `ops` turns totals into µs per operation.
 *
 * @example
 * const s = summarizeCpuProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { root: process.cwd(), ops: 300_000 });
 * s.groups // [{ name: 'knex', ms: 5123, usPerOp: 17.1 }, …]
 */
export function summarizeCpuProfile(profile: CpuProfile, options: { root: string; ops?: number }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const groups = new Map<string, number>();
  const files = new Map<string, number>();
  const fns = new Map<string, number>();
  let wall = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    wall += us;
    if (frame.functionName === '(idle)') continue;
    busy += us;
    const group = SPECIAL.has(frame.functionName) ? frame.functionName : frameGroup(frame.url, options.root);
    groups.set(group, (groups.get(group) ?? 0) + us);
    const file = frame.url === '' ? '' : path.relative(options.root, frame.url.startsWith('file://') ? decodeURIComponent(frame.url.slice(7)) : frame.url);
    if (group === 'split-knex lib/') files.set(file, (files.get(file) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${file.replace(/^.*node_modules\//, '')}${file === '' ? '' : `:${frame.lineNumber + 1}`}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
  }
  const list = (m: Map<string, number>): SelfTime[] => [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => {
    const entry: SelfTime = { name, ms: us / 1000 };
    if (options.ops !== undefined && options.ops > 0) entry.usPerOp = us / options.ops;
    return entry;
  });
  const out: ProfileSummary = { wallMs: wall / 1000, busyMs: busy / 1000, groups: list(groups), libFiles: list(files), functions: list(fns) };
  if (options.ops !== undefined) out.ops = options.ops;
  return out;
}

/**
 * The summary as text: groups, split-knex's lib/ files, then the `top` functions.
 *
 * @example
 * console.log(formatProfileSummary(summary, 25));
 */
export function formatProfileSummary(s: ProfileSummary, top = 25): string {
  const row = (x: SelfTime) => `  ${x.ms.toFixed(0).padStart(7)} ms ${((x.ms / s.busyMs) * 100).toFixed(1).padStart(5)}%${x.usPerOp === undefined ? '' : ` ${x.usPerOp.toFixed(2).padStart(7)} µs/op`}  ${x.name}`;
  const lib = s.libFiles.reduce((n, x) => n + x.ms, 0);
  return [
    `sampled ${s.wallMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms${s.ops === undefined ? '' : `, ${s.ops} ops: ${((s.busyMs * 1000) / s.ops).toFixed(1)} µs of CPU per op`}`,
    'self time by group:', ...s.groups.map(row),
    `split-knex lib/ by file (${lib.toFixed(0)} ms):`, ...s.libFiles.map(row),
    `top ${top} functions by self time:`, ...s.functions.slice(0, top).map(row),
  ].join('\n');
}

if (require.main === module) {
  const [file, ops, top] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: tsx bench/cpu-profile-summary.ts <file.cpuprofile> [ops] [top]');
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const summary = summarizeCpuProfile(profile, { root: path.resolve(__dirname, '..'), ...(ops === undefined ? {} : { ops: Number(ops) }) });
  console.log(formatProfileSummary(summary, top === undefined ? 25 : Number(top)));
}
