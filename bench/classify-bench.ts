import { SqlClassifier } from '../lib/classify';

/**
 * One benchmark row: median nanoseconds per classification without and with
 * the classifier's memo.
 *
 * @example
 * const row: ClassifyBenchResult = { name: 'knex select', uncachedNsMedian: 2500, cachedNsMedian: 90 };
 */
export interface ClassifyBenchResult {
  name: string;
  uncachedNsMedian: number;
  cachedNsMedian: number;
}

// Texts as knex and hand-written code send them; the first is the typical case.
const CASES: ReadonlyArray<readonly [string, string]> = [
  ['knex select', 'select "id", "name" from "users" where "id" = ? limit ?'],
  ['knex insert returning', 'insert into "users" ("email", "name") values (?, ?) returning "id"'],
  [
    'knex join + json',
    'select "users".*, count("posts"."id") as "post_count" from "users" left join "posts" on "posts"."user_id" = "users"."id" where "users"."profile"->>\'theme\' = ? group by "users"."id" order by "post_count" desc limit ?',
  ],
  [
    'CTE with window function',
    'with "recent" as (select * from "orders" where "placed_at" > now() - interval \'30 days\') select "user_id", sum("total") over (partition by "user_id") from "recent"',
  ],
  ['select for update skip locked', 'select * from "jobs" where "status" = ? order by "id" limit ? for update skip locked'],
];

const SAMPLES = 31;
const BATCH = 500;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

// Fresh copies of a text: knex builds a new string per query, whose hash the
// memo lookup must compute, so timing one interned string would flatter the cache.
function copies(sql: string, count: number): string[] {
  return Array.from({ length: count }, () => Buffer.from(sql, 'utf8').toString('utf8'));
}

// Median over SAMPLES batches of the time per call, in nanoseconds.
function measure(sql: string, classify: (text: string) => unknown): number {
  for (const text of copies(sql, BATCH * 4)) classify(text); // warm up the JIT
  const perCall: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const texts = copies(sql, BATCH);
    const start = process.hrtime.bigint();
    for (const text of texts) classify(text);
    perCall.push(Number(process.hrtime.bigint() - start) / BATCH);
  }
  return Math.round(median(perCall));
}

/**
 * Measures median classification time per text: uncached (a classifier with
 * `cacheSize: 0`, so every call lexes and analyzes) and cached (the memo hit a
 * router sees for a repeated query shape). Takes about a second; results are
 * machine-dependent, so compare ratios, never assert on them in tests.
 *
 * @example
 * const rows = await benchClassify();
 * console.table(rows);
 */
export async function benchClassify(): Promise<ClassifyBenchResult[]> {
  const uncached = new SqlClassifier({ cacheSize: 0 });
  const cached = new SqlClassifier({ cacheSize: 1000 });
  const results: ClassifyBenchResult[] = [];
  for (const [name, sql] of CASES) {
    const uncachedNsMedian = measure(sql, (text) => uncached.classify(text));
    const cachedNsMedian = measure(sql, (text) => cached.classify(text));
    results.push({ name, uncachedNsMedian, cachedNsMedian });
    // Yield between cases so a caller's timers and I/O are not starved.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return results;
}

if (require.main === module) {
  benchClassify()
    .then((rows) => {
      for (const row of rows) {
        const ratio = (row.uncachedNsMedian / Math.max(row.cachedNsMedian, 1)).toFixed(1);
        console.log(
          `${row.name.padEnd(32)} uncached ${String(row.uncachedNsMedian).padStart(6)} ns  cached ${String(row.cachedNsMedian).padStart(5)} ns  (x${ratio})`,
        );
      }
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
