import { expect } from 'chai';
import { parsePgbench } from '../../bench/pgbench-ceiling';
import { readWaits, renderCeiling } from '../../bench/render-mix';
import type { BenchRun } from '../../bench/bench-run';
import type { MixResult } from '../../bench/mix-bench';

// pgbench 15.20's summaries, as the ceiling runs it (-n -M extended -c 2 -j 1 -T 1).
const summary = (type: string, processed: number, tps: string) => `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: ${type}
scaling factor: 1
query mode: extended
number of clients: 2
number of threads: 1
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: ${processed}
number of failed transactions: 0 (0.000%)
latency average = 0.154 ms
initial connection time = 4.145 ms
tps = ${tps} (without initial connection time)
`;

const TWO_SCRIPTS = `${summary('multiple scripts', 12906, '12957.467059')}SQL script 1: /tmp/r.sql
 - weight: 60 (targets 60.0% of total)
 - 7753 transactions (60.1% of total, tps = 7783.917721)
 - number of failed transactions: 0 (0.000%)
 - latency average = 0.132 ms
 - latency stddev = 0.067 ms
SQL script 2: /tmp/w.sql
 - weight: 40 (targets 40.0% of total)
 - 5153 transactions (39.9% of total, tps = 5173.549338)
 - number of failed transactions: 0 (0.000%)
 - latency average = 0.179 ms
 - latency stddev = 0.101 ms
`;

const ONE_SCRIPT = summary('/tmp/r.sql', 18740, '18809.293437');

describe('bench: the pgbench ceiling', () => {
  it('reads tps and, per script, the reads (first) and the updates (second)', () => {
    expect(parsePgbench(TWO_SCRIPTS)).to.deep.equal({ tps: 12957.467059, reads: 7753, writes: 5153 });
  });

  it('counts every transaction of a one-script (read-only) run as a read', () => {
    expect(parsePgbench(ONE_SCRIPT)).to.deep.equal({ tps: 18809.293437, reads: 18740, writes: 0 });
  });

  it('throws on output without a tps line (a failed run is not a zero)', () => {
    expect(() => parsePgbench('pgbench: error: connection to server failed')).to.throw(/printed no tps/);
  });

  it('the report says why the ceiling is missing, and nothing when it was not asked for', () => {
    const run = (capped: Partial<NonNullable<BenchRun['capped']>>) => ({ capped: { caps: { fraction: 0.25, periodUs: 100_000, verified: {}, moved: {} }, ...capped } }) as unknown as BenchRun;
    expect(renderCeiling(run({ ceilingError: 'pgbench failed: not found' })).join('\n')).to.contain('The pgbench ceiling was not measured: pgbench failed: not found');
    expect(renderCeiling(run({}))).to.deep.equal([]);
  });

  it('the report gives the ceiling, each setup and its share of updates', () => {
    const observed = [{ seconds: 3, nodes: { primary: { periods: 30, throttled: 30, cores: 0.25 } }, hostBusyCores: 1 }];
    const run = {
      capped: {
        caps: { fraction: 0.25, periodUs: 100_000, verified: {}, moved: {} },
        ceiling: {
          version: 'pgbench (PostgreSQL) 15.20', clientsPerNode: 8, ratio: 3.5,
          rows: [
            { name: 'pgbench → primary', setup: 'one node', tps: 2000, writeShare: 0.1, rounds: [2000], observed },
            { name: 'pgbench, reads on all three nodes', setup: 'three nodes', tps: 7000, writeShare: 0.105, rounds: [7000], observed },
          ],
        },
      },
    } as unknown as BenchRun;
    const text = renderCeiling(run).join('\n');
    expect(text).to.contain('**3.50×** of everything on the primary');
    expect(text).to.match(/\| pgbench, reads on all three nodes \(three nodes\) \| 7,?000 \| 3\.50× \| 10\.5% \| 7000 \| primary 30\/30 0\.25 core/);
  });
});

describe('bench: what a capped contender\'s reads waited for', () => {
  const result = (consistency: unknown) => ({ consistency }) as unknown as MixResult;

  it('averages the replica waits and the shared position reads from stats().consistency', () => {
    expect(readWaits(result({ causalWaits: 4, causalWaitMs: 10, lsnCaptures: 2, lsnCaptureMs: 3 })))
      .to.equal("4 reads waited for a replica to replay their scope's writes, 2.50 ms each on average; 2 shared reads of the primary's WAL position, 1.50 ms each");
  });

  it('says nothing for a contender that never waited or has no such counters', () => {
    expect(readWaits(result({ causalWaits: 0, lsnCaptures: 0 }))).to.equal(undefined);
    expect(readWaits(result(undefined))).to.equal(undefined);
  });
});
