import { configError } from '../errors';
import { checkTopology } from './check-topology';
import { TopologyError } from './topology-error';
import type { PlannedStop, Topology, TopologyMember, TopologySource } from './topology-source';

/** Options of {@link PatroniTopology}. */
export interface PatroniTopologyOptions {
  /**
   * Base URLs of Patroni REST APIs, one per member is best (`http://10.0.0.1:8008`; a
   * trailing `/cluster` is accepted). They are asked in order; the first that answers wins.
   * Credentials in a URL (`http://user:pass@host:8008`) are sent as Basic authentication
   * and never appear in an error.
   */
  urls: readonly string[];
  /**
   * Bound on one URL (connect, headers and body), in ms (default 1000). A member that
   * accepts TCP but never answers costs at most this before the next URL is tried.
   */
  timeoutMs?: number;
  /** The fetch implementation (default: the global one, Node ≥ 18); tests inject a fake. */
  fetch?: typeof fetch;
}

interface Endpoint {
  /** The URL fetched, without credentials. */
  url: string;
  /** What errors show: the URL without credentials, query or fragment. */
  label: string;
  authorization?: string;
}

/**
 * A topology source reading Patroni's `GET /cluster` (Patroni 3.x): member names, hosts,
 * ports, roles, states, lag in bytes and timelines, as the DCS (etcd, Consul, …) holds
 * them, and a scheduled switchover as a {@link PlannedStop} of the leader. `leader` maps
 * to `primary`; `replica`, `sync_standby`, `standby_leader` and any
 * unknown role map to `replica` (never a write target by mistake). Members without a host
 * or port (not yet registered with a connection address) are left out.
 *
 * What Patroni reports, it reports from the DCS: a killed leader stays listed as
 * `leader`/`running` until its lease expires (`ttl`, 30 s by default), and a stopped member
 * stays listed until its key expires. A caller that must know who accepts writes *now*
 * confirms with the node itself (`pg_is_in_recovery()`).
 *
 * @example
 * const source = new PatroniTopology({ urls: ['http://10.0.0.1:8008', 'http://10.0.0.2:8008', 'http://10.0.0.3:8008'] });
 * const { members } = await source.read();
 * const primary = members.find((m) => m.role === 'primary' && m.state === 'running');
 */
export class PatroniTopology implements TopologySource {
  readonly kind = 'patroni';
  private readonly endpoints: Endpoint[];
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: PatroniTopologyOptions) {
    const urls: unknown = options?.urls;
    if (!Array.isArray(urls) || urls.length === 0) throw configError('discover.patroni', urls, 'must be a non-empty array of Patroni REST URLs');
    this.endpoints = urls.map((u, i) => endpointOf(u, `discover.patroni[${i}]`));
    const timeoutMs = options.timeoutMs ?? 1000;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw configError('discover.timeoutMs', timeoutMs, 'must be an integer >= 1 (milliseconds)');
    }
    this.timeoutMs = timeoutMs;
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') throw configError('discover.fetch', fetchFn, 'must be a fetch function (Node >= 18 has one)');
    this.fetchFn = fetchFn;
  }

  /** Asks each URL in turn for `/cluster`; resolves with the first usable answer. */
  async read(): Promise<Topology> {
    const failures: string[] = [];
    const causes: unknown[] = [];
    for (const endpoint of this.endpoints) {
      try {
        return topologyFromPatroniCluster(await this.fetchCluster(endpoint));
      } catch (err) {
        failures.push(`${endpoint.label}: ${reasonOf(err, this.timeoutMs)}`);
        causes.push(err);
      }
    }
    throw new TopologyError(`split-knex: no Patroni REST API answered GET /cluster (${failures.join('; ')})`, {
      cause: new AggregateError(causes, 'every Patroni URL failed'),
    });
  }

  private async fetchCluster(endpoint: Endpoint): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError()), this.timeoutMs);
    timer.unref?.();
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (endpoint.authorization) headers['authorization'] = endpoint.authorization;
      const res = await this.fetchFn(endpoint.url, { headers, signal: controller.signal, redirect: 'error' });
      // The body is read under the same deadline: a server may send headers and then stall.
      const text = await res.text();
      if (res.status !== 200) throw new HttpStatusError(res.status);
      try {
        return JSON.parse(text);
      } catch {
        throw new TopologyError('the answer is not JSON');
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Maps the body of Patroni's `GET /cluster` to a {@link Topology}; throws a
 * {@link TopologyError} when it has no `members` array or reports two primaries. A
 * `scheduled_switchover` becomes a planned stop of its `from` member (the leader) at `at`.
 *
 * @example
 * topologyFromPatroniCluster({ members: [{ name: 'n1', role: 'leader', state: 'running', host: '10.0.0.1', port: 5432, timeline: 1 }] })
 * // { members: [{ name: 'n1', host: '10.0.0.1', port: 5432, role: 'primary', state: 'running', timeline: 1 }] }
 * topologyFromPatroniCluster({ members, scheduled_switchover: { at: '2026-05-01T03:00:00+00:00', from: 'n1', to: 'n2' } }).plannedStops
 * // [{ member: 'n1', at: 1777604400000, reason: 'switchover to n2 scheduled' }]
 */
export function topologyFromPatroniCluster(body: unknown): Topology {
  const members = (body as { members?: unknown } | null)?.members;
  if (!Array.isArray(members)) throw new TopologyError('the answer has no "members" array');
  const mapped: TopologyMember[] = [];
  for (const raw of members as Array<Record<string, unknown>>) {
    if (raw === null || typeof raw !== 'object') continue;
    const port = typeof raw['port'] === 'string' ? Number(raw['port']) : raw['port'];
    if (typeof raw['name'] !== 'string' || typeof raw['host'] !== 'string' || raw['host'] === '' || typeof port !== 'number') continue;
    const member: TopologyMember = {
      name: raw['name'],
      host: raw['host'],
      port,
      role: PRIMARY_ROLES.has(String(raw['role'])) ? 'primary' : 'replica',
      state: typeof raw['state'] === 'string' ? raw['state'] : 'unknown',
    };
    // `lag` is "unknown" (a string) when the member reports no position: leave it out.
    if (typeof raw['lag'] === 'number') member.lagBytes = raw['lag'];
    if (typeof raw['timeline'] === 'number') member.timeline = raw['timeline'];
    mapped.push(member);
  }
  const topology = checkTopology({ members: mapped }, 'patroni');
  const stop = scheduledStopOf((body as { scheduled_switchover?: unknown }).scheduled_switchover, topology.members);
  if (stop !== undefined) topology.plannedStops = [stop];
  return topology;
}

// Patroni 3.0.2 lists a switchover scheduled for later (`patronictl switchover --scheduled`,
// or `scheduled_at` in POST /switchover) as `scheduled_switchover: { at, from?, to? }` from the
// moment it is accepted. The leader's loop sleeps until `at`, checks the candidate, demotes:
// CHECKPOINT, then a fast shutdown that ends every statement still running (ha.py
// should_run_scheduled_action, demote('graceful'); postgresql _do_stop). Measured on
// loopback: the shutdown came 70–160 ms after `at`. An immediate switchover is never listed
// (only a failover key with `scheduled_at` is); its first sign, the leader's member key
// rewritten without a timeline while the demote runs, came between 28 ms before and 16 ms
// after the shutdown: too late to act on.
function scheduledStopOf(value: unknown, members: readonly TopologyMember[]): PlannedStop | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const s = value as Record<string, unknown>;
  const at = typeof s['at'] === 'string' ? Date.parse(s['at']) : NaN;
  const from = typeof s['from'] === 'string' ? s['from'] : members.find((m) => m.role === 'primary')?.name;
  if (!Number.isFinite(at) || from === undefined) return undefined;
  const to = typeof s['to'] === 'string' ? ` to ${s['to']}` : '';
  return { member: from, at, reason: `switchover${to} scheduled` };
}

// `leader` in Patroni ≥ 1.5 /cluster; `master`/`primary` in other endpoints and versions.
// `standby_leader` leads a standby cluster: read-only, so it is a replica here.
const PRIMARY_ROLES = new Set(['leader', 'master', 'primary']);

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function endpointOf(value: unknown, key: string): Endpoint {
  if (typeof value !== 'string') throw configError(key, value, 'must be an http(s) URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(key, value, 'must be an http(s) URL such as http://10.0.0.1:8008');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError(key, value, 'must use http: or https:');
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '').replace(/\/cluster$/, '')}/cluster`;
  const label = `${url.protocol}//${url.host}${url.pathname}`;
  return { url: url.toString(), label, authorization };
}

// A short reason per URL. Node's fetch wraps socket errors as TypeError('fetch failed')
// with the system error (ECONNREFUSED, …) as its cause.
function reasonOf(err: unknown, timeoutMs: number): string {
  if (err instanceof TimeoutError) return `timed out after ${timeoutMs} ms`;
  if (err instanceof HttpStatusError) return err.message;
  if (err instanceof TopologyError) return err.message.replace(/^split-knex: /, '');
  const code = (err as { cause?: { code?: unknown } } | null)?.cause?.code ?? (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  if (err instanceof Error && err.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  return err instanceof Error ? err.name : 'failed';
}
