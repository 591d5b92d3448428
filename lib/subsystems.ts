import { cacheSubsystem } from './cache/install-cache';
import { catalogSubsystem } from './catalog/install-catalog';
import { consistencySubsystem } from './consistency/install-consistency';
import { doctorSubsystem } from './doctor/install-doctor';
import { healthSubsystem } from './health/install-health';
import { observabilitySubsystem } from './observability/install-observability';
import type { SubsystemFactory } from './subsystem';

/**
 * The subsystems every instance is composed of, in pipeline order: health first (it decides
 * who is up, and its writer guard and read policy come before the others'), then
 * read-your-writes, the catalog, the result cache, the doctor, observability last (it only
 * observes: metrics, traces, readiness). Adding a subsystem is one
 * folder and one line here.
 */
export const SUBSYSTEMS: readonly SubsystemFactory[] = Object.freeze([
  healthSubsystem,
  consistencySubsystem,
  catalogSubsystem,
  cacheSubsystem,
  doctorSubsystem,
  observabilitySubsystem,
]);
