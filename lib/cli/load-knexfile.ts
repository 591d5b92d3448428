import * as fs from 'fs';
import * as path from 'path';
import type { SplitKnexConfig } from '../config';
import { SplitKnexError } from '../errors';

/**
 * The knexfiles looked up, in this order, when `--knexfile` is not given (`--help` prints them).
 *
 * @example
 * KNEXFILE_NAMES.map((name) => `./${name}`).join(', else '); // './knexfile.js, else ./knexfile.cjs, else ./knexfile.ts'
 */
export const KNEXFILE_NAMES: readonly string[] = ['knexfile.js', 'knexfile.cjs', 'knexfile.ts'];

/**
 * Loads the splitKnex config of one environment from a knexfile, the way the knex CLI
 * does: the file exports either one config (it has `client`) or one per environment
 * (`{ development: {...}, production: {...} }`), possibly as `default` or as a
 * (possibly async) function returning either.
 *
 * @example
 * const config = await loadKnexfile('./knexfile.js', 'production', process.cwd());
 * const db = splitKnex(config);
 */
export async function loadKnexfile(file: string | undefined, env: string, cwd: string): Promise<SplitKnexConfig> {
  const resolved = file === undefined ? findDefault(cwd) : path.resolve(cwd, file);
  if (!fs.existsSync(resolved)) {
    throw new SplitKnexError('ESPLIT_CONFIG', `split-knex: knexfile not found: ${resolved}`);
  }
  if (/\.[cm]?ts$/.test(resolved)) registerTypeScript();
  let loaded: unknown = require(resolved);
  if (isObject(loaded) && 'default' in loaded && !('client' in loaded)) loaded = loaded.default;
  if (typeof loaded === 'function') loaded = await (loaded as () => unknown)();
  if (!isObject(loaded)) throw new SplitKnexError('ESPLIT_CONFIG', `split-knex: ${resolved} does not export a config object`);
  if ('client' in loaded) return loaded as SplitKnexConfig;
  const entry = loaded[env];
  if (!isObject(entry)) {
    const envs = Object.keys(loaded).filter((k) => isObject(loaded[k]));
    throw new SplitKnexError('ESPLIT_CONFIG', `split-knex: ${resolved} has no "${env}" entry (has: ${envs.join(', ') || 'none'}); pass --env`);
  }
  return entry as SplitKnexConfig;
}

function findDefault(cwd: string): string {
  for (const name of KNEXFILE_NAMES) {
    const candidate = path.join(cwd, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return path.join(cwd, KNEXFILE_NAMES[0] as string);
}

// A .ts knexfile needs a loader; tsx is the one we know. Under `tsx` itself it is already there.
function registerTypeScript(): void {
  if (require.extensions['.ts'] !== undefined) return;
  try {
    (require('tsx/cjs/api') as { register(): void }).register();
  } catch {
    throw new SplitKnexError('ESPLIT_CONFIG', 'split-knex: a .ts knexfile needs tsx (npm i -D tsx), or compile it to .js');
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
