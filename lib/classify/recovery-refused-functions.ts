// GENERATED FILE, do not edit: `npx tsx scripts/generate-recovery-functions.ts`
// from a PostgreSQL 15.20 (Debian 15.20-0+deb12u1) hot standby. Each built-in function of pg_catalog was called
// there with representative arguments (in a rolled-back transaction); these refused.

/**
 * A built-in function a hot standby refuses to run: its name, one call that was refused,
 * and the SQLSTATE it was refused with.
 *
 * @example
 * const refused: RecoveryRefusal = { name: 'pg_switch_wal', call: 'pg_catalog.pg_switch_wal()', code: '55000' };
 */
export interface RecoveryRefusal {
  name: string;
  call: string;
  code: string;
}

/**
 * Every built-in function name a standby refused to run, in name order.
 *
 * @example
 * RECOVERY_REFUSED_FUNCTIONS.some((f) => f.name === 'pg_current_wal_lsn'); // true
 */
export const RECOVERY_REFUSED_FUNCTIONS: readonly RecoveryRefusal[] = [
  { name: "brin_desummarize_range", call: "pg_catalog.brin_desummarize_range('split_knex_probe.t'::regclass, 1::int8)", code: "55000" },
  { name: "brin_summarize_new_values", call: "pg_catalog.brin_summarize_new_values('split_knex_probe.t'::regclass)", code: "55000" },
  { name: "brin_summarize_range", call: "pg_catalog.brin_summarize_range('split_knex_probe.t'::regclass, 1::int8)", code: "55000" },
  { name: "lo_creat", call: "pg_catalog.lo_creat(1)", code: "XX000" },
  { name: "lo_create", call: "pg_catalog.lo_create('split_knex_probe.t'::regclass::oid)", code: "XX000" },
  { name: "lo_from_bytea", call: "pg_catalog.lo_from_bytea('split_knex_probe.t'::regclass::oid, '\\x01'::bytea)", code: "XX000" },
  { name: "lo_import", call: "pg_catalog.lo_import('PG_VERSION'::text)", code: "XX000" },
  { name: "lo_put", call: "pg_catalog.lo_put(424242::oid, 1::int8, '\\x01'::bytea)", code: "XX000" },
  { name: "lo_unlink", call: "pg_catalog.lo_unlink('split_knex_probe.t'::regclass::oid)", code: "55000" },
  { name: "nextval", call: "pg_catalog.nextval('split_knex_probe.s'::regclass)", code: "25006" },
  { name: "pg_copy_logical_replication_slot", call: "pg_catalog.pg_copy_logical_replication_slot('x'::name, 'x'::name, true, 'x'::name)", code: "0A000" },
  { name: "pg_create_logical_replication_slot", call: "pg_catalog.pg_create_logical_replication_slot('x'::name, 'x'::name, true, true)", code: "0A000" },
  { name: "pg_create_restore_point", call: "pg_catalog.pg_create_restore_point('x'::text)", code: "55000" },
  { name: "pg_current_wal_flush_lsn", call: "pg_catalog.pg_current_wal_flush_lsn()", code: "55000" },
  { name: "pg_current_wal_insert_lsn", call: "pg_catalog.pg_current_wal_insert_lsn()", code: "55000" },
  { name: "pg_current_wal_lsn", call: "pg_catalog.pg_current_wal_lsn()", code: "55000" },
  { name: "pg_current_xact_id", call: "pg_catalog.pg_current_xact_id()", code: "25006" },
  { name: "pg_import_system_collations", call: "pg_catalog.pg_import_system_collations('public'::regnamespace)", code: "55000" },
  { name: "pg_logical_emit_message", call: "pg_catalog.pg_logical_emit_message(true, 'x'::text, 'x'::text)", code: "XX000" },
  { name: "pg_notify", call: "pg_catalog.pg_notify('x'::text, 'x'::text)", code: "25006" },
  { name: "pg_replication_origin_advance", call: "pg_catalog.pg_replication_origin_advance('x'::text, '0/0'::pg_lsn)", code: "25006" },
  { name: "pg_replication_origin_create", call: "pg_catalog.pg_replication_origin_create('x'::text)", code: "25006" },
  { name: "pg_replication_origin_drop", call: "pg_catalog.pg_replication_origin_drop('x'::text)", code: "25006" },
  { name: "pg_replication_origin_oid", call: "pg_catalog.pg_replication_origin_oid('x'::text)", code: "25006" },
  { name: "pg_replication_origin_session_is_setup", call: "pg_catalog.pg_replication_origin_session_is_setup()", code: "25006" },
  { name: "pg_replication_origin_session_progress", call: "pg_catalog.pg_replication_origin_session_progress(true)", code: "25006" },
  { name: "pg_replication_origin_session_reset", call: "pg_catalog.pg_replication_origin_session_reset()", code: "25006" },
  { name: "pg_replication_origin_session_setup", call: "pg_catalog.pg_replication_origin_session_setup('x'::text)", code: "25006" },
  { name: "pg_replication_origin_xact_reset", call: "pg_catalog.pg_replication_origin_xact_reset()", code: "25006" },
  { name: "pg_replication_origin_xact_setup", call: "pg_catalog.pg_replication_origin_xact_setup('0/0'::pg_lsn, now())", code: "25006" },
  { name: "pg_switch_wal", call: "pg_catalog.pg_switch_wal()", code: "55000" },
  { name: "pg_walfile_name", call: "pg_catalog.pg_walfile_name('0/0'::pg_lsn)", code: "55000" },
  { name: "pg_walfile_name_offset", call: "pg_catalog.pg_walfile_name_offset('0/0'::pg_lsn)", code: "55000" },
  { name: "setval", call: "pg_catalog.setval('split_knex_probe.s'::regclass, 1::int8)", code: "25006" },
  { name: "txid_current", call: "pg_catalog.txid_current()", code: "25006" },
];
