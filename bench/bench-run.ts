import type { CappedCapacity } from './capped-capacity-bench';
import type { HotPathResult } from './hot-path-bench';
import type { MachineInfo } from './machine-info';
import type { MixOptions, MixResult } from './mix-bench';
import type { OtherBench } from './other-benches';
import type { OverheadOptions, OverheadResult } from './overhead-bench';
import type { PgbenchCeiling } from './pgbench-ceiling';
import type { WriteReadOptions, WriteReadResult } from './write-read-bench';

/** A proxy contender's fate in this run. */
export interface ProxyStatus {
  name: string;
  status: 'ok' | 'skipped';
  version?: string;
  /** Why it was skipped. */
  note?: string;
}

/** A mixed-workload section's results and how it ran. */
export interface MixRun {
  results: MixResult[];
  options: Omit<MixOptions, 'log' | 'observe'>;
  poolPerNode: number;
  baseline: string;
  split: string;
}

/** Everything one `npm run bench` measured, as the report and the chart read it. */
export interface BenchRun {
  startedAt: string;
  seconds: number;
  command: string;
  machine: MachineInfo;
  loadAtEnd: number;
  proxies: ProxyStatus[];
  overhead?: OverheadResult & { options: Omit<OverheadOptions, 'log'> };
  hotPath?: HotPathResult;
  writeRead?: WriteReadResult & { options: Omit<WriteReadOptions, 'log'> };
  /** The capacity mix on nodes confined by CPU caps (when cgroup v1 is available). */
  capped?: MixRun & { caps: Omit<CappedCapacity, 'results' | 'ceiling' | 'ceilingError'>; ceiling?: PgbenchCeiling; ceilingError?: string };
  /** Why the capped capacity section did not run, when it did not. */
  cappedSkipped?: string;
  /** The pg_sleep capacity mix: run only when CPU caps are unavailable. */
  mix?: MixRun;
  others: OtherBench[];
  /** Sections that failed, with why. */
  failures: string[];
}
