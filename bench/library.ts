// The library the benchmarks measure. Users run the compiled package (dist/cjs, built by
// `npm run build` from lib/ with tsc), so the benchmarks load that build: bench/run.ts builds
// it first. Loading lib/ through tsx instead (BENCH_LIBRARY=source) measures esbuild's
// transform, which wraps every closure the library creates per statement in a naming helper.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type * as Library from '../lib';

const root = path.resolve(__dirname, '..');

/** Where the library was loaded from: 'dist' (the build) or 'source' (lib/ through tsx). */
export const librarySource: 'dist' | 'source' = process.env['BENCH_LIBRARY'] === 'source' ? 'source' : 'dist';

/**
 * Builds dist/ from this checkout's lib/ once per benchmark run (`npm run build`); worker
 * processes inherit SPLIT_KNEX_BENCH_BUILT and load that build without building again.
 *
 * @example
 * ensureBuilt(); // before spawning workers
 */
export function ensureBuilt(): void {
  if (librarySource === 'source' || process.env['SPLIT_KNEX_BENCH_BUILT'] === '1') return;
  process.stderr.write('[bench] building dist/ (npm run build): the benchmarks load the compiled package\n');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.env['SPLIT_KNEX_BENCH_BUILT'] = '1';
}

function load(): typeof Library {
  if (librarySource === 'source') return require('../lib') as typeof Library;
  ensureBuilt();
  const entry = path.join(root, 'dist/cjs/index.js');
  if (!fs.existsSync(entry)) throw new Error('bench: dist/cjs is missing after the build');
  return require(entry) as typeof Library;
}

let library: typeof Library | undefined;

/** splitKnex from the library under test (loaded on first use: bench/run.ts builds it first). */
export const splitKnex: typeof Library.splitKnex = ((config: Parameters<typeof Library.splitKnex>[0]) =>
  (library ??= load()).splitKnex(config)) as typeof Library.splitKnex;

/**
 * A module of the library under test, for the benchmarks that time its internal steps: from
 * the same build as `splitKnex` (a lib/ module would hold its own symbols and classes, which
 * the built instance does not know).
 *
 * @example
 * const { builderSource } = internal<typeof import('../lib/knex/builder-source')>('knex/builder-source');
 */
export function internal<T>(modulePath: string): T {
  if (librarySource === 'source') return require(path.join(root, 'lib', modulePath)) as T;
  ensureBuilt();
  return require(path.join(root, 'dist/cjs', `${modulePath}.js`)) as T;
}
