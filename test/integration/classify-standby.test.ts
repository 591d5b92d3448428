import { expect } from 'chai';
import fs from 'fs';
import path from 'path';
import { Client } from 'pg';
import { classifySql } from '../../lib';
import { getTestCluster } from '../support/cluster';

interface Case { sql: string; target: 'primary' | 'replica'; execute?: boolean; params?: unknown[]; note?: string }

const dir = path.join(__dirname, '../../fixtures/sql');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

// A standby refuses what it cannot do with one of these; anything else is a broken case.
function refusedByStandby(err: { code?: string; message?: string }): boolean {
  if (err.code === '25006') return true;
  return /recovery|read-only|hot standby/i.test(err.message ?? '');
}

function paramsFor(c: Case): unknown[] | undefined {
  if (c.params !== undefined) return c.params;
  let max = 0;
  for (const m of c.sql.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max === 0 ? undefined : Array.from({ length: max }, () => null);
}

// The standby, not our opinion, is the ground truth: every case the classifier sends to a
// replica must run there, and every case the standby refuses must be classified primary.
describe('classifier fixtures against a real hot standby (BEGIN … ROLLBACK)', () => {
  let client: Client;
  const counts = { replicaOk: 0, refused: 0, primaryOk: 0, skipped: 0 };

  before(async () => {
    const cluster = getTestCluster();
    await cluster.waitForReplication();
    const replica = cluster.replicas[0]!;
    client = new Client({ connectionString: replica.url });
    await client.connect();
    const [{ standby }] = (await client.query('select pg_is_in_recovery() as standby')).rows;
    expect(standby).to.equal(true);
  });
  after(async () => {
    console.log(`[figures] standby ground truth: ${counts.replicaOk} replica cases ran, ${counts.refused} refused (all expected primary), ${counts.primaryOk} primary cases ran anyway, ${counts.skipped} not executable`);
    await client?.end();
  });

  for (const file of files) {
    const cases = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Case[];
    describe(file, () => {
      for (const c of cases) {
        if (c.execute === false) {
          counts.skipped++;
          continue;
        }
        it(`${c.target}: ${c.sql.replace(/\s+/g, ' ').slice(0, 90)}`, async () => {
          await client.query('BEGIN');
          let error: { code?: string; message?: string } | undefined;
          try {
            const params = paramsFor(c);
            await (params === undefined ? client.query(c.sql) : client.query(c.sql, params));
          } catch (e) {
            error = e as { code?: string; message?: string };
          } finally {
            await client.query('ROLLBACK').catch(() => undefined);
          }
          const ours = classifySql(c.sql).target;
          expect(ours, 'classifySql agrees with the fixture').to.equal(c.target);
          if (error === undefined) {
            if (c.target === 'replica') counts.replicaOk++;
            else counts.primaryOk++;
            return;
          }
          if (refusedByStandby(error)) {
            counts.refused++;
            expect(c.target, `the standby refused it (${error.code}: ${error.message})`).to.equal('primary');
            return;
          }
          expect.fail(`case is not valid on the fixture schema: ${error.code}: ${error.message}`);
        });
      }
    });
  }
});
