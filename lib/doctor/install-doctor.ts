import type { SubsystemFactory } from '../subsystem';
import type { DoctorOptions } from './doctor-options';
import type { DoctorReport } from './doctor-report';
import { runDoctor, type DoctorInstance } from './run-doctor';

/**
 * The doctor subsystem: adds `db.doctor(options?)`, which checks this instance's
 * configuration against the live databases and resolves to a {@link DoctorReport} (it never
 * throws for a failed check). It joins no stage of the pipeline.
 *
 * @example
 * const report = await db.doctor();
 * if (!report.ok) console.error(formatDoctorReport(report));
 */
export const doctorSubsystem: SubsystemFactory = (ctx) => ({
  name: 'doctor',
  methods: {
    doctor(options?: DoctorOptions): Promise<DoctorReport> {
      return runDoctor(ctx.instance as DoctorInstance, { nodes: ctx.nodes, replicas: ctx.replicas }, options);
    },
  },
});
