/** What one successful probe learned about a node. */
export interface ProbeResult {
  /** `pg_is_in_recovery()`: true on a standby. */
  inRecovery: boolean;
  /** `transaction_read_only` is on: a standby, or a primary set read-only (it refuses writes). */
  readOnly: boolean;
  /** Round trip of the probe query, in ms (connect time excluded when the probe connection was open). */
  latencyMs: number;
  /** For a primary listed with several hosts: `host:port` of the one that answered. */
  host?: string;
}

/**
 * Asks one node whether it is alive and which role it plays. Implementations must bound
 * every wait (a hung server must make `probe()` reject, never hang) and must not use the
 * node's pool (a full or hung pool must not hide a healthy server, nor the reverse).
 *
 * @example
 * const probe: HealthProbe = { probe: async () => ({ inRecovery: true, readOnly: true, latencyMs: 1 }), close() {} };
 */
export interface HealthProbe {
  probe(): Promise<ProbeResult>;
  /** Closes whatever connection the probe keeps; called by `destroy()`. */
  close(): void;
}

/**
 * True when the node answered as a read-write primary.
 *
 * @example
 * isWritable({ inRecovery: false, readOnly: false, latencyMs: 1 }) // true
 */
export function isWritable(r: ProbeResult): boolean {
  return !r.inRecovery && !r.readOnly;
}
