/**
 * `split-knex doctor` / `db.doctor()`: checks a configuration against the live databases.
 *
 * @example
 * import { formatDoctorReport } from 'split-knex';
 * const report = await db.doctor({ instances: 4 });
 * console.log(formatDoctorReport(report));
 * process.exitCode = report.ok ? 0 : 1;
 */
import type { DoctorOptions } from './doctor-options';
import type { DoctorReport } from './doctor-report';

export { formatDoctorReport } from './format-doctor-report';
export type { DoctorOptions } from './doctor-options';
export type { CheckStatus, DoctorCheck, DoctorReport, NodeFacts, PoolerFacts, RoutingFacts, ServerIdentity } from './doctor-report';

declare module '../split-knex' {
  interface SplitKnex<TRecord extends {} = any, TResult = any[]> {
    /**
     * Checks this configuration against the live databases: every node's reachability, role,
     * version, replay position and lag, balancers mixing roles, poolers, pool sizes against
     * `max_connections`, where a routed read lands and whether the write target is writable
     * (without writing). Resolves to a report; `report.ok` is false when a check failed.
     *
     * @example
     * const report = await db.doctor();
     * if (!report.ok) console.error(formatDoctorReport(report));
     */
    doctor(options?: DoctorOptions): Promise<DoctorReport>;
  }
}
