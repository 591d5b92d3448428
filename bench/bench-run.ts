import type { HotPathResult } from './hot-path-bench';
import type { MachineInfo } from './machine-info';
import type { MixOptions, MixResult } from './mix-bench';
import type { OtherBench } from './other-benches';
import type { OverheadOptions, OverheadRow } from './overhead-bench';

/** A proxy contender's fate in this run. */
export interface ProxyStatus {
  name: string;
  status: 'ok' | 'skipped';
  version?: string;
  /** Why it was skipped. */
  note?: string;
}

/** Everything one `npm run bench` measured, as the report and the chart read it. */
export interface BenchRun {
  startedAt: string;
  seconds: number;
  command: string;
  machine: MachineInfo;
  loadAtEnd: number;
  proxies: ProxyStatus[];
  overhead?: { rows: OverheadRow[]; routedToReplica: number; options: Omit<OverheadOptions, 'log'> };
  hotPath?: HotPathResult;
  mix?: { results: MixResult[]; options: Omit<MixOptions, 'log'>; poolPerNode: number; baseline: string; split: string };
  others: OtherBench[];
  /** Sections that failed, with why. */
  failures: string[];
}
