import { expect } from 'chai';
import fs from 'fs';
import path from 'path';

const ROOT = path.join(__dirname, '../..');

/**
 * The members of the `SplitKnexErrorCode` union, read from lib/errors.ts's source: a code
 * added there later must get a row in docs/errors.md before this test passes again.
 *
 * @example
 * errorCodesIn(fs.readFileSync('lib/errors.ts', 'utf8')); // ['ESPLIT_CONFIG', …]
 */
function errorCodesIn(source: string): string[] {
  const union = /export\s+type\s+SplitKnexErrorCode\s*=([^;]*);/.exec(source)?.[1];
  if (union === undefined) throw new Error('lib/errors.ts no longer declares `export type SplitKnexErrorCode = …;`');
  return [...union.matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => (m[1] ?? m[2]) as string);
}

/** The codes with a row in a Markdown table whose first cell is a code span: `| \`ESPLIT_X\` | … |`. */
function documentedCodes(doc: string): string[] {
  return [...doc.matchAll(/^\| `(ESPLIT_[A-Z_]+)` \|/gm)].map((m) => m[1] as string);
}

describe('docs/errors.md: the error-code table', () => {
  const source = fs.readFileSync(path.join(ROOT, 'lib/errors.ts'), 'utf8');
  const doc = fs.readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');

  it('reads the SplitKnexErrorCode union from lib/errors.ts (and would see a new member)', () => {
    const codes = errorCodesIn(source);
    expect(codes).to.include.members(['ESPLIT_CONFIG', 'ESPLIT_NO_REPLICA', 'ESPLIT_PRIMARY_DOWN', 'ESPLIT_TOKEN', 'ESPLIT_CACHE', 'ESPLIT_DESTROYED']);
    const grown = source.replace(/(export\s+type\s+SplitKnexErrorCode\s*=[^;]*)/, "$1\n  | 'ESPLIT_NEW'");
    expect(errorCodesIn(grown)).to.include('ESPLIT_NEW');
  });

  it('has one row, with when it happens and what to do, for every code in the union', () => {
    const documented = documentedCodes(doc);
    for (const code of errorCodesIn(source)) {
      expect(documented, `docs/errors.md has no row for ${code}`).to.include(code);
      const row = new RegExp(`^\\| \`${code}\` \\|([^|\\n]+)\\|([^|\\n]+)\\|$`, 'm').exec(doc);
      expect(row, `${code}: a row of three cells`).to.not.equal(null);
      expect(row![1]!.trim().length, `${code}: when it happens`).to.be.above(20);
      expect(row![2]!.trim().length, `${code}: what to do`).to.be.above(20);
    }
  });

  it('has no row for a code the union does not have', () => {
    const codes = errorCodesIn(source);
    for (const code of documentedCodes(doc)) expect(codes, `docs/errors.md documents ${code}, which lib/errors.ts does not declare`).to.include(code);
  });

  it('is linked from the README', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).to.include('](docs/errors.md)');
  });
});
