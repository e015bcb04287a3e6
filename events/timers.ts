import { z } from 'zod';
import { AccountSlug, DeployId, ServiceName } from './names';

/**
 * Internal timer events. They travel on the bus like lifecycle events (source `deployomat`),
 * delivered late by an SQS delay or a Scheduler schedule, and are fenced by `Seq` like the rest.
 */
const TimerRef = z.object({
  DeployId,
  AccountCanonicalSlug: AccountSlug,
  ServiceName,
  Seq: z.number().int().nonnegative(),
  /** When the timer was due (ISO 8601). The next timer is counted from it, so delays do not accumulate. */
  DueAt: z.string().optional(),
});

/** Count healthy instances again. Carries the last count, so watchers can show progress. */
export const HealthCheckDue = TimerRef.extend({
  Attempt: z.number().int().positive(),
  Healthy: z.number().int().nonnegative(),
  Wanted: z.number().int().nonnegative(),
});

/** Move traffic to the next step. */
export const TrafficShiftDue = TimerRef.extend({ Step: z.number().int().positive() });

/** The drain period after traffic was restored has passed: the deploy's resources can go. */
export const DrainElapsed = TimerRef;

/** The deploy's deadline (expected duration plus a margin) has passed: roll it back if still running. */
export const DeployDeadlinePassed = TimerRef.extend({ DeadlineSeconds: z.number() });

/** During a bake with RollbackAlarms: check the alarms again; the bake ends at `BakeEndsAt`. */
export const BakeCheckDue = TimerRef.extend({ BakeEndsAt: z.string() });

/** A paused rollout was not resumed within its limit: roll it back if it is still paused. */
export const PauseTimeoutDue = TimerRef.extend({
  /** The limit, in seconds. */
  PauseTimeout: z.number(),
  /** Which one: the deploy's `PauseTimeout` (also when absent: timers armed before 0.2), or the installation's maximum pause. */
  Limit: z.enum(['PauseTimeout', 'MaxPause']).optional(),
});
