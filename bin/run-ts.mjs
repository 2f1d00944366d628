#!/usr/bin/env node
// Runs a TypeScript file of this repository (the benchmark) through the tsx loader.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: run-ts.mjs FILE.ts [args]\n');
  process.exit(2);
}
await import(pathToFileURL(resolve(file)).href);
