import * as fs from 'fs';
import { Client } from 'pg';
import type { Cluster } from '../test/support/cluster';

const CG = '/sys/fs/cgroup';

/** Per-node cgroup counters at one instant (cpu.stat and cpuacct.usage), plus the host's /proc/stat. */
export interface CapSample {
  nodes: Record<string, { periods: number; throttled: number; usageNs: number }>;
  /** Host jiffies: total and idle (idle + iowait), over every CPU. */
  host: { total: number; idle: number };
  atMs: number;
}

/** What happened between two samples: per node, periods, throttled periods and cores used; host cores busy. */
export interface CapDelta {
  seconds: number;
  nodes: Record<string, { periods: number; throttled: number; cores: number }>;
  hostBusyCores: number;
}

/** Each PostgreSQL node in its own cgroup v1 cpu group with the same quota. */
export interface CpuCaps {
  fraction: number;
  periodUs: number;
  /** Per node: the cgroup line a backend forked after capping reports (the proof that new backends inherit it). */
  verified: Record<string, string>;
  /** Processes moved per node (postmaster and every child at that moment). */
  moved: Record<string, number>;
  sample(): CapSample;
  /** Moves every process back to the root groups and removes the groups. */
  release(): Promise<void>;
}

/**
 * Why per-node CPU caps cannot be used here, or undefined when they can: they need root,
 * cgroup v1 `cpu` and `cpuacct` hierarchies with CFS bandwidth control, and servers whose
 * processes are visible on this machine (the local provider).
 *
 * @example
 * const why = capsUnavailable(cluster); if (why !== undefined) console.log(`no caps: ${why}`);
 */
export function capsUnavailable(cluster: Cluster): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root (writing cgroup files needs root)';
  if (!fs.existsSync(`${CG}/cpu/cpu.cfs_quota_us`)) {
    return fs.existsSync(`${CG}/cgroup.controllers`)
      ? `${CG} is a cgroup v2 hierarchy; this benchmark uses cgroup v1 cpu.cfs_quota_us`
      : `no cgroup v1 cpu controller with CFS bandwidth control (${CG}/cpu/cpu.cfs_quota_us missing)`;
  }
  if (!fs.existsSync(`${CG}/cpuacct/cpuacct.usage`)) return `no cgroup v1 cpuacct controller (${CG}/cpuacct/cpuacct.usage missing)`;
  if (cluster.provider !== 'local') return `the ${cluster.provider} provider's server processes are not this machine's to move (local provider only)`;
  return undefined;
}

/**
 * Confines each node of a local cluster to `fraction` of one core: a cpu + cpuacct group per
 * node with `cpu.cfs_quota_us = fraction × period`. The postmaster moves first, then each of
 * its children, so everything it forks later (backends, walsenders, autovacuum) is born
 * inside. Verifies with a freshly forked backend's /proc/<pid>/cgroup. Ported from
 * cap-cluster.sh of the capacity feasibility study (one group per node, no cpuset).
 *
 * @example
 * const caps = await capCluster(cluster, { fraction: 0.25 });
 * try { const a = caps.sample(); …; console.log(capDelta(a, caps.sample())); } finally { await caps.release(); }
 */
export async function capCluster(cluster: Cluster, options: { fraction: number; periodUs?: number; tag?: string }): Promise<CpuCaps> {
  const periodUs = options.periodUs ?? 100_000;
  const quota = Math.round(options.fraction * periodUs);
  const tag = options.tag ?? `splitknex-bench-${process.pid}`;
  const groups = new Map<string, string>();
  const moved: Record<string, number> = {};
  const caps: CpuCaps = {
    fraction: options.fraction,
    periodUs,
    verified: {},
    moved,
    sample: () => sample(groups),
    release: () => release([...groups.values()]),
  };
  try {
    for (const node of cluster.nodes) {
      const pm = await withBackend(node.url, ppid);
      if (!/postgres|postmaster/.test(readCmd(pm))) throw new Error(`${node.name}: the parent of a backend (pid ${pm}) is not a postmaster`);
      const group = `${tag}.${node.name}`;
      groups.set(node.name, group);
      for (const h of ['cpu', 'cpuacct']) fs.mkdirSync(`${CG}/${h}/${group}`, { recursive: true });
      fs.writeFileSync(`${CG}/cpu/${group}/cpu.cfs_period_us`, String(periodUs));
      fs.writeFileSync(`${CG}/cpu/${group}/cpu.cfs_quota_us`, String(quota));
      const pids = [pm, ...childrenOf(pm)];
      for (const h of ['cpu', 'cpuacct']) {
        for (const pid of pids) {
          // A child may exit between listing and moving.
          try { fs.writeFileSync(`${CG}/${h}/${group}/cgroup.procs`, String(pid)); } catch { /* gone */ }
        }
      }
      moved[node.name] = pids.length;
      const [fresh, line] = await withBackend(node.url, (pid) => [pid, fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:cpu(,cpuacct)?:/.test(l)) ?? ''] as const);
      if (!line.endsWith(`/${group}`)) throw new Error(`${node.name}: a new backend is in '${line}', not in ${group}`);
      caps.verified[node.name] = `backend ${fresh}: ${line}`;
    }
  } catch (err) {
    await caps.release();
    throw err;
  }
  return caps;
}

/**
 * What happened between two samples.
 *
 * @example
 * const d = capDelta(before, caps.sample()); d.nodes.primary.throttled / d.nodes.primary.periods // 1 = throttled every period
 */
export function capDelta(a: CapSample, b: CapSample): CapDelta {
  const seconds = (b.atMs - a.atMs) / 1000;
  const nodes: CapDelta['nodes'] = {};
  for (const [name, x] of Object.entries(b.nodes)) {
    const y = a.nodes[name];
    if (y === undefined) continue;
    nodes[name] = { periods: x.periods - y.periods, throttled: x.throttled - y.throttled, cores: (x.usageNs - y.usageNs) / 1e9 / seconds };
  }
  const total = b.host.total - a.host.total;
  const busyShare = total === 0 ? 0 : 1 - (b.host.idle - a.host.idle) / total;
  const cpus = fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length;
  return { seconds, nodes, hostBusyCores: busyShare * cpus };
}

function sample(groups: Map<string, string>): CapSample {
  const nodes: CapSample['nodes'] = {};
  for (const [name, group] of groups) {
    const stat = Object.fromEntries(fs.readFileSync(`${CG}/cpu/${group}/cpu.stat`, 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]));
    nodes[name] = { periods: Number(stat['nr_periods']), throttled: Number(stat['nr_throttled']), usageNs: Number(fs.readFileSync(`${CG}/cpuacct/${group}/cpuacct.usage`, 'utf8')) };
  }
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 11).map(Number);
  return { nodes, host: { total: cpu.reduce((s, x) => s + x, 0), idle: (cpu[3] ?? 0) + (cpu[4] ?? 0) }, atMs: Date.now() };
}

async function release(groups: string[]): Promise<void> {
  for (const h of ['cpu', 'cpuacct']) {
    for (const group of groups) {
      const dir = `${CG}/${h}/${group}`;
      if (!fs.existsSync(dir)) continue;
      // A process may fork while we move: repeat until the group is empty.
      for (let i = 0; i < 5; i++) {
        const pids = fs.readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try { fs.writeFileSync(`${CG}/${h}/cgroup.procs`, pid); } catch { /* gone */ }
        }
      }
      try { fs.rmdirSync(dir); } catch { /* still busy: left for the next run's operator to see */ }
    }
  }
}

// Runs `fn` with the pid of a fresh backend while its connection is still open.
async function withBackend<T>(url: string, fn: (pid: number) => T): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return fn(Number((await client.query('select pg_backend_pid() as pid')).rows[0].pid));
  } finally {
    await client.end();
  }
}

// Field 4 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
function ppid(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
}

function readCmd(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (ppid(Number(entry)) === parent) out.push(Number(entry));
    } catch { /* exited */ }
  }
  return out;
}
