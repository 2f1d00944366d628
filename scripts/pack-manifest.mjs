#!/usr/bin/env node
// `npm pack` and `npm publish` helpers (prepack/postpack): the tarball's package.json leaves out
// the `prepare` script, which builds dist/ in a clone (`npm ci`) but would make npm warn, in every
// project that installs the package, about an install script it has not approved. `strip` saves
// package.json beside itself and removes the script; `restore` puts the saved file back.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const file = new URL('../package.json', import.meta.url);
const saved = new URL('../package.json.prepack', import.meta.url);
const mode = process.argv[2];
if (mode === 'strip') {
  const text = readFileSync(file, 'utf8');
  writeFileSync(saved, text);
  const pkg = JSON.parse(text);
  delete pkg.scripts.prepare;
  // Atomically: anything reading package.json meanwhile (a test) sees the old or the new file.
  const tmp = new URL('../package.json.tmp', import.meta.url);
  writeFileSync(tmp, JSON.stringify(pkg, null, 2) + '\n');
  renameSync(tmp, file);
} else if (mode === 'restore') {
  if (existsSync(saved)) renameSync(saved, file);
} else {
  process.stderr.write('usage: pack-manifest.mjs strip|restore\n');
  process.exit(2);
}
