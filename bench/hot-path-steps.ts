import type { Knex } from 'knex';
import type { SplitKnex } from '../lib';
import type { BuilderInternals, CompiledQuery, KnexClient } from '../lib/knex/knex-internals';
import type * as DescribeBuilder from '../lib/knex/describe-builder';
import { internal } from './library';
import type { Pipeline } from '../lib/pipeline';

// From the build under test, as the instance is (see bench/library.ts).
const { describeBuilder } = internal<typeof DescribeBuilder>('knex/describe-builder');

/** One step of the per-statement path, timed alone. */
export interface HotPathStep {
  step: string;
  /** Mean CPU per call, µs. */
  us: number;
}

const N = 20_000;

function time(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / N;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 500; i++) await fn();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N / 4; i++) await fn();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / (N / 4);
}

/**
 * Times, in the calling process, each piece of one statement's path: building and
 * compiling the builder, and for a splitKnex instance every step its runner adds
 * (statement facts, classification, the routing decision and each read policy, the node's
 * acquire/release). Run it in a process that builds only this instance's builders.
 *
 * @example
 * const steps = await timeSteps(db, true);
 */
export async function timeSteps(q: Knex, isSplit: boolean): Promise<HotPathStep[]> {
  const who = isSplit ? 'split-knex' : 'knex';
  const steps: HotPathStep[] = [{ step: `build + compile a point SELECT builder (${who})`, us: time(() => q('bench_items').where({ id: 42 }).first().toSQL()) }];
  if (!isSplit) {
    const client = q.client as unknown as KnexClient;
    steps.push({ step: 'pool acquire + release (knex)', us: await timeAsync(async () => client.releaseConnection(await client.acquireConnection())) });
    return steps;
  }
  const core = ((q as SplitKnex).client as unknown as { _splitKnexPipeline: Pipeline })._splitKnexPipeline;
  const builder = q('bench_items').where({ id: 42 }).first() as unknown as BuilderInternals;
  const compiled = builder.toSQL() as CompiledQuery;
  const statement = describeBuilder(builder, compiled);
  steps.push(
    { step: 'describeBuilder (statement facts)', us: time(() => describeBuilder(builder, compiled)) },
    { step: 'classify (memoized)', us: time(() => core.router.classifyOnly(statement)) },
    { step: 'router.route (classify + read policies + selector)', us: time(() => core.router.route(statement)) },
  );
  for (const policy of core.router.readPolicies) {
    steps.push({ step: `  read policy ${policy.name}`, us: time(() => policy.check(statement, core.router.replicas)) });
  }
  const replica = core.router.replicas[0]!;
  steps.push({ step: 'node.acquire + release (split-knex)', us: await timeAsync(async () => replica.release(await replica.acquire())) });
  return steps;
}
