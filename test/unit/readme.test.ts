import { expect } from 'chai';
import fs from 'fs';
import path from 'path';

// The README quotes each docs/*.md section verbatim (scripts/build-readme.js): they must not drift.
describe('README', () => {
  const root = path.join(__dirname, '../..');
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

  it('includes every docs/*.md section as it is now', () => {
    const { render } = require(path.join(root, 'scripts/build-readme.js')) as { render(t: string): string };
    expect(render(readme) === readme, 'README.md is out of date: run `node scripts/build-readme.js`').to.equal(true);
    for (const file of fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
      expect(readme, `docs/${file} is included`).to.include(`<!-- include docs/${file} -->`);
    }
  });

  it('gives exactly the two set-up commands: the demo and the tests', () => {
    expect(readme).to.include('npm ci && npm run demo');
    expect(readme).to.include('npm ci && npm test');
  });
});
