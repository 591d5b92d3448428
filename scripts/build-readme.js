#!/usr/bin/env node
// Copies each docs/*.md section into README.md between its include markers, so the README
// documents everything while each subsystem keeps one source file (which its tests read).
//   <!-- include docs/consistency.md -->
//   …generated…
//   <!-- end include -->
// `node scripts/build-readme.js --check` exits 1 when README.md is out of date.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const readmePath = path.join(root, 'README.md');

function render(text) {
  return text.replace(/<!-- include (\S+) -->\n[\s\S]*?<!-- end include -->/g, (_, file) => {
    const body = fs.readFileSync(path.join(root, file), 'utf8').trimEnd();
    return `<!-- include ${file} -->\n${body}\n<!-- end include -->`;
  });
}

module.exports = { render };

if (require.main === module) {
  const current = fs.readFileSync(readmePath, 'utf8');
  const next = render(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md is out of date: run `node scripts/build-readme.js`');
      process.exit(1);
    }
  } else {
    fs.writeFileSync(readmePath, next);
  }
}
