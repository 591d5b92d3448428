// The library the benchmarks measure. Users run the compiled package (dist/cjs, built by
// `npm run build` from lib/ with tsc), so the benchmarks load that build: bench/run.ts builds
// it first. Loading lib/ through tsx instead (BENCH_LIBRARY=source) measures esbuild's
// transform, which wraps every closure the library creates per statement in a naming helper.
import * as fs from 'fs';
import * as path from 'path';
import type * as Library from '../lib';

const root = path.resolve(__dirname, '..');

/** Where the library was loaded from: 'dist' (the build) or 'source' (lib/ through tsx). */
export const librarySource: 'dist' | 'source' = process.env['BENCH_LIBRARY'] === 'source' ? 'source' : 'dist';

function load(): typeof Library {
  if (librarySource === 'source') return require('../lib') as typeof Library;
  const entry = path.join(root, 'dist/cjs/index.js');
  if (!fs.existsSync(entry)) throw new Error('bench: dist/cjs is missing; run `npm run build` (bench/run.ts does) or set BENCH_LIBRARY=source');
  return require(entry) as typeof Library;
}

let library: typeof Library | undefined;

/** splitKnex from the library under test (loaded on first use: bench/run.ts builds it first). */
export const splitKnex: typeof Library.splitKnex = ((config: Parameters<typeof Library.splitKnex>[0]) =>
  (library ??= load()).splitKnex(config)) as typeof Library.splitKnex;
