import type { Detail, DomainEvent } from '../events/catalog';
import type { StepContext } from './advance';
import { isActiveDeploy, type ServiceState } from './ledger';
import { pauseExpiredReason, pauseLimit } from './pause';
import { stepCount } from './weights';

/**
 * The watchdog: a deploy that has not finished by its expected duration plus a margin is rolled
 * back, so nothing can stay "in progress" forever (a lost event, a stuck step).
 */
export function deadlineTimer(ctx: Pick<StepContext, 'cfg'>, state: ServiceState): DomainEvent {
  const c = state.Request.Config;
  const expected = c.HealthTimeout + stepCount(c.TrafficShiftPerStep) * c.WaitPerStep + c.BakeTime;
  const deadline = Math.ceil(expected + ctx.cfg.deadlineMarginSeconds);
  return {
    DetailType: 'DeployDeadlinePassed',
    Detail: { AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName, DeployId: state.ActiveDeployId, Seq: 1, DeadlineSeconds: deadline },
    DelaySeconds: deadline,
  };
}

/** While the rollout stands still the watchdog looks again at least this far apart, so a long pause does not spin. */
const STANDING_RECHECK_SECONDS = 60;
/**
 * A pause past its limit is rolled back by its PauseTimeoutDue; the watchdog does it this long
 * after, in case that timer was lost (or never armed: a pause before 0.2 without PauseTimeout).
 */
export const PAUSE_BACKSTOP_SECONDS = 60;

export type DeadlineDecision =
  | { kind: 'drop' }
  | { kind: 'rearm'; delaySeconds: number; stoodSeconds: number }
  | { kind: 'rollback'; cause: 'deadline' | 'failure'; reason: string };

/**
 * Pure: what the watchdog does at `now` (epoch ms). Time the rollout stood still (paused, or a
 * step held for capacity) does not count against the deadline: it is re-armed for it. A pause
 * is bounded by its own limit instead (domain/pause.ts), so no deploy stands still forever.
 */
export function decideDeadline(state: ServiceState | undefined, d: Detail<'DeployDeadlinePassed'>, now: number, maxPauseSeconds: number): DeadlineDecision {
  if (!state || state.ActiveDeployId !== d.DeployId || !isActiveDeploy(state.Phase)) return { kind: 'drop' };
  const paused = state.Phase === 'Paused' ? state.Paused : undefined;
  const standing = paused ? now - Date.parse(paused.Since) : state.Progress?.HeldSince ? now - Date.parse(state.Progress.HeldSince) : 0;
  const stoodSeconds = (state.PausedSeconds ?? 0) + standing / 1000;
  const activeSeconds = (now - Date.parse(state.Request.StartedAt)) / 1000 - stoodSeconds;
  const remaining = d.DeadlineSeconds - activeSeconds;
  if (paused) {
    const limit = pauseLimit(state.Request.Config, maxPauseSeconds);
    const backstopIn = limit.seconds + PAUSE_BACKSTOP_SECONDS - standing / 1000;
    if (backstopIn <= 0) return { kind: 'rollback', cause: 'failure', reason: pauseExpiredReason(state.Progress?.Percent ?? 0, limit) };
    return { kind: 'rearm', delaySeconds: Math.ceil(Math.min(Math.max(remaining, STANDING_RECHECK_SECONDS), backstopIn)), stoodSeconds };
  }
  if (remaining > 1 || standing > 0) {
    return { kind: 'rearm', delaySeconds: Math.ceil(standing > 0 ? Math.max(remaining, STANDING_RECHECK_SECONDS) : remaining), stoodSeconds };
  }
  return { kind: 'rollback', cause: 'deadline', reason: `the deploy did not finish within its deadline of ${d.DeadlineSeconds} s (stuck in ${state.Phase})` };
}
