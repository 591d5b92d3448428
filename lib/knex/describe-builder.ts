import type { RouteTarget, Statement } from '../route/statement';
import { stalenessOf } from './cache-methods';
import type { BuilderInternals, CompiledQuery } from './knex-internals';

/**
 * Reads the routing facts off a knex builder and its compiled SQL.
 *
 * @example
 * describeBuilder(db('users').forUpdate(), compiled) // { kind: 'query', method: 'select', lock: 'forUpdate', … }
 */
export function describeBuilder(builder: BuilderInternals, compiled: CompiledQuery | CompiledQuery[]): Statement {
  const statement = describe(builder, compiled);
  const bound = stalenessOf(builder);
  if (bound !== undefined) statement.maxStalenessMs = bound;
  return statement;
}

function describe(builder: BuilderInternals, compiled: CompiledQuery | CompiledQuery[]): Statement {
  const hint = hintOf(builder._queryContext);
  if (Array.isArray(compiled)) {
    const isSchema = builder._sequence !== undefined;
    return {
      kind: isSchema ? 'schema' : 'query',
      method: isSchema ? 'schema' : builder._method ?? 'unknown',
      sql: compiled.map((q) => q.sql).join(';\n'),
      lock: builder._single?.lock,
      hint,
      table: tableOf(builder),
    };
  }
  if (compiled.method === 'raw') {
    return { kind: 'raw', method: 'raw', sql: compiled.sql, lock: undefined, hint, table: undefined };
  }
  return {
    kind: builder._sequence !== undefined ? 'schema' : 'query',
    method: compiled.method ?? builder._method ?? 'unknown',
    sql: compiled.sql,
    lock: builder._single?.lock,
    hint,
    table: tableOf(builder),
  };
}

/** The `splitKnex.target` of a query context, validated (anything else is ignored). */
export function hintOf(queryContext: unknown): RouteTarget | undefined {
  if (queryContext === null || typeof queryContext !== 'object') return undefined;
  const ns = (queryContext as { splitKnex?: { target?: unknown } }).splitKnex;
  const target = ns?.target;
  return target === 'primary' || target === 'replica' ? target : undefined;
}

function tableOf(builder: BuilderInternals): string | undefined {
  const t = builder._single?.table;
  return typeof t === 'string' ? t : undefined;
}
