import { TopologyError } from './topology-error';

/**
 * The parts of a node-postgres `Client` the watch needs: `connection`, the protocol
 * connection that emits one `'parameterStatus'` event per ParameterStatus message
 * (pg 8: `{ parameterName, parameterValue }`; `Client` itself keeps none of them), and
 * `query`. pg-native clients have no `connection` and cannot be watched.
 */
export interface HotStandbyWatchable {
  connection?: {
    on(event: 'parameterStatus', listener: (msg: { parameterName: string; parameterValue: string }) => void): unknown;
    removeListener(event: 'parameterStatus', listener: (msg: { parameterName: string; parameterValue: string }) => void): unknown;
  };
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** Called with the session's `in_hot_standby`: first the current value, then each change. */
export type HotStandbyListener = (inHotStandby: boolean, previous: boolean | undefined) => void;

/** A running {@link watchHotStandby}. */
export interface HotStandbyWatch {
  /** The last value the server reported: true while the server is a hot standby. */
  readonly current: boolean;
  /** Detaches the listener (the client is left as it was). */
  stop(): void;
}

/**
 * Watches the `in_hot_standby` parameter status of one node-postgres session
 * (PostgreSQL ≥ 14). `onChange(true)` is reported first when the session is on a standby,
 * then `onChange(false, true)` when that server is promoted. The server does not push the
 * change to an idle session: it sends the new value just before the ReadyForQuery of the
 * next statement the session runs (verified on PostgreSQL 15: an idle session saw nothing
 * for 1.5 s after promotion, then `off` arrived with the reply to `select 1`). So a pooled
 * connection that keeps running queries learns of a promotion with its next query, and an
 * otherwise idle watcher must run a trivial statement now and then.
 *
 * The current value comes from `SHOW in_hot_standby` (run once, on the watched session;
 * attach to a connected client, or to one whose `connect()` is under way). Rejects with a
 * {@link TopologyError} on a client without a protocol connection (pg-native) or a server
 * older than 14 (the parameter does not exist there; use `pg_is_in_recovery()`).
 *
 * @example
 * const client = new pg.Client(replicaConfig);
 * await client.connect();
 * const watch = await watchHotStandby(client, (standby, was) => {
 *   if (was === true && !standby) console.log('this replica was promoted');
 * });
 * // … later
 * watch.stop();
 */
export async function watchHotStandby(client: HotStandbyWatchable, onChange: HotStandbyListener): Promise<HotStandbyWatch> {
  const connection = client.connection;
  if (!connection || typeof connection.on !== 'function') {
    throw new TopologyError('split-knex: this client exposes no protocol connection (pg-native?); in_hot_standby cannot be watched');
  }
  let current: boolean | undefined;
  const report = (value: boolean) => {
    if (value === current) return;
    const previous = current;
    current = value;
    onChange(value, previous);
  };
  const listener = (msg: { parameterName: string; parameterValue: string }) => {
    if (msg.parameterName === 'in_hot_standby') report(msg.parameterValue === 'on');
  };
  connection.on('parameterStatus', listener);
  const stop = () => {
    connection.removeListener('parameterStatus', listener);
  };
  // SHOW gives the value whenever the watch was attached. A value the server reports with
  // this reply (startup messages of a client still connecting, or a change since the last
  // statement) arrives as a ParameterStatus before the row, so `report` has run already
  // and reporting the same value again is a no-op.
  let value: unknown;
  try {
    const { rows } = await client.query('SHOW in_hot_standby');
    value = rows[0]?.['in_hot_standby'];
  } catch (err) {
    stop();
    throw new TopologyError('split-knex: SHOW in_hot_standby failed (PostgreSQL >= 14 is needed; see cause)', { cause: err });
  }
  if (value !== 'on' && value !== 'off') {
    stop();
    throw new TopologyError(`split-knex: SHOW in_hot_standby returned ${typeof value === 'string' ? JSON.stringify(value.slice(0, 20)) : typeof value}`);
  }
  report(value === 'on');
  return {
    get current() {
      return current as boolean;
    },
    stop,
  };
}
