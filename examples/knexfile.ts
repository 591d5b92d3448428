// A TypeScript knexfile for split-knex: the knex CLI (migrations, seeds) and `split-knex
// doctor` both read it, and the app builds its instance from the same entry.
//
// Type it `SplitKnexConfig`, not `Knex.Config`: `Knex.Config` does not know `replicas`
// (or the other split-knex sections), so TypeScript rejects the object literal with
// "Object literal may only specify known properties". `SplitKnexConfig` is knex's config
// plus those keys, so everything knex accepts is still checked.
//
//   npx split-knex doctor --knexfile examples/knexfile.ts        (needs tsx, as any .ts knexfile)
//   npx knex migrate:latest --knexfile examples/knexfile.ts
//
// In your app: `import type { SplitKnexConfig } from 'split-knex';`.
import type { SplitKnexConfig } from '../lib';

/**
 * knex's `log.warn`, minus the lines knex prints when a pooled connection broke or a connect
 * failed ("Connection Error: …", "Acquire connection error: …"). While a replica is down
 * split-knex already retries the read elsewhere, marks the node down and counts it in
 * `stats().health`: knex's copy of each failure is noise. Every other warning (split-knex's
 * own included) still reaches `console.warn`.
 *
 * @example
 * splitKnex({ client: 'pg', connection, replicas, log: { warn: quietConnectionErrors } });
 */
export function quietConnectionErrors(message: unknown): void {
  if (/^(Connection Error|Acquire connection error):/.test(String(message))) return;
  console.warn(message);
}

const shared = {
  client: 'pg',
  pool: { min: 0, max: 10 },
  migrations: { tableName: 'knex_migrations', directory: './migrations' },
  log: { warn: quietConnectionErrors },
} satisfies Partial<SplitKnexConfig>;

/**
 * One entry per environment, as the knex CLI expects. The primary and the replicas come from
 * the environment: `DATABASE_URL` and the comma-separated `REPLICA_URLS`.
 *
 * @example
 * import knexfile from './knexfile';
 * const db = splitKnex(knexfile[process.env.NODE_ENV ?? 'development']!);
 */
const knexfile: Record<string, SplitKnexConfig> = {
  development: {
    ...shared,
    connection: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/app',
    replicas: process.env.REPLICA_URLS ?? [],
  },
  production: {
    ...shared,
    connection: process.env.DATABASE_URL,
    replicas: process.env.REPLICA_URLS,
    pool: { min: 2, max: 20 },
    sticky: { mode: 'lsn', maxWaitMs: 20 },
    lag: { maxLagMs: 5_000 },
    health: { intervalMs: 1_000 },
  },
};

export default knexfile;
