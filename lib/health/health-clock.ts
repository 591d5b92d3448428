import type { Clock } from '../clock';

/** The clock of the health checks (see {@link Clock}). */
export type HealthClock = Clock;
export { systemClock, clockFrom as healthClock } from '../clock';
