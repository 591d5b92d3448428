import type { StatementSource } from '../subsystem';
import { cacheMarkOf } from './cache-methods';
import type { BuilderInternals, CompiledQuery } from './knex-internals';
import { boundNodeOf } from './split-client-marks';

/**
 * What the answer stage (the result cache) reads off a knex builder, read lazily: the
 * pipeline asks only when a cache is configured, so other statements pay nothing.
 *
 * @example
 * const source = builderSource(builder, compiled); source.cacheMark // { mode: 'on', … }
 * @internal
 */
export function builderSource(builder: BuilderInternals, compiled: CompiledQuery | CompiledQuery[]): StatementSource {
  const single = Array.isArray(compiled) ? undefined : compiled;
  return {
    bindings: single?.bindings,
    multiple: single === undefined,
    get cacheMark() {
      return cacheMarkOf(builder);
    },
    get searchPath() {
      return builder.client.config.searchPath;
    },
    // The query context changes a result only through a postProcessResponse hook.
    get context() {
      return typeof builder.client.config.postProcessResponse === 'function' ? builder._queryContext : undefined;
    },
    get bound() {
      const b = boundNodeOf(builder.client);
      return b === undefined ? undefined : typeof b === 'string' ? b : `=${b.name}`;
    },
  };
}
