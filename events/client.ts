import { z } from 'zod';
import { parseAmiCommand } from './ami-command';
import { AccountSlug, DeployId, ServiceName } from './names';
import { printableText, stripUnprintable } from './text';

/** Client commands are published by deployers with source `deployomat.client`. */
export const CLIENT_SOURCE = 'deployomat.client';

const WEEK_SECONDS = 7 * 24 * 3600;
const seconds = (max = WEEK_SECONDS) =>
  z
    .number({ error: 'must be a number of seconds' })
    .finite('must be a finite number')
    .nonnegative('must not be negative')
    .max(max, `must be at most ${max} seconds`)
    // DynamoDB cannot store magnitudes below 1e-130; nobody means less than a millisecond.
    .refine((v) => !(v > 0 && v < 0.001), 'must be 0 or at least 0.001 seconds');

/** Every option of the original's `DeployConfig`, with the README's defaults. */
export const DeployConfig = z
  .object({
    BakeTime: seconds().default(60),
    TrafficShiftPerStep: z
      .number({ error: 'must be a number' })
      .int('must be a whole percentage')
      .min(1, 'must be between 1 and 100')
      .max(100, 'must be between 1 and 100')
      .default(5),
    WaitPerStep: seconds().default(15),
    HealthTimeout: seconds(24 * 3600).default(300),
    OnConcurrentDeploy: z.enum(['fail', 'rollback'], { error: 'must be "fail" or "rollback"' }).default('rollback'),
    /** Unset = true unless the account's environment is `production` (decided once the account is known). */
    AllowUndeploy: z.boolean({ error: 'must be true or false' }).optional(),
    AutomaticUndeployMinutes: z
      .number({ error: 'must be a number' })
      .int('must be a whole number of minutes')
      .positive('must be positive')
      .max(525600, 'must be at most 525600 (a year)')
      .optional(),
    SkipNotifications: z.boolean({ error: 'must be true or false' }).default(false),
    /**
     * CloudWatch alarms (names, in the workload account) that gate the rollout: checked before
     * every traffic step and through the bake; any in ALARM rolls the deploy back.
     */
    RollbackAlarms: z
      .array(z.string({ error: 'must be an alarm name' }).min(1, 'must not be empty').max(255, 'must be at most 255 characters'), {
        error: 'must be a list of CloudWatch alarm names',
      })
      .max(100, 'must list at most 100 alarms')
      .optional(),
    /** An alarm counts only once it has been in ALARM this long (a one-datapoint blip does not roll back). */
    AlarmGracePeriod: seconds(3600).optional(),
    /** Traffic percentages at which the rollout waits for ResumeRequested (after the first step reaching each). */
    PauseAtPercent: z
      .array(z.number({ error: 'must be a percentage' }).int('must be a whole percentage').min(1, 'must be between 1 and 99').max(99, 'must be between 1 and 99'), {
        error: 'must be a list of percentages',
      })
      .max(20, 'must list at most 20 percentages')
      .optional(),
    /**
     * A paused rollout rolls back after this long without ResumeRequested/PromoteRequested. Unset:
     * the installation's maximum pause; longer than it: rejected (domain/pause.ts).
     */
    PauseTimeout: seconds().optional(),
    /** Validate and resolve everything, report the plan as DeployPlanned, change nothing. */
    DryRun: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .strict();
export type DeployConfig = z.output<typeof DeployConfig>;

export const AmiId = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  const parsed = parseAmiCommand(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
});

/** The original deploy input, unchanged, plus an optional caller-chosen `DeployId`. */
export const DeployRequested = z
  .object({
    AccountCanonicalSlug: AccountSlug,
    ServiceName,
    AmiId,
    DeployConfig: DeployConfig.default(() => DeployConfig.parse({})),
    DeployId: DeployId.optional(),
    /**
     * Who or what asked (free text, e.g. `alice@laptop` or `ci:github/acme/shop#412`), kept in the
     * deploy's history. EventBridge does not tell subscribers who published an event.
     */
    RequestedBy: printableText(200).min(1, 'must not be empty').optional(),
  })
  .strict();
export type DeployRequested = z.output<typeof DeployRequested>;
export type DeployRequestedInput = z.input<typeof DeployRequested>;

/** The original cancel input, plus an optional reason that ends up in DeployCancelled. */
export const CancelRequested = z
  .object({
    AccountCanonicalSlug: AccountSlug,
    ServiceName,
    Reason: printableText(500).optional(),
  })
  .strict();
export type CancelRequested = z.output<typeof CancelRequested>;

export const UndeployConfig = z
  .object({
    /** What to do if a deploy is in progress: `fail` (default) or `rollback` it first. */
    OnConcurrentDeploy: z.enum(['fail', 'rollback'], { error: 'must be "fail" or "rollback"' }).default('fail'),
  })
  .strict();

/** The original undeploy input. */
export const UndeployRequested = z
  .object({
    AccountCanonicalSlug: AccountSlug,
    ServiceName,
    UndeployConfig: UndeployConfig.default(() => UndeployConfig.parse({})),
  })
  .strict();
export type UndeployRequested = z.output<typeof UndeployRequested>;

/**
 * Steering a running rollout (like Argo Rollouts): pause it where it is, resume it, or promote it
 * (skip the remaining steps and the bake). `DeployId`, if given, must be the running deploy: a
 * command meant for one deploy never steers the next.
 */
const RolloutCommand = z
  .object({
    AccountCanonicalSlug: AccountSlug,
    ServiceName,
    DeployId: DeployId.optional(),
    Reason: printableText(500).optional(),
  })
  .strict();
export const PauseRequested = RolloutCommand;
export const ResumeRequested = RolloutCommand;
export const PromoteRequested = RolloutCommand;
export type RolloutCommand = z.output<typeof RolloutCommand>;

/** Validates a client command's detail: the value, or every problem as a sentence. */
export function parseCommand<S extends z.ZodType>(schema: S, detail: unknown): { ok: true; value: z.output<S> } | { ok: false; reasons: string[] } {
  // reportInput keeps the offending value on each issue, which tells "missing" from "wrong type".
  const result = schema.safeParse(detail, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, reasons: describeIssues(result.error) };
}

/**
 * Validates a DeployRequested detail. Returns every problem at once, as sentences a deployer can
 * act on, so one rejected request tells them everything to fix.
 */
export function parseDeployRequested(detail: unknown) {
  return parseCommand(DeployRequested, detail);
}

/** Turns zod issues into sentences a deployer can act on: `DeployConfig.BakeTime: must not be negative`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      // A few names are enough to act on; a hostile request could carry thousands (events are ≤ 256 KB),
      // and names that would rewrite a terminal or reorder a Slack message (echoed in DeployRejected).
      const shown = issue.keys.slice(0, 10).map((k) => `"${stripUnprintable(k.slice(0, 64))}"`);
      const more = issue.keys.length > 10 ? ` and ${issue.keys.length - 10} more` : '';
      // The original Deployomat ignored them: say why this one does not (docs/MIGRATING.md).
      return `${path ? `${path}: ` : ''}unknown field(s) ${shown.join(', ')}${more} (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)`;
    }
    if (issue.code === 'invalid_type' && !path) return 'the event detail must be a JSON object';
    if (isMissing(issue)) return `${path} is required`;
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

/** Needs issues parsed with `reportInput: true` (see parseCommand). */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined;
}
