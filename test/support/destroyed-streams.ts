// Run as a child process by streams.test.ts: destroys 12 streams part-way on one pooled
// connection, then destroys the instance. Exits 0 unless something raises afterwards.
// argv: 'split' | 'knex', primary URL, replica name, replica URL.
import knex from 'knex';
import { splitKnex } from '../../lib';

const [kind, primaryUrl, replicaName, replicaUrl] = process.argv.slice(2) as [string, string, string, string];
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(w.name));

async function main(): Promise<void> {
  const db = kind === 'split'
    ? splitKnex({ client: 'pg', connection: primaryUrl, replicas: [{ name: replicaName, connection: replicaUrl }], pool: { min: 0, max: 1 } })
    : knex({ client: 'pg', connection: replicaUrl, pool: { min: 0, max: 1 } });
  for (let i = 0; i < 12; i++) {
    const stream = db.raw('select g from generate_series(1, 100000) g').stream();
    await new Promise<void>((resolve) => {
      stream.once('data', () => {
        stream.destroy();
        resolve();
      });
    });
  }
  await db.raw('select 1');
  await db.destroy();
  // Let a late 'error' (connection ended while streaming) surface before we exit.
  await new Promise((r) => setTimeout(r, 200));
  console.log(JSON.stringify({ warnings }));
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});
