import { expect } from 'chai';
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { KNEXFILE_NAMES, loadKnexfile } from '../../lib/cli/load-knexfile';
import { USAGE } from '../../lib/cli/parse-cli-args';
import { runCli } from '../../lib/cli/split-knex-cli';

const ROOT = path.join(__dirname, '../..');

// runCli with its output captured: no database is reached by the paths tested here.
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t), cwd: ROOT, env: {} });
  return { code, out, err };
}

// The CLI as `npx split-knex` starts it: a separate node process, so the exit code is real.
function spawnCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'lib/cli/split-knex-cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('split-knex CLI: usage, help and exit codes', function () {
  this.timeout(30_000);

  it('prints the usage to stderr and exits 2 when no subcommand is given', async () => {
    const { code, out, err } = await run([]);
    expect(code).to.equal(2);
    expect(out).to.equal('');
    expect(err).to.equal(USAGE);
  });

  it('prints the usage to stdout and exits 0 for --help, -h and help', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['doctor', '--help']]) {
      const { code, out, err } = await run(argv);
      expect({ argv, code, out, err }).to.deep.equal({ argv, code: 0, out: USAGE, err: '' });
    }
  });

  it('exits 2 with the usage on stderr for an unknown command or option', async () => {
    for (const argv of [['doctr'], ['doctor', '--verbose']]) {
      const { code, out, err } = await run(argv);
      expect(code).to.equal(2);
      expect(out).to.equal('');
      expect(err).to.include(USAGE);
    }
  });

  it('exits 2 naming the path when the knexfile is missing', async () => {
    const { code, err } = await run(['doctor', '--knexfile', 'no-such-knexfile.js']);
    expect(code).to.equal(2);
    expect(err).to.include('knexfile not found').and.include('no-such-knexfile.js');
  });

  it('--help lists every knexfile name the loader looks up, in the order it looks', () => {
    expect(USAGE).to.include(`default ${KNEXFILE_NAMES.map((n) => `./${n}`).join(', else ')})`);
    expect(KNEXFILE_NAMES).to.deep.equal(['knexfile.js', 'knexfile.cjs', 'knexfile.ts']);
  });

  it('loads ./knexfile.cjs when it is the only knexfile (as --help says)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-cli-'));
    try {
      fs.writeFileSync(path.join(dir, 'knexfile.cjs'), "module.exports = { development: { client: 'pg', connection: 'postgres://app@127.0.0.1/app' } };\n");
      const config = await loadKnexfile(undefined, 'development', dir);
      expect(config).to.deep.equal({ client: 'pg', connection: 'postgres://app@127.0.0.1/app' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the README command-line section names the same knexfiles and exit codes as --help', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = /^## Command line\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
    expect(section, 'README has a "## Command line" section').to.be.a('string');
    expect(section).to.include(KNEXFILE_NAMES.map((n) => `\`./${n}\``).join(', else '));
    for (const line of ['| `0` |', '| `1` |', '| `2` |']) expect(section).to.include(line);
    expect(USAGE).to.include('Exit codes: 0 no problems (warnings allowed), 1 problems found, 2 usage or config error.');
  });

  it('as a process: exits 2 with the usage on stderr without a subcommand, 0 with --help', () => {
    const bare = spawnCli([]);
    expect(bare.status).to.equal(2);
    expect(bare.stdout).to.equal('');
    expect(bare.stderr).to.match(/^Usage: split-knex doctor/);
    const help = spawnCli(['--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.match(/^Usage: split-knex doctor/);
  });
});
