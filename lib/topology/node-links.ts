import { BackgroundLink, type LinkStats } from '../background/background-link';
import { BackgroundLinks, type BackgroundLinksOptions } from '../background/background-links';
import type { ConnectionResolver } from '../background/connection-resolver';
import type { Node } from '../route/node';

/**
 * {@link BackgroundLinks} for a node set that changes at run time: the configured nodes'
 * links as before, plus one link per node that joined later (topology discovery), added
 * and closed with the node. Every task that asks `of(node)` gets the same link.
 *
 * @example
 * const links = new NodeLinks([[primary, primaryResolver]], { timeoutMs: 1000 });
 * links.add(n4, n4Resolver);   // a replica the topology source reported
 * await links.remove(n4);      // it left the cluster
 */
export class NodeLinks extends BackgroundLinks {
  private readonly joined = new Map<Node, BackgroundLink>();
  private closed = false;

  constructor(nodes: ReadonlyArray<readonly [Node, ConnectionResolver]>, private readonly linkOptions: BackgroundLinksOptions) {
    super(nodes, linkOptions);
  }

  /** Opens (lazily, on first use) a link to a node that joined. */
  add(node: Node, resolver: ConnectionResolver): void {
    if (this.joined.has(node)) return;
    const link = new BackgroundLink({
      node: node.name,
      timeoutMs: this.linkOptions.timeoutMs,
      createClient: this.linkOptions.createClient,
      settings: () => resolver.forBackground(),
      onConnectFailed: () => resolver.invalidate(),
    });
    if (this.closed) void link.close();
    this.joined.set(node, link);
  }

  /** Closes and forgets the link of a node that left. */
  async remove(node: Node): Promise<void> {
    const link = this.joined.get(node);
    if (link === undefined) return;
    this.joined.delete(node);
    await link.close();
  }

  override of(node: Node): BackgroundLink {
    return this.joined.get(node) ?? super.of(node);
  }

  override async close(): Promise<void> {
    this.closed = true;
    await Promise.all([super.close(), ...[...this.joined.values()].map((l) => l.close())]);
  }

  override reopen(): void {
    this.closed = false;
    super.reopen();
    for (const l of this.joined.values()) l.reopen();
  }

  override stats(): LinkStats[] {
    return [...super.stats(), ...[...this.joined.values()].map((l) => l.stats())];
  }
}
