/**
 * Scenario files: the folder of named scenarios shipped with zabsim, their golden traces, and
 * loading one file (its name must match its `scenario` line).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScenarioError } from './lexer.ts';
import { parseScenario } from './parse.ts';
import type { Scenario } from './types.ts';

/** The scenario folder of this repository (or of the installed package). */
export const SCENARIO_DIR = resolve(fileURLToPath(new URL('../../scenarios/', import.meta.url)));

/** Every `.scenario` file under `dir`, subfolders included, in order of name (s01, s02, ...). */
export function scenarioFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.scenario')) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  const name = (p: string): string => basename(p);
  return out.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** The golden trace's path: the scenario's path with `.trace` for `.scenario`. */
export function goldenPath(file: string): string {
  return file.replace(/\.scenario$/, '.trace');
}

/** Reads and parses one file; its name must match its `scenario` line. */
export function loadScenario(file: string, shown = file): Scenario {
  return scenarioOfFile(readFileSync(file, 'utf8'), file, shown);
}

/** Parses the text of the scenario file `file` (shown in messages as `shown`). */
export function scenarioOfFile(text: string, file: string, shown = file): Scenario {
  const sc = parseScenario(text, shown);
  const stem = basename(file).replace(/\.scenario$/, '');
  if (sc.name !== stem) throw new ScenarioError(shown, 1, `expected 'scenario ${stem}' to match the file name, found 'scenario ${sc.name}'`);
  return sc;
}

