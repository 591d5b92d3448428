import createDebug from 'debug';
import type { ProviderName } from './cluster';
import type { SettingValue } from './postgres-settings';

/**
 * Options of `startCluster()`. Every one is optional.
 *
 * @example
 * await startCluster({ replicas: 1, provider: 'local', log: console.error });
 */
export interface StartClusterOptions {
  /** Number of streaming replicas (default 2; the env provider uses what it is given). */
  replicas?: number;
  /**
   * `auto` (default, or `SPLIT_KNEX_PROVIDER`): env when `SPLIT_KNEX_PRIMARY_URL` is set, else
   * containers when a Docker engine answers and testcontainers is installed, else local.
   */
  provider?: ProviderName | 'auto';
  /** First port to try (default `SPLIT_KNEX_BASE_PORT`, else random in 20000–30000). */
  basePort?: number;
  /** Reserve the last replica for apply-delay tests (exposed as `cluster.lagReplica`). */
  lagReplica?: boolean;
  /** Database created on the primary before replicas are cloned (default `split_knex_test`). */
  database?: string;
  /** Progress messages (default: the `split-knex:cluster` debug namespace). */
  log?: (msg: string) => void;
  /** Apply fixtures/sql/schema.sql and seed.sql when they exist (default true). */
  fixtures?: boolean;
  /** Extra postgresql.conf settings for every node (local provider only). */
  settings?: Readonly<Record<string, SettingValue>>;
}

/** {@link StartClusterOptions} with defaults applied and every value checked. @internal */
export interface NormalizedOptions {
  replicas: number | undefined;
  provider: ProviderName | 'auto';
  basePort: number | undefined;
  lagReplica: boolean;
  database: string;
  log: (msg: string) => void;
  fixtures: boolean;
  settings: Readonly<Record<string, SettingValue>>;
}

const PROVIDERS = ['auto', 'env', 'local', 'containers'] as const;

/**
 * Applies defaults and rejects bad values eagerly, naming the option and the value.
 * @internal
 */
export function normalizeOptions(options: StartClusterOptions = {}): NormalizedOptions {
  const { replicas, basePort, database = 'split_knex_test' } = options;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0 || replicas > 8)) {
    throw new TypeError(`replicas option must be an integer from 0 to 8, got ${String(replicas)}`);
  }
  if (basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1024 || basePort > 32_767)) {
    throw new TypeError(`basePort option must be an integer from 1024 to 32767, got ${String(basePort)}`);
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) {
    throw new TypeError(`database option must be a lower-case SQL identifier, got ${JSON.stringify(database)}`);
  }
  const envProvider = process.env['SPLIT_KNEX_PROVIDER'] || undefined;
  const provider = options.provider ?? envProvider ?? 'auto';
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    const source = options.provider === undefined ? 'SPLIT_KNEX_PROVIDER' : 'provider option';
    throw new TypeError(`${source} must be one of ${PROVIDERS.join(', ')}, got ${JSON.stringify(provider)}`);
  }
  return {
    replicas,
    provider: provider as NormalizedOptions['provider'],
    basePort,
    lagReplica: options.lagReplica ?? false,
    database,
    log: options.log ?? defaultLog(),
    fixtures: options.fixtures ?? true,
    settings: options.settings ?? {},
  };
}

function defaultLog(): (msg: string) => void {
  return createDebug('split-knex:cluster');
}
