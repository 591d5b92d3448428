import { expect } from 'chai';
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

const ROOT = path.join(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

// Text outside fenced code blocks (a `# comment` in a shell block is not a heading).
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '');
}

// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  return new Set([...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));
}

/** `<!-- runnable: name.ext -->` followed by a fenced block: the blocks a test runs as written. */
function runnableBlocks(markdown: string): Array<{ name: string; code: string }> {
  return [...markdown.matchAll(/<!-- runnable: (\S+) -->\n```\w*\n([\s\S]*?)^```$/gm)].map((m) => ({ name: m[1] as string, code: m[2] as string }));
}

// Markdown links [text](target) outside code, without external URLs.
function localLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((t) => !/^[a-z]+:/.test(t));
}

describe('README', () => {
  const readme = read('README.md');
  const headings = [...prose(readme).matchAll(/^## (.+)$/gm)].map((m) => m[1] as string);

  it('links every docs/*.md chapter', () => {
    for (const file of fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
      expect(readme, `README links docs/${file}`).to.match(new RegExp(`\\]\\(docs/${file.replace('.', '\\.')}(#[^)]*)?\\)`));
    }
  });

  it('has no broken local link or anchor (README and the chapters it moved to docs/)', () => {
    for (const file of ['README.md', 'docs/configuration.md', 'docs/routing.md', 'docs/observability.md', 'docs/errors.md']) {
      const dir = path.dirname(path.join(ROOT, file));
      for (const link of localLinks(read(file))) {
        const [target, anchor] = link.split('#') as [string, string | undefined];
        const resolved = target === '' ? path.join(ROOT, file) : path.resolve(dir, target);
        expect(fs.existsSync(resolved), `${file} links ${link}: no such file`).to.equal(true);
        if (anchor !== undefined && resolved.endsWith('.md')) {
          expect([...anchorsOf(fs.readFileSync(resolved, 'utf8'))], `${file} links ${link}: no such heading`).to.include(anchor);
        }
      }
    }
  });

  it('has a table of contents linking every chapter, and a diagram of the data path', () => {
    const contents = /^## Contents\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    for (const h of headings.filter((h) => h !== 'Contents')) expect(contents, `contents link "${h}"`).to.include(`](#${slug(h)})`);
    expect(readme).to.match(/```mermaid\nflowchart[\s\S]*splitKnex[\s\S]*classify[\s\S]*route[\s\S]*primary[\s\S]*replica[\s\S]*read-your-writes[\s\S]*health[\s\S]*?```/);
  });

  it('leads a user: install, quick start and configuration come first, contributors\' set-up near the end', () => {
    const at = (h: string) => headings.indexOf(h);
    for (const h of ['Install', 'Quick start', 'Configuration', 'What keeps working', 'Contributing']) expect(at(h), h).to.be.above(-1);
    expect(at('Install')).to.be.below(at('Quick start'));
    expect(at('Quick start')).to.be.below(at('Configuration'));
    expect(at('Contributing')).to.be.above(headings.length - 3);
    expect(readme.split('\n').length, 'the long chapters live in docs/').to.be.below(400);
    const install = /^## Install\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    expect(install).to.include('npm pack').and.include('npm install ').and.include('split-knex-0.1.0.tgz').and.include('knex pg');
  });

  it('gives exactly the two set-up commands, the demo and the tests, in the contributors\' section', () => {
    const contributing = /^## Contributing\n([\s\S]*)$/m.exec(readme)?.[1] ?? '';
    expect(contributing).to.include('npm ci && npm run demo');
    expect(contributing).to.include('npm ci && npm test');
  });

  it('embeds the benchmark chart', () => {
    expect(readme).to.match(/!\[[^\]]+\]\(bench\/results\/latest\.svg\)/);
    expect(fs.existsSync(path.join(ROOT, 'bench/results/latest.svg'))).to.equal(true);
  });

  it('marks the CommonJS and ESM quick starts runnable, and each parses as its module kind (no top-level await in CommonJS)', () => {
    const blocks = runnableBlocks(readme);
    expect(blocks.map((b) => b.name)).to.deep.equal(['quick-start.cjs', 'quick-start.mjs']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-readme-'));
    try {
      for (const { name, code } of blocks) {
        fs.writeFileSync(path.join(dir, name), code);
        const check = spawnSync(process.execPath, ['--check', path.join(dir, name)], { encoding: 'utf8' });
        expect(check.status, `${name}: ${check.stderr}`).to.equal(0);
      }
      expect(blocks[0]!.code).to.include("require('split-knex')");
      expect(blocks[1]!.code).to.include("from 'split-knex'");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every runnable block is run by an integration test', () => {
    const runners = ['test/integration/quick-start.test.ts'].map(read).join('\n');
    for (const { name } of runnableBlocks(readme)) expect(runners, `a test runs ${name}`).to.include(`'${name}'`);
  });
});
