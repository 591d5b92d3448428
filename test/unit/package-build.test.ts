import { expect } from 'chai';
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

// The package ships CommonJS and ESM entry points with types, and the `split-knex` bin:
// build them as `npm run build` does and load each the way a user would.
describe('the built package', function () {
  this.timeout(120_000);
  const root = path.join(__dirname, '../..');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

  before(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts/build.js')], { cwd: root, stdio: 'pipe' });
  });

  it('exports splitKnex, classifySql and SplitKnexError from the CommonJS entry, with types', () => {
    const cjs = require(path.join(root, pkg.exports['.'].require));
    expect(cjs.splitKnex).to.be.a('function');
    expect(cjs.classifySql('select 1').target).to.equal('replica');
    expect(new cjs.SplitKnexError('ESPLIT_CONFIG', 'x')).to.be.instanceOf(Error);
    const types = fs.readFileSync(path.join(root, pkg.exports['.'].types), 'utf8');
    expect(types).to.include('splitKnex').and.include('SplitKnexConfig').and.include('SplitKnexStats');
  });

  it('exports the same classes from the ESM entry (one copy of the code)', () => {
    const script = `import * as esm from ${JSON.stringify(path.join(root, pkg.exports['.'].import))};
      import { createRequire } from 'module';
      const cjs = createRequire(import.meta.url)(${JSON.stringify(path.join(root, pkg.exports['.'].require))});
      console.log(JSON.stringify({ fn: typeof esm.splitKnex, same: esm.SplitKnexError === cjs.SplitKnexError }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root }).toString();
    expect(JSON.parse(out)).to.deep.equal({ fn: 'function', same: true });
  });

  it('ships the split-knex bin with a shebang', () => {
    const bin = fs.readFileSync(path.join(root, pkg.bin['split-knex']), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node')).to.equal(true);
    const help = execFileSync(process.execPath, [path.join(root, pkg.bin['split-knex']), '--help'], { cwd: root }).toString();
    expect(help).to.match(/doctor/);
  });
});
