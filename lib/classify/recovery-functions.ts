import { RECOVERY_REFUSED_FUNCTIONS } from './recovery-refused-functions';

// Built from the generated list once; lookups are by bare, lower-case name.
const REFUSED: ReadonlySet<string> = new Set(RECOVERY_REFUSED_FUNCTIONS.map((f) => f.name));

/**
 * True when `name` (a bare, lower-case function name) is a built-in that a hot standby
 * refuses to run (SQLSTATE 25006, 55000 "recovery is in progress", or an internal error
 * such as "cannot assign TransactionIds during recovery"). The list is generated from a
 * real standby by `scripts/generate-recovery-functions.ts`, not written by hand; a query
 * calling one goes to the primary whatever a catalog or the read-only list says. Internal
 * to the classifier.
 *
 * @example
 * isRefusedDuringRecovery('pg_walfile_name'); // true: 55000 on a standby
 * isRefusedDuringRecovery('pg_last_wal_replay_lsn'); // false
 */
export function isRefusedDuringRecovery(name: string): boolean {
  return REFUSED.has(name);
}
