import type { DoctorCheck, NodeFacts, RoutingFacts } from './doctor-report';
import { serverLabel } from './server-key';

/**
 * Where the routed probe reads landed: every one must have run on a standby.
 *
 * @example
 * readProbeCheck({ reads: [{ node: 'replica1', identity }] }, nodes) // { status: 'ok', … }
 */
export function readProbeCheck(routing: RoutingFacts, nodes: readonly NodeFacts[]): DoctorCheck {
  const check = 'read probe';
  const node = 'routing';
  if (nodes.length < 2) {
    return { node, check, status: 'warn', detail: 'no replicas configured: every read runs on the primary', advice: 'Add `replicas` to the config to offload reads.' };
  }
  const failed = routing.reads.find((r) => r.error !== undefined);
  if (failed !== undefined) {
    return {
      node, check, status: 'fail', detail: `a routed read failed${failed.node === undefined ? '' : ` on ${failed.node}`}: ${failed.error}`,
      advice: 'Reads fail for users too: fix the failing node (see its checks above) or let health checks take it out of rotation.',
    };
  }
  const notStandby = routing.reads.find((r) => r.identity?.standby !== true);
  // A read policy (read-your-writes after a recent write, a lag bound) may rightly send a read
  // to the primary; only a fallback (no eligible replica) or a non-standby replica is a fault.
  if (notStandby !== undefined && notStandby.identity?.standby === false && notStandby.node === nodes[0]?.name
    && notStandby.reason !== undefined && !/^fallback/.test(notStandby.reason)) {
    return {
      node, check, status: 'warn', detail: `a routed read ran on the primary: ${notStandby.reason}`,
      advice: 'A read policy sent it there (normal right after a write, or while replicas lag): run the doctor again when the application is idle, or check the sticky/lag settings.',
    };
  }
  if (notStandby !== undefined) {
    const where = `${notStandby.node ?? '?'}${notStandby.identity === undefined ? '' : ` (${serverLabel(notStandby.identity)}, not a standby)`}`;
    return {
      node, check, status: 'fail', detail: `a routed read ran on ${where}${notStandby.reason === undefined ? '' : `: ${notStandby.reason}`}`,
      advice: notStandby.node === nodes[0]?.name
        ? 'Reads fall back to the primary: no replica is eligible (see the replica checks above).'
        : 'A node configured as a replica is not a standby: fix its URL (see its role check above).',
    };
  }
  const where = [...new Set(routing.reads.map((r) => r.node ?? '?'))].join(', ');
  const n = routing.reads.length;
  return { node, check, status: 'ok', detail: `${n} routed read${n === 1 ? '' : 's'} ran on standbys (${where})` };
}

/**
 * The write target accepts writes, checked without writing: not in recovery and not
 * read-only by default.
 *
 * @example
 * writeTargetCheck({ reads: [], write: { node: 'primary', inRecovery: false, transactionReadOnly: false, defaultTransactionReadOnly: false } })
 */
export function writeTargetCheck(routing: RoutingFacts): DoctorCheck {
  const check = 'write target';
  const node = 'routing';
  const w = routing.write;
  if (w === undefined || w.error !== undefined) {
    return { node, check, status: 'fail', detail: `the write target did not answer: ${w?.error ?? 'not probed'}`, advice: 'Every write fails: fix the primary (see its checks above).' };
  }
  const settings = `pg_is_in_recovery() = ${w.inRecovery ? 't' : 'f'}, transaction_read_only = ${w.transactionReadOnly ? 'on' : 'off'}, default_transaction_read_only = ${w.defaultTransactionReadOnly ? 'on' : 'off'}`;
  const where = `${w.node ?? 'the primary'}${w.identity === undefined ? '' : ` (${serverLabel(w.identity)})`}`;
  if (w.inRecovery === true) {
    return { node, check, status: 'fail', detail: `${where} is a standby: ${settings}`, advice: 'Writes would fail with SQLSTATE 25006: point connection at the primary.' };
  }
  if (w.transactionReadOnly === true || w.defaultTransactionReadOnly === true) {
    return {
      node, check, status: 'fail', detail: `${where} is read-only: ${settings}`,
      advice: 'Writes would fail with SQLSTATE 25006: reset default_transaction_read_only for this role/database (ALTER ROLE … RESET default_transaction_read_only).',
    };
  }
  return { node, check, status: 'ok', detail: `${where} is writable: ${settings}` };
}
