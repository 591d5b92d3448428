import { TopologyError } from './topology-error';
import type { PlannedStop, Topology, TopologyMember } from './topology-source';

/**
 * Checks that `value` is a usable {@link Topology} and returns a clean copy (only the known
 * keys, `plannedStops` included: each names a listed member, `at` as epoch ms, an ISO time or
 * a Date). Rejects, naming the member and the key: a member without a name, host or valid
 * port; a role other than `primary`/`replica`; a negative or non-finite `lagBytes`; a
 * non-positive `timeline`; two members of one name; more than one primary. Values that
 * were wrong are described by type only (a callback may hand back a connection string).
 *
 * @example
 * const topology = checkTopology(await userCallback(), 'callback');
 */
export function checkTopology(value: unknown, from: string): Topology {
  const raw = Array.isArray(value) ? { members: value } : value;
  if (raw === null || typeof raw !== 'object' || !Array.isArray((raw as { members?: unknown }).members)) {
    throw new TopologyError(`split-knex: the ${from} topology must be { members: [...] } or an array of members; got ${describe(value)}`);
  }
  const members = ((raw as { members: unknown[] }).members).map((m, i) => checkMember(m, i, from));
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.name)) throw new TopologyError(`split-knex: the ${from} topology lists member "${m.name}" twice`);
    seen.add(m.name);
  }
  const primaries = members.filter((m) => m.role === 'primary').map((m) => m.name);
  if (primaries.length > 1) {
    throw new TopologyError(`split-knex: the ${from} topology reports ${primaries.length} primaries (${primaries.join(', ')}); at most one may take writes`);
  }
  const stops = (raw as { plannedStops?: unknown }).plannedStops;
  if (stops === undefined) return { members };
  if (!Array.isArray(stops)) throw new TopologyError(`split-knex: the ${from} topology's "plannedStops" must be an array; got ${describe(stops)}`);
  return { members, plannedStops: stops.map((stop, i) => checkStop(stop, i, from, seen)) };
}

// A stop the source announces: { member, at?: epoch ms or ISO time, reason? }.
function checkStop(value: unknown, index: number, from: string, members: ReadonlySet<string>): PlannedStop {
  const where = `planned stop ${index} of the ${from} topology`;
  if (value === null || typeof value !== 'object') throw new TopologyError(`split-knex: ${where} must be an object; got ${describe(value)}`);
  const v = value as Record<string, unknown>;
  const member = v['member'];
  if (typeof member !== 'string' || !members.has(member)) {
    throw new TopologyError(`split-knex: ${where} needs "member": the name of a listed member; got ${typeof member === 'string' ? 'a name not listed' : describe(member)}`);
  }
  const reason = v['reason'] ?? 'announced by the topology source';
  if (typeof reason !== 'string') throw new TopologyError(`split-knex: ${where} has a non-string "reason": ${describe(reason)}`);
  const rawAt = v['at'];
  if (rawAt === undefined) return { member, reason };
  const at = typeof rawAt === 'number' ? rawAt : typeof rawAt === 'string' ? Date.parse(rawAt) : rawAt instanceof Date ? rawAt.getTime() : NaN;
  if (!Number.isFinite(at)) throw new TopologyError(`split-knex: ${where} needs "at" as epoch ms, an ISO time or a Date when set; got ${describe(rawAt)}`);
  return { member, at, reason };
}

function checkMember(value: unknown, index: number, from: string): TopologyMember {
  const where = `the ${from} topology's member ${index}`;
  if (value === null || typeof value !== 'object') throw new TopologyError(`split-knex: ${where} must be an object; got ${describe(value)}`);
  const m = value as Record<string, unknown>;
  const name = m['name'];
  if (typeof name !== 'string' || name === '') throw new TopologyError(`split-knex: ${where} needs a non-empty string "name"; got ${describe(name)}`);
  const at = `member "${name}" of the ${from} topology`;
  const host = m['host'];
  if (typeof host !== 'string' || host === '') throw new TopologyError(`split-knex: ${at} needs a non-empty string "host"; got ${describe(host)}`);
  const port = m['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TopologyError(`split-knex: ${at} needs an integer "port" in 1–65535; got ${describe(port)}`);
  }
  const role = m['role'];
  if (role !== 'primary' && role !== 'replica') throw new TopologyError(`split-knex: ${at} needs "role" 'primary' or 'replica'; got ${describeWord(role)}`);
  const state = m['state'] ?? (role === 'primary' ? 'running' : 'streaming');
  if (typeof state !== 'string') throw new TopologyError(`split-knex: ${at} has a non-string "state": ${describe(state)}`);
  const member: TopologyMember = { name, host, port, role, state };
  const lag = m['lagBytes'];
  if (lag !== undefined) {
    if (typeof lag !== 'number' || !Number.isFinite(lag) || lag < 0) throw new TopologyError(`split-knex: ${at} needs "lagBytes" >= 0 when set; got ${describe(lag)}`);
    member.lagBytes = lag;
  }
  const timeline = m['timeline'];
  if (timeline !== undefined) {
    if (typeof timeline !== 'number' || !Number.isInteger(timeline) || timeline < 1) {
      throw new TopologyError(`split-knex: ${at} needs an integer "timeline" >= 1 when set; got ${describe(timeline)}`);
    }
    member.timeline = timeline;
  }
  return member;
}

// A role is a word, not a secret: show short strings, so 'leader' reads as 'leader'.
function describeWord(value: unknown): string {
  return typeof value === 'string' && /^[\w -]{1,20}$/.test(value) ? JSON.stringify(value) : describe(value);
}

// Numbers and booleans are safe to show; strings may be connection strings or hostnames
// with credentials, so only their type is named.
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return 'a string';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
