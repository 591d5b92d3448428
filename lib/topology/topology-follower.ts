import { debugLogger } from '../debug-log';
import { redactError } from '../redact';
import type { NormalizedClock } from '../clock';
import type { Node } from '../route/node';
import type { NodeSet } from '../route/node-set';
import type { BackgroundTask } from '../subsystem';
import type { PlannedStop, TopologyMember, TopologySource } from './topology-source';

const debug = debugLogger('split-knex:health');

/** Member states that mean "a server that answers": Patroni's and pg_stat_replication's words. */
const SERVING = new Set(['running', 'streaming']);
/**
 * Member states on the way to serving: Patroni's while a member clones or starts, and
 * pg_stat_replication's before a standby streams. While one is listed, the source is read
 * {@link FAST_FACTOR} times as often, so the member joins soon after it serves.
 */
const JOINING = new Set(['creating replica', 'starting', 'restarting', 'startup', 'catchup']);
const FAST_FACTOR = 5;
const FAST_MIN_MS = 50;
/** How long a removed node's statements may run before its pool is closed anyway. */
const DRAIN_BOUND_MS = 30_000;

/** Payload of `node-added` / `node-removed` (topology discovery). */
export interface TopologyChangeEvent {
  node: string;
  /** `host:port` as the source reported it. */
  address: string;
  /** The source that reported it (`patroni`, `replication`, `callback`). */
  source: string;
}

/** `stats().topology`. */
export interface TopologyStats {
  source: string;
  intervalMs: number;
  reads: number;
  failures: number;
  lastError: string | null;
  /** Members of the last answer, by name, with role and state as the source said. */
  members: Array<{ name: string; address: string; role: string; state: string }>;
  added: number;
  removed: number;
  /** Stops the source announced in its last answer (a scheduled switchover), by node. */
  plannedStops: Array<{ node: string; at: string | null; reason: string }>;
}

/** What {@link TopologyFollower} needs from the instance. */
export interface TopologyFollowerOptions {
  source: TopologySource;
  nodes: NodeSet;
  intervalMs: number;
  clock: NormalizedClock;
  /** `host:port` of a node, when known. */
  addressOf(node: Node): string | undefined;
  /** Builds a node for a member (pool, background link); `undefined` when it cannot. */
  createNode(member: TopologyMember, name: string): Node | undefined;
  /** Closes a removed node's pool and link. */
  retire(node: Node): Promise<void>;
  /** The node writes go to now: never removed. */
  writer(): Node;
  emit(event: string, payload: unknown): void;
  /**
   * Told after each read of the source which nodes it announced a stop for (empty when none,
   * or when the read failed: a plan that can no longer be checked is dropped).
   */
  plannedStops?(stops: ReadonlyMap<Node, PlannedStop>): void;
}

/**
 * Follows the cluster's shape: reads the topology source every `intervalMs` (and at
 * start; five times as often while a member is listed as starting or cloning), adds a node
 * for each serving member it does not know (the health probe then decides its role and
 * state), and drains nodes the source stopped reporting (no new statement; the pool is
 * closed once its statements finished). A source that fails changes nothing. The
 * configured primary and the current writer are never removed. Stops the source announces
 * (a scheduled switchover) are passed on by node.
 *
 * @example
 * const follower = new TopologyFollower({ source, nodes, intervalMs: 1000, clock, addressOf, createNode, retire, writer, emit });
 * follower.start(); // … follower.stop()
 */
export class TopologyFollower implements BackgroundTask {
  private timer: unknown;
  private running = false;
  private first: Promise<void> | undefined;
  private readonly addresses = new Map<Node, string>();
  private readonly draining = new Set<Promise<void>>();
  private readonly counters = { reads: 0, failures: 0, added: 0, removed: 0 };
  private lastError: string | undefined;
  private lastMembers: TopologyMember[] = [];
  private lastStops: ReadonlyMap<Node, PlannedStop> = new Map();
  private joining = false;

  constructor(private readonly options: TopologyFollowerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.first = this.tick();
  }

  /** Resolves once the first read answered (or failed). */
  async ready(): Promise<void> {
    await this.first;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all([...this.draining]);
  }

  /** Reads the source once and applies what it says. */
  async sync(): Promise<void> {
    let members: TopologyMember[];
    let stops: PlannedStop[];
    try {
      const topology = await this.options.source.read();
      members = topology.members;
      stops = topology.plannedStops ?? [];
      this.counters.reads++;
      this.lastError = undefined;
    } catch (err) {
      this.counters.failures++;
      this.lastError = redactError(err);
      debug('%s topology read failed: %s', this.options.source.kind, this.lastError);
      this.announceStops([], []);
      return;
    }
    if (!this.running) return;
    this.lastMembers = members;
    this.joining = members.some((m) => JOINING.has(m.state));
    const known = new Map<string, Node>();
    for (const node of this.options.nodes.all) {
      const address = this.addresses.get(node) ?? this.options.addressOf(node);
      if (address !== undefined) known.set(address, node);
    }
    const listed = new Set(members.map(addressOfMember));
    for (const m of members) {
      const address = addressOfMember(m);
      if (known.has(address) || !SERVING.has(m.state)) continue;
      const node = this.options.createNode(m, this.freeName(m.name));
      if (node === undefined) continue;
      this.addresses.set(node, address);
      this.options.nodes.add(node);
      this.counters.added++;
      debug('%s joined (%s, %s %s)', node.name, address, m.role, m.state);
      this.options.emit('node-added', { node: node.name, address, source: this.options.source.kind } satisfies TopologyChangeEvent);
    }
    for (const [address, node] of known) {
      if (listed.has(address) || node === this.options.nodes.primary || node === this.options.writer()) continue;
      this.drain(node, address);
    }
    this.announceStops(stops, members);
  }

  /** `stats().topology`. */
  stats(): TopologyStats {
    return {
      source: this.options.source.kind,
      intervalMs: this.options.intervalMs,
      ...this.counters,
      lastError: this.lastError ?? null,
      members: this.lastMembers.map((m) => ({ name: m.name, address: addressOfMember(m), role: m.role, state: m.state })),
      plannedStops: [...this.lastStops].map(([node, stop]) => ({
        node: node.name, at: stop.at === undefined ? null : new Date(stop.at).toISOString(), reason: stop.reason,
      })),
    };
  }

  // Maps each announced stop to the node at the member's address and tells the instance.
  private announceStops(stops: readonly PlannedStop[], members: readonly TopologyMember[]): void {
    const byNode = new Map<Node, PlannedStop>();
    for (const stop of stops) {
      const member = members.find((m) => m.name === stop.member);
      const node = member === undefined ? undefined : this.nodeAt(addressOfMember(member));
      if (node !== undefined) byNode.set(node, stop);
    }
    if (byNode.size === 0 && this.lastStops.size === 0) return;
    this.lastStops = byNode;
    this.options.plannedStops?.(byNode);
  }

  private nodeAt(address: string): Node | undefined {
    for (const node of this.options.nodes.all) {
      if ((this.addresses.get(node) ?? this.options.addressOf(node)) === address) return node;
    }
    return undefined;
  }

  private drain(node: Node, address: string): void {
    if (!this.options.nodes.remove(node)) return;
    node.retired = true;
    this.addresses.delete(node);
    this.counters.removed++;
    debug('%s left the topology (%s): draining', node.name, address);
    this.options.emit('node-removed', { node: node.name, address, source: this.options.source.kind } satisfies TopologyChangeEvent);
    const done = this.whenIdle(node).then(() => this.options.retire(node)).catch((err: unknown) => {
      debug('closing %s failed: %s', node.name, String(err));
    });
    this.draining.add(done);
    void done.finally(() => this.draining.delete(done));
  }

  private async whenIdle(node: Node): Promise<void> {
    const until = this.options.clock.now() + DRAIN_BOUND_MS;
    while (node.inFlight > 0 && this.options.clock.now() < until && this.running) {
      await new Promise((resolve) => this.options.clock.setTimeout(resolve as () => void, 50));
    }
  }

  private freeName(name: string): string {
    if (this.options.nodes.byName(name) === undefined) return name;
    for (let i = 2; ; i++) if (this.options.nodes.byName(`${name}-${i}`) === undefined) return `${name}-${i}`;
  }

  private async tick(): Promise<void> {
    await this.sync();
    if (!this.running) return;
    const interval = this.options.intervalMs;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.running) void this.tick();
    }, this.joining ? Math.max(FAST_MIN_MS, Math.min(interval, Math.round(interval / FAST_FACTOR))) : interval);
  }
}

function addressOfMember(m: TopologyMember): string {
  return `${m.host}:${m.port}`;
}
