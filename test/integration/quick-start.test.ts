import { expect } from 'chai';
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb } from '../support/split-db';

const ROOT = path.join(__dirname, '../..');

// The README's `<!-- runnable: name -->` blocks, as written (test/unit/readme.test.ts checks
// that each one is run here).
function readmeBlock(name: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- runnable: ${name.replace('.', '\\.')} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(readme);
  if (m === null) throw new Error(`README.md has no runnable block ${name}`);
  return m[1] as string;
}

// A new user's path: `npm pack` in a clone, install the tarball into an app, run the quick
// start. The tarball is unpacked into the app's node_modules as npm would; knex, pg and the
// package's own dependencies come from this repository's node_modules through NODE_PATH,
// so the test needs no registry.
describe('the README quick start, from the packed package', function () {
  this.timeout(180_000);
  const cluster = () => getTestCluster();
  let tmp: string;
  let app: string;
  // The lag replica is left out: lag tests may delay it.
  const replicas = () => cluster().replicas.filter((r) => r !== cluster().lagReplica);

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-quick-start-'));
    // `npm pack` runs the prepack build, whose output shares stdout: find the tarball on disk.
    execFileSync('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT, stdio: 'pipe' });
    const tarball = path.join(tmp, fs.readdirSync(tmp).find((f) => /^split-knex-.*\.tgz$/.test(f)) as string);
    app = path.join(tmp, 'app');
    const installed = path.join(app, 'node_modules', 'split-knex');
    fs.mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'quick-start-app', private: true }));
    await makeDb().schema.dropTableIfExists('notes');
  });

  after(async () => {
    await makeDb().schema.dropTableIfExists('notes').catch(() => undefined);
    await destroyAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function runQuickStart(name: string): { status: number | null; stdout: string; stderr: string } {
    fs.writeFileSync(path.join(app, name), readmeBlock(name));
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: cluster().primary.url,
      REPLICA_URLS: replicas().map((r) => r.url).join(','),
      NODE_PATH: path.join(ROOT, 'node_modules'),
    };
    const r = spawnSync(process.execPath, [name], { cwd: app, env, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  // `read from { port: 24001, on_replica: true }` and `read your write: { id: 1, body: 'hello' }`.
  function expectReplicaReadAndOwnWrite(out: { status: number | null; stdout: string; stderr: string }): void {
    expect(out.status, out.stderr).to.equal(0);
    const first = /^read from \{ port: (\d+), on_replica: (true|false) \}$/m.exec(out.stdout);
    expect(first, out.stdout).to.not.equal(null);
    expect(first![2], 'the first read ran on a standby').to.equal('true');
    expect(replicas().map((r) => r.port)).to.include(Number(first![1]));
    expect(out.stdout).to.match(/^read your write: \{ id: \d+, body: 'hello' \}$/m);
  }

  it('ships what the quick start needs: the CommonJS and ESM entries and the README', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/split-knex/package.json'), 'utf8'));
    for (const entry of [pkg.exports['.'].require, pkg.exports['.'].import, pkg.exports['.'].types, 'README.md']) {
      expect(fs.existsSync(path.join(app, 'node_modules/split-knex', entry)), entry).to.equal(true);
    }
  });

  it('CommonJS: the first read runs on a replica, and the read after the insert sees it', () => {
    expectReplicaReadAndOwnWrite(runQuickStart('quick-start.cjs'));
  });

  it('ESM: the first read runs on a replica, and the read after the insert sees it', () => {
    expectReplicaReadAndOwnWrite(runQuickStart('quick-start.mjs'));
  });
});
