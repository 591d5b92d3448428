// A long-running job worker with read-your-writes (docs/consistency.md, "A job worker").
//
// One scope lives as long as the worker loop. Between jobs it is reset, so one job's
// writes never pin the next job's reads to the primary (the leak Laravel's per-request
// stickiness has in workers). A job that carries the enqueuer's token reads consistently
// what the request that enqueued it wrote, even from another server.
//
// Run it: npx tsx examples/job-worker.ts — against DATABASE_URL and REPLICA_URLS when set,
// else on an embedded cluster it starts and stops (a clone of this repository only).
// In your app: `import type { SplitKnex } from 'split-knex';`.
import { splitKnex, type SplitKnex } from '../lib';

/** A job as the queue hands it out: a payload, and the enqueuer's consistency token. */
export interface Job {
  id: number;
  kind: 'ship-order' | 'daily-report';
  orderId?: number;
  /** `db.consistencyToken()` of the request that enqueued the job. */
  consistencyToken?: string;
}

/** Whatever delivers jobs: a Redis list, SQS, pg-boss… `undefined` means "stop". */
export interface JobQueue {
  next(): Promise<Job | undefined>;
}

/**
 * Runs jobs until the queue is empty: each job starts with a clean consistency state plus
 * the enqueuer's token.
 *
 * @example
 * const done = await runJobWorker(db, queue, (job) => handleJob(db, job));
 */
export async function runJobWorker(db: SplitKnex, queue: JobQueue, handle: (job: Job) => Promise<void>): Promise<number> {
  return db.runInContext(async () => {
    let done = 0;
    for (let job = await queue.next(); job !== undefined; job = await queue.next()) {
      db.resetConsistency();
      if (job.consistencyToken !== undefined) db.applyConsistencyToken(job.consistencyToken);
      await handle(job);
      done++;
    }
    return done;
  });
}

/** What a handler saw, to show where its reads ran. */
export interface JobOutcome {
  job: number;
  found: boolean;
  /** The server that answered the job's first read: `inet_server_port()`, and whether it is a standby. */
  readPort: number;
  readOnStandby: boolean;
}

/**
 * The example's handler: `ship-order` reads the order the web request just created (it must
 * exist) and marks it shipped; `daily-report` only reads.
 *
 * @example
 * await runJobWorker(db, queue, (job) => handleJob(db, job, outcomes));
 */
export async function handleJob(db: SplitKnex, job: Job, outcomes: JobOutcome[] = []): Promise<void> {
  if (job.kind === 'ship-order') {
    const order = await db('example_orders')
      .where({ id: job.orderId })
      .first('id', db.raw('inet_server_port() as port'), db.raw('pg_is_in_recovery() as standby'));
    outcomes.push({ job: job.id, found: order !== undefined, readPort: order?.port ?? 0, readOnStandby: order?.standby ?? false });
    if (order === undefined) throw new Error(`order ${job.orderId} not found: a stale read`);
    await db('example_orders').where({ id: job.orderId }).update({ status: 'shipped' });
    return;
  }
  const { rows } = await db.raw('select count(*)::int as n, inet_server_port() as port, pg_is_in_recovery() as standby from example_orders');
  const row = rows[0] as { n: number; port: number; standby: boolean } | undefined;
  outcomes.push({ job: job.id, found: row !== undefined, readPort: row?.port ?? 0, readOnStandby: row?.standby ?? false });
}

/**
 * The web side: creates an order and enqueues the job that ships it, with the token.
 *
 * @example
 * jobs.push(await placeOrder(db, 1, 'Ada'));
 */
export async function placeOrder(db: SplitKnex, jobId: number, customer: string): Promise<Job> {
  return db.runInContext(async () => {
    const [order] = await db('example_orders').insert({ customer, status: 'new' }).returning('id');
    return { id: jobId, kind: 'ship-order', orderId: order.id, consistencyToken: db.consistencyToken() };
  });
}

/** Creates the example's table. */
export async function createOrdersTable(db: SplitKnex): Promise<void> {
  await db.schema.dropTableIfExists('example_orders');
  await db.schema.createTable('example_orders', (t) => {
    t.increments('id');
    t.text('customer').notNullable();
    t.text('status').notNullable();
  });
}

/** A queue over an array. */
export function arrayQueue(jobs: Job[]): JobQueue {
  let i = 0;
  return { next: async () => jobs[i++] };
}

async function main(): Promise<void> {
  // Your databases (DATABASE_URL, comma-separated REPLICA_URLS), else an embedded cluster
  // with one replica 200 ms behind, which makes stale reads likely without tokens.
  const cluster = process.env.DATABASE_URL === undefined ? await (await import('../test/support/cluster')).startCluster({ replicas: 1 }) : undefined;
  const config = {
    client: 'pg',
    connection: cluster?.primary.url ?? process.env.DATABASE_URL,
    replicas: cluster?.replicas.map((r) => ({ name: r.name, connection: r.url })) ?? process.env.REPLICA_URLS,
    sticky: { mode: 'lsn' as const },
  };
  const web = splitKnex(config);
  const worker = splitKnex(config);
  try {
    await createOrdersTable(web);
    if (cluster !== undefined) {
      await cluster.waitForReplication();
      await cluster.setApplyDelay(cluster.replicas[0]!.name, 200);
    }
    const jobs = [await placeOrder(web, 1, 'Ada'), await placeOrder(web, 2, 'Grace'), { id: 3, kind: 'daily-report' as const }];
    const outcomes: JobOutcome[] = [];
    const done = await runJobWorker(worker, arrayQueue(jobs), (job) => handleJob(worker, job, outcomes));
    console.log(`${done} jobs done`);
    for (const o of outcomes) console.log(`job ${o.job}: found=${o.found}, read on ${o.readOnStandby ? 'a standby' : 'the primary'} (port ${o.readPort})`);
    const { causalReplicaReads, causalPrimaryReads, tokensApplied } = worker.stats().consistency;
    console.log(`worker consistency: ${tokensApplied} tokens applied, ${causalReplicaReads} causal reads on a replica, ${causalPrimaryReads} on the primary`);
  } finally {
    if (cluster !== undefined) await cluster.setApplyDelay(cluster.replicas[0]!.name, 0).catch(() => undefined);
    await Promise.all([web.destroy(), worker.destroy()]);
    await cluster?.destroy();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
