import type { Cluster } from '../test/support/cluster';

/** One subsystem benchmark from another issue: its result, or why it is not there. */
export interface OtherBench {
  title: string;
  file: string;
  status: 'ok' | 'not available' | 'failed';
  /** Why not available / what failed. */
  note?: string;
  result?: unknown;
  /** The result as the benchmark's own `format…()` export prints it (units and all), when it has one. */
  text?: string;
  seconds?: number;
}

const SPECS: ReadonlyArray<{ title: string; file: string; fn: string; needsCluster: boolean }> = [
  { title: 'Classification cost', file: './classify-bench', fn: 'benchClassify', needsCluster: false },
  { title: 'LSN tracking cost', file: './consistency-bench', fn: 'benchConsistency', needsCluster: true },
  { title: 'Cache hit vs replica round trip', file: './cache-bench', fn: 'benchCache', needsCluster: true },
];

/**
 * Section 4: runs the subsystems' own benchmarks (written with their issues) when their
 * files exist; a missing file or function is reported as "not available", a failure as
 * "failed", and never stops the run.
 *
 * @example
 * for (const b of await runOtherBenches(cluster, console.log)) console.log(b.title, b.status);
 */
export async function runOtherBenches(cluster: Cluster, log: (m: string) => void): Promise<OtherBench[]> {
  const out: OtherBench[] = [];
  for (const spec of SPECS) {
    const entry: OtherBench = { title: spec.title, file: `bench/${spec.file.slice(2)}.ts`, status: 'not available' };
    out.push(entry);
    let mod: Record<string, unknown>;
    try {
      mod = require(spec.file) as Record<string, unknown>;
    } catch (err) {
      const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(spec.file.slice(2));
      entry.status = missing ? 'not available' : 'failed';
      entry.note = missing ? `${entry.file} is not in this checkout` : `cannot load ${entry.file}: ${(err as Error).message.split('\n')[0]}`;
      log(`${spec.title}: ${entry.note}`);
      continue;
    }
    const fn = mod[spec.fn];
    if (typeof fn !== 'function') {
      entry.note = `${entry.file} does not export ${spec.fn}()`;
      log(`${spec.title}: ${entry.note}`);
      continue;
    }
    const began = Date.now();
    try {
      log(`${spec.title}: running ${spec.fn}()`);
      entry.result = await (spec.needsCluster ? fn(cluster) : fn());
      entry.status = 'ok';
      const format = Object.entries(mod).find(([name, f]) => name.startsWith('format') && typeof f === 'function')?.[1];
      if (typeof format === 'function') entry.text = String(format(entry.result));
    } catch (err) {
      entry.status = 'failed';
      entry.note = err instanceof Error ? err.message.split('\n')[0] : String(err);
      log(`${spec.title}: failed: ${entry.note}`);
    }
    entry.seconds = (Date.now() - began) / 1000;
  }
  return out;
}
