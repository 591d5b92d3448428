import type { FunctionCatalog, FunctionVolatility, SqlClassification } from '../classify';
import type { CatalogSnapshot } from './catalog-snapshot';

/**
 * Routes the catalog decided: reads it let go to a replica, reads it sent to the primary.
 *
 * @example
 * const counts: CatalogRouteCounts = db.stats().catalog.routes; // { replica: 120, primary: 3 }
 */
export interface CatalogRouteCounts {
  /** Classified for a replica only because a called function is known STABLE/IMMUTABLE. */
  replica: number;
  /** Classified for the primary because they read an unlogged or temporary relation, or a sequence. */
  primary: number;
}

/**
 * The catalog as the classifier sees it: one object for the life of the instance, whose
 * answers come from the latest {@link CatalogSnapshot} and whose `version` goes up each
 * time those answers change (so the classifier's memo never serves a stale decision).
 *
 * It also counts the classifications its answers decided (see {@link observe}).
 *
 * @example
 * const live = new LiveCatalog();
 * live.install(new CatalogSnapshot(rows), Date.now()); // version 1
 * classifySql('select app.slugify($1)', { catalog: live }).target; // 'replica'
 */
export class LiveCatalog implements FunctionCatalog {
  version = 0;
  /** When the current answers were loaded (clock ms); undefined before the first load. */
  loadedAt: number | undefined;
  readonly routes: CatalogRouteCounts = { replica: 0, primary: 0 };
  private snapshot: CatalogSnapshot | undefined;
  // Set by the lookups during one classification, read by observe().
  private enabledReplica = false;
  private sentPrimary = false;
  // Memoized classifications are shared objects: remember which ones this catalog decided.
  private readonly decided = new WeakMap<object, keyof CatalogRouteCounts>();

  /** The answers in use, if any. */
  get current(): CatalogSnapshot | undefined {
    return this.snapshot;
  }

  /** Makes `snapshot` the answers; returns true when they changed (the version went up). */
  install(snapshot: CatalogSnapshot, now: number): boolean {
    const changed = this.snapshot === undefined || this.snapshot.fingerprint !== snapshot.fingerprint;
    this.snapshot = snapshot;
    this.loadedAt = now;
    if (changed) this.version++;
    return changed;
  }

  functionVolatility(name: string, schema?: string): FunctionVolatility | undefined {
    const v = this.snapshot?.functionVolatility(name, schema);
    // Without the catalog an unknown function sends the statement to the primary.
    if (v === 'stable' || v === 'immutable') this.enabledReplica = true;
    return v;
  }

  isUnloggedRelation(name: string, schema?: string): boolean {
    const unlogged = this.snapshot?.isUnloggedRelation(name, schema) ?? false;
    if (unlogged) this.sentPrimary = true;
    return unlogged;
  }

  isSequence(name: string, schema?: string): boolean {
    const sequence = this.snapshot?.isSequence(name, schema) ?? false;
    if (sequence) this.sentPrimary = true;
    return sequence;
  }

  /**
   * Runs one classification and counts it when this catalog's answers decided it: a
   * replica target reached thanks to a STABLE/IMMUTABLE answer, or a primary target
   * because of an unlogged relation or a sequence (the classifier stops at the first
   * reason for the primary, so an answer of true is always that reason).
   *
   * @example
   * const result = live.observe(() => classifier.classify(sql, { catalog: live }));
   */
  observe(classify: () => SqlClassification): SqlClassification {
    this.enabledReplica = false;
    this.sentPrimary = false;
    const result = classify();
    let decision = this.decided.get(result);
    if (decision === undefined && (this.enabledReplica || this.sentPrimary)) {
      decision = this.sentPrimary ? 'primary' : result.target === 'replica' ? 'replica' : undefined;
      if (decision !== undefined) this.decided.set(result, decision);
    }
    if (decision !== undefined) this.routes[decision]++;
    return result;
  }
}
