import { expect } from 'chai';
import http from 'http';
import type { AddressInfo } from 'net';
import { createNotesApp, createNotesTable, TOKEN_COOKIE } from '../../examples/express-consistency';
import { arrayQueue, createOrdersTable, handleJob, placeOrder, runJobWorker, type Job, type JobOutcome } from '../../examples/job-worker';
import type { SplitKnex } from '../../lib';
import { getTestCluster, type NodeInfo } from '../support/cluster';
import { makeDb } from '../support/split-db';
import { useLaggingReplica } from '../support/lagging-replica';

// The docs' examples, run against the cluster with the lag replica 300 ms behind: the
// classic "create, redirect, 404" and "job reads what the request wrote" scenarios.
describe('consistency: the documented examples', function () {
  this.timeout(120_000);
  const cluster = () => getTestCluster();
  let lag: NodeInfo;
  const lagging = (): SplitKnex => makeDb({ replicas: [{ name: lag.name, connection: lag.url }], sticky: { mode: 'lsn' }, lag: { pollIntervalMs: 100 } });

  useLaggingReplica(300, async (l) => {
    lag = l;
    const setup = makeDb();
    await createOrdersTable(setup);
    await createNotesTable(setup);
  });

  it('job worker: every job finds the order its request wrote (token), and the report job reads from the replica (reset)', async () => {
    const web = lagging();
    const worker = lagging();
    const jobs: Job[] = [];
    for (let i = 1; i <= 5; i++) jobs.push(await placeOrder(web, i, `customer ${i}`));
    jobs.push({ id: 6, kind: 'daily-report' });
    const outcomes: JobOutcome[] = [];
    const done = await runJobWorker(worker, arrayQueue(jobs), (job) => handleJob(worker, job, outcomes));
    expect(done).to.equal(6);
    expect(outcomes.slice(0, 5).every((o) => o.found && !o.readOnStandby)).to.equal(true);
    expect(outcomes[5]).to.include({ found: true, readOnStandby: true });
    // Without the reset, the last job would inherit job 5's write (its UPDATE) and go to the primary.
    const inherited = await worker.runInContext(async () => {
      await worker('example_orders').where({ id: jobs[4]!.orderId }).update({ status: 'again' });
      const { rows } = await worker.raw('select pg_is_in_recovery() as standby from example_orders limit 1');
      return rows[0].standby as boolean;
    });
    expect(inherited).to.equal(false);
    const stale = await worker.runInContext(async () => {
      const order = await placeOrder(web, 7, 'no token');
      return worker('example_orders').where({ id: order.orderId }).first();
    });
    console.log(`[figures] job worker: ${outcomes.filter((o) => o.found).length}/6 jobs found their rows; without a token a fresh order read ${stale === undefined ? 'stale (missing)' : 'found'}`);
  });

  it('HTTP app on two servers: a note created through server A is never a 404 through server B with the cookie', async () => {
    const servers = [createNotesApp(lagging()), createNotesApp(lagging())].map((app) => http.createServer(app).listen(0, '127.0.0.1'));
    try {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.once('listening', resolve))));
      const [a, b] = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
      let withCookie404 = 0;
      let withoutCookie404 = 0;
      for (let i = 0; i < 10; i++) {
        const created = await fetch(`${a}/notes?body=n${i}`, { method: 'POST', redirect: 'manual' });
        expect(created.status).to.equal(303);
        const cookie = created.headers.get('set-cookie')!.split(';')[0]!;
        expect(cookie.startsWith(`${TOKEN_COOKIE}=`)).to.equal(true);
        const location = created.headers.get('location')!;
        const followed = await fetch(`${b}${location}`, { headers: { cookie } });
        if (followed.status === 404) withCookie404++;
        else expect(((await followed.json()) as { body: string }).body).to.equal(`n${i}`);
        const anonymous = await fetch(`${b}${location}`);
        if (anonymous.status === 404) withoutCookie404++;
      }
      console.log(`[figures] HTTP create-redirect-read over two servers, 10 notes: ${withCookie404} 404s with the token cookie, ${withoutCookie404} without it`);
      expect(withCookie404).to.equal(0);
      expect(withoutCookie404).to.be.above(0);
      const tampered = await fetch(`${b}/notes/1`, { headers: { cookie: `${TOKEN_COOKIE}=bm90IGEgdG9rZW4` } });
      expect(tampered.status).to.equal(400);
      expect(((await tampered.json()) as { error: string }).error).to.contain('consistency token');
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });
});
