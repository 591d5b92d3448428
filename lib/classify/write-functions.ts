/**
 * Built-in functions that write, or act on state a replica does not share
 * (sequences, session settings, locks, notifications, WAL, backends, files,
 * statistics, large objects, remote databases). A query calling one goes to the
 * primary even when a FunctionCatalog says the function is stable, and even when
 * it is written schema-qualified.
 *
 * Some of these would run on a hot standby (`pg_advisory_lock`, `set_config`,
 * `pg_reload_conf`) but their effect is tied to one session or one server, so
 * running them on whichever replica a pool hands out is never what the caller meant.
 */
const WRITE_FUNCTIONS: ReadonlySet<string> = new Set([
  // sequences
  // (pg_sequence_last_value: a standby's sequence state is ahead of the primary's)
  'nextval', 'setval', 'currval', 'lastval', 'setseed', 'pg_sequence_last_value',
  // session and configuration
  'set_config', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_log_backend_memory_contexts',
  'pg_export_snapshot', 'pg_import_system_collations', 'pg_extension_config_dump',
  // transactions ids: assigning one is a write
  'txid_current', 'txid_current_if_assigned', 'pg_current_xact_id', 'pg_current_xact_id_if_assigned',
  // notifications
  'pg_notify',
  // WAL and replication control
  'pg_promote', 'pg_switch_wal', 'pg_switch_xlog', 'pg_drop_replication_slot',
  'pg_replication_slot_advance', 'pg_create_restore_point',
  // backends
  'pg_terminate_backend', 'pg_cancel_backend',
  // server files
  'pg_stat_file', 'lo_import', 'lo_export',
  // index maintenance
  'brin_summarize_new_values', 'brin_summarize_range', 'brin_desummarize_range',
  'gin_clean_pending_list',
  // large objects (server-side API without the lo_ prefix)
  'loread', 'lowrite',
]);

// Families named by prefix; each entry is a prefix of every member.
const WRITE_FUNCTION_PREFIXES: readonly string[] = [
  'lo_', // large objects
  'dblink', // statements on another server, unknown effect
  'pg_stat_reset', // pg_stat_reset, pg_stat_reset_shared, ..._single_table_counters
  'pg_stat_statements_reset',
  'pg_create_', // replication slots, restore points
  'pg_drop_',
  'pg_copy_', // pg_copy_physical_replication_slot, pg_copy_logical_replication_slot
  'pg_logical_', // slot consumption, emit message
  'pg_replication_origin_',
  'pg_wal_replay_', // pause/resume
  'pg_current_wal', // pg_current_wal_lsn, _insert_lsn, _flush_lsn: fail during recovery
  'pg_current_xlog',
  'pg_start_backup', 'pg_stop_backup', 'pg_backup_',
  'pg_ls_', // pg_ls_dir, pg_ls_logdir, pg_ls_waldir, ...
  'pg_read_', // pg_read_file, pg_read_binary_file
  'pg_file_', // adminpack writers
  'pg_truncate_visibility_map',
  'binary_upgrade_',
];

/**
 * True when `name` (a bare, lower-case function name) is a built-in that must
 * run on the primary. Internal to the classifier.
 *
 * @example
 * isWriteFunction('nextval');          // true
 * isWriteFunction('pg_advisory_lock'); // true: every pg_*advisory* function
 * isWriteFunction('lower');            // false
 */
export function isWriteFunction(name: string): boolean {
  if (WRITE_FUNCTIONS.has(name)) return true;
  // Advisory locks (pg_advisory_lock, pg_try_advisory_xact_lock_shared, ...) hold a
  // lock in one server's session: they must all meet on the same node.
  if (name.startsWith('pg_') && name.includes('advisory')) return true;
  for (const prefix of WRITE_FUNCTION_PREFIXES) {
    if (name.startsWith(prefix)) return true;
  }
  return false;
}
