/** One operation of a closed-loop benchmark: `worker` is the worker's index, `i` its iteration. */
export type BenchOp = (worker: number, i: number) => Promise<unknown>;

/** What one timed slice produced. */
export interface SliceResult {
  ops: number;
  errors: number;
  elapsedMs: number;
  /** Operations per second. */
  throughput: number;
  /** Latency of every completed operation, ms. */
  latencies: number[];
  /** The first error seen, for the report. */
  firstError?: string;
}

/**
 * Runs `concurrency` workers that each call `op` back to back for `durationMs` (a closed
 * loop: the next call starts when the previous one ends), and measures every call.
 *
 * @example
 * const r = await measureThroughput({ concurrency: 16, durationMs: 1000, op: () => pool.query('select 1') });
 * r.throughput // ops/s
 */
export async function measureThroughput(options: { concurrency: number; durationMs: number; op: BenchOp; record?: boolean }): Promise<SliceResult> {
  const { concurrency, durationMs, op, record = true } = options;
  const latencies: number[] = [];
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(durationMs * 1e6));
  const worker = async (w: number) => {
    for (let i = 0; ; i++) {
      const t0 = process.hrtime.bigint();
      if (t0 >= deadline) return;
      try {
        await op(w, i);
        ops++;
        if (record) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        // A failing contender must not spin: give the others the CPU.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  const result: SliceResult = { ops, errors, elapsedMs, throughput: (ops / elapsedMs) * 1000, latencies };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

/**
 * A small deterministic PRNG (mulberry32), so every contender runs the same sequence of
 * reads, writes and keys.
 *
 * @example
 * const rand = seededRandom(42); rand() // 0.6011...
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
