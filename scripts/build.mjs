#!/usr/bin/env node
// Builds dist/ from src/: tsc (tsconfig.build.json) emits JavaScript with its relative `.ts`
// imports rewritten to `.js`, and declaration files; tsc leaves `.ts` in the declaration files'
// `import type` lines, so they are rewritten here, for consumers whose TypeScript does not map
// `.ts` to `.d.ts`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.d.ts')) {
      const text = readFileSync(p, 'utf8');
      const fixed = text.replace(/(from\s+'\.{1,2}\/[^']*)\.ts'/g, "$1.js'").replace(/(import\('\.{1,2}\/[^']*)\.ts'\)/g, "$1.js')");
      if (fixed !== text) writeFileSync(p, fixed);
    }
  }
};
walk(dist);

// The viewer page (src/trace/viewer/, docs/viewer.md): its script bundled once here, as the IIFE
// that trace.html inlines, and its HTML and CSS beside it, so that the installed package needs no
// bundler at run time (src/trace/html.ts reads page.bundle.js when it exists).
const { buildSync } = createRequire(import.meta.url)('esbuild');
const viewerSrc = join(root, 'src', 'trace', 'viewer');
const viewerDist = join(dist, 'trace', 'viewer');
buildSync({ entryPoints: [join(viewerSrc, 'page.ts')], bundle: true, format: 'iife', target: 'es2020', minify: true, legalComments: 'none', logLevel: 'silent', outfile: join(viewerDist, 'page.bundle.js') });
for (const f of ['page.html', 'page.css']) copyFileSync(join(viewerSrc, f), join(viewerDist, f));
