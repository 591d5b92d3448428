#!/usr/bin/env node
// Builds dist/cjs with tsc, then a thin ESM entry that re-exports the CommonJS build
// (one copy of the code, so `instanceof SplitKnexError` holds across both entry points).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });

const cjs = require(path.join(root, 'dist/cjs/index.js'));
const names = Object.keys(cjs).filter((k) => k !== 'default' && k !== '__esModule');
fs.mkdirSync(path.join(root, 'dist/esm'), { recursive: true });
fs.writeFileSync(
  path.join(root, 'dist/esm/index.mjs'),
  `import cjs from '../cjs/index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);
fs.writeFileSync(path.join(root, 'dist/esm/index.d.mts'), `export * from '../cjs/index.js';\n`);
console.log(`built dist/cjs and dist/esm (${names.length} exports: ${names.join(', ')})`);
