import { expect } from 'chai';
import { createServer } from 'net';
import { SplitKnexError, splitKnex, type SplitKnex } from '../../lib';

// No database: every node is a port nothing listens on, so every connection is refused.
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

describe('health wired into splitKnex (nodes that refuse connections)', () => {
  let db: SplitKnex | undefined;
  afterEach(async () => { await db?.destroy(); db = undefined; });

  async function deadCluster(extra: Record<string, unknown> = {}): Promise<SplitKnex> {
    const [p, r1, r2] = [await closedPort(), await closedPort(), await closedPort()];
    db = splitKnex({
      client: 'pg', connection: `postgres://app:secret@127.0.0.1:${p}/app`,
      replicas: [{ name: 'r1', connection: `postgres://app:secret@127.0.0.1:${r1}/app` }, { name: 'r2', connection: `postgres://app:secret@127.0.0.1:${r2}/app` }],
      health: { intervalMs: 20, timeoutMs: 200 }, log: QUIET, catalog: false, ...extra,
    });
    // Background work starts with the first statement or ready(); these tests watch the probes alone.
    void db.ready();
    return db;
  }

  const allDown = (d: SplitKnex) => new Promise<void>((resolve) => {
    const check = () => (Object.values((d.stats().health as any).nodes).every((n: any) => n.state === 'down') ? resolve() : setTimeout(check, 10));
    check();
  });

  it('ejects every node, emits node-down for each, and reports it in stats() without the password', async () => {
    const d = await deadCluster();
    const downs: string[] = [];
    d.on('node-down', (e) => downs.push(e.node));
    await allDown(d);
    expect(downs.sort()).to.deep.equal(['primary', 'r1', 'r2']);
    const s = d.stats();
    expect(s.nodes.map((n) => n.state)).to.deep.equal(['down', 'down', 'down']);
    expect(s.nodes[1]!.lastError).to.match(/ECONNREFUSED/);
    expect(JSON.stringify(s)).to.not.include('secret');
    expect((s.health as any).writer).to.equal('primary');
  });

  it('fails writes at once with ESPLIT_PRIMARY_DOWN once the primary is known down, and reads with the fallback rule', async () => {
    const d = await deadCluster({ routing: { fallback: 'error' } });
    await allDown(d);
    const write = await d('t').insert({ a: 1 }).then(() => undefined, (e: unknown) => e as SplitKnexError);
    // Refused by the writer guard, without a connection attempt: no new error on the primary's pool.
    expect(d.stats().nodes[0]!.pool.pendingCreates).to.equal(0);
    expect(write?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect(write?.message).to.match(/^split-knex: the primary \(primary\) is down: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    const read = await d('t').select().then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(read?.code).to.equal('ESPLIT_NO_REPLICA');
    expect((d.stats().health as any).primaryDownErrors).to.equal(1);
  });

  it('before anything is known, a write fails with ESPLIT_PRIMARY_DOWN after its connection attempt, with the cause', async () => {
    const d = await deadCluster({ health: { intervalMs: 60_000 } });
    const write = await d.raw('insert into t values (1)').then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(write?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect((write?.cause as { code?: string }).code).to.equal('ECONNREFUSED');
  });

  it('adds the connect timeout to every pool connection unless it is set', async () => {
    const d = await deadCluster({ health: { connectTimeoutMs: 1234 } });
    expect(d.client.config.connection).to.include({ connectionTimeoutMillis: 1234 });
  });

  it('health: false: no probe, nodes stay up, stats say so; reads are still retried', async () => {
    const d = await deadCluster({ health: false });
    await new Promise((r) => setTimeout(r, 100));
    const h = d.stats().health as any;
    expect(h.enabled).to.equal(false);
    expect(Object.values(h.nodes).map((n: any) => [n.state, n.probes])).to.deep.equal([['up', 0], ['up', 0], ['up', 0]]);
    const read = await d.raw('select 1').then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(read?.code).to.equal('ESPLIT_PRIMARY_DOWN'); // r1 refused, r2 refused, then the primary refused
    expect((d.stats().health as any).retries).to.equal(2);
  });

  it('destroy() stops the probes (no timer keeps the process alive, no probe after)', async () => {
    const d = await deadCluster();
    await allDown(d);
    await d.destroy();
    db = undefined;
    const before = (d.stats().health as any).nodes.r1.probes;
    await new Promise((r) => setTimeout(r, 100));
    expect((d.stats().health as any).nodes.r1.probes).to.equal(before);
  });
});
