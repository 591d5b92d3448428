import type { SqlAnalysis } from './analyze-sql';
import type { StatementAnalysis } from './analyze-statement';
import type { FunctionNameSet } from './function-name-set';
import type { FunctionCall } from './query-scanner';
import { isReadOnlyFunction } from './read-only-functions';
import { isRefusedDuringRecovery } from './recovery-functions';
import { relationReason } from './relation-rules';
import type { FunctionCatalog, SqlClassification } from './sql-classification';
import { isWriteFunction } from './write-functions';

/**
 * What decides about function calls, relations and SET LOCAL once the text is
 * analyzed. Internal to the classifier.
 *
 * @example
 * const context: ResolveContext = {
 *   readOnlyFunctions: FunctionNameSet.from(['app.slugify'], 'readOnlyFunctions'),
 *   extraReadOnlyFunctions: FunctionNameSet.empty,
 *   catalog: undefined,
 *   inTransaction: false,
 * };
 */
export interface ResolveContext {
  /** Functions the user declared read-only for the classifier... */
  readOnlyFunctions: FunctionNameSet;
  /** ...and for this call. */
  extraReadOnlyFunctions: FunctionNameSet;
  catalog: FunctionCatalog | undefined;
  inTransaction: boolean;
}

/**
 * Turns an analysis into a classification: the text goes to a replica only if
 * every statement may. Precedence for a function call: the built-in write list and
 * the functions a standby refuses (generated from one; always primary), then the
 * user's `readOnlyFunctions`, the built-in read-only list (unqualified or
 * `pg_catalog.` calls), the catalog's volatility
 * (stable/immutable read, volatile primary), and finally "unknown" (primary).
 * A read of a relation a standby holds differently goes to the primary: `pg_temp.`
 * relations, sequence state, and with a catalog unlogged or temporary relations and
 * sequences (see {@link relationReason}).
 *
 * @example
 * resolveClassification(analyzeSql('select nextval($1)'), context);
 * // { target: 'primary', reason: 'volatile function nextval', tables: [] }
 */
export function resolveClassification(analysis: SqlAnalysis, context: ResolveContext): SqlClassification {
  const { statements, tables } = analysis;
  if (statements.length === 0) return { target: 'primary', reason: 'no statement in the SQL text', tables };

  for (let k = 0; k < statements.length; k++) {
    const statement = statements[k];
    if (statement === undefined) continue;
    const reason = primaryReason(statement, context);
    if (reason !== undefined) {
      const where = statements.length > 1 ? `statement ${k + 1} of ${statements.length}: ` : '';
      return { target: 'primary', reason: where + reason, tables };
    }
  }

  const only = statements.length === 1 ? statements[0] : undefined;
  const reason = only !== undefined ? only.read : `all ${statements.length} statements read-only`;
  return { target: 'replica', reason, tables };
}

function primaryReason(statement: StatementAnalysis, context: ResolveContext): string | undefined {
  if (statement.primary !== undefined) return statement.primary;
  if (statement.transactionLocal !== undefined && !context.inTransaction) return statement.transactionLocal;
  for (const call of statement.calls) {
    const reason = callReason(call, context);
    if (reason !== undefined) return reason;
  }
  for (const table of statement.tables) {
    const reason = relationReason(table, context.catalog);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

// Why calling `call` needs the primary, or undefined when it may run on a replica.
function callReason(call: FunctionCall, context: ResolveContext): string | undefined {
  if (isWriteFunction(call.name)) return `volatile function ${call.display}`;
  if (isRefusedDuringRecovery(call.name)) return `function ${call.display} refuses to run during recovery`;
  if (context.readOnlyFunctions.matches(call) || context.extraReadOnlyFunctions.matches(call)) return undefined;
  if ((call.schema === undefined || call.schema === 'pg_catalog') && isReadOnlyFunction(call.name)) {
    return undefined;
  }
  const catalog = context.catalog;
  if (catalog === undefined) return `unknown function ${call.display}`;
  let volatility: string | undefined;
  try {
    volatility = catalog.functionVolatility(call.name, call.schema);
  } catch {
    return `catalog lookup failed for function ${call.display}`;
  }
  if (volatility === 'stable' || volatility === 'immutable') return undefined;
  if (volatility === 'volatile') return `volatile function ${call.display}`;
  return `unknown function ${call.display}`;
}
