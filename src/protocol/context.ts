/**
 * What a handler gets besides the state draft: the static configuration and the list it appends
 * effects to. Handlers never return effects; they push them here, in the order they happen.
 */
import type { ClusterConfig, Sid } from './config.ts';
import type { ProbeSink } from './probes.ts';
import type { Effect, Message, TimerName } from './types.ts';

export interface StepContext {
  readonly cfg: ClusterConfig;
  readonly sid: Sid;
  readonly effects: Effect[];
  /** Coverage probes (probes.ts): null when coverage is off; call as `ctx.probe?.(PROBE[name])`. */
  readonly probe: ProbeSink | null;
  /** The objects this step copied and may write (cow.ts `own`); the state's root, the step's by construction, is not listed. */
  readonly owned: object[];
}

export function send(ctx: StepContext, to: Sid, msg: Message): void {
  ctx.effects.push({ kind: 'send', to, msg });
}

export function setTimer(ctx: StepContext, timer: TimerName, delayMs: number, jitterMs?: number): void {
  ctx.effects.push(jitterMs === undefined ? { kind: 'setTimer', timer, delayMs } : { kind: 'setTimer', timer, delayMs, jitterMs });
}

export function cancelTimer(ctx: StepContext, timer: TimerName): void {
  ctx.effects.push({ kind: 'cancelTimer', timer });
}

export function note(ctx: StepContext, text: string): void {
  ctx.effects.push({ kind: 'note', text });
}

export function disconnect(ctx: StepContext, peer: Sid): void {
  ctx.effects.push({ kind: 'disconnect', peer });
}
