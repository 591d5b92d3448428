// Generates lib/classify/recovery-refused-functions.ts: every built-in function a hot
// standby refuses to run, found by calling each one there — not written by hand — and
// fixtures/recovery-probe.json: the calls that ran, for the test that checks the list.
//
//   npx tsx scripts/generate-recovery-functions.ts [--out dir] [--verbose]
//
// --verbose also prints every other error and every call slower than 100 ms.
//
// Starts a throwaway primary + 1 streaming replica with the test harness (provider from
// SPLIT_KNEX_PROVIDER, as the tests), creates a few objects to pass as arguments, then on
// the standby calls each function of pg_catalog (plain functions only: no aggregates,
// window functions or procedures, none returning a trigger, none taking or returning
// `internal`) with representative arguments, each inside a savepoint of one transaction
// that is rolled back. A call refused as "during recovery" / read-only is listed.
import fs from 'fs';
import path from 'path';
import { Client } from 'pg';
import { isReadOnlyFunction } from '../lib/classify/read-only-functions';
import { startCluster } from '../test/support/cluster';

// Objects the representative arguments name; made on the primary, replayed on the standby.
const SETUP_SQL = `drop schema if exists split_knex_probe cascade;
create schema split_knex_probe;
create table split_knex_probe.t (id int primary key, v text);
insert into split_knex_probe.t values (1, 'x');
create sequence split_knex_probe.s;
create type split_knex_probe.e as enum ('a', 'b');
select lo_unlink(oid) from pg_largeobject_metadata where oid = 424242;
select lo_from_bytea(424242, '\\x01'::bytea)`;

// Representative value of each type, by `format_type()` name. Types not here get their
// array rule or NULL (a strict function then returns NULL without running: counted).
const VALUES: Record<string, string> = {
  boolean: 'true', smallint: '1::int2', integer: '1', bigint: '1::int8', real: '0.01::float4',
  'double precision': '0.01::float8', numeric: '1::numeric', text: "'x'::text", name: "'x'::name",
  'character varying': "'x'::varchar", character: "'x'::bpchar", '"char"': "'a'::\"char\"", bytea: "'\\x01'::bytea",
  oid: "'split_knex_probe.t'::regclass::oid", regclass: "'split_knex_probe.t'::regclass", regproc: "'now'::regproc",
  regprocedure: "'now()'::regprocedure", regtype: "'int4'::regtype", regnamespace: "'public'::regnamespace",
  regrole: 'current_user::regrole', regconfig: "'english'::regconfig", regdictionary: "'simple'::regdictionary",
  regoperator: "'+(int4,int4)'::regoperator", regoper: "'||/'::regoper", regcollation: "'\"C\"'::regcollation",
  json: `'{"a":1}'::json`, jsonb: `'{"a":1}'::jsonb`, jsonpath: "'$.a'::jsonpath", xml: "'<a/>'::xml",
  date: 'current_date', 'timestamp without time zone': 'localtimestamp', 'timestamp with time zone': 'now()',
  'time without time zone': 'localtime', 'time with time zone': 'current_time', interval: "'1 millisecond'::interval",
  pg_lsn: "'0/0'::pg_lsn", uuid: "'00000000-0000-0000-0000-000000000001'::uuid", inet: "'127.0.0.1'::inet",
  cidr: "'127.0.0.0/8'::cidr", macaddr: "'08:00:2b:01:02:03'::macaddr", macaddr8: "'08:00:2b:01:02:03:04:05'::macaddr8",
  point: "'(1,1)'::point", box: "'(0,0),(1,1)'::box", lseg: "'[(0,0),(1,1)]'::lseg", line: "'{1,-1,0}'::line",
  path: "'((0,0),(1,1))'::path", polygon: "'((0,0),(1,1),(1,0))'::polygon", circle: "'<(0,0),1>'::circle",
  tsvector: "'a b'::tsvector", tsquery: "'a'::tsquery", money: "'1'::money", bit: "'1'::bit", 'bit varying': "'1'::varbit",
  int2vector: "'1'::int2vector", oidvector: "'23'::oidvector", xid: "'1'::xid", xid8: "'1'::xid8", cid: "'1'::cid",
  tid: "'(0,1)'::tid", txid_snapshot: 'txid_current_snapshot()', pg_snapshot: 'pg_current_snapshot()',
  refcursor: "'x'::refcursor", cstring: "'1'::cstring", aclitem: "'=r/postgres'::aclitem",
  int4range: 'int4range(1, 2)', int8range: 'int8range(1, 2)', numrange: 'numrange(1, 2)', daterange: 'daterange(current_date, current_date + 1)',
  tsrange: 'tsrange(localtimestamp, localtimestamp)', tstzrange: 'tstzrange(now(), now())',
  int4multirange: 'int4multirange(int4range(1, 2))', int8multirange: 'int8multirange(int8range(1, 2))',
  nummultirange: 'nummultirange(numrange(1, 2))', datemultirange: 'datemultirange(daterange(current_date, current_date + 1))',
  tsmultirange: 'tsmultirange(tsrange(localtimestamp, localtimestamp))', tstzmultirange: 'tstzmultirange(tstzrange(now(), now()))',
  // pseudo-types: a concrete value the polymorphic function accepts
  '"any"': '1', anyelement: '1', anynonarray: '1', anycompatible: '1', anycompatiblenonarray: '1',
  anyarray: "'{1}'::int4[]", anycompatiblearray: "'{1}'::int4[]", anyrange: 'int4range(1, 2)',
  anycompatiblerange: 'int4range(1, 2)', anymultirange: 'int4multirange(int4range(1, 2))',
  anycompatiblemultirange: 'int4multirange(int4range(1, 2))', anyenum: "'a'::split_knex_probe.e", record: "row(1, 'x')",
};

// Second tries, for a call the first values made fail for another reason (`"t" is not a
// sequence`, `role "x" does not exist`, `large object … does not exist`, `could not open
// server file "x"`).
const SECOND_VALUES: Record<string, string> = {
  // PG_VERSION: a file every data directory has (lo_import, pg_read_file).
  regclass: "'split_knex_probe.s'::regclass", oid: '424242::oid', text: "'PG_VERSION'::text", name: 'current_user',
};

// Never called: it would end the standby's recovery, and with it the run.
const NEVER_CALL = new Set(['pg_promote']);

// The signature of a standby refusing a call because it is one ("... during recovery",
// "... in a read-only transaction", "... while in recovery", "hot standby ...").
function isRecoveryRefusal(code: string | undefined, message: string): boolean {
  if (code === '25006') return true;
  return /recovery|hot standby|read-only transaction/i.test(message) && !/not in progress/i.test(message);
}

let verbose = false;

interface ProcRow { name: string; args: string[]; elem: Array<string | null>; strict: boolean }
interface Outcome { name: string; call: string; code?: string; message?: string; nullArgs: boolean; strict: boolean }

function valueOf(type: string, elem: string | null): string | undefined {
  const known = VALUES[type];
  if (known !== undefined) return known;
  // An array of a type we can make: `array[value]`, cast to the array type.
  if (type.endsWith('[]') && elem !== null && VALUES[elem] !== undefined) return `array[${VALUES[elem]}]::${type}`;
  return undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  verbose = args.includes('--verbose');
  const outIndex = args.indexOf('--out');
  const root = outIndex >= 0 && args[outIndex + 1] !== undefined ? path.resolve(args[outIndex + 1]!) : path.join(__dirname, '..');
  const out = path.join(root, 'lib/classify/recovery-refused-functions.ts');
  const fixture = path.join(root, 'fixtures/recovery-probe.json');
  const started = Date.now();
  // wal_level logical, so logical-decoding functions reach their recovery check.
  const cluster = await startCluster({ replicas: 1, fixtures: false, log: () => undefined, settings: { wal_level: 'logical' } });
  const standby = new Client({ connectionString: cluster.replicas[0]!.url });
  try {
    await cluster.query('primary', SETUP_SQL);
    await cluster.waitForReplication();
    await standby.connect();
    const version = String((await standby.query('show server_version')).rows[0].server_version);
    const [{ standby: inRecovery }] = (await standby.query('select pg_is_in_recovery() as standby')).rows;
    if (inRecovery !== true) throw new Error('the replica is not in recovery');

    const procs = (await standby.query(`
      select p.proname::text as name, p.proisstrict as strict,
             array(select format_type(t, null) from unnest(p.proargtypes) with ordinality a(t, n) order by n) as args,
             array(select format_type(nullif(ty.typelem, 0), null) from unnest(p.proargtypes) with ordinality a(t, n)
                     join pg_type ty on ty.oid = a.t order by n) as elem
        from pg_proc p
       where p.pronamespace = 'pg_catalog'::regnamespace and p.prokind = 'f'
         and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype, 'internal'::regtype)
         and not ('internal'::regtype = any (p.proargtypes::oid[]))
       order by p.proname, p.oid`)).rows as ProcRow[];

    // One connection, one transaction rolled back at the end; a savepoint per call. A
    // bounded statement_timeout keeps pg_sleep() and anything waiting from stalling the run.
    await standby.query("set statement_timeout = '1s'; set client_min_messages = error; begin");
    const outcomes: Outcome[] = [];
    for (const p of procs) {
      if (NEVER_CALL.has(p.name)) continue;
      let nullArgs = false;
      const values = p.args.map((type, i) => {
        const v = valueOf(type, p.elem[i] ?? null);
        if (v !== undefined) return v;
        nullArgs = true;
        return `null::${type}`;
      });
      let outcome = await probe(standby, p, values, nullArgs);
      if (outcome.code !== undefined && !isRecoveryRefusal(outcome.code, outcome.message ?? '')) {
        const second = values.map((v, i) => SECOND_VALUES[p.args[i]!] ?? v);
        if (second.some((v, i) => v !== values[i])) {
          const retry = await probe(standby, p, second, nullArgs);
          if (retry.code === undefined || isRecoveryRefusal(retry.code, retry.message ?? '')) outcome = retry;
        }
      }
      outcomes.push(outcome);
    }
    await standby.query('rollback');

    const refused = outcomes.filter((o) => isRecoveryRefusal(o.code, o.message ?? ''));
    const refusedNames = new Set(refused.map((o) => o.name));
    const firstByName = new Map<string, Outcome>();
    for (const o of refused) if (!firstByName.has(o.name)) firstByName.set(o.name, o);
    // Calls that ran with real arguments, of the functions the classifier lets go to a
    // replica by name (one call each): the test runs them on a standby again. Functions whose
    // answer depends on the server's files are left out (the test's standby is another one).
    const sample: Outcome[] = [];
    const sampled = new Set<string>();
    for (const o of outcomes) {
      if (o.code !== undefined || o.nullArgs || refusedNames.has(o.name) || sampled.has(o.name)) continue;
      if (!isReadOnlyFunction(o.name) || /^pg_(read|ls|stat_file)/.test(o.name)) continue;
      sampled.add(o.name);
      sample.push(o);
    }

    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.mkdirSync(path.dirname(fixture), { recursive: true });
    fs.writeFileSync(out, render(version, [...firstByName.values()]));
    fs.writeFileSync(fixture, `${JSON.stringify({
      note: 'Generated by `npx tsx scripts/generate-recovery-functions.ts`: run setupSql on the primary, then each call on a standby.',
      postgres: version,
      setupSql: SETUP_SQL,
      ran: sample.map((o) => o.call),
    }, null, 1)}\n`);
    const codes = countBy(refused.map((o) => o.code ?? 'none'));
    const otherErrors = outcomes.filter((o) => o.code !== undefined && !refusedNames.has(o.name)).length;
    const strictNull = outcomes.filter((o) => o.nullArgs && o.strict).length;
    console.log(`PostgreSQL ${version}: called ${outcomes.length} functions (${new Set(outcomes.map((o) => o.name)).size} names) on the standby in ${Date.now() - started} ms`);
    console.log(`refused during recovery: ${refusedNames.size} names (${refused.length} overloads), SQLSTATEs ${JSON.stringify(codes)}`);
    console.log(`other errors (arguments, privileges, missing objects): ${otherErrors}; strict functions called with a NULL argument (not exercised): ${strictNull}`);
    for (const o of firstByName.values()) console.log(`  ${o.code} ${o.name}: ${o.message}`);
    if (verbose) {
      for (const o of outcomes) if (o.code !== undefined && !refusedNames.has(o.name)) console.log(`  other ${o.code} ${o.call}: ${o.message}`);
    }
    console.log(`wrote ${path.relative(process.cwd(), out)} and ${path.relative(process.cwd(), fixture)} (${sample.length} calls that ran)`);
  } finally {
    await standby.end().catch(() => undefined);
    await cluster.destroy();
  }
}

// One call in a savepoint: what the standby said.
async function probe(standby: Client, p: ProcRow, values: string[], nullArgs: boolean): Promise<Outcome> {
  const call = `pg_catalog.${quoteIdent(p.name)}(${values.join(', ')})`;
  const outcome: Outcome = { name: p.name, call, nullArgs, strict: p.strict };
  await standby.query('savepoint probe');
  const t0 = Date.now();
  try {
    await standby.query(`select ${call} limit 1`);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    outcome.code = e.code;
    outcome.message = e.message ?? String(error);
  }
  await standby.query('rollback to savepoint probe');
  if (verbose && Date.now() - t0 > 100) console.log(`  slow ${Date.now() - t0} ms ${call}`);
  return outcome;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function render(version: string, refused: Outcome[]): string {
  const lines = [
    '// GENERATED FILE, do not edit: `npx tsx scripts/generate-recovery-functions.ts`',
    `// from a PostgreSQL ${version} hot standby. Each built-in function of pg_catalog was called`,
    '// there with representative arguments (in a rolled-back transaction); these refused.',
    '',
    '/**',
    ' * A built-in function a hot standby refuses to run: its name, one call that was refused,',
    ' * and the SQLSTATE it was refused with.',
    ' *',
    ' * @example',
    " * const refused: RecoveryRefusal = { name: 'pg_switch_wal', call: 'pg_catalog.pg_switch_wal()', code: '55000' };",
    ' */',
    'export interface RecoveryRefusal {',
    '  name: string;',
    '  call: string;',
    '  code: string;',
    '}',
    '',
    '/**',
    ' * Every built-in function name a standby refused to run, in name order.',
    ' *',
    ' * @example',
    " * RECOVERY_REFUSED_FUNCTIONS.some((f) => f.name === 'pg_current_wal_lsn'); // true",
    ' */',
    'export const RECOVERY_REFUSED_FUNCTIONS: readonly RecoveryRefusal[] = [',
    ...refused.map((o) => `  { name: ${JSON.stringify(o.name)}, call: ${JSON.stringify(o.call)}, code: ${JSON.stringify(o.code ?? '')} },`),
    '];',
    '',
  ];
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
