// The CLI from source, for the tests that need a real process (pipes, signals): `node --import tsx test/cli/entry.ts ARGS`.
import { main } from '../../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
