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
});

/** Count healthy instances again. */
export const HealthCheckDue = TimerRef.extend({ Attempt: z.number().int().positive() });

/** Move traffic to the next step. */
export const TrafficShiftDue = TimerRef.extend({ Step: z.number().int().positive() });
