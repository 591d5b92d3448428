// Patroni's REST API as the harness uses it (Patroni 3.0.2). Every call is bounded, so a
// killed or frozen member makes a call fail fast instead of hanging a test.

const DEFAULT_TIMEOUT_MS = 1000;

/** One entry of `GET /cluster` `members` (Patroni 3.0.2; optional keys appear only when set). */
export interface PatroniClusterMember {
  name: string;
  role: 'leader' | 'replica' | 'sync_standby' | 'standby_leader' | string;
  state: string;
  api_url: string;
  host: string;
  port: number;
  timeline?: number;
  /** Bytes behind the leader's last known position; `'unknown'` when the member reports none. */
  lag?: number | 'unknown';
}

/** The body of `GET /cluster`. */
export interface PatroniClusterJson {
  members: PatroniClusterMember[];
  pause?: boolean;
}

/** One row of `replication` in the leader's `GET /patroni` (from `pg_stat_replication`). */
export interface PatroniReplicationRow {
  application_name: string;
  state: string;
  sync_state?: string;
}

/** The body of `GET /patroni` (the fields the harness reads). */
export interface PatroniStatusJson {
  state: string;
  role: string;
  timeline?: number;
  replication?: PatroniReplicationRow[];
}

/** An HTTP status other than the one expected, with the body Patroni sent. */
export class PatroniHttpError extends Error {
  override readonly name = 'PatroniHttpError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${url} answered HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/**
 * GETs `url` and parses the JSON body; rejects on a timeout, a refused connection or a
 * status other than 200.
 *
 * @example
 * const cluster = await getJson<PatroniClusterJson>('http://127.0.0.1:28008/cluster');
 */
export async function getJson<T>(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  if (res.status !== 200) throw new PatroniHttpError(url, res.status, body);
  return JSON.parse(body) as T;
}

/**
 * The HTTP status of `GET url` (e.g. `/primary`: 200 on the leader, 503 elsewhere), or
 * `undefined` when nothing answers within the timeout.
 *
 * @example
 * const isLeader = (await statusOf(`${apiUrl}/primary`)) === 200;
 */
export async function statusOf(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer(); // Drain: frees the socket.
    return res.status;
  } catch {
    return undefined;
  }
}

/**
 * POSTs a JSON body and returns status and text; a timeout or refused connection rejects.
 *
 * @example
 * await postJson(`${leaderApi}/switchover`, { leader: 'n1', candidate: 'n2' }, 30_000);
 * await postJson(`${leaderApi}/config`, { synchronous_mode: true }, 10_000, 'PATCH');
 */
export async function postJson(url: string, body: unknown, timeoutMs = DEFAULT_TIMEOUT_MS, method: 'POST' | 'PATCH' = 'POST'): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text() };
}
