import { debugLogger } from '../debug-log';
import { SplitKnexError } from '../errors';
import type { Node, NodeRole } from '../route/node';
import type { Router } from '../route/router';
import type { BackgroundTask as Lifecycle } from '../subsystem';
import { isNodeFailure } from './connection-error';
import { electWriter } from './elect-writer';
import type { HealthClock } from './health-clock';
import { systemClock } from '../clock';
import type { NormalizedHealthConfig } from './health-config';
import type { FailoverEvent, NodeDownEvent, NodeUpEvent, NotAStandbyEvent, RoleChangeEvent } from './health-events';
import { isWritable, type HealthProbe, type ProbeResult } from './health-probe';
import { NodeHealth, type FailureSource } from './node-health';

const debug = debugLogger('split-knex:health');

/** Options of {@link HealthMonitor}. */
export interface HealthMonitorOptions {
  /** Every node, the configured primary first. */
  nodes: readonly Node[];
  router: Router;
  config: NormalizedHealthConfig;
  probes: ReadonlyMap<Node, HealthProbe>;
  clock?: HealthClock;
  /** Emits a public event (`node-down`, `node-up`, `failover`, `role-change`). */
  emit?: (event: string, payload: unknown) => void;
  /** Replaces a node's pool (after an ejection or a failover). */
  drain?: (node: Node, closeInFlight: boolean) => void;
  /** knex's logger of the instance: a replica entry that points at a primary is worth a warning. */
  warn?: (message: string) => void;
}

interface Slot {
  health: NodeHealth;
  probe: HealthProbe;
  timer: unknown;
  dueAt: number;
  inFlight: Promise<void> | undefined;
  lastStart: number;
}

/**
 * The health checks of one instance, as a {@link Lifecycle}: probes every node on its own
 * timer (never two at once for a node), turns probe results and the application's
 * connection errors into node states (`up` / `suspect` / `down`, mirrored on `Node.state`
 * so the router stops reading from down replicas), re-probes down nodes with backoff and
 * re-admits them, drains their pools, refuses writes to a writer known down or demoted,
 * and with role discovery moves writes to the node that answers as primary.
 *
 * @example
 * const monitor = new HealthMonitor({ nodes: core.nodes, router: core.router, config, probes });
 * core.lifecycles.push(monitor);
 */
export class HealthMonitor implements Lifecycle {
  /** Failovers seen, and the last one. */
  failoverCount = 0;
  lastFailover: (FailoverEvent & { at: number }) | undefined;
  private readonly slots = new Map<Node, Slot>();
  private readonly clock: HealthClock;
  private running = false;
  private generation = 0;
  private changeWaiters: Array<() => void> = [];

  constructor(private readonly options: HealthMonitorOptions) {
    this.clock = options.clock ?? systemClock;
    for (const node of options.nodes) {
      const probe = options.probes.get(node);
      if (probe === undefined) throw new Error(`split-knex: no health probe for node ${node.name}`);
      this.slots.set(node, { health: new NodeHealth(options.config.failuresToDown), probe, timer: undefined, dueAt: 0, inFlight: undefined, lastStart: -Infinity });
    }
  }

  /** A node joined at run time (topology discovery): probe it from now on, at once if running. */
  addNode(node: Node, probe: HealthProbe): void {
    if (this.slots.has(node)) return;
    this.slots.set(node, { health: new NodeHealth(this.options.config.failuresToDown), probe, timer: undefined, dueAt: 0, inFlight: undefined, lastStart: -Infinity });
    if (this.running) this.schedule(node, 0);
  }

  /** A node left: stop probing it. */
  removeNode(node: Node): void {
    const s = this.slots.get(node);
    if (s === undefined) return;
    if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    s.timer = undefined;
    s.probe.close();
    this.slots.delete(node);
  }

  /** The health record of a node. */
  healthOf(node: Node): NodeHealth {
    return this.slot(node).health;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    // First round at once: roles and dead nodes are known within one probe of startup.
    for (const node of this.slots.keys()) this.schedule(node, 0);
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.wake();
    for (const s of this.slots.values()) {
      if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
      s.timer = undefined;
      s.probe.close();
    }
  }

  /** For `db.ready()`: the first round of probes has answered (or failed), so states are known. */
  async ready(): Promise<void> {
    await this.probeAll();
  }

  /** Probes every node now (outside the timers) and resolves when all answered or failed. */
  async probeAll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((n) => this.runProbe(n)));
  }

  /** Probes one node now unless a probe of it is running; resolves when done. */
  runProbe(node: Node): Promise<void> {
    const s = this.slots.get(node);
    if (s === undefined) return Promise.resolve(); // It left the topology.
    if (s.inFlight !== undefined) return s.inFlight;
    if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    s.timer = undefined;
    s.lastStart = this.clock.now();
    const generation = this.generation;
    const current = () => generation === this.generation && this.slots.get(node) === s;
    s.inFlight = Promise.resolve().then(() => s.probe.probe()).then(
      (r) => { if (current()) this.probeSucceeded(node, r); },
      (err: unknown) => { if (current()) this.failed(node, err, 'probe'); },
    ).finally(() => {
      s.inFlight = undefined;
      if (this.slots.get(node) !== s) return;
      // Also after a stop/start that happened while this probe ran: the new round's first
      // timer found this probe in flight and did nothing.
      if (this.running) this.schedule(node, s.health.nextDelay(this.options.config.intervalMs, this.options.config.maxBackoffMs));
    });
    return s.inFlight;
  }

  /** A node raised an error on the application's behalf (from `core.nodeErrorObservers`). */
  reportError(node: Node, err: unknown): void {
    if (!this.slots.has(node) || !isNodeFailure(err)) return;
    const s = this.slot(node);
    if (s.health.state === 'down') return;
    this.failed(node, err, 'traffic');
    // Confirm at once rather than at the next tick, but no more often than 4 times an interval.
    this.probeSoon(node, s.lastStart + this.options.config.intervalMs / 4 - this.clock.now());
  }

  /** Asks for a probe of `node` within `delayMs` (used when the writer refused a write as a standby). */
  probeSoon(node: Node, delayMs = 0): void {
    const s = this.slots.get(node);
    if (!this.running || s === undefined || s.inFlight !== undefined) return;
    const delay = Math.max(0, delayMs);
    if (s.timer === undefined || s.dueAt > this.clock.now() + delay) this.schedule(node, delay);
  }

  /** Probes every node within `delayMs` (a statement is held for a writer: look harder). */
  hurry(delayMs: number): void {
    for (const node of this.slots.keys()) this.probeSoon(node, delayMs);
  }

  /** Resolves at the next probe result or failure of any node (or when the monitor stops). */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  /** The router's writer guard: why the writer must not take statements now, if it must not. */
  writerRefusal(writer: Node): SplitKnexError | undefined {
    const h = this.slots.get(writer)?.health;
    if (h === undefined) return undefined;
    if (h.state === 'down') {
      return new SplitKnexError('ESPLIT_PRIMARY_DOWN', `split-knex: the primary (${writer.name}) is down${h.lastError === undefined ? '' : `: ${h.lastError}`}`, {
        node: writer.name, cause: h.lastCause,
      });
    }
    if (h.writable === false) {
      const what = h.lastProbe?.inRecovery === true ? 'in recovery (a standby)' : 'read-only (transaction_read_only is on)';
      const hint = this.options.config.discoverRoles ? 'and no other node answers as primary' : 'set discoverRoles: true to follow a failover';
      return new SplitKnexError('ESPLIT_PRIMARY_DOWN', `split-knex: the primary (${writer.name}) answers as ${what}; ${hint}`, { node: writer.name });
    }
    return undefined;
  }

  /** A multi-host primary moved to another host. */
  hostSwitched(node: Node, from: string | undefined, to: string, reason: string): void {
    if (from === undefined) return; // First discovery, not a failover.
    this.options.drain?.(node, false);
    this.announceFailover({ from: node.name, to: node.name, fromHost: from, toHost: to, reason });
  }

  private probeSucceeded(node: Node, r: ProbeResult): void {
    const s = this.slot(node);
    const downSince = s.health.downSince;
    const change = s.health.succeed(r, this.clock.now());
    if (this.options.config.discoverRoles) this.discoverRole(node, r);
    node.state = s.health.state;
    if (change?.from === 'down') {
      debug('%s is back (%s)', node.name, r.inRecovery ? 'standby' : 'primary');
      this.emit('node-up', { node: node.name, role: node.role, downForMs: this.clock.now() - (downSince ?? this.clock.now()) } satisfies NodeUpEvent);
    } else if (change !== undefined) {
      debug('%s %s -> %s', node.name, change.from, change.to);
    }
    this.elect();
    this.checkStandby(node, r);
    this.wake();
  }

  private failed(node: Node, err: unknown, source: FailureSource): void {
    const s = this.slot(node);
    const change = s.health.fail(err, source, this.clock.now());
    node.lastError = s.health.lastError;
    node.state = s.health.state;
    this.wake();
    if (change === undefined) return;
    debug('%s %s -> %s after %d failure(s) (%s): %s', node.name, change.from, change.to, s.health.failures, source, s.health.lastError);
    if (change.to === 'down') {
      // Replicas: cut connections stuck on a hung server so their reads are retried elsewhere.
      const close = this.options.config.closeOnDown;
      this.options.drain?.(node, close === 'all' || (close === 'replicas' && node.role === 'replica'));
      this.emit('node-down', { node: node.name, role: node.role, reason: s.health.lastError ?? 'unknown', failures: s.health.failures } satisfies NodeDownEvent);
      this.elect();
    }
  }

  // Role discovery: a node's role is what it answers, not what the configuration said.
  private discoverRole(node: Node, r: ProbeResult): void {
    const role: NodeRole = isWritable(r) ? 'primary' : r.inRecovery ? 'replica' : node.role;
    if (role === node.role) return;
    const from = node.role;
    node.role = role;
    debug('%s answers as %s (was %s)', node.name, role, from);
    this.emit('role-change', { node: node.name, from, to: role } satisfies RoleChangeEvent);
  }

  // A node listed (or last seen) as a replica that answers out of recovery: a wrong URL, or a
  // node promoted behind our back. Its data no longer follows the writer: no reads go there.
  private checkStandby(node: Node, r: ProbeResult): void {
    const was = node.notStandby;
    node.notStandby = !r.inRecovery && node !== this.options.router.currentWriter;
    if (!node.notStandby || was || node.configuredRole !== 'replica') return;
    const reason = `${node.name} is listed as a replica but answers as a primary (pg_is_in_recovery() is false): it takes no reads`;
    debug(reason);
    this.options.warn?.(`split-knex: ${reason}; check its URL, or whether it was promoted`);
    this.emit('not-a-standby', { node: node.name, role: node.role, reason } satisfies NotAStandbyEvent);
  }

  private elect(): void {
    if (!this.options.config.discoverRoles) return;
    const router = this.options.router;
    const from = router.currentWriter;
    const verdict = electWriter(from, [...this.slots.keys()], (n) => {
      const h = this.slot(n).health;
      return { name: n.name, down: h.state === 'down', writable: h.writable, configured: n.configuredRole === 'primary' };
    });
    if (!verdict.changed) return;
    router.setWriter(verdict.writer);
    this.options.drain?.(verdict.writer, false);
    this.announceFailover({ from: from.name, to: verdict.writer.name, reason: verdict.reason });
  }

  private announceFailover(event: FailoverEvent): void {
    this.failoverCount++;
    this.lastFailover = { ...event, at: this.clock.now() };
    debug('failover %s -> %s: %s', event.fromHost ?? event.from, event.toHost ?? event.to, event.reason);
    this.emit('failover', event);
  }

  private wake(): void {
    if (this.changeWaiters.length === 0) return;
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(node: Node, delay: number): void {
    const s = this.slot(node);
    if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    s.dueAt = this.clock.now() + delay;
    s.timer = this.clock.setTimeout(() => {
      s.timer = undefined;
      if (this.running) void this.runProbe(node);
    }, delay);
  }

  private emit(event: string, payload: unknown): void {
    try {
      this.options.emit?.(event, payload);
    } catch (err) {
      // A throwing listener must not stop the health checks.
      debug('listener of %s threw: %s', event, String(err));
    }
  }

  private slot(node: Node): Slot {
    const s = this.slots.get(node);
    if (s === undefined) throw new Error(`split-knex: ${node.name} is not a node of this instance`);
    return s;
  }
}
