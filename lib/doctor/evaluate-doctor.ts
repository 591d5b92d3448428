import type { ResolvedDoctorOptions } from './doctor-options';
import type { DoctorCheck, DoctorReport, NodeFacts, RoutingFacts } from './doctor-report';
import { computeLag, NODE_CHECKS, reachableCheck } from './node-checks';
import { readProbeCheck, writeTargetCheck } from './routing-checks';

/**
 * Turns observed facts into the doctor's verdict: per node (reachable first; the rest only
 * when it answered), then the routing probes. Pure: no database, no clock but `checkedAt`.
 *
 * @example
 * const report = evaluateDoctor(nodes, routing, resolveDoctorOptions());
 * report.ok // false when any check failed
 */
export function evaluateDoctor(nodes: NodeFacts[], routing: RoutingFacts, options: ResolvedDoctorOptions, checkedAt = new Date()): DoctorReport {
  computeLag(nodes);
  const checks: DoctorCheck[] = [];
  for (const node of nodes) {
    const reachable = reachableCheck({ node, all: nodes, options });
    checks.push(reachable);
    if (reachable.status !== 'ok') continue;
    for (const check of NODE_CHECKS) {
      const result = check({ node, all: nodes, options });
      if (result !== undefined) checks.push(result);
    }
  }
  checks.push(readProbeCheck(routing, nodes));
  checks.push(writeTargetCheck(routing));
  const problems = checks.filter((c) => c.status === 'fail').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  const skipped = checks.filter((c) => c.status === 'skipped').length;
  return {
    ok: problems === 0, problems, warnings, skipped, checkedAt: checkedAt.toISOString(), instances: options.instances, nodes, routing, checks,
  };
}
