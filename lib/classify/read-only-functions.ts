/**
 * Built-in PostgreSQL functions known to be safe on a hot standby: they read,
 * compute, or return the node's own state (`pg_is_in_recovery()`,
 * `pg_last_wal_replay_lsn()`), which is still a read. Volatile ones such as
 * `random()`, `clock_timestamp()` or `pg_sleep()` belong here too: volatility
 * is not the question, side effects are.
 *
 * Deliberately absent: the functions a standby refuses to run (generated into
 * recovery-refused-functions.ts: `pg_walfile_name`, `pg_current_wal_lsn`, ...), functions that run SQL given as text (`ts_stat`,
 * `query_to_xml`, `dblink`), anything from an extension, and functions that
 * only make sense in the session that set them up (`currval`).
 */
const READ_ONLY_FUNCTIONS: ReadonlySet<string> = new Set([
  // conditional expressions and function-like keywords
  'coalesce', 'nullif', 'greatest', 'least', 'extract', 'overlay', 'position', 'substring',
  'trim', 'treat', 'normalize', 'grouping', 'collation', 'num_nulls', 'num_nonnulls',
  // type names that take modifiers (`varchar(20)`, `numeric(10, 2)`) and function-style casts
  'numeric', 'decimal', 'dec', 'varchar', 'char', 'character', 'varying', 'bit', 'nchar',
  'time', 'timestamp', 'timestamptz', 'timetz', 'interval', 'float', 'float4', 'float8',
  'int', 'int2', 'int4', 'int8', 'integer', 'smallint', 'bigint', 'real', 'bool', 'boolean',
  'text', 'date', 'bpchar', 'name', 'oid', 'regclass', 'regtype', 'regproc', 'regprocedure',
  'inet', 'cidr', 'macaddr', 'uuid', 'bytea', 'money', 'varbit', 'json', 'jsonb', 'xml',
  'tsvector', 'tsquery', 'point', 'box', 'circle', 'polygon', 'path', 'line', 'lseg',
  'int4range', 'int8range', 'numrange', 'tsrange', 'tstzrange', 'daterange',
  'int4multirange', 'int8multirange', 'nummultirange', 'tsmultirange', 'tstzmultirange',
  'datemultirange', 'range_merge', 'lower_inc', 'upper_inc', 'lower_inf', 'upper_inf', 'isempty',
  // strings
  'lower', 'upper', 'length', 'char_length', 'character_length', 'octet_length', 'bit_length',
  'substr', 'btrim', 'ltrim', 'rtrim', 'replace', 'concat', 'concat_ws', 'format',
  'left', 'right', 'split_part', 'strpos', 'starts_with', 'md5', 'sha224', 'sha256', 'sha384',
  'sha512', 'encode', 'decode', 'initcap', 'lpad', 'rpad', 'repeat', 'reverse', 'translate',
  'quote_ident', 'quote_literal', 'quote_nullable', 'string_agg', 'ascii', 'chr',
  'convert', 'convert_from', 'convert_to', 'unistr', 'to_hex', 'to_ascii', 'string_to_table',
  'parse_ident', 'get_bit', 'get_byte', 'set_bit', 'set_byte', 'bit_count', 'overlay',
  'hashtext', 'hashtextextended', 'hashint4', 'hashint8', 'crc32',
  // math
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'mod', 'power', 'pow', 'sqrt', 'cbrt',
  'ln', 'log', 'log10', 'exp', 'sign', 'div', 'width_bucket', 'pi', 'degrees', 'radians',
  'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sind', 'cosd', 'tand', 'sinh', 'cosh',
  'tanh', 'factorial', 'gcd', 'lcm', 'scale', 'min_scale', 'trim_scale', 'random',
  // aggregates and window functions
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'json_agg', 'jsonb_agg', 'json_object_agg',
  'jsonb_object_agg', 'bool_and', 'bool_or', 'every', 'bit_and', 'bit_or', 'bit_xor',
  'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'corr',
  'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept', 'regr_count', 'regr_r2',
  'percentile_cont', 'percentile_disc', 'mode', 'rank', 'dense_rank', 'row_number', 'lag',
  'lead', 'first_value', 'last_value', 'ntile', 'cume_dist', 'percent_rank', 'nth_value',
  'xmlagg', 'range_agg', 'range_intersect_agg',
  // json and jsonb (every json_* and jsonb_* function is pure; see the prefix list)
  'to_json', 'to_jsonb', 'row_to_json', 'array_to_json',
  // arrays
  'unnest', 'cardinality', 'string_to_array', 'generate_subscripts', 'trim_array',
  // date and time
  'now', 'date_trunc', 'date_part', 'age', 'make_date', 'make_time', 'make_timestamp',
  'make_timestamptz', 'make_interval', 'clock_timestamp', 'statement_timestamp',
  'transaction_timestamp', 'timeofday', 'current_timestamp', 'current_time', 'localtime',
  'localtimestamp', 'generate_series', 'date_bin', 'justify_days', 'justify_hours',
  'justify_interval', 'isfinite', 'timezone',
  // formatting
  'to_char', 'to_number', 'to_date', 'to_timestamp',
  // full-text search
  'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'websearch_to_tsquery', 'phraseto_tsquery',
  'ts_rank', 'ts_rank_cd', 'ts_headline', 'setweight', 'strip', 'numnode', 'querytree',
  'ts_rewrite', 'tsvector_to_array', 'array_to_tsvector', 'ts_delete', 'ts_filter',
  'json_to_tsvector', 'jsonb_to_tsvector', 'get_current_ts_config',
  // uuid, xml, network
  'gen_random_uuid', 'xmlelement', 'xmlforest', 'xmlconcat', 'xmlattributes', 'xmlparse',
  'xmlpi', 'xmlroot', 'xmlserialize', 'xmlexists', 'xmltable', 'xpath', 'xpath_exists',
  'host', 'hostmask', 'masklen', 'netmask', 'network', 'family', 'abbrev', 'broadcast',
  // system information
  'current_setting', 'pg_is_in_recovery', 'pg_is_wal_replay_paused',
  'pg_get_wal_replay_pause_state', 'version', 'current_database', 'current_schema',
  'current_schemas', 'current_query', 'pg_backend_pid', 'pg_typeof', 'pg_column_size',
  'pg_relation_size', 'pg_total_relation_size', 'pg_table_size', 'pg_indexes_size',
  'pg_size_pretty', 'pg_size_bytes', 'pg_database_size', 'pg_tablespace_size',
  'pg_has_role', 'row_security_active', 'format_type', 'obj_description', 'col_description',
  'shobj_description', 'to_regclass', 'to_regtype', 'to_regproc', 'to_regprocedure',
  'to_regnamespace', 'to_regrole', 'to_regoper', 'to_regcollation', 'inet_server_port',
  'inet_server_addr', 'inet_client_addr', 'inet_client_port', 'pg_postmaster_start_time',
  'pg_conf_load_time', 'pg_wal_lsn_diff',
  'pg_xact_commit_timestamp', 'pg_last_committed_xact', 'pg_current_snapshot',
  'txid_current_snapshot', 'pg_snapshot_xmin', 'pg_snapshot_xmax', 'pg_snapshot_xip',
  'txid_snapshot_xmin', 'txid_snapshot_xmax', 'txid_snapshot_xip', 'pg_visible_in_snapshot',
  'txid_visible_in_snapshot', 'pg_xact_status', 'txid_status', 'mxid_age',
  'pg_blocking_pids', 'pg_safe_snapshot_blocking_pids', 'pg_table_is_visible',
  'pg_type_is_visible', 'pg_function_is_visible', 'pg_collation_is_visible',
  'pg_encoding_to_char', 'pg_char_to_encoding', 'pg_client_encoding', 'pg_jit_available',
  'pg_listening_channels', 'pg_my_temp_schema', 'pg_is_other_temp_schema',
  'pg_trigger_depth', 'pg_tablespace_location', 'pg_options_to_table', 'pg_relation_filenode',
  'pg_relation_filepath', 'pg_filenode_relation', 'pg_describe_object', 'pg_identify_object',
  'pg_identify_object_as_address', 'pg_index_column_has_property', 'pg_index_has_property',
  'pg_indexam_has_property', 'pg_control_checkpoint', 'pg_control_system', 'pg_control_init',
  'pg_control_recovery', 'pg_partition_tree', 'pg_partition_ancestors', 'pg_partition_root',
  'pg_notification_queue_usage', 'pg_sleep', 'pg_sleep_for', 'pg_sleep_until',
  'pg_stat_get_activity', 'pg_column_compression', 'pg_settings_get_flags',
  'pg_last_wal_replay_lsn', 'pg_last_wal_receive_lsn', 'pg_last_xact_replay_timestamp',
  'pg_tablespace_databases', 'pg_get_keywords', 'pg_get_catalog_foreign_keys',
]);

// Families named by prefix, every member of which is a pure or read-only function.
const READ_ONLY_PREFIXES: readonly string[] = [
  'json_', 'jsonb_', 'array_', 'regexp_', 'pg_get_', 'pg_stat_get_', 'range_', 'ts_rank',
];

/**
 * True when `name` (a bare, lower-case function name) is a built-in that can
 * run on a replica. Internal to the classifier; callers extend it with the
 * `readOnlyFunctions` option.
 *
 * @example
 * isReadOnlyFunction('jsonb_build_object'); // true
 * isReadOnlyFunction('has_table_privilege'); // true
 * isReadOnlyFunction('my_function');         // false: unknown, so primary
 */
export function isReadOnlyFunction(name: string): boolean {
  if (READ_ONLY_FUNCTIONS.has(name)) return true;
  // has_table_privilege, has_schema_privilege, has_any_column_privilege...
  if (name.startsWith('has_') && name.endsWith('_privilege')) return true;
  for (const prefix of READ_ONLY_PREFIXES) {
    if (name.startsWith(prefix)) return true;
  }
  return false;
}
