// The README's main job: `npm run demo`.
// Starts an embedded PostgreSQL primary + 2 streaming replicas from the local server
// binaries (or uses SPLIT_KNEX_PRIMARY_URL / SPLIT_KNEX_REPLICA_URLS), runs a short mixed
// workload through splitKnex, prints where every statement ran and why, and stops the cluster.
import { splitKnex, type RouteEvent } from '../lib';
import { startCluster } from '../test/support/cluster';

async function main(): Promise<void> {
  const began = Date.now();
  const cluster = await startCluster({ replicas: 2, log: (m) => process.stderr.write(`  ${m}\n`) });
  console.log(`cluster (${cluster.provider}) ready in ${Date.now() - began} ms: ${cluster.nodes.map((n) => `${n.name}@${n.port}`).join(', ')}`);
  const db = splitKnex({
    client: 'pg',
    connection: cluster.primary.url,
    replicas: cluster.replicas.map((r) => ({ name: r.name, connection: r.url })),
    pool: { min: 0, max: 5 },
  });
  const routes = new Map<string, number>();
  db.on('route', (e: RouteEvent) => {
    const key = `${e.node}\t${e.reason}`;
    routes.set(key, (routes.get(key) ?? 0) + 1);
  });
  try {
    await workload(db);
    report(db, routes, cluster.nodes.map((n) => n.name));
    // The database's own answer, to show where reads really ran. Right after its writes, a
    // read of the instance-wide scope goes to the primary until a replica has replayed them
    // (read-your-writes); a new scope (a request, a job) has no writes to wait for.
    const whereAmI = async () => {
      const [row] = await db.select(db.raw('inet_server_port() as port, pg_is_in_recovery() as standby'));
      return row as { port: number; standby: boolean };
    };
    const instance = await whereAmI();
    console.log(`\na read right after the writes answered from port ${instance.port} (in recovery: ${instance.standby})`);
    const scoped = await db.runInContext(whereAmI);
    console.log(`a read in a new scope answered from port ${scoped.port} (in recovery: ${scoped.standby})`);
  } finally {
    await db.destroy();
    await cluster.destroy();
  }
  console.log(`done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
}

async function workload(db: ReturnType<typeof splitKnex>): Promise<void> {
  await db.schema.dropTableIfExists('demo_orders');
  await db.schema.createTable('demo_orders', (t) => {
    t.increments('id');
    t.text('customer').notNullable();
    t.integer('amount').notNullable();
  });
  for (let i = 0; i < 20; i++) await db('demo_orders').insert({ customer: `c${i % 5}`, amount: 10 * i });
  await db.usePrimary(() => db('demo_orders').count({ n: '*' }));
  for (let i = 0; i < 60; i++) {
    await db('demo_orders').where({ customer: `c${i % 5}` }).sum({ total: 'amount' });
  }
  await db.raw('select customer, count(*) from demo_orders group by customer');
  await db.raw("select nextval('demo_orders_id_seq')");
  await db.raw('with moved as (update demo_orders set amount = amount + 1 where id = 1 returning id) select count(*) from moved');
  await db.transaction(async (trx) => {
    const row = await trx('demo_orders').where({ id: 2 }).forUpdate().first();
    await trx('demo_orders').where({ id: 2 }).update({ amount: row.amount + 5 });
  });
  await db.transaction(async (trx) => trx('demo_orders').count({ n: '*' }), { readOnly: true });
  await db('demo_orders').first().queryContext({ splitKnex: { target: 'primary' } });
  await db.schema.dropTable('demo_orders');
}

function report(db: ReturnType<typeof splitKnex>, routes: Map<string, number>, nodes: string[]): void {
  const stats = db.stats();
  console.log('\nstatements per node');
  console.log(pad(['node', 'role', 'reads', 'writes', 'total'], [10, 8, 6, 7, 6]));
  for (const n of stats.nodes) console.log(pad([n.name, n.role, String(n.reads), String(n.writes), String(n.queries)], [10, 8, 6, 7, 6]));
  console.log('\nstatements per node and routing reason');
  const rows = [...routes].map(([k, v]) => [...k.split('\t'), String(v)] as [string, string, string]);
  rows.sort((a, b) => nodes.indexOf(a[0]) - nodes.indexOf(b[0]) || Number(b[2]) - Number(a[2]));
  for (const [node, reason, count] of rows) console.log(pad([node, count, reason], [10, 5, 0]));
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (widths[i] ? c.padEnd(widths[i]!) : c)).join('  ');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
