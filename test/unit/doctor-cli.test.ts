import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli, type CliIo } from '../../lib/cli/split-knex-cli';

// Exit codes of `split-knex doctor` that need no database: 2 for usage and configuration errors.
describe('split-knex doctor exit codes (no database)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; }, cwd: dir, env: {} };
    return { code: await runCli(argv, io), out, err };
  }

  it('exits 2 on an unknown flag or a bad value, printing nothing on stdout', async () => {
    for (const argv of [['doctor', '--jsn'], ['doctor', '--samples', 'many'], ['doctor', '--env']]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.out).to.equal('');
    }
  });

  it('exits 2 when the knexfile is missing or splitKnex() rejects its config', async () => {
    expect((await run('doctor', '--json')).code).to.equal(2);
    const file = path.join(dir, 'bad.js');
    fs.writeFileSync(file, "module.exports = { client: 'pg', connection: 'postgres://app@db/app', replicas: [{ name: 'r', connection: 'postgres://app@r/app', weight: -1 }] };\n");
    const r = await run('doctor', '--json', '--knexfile', file);
    expect(r.code).to.equal(2);
    expect(r.out).to.equal('');
    expect(r.err).to.contain('replicas[0].weight');
  });

  it('exits 2 when an async knexfile fails, masking the credentials its error quotes', async () => {
    const file = path.join(dir, 'vault.js');
    fs.writeFileSync(file, "module.exports = async () => { throw new Error('vault: no lease for postgres://app:Zq9-S3cret@db/app password=Zq9-S3cret expired'); };\n");
    const r = await run('doctor', '--json', '--knexfile', file);
    expect(r.code).to.equal(2);
    expect(r.out).to.equal('');
    expect(r.err).to.contain('vault: no lease for postgres://app:***@db/app password=*** expired');
  });

  it('exits 2 when db.doctor() rejects an option (--timeout 0)', async () => {
    const file = path.join(dir, 'ok.js');
    fs.writeFileSync(file, "module.exports = { client: 'pg', connection: 'postgres://app@127.0.0.1:1/app', pool: { min: 0, max: 1 } };\n");
    const r = await run('doctor', '--knexfile', file, '--timeout', '0');
    expect(r.code).to.equal(2);
    expect(r.err).to.contain('doctor.timeoutMs');
  });
});
