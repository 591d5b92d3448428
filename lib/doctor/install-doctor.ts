import type { Subsystem } from '../subsystems';
import type { DoctorOptions } from './doctor-options';
import type { DoctorReport } from './doctor-report';
import { runDoctor } from './run-doctor';

/**
 * Adds `db.doctor(options?)`: checks this instance's configuration against the live
 * databases and resolves to a {@link DoctorReport} (it never throws for a failed check).
 *
 * @example
 * const report = await db.doctor();
 * if (!report.ok) console.error(formatDoctorReport(report));
 * @internal
 */
export const installDoctor: Subsystem = (db, core) => {
  Object.assign(db, {
    doctor(options?: DoctorOptions): Promise<DoctorReport> {
      return runDoctor(db, core, options);
    },
  });
};
