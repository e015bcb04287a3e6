import { z } from 'zod';
import { AccountSlug, DeployId, ServiceName } from './names';

/** Lifecycle events are published only by Deployomat's own roles, with source `deployomat`. */
export const LIFECYCLE_SOURCE = 'deployomat';

/**
 * Every choreography event names its deploy and its position in that deploy's ledger (`Seq`).
 * A handler acts only when the ledger is at that position, so duplicates and stale events
 * (a superseded deploy, an old timer) are dropped instead of acted on twice.
 */
const DeployRef = z.object({
  DeployId,
  AccountCanonicalSlug: AccountSlug,
  ServiceName,
  Seq: z.number().int().nonnegative(),
});

/** Bad input: nothing was changed. Fields are whatever could be read from the request. */
export const DeployRejected = z.object({
  DeployId: z.string().optional(),
  AccountCanonicalSlug: z.string().optional(),
  ServiceName: z.string().optional(),
  AmiId: z.string().optional(),
  Reasons: z.array(z.string()).min(1),
});

export const AsgCloned = DeployRef.extend({
  AmiId: z.string(),
  AsgName: z.string(),
  TargetGroupArn: z.string().optional(),
  LaunchTemplate: z.object({ LaunchTemplateId: z.string(), Version: z.number().int() }),
  MinSize: z.number().int(),
  MaxSize: z.number().int(),
  /** The ASG that serves production now; absent on a first deploy. */
  ProductionAsgName: z.string().optional(),
  /** `web` shifts traffic on listener rules; `first-web` and `non-web` go straight to bake. */
  Rollout: z.enum(['web', 'first-web', 'non-web']),
  RuleArns: z.array(z.string()),
});

export const InstancesHealthy = DeployRef.extend({
  Healthy: z.number().int(),
  Wanted: z.number().int(),
  WaitedSeconds: z.number(),
});

export const TrafficShifted = DeployRef.extend({
  Step: z.number().int().positive(),
  Steps: z.number().int().positive(),
  /** Share of traffic on the new target group after this step, on every rule. */
  Percent: z.number().int().min(0).max(100),
});

export const BakeElapsed = DeployRef.extend({
  BakeTime: z.number(),
  /** When the bake was due to end (ISO 8601). */
  DueAt: z.string().optional(),
});

export const DeployCompleted = DeployRef.extend({
  AmiId: z.string(),
  AsgName: z.string(),
  PreviousAsgName: z.string().optional(),
  DurationSeconds: z.number(),
});

export const DeployFailed = DeployRef.extend({
  Phase: z.string(),
  Errors: z.array(z.string()).min(1),
});
