/**
 * zabsim's public API: what a test author in another project needs to build and run a
 * simulation, judge it, read its trace, run a scenario or an exploration, and list the flaws.
 * Documented in docs/api.md; everything else under src/ is internal.
 */

// Building and running a simulation, judged by the checkers.
export { createRun, releaseRun, runJudged, runToEnd, traceRecords, verdictOf, type Run, type RunOptions } from './run/run.ts';
export {
  formatSettings,
  optionsFromSettings,
  resolveSettings,
  RUN_DEFAULTS,
  runOptions,
  settings,
  settingsArgs,
  SettingsError,
  SETTING_NAMES,
  type Settings,
  type SettingValue,
} from './run/settings.ts';
export { swarmSettings } from './run/swarm.ts';
export { describeRun } from './run/header.ts';
export { summarize, traceHash, type ServerSummary } from './run/summary.ts';

// Exploration: many swarm seeds, each judged, with replay commands.
export { explore, exploreSeed, exploring, type ExploreOptions, type ExploreSummary, type SeedResult } from './run/explore.ts';
export { defaultWorkers, exploringParallel, SEEDS_PER_TASK, SEEDS_PER_WORKER } from './run/parallel.ts';
export { DEFAULT_STRATEGY, STRATEGIES, type StrategyName } from './run/strategy.ts';

// Sweeps split across processes or machines: a shard of the seeds, and the merge of the shards.
export { formatShard, parseShard, type Shard } from './run/shard.ts';
export { DEFAULT_SHRINK_BUDGET, shrinkFailure, type Shrunk } from './run/shrink.ts';
export { mergeSweeps, parseSweep, sweepFailure, sweepJson, SweepInputError, type Merged, type SweepInput, type SweepResult } from './run/sweep.ts';

// The checkers and their verdict.
export {
  attachCheckers,
  Checkers,
  defaultLivenessBoundMs,
  PROPERTY_DESCRIPTIONS,
  PROPERTY_NAMES,
  type CheckOptions,
  type LivenessVerdict,
  type PropertyName,
  type Verdict,
  type Violation,
} from './check/index.ts';

// Trace records and their text rendering.
export type { TraceBody, TraceEvent, TraceSink, TraceType, WireMessage } from './sim/events.ts';
export { PLAIN, renderEvent, type Palette } from './trace/text.ts';

// Scenarios.
export { parseScenario } from './scenario/parse.ts';
export { runScenario, type ScenarioFailure, type ScenarioOptions, type ScenarioResult } from './scenario/runner.ts';
export { ScenarioError } from './scenario/lexer.ts';
export { goldenPath, loadScenario, SCENARIO_DIR, scenarioFiles } from './scenario/files.ts';
export type { Scenario } from './scenario/types.ts';
export { runScenarioText } from './run/scenario.ts';

// The kernel and the protocol, for tests that drive them directly.
export { LivelockError, Simulation, type KernelControl, type SimOptions } from './sim/kernel.ts';
export type { FaultConfig, ScheduledFault } from './sim/faults.ts';
export type { WorkloadConfig } from './sim/clients.ts';
export { blankState, step, type StepResult } from './protocol/peer.ts';
export { setStateFreezing } from './protocol/cow.ts';
export { DEFAULT_PARAMS, FLAW_NAMES, makeClusterConfig, NO_FLAWS, serverName, type ClusterConfig, type Flaws, type ProtocolParams, type Sid } from './protocol/config.ts';
export { formatZxid } from './protocol/zxid.ts';
