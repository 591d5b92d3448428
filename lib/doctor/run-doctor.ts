import { debugLogger } from '../debug-log';
import type { RouteEvent } from '../pipeline';
import type { Node } from '../route/node';

/** The nodes the doctor checks. */
export interface DoctorNodes {
  readonly nodes: readonly Node[];
  readonly replicas: readonly Node[];
}
import type { Knex } from 'knex';

/** What the doctor needs of the instance: routed statements, the primary, and the `route` event. */
export type DoctorInstance = Knex & { readonly primary: Knex };
import { resolveDoctorOptions, type DoctorOptions } from './doctor-options';
import type { DoctorReport, NodeFacts, RoutingFacts } from './doctor-report';
import { evaluateDoctor } from './evaluate-doctor';
import { identityOf, IDENTITY_SQL, probeNode, type NodeProbeInput } from './probe-node';
import { errorLine, pgSettingsOf } from './raw-connection';
import { redactReport, secretsOf } from './redact-report';

const debug = debugLogger('split-knex:doctor');
/** knex's default pool bound for PostgreSQL. */
const KNEX_DEFAULT_POOL_MAX = 10;

/**
 * Checks an instance's configuration against the live databases: probes every node over
 * its own new connections, sends routed probe reads through the instance and checks the
 * write target without writing, then evaluates the facts.
 *
 * @example
 * const report = await runDoctor(db, core, { instances: 4 });
 * if (!report.ok) console.error(formatDoctorReport(report));
 * @internal
 */
export async function runDoctor(db: DoctorInstance, core: DoctorNodes, options?: DoctorOptions): Promise<DoctorReport> {
  const resolved = resolveDoctorOptions(options);
  const secrets = new Set<string>();
  const inputs = await Promise.all(core.nodes.map(async (node): Promise<NodeProbeInput | NodeFacts> => {
    const pool = node.client.config.pool as { max?: unknown } | undefined;
    const poolMax = typeof pool?.max === 'number' ? pool.max : KNEX_DEFAULT_POOL_MAX;
    try {
      const settings = await pgSettingsOf(node.client.config.connection);
      for (const secret of secretsOf(settings)) secrets.add(secret);
      return { name: node.name, configuredRole: node.configuredRole, settings, poolMax };
    } catch (err) {
      return { name: node.name, configuredRole: node.configuredRole, target: '?', reachable: false, error: errorLine(err), poolMax, samples: [] };
    }
  }));
  const nodes = await Promise.all(inputs.map((input) => ('settings' in input
    ? probeNode(input, { samples: resolved.samples, timeoutMs: resolved.timeoutMs })
    : Promise.resolve(input))));
  const routing = await probeRouting(db, core, resolved.timeoutMs);
  debug('probed %d nodes', nodes.length);
  // Every string of the report may quote a server's or a provider's message: mask what we know.
  return redactReport(evaluateDoctor(nodes, routing, resolved), [...secrets]);
}

// Probes go through the instance itself, so they see what the application's queries see:
// policies, health states, fallbacks. The `route` event says which node and why.
async function probeRouting(db: DoctorInstance, core: DoctorNodes, timeoutMs: number): Promise<RoutingFacts> {
  const events: RouteEvent[] = [];
  const listener = (e: RouteEvent) => {
    if (e.sql.includes('pg_postmaster_start_time')) events.push(e);
  };
  db.on('route', listener);
  const routing: RoutingFacts = { reads: [] };
  try {
    // One read per replica: round-robin shows each of them once.
    const reads = Math.max(1, core.replicas.length);
    for (let i = 0; i < reads; i++) {
      events.length = 0;
      try {
        const rows = await bounded(db.select(db.raw(IDENTITY_SQL)), timeoutMs);
        const e = events[events.length - 1];
        routing.reads.push({ node: e?.node, reason: e?.reason, identity: identityOf(rows[0] as Record<string, unknown>) });
      } catch (err) {
        routing.reads.push({ node: events[events.length - 1]?.node, error: errorLine(err) });
      }
    }
    events.length = 0;
    try {
      const sql = `${IDENTITY_SQL}, current_setting('transaction_read_only') as transaction_read_only, ` +
        "current_setting('default_transaction_read_only') as default_transaction_read_only";
      const rows = await bounded(db.primary.select(db.primary.raw(sql)), timeoutMs);
      const row = rows[0] as Record<string, unknown>;
      const identity = identityOf(row);
      routing.write = {
        node: events[events.length - 1]?.node,
        identity,
        inRecovery: identity.standby,
        transactionReadOnly: row.transaction_read_only === 'on',
        defaultTransactionReadOnly: row.default_transaction_read_only === 'on',
      };
    } catch (err) {
      routing.write = { node: events[events.length - 1]?.node, error: errorLine(err) };
    }
  } finally {
    db.off('route', listener);
  }
  return routing;
}

// knex waits up to acquireConnectionTimeout (60 s by default) for a node that accepts TCP but never answers.
function bounded<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
    Promise.resolve(promise).then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); },
    );
  });
}
