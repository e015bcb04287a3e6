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
  /** The rejected request was a dry run (DeployConfig.DryRun). */
  DryRun: z.boolean().optional(),
  /** A dry run over the limit (DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS): when one may be planned again (ISO 8601). */
  RetryAt: z.string().optional(),
});

export const AsgCloned = DeployRef.extend({
  AmiId: z.string(),
  AsgName: z.string(),
  /** The new target groups, one per template target group (empty for a non-web service). */
  TargetGroupArns: z.array(z.string()),
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
  /** Share of traffic on the new target groups after this step, as configured on every rule. */
  Percent: z.number().int().min(0).max(100),
  /** The share the load balancer reports after the change (read back; the lowest over the rules). */
  ActualPercent: z.number().min(0).max(100),
  /** Each live rule's share on the new target groups, as read back. */
  RuleWeights: z.array(z.object({ RuleArn: z.string(), NewPercent: z.number() })),
  /** The new group's healthy targets, and how many this step's share of traffic needs. */
  Healthy: z.number().int().nonnegative().optional(),
  Needed: z.number().int().nonnegative().optional(),
});

/**
 * A traffic step waits: the new group has fewer healthy targets than the step's share of
 * production capacity needs. It is retried; past HealthTimeout of holding, the deploy rolls back.
 */
export const TrafficShiftHeld = DeployRef.extend({
  Step: z.number().int().positive(),
  Percent: z.number().int().min(0).max(100),
  Healthy: z.number().int().nonnegative(),
  Needed: z.number().int().nonnegative(),
  HeldSeconds: z.number().nonnegative(),
});

/** The rollout stands still (PauseRequested, or a PauseAtPercent step) until resumed or promoted. */
export const RolloutPaused = DeployRef.extend({
  /** The last traffic step applied (0: none yet), and the share it left on the new version. */
  Step: z.number().int().nonnegative(),
  Percent: z.number().int().min(0).max(100),
  By: z.enum(['request', 'PauseAtPercent']),
  Reason: z.string(),
  /** When it rolls back unless resumed (PauseTimeout, else the installation's maximum pause); absent only before 0.2. */
  RollbackAt: z.string().optional(),
});

export const RolloutResumed = DeployRef.extend({
  PausedSeconds: z.number().nonnegative(),
  Reason: z.string().optional(),
});

/** The remaining steps and the bake are skipped: the next step is 100 %, then the deploy finishes. */
export const RolloutPromoted = DeployRef.extend({
  FromPhase: z.string(),
  FromPercent: z.number().int().min(0).max(100),
  Reason: z.string().optional(),
});

/** A pause/resume/promote that could not apply (nothing deploying, wrong phase, another deploy). */
export const RolloutCommandRejected = z.object({
  Command: z.enum(['PauseRequested', 'ResumeRequested', 'PromoteRequested']),
  AccountCanonicalSlug: z.string().optional(),
  ServiceName: z.string().optional(),
  DeployId: z.string().optional(),
  Reasons: z.array(z.string()).min(1),
});

/**
 * A dry run's answer: everything the deploy would create or change, resolved by reading only.
 * Names carry the timestamp a deploy starting now would get.
 */
export const DeployPlanned = z.object({
  DeployId,
  AccountCanonicalSlug: AccountSlug,
  ServiceName,
  AmiId: z.string(),
  ResolvedAmiId: z.string(),
  Environment: z.string(),
  LaunchTemplate: z.object({
    LaunchTemplateId: z.string(),
    /** `create`: a new version with the AMI; `reuse`: an existing version (`$launchtemplate:`). */
    Action: z.enum(['create', 'reuse']),
    Version: z.number().int().optional(),
  }),
  AsgName: z.string(),
  MinSize: z.number().int(),
  MaxSize: z.number().int(),
  TargetGroups: z.array(z.object({ Template: z.string(), Name: z.string() })),
  Rules: z.array(
    z.object({
      ListenerArn: z.string(),
      ExemplarRuleArn: z.string(),
      Priority: z.number().int(),
      Action: z.enum(['shift', 'create']),
      LiveRuleArn: z.string().optional(),
      ProductionTargetGroupArn: z.string().optional(),
    }),
  ),
  Rollout: z.enum(['web', 'first-web', 'non-web']),
  Steps: z.number().int(),
  /** What serves now, and is deleted once the deploy completes. */
  ProductionAsgName: z.string().optional(),
  ProductionTargetGroupArns: z.array(z.string()),
  /** Production's min size while the deploy runs. */
  ProductionMinSizeDuringDeploy: z.number().int().optional(),
  RollbackAlarms: z.array(z.object({ Name: z.string(), State: z.string() })),
  AllowUndeploy: z.boolean(),
  /** Anything that would stop the deploy now (e.g. another deploy running): it would still be valid later. */
  Warnings: z.array(z.string()),
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

/**
 * The deploy failed and has been rolled back: production serves 100 % from the previous version
 * (or, on a first deploy, the service has nothing left). `Phase` is where it failed.
 */
export const DeployFailed = DeployRef.extend({
  Phase: z.string(),
  Errors: z.array(z.string()).min(1),
});

/** Why a rollback runs. */
export const RollbackCause = z.enum(['cancel', 'failure', 'superseded', 'deadline']);

/** A deploy is being rolled back: its own pending steps and timers are now stale. */
export const RollbackStarted = DeployRef.extend({
  Cause: RollbackCause,
  Reason: z.string(),
  /** The phase the deploy was in. */
  FromPhase: z.string(),
});

/** Every listener rule is back at 100 % on production (or deleted on a first deploy). */
export const TrafficRestored = DeployRef.extend({
  RestoredRuleArns: z.array(z.string()),
  DeletedRuleArns: z.array(z.string()),
  DrainSeconds: z.number(),
});

/** The deploy was cancelled (by request, or superseded by a newer deploy) and rolled back. */
export const DeployCancelled = DeployRef.extend({
  Reason: z.string(),
  FromPhase: z.string(),
  DurationSeconds: z.number(),
});

/** A rollback step gave up; the service needs attention. Publishing CancelRequested retries it. */
export const RollbackFailed = DeployRef.extend({
  Errors: z.array(z.string()).min(1),
});

/** Nothing to cancel, or the request was invalid. */
export const CancelRejected = z.object({
  AccountCanonicalSlug: z.string().optional(),
  ServiceName: z.string().optional(),
  Reasons: z.array(z.string()).min(1),
});

/**
 * A deploy waited for a rollback it caused (OnConcurrentDeploy: rollback); it may start now. It
 * runs only if the ledger released this DeployId with this very Request (domain/ledger.ts `Released`).
 */
export const QueuedDeployReady = z.object({
  DeployId,
  Request: z.record(z.string(), z.unknown()),
});

/** An undeploy waited for a rollback it caused; it may start now (only if the ledger released this UndeployId and Request). */
export const QueuedUndeployReady = z.object({
  UndeployId: DeployId,
  Request: z.record(z.string(), z.unknown()),
});

export const UndeployRejected = z.object({
  UndeployId: z.string().optional(),
  AccountCanonicalSlug: z.string().optional(),
  ServiceName: z.string().optional(),
  Reasons: z.array(z.string()).min(1),
});

export const UndeployCompleted = z.object({
  UndeployId: DeployId,
  AccountCanonicalSlug: AccountSlug,
  ServiceName,
  AsgName: z.string(),
  DeletedTargetGroupArns: z.array(z.string()),
  DeletedRuleArns: z.array(z.string()),
  DurationSeconds: z.number(),
});

export const UndeployFailed = z.object({
  UndeployId: DeployId,
  AccountCanonicalSlug: AccountSlug,
  ServiceName,
  Errors: z.array(z.string()).min(1),
});
