import createDebug from 'debug';
import { format } from 'util';
import { expect } from 'chai';
import type { SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb } from '../support/split-db';
import { until } from '../support/until';

// "Never a secret in any message, event, debug line or stats": one instance whose
// credentials show up in every failure it meets (a URL with a password, a provider whose
// error quotes its credentials, a dead port), every debug namespace on, and every output
// point read back: debug lines, knex's log (warnings), events, stats(), metrics(), readiness().
const SECRET = 'Zq9-secrets-S3cret';

describe('secrets: no credential in debug lines, log messages, events, stats, metrics or readiness', function () {
  this.timeout(60_000);
  const cluster = () => getTestCluster();
  const lines: string[] = [];
  const events: string[] = [];
  let log: typeof createDebug.log;
  let namespaces: string;

  before(() => {
    log = createDebug.log;
    namespaces = createDebug.disable();
    createDebug.log = (...args: unknown[]) => { lines.push(format(...args)); };
    createDebug.enable('split-knex*');
  });
  after(async () => {
    await destroyAll();
    createDebug.log = log;
    createDebug.disable();
    if (namespaces !== '') createDebug.enable(namespaces);
  });

  // split-knex's own events. knex's ('start', 'query', 'query-response', 'query-error') are
  // passed on as knex emits them: they carry knex's builder and client objects, whose
  // config holds the connection as the user gave it, exactly as with plain knex.
  const KNEX_EVENTS = new Set(['start', 'query', 'query-response', 'query-error']);
  function watch(db: SplitKnex): void {
    const emit = db.emit.bind(db);
    db.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (!KNEX_EVENTS.has(String(event))) events.push(`${String(event)} ${format(...args).replace(/\n/g, ' ')}`);
      return emit(event, ...args);
    }) as typeof db.emit;
  }

  it('hides them everywhere while replicas fail (a provider quoting its credentials, a URL with a password)', async () => {
    const c = cluster();
    const said: string[] = [];
    const log = { warn: (m: string) => said.push(m), error: (m: string) => said.push(m), deprecate: (m: string) => said.push(m), debug: (m: unknown) => said.push(format(m)) };
    const url = (port: number) => `postgres://postgres:${SECRET}@127.0.0.1:${port}/${c.primary.database}`; // trust ignores it
    const db = makeDb({
      connection: url(c.primary.port),
      replicas: [
        { name: 'replica1', connection: url(c.replicas[0]!.port) },
        {
          name: 'vault',
          connection: () => { throw new Error(`vault: cannot renew postgres://postgres:${SECRET}@x@127.0.0.1/db password=${SECRET}`); },
        },
      ],
      lag: { pollIntervalMs: 50 },
      health: { intervalMs: 50, timeoutMs: 1000 },
      log,
    });
    watch(db);
    db.on('error', () => undefined);
    db.on('route', () => undefined); // route events are built only for a listener
    await db.ready().catch(() => undefined);
    await c.query('primary', 'create table if not exists sec_items (id serial primary key, v int)');
    // SQL that carries a password: the route event shows the statement, not the password.
    await db.raw(`drop role if exists sec_role; create role sec_role password '${SECRET}'`);
    await db.raw(`alter role sec_role with encrypted password '${SECRET}'`);
    for (let i = 0; i < 5; i++) {
      await db('sec_items').insert({ v: i });
      await db('sec_items').count().catch(() => undefined);
    }
    // The failing provider has been asked by the background work: its error is somewhere now.
    await until(() => JSON.stringify(db.stats()), (s) => s.includes('vault: cannot renew'), 'the provider error in stats()');
    await until(() => lines.join('\n'), (s) => s.includes('vault: cannot renew'), 'the provider error in a debug line');

    const outputs: Record<string, string> = {
      'debug lines': lines.join('\n'),
      log: said.join('\n'),
      events: events.join('\n'),
      'stats()': JSON.stringify(db.stats()),
      'metrics()': db.metrics(),
      'readiness()': JSON.stringify(await db.readiness()),
    };
    const leaks = Object.entries(outputs).flatMap(([where, text]) => (where === 'events' ? events : text.split('\n')).filter((l) => l.includes(SECRET)).map((l) => `${where}: ${l.slice(0, 300)}`));
    expect(leaks).to.deep.equal([]);
    // Each output point was exercised (knex's log may have nothing to say in this run).
    for (const [where, text] of Object.entries(outputs)) if (where !== 'log') expect(text.length, where).to.be.above(0);
    expect(outputs['stats()']).to.contain('postgres:***@');
  });
});
