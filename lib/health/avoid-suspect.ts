import type { Node } from '../route/node';
import type { ReadPolicy } from '../route/router';

const isUp = (node: Node): boolean => node.state === 'up';

/**
 * A read policy that keeps reads off `suspect` replicas (one failure seen, not yet
 * ejected) while a replica that is fully `up` can take them: during the few hundred
 * milliseconds before a dying replica is ejected, reads stop hitting it and needing a retry.
 * With no `up` replica left it says nothing, and suspects still serve.
 *
 * @example
 * core.router.policies.push(avoidSuspectReplicas);
 */
export const avoidSuspectReplicas: ReadPolicy = {
  name: 'health',
  check(_statement, replicas) {
    let up = false;
    let suspect = false;
    for (const r of replicas) {
      if (r.state === 'up') up = true;
      else suspect = true;
    }
    return up && suspect ? isUp : undefined;
  },
};
