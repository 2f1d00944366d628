#!/usr/bin/env node
// zabsim's entry point: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci`
// and `npm pack` run through the `prepare` script). No TypeScript loader at run time.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
