import * as fs from 'node:fs';
import * as path from 'node:path';
import { BaseCluster } from './base-cluster';
import type { StopMode } from './cluster';
import { registerExitCleanup, shellQuote, startWatchdog } from './exit-cleanup';
import { allocatePorts, releasePorts } from './free-port';
import { loadFixtures } from './load-fixtures';
import { LocalNode, PortInUseError, type LocalNodeContext } from './local-node';
import { findPgBinDir } from './pg-binaries';
import { withNodeClient } from './pg-client';
import { asPostgres } from './run-command';
import type { NormalizedOptions } from './start-cluster-options';
import { makeTempRoot } from './temp-root';

const PORT_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 20_000;

/**
 * The `local` provider: PostgreSQL server binaries on this machine, one temp dir holding
 * every data dir, log and unix socket, servers run as `postgres` when we are root.
 * Anything it started is stopped by `destroy()`, by a `process.on('exit')` hook, or — if
 * the process is SIGKILLed — by a detached watchdog shell.
 *
 * @example
 * const cluster = await LocalCluster.start(normalizeOptions({ replicas: 2 }));
 */
export class LocalCluster extends BaseCluster {
  readonly provider = 'local' as const;
  private destroyed: Promise<void> | undefined;

  private constructor(
    /** The temp dir: `<root>/<name>` data dirs, `<root>/<name>.log` logs, sockets. */
    readonly root: string,
    private readonly localNodes: LocalNode[],
    lagReplica: boolean,
    private readonly unregisterExit: () => void,
    private readonly cancelWatchdog: () => void,
  ) {
    const [primary, ...replicas] = localNodes;
    if (!primary) throw new Error('a cluster needs a primary');
    super(primary.info, replicas.map((r) => r.info), lagReplica);
  }

  /** Creates, starts and waits for a primary and `options.replicas ?? 2` streaming replicas. */
  static async start(options: NormalizedOptions): Promise<LocalCluster> {
    const ctx: LocalNodeContext = { bin: findPgBinDir(), root: makeTempRoot(), settings: options.settings };
    // Hooks first: from here on, whatever gets started is also stopped if we die.
    const nodes: LocalNode[] = [];
    const cancelWatchdog = startWatchdog(watchdogScript(ctx));
    const unregisterExit = registerExitCleanup(() => {
      for (const node of nodes) node.stopSync();
      fs.rmSync(ctx.root, { recursive: true, force: true });
      cancelWatchdog();
    });
    let cluster: LocalCluster | undefined;
    try {
      const replicaCount = options.replicas ?? 2;
      const ports = await allocatePorts(1 + replicaCount, options.basePort);
      ports.forEach((port, i) => {
        const name = i === 0 ? 'primary' : `replica${i}`;
        nodes.push(new LocalNode(ctx, name, i === 0 ? 'primary' : 'replica', port, options.database));
      });
      cluster = new LocalCluster(ctx.root, nodes, options.lagReplica, unregisterExit, cancelWatchdog);
      await cluster.boot(ctx, options);
      return cluster;
    } catch (err) {
      if (cluster) {
        await cluster.destroy().catch(() => undefined);
      } else {
        unregisterExit();
        cancelWatchdog();
        fs.rmSync(ctx.root, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** The data dir of a node, for debugging. */
  dataDir(name: string): string {
    return this.local(name).dataDir;
  }

  /** The server log of a node, for debugging. */
  logFile(name: string): string {
    return this.local(name).logFile;
  }

  async stop(name: string, mode: StopMode = 'fast'): Promise<void> {
    await this.local(name).stop(mode);
    this.unavailable.add(name);
  }

  async start(name: string): Promise<void> {
    const node = this.local(name);
    if (node.state === 'paused') throw new Error(`${name} is paused; resume() it instead of start()`);
    if (node.state !== 'running') await node.start();
    this.unavailable.delete(name);
    await this.waitUntilAnswering(node.info, READY_TIMEOUT_MS, () => node.logTail());
    if (node.info.role === 'replica' && !this.promoted.has(name) && !this.unavailable.has('primary')) {
      await this.waitUntilStreaming(node.info, READY_TIMEOUT_MS, () => node.logTail());
    }
  }

  async pause(name: string): Promise<void> {
    this.local(name).pause();
    this.unavailable.add(name);
  }

  async resume(name: string): Promise<void> {
    const node = this.local(name);
    node.resume();
    if (node.state === 'running') this.unavailable.delete(name);
  }

  async promote(name: string): Promise<void> {
    const node = this.local(name);
    if (node.info.role !== 'replica' || this.promoted.has(name)) throw new Error(`${name} is not a replica; cannot promote it`);
    await node.promote();
    this.promoted.add(name);
    await this.waitUntilPromoted(node.info, READY_TIMEOUT_MS);
  }

  destroy(): Promise<void> {
    this.destroyed ??= this.teardown();
    return this.destroyed;
  }

  // initdb → start → database + fixtures → clone every replica in parallel → streaming.
  private async boot(ctx: LocalNodeContext, options: NormalizedOptions): Promise<void> {
    const began = Date.now();
    const { log } = options;
    const [primary, ...replicas] = this.localNodes as [LocalNode, ...LocalNode[]];
    await primary.initPrimary();
    log(`initdb done in ${Date.now() - began} ms (${ctx.bin}, ${ctx.root})`);
    await startOnFreePort(primary, options);
    await withNodeClient({ ...primary.info, database: 'postgres' }, (c) => c.query(`CREATE DATABASE ${options.database}`));
    if (options.fixtures) {
      const applied = await loadFixtures(primary.info);
      if (applied.length > 0) log(`applied ${applied.join(', ')}`);
    }
    log(`primary ready on ${primary.info.port} after ${Date.now() - began} ms`);
    await Promise.all(
      replicas.map(async (replica) => {
        await replica.cloneFrom(primary);
        await startOnFreePort(replica, options);
        await this.waitUntilStreaming(replica.info, READY_TIMEOUT_MS, () => replica.logTail());
        log(`${replica.info.name} streaming on ${replica.info.port} after ${Date.now() - began} ms`);
      }),
    );
  }

  private async teardown(): Promise<void> {
    const results = await Promise.allSettled(this.localNodes.map((n) => n.stop('immediate')));
    fs.rmSync(this.root, { recursive: true, force: true });
    releasePorts(this.localNodes.map((n) => n.info.port));
    this.unregisterExit();
    this.cancelWatchdog();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private local(name: string): LocalNode {
    this.node(name); // Throws the helpful "no node named …" error.
    return this.localNodes.find((n) => n.info.name === name) as LocalNode;
  }
}

// Another process may grab a port between our probe and postgres's bind: move and retry.
async function startOnFreePort(node: LocalNode, options: NormalizedOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await node.start();
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw err;
      const [port] = await allocatePorts(1, (options.basePort ?? node.info.port) + 10 * attempt);
      options.log(`${err.message}; retrying on ${port}`);
      node.setPort(port as number);
    }
  }
}

// Runs after this process dies without cleaning up (SIGKILL, OOM): stop every postmaster
// (waking paused ones first) and remove the temp dir.
function watchdogScript(ctx: LocalNodeContext): string {
  const root = shellQuote(ctx.root);
  const pgCtl = asPostgres(path.join(ctx.bin, 'pg_ctl'), []).map(shellQuote).join(' ');
  return [
    `for d in ${root}/*/; do`,
    '  pid=$(head -n 1 "$d/postmaster.pid" 2>/dev/null) || continue',
    '  pkill -CONT -P "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null',
    `  ${pgCtl} stop -D "$d" -m immediate -w -t 10 >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null`,
    'done',
    `rm -rf ${root}`,
  ].join('\n');
}
