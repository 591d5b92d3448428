import { debugLogger } from '../debug-log';
import { SplitKnexError } from '../errors';
import { openTransactionIn, trackTransactionsOf } from './open-transactions';
import type { StatementClassifier } from './router';

const debugRoute = debugLogger('split-knex:route');

/** Options of {@link forgottenTransactingGuard}. */
export interface ForgottenTransactingOptions {
  /** `routing.strictTransactions`: refuse such a read with `ESPLIT_OUTSIDE_TRANSACTION` instead of only saying so. */
  strict: boolean;
}

/**
 * Watches for the usual sign of a forgotten `.transacting(trx)`: a read routed outside any
 * transaction while the same async context holds an open transaction of this instance. It
 * says so on `split-knex:route` and, with `strict`, refuses the read with
 * `ESPLIT_OUTSIDE_TRANSACTION` before any connection is taken. A read that names its
 * target (`queryContext({ splitKnex: { target } })`) runs outside on purpose: never flagged.
 * Wraps the router's classifier (every routed statement passes it once per route);
 * `attach()` names the instance once the pipeline exists.
 *
 * @example
 * const guard = forgottenTransactingGuard({ strict: n.routing.strictTransactions });
 * const router = new Router({ …, classify: guard.wrap(classify) });
 * guard.attach(pipeline);
 */
export function forgottenTransactingGuard(options: ForgottenTransactingOptions): {
  wrap(classify: StatementClassifier): StatementClassifier;
  attach(owner: object): void;
} {
  let owner: object | undefined;
  return {
    attach(o) {
      owner = o;
      if (options.strict) trackTransactionsOf(o);
    },
    wrap: (classify) => (statement) => {
      const c = classify(statement);
      if (c.access !== 'read' || statement.hint !== undefined || owner === undefined || !(options.strict || debugRoute.enabled)) return c;
      const txid = openTransactionIn(owner);
      if (txid === undefined) return c;
      const sql = statement.sql.slice(0, 200);
      if (debugRoute.enabled) debugRoute('read outside transaction %s, which this async context holds open (forgot .transacting(trx)?): %s', txid, sql.replace(/%/g, '%%'));
      if (options.strict) {
        throw new SplitKnexError('ESPLIT_OUTSIDE_TRANSACTION', `split-knex: a read ran outside transaction ${txid}, which this async context holds open (forgot .transacting(trx)?), and routing.strictTransactions is on: ${sql}`);
      }
      return c;
    },
  };
}
