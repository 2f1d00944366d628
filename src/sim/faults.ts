/**
 * Seeded fault injection for a run: crashes and restarts (of at most a minority of voters at a
 * time unless asked otherwise), partitions of several shapes (symmetric or one-way), and halted
 * processes restarted like crashed ones (message loss, duplication and reordering are network
 * settings, also stopped at the end of the faulty period). Crashes draw from the `crashes` stream and partitions
 * from the `partitions` stream, so enabling one never changes the other's schedule. After `untilMs` no
 * new fault starts; at that instant every partition heals and every down server restarts, so the
 * rest of the run shows whether the cluster converges (the liveness phase).
 */
import { isVoter, serverName, type Sid } from '../protocol/config.ts';
import type { Simulation } from './kernel.ts';
import { drawMs, formatDist, type DelayDist, type Rng } from './rng.ts';

export type PartitionShape = 'isolate-one' | 'split' | 'isolate-leader';

export interface FaultConfig {
  /** Mean time between crash attempts (exponential); 0 disables crashes. */
  readonly crashMeanIntervalMs: number;
  /** Which server a crash hits: any running one, or the current leader when there is one. */
  readonly crashTarget: 'any' | 'leader';
  /** How long a crashed or halted server stays down. */
  readonly restartDelay: DelayDist;
  /** At most this many voters down at once; default: a minority, floor((voters - 1) / 2). */
  readonly maxVotersDown: number | null;
  /** Mean time between partitions (exponential, counted from the previous heal); 0 disables them. */
  readonly partitionMeanIntervalMs: number;
  readonly partitionDuration: DelayDist;
  readonly partitionShapes: readonly PartitionShape[];
  /** Probability that a partition blocks one direction only. */
  readonly oneWayProb: number;
  /** No new faults from this time on; then heal and restart everything. Infinity: never stop. */
  readonly untilMs: number;
}

export const NO_FAULTS: FaultConfig = Object.freeze({
  crashMeanIntervalMs: 0,
  crashTarget: 'any',
  restartDelay: Object.freeze({ kind: 'uniform', minMs: 1000, maxMs: 10_000 }) as DelayDist,
  maxVotersDown: null,
  partitionMeanIntervalMs: 0,
  partitionDuration: Object.freeze({ kind: 'uniform', minMs: 1000, maxMs: 20_000 }) as DelayDist,
  partitionShapes: Object.freeze(['isolate-one', 'split', 'isolate-leader']) as readonly PartitionShape[],
  oneWayProb: 0.25,
  untilMs: Infinity,
});

export class FaultInjector {
  private readonly crashRng: Rng;
  private readonly partitionRng: Rng;
  private stopped = false;

  constructor(
    private readonly sim: Simulation,
    readonly cfg: FaultConfig,
  ) {
    this.crashRng = sim.rng.stream('crashes');
    this.partitionRng = sim.rng.stream('partitions');
  }

  /** Schedules the first faults and the end of the faulty period. */
  install(): void {
    this.sim.onHalt = (sid) => this.scheduleRestart(sid);
    if (this.cfg.crashMeanIntervalMs > 0) this.sim.at(this.sim.now + this.crashRng.exponentialMs(this.cfg.crashMeanIntervalMs), () => this.crashTick());
    if (this.cfg.partitionMeanIntervalMs > 0) this.sim.at(this.sim.now + this.partitionRng.exponentialMs(this.cfg.partitionMeanIntervalMs), () => this.partitionTick());
    if (this.cfg.untilMs !== Infinity) this.sim.at(Math.max(this.sim.now, this.cfg.untilMs), () => this.quiesce());
  }

  /** One-line description of the fault parameters, printed before a run. */
  describe(): string {
    const c = this.cfg;
    const parts: string[] = [];
    parts.push(c.crashMeanIntervalMs > 0 ? `crashes every ~${c.crashMeanIntervalMs}ms (${c.crashTarget}, max ${this.maxVotersDown()} voters down, restart after ${formatDist(c.restartDelay)})` : 'no crashes');
    parts.push(c.partitionMeanIntervalMs > 0 ? `partitions every ~${c.partitionMeanIntervalMs}ms (${c.partitionShapes.join('/')}, one-way ${c.oneWayProb}, lasting ${formatDist(c.partitionDuration)})` : 'no partitions');
    parts.push(c.untilMs === Infinity ? 'faults never stop' : `faults stop at ${c.untilMs}ms`);
    return parts.join('; ');
  }

  private maxVotersDown(): number {
    return this.cfg.maxVotersDown ?? Math.floor((this.sim.cfg.voters.length - 1) / 2);
  }

  private crashTick(): void {
    if (this.stopped) return;
    const sim = this.sim;
    const votersDown = sim.cfg.voters.filter((sid) => !sim.server(sid).up).length;
    const candidates = sim.sids.filter((sid) => sim.server(sid).up && (!isVoter(sim.cfg, sid) || votersDown < this.maxVotersDown()));
    let target: Sid | null = null;
    if (this.cfg.crashTarget === 'leader') {
      target = candidates.find((sid) => sim.server(sid).state.state === 'LEADING') ?? null;
    }
    if (target === null && candidates.length > 0 && this.cfg.crashTarget === 'any') target = this.crashRng.pick(candidates);
    if (target !== null) {
      sim.crash(target);
      this.scheduleRestart(target);
    }
    sim.at(sim.now + this.crashRng.exponentialMs(this.cfg.crashMeanIntervalMs), () => this.crashTick());
  }

  private scheduleRestart(sid: Sid): void {
    const sim = this.sim;
    sim.at(sim.now + drawMs(this.crashRng, this.cfg.restartDelay), () => {
      if (!sim.server(sid).up) sim.start(sid);
    });
  }

  private partitionTick(): void {
    if (this.stopped) return;
    const sim = this.sim;
    const shape = this.partitionRng.pick(this.cfg.partitionShapes);
    const ids = sim.sids;
    let side: Sid[];
    if (shape === 'isolate-leader') {
      const leader = ids.find((sid) => sim.server(sid).state.state === 'LEADING' && sim.server(sid).up);
      side = [leader ?? this.partitionRng.pick(ids)];
    } else if (shape === 'isolate-one') {
      side = [this.partitionRng.pick(ids)];
    } else {
      side = ids.filter(() => this.partitionRng.chance(0.5));
      if (side.length === 0 || side.length === ids.length) side = [this.partitionRng.pick(ids)];
    }
    const rest = ids.filter((sid) => !side.includes(sid));
    const oneWay = this.partitionRng.chance(this.cfg.oneWayProb);
    const links: [Sid, Sid][] = [];
    for (const a of side) {
      for (const b of rest) {
        links.push([a, b]);
        if (!oneWay) links.push([b, a]);
      }
    }
    const names = (xs: Sid[]): string => `{${xs.map(serverName).join(',')}}`;
    sim.partition(links, oneWay ? `${names(side)} -/-> ${names(rest)}` : `${names(side)} | ${names(rest)}`);
    const healAt = sim.now + drawMs(this.partitionRng, this.cfg.partitionDuration);
    sim.at(healAt, () => {
      if (this.stopped) return;
      sim.heal();
      sim.at(sim.now + this.partitionRng.exponentialMs(this.cfg.partitionMeanIntervalMs), () => this.partitionTick());
    });
  }

  /** End of the faulty period: no more loss, every partition healed, every down server restarted. */
  private quiesce(): void {
    this.stopped = true;
    const sim = this.sim;
    sim.network.calm();
    sim.heal();
    for (const sid of sim.sids) if (!sim.server(sid).up) sim.start(sid);
  }
}
