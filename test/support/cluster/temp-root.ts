import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asPostgres, mustSwitchUser } from './run-command';

/**
 * Creates the directory a local cluster lives in: mkdtemp `split-knex-XXXXXX` under
 * `SPLIT_KNEX_TMPDIR`, else /dev/shm when it has room, else `os.tmpdir()`; owned by the
 * `postgres` user when we are root, after checking that user can reach it.
 *
 * @example
 * const root = makeTempRoot(); // '/dev/shm/split-knex-Ab12Cd'
 */
export function makeTempRoot(): string {
  const parent = process.env['SPLIT_KNEX_TMPDIR'] || (roomyShm() ? '/dev/shm' : os.tmpdir());
  const root = fs.mkdtempSync(path.join(parent, 'split-knex-'));
  if (!mustSwitchUser()) return root;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  fs.chownSync(root, uid, gid);
  const [cmd, ...args] = asPostgres('test', ['-w', root, '-a', '-x', root]);
  if (spawnSync(cmd, args, { cwd: '/' }).status !== 0) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(
      `the postgres user cannot use ${root}: every parent directory must be traversable by it; ` +
        'set SPLIT_KNEX_TMPDIR to a directory such as /tmp',
    );
  }
  return root;
}

// Measured here: pg_basebackup writes ~1,400 small files, and that took 1.2 s per replica
// on /tmp (ext4 on a virtual disk) but under 0.1 s on tmpfs. Docker gives containers a
// 64 MB /dev/shm, too small for three data dirs (~50 MB each), hence the free-space check.
function roomyShm(): boolean {
  try {
    const stats = fs.statfsSync('/dev/shm');
    fs.accessSync('/dev/shm', fs.constants.W_OK | fs.constants.X_OK);
    return stats.bavail * stats.bsize >= 1024 * 1024 * 1024;
  } catch {
    return false;
  }
}
