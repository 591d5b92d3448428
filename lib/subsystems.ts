import type { NormalizedConfig } from './config';
import type { SplitCore } from './split-core';
import type { SplitKnex } from './split-knex';
import { installConsistency } from './consistency/install-consistency';
import { installDoctor } from './doctor/install-doctor';
import { installCatalog } from './catalog/install-catalog';
import { installHealth } from './health/install-health';
import { installCache } from './cache/install-cache';

/**
 * A subsystem (health, consistency, cache, catalog) wires itself into a new instance:
 * validates its config section, adds read policies, write hooks, lifecycles, stats
 * sections and public methods.
 */
export type Subsystem = (db: SplitKnex, core: SplitCore, config: NormalizedConfig) => void;

/** The subsystems every instance gets, in order (health before consistency: it decides who is up). */
const SUBSYSTEMS: Subsystem[] = [installHealth, installDoctor, installConsistency, installCatalog, installCache];

/** Installs every subsystem on a new instance. @internal */
export function installSubsystems(db: SplitKnex, core: SplitCore, config: NormalizedConfig): void {
  for (const install of SUBSYSTEMS) install(db, core, config);
}
