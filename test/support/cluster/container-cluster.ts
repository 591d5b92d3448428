import { spawnSync } from 'node:child_process';
import type { GenericContainer, StartedNetwork, StartedTestContainer } from 'testcontainers';
import { BaseCluster } from './base-cluster';
import type { NodeInfo, StopMode } from './cluster';
import { randomUUID } from 'node:crypto';
import { registerExitCleanup, shellQuote, startWatchdog } from './exit-cleanup';
import { allocatePorts, releasePorts } from './free-port';
import { loadFixtures } from './load-fixtures';
import { withNodeClient } from './pg-client';
import { pollUntil } from './poll';
import { baseSettings, type SettingValue } from './postgres-settings';
import type { NormalizedOptions } from './start-cluster-options';

/** Image built from docker/postgres/Dockerfile; `SPLIT_KNEX_IMAGE` overrides. */
export const DEFAULT_IMAGE = 'split-knex/postgres:15';

/**
 * An extra container on a cluster's network (HAProxy, PgBouncer, …), see
 * {@link ContainerCluster.startSidecar}.
 */
export interface SidecarSpec {
  /** Network alias and key; must not be a node name. */
  name: string;
  image: string;
  env?: Record<string, string>;
  /** Container ports, each published on the same port of 127.0.0.1. */
  ports: number[];
  /** Shell command run inside until it exits 0 (the wait strategy). */
  readyCommand: string;
}

type Testcontainers = typeof import('testcontainers');

const READY_TIMEOUT_MS = 60_000;
const CLUSTER_LABEL = 'split-knex.cluster';
const LOG_LINES = 40;

/**
 * The `containers` provider: one Docker network; a primary and replicas from
 * `split-knex/postgres:15` (built by docker/bootstrap-offline.sh), published on 127.0.0.1 at
 * fixed ports below 32768 so they survive stop/start. Each server also *listens* on its host
 * port inside its container, so `inet_server_port()` names the node as the host sees it.
 * Image contract (docker/postgres/entrypoint.sh): env `ROLE=primary|replica`, `PRIMARY_HOST`,
 * `PRIMARY_PORT`, `PGPORT`; trust auth; a replica clones its primary on first start only;
 * PostgreSQL is the container's main process; arguments go to `postgres`.
 *
 * @example
 * const cluster = await ContainerCluster.start(normalizeOptions({ provider: 'containers' }));
 */
export class ContainerCluster extends BaseCluster {
  readonly provider = 'containers' as const;
  private destroyed: Promise<void> | undefined;
  private readonly logs = new Map<string, string[]>();
  private readonly sidecarPorts: number[] = [];

  private constructor(
    primary: NodeInfo,
    replicas: NodeInfo[],
    lagReplica: boolean,
    private readonly tc: Testcontainers,
    private readonly containers: Map<string, StartedTestContainer>,
    private readonly network: StartedNetwork,
    private readonly unregisterExit: () => void,
    /** `key=value` on every container of this cluster, for the watchdog. */
    private readonly label: string,
  ) {
    super(primary, replicas, lagReplica);
  }

  /**
   * True when testcontainers is installed and the engine has the image (so `start()` can
   * work without a registry). Never throws; `auto` provider selection asks this.
   *
   * @example
   * if (await ContainerCluster.available()) provider = 'containers';
   */
  static async available(): Promise<boolean> {
    try {
      process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
      const tc = loadTestcontainers();
      const client = await tc.getContainerRuntimeClient();
      return await client.image.exists(tc.ImageName.fromString(process.env['SPLIT_KNEX_IMAGE'] || DEFAULT_IMAGE));
    } catch {
      return false;
    }
  }

  /** Starts the network, the primary (database + fixtures), then the replicas in parallel. */
  static async start(options: NormalizedOptions): Promise<ContainerCluster> {
    return keepingAlive(() => ContainerCluster.boot(options));
  }

  private static async boot(options: NormalizedOptions): Promise<ContainerCluster> {
    // Ryuk (the reaper container) cannot be pulled without a registry; our exit hook reaps.
    process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
    process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
    const tc = loadTestcontainers();
    const image = process.env['SPLIT_KNEX_IMAGE'] || DEFAULT_IMAGE;
    await requireImage(tc, image);
    const began = Date.now();
    const ports = await allocatePorts(1 + (options.replicas ?? 2), options.basePort);
    const network = await new tc.Network().start();
    const containers = new Map<string, StartedTestContainer>();
    const label = `${CLUSTER_LABEL}=${randomUUID()}`;
    const removeAll = `docker ps -aq --filter label=${shellQuote(label)} | xargs -r docker rm -f -v; docker network rm ${shellQuote(network.getId())}`;
    // The exit hook covers exits and signals; the watchdog also SIGKILL and OOM.
    const cancelWatchdog = startWatchdog(`${removeAll} >/dev/null 2>&1`);
    const unregisterHook = registerExitCleanup(() => {
      const ids = [...containers.values()].map((c) => c.getId());
      if (ids.length > 0) spawnSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore' });
      spawnSync('docker', ['network', 'rm', network.getId()], { stdio: 'ignore' });
    });
    const unregisterExit = () => {
      unregisterHook();
      cancelWatchdog();
    };
    const nodes = ports.map((port, i): NodeInfo => {
      const name = i === 0 ? 'primary' : `replica${i}`;
      const url = `postgres://postgres@127.0.0.1:${port}/${options.database}`;
      return { name, role: i === 0 ? 'primary' : 'replica', host: '127.0.0.1', port, user: 'postgres', database: options.database, url };
    });
    const [primary, ...replicas] = nodes as [NodeInfo, ...NodeInfo[]];
    const cluster = new ContainerCluster(primary, replicas, options.lagReplica, tc, containers, network, unregisterExit, label);
    try {
      await cluster.run(primary, { ROLE: 'primary' }, options.settings);
      await withNodeClient({ ...primary, database: 'postgres' }, async (c) => {
        const { rows } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
        if (rows.length === 0) await c.query(`CREATE DATABASE ${options.database}`);
      });
      if (options.fixtures) await loadFixtures(primary);
      options.log(`primary container ready on ${primary.port} after ${Date.now() - began} ms`);
      await Promise.all(
        replicas.map(async (replica) => {
          await cluster.run(replica, { ROLE: 'replica', PRIMARY_HOST: 'primary', PRIMARY_PORT: String(primary.port) }, options.settings);
          await cluster.waitUntilStreaming(replica, READY_TIMEOUT_MS, () => cluster.logTail(replica.name));
          options.log(`${replica.name} container streaming on ${replica.port} after ${Date.now() - began} ms`);
        }),
      );
      return cluster;
    } catch (err) {
      await cluster.destroy().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Starts another container on this cluster's network, reachable from the nodes by its
   * name and from the host on 127.0.0.1 at each of `spec.ports`; `destroy()` removes it.
   *
   * @example
   * await cluster.startSidecar({ name: 'pgbouncer', image: 'split-knex/pgbouncer', ports: [26432],
   *   env: { DB_HOST: 'primary', DB_PORT: String(cluster.primary.port), LISTEN_PORT: '26432' },
   *   readyCommand: 'pg_isready -h 127.0.0.1 -p 26432' });
   */
  startSidecar(spec: SidecarSpec): Promise<StartedTestContainer> {
    return keepingAlive(async () => {
      if (this.containers.has(spec.name)) throw new Error(`a container named ${spec.name} already runs`);
      await requireImage(this.tc, spec.image);
      this.sidecarPorts.push(...spec.ports);
      const container = await this.builder(spec.name, spec.image, spec.ports)
        .withEnvironment(spec.env ?? {})
        .withWaitStrategy(this.tc.Wait.forSuccessfulCommand(spec.readyCommand))
        .start()
        .catch((err: unknown) => Promise.reject(this.startError(spec.name, err)));
      this.containers.set(spec.name, container);
      return container;
    });
  }

  stop(name: string, mode: StopMode = 'fast'): Promise<void> {
    return keepingAlive(async () => {
      const node = this.node(name);
      // pg_ctl inside rather than `docker stop`, whose SIGINT is always a fast shutdown.
      await this.container(name)
        .exec(['pg_ctl', 'stop', '-m', mode, '-w', '-t', '30'])
        .catch(() => undefined); // The exec may die with the container.
      await pollUntil(async () => !(await this.inspect(name)).State.Running, {
        timeoutMs: 30_000,
        what: `${node.name} container to exit`,
      });
      this.unavailable.add(node.name);
    });
  }

  start(name: string): Promise<void> {
    return keepingAlive(async () => {
      const node = this.node(name);
      const state = (await this.inspect(name)).State;
      if (state.Paused) throw new Error(`${name} is paused; resume() it instead of start()`);
      if (!state.Running) await (await this.dockerode(name)).start();
      this.unavailable.delete(node.name);
      await this.waitUntilAnswering(node, READY_TIMEOUT_MS, () => this.logTail(node.name));
      if (node.role === 'replica' && !this.promoted.has(node.name) && !this.unavailable.has('primary')) {
        await this.waitUntilStreaming(node, READY_TIMEOUT_MS, () => this.logTail(node.name));
      }
    });
  }

  async pause(name: string): Promise<void> {
    await (await this.dockerode(name)).pause();
    this.unavailable.add(this.node(name).name);
  }

  async resume(name: string): Promise<void> {
    await (await this.dockerode(name)).unpause();
    if ((await this.inspect(name)).State.Running) this.unavailable.delete(this.node(name).name);
  }

  promote(name: string): Promise<void> {
    return keepingAlive(async () => {
      const node = this.replica(name);
      if (this.promoted.has(node.name)) throw new Error(`${name} is not a replica; cannot promote it`);
      const result = await this.container(name).exec(['pg_ctl', 'promote', '-w', '-t', '60']);
      if (result.exitCode !== 0) throw new Error(`pg_ctl promote in ${name} failed: ${result.output.trim()}`);
      this.promoted.add(node.name);
      await this.waitUntilPromoted(node, READY_TIMEOUT_MS);
    });
  }

  /** The last lines the container of a node (or sidecar) wrote, for error messages. */
  logTail(name: string): string {
    const lines = this.logs.get(name) ?? [];
    return lines.length === 0 ? `(no output from ${name})` : `last output of ${name}:\n${lines.join('\n')}`;
  }

  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      await Promise.allSettled(
        [...this.containers.keys()].map(async (name) => {
          // A paused container cannot be removed; wake it first.
          if ((await this.inspect(name).catch(() => undefined))?.State.Paused) await (await this.dockerode(name)).unpause();
          await this.container(name).stop({ timeout: 0, remove: true, removeVolumes: true });
        }),
      );
      await this.network.stop().catch(() => undefined);
      releasePorts([...this.nodes.map((n) => n.port), ...this.sidecarPorts]);
      this.unregisterExit();
    })();
    return this.destroyed;
  }

  // Starts one PostgreSQL container and waits for it inside (pg_isready, then a query that
  // checks the role) and from the host (a query through the published port).
  private async run(node: NodeInfo, env: Record<string, string>, settings: Readonly<Record<string, SettingValue>>): Promise<void> {
    const port = node.port;
    const standby = node.role === 'replica' ? 't' : 'f';
    const ready =
      `pg_isready -q -h 127.0.0.1 -p ${port} -U postgres && ` +
      `[ "$(psql -h 127.0.0.1 -p ${port} -U postgres -d postgres -Atc 'select pg_is_in_recovery()')" = ${standby} ]`;
    const image = process.env['SPLIT_KNEX_IMAGE'] || DEFAULT_IMAGE;
    const container = await this.builder(node.name, image, [port])
      .withEnvironment({ ...env, PGPORT: String(port) })
      .withCommand(postgresArgs(node.name, port, settings))
      .withWaitStrategy(this.tc.Wait.forSuccessfulCommand(ready))
      .start()
      .catch((err: unknown) => Promise.reject(this.startError(node.name, err)));
    this.containers.set(node.name, container);
    // From the host too, through the published port (docker-proxy may lag the container).
    // The `postgres` database: the primary's test database does not exist yet.
    await pollUntil(
      () => withNodeClient({ ...node, database: 'postgres' }, async (c) => (await c.query('SELECT 1')).rows.length === 1, { timeoutMs: 2000 }),
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, what: `${node.name} to accept connections on 127.0.0.1:${port}`, describe: () => this.logTail(node.name) },
    );
  }

  private builder(name: string, image: string, ports: number[]): GenericContainer {
    const lines: string[] = [];
    this.logs.set(name, lines);
    const builder = new this.tc.GenericContainer(image)
      .withNetwork(this.network)
      .withNetworkAliases(name)
      .withLabels({ [CLUSTER_LABEL]: this.label.slice(CLUSTER_LABEL.length + 1) })
      .withExposedPorts(...ports.map((port) => ({ container: port, host: port })))
      .withStartupTimeout(READY_TIMEOUT_MS)
      .withLogConsumer((stream) => {
        stream.on('data', (chunk: Buffer | string) => {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          lines.splice(0, Math.max(0, lines.length - LOG_LINES));
        });
        stream.on('error', () => undefined);
      });
    // Trust auth: publish on loopback only, not on every interface of the host.
    // (hostConfig is protected; without it the ports stay published on every interface.)
    const bindings = (builder as unknown as { hostConfig?: { PortBindings?: Record<string, { HostIp?: string }[]> } })
      .hostConfig?.PortBindings;
    for (const list of Object.values(bindings ?? {})) for (const binding of list) binding.HostIp = '127.0.0.1';
    return builder;
  }

  private startError(name: string, err: unknown): Error {
    const message = err instanceof Error ? err.message : String(err);
    return new Error(`container ${name} did not become ready: ${message}\n${this.logTail(name)}`, { cause: err });
  }

  private container(name: string): StartedTestContainer {
    const key = this.containers.has(name) ? name : this.node(name).name;
    const container = this.containers.get(key);
    if (!container) throw new Error(`${name} has no container`);
    return container;
  }

  private async dockerode(name: string) {
    const client = await this.tc.getContainerRuntimeClient();
    return client.container.getById(this.container(name).getId());
  }

  private async inspect(name: string) {
    return (await this.dockerode(name)).inspect();
  }
}

// `postgres` arguments: the harness's fast test settings (see postgres-settings.ts), minus
// what only makes sense for a server on the host.
function postgresArgs(name: string, port: number, extra: Readonly<Record<string, SettingValue>>): string[] {
  const settings: Record<string, SettingValue> = baseSettings({ port, socketDir: '/var/run/postgresql', name, extra });
  settings['listen_addresses'] = '*';
  return Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value)}`]);
}

// The harness's poll sleeps are unref()ed and Docker's sockets may be idle between polls;
// with no child process of ours alive, Node would exit mid-wait with status 0.
async function keepingAlive<T>(fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => undefined, 1000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

async function requireImage(tc: Testcontainers, image: string): Promise<void> {
  const client = await tc.getContainerRuntimeClient();
  if (!(await client.image.exists(tc.ImageName.fromString(image)))) {
    throw new Error(`Docker image ${image} not found: build it with docker/bootstrap-offline.sh (as root; no registry needed)`);
  }
}

/** `require('testcontainers')`, with an actionable error when it is not installed. */
function loadTestcontainers(): Testcontainers {
  try {
    return require('testcontainers') as Testcontainers;
  } catch (err) {
    throw new Error('the containers provider needs testcontainers: npm i -D testcontainers@11', { cause: err });
  }
}
