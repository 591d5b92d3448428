import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REQUIRED = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'] as const;

/**
 * Finds the directory holding PostgreSQL's server binaries: `SPLIT_KNEX_PG_BIN`, else
 * `pg_config --bindir` when that directory has the server binaries (Debian's pg_config
 * comes from libpq-dev and may point at /usr/bin, which holds only client wrappers),
 * else the newest `/usr/lib/postgresql/<major>/bin`.
 *
 * @example
 * const bin = findPgBinDir(); // '/usr/lib/postgresql/15/bin'
 */
export function findPgBinDir(): string {
  const override = process.env['SPLIT_KNEX_PG_BIN'];
  if (override) {
    if (!hasServerBinaries(override)) {
      throw new Error(`SPLIT_KNEX_PG_BIN=${override} lacks one of ${REQUIRED.join(', ')}`);
    }
    return override;
  }
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: 'pipe' }).trim());
  } catch {
    // pg_config is optional.
  }
  candidates.push(...debianBinDirs());
  const found = candidates.find(hasServerBinaries);
  if (!found) {
    throw new Error(
      'PostgreSQL server binaries not found (tried pg_config --bindir and /usr/lib/postgresql/*/bin); ' +
        'install postgresql-15 or set SPLIT_KNEX_PG_BIN',
    );
  }
  return found;
}

function debianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  let majors: string[];
  try {
    majors = fs.readdirSync(root);
  } catch {
    return [];
  }
  return majors
    .filter((m) => /^\d+(\.\d+)?$/.test(m))
    .sort((a, b) => Number(b) - Number(a))
    .map((m) => path.join(root, m, 'bin'));
}

function hasServerBinaries(dir: string): boolean {
  return REQUIRED.every((name) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
