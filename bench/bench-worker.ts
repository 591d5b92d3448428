// A benchmark worker process (see worker-handle.ts): builds ONE contender and runs timed
// slices on command, reporting throughput, latencies and its own CPU per operation.
import knex, { type Knex } from 'knex';
import { Pool } from 'pg';
import { splitKnex, type SplitKnex } from '../lib';
import { ClientPG } from '../lib/knex/knex-internals';
import { timeSteps } from './hot-path-steps';
import { measureThroughput, type BenchOp } from './measure-throughput';

type Contender = 'pg.Pool' | 'knex' | 'split-knex';
interface Init {
  contender: Contender;
  primaryUrl: string;
  replicaUrl: string;
  replicaName: string;
  poolSize: number;
  /** Stub the pools' driver connections (hot-path section). */
  stub?: boolean;
}

const ROWS = 10_000;
export const POINT_SQL = 'select * from "bench_items" where "id" = $1 limit $2';
export const RANGE_SQL = 'select * from "bench_items" where "id" >= $1 order by "id" asc limit $2';
const key = (w: number, i: number) => ((w * 7919 + i * 104_729) % ROWS) + 1;

let init: Init;
let pool: Pool | undefined;
let q: Knex | SplitKnex | undefined;

function setup(i: Init): void {
  init = i;
  if (i.stub === true) stubDriver();
  if (i.contender === 'pg.Pool') pool = new Pool({ connectionString: i.replicaUrl, max: i.poolSize });
  else if (i.contender === 'knex') q = knex({ client: 'pg', connection: i.replicaUrl, pool: { min: 0, max: i.poolSize } });
  else q = splitKnex({ client: 'pg', connection: i.primaryUrl, replicas: [{ name: i.replicaName, connection: i.replicaUrl }], pool: { min: 0, max: i.poolSize } });
}

function op(query: 'point' | 'range10'): BenchOp {
  if (pool !== undefined) {
    const p = pool;
    return query === 'point' ? (w, i) => p.query(POINT_SQL, [key(w, i), 1]) : (w, i) => p.query(RANGE_SQL, [key(w, i), 10]);
  }
  const k = q!;
  return query === 'point'
    ? (w, i) => k('bench_items').where({ id: key(w, i) }).first()
    : (w, i) => k('bench_items').where('id', '>=', key(w, i)).orderBy('id').limit(10);
}

async function handle(m: Record<string, unknown>): Promise<unknown> {
  switch (m.cmd) {
    case 'init':
      setup(m as unknown as Init);
      return null;
    case 'sql': {
      const k = q;
      if (k === undefined) return [POINT_SQL, RANGE_SQL];
      return [k('bench_items').where({ id: 1 }).first().toSQL().toNative().sql, k('bench_items').where('id', '>=', 1).orderBy('id').limit(10).toSQL().toNative().sql];
    }
    case 'slice': {
      const cpu0 = process.cpuUsage();
      const r = await measureThroughput({ concurrency: Number(m.concurrency), durationMs: Number(m.durationMs), op: op(m.query as 'point' | 'range10'), record: m.record !== false });
      const cpu = process.cpuUsage(cpu0);
      // µs, rounded: keeps the message small.
      return { ...r, latencies: r.latencies.map((x) => Math.round(x * 1000) / 1000), cpuUsPerOp: r.ops === 0 ? NaN : (cpu.user + cpu.system) / r.ops };
    }
    case 'loop': {
      // Sequential statements; CPU per statement (for the stubbed driver).
      const n = Number(m.iterations);
      const run = op('point');
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await run(0, i);
      const cpu = process.cpuUsage(cpu0);
      return (cpu.user + cpu.system) / n;
    }
    case 'routed': {
      if (init.contender !== 'split-knex') return null;
      const s = (q as SplitKnex).stats();
      const total = s.nodes.reduce((n, x) => n + x.queries, 0);
      return total === 0 ? 0 : (s.nodes.find((x) => x.name === init.replicaName)?.reads ?? 0) / total;
    }
    case 'steps':
      return q === undefined ? [] : timeSteps(q, init.contender === 'split-knex');
    case 'close':
      await pool?.end();
      await q?.destroy();
      return null;
    default:
      throw new Error(`unknown command ${String(m.cmd)}`);
  }
}

const ROW = { id: 1, grp: 1, payload: 'c4ca4238a0b923820dcc509a6f75849b' };

// The pools' driver connections answer every query on the next macrotask, as a socket
// would, with one canned row: what remains is knex's and split-knex's own CPU. Health
// probes and position polls use their own connections to the live servers.
function stubDriver(): void {
  (ClientPG.prototype as unknown as { _acquireOnlyConnection: () => Promise<unknown> })._acquireOnlyConnection = () => Promise.resolve({
    on() { return this; },
    end(cb?: () => void) { cb?.(); return Promise.resolve(); },
    query(config: unknown, cb?: (err: unknown, res: unknown) => void) {
      const sql = typeof config === 'string' ? config : (config as { text: string }).text;
      const rows = /version\(\)/.test(sql) ? [{ version: 'PostgreSQL 15.0 (stub)' }] : /lsn/.test(sql) ? [{ lsn: '0/1000000', replay_lsn: '0/1000000', replay_age_ms: 0 }] : [ROW];
      const res = { command: 'SELECT', rows, rowCount: rows.length, fields: [] };
      if (cb === undefined) return new Promise((resolve) => setImmediate(() => resolve(res)));
      setImmediate(() => cb(null, res));
      return undefined;
    },
  });
}

process.on('message', (m: Record<string, unknown>) => {
  handle(m).then(
    (value) => {
      // After `close`, exit even if a library left a timer or socket behind.
      process.send!({ ok: true, value }, () => {
        if (m.cmd === 'close') process.exit(0);
      });
    },
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
