import type { NodeChange } from '../subsystem';
import type { Node } from './node';

/**
 * The nodes of one instance, changeable at run time (topology discovery): the configured
 * primary and the replicas, as live arrays the router and `stats()` read on every use.
 * A node is announced to the listeners (the subsystems' `nodesChanged` stages) before it
 * joins the arrays, so per-node state exists before the router can pick it; a removed node
 * leaves the arrays first and is announced after.
 *
 * @example
 * const set = new NodeSet(primary, [r1]);
 * set.onChange((c) => health.nodesChanged(c));
 * set.add(r2);            // r2 may take reads now
 * set.remove(r1);         // no new statement goes to r1
 */
export class NodeSet {
  /** Replicas, in the order they joined; the router's list. */
  readonly replicas: Node[];
  /** Every node, the configured primary first. */
  readonly all: Node[];
  private readonly listeners: Array<(change: NodeChange) => void> = [];

  constructor(readonly primary: Node, replicas: readonly Node[]) {
    this.replicas = [...replicas];
    this.all = [primary, ...replicas];
  }

  /** Calls `listener` for every change from now on. */
  onChange(listener: (change: NodeChange) => void): void {
    this.listeners.push(listener);
  }

  /** The node of that name, if any. */
  byName(name: string): Node | undefined {
    return this.all.find((n) => n.name === name);
  }

  /** Adds a replica (announced first, then routable). */
  add(node: Node): void {
    if (this.all.includes(node)) return;
    this.announce({ added: [node], removed: [] });
    this.all.push(node);
    if (node.configuredRole === 'replica') this.replicas.push(node);
  }

  /** Removes a node (unroutable first, then announced). The configured primary stays. */
  remove(node: Node): boolean {
    if (node === this.primary) return false;
    const i = this.all.indexOf(node);
    if (i < 0) return false;
    this.all.splice(i, 1);
    const j = this.replicas.indexOf(node);
    if (j >= 0) this.replicas.splice(j, 1);
    this.announce({ added: [], removed: [node] });
    return true;
  }

  private announce(change: NodeChange): void {
    for (const l of this.listeners) l(change);
  }
}
