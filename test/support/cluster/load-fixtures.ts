import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeInfo } from './cluster';
import { withNodeClient } from './pg-client';

/** The files applied, in order, when they exist. */
export const FIXTURE_FILES = ['fixtures/sql/schema.sql', 'fixtures/sql/seed.sql'] as const;

/**
 * Applies `fixtures/sql/schema.sql` then `seed.sql` (those that exist) to `node`, each as one
 * simple-protocol script, so they must be plain SQL (no psql `\` commands).
 * Returns the files applied.
 *
 * @example
 * await loadFixtures(cluster.primary); // before replicas are cloned
 */
export async function loadFixtures(node: NodeInfo, root: string = repoRoot()): Promise<string[]> {
  const files = FIXTURE_FILES.map((f) => path.join(root, f)).filter((f) => fs.existsSync(f));
  if (files.length === 0) return [];
  await withNodeClient(
    node,
    async (client) => {
      for (const file of files) {
        try {
          await client.query(fs.readFileSync(file, 'utf8'));
        } catch (err) {
          throw new Error(`fixture ${path.relative(root, file)} failed on ${node.name}: ${String(err)}`, {
            cause: err,
          });
        }
      }
    },
    { timeoutMs: 60_000 },
  );
  return files.map((f) => path.relative(root, f));
}

/** The repository root: the nearest ancestor of this file holding package.json. */
export function repoRoot(): string {
  let dir = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
