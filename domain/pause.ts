import type { DomainEvent } from '../events/catalog';
import type { DeployConfig } from '../events/client';
import type { StepContext } from './advance';
import { dueAt, withdrawTimer } from './emit';
import type { ServiceState } from './ledger';

/**
 * How long a rollout may stand paused before it rolls back: its own PauseTimeout, or else the
 * installation's maximum pause (`DEPLOYOMAT_MAX_PAUSE_SECONDS`, default a day). A forgotten pause
 * would otherwise hold a second fleet, and the service, forever. A PauseTimeout longer than the
 * maximum is rejected with the request rather than shortened: a deploy never waits less than it
 * asked for without being told.
 */
export interface PauseLimit {
  seconds: number;
  by: 'PauseTimeout' | 'MaxPause';
}

/** Pure: the limit of a pause. A PauseTimeout over the maximum (accepted before it was lowered) gives way to it. */
export function pauseLimit(config: Pick<DeployConfig, 'PauseTimeout'>, maxPauseSeconds: number): PauseLimit {
  const own = config.PauseTimeout;
  return own !== undefined && own <= maxPauseSeconds ? { seconds: own, by: 'PauseTimeout' } : { seconds: maxPauseSeconds, by: 'MaxPause' };
}

/** Pure: why a request's PauseTimeout cannot be honoured in this installation, or nothing. */
export function pauseTimeoutProblems(config: Pick<DeployConfig, 'PauseTimeout'>, maxPauseSeconds: number): string[] {
  if (config.PauseTimeout === undefined || config.PauseTimeout <= maxPauseSeconds) return [];
  return [
    `DeployConfig.PauseTimeout: must be at most ${maxPauseSeconds} seconds, the longest a rollout may stay paused in this installation ` +
      '(DEPLOYOMAT_MAX_PAUSE_SECONDS); leave it unset to wait that long',
  ];
}

/** Pure: why a rollout paused longer than its limit is rolled back. */
export function pauseExpiredReason(percent: number, limit: PauseLimit): string {
  const what = limit.by === 'PauseTimeout' ? `PauseTimeout (${limit.seconds} s)` : `the maximum pause of this installation (${limit.seconds} s, DEPLOYOMAT_MAX_PAUSE_SECONDS)`;
  return `the rollout stayed paused at ${percent} % for longer than ${what} without ResumeRequested`;
}

type Ref = { DeployId: string; AccountCanonicalSlug: string; ServiceName: string; Seq: number };

/** When a pause that began at `sinceMs` (epoch ms) rolls back unless it ends otherwise (recorded as `Paused.RollbackAt`). */
export const pauseRollbackAt = (limit: PauseLimit, sinceMs: number) => new Date(sinceMs + limit.seconds * 1000).toISOString();

/**
 * RolloutPaused and its PauseTimeoutDue, fenced by the paused position `next`: every pause ends,
 * by its PauseTimeout or by the installation's maximum.
 */
export function pausedEvents(next: Ref, step: number, percent: number, by: 'request' | 'PauseAtPercent', reason: string, limit: PauseLimit, sinceMs: number): DomainEvent[] {
  const rollbackAt = pauseRollbackAt(limit, sinceMs);
  return [
    { DetailType: 'RolloutPaused', Detail: { ...next, Step: step, Percent: percent, By: by, Reason: reason, RollbackAt: rollbackAt } },
    dueAt(Date.parse(rollbackAt), { DetailType: 'PauseTimeoutDue', Detail: { ...next, PauseTimeout: limit.seconds, Limit: limit.by } }),
  ];
}

/** The PauseTimeoutDue a paused `state` armed, as it was sent (same schedule name and delay), or none. */
export function armedPauseTimer(state: ServiceState): DomainEvent | undefined {
  const paused = state.Phase === 'Paused' ? state.Paused : undefined;
  if (!paused) return undefined;
  // A pause before 0.2 recorded no RollbackAt: its timer, if any, was its PauseTimeout's.
  const seconds = paused.RollbackAt ? (Date.parse(paused.RollbackAt) - Date.parse(paused.Since)) / 1000 : state.Request.Config.PauseTimeout;
  if (seconds === undefined || Number.isNaN(seconds)) return undefined;
  const ref = { DeployId: state.ActiveDeployId, AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName, Seq: state.Seq };
  return { DetailType: 'PauseTimeoutDue', Detail: { ...ref, PauseTimeout: seconds }, DelaySeconds: seconds };
}

/**
 * Once a pause has ended otherwise (resumed, promoted, rolled back): its timer's schedule is deleted
 * (a day-long one would linger). Best effort: a timer left behind is dropped as stale when it fires.
 */
export async function withdrawPauseTimer(ctx: Pick<StepContext, 'cp' | 'cfg' | 'log'>, state: ServiceState): Promise<void> {
  const timer = armedPauseTimer(state);
  if (!timer) return;
  await withdrawTimer(ctx.cp, ctx.cfg, timer).catch((err: unknown) =>
    ctx.log.warn('Could not withdraw the pause timer: it will be dropped as stale when it fires', { error: String(err) }),
  );
}
