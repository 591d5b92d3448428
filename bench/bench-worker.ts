// A benchmark worker process (see worker-handle.ts): builds ONE contender and runs timed
// slices on command, reporting throughput, latencies and its own CPU per operation.
// Only split-knex's public API is used here (splitKnex(config), db.stats(), db.destroy()),
// so the worker keeps running while the library's core changes underneath it.
import knex, { type Knex } from 'knex';
import { Pool } from 'pg';
import type { SplitKnex, SplitKnexConfig } from '../lib';
import { splitKnex } from './library';
import { measureThroughput, type BenchOp } from './measure-throughput';
import type { WorkerInit } from './worker-handle';

const ROWS = 10_000;
export const POINT_SQL = 'select * from "bench_items" where "id" = $1 limit $2';
export const RANGE_SQL = 'select * from "bench_items" where "id" >= $1 order by "id" asc limit $2';
const key = (w: number, i: number) => ((w * 7919 + i * 104_729) % ROWS) + 1;

type Query = 'point' | 'range10' | 'write-read';

let init: WorkerInit;
let pool: Pool | undefined;
let q: Knex | SplitKnex | undefined;
/** Write-then-read pairs whose read did not return the row just written (this slice). */
let stale = 0;

function setup(i: WorkerInit): void {
  init = i;
  if (i.stub === true) stubDriver();
  if (i.contender === 'pg.Pool') pool = new Pool({ connectionString: i.url, max: i.poolSize });
  else if (i.contender === 'knex') q = knex({ client: 'pg', connection: i.url, pool: { min: 0, max: i.poolSize } });
  else {
    q = splitKnex({
      client: 'pg',
      connection: i.url,
      replicas: (i.replicas ?? []).map((r) => ({ name: r.name, connection: r.url, ...(r.weight === undefined ? {} : { weight: r.weight }) })),
      pool: { min: 0, max: i.poolSize },
      ...(i.config as Partial<SplitKnexConfig> | undefined),
    });
  }
}

function op(query: Query): BenchOp {
  if (pool !== undefined) {
    const p = pool;
    return query === 'point' ? (w, i) => p.query(POINT_SQL, [key(w, i), 1]) : (w, i) => p.query(RANGE_SQL, [key(w, i), 10]);
  }
  const k = q!;
  if (query === 'write-read') {
    // Insert a row, then read it by id at once: a read that misses it (or sees another
    // value) is a stale read-your-writes.
    return async (w, i) => {
      const v = w * 1_000_000 + i;
      const [row] = (await k('bench_wtr').insert({ v }).returning('id')) as Array<{ id: string | number }>;
      const seen = (await k('bench_wtr').select('v').where({ id: row!.id }).first()) as { v: number } | undefined;
      if (seen?.v !== v) stale++;
    };
  }
  return query === 'point'
    ? (w, i) => k('bench_items').where({ id: key(w, i) }).first()
    : (w, i) => k('bench_items').where('id', '>=', key(w, i)).orderBy('id').limit(10);
}

async function handle(m: Record<string, unknown>): Promise<unknown> {
  switch (m.cmd) {
    case 'init':
      setup(m as unknown as WorkerInit);
      return null;
    case 'sql': {
      const k = q;
      if (k === undefined) return [POINT_SQL, RANGE_SQL];
      return [k('bench_items').where({ id: 1 }).first().toSQL().toNative().sql, k('bench_items').where('id', '>=', 1).orderBy('id').limit(10).toSQL().toNative().sql];
    }
    case 'slice': {
      stale = 0;
      const cpu0 = process.cpuUsage();
      const r = await measureThroughput({ concurrency: Number(m.concurrency), durationMs: Number(m.durationMs), op: op(m.query as Query), record: m.record !== false });
      const cpu = process.cpuUsage(cpu0);
      // µs, rounded: keeps the message small.
      return { ...r, stale, latencies: r.latencies.map((x) => Math.round(x * 1000) / 1000), cpuUsPerOp: r.ops === 0 ? NaN : (cpu.user + cpu.system) / r.ops };
    }
    case 'loop': {
      // Sequential operations (point SELECTs unless `query` says otherwise); CPU per operation (for the stubbed driver).
      const n = Number(m.iterations);
      const run = op((m.query as Query | undefined) ?? 'point');
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await run(0, i);
      const cpu = process.cpuUsage(cpu0);
      return (cpu.user + cpu.system) / n;
    }
    case 'routed': {
      // Share of statements split-knex sent to each node, by its own counters.
      if (init.contender !== 'split-knex') return null;
      const s = (q as SplitKnex).stats();
      const total = s.nodes.reduce((n, x) => n + x.queries, 0);
      return Object.fromEntries(s.nodes.map((x) => [x.name, total === 0 ? 0 : x.queries / total]));
    }
    case 'stats':
      // split-knex's own stats() (plain JSON: bigint positions as strings).
      return init.contender === 'split-knex' ? JSON.parse(JSON.stringify((q as SplitKnex).stats(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) : null;
    case 'steps': {
      // The per-step timings reach into the library's internals: when the core has moved
      // on, this part is reported as unavailable instead of failing the worker.
      if (q === undefined) return [];
      try {
        const { timeSteps } = await import('./hot-path-steps');
        return await timeSteps(q, init.contender === 'split-knex');
      } catch (err) {
        return [{ step: `per-step timings unavailable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, us: NaN }];
      }
    }
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
// probes and position polls use their own connections to the live servers. Patched on
// knex's own PostgreSQL dialect, which split-knex's nodes are built from.
function stubDriver(): void {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ClientPG = require('knex/lib/dialects/postgres') as { prototype: Record<string, unknown> };
  ClientPG.prototype['_acquireOnlyConnection'] = () => Promise.resolve({
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
