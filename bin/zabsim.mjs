#!/usr/bin/env node
// zabsim's entry point: registers the TypeScript loader (tsx), then runs the CLI from source.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = main(process.argv.slice(2));
process.exitCode = code;
