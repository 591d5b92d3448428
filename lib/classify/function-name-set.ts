import type { FunctionCall } from './query-scanner';

/**
 * Function names a user declared read-only, matched against calls. A bare name
 * (`slugify`) matches `slugify(...)` and any schema-qualified `x.slugify(...)`;
 * a qualified name (`app.slugify`) matches only `app.slugify(...)`, since an
 * unqualified call resolves through a search_path the classifier cannot see.
 * Names are kept as given and lower-cased, so both `App.Slugify` (meaning the
 * unquoted, folded name) and `"MixedCase"` functions can be listed.
 *
 * @example
 * const names = FunctionNameSet.from(['app.slugify', 'unaccent'], 'readOnlyFunctions');
 * names.matches({ name: 'slugify', schema: 'app', display: 'app.slugify' }); // true
 */
export class FunctionNameSet {
  /** The set with no names. */
  static readonly empty = new FunctionNameSet(new Set());

  readonly #names: ReadonlySet<string>;

  private constructor(names: ReadonlySet<string>) {
    this.#names = names;
  }

  /**
   * Builds a set from an iterable of names. Throws a TypeError naming `option`
   * when `names` is not an iterable of non-empty strings (a plain string is
   * refused: it would iterate as characters).
   */
  static from(names: Iterable<string>, option: string): FunctionNameSet {
    if (typeof names === 'string' || names === null || typeof names !== 'object' && typeof names !== 'function') {
      throw new TypeError(`${option} must be an iterable of function names, got ${describe(names)}`);
    }
    if (typeof (names as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new TypeError(`${option} must be an iterable of function names, got ${describe(names)}`);
    }
    const set = new Set<string>();
    for (const name of names as Iterable<unknown>) {
      if (typeof name !== 'string' || name.trim() === '') {
        throw new TypeError(`${option} entries must be non-empty strings, got ${describe(name)}`);
      }
      const trimmed = name.trim();
      set.add(trimmed);
      set.add(trimmed.toLowerCase());
    }
    return set.size === 0 ? FunctionNameSet.empty : new FunctionNameSet(set);
  }

  /** Number of distinct spellings held. */
  get size(): number {
    return this.#names.size;
  }

  /** True when `call` is one of the listed functions. */
  matches(call: FunctionCall): boolean {
    if (this.#names.size === 0) return false;
    if (this.#names.has(call.name)) return true;
    return call.schema !== undefined && this.#names.has(call.display);
  }

  /** A stable string for memo keys: the sorted names. */
  key(): string {
    return JSON.stringify([...this.#names].sort());
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}
