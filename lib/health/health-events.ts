import type { NodeRole } from '../route/node';

/** Payload of `node-down`: a node was ejected (no reads; writes fail fast if it is the writer). */
export interface NodeDownEvent {
  node: string;
  role: NodeRole;
  /** The last error, without secrets (e.g. `ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:5432`). */
  reason: string;
  /** Consecutive failures that led to the ejection. */
  failures: number;
}

/** Payload of `node-up`: an ejected node answered a probe again and is back in rotation. */
export interface NodeUpEvent {
  node: string;
  role: NodeRole;
  /** How long it was out, in ms. */
  downForMs: number;
}

/** Payload of `failover`: writes go to another node (or, for a multi-host primary, another host). */
export interface FailoverEvent {
  /** Node names; equal for a multi-host primary that moved to another host. */
  from: string;
  to: string;
  /** `host:port` before and after, for a primary listed with several hosts. */
  fromHost?: string;
  toHost?: string;
  reason: string;
}

/** Payload of `role-change` (role discovery): a node answered in another role than before. */
export interface RoleChangeEvent {
  node: string;
  from: NodeRole;
  to: NodeRole;
}

/**
 * Payload of `not-a-standby`: a node listed as a replica answers out of recovery (a wrong
 * URL, or a promoted node); it takes no reads until it answers as a standby again.
 */
export interface NotAStandbyEvent {
  node: string;
  /** Its role now (`primary` when role discovery adopted it). */
  role: NodeRole;
  reason: string;
}

declare module '../split-knex' {
  interface SplitKnex<TRecord extends {} = any, TResult = any[]> {
    on(event: 'node-down', listener: (event: NodeDownEvent) => void): this;
    on(event: 'node-up', listener: (event: NodeUpEvent) => void): this;
    on(event: 'failover', listener: (event: FailoverEvent) => void): this;
    on(event: 'role-change', listener: (event: RoleChangeEvent) => void): this;
    on(event: 'not-a-standby', listener: (event: NotAStandbyEvent) => void): this;
  }
}
