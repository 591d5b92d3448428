import pg from 'pg';
import { sleep } from '../cluster/poll';
import type { PatroniMember } from './patroni-member';

/** When a member first accepted a write after the probe was armed. */
export interface FirstWrite {
  member: string;
  at: number;
}

/**
 * Measures when a member starts accepting writes, independently of split-knex: one
 * connection per member tries `INSERT INTO <table>` every `intervalMs` (reconnecting after a
 * connection error); a standby refuses with 25006 until it is promoted. `arm()` starts the
 * clock (e.g. at the kill); `firstWrite()` is the earliest success after it.
 * The table must exist: `CREATE TABLE <table> (at timestamptz default now(), member text)`.
 *
 * @example
 * const probe = WriteProbe.start(survivors, 'lane_probe');
 * probe.arm();
 * const first = await probe.waitForFirstWrite(30_000);
 */
export class WriteProbe {
  private armedAt = Number.POSITIVE_INFINITY;
  private first: FirstWrite | undefined;
  private stopped = false;
  private readonly loops: Promise<void>[];

  private constructor(members: PatroniMember[], private readonly table: string, private readonly intervalMs: number) {
    this.loops = members.map((m) => this.loop(m));
  }

  /** Starts probing every member in `members`. */
  static start(members: PatroniMember[], table: string, intervalMs = 25): WriteProbe {
    return new WriteProbe(members, table, intervalMs);
  }

  /** Only writes that succeed from now on count. */
  arm(): void {
    this.armedAt = Date.now();
    this.first = undefined;
  }

  /** The first write accepted since `arm()`, if any yet. */
  firstWrite(): FirstWrite | undefined {
    return this.first;
  }

  /** Waits for the first write accepted since `arm()`. */
  async waitForFirstWrite(timeoutMs: number): Promise<FirstWrite> {
    const deadline = Date.now() + timeoutMs;
    while (!this.first) {
      if (Date.now() > deadline) throw new Error(`no member accepted a write within ${timeoutMs} ms`);
      await sleep(10);
    }
    return this.first;
  }

  /** Stops every loop and closes its connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(member: PatroniMember): Promise<void> {
    let client: pg.Client | undefined;
    while (!this.stopped) {
      try {
        if (!client) {
          const c = new pg.Client({ host: member.host, port: member.pgPort, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 500, query_timeout: 1000 });
          c.on('error', () => undefined);
          client = c;
          await c.connect();
        }
        const started = Date.now();
        await client.query(`insert into ${this.table} (member) values ($1)`, [member.name]);
        // Count a write only if it was sent after arm(): one sent before it proves nothing.
        if (started >= this.armedAt && (!this.first || Date.now() < this.first.at)) this.first = { member: member.name, at: Date.now() };
      } catch (err) {
        if ((err as { code?: string }).code !== '25006') {
          await closeQuietly(client);
          client = undefined;
        }
      }
      await sleep(this.intervalMs);
    }
    await closeQuietly(client);
  }
}

// A connection to a killed server may never finish closing: bound it.
async function closeQuietly(client: pg.Client | undefined): Promise<void> {
  if (client) await Promise.race([client.end().catch(() => undefined), sleep(500)]);
}
