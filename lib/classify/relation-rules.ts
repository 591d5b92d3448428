import type { FunctionCatalog } from './sql-classification';
import type { RelationName } from './table-extractor';

// Views of pg_catalog whose rows a standby holds differently from the primary:
// `pg_sequences.last_value` is WAL-logged ahead (32 values per WAL record), so a caught-up
// standby says 33 where the primary says 3.
const SEQUENCE_STATE_VIEWS: ReadonlySet<string> = new Set(['pg_sequences']);

const SEQUENCE_NAME = /_seq$/i;

/**
 * Why reading `relation` needs the primary, or undefined when a replica holds the same
 * rows. Decided in this order:
 *
 * 1. `pg_temp.x` / `pg_temp_N.x`: a standby has no temporary relations at all (any catalog).
 * 2. `pg_sequences` (bare or `pg_catalog.`): sequence state, ahead on a standby.
 * 3. With a catalog: its unlogged/temporary relations, then its sequences (`isSequence`).
 * 4. Without a catalog (or one that cannot tell sequences): a name ending in `_seq` is taken
 *    for a sequence — the name PostgreSQL gives the sequences of `serial`/`bigserial` and
 *    identity columns (knex's `increments()`), `<table>_<column>_seq`. A table so named goes
 *    to the primary too (safe, only slower); a sequence named otherwise is not recognised.
 *
 * Internal to the classifier.
 *
 * @example
 * relationReason({ name: 't', schema: 'pg_temp', display: 'pg_temp.t' }, undefined);
 * // 'temporary relation pg_temp.t (a standby has none)'
 * relationReason({ name: 'users_id_seq', schema: undefined, display: 'users_id_seq' }, undefined);
 * // 'sequence users_id_seq (by its _seq name): a standby's sequence state is ahead of the primary'
 */
export function relationReason(relation: RelationName, catalog: FunctionCatalog | undefined): string | undefined {
  const { name, schema, display } = relation;
  if (schema !== undefined && isTempSchema(schema)) return `temporary relation ${display} (a standby has none)`;
  if ((schema === undefined || schema === 'pg_catalog') && SEQUENCE_STATE_VIEWS.has(name)) {
    return `sequence state ${display}: a standby's is ahead of the primary`;
  }
  if (catalog === undefined) return namedLikeSequence(relation);

  let unlogged: boolean;
  let sequence: boolean | undefined;
  try {
    unlogged = catalog.isUnloggedRelation(name, schema) === true;
    sequence = unlogged || typeof catalog.isSequence !== 'function' ? undefined : catalog.isSequence(name, schema) === true;
  } catch {
    return `catalog lookup failed for relation ${display}`;
  }
  if (unlogged) return `unlogged or temporary relation ${display}`;
  if (sequence === true) return `sequence ${display}: a standby's sequence state is ahead of the primary`;
  // A catalog that cannot tell sequences (written before isSequence existed): the name rule.
  return sequence === undefined ? namedLikeSequence(relation) : undefined;
}

function namedLikeSequence(relation: RelationName): string | undefined {
  // Any case: a quoted "Orders_ID_SEQ" is as likely a sequence, and the primary is always right.
  if (!SEQUENCE_NAME.test(relation.name)) return undefined;
  return `sequence ${relation.display} (by its _seq name): a standby's sequence state is ahead of the primary`;
}

/**
 * True for the session's temporary schema as written: `pg_temp`, or `pg_temp_N`.
 *
 * @example
 * isTempSchema('pg_temp_3'); // true
 * isTempSchema('public');    // false
 */
export function isTempSchema(schema: string): boolean {
  return schema === 'pg_temp' || /^pg_temp_\d+$/.test(schema);
}
