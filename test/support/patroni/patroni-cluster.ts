import * as fs from 'node:fs';
import * as path from 'node:path';
import { allocatePorts, releasePorts } from '../cluster/free-port';
import { findPgBinDir } from '../cluster/pg-binaries';
import { queryNode } from '../cluster/pg-client';
import { pollUntil } from '../cluster/poll';
import { makeTempRoot } from '../cluster/temp-root';
import { Daemon } from './daemon';
import { armCleanup } from './patroni-cleanup';
import { etcdArgs, type PatroniClusterSpec } from './patroni-config';
import { PatroniMember } from './patroni-member';
import { getJson, postJson, statusOf, type PatroniClusterJson, type PatroniStatusJson } from './patroni-rest';

/** Options of {@link PatroniCluster.start}. */
export interface PatroniClusterOptions {
  /** Members at start (default 3): `n1` bootstraps, the others clone it. */
  members?: number;
  /** Leader lease in s (default 5: the smallest that obeys loop_wait + 2 × retry_timeout ≤ ttl). */
  ttl?: number;
  /** Patroni's loop in s (default 1). */
  loopWait?: number;
  /** DCS retry in s (default 2; 1 can never win the leader race on Patroni 3.0.2). */
  retryTimeout?: number;
  /** Bound of `start()` and of each wait helper by default, in ms (default 60 000). */
  timeoutMs?: number;
}

/**
 * A real Patroni cluster for tests: one etcd and `members` Patroni-managed PostgreSQL
 * servers on free loopback ports below 32768, in one temp dir. Fault injection: SIGKILL of
 * the leader's machine, planned switchover through the REST API, restart, members added
 * and removed at run time. Everything it starts is stopped by `destroy()`, by an exit hook,
 * or (SIGKILL of the test process) by a detached watchdog. Needs `scripts/install-patroni.sh`.
 *
 * @example
 * const cluster = await PatroniCluster.start();
 * const killed = await cluster.killLeader();
 * const leader = await cluster.waitForLeader({ not: killed.name });
 * await cluster.destroy();
 */
export class PatroniCluster {
  private readonly members = new Map<string, PatroniMember>();
  private readonly ports: number[] = [];
  private etcd: Daemon | undefined;
  private nextIndex = 1;
  private destroyed: Promise<void> | undefined;

  private constructor(
    readonly spec: PatroniClusterSpec,
    private readonly timeoutMs: number,
    private readonly disarm: () => void,
  ) {}

  /** Starts etcd and the members; resolves when a leader accepts writes and every other member streams. */
  static async start(options: PatroniClusterOptions = {}): Promise<PatroniCluster> {
    const root = makeTempRoot();
    const binDir = findPgBinDir();
    const disarm = armCleanup(root, binDir);
    const [etcdPort, peerPort] = await allocatePorts(2);
    const spec: PatroniClusterSpec = {
      scope: 'lane',
      root,
      etcdPort: etcdPort as number,
      binDir,
      ttl: options.ttl ?? 5,
      loopWait: options.loopWait ?? 1,
      retryTimeout: options.retryTimeout ?? 2,
    };
    const cluster = new PatroniCluster(spec, options.timeoutMs ?? 60_000, disarm);
    cluster.ports.push(etcdPort as number, peerPort as number);
    try {
      await cluster.boot(options.members ?? 3, peerPort as number);
      return cluster;
    } catch (err) {
      await cluster.destroy().catch(() => undefined);
      throw err;
    }
  }

  /** Every member the harness runs or ran and has not removed, by name order. */
  get memberList(): PatroniMember[] {
    return [...this.members.values()];
  }

  /** The REST base URLs of every member (what a topology source is configured with). */
  get restUrls(): string[] {
    return this.memberList.map((m) => m.apiUrl);
  }

  /** The member called `name`; throws for an unknown name. */
  member(name: string): PatroniMember {
    const m = this.members.get(name);
    if (!m) throw new Error(`no Patroni member named ${name} (have ${[...this.members.keys()].join(', ')})`);
    return m;
  }

  /** `GET /cluster` from the first running member that answers. */
  async clusterJson(): Promise<PatroniClusterJson> {
    let last: unknown;
    for (const m of this.memberList.filter((x) => x.running)) {
      try {
        return await getJson<PatroniClusterJson>(`${m.apiUrl}/cluster`);
      } catch (err) {
        last = err;
      }
    }
    throw new Error('no member answered GET /cluster', { cause: last });
  }

  /**
   * The leader as its own REST API says (`GET /primary` 200), or undefined. `/cluster` is not
   * used on purpose: it lists a dead leader as leader until its lease expires.
   */
  async leader(): Promise<PatroniMember | undefined> {
    const running = this.memberList.filter((m) => m.running);
    const statuses = await Promise.all(running.map((m) => statusOf(`${m.apiUrl}/primary`)));
    const leaders = running.filter((_, i) => statuses[i] === 200);
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** Waits for a leader (other than `not`) that answers `/primary` 200 and is out of recovery. */
  async waitForLeader(options: { not?: string; timeoutMs?: number } = {}): Promise<PatroniMember> {
    let found: PatroniMember | undefined;
    await pollUntil(
      async () => {
        const l = await this.leader();
        if (!l || l.name === options.not) return false;
        const [row] = await queryNode(this.nodeInfo(l), 'select pg_is_in_recovery() as r', [], { timeoutMs: 1000 });
        found = l;
        return row?.r === false;
      },
      { timeoutMs: options.timeoutMs ?? this.timeoutMs, intervalMs: 50, what: `a Patroni leader${options.not ? ` other than ${options.not}` : ''}`, describe: () => this.describe() },
    );
    return found as PatroniMember;
  }

  /**
   * Waits until the leader reports every named member (default: every running non-leader)
   * as `streaming` in its `GET /patroni` replication list. Returns the leader.
   */
  async waitForStreaming(names?: string[], timeoutMs = this.timeoutMs): Promise<PatroniMember> {
    let leader: PatroniMember | undefined;
    await pollUntil(
      async () => {
        leader = await this.leader();
        if (!leader) return false;
        const want = names ?? this.memberList.filter((m) => m.running && m !== leader).map((m) => m.name);
        const status = await getJson<PatroniStatusJson>(`${leader.apiUrl}/patroni`);
        const streaming = new Set((status.replication ?? []).filter((r) => r.state === 'streaming').map((r) => r.application_name));
        if (!want.every((n) => streaming.has(n))) return false;
        // pg_basebackup's WAL stream also shows as streaming under the member's name (seen while
        // /cluster said "creating replica"): also ask for a running member on the leader's timeline.
        const cluster = await getJson<PatroniClusterJson>(`${leader.apiUrl}/cluster`);
        return want.every((n) => cluster.members.some((m) => m.name === n && m.state === 'running' && m.timeline === status.timeline));
      },
      { timeoutMs, intervalMs: 100, what: `members streaming from the leader`, describe: () => this.describe() },
    );
    return leader as PatroniMember;
  }

  /**
   * Turns Patroni's `synchronous_mode` on or off (`PATCH /config`) and resolves once it holds:
   * on, one replica is the synchronous standby in Patroni's view and in the leader's
   * `pg_stat_replication`, so every commit the leader acknowledges is on it, and a failover
   * promotes only it; off, none is. With asynchronous replication (the default) a SIGKILLed
   * leader's last acknowledged commits may never reach the member promoted in its place.
   */
  async setSynchronousMode(on: boolean): Promise<void> {
    const leader = await this.waitForStreaming();
    const res = await postJson(`${leader.apiUrl}/config`, { synchronous_mode: on }, this.timeoutMs, 'PATCH');
    if (res.status !== 200) throw new Error(`PATCH /config synchronous_mode=${on}: ${res.status} ${res.text}`);
    await this.waitForCluster(`synchronous_mode ${on ? 'on with a synchronous standby' : 'off'}`, (c) => c.members.some((m) => m.role === 'sync_standby') === on);
    await pollUntil(
      async () => {
        const rows = await this.query(leader.name, "select count(*)::int as n from pg_stat_replication where sync_state = 'sync'");
        return (Number(rows[0]?.n) > 0) === on;
      },
      { timeoutMs: this.timeoutMs, intervalMs: 100, what: `the leader's pg_stat_replication to show ${on ? 'a' : 'no'} synchronous standby`, describe: () => this.describe() },
    );
  }

  /** Polls `GET /cluster` until `predicate` holds; resolves with that answer. */
  async waitForCluster(what: string, predicate: (c: PatroniClusterJson) => boolean, timeoutMs = this.timeoutMs): Promise<PatroniClusterJson> {
    let seen: PatroniClusterJson | undefined;
    await pollUntil(async () => predicate((seen = await this.clusterJson())), {
      timeoutMs,
      intervalMs: 100,
      what,
      describe: () => `last /cluster: ${JSON.stringify(seen)}`,
    });
    return seen as PatroniClusterJson;
  }

  /** A lost machine: SIGKILL of the current leader's Patroni and PostgreSQL. */
  async killLeader(): Promise<{ name: string; at: number }> {
    const leader = await this.leader();
    if (!leader) throw new Error(`no leader to kill\n${await this.describe()}`);
    const at = Date.now();
    leader.kill();
    await leader.waitForExit();
    return { name: leader.name, at };
  }

  /**
   * Planned switchover through the leader's REST API (`POST /switchover`) to `candidate`
   * (default: the first streaming replica); resolves once the new leader accepts writes.
   */
  async switchover(candidate?: string): Promise<{ from: string; to: string }> {
    const leader = await this.waitForStreaming();
    const to = candidate ?? this.memberList.find((m) => m.running && m !== leader)?.name;
    if (!to) throw new Error('no candidate for a switchover');
    const res = await postJson(`${leader.apiUrl}/switchover`, { leader: leader.name, candidate: to }, this.timeoutMs);
    if (res.status !== 200) throw new Error(`switchover ${leader.name} -> ${to} refused: HTTP ${res.status} ${res.text}`);
    const now = await this.waitForLeader({ not: leader.name });
    return { from: leader.name, to: now.name };
  }

  /** (Re)starts a stopped or killed member; it rejoins (pg_rewind) or clones on its own. */
  async startMember(name: string, waitStreaming = true): Promise<void> {
    const m = this.member(name);
    await m.start();
    if (waitStreaming) await this.waitForStreaming([name]);
  }

  /** Stops a member cleanly (SIGTERM to Patroni); it stays in `/cluster` until its key expires. */
  async stopMember(name: string): Promise<void> {
    await this.member(name).stop();
  }

  /** Adds a member at run time on new ports; resolves once it streams from the leader. */
  async addMember(): Promise<PatroniMember> {
    const m = await this.createMember();
    await m.start();
    await this.waitForStreaming([m.name]);
    return m;
  }

  /** Stops a member and forgets it; resolves once `/cluster` no longer lists it (≈ ttl). */
  async removeMember(name: string): Promise<void> {
    const m = this.member(name);
    await m.stop();
    this.members.delete(name);
    releasePorts([m.pgPort, m.apiPort]);
    await this.waitForCluster(`${name} gone from /cluster`, (c) => !c.members.some((x) => x.name === name));
  }

  /** Runs SQL on a member (as `postgres`, trust authentication) and returns the rows. */
  query<T = any>(name: string, sql: string, params?: unknown[]): Promise<T[]> {
    return queryNode<T>(this.nodeInfo(this.member(name)), sql, params, { timeoutMs: 5000 });
  }

  /** Stops everything (replicas first, so no failover race) and removes the temp dir. */
  destroy(): Promise<void> {
    this.destroyed ??= this.teardown();
    return this.destroyed;
  }

  private async boot(count: number, peerPort: number): Promise<void> {
    this.etcd = Daemon.start('etcd', etcdArgs(this.spec, peerPort), {
      cwd: this.spec.root,
      logFile: path.join(this.spec.root, 'etcd.log'),
      pidFile: path.join(this.spec.root, 'etcd.pid'),
    });
    const health = `http://127.0.0.1:${this.spec.etcdPort}/health`;
    await pollUntil(async () => (await getJson<{ health: string }>(health)).health === 'true', {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'etcd to answer /health',
      describe: () => tail(path.join(this.spec.root, 'etcd.log')),
    });
    const members: PatroniMember[] = [];
    for (let i = 0; i < count; i++) members.push(await this.createMember());
    const [first, ...rest] = members;
    await first?.start(); // It bootstraps (initdb); the others clone it once it leads.
    await this.waitForLeader();
    await Promise.all(rest.map((m) => m.start()));
    await this.waitForStreaming();
  }

  private async createMember(): Promise<PatroniMember> {
    const name = `n${this.nextIndex++}`;
    const [pgPort, apiPort] = (await allocatePorts(2)) as [number, number];
    this.ports.push(pgPort, apiPort);
    const m = new PatroniMember(this.spec, { name, pgPort, apiPort, dir: path.join(this.spec.root, name) });
    this.members.set(name, m);
    return m;
  }

  private async teardown(): Promise<void> {
    const leader = await this.leader().catch(() => undefined);
    await Promise.all(this.memberList.filter((m) => m !== leader).map((m) => m.stop()));
    await leader?.stop();
    // A killed Patroni leaves its postmaster behind (its parent is PID 1).
    for (const m of this.memberList) {
      const pid = m.postmasterPid();
      if (pid) m.kill();
    }
    await this.etcd?.stop(10_000);
    fs.rmSync(this.spec.root, { recursive: true, force: true });
    releasePorts(this.ports);
    this.disarm();
  }

  private nodeInfo(m: PatroniMember) {
    return { name: m.name, role: 'primary' as const, host: m.host, port: m.pgPort, user: 'postgres', database: 'postgres', url: m.pgUrl };
  }

  private async describe(): Promise<string> {
    const states = this.memberList.map((m) => `${m.name}: patroni ${m.running ? 'running' : 'not running'}; log tail:\n${m.logTail(8)}`);
    return states.join('\n');
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
