/** Running a scenario given as text (the public API's entry point; the CLI reads files). */
import { parseScenario } from '../scenario/parse.ts';
import { runScenario, type ScenarioOptions, type ScenarioResult } from '../scenario/runner.ts';

/**
 * Parses and runs a scenario. A mistake in the text throws a ScenarioError naming `file` and the
 * line; a failed expectation is `result.failure`.
 */
export function runScenarioText(text: string, file = '<scenario>', opts: ScenarioOptions = {}): ScenarioResult {
  return runScenario(parseScenario(text, file), opts);
}
