/**
 * `zabsim flaws`: every flaw switch with its ticket, title, the releases it affects, the property
 * that catches it and the command that finds it (the catalogue of src/protocol/flaws.ts). With
 * `--zk VERSION`, only the flaws that release has.
 */
import type { Flaws } from '../protocol/config.ts';
import { exploreCommandFor, FLAW_CATALOGUE, releaseProfile, RELEASES, type ReleaseProfile } from '../protocol/flaws.ts';
import { parseFlags, type CommandSpec, type FlagValue } from './args.ts';
import type { Output } from './run.ts';

export const FLAWS_SPEC: CommandSpec = {
  name: 'flaws',
  summary: 'Lists the switches that reintroduce real ZooKeeper bugs: ticket, title, releases affected, the property that catches each and the command that finds it.',
  flags: [
    {
      name: 'zk',
      kind: 'string',
      arg: 'VERSION',
      expects: 'a ZooKeeper release such as 3.8.4 or a line such as 3.7',
      resolve: (raw) => {
        const p = releaseProfile(raw);
        return typeof p === 'string' ? { error: p } : raw;
      },
      help: 'only the flaws this release has (what --zk VERSION switches on)',
      defaultText: 'all',
    },
    { name: 'no-color', kind: 'bool', help: 'accepted for every command; this one prints no colours' },
  ],
};

export function parseFlawsFlags(argv: readonly string[]): Map<string, FlagValue> {
  return parseFlags(FLAWS_SPEC, argv);
}

/** `zabsim flaws` with parsed flags; returns the exit code. */
export function flawsCommand(flags: Map<string, FlagValue>, out: Output): number {
  const zk = flags.get('zk') as string | undefined;
  const profile = zk === undefined ? null : (releaseProfile(zk) as ReleaseProfile);
  const names = profile === null ? (Object.keys(FLAW_CATALOGUE) as (keyof Flaws)[]) : profile.flaws;
  if (profile !== null) out.write(`ZooKeeper ${profile.name} has ${names.length} of zabsim's flaws${names.length === 0 ? '.' : ':'}`);
  names.forEach((f, i) => {
    const e = FLAW_CATALOGUE[f];
    if (i > 0 || profile !== null) out.write('');
    out.write(`${f}  ${e.tickets.length > 0 ? e.tickets.join(', ') : 'no ticket'}${e.bug !== null ? ` (zab-bugs.md ${e.bug})` : ''}`);
    out.write(`  ${e.title}`);
    out.write(`  affects:   ${e.affected.join(', ')}`);
    out.write(`  fixed in:  ${e.fixedIn}`);
    out.write(`  caught by: ${e.properties.join(', ')}`);
    out.write(`  found by:  ${exploreCommandFor(f)}`);
  });
  if (profile === null) {
    out.write('');
    out.write(`--flaw takes a switch name or a ticket; --zk VERSION (${RELEASES[0]} to ${RELEASES[RELEASES.length - 1]}) switches on exactly the flaws of that release.`);
  }
  return 0;
}
