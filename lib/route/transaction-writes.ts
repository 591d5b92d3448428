import type { Statement } from './statement';

/**
 * What one open transaction wrote on the primary: the one place a transaction's writes are
 * recorded (the pinned path of the pipeline adds each writing statement; the transaction
 * hands the record to the after-commit effects at COMMIT and drops it on ROLLBACK).
 *
 * @example
 * const writes = new TransactionWrites();
 * writes.add(statement, ['users']);
 * writes.facts(); // { tables: ['users'], broad: false, statements: ['insert into "users" …'] }
 */
export class TransactionWrites {
  private readonly tables = new Set<string>();
  private readonly statements: string[] = [];
  private broad = false;

  /** Records one writing statement and the relations it writes (none known: broad). */
  add(statement: Statement, tables: readonly string[]): void {
    this.statements.push(statement.sql);
    if (tables.length === 0 || statement.kind === 'schema') this.broad = true;
    for (const t of tables) this.tables.add(t);
  }

  /** True when nothing was written. */
  get empty(): boolean {
    return this.statements.length === 0;
  }

  /** The record as the after-commit effects take it. */
  facts(): { tables: string[]; broad: boolean; statements: string[] } {
    return { tables: [...this.tables], broad: this.broad, statements: [...this.statements] };
  }
}
