import { expect } from 'chai';
import fs from 'fs';
import path from 'path';

const ROOT = path.join(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

// Every way lib/ can make a debug logger: `debugLogger('ns')` (the house style: its lines are
// redacted), `createDebug('ns')` or `require('debug')('ns')`. A name that is not a string
// literal cannot be checked: it fails (lib/debug-log.ts, the one factory, excepted).
const FACTORY = path.join('lib', 'debug-log.ts');
function namespacesCreatedIn(files: string[]): { names: Set<string>; unchecked: string[] } {
  const names = new Set<string>();
  const unchecked: string[] = [];
  for (const file of files) {
    if (path.relative(ROOT, file) === FACTORY) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:debugLogger|createDebug|require\(\s*['"]debug['"]\s*\))\(([^)]*)\)/g)) {
      const literal = /^\s*(['"])([^'"`$]+)\1\s*$/.exec(m[1] as string);
      if (literal === null) unchecked.push(`${path.relative(ROOT, file)}: ${m[0]}`);
      else names.add(literal[2] as string);
    }
  }
  return { names, unchecked };
}

describe('debug namespaces: the documented table matches what lib/ creates', () => {
  const { names: created, unchecked } = namespacesCreatedIn(sourceFiles(path.join(ROOT, 'lib')));
  const doc = fs.readFileSync(path.join(ROOT, 'docs/observability.md'), 'utf8');
  const table = new Set([...doc.matchAll(/^\| `(split-knex:[a-z-]+)` \|/gm)].map((m) => m[1] as string));

  it('finds the namespaces lib/ creates, each with a literal name', () => {
    expect(unchecked).to.deep.equal([]);
    expect([...created]).to.include.members(['split-knex:route', 'split-knex:classify', 'split-knex:health']);
  });

  it("only lib/debug-log.ts uses the debug package: every other logger's lines are redacted", () => {
    const direct = sourceFiles(path.join(ROOT, 'lib'))
      .filter((f) => path.relative(ROOT, f) !== FACTORY && /from ['"]debug['"]|require\(\s*['"]debug['"]\s*\)/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(ROOT, f));
    expect(direct).to.deep.equal([]);
  });

  it('documents every namespace lib/ creates', () => {
    for (const name of created) expect([...table], `docs/observability.md has no row for ${name}`).to.include(name);
  });

  it('documents no namespace lib/ does not create (it would print nothing)', () => {
    for (const name of table) expect([...created], `${name} is in the table but lib/ never creates it`).to.include(name);
  });

  it('the README and docs/ name no namespace that prints nothing', () => {
    const texts = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    for (const file of texts) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      // `DEBUG=split-knex:a,split-knex:b`, and namespaces in backticks; the Redis key prefix is not one.
      for (const m of text.matchAll(/split-knex:([a-z][a-z-]*)/g)) {
        const before = text.slice(Math.max(0, m.index! - 40), m.index);
        if (/prefix/i.test(before)) continue;
        expect([...created], `${file} names split-knex:${m[1]}`).to.include(`split-knex:${m[1]}`);
      }
      // The short form of a list (`split-knex:route` (and `:health`, `:cache`)).
      for (const m of text.matchAll(/`:([a-z][a-z-]*)`/g)) {
        expect([...created], `${file} names :${m[1]}`).to.include(`split-knex:${m[1]}`);
      }
    }
  });
});
