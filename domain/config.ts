import { z } from 'zod';
import { ConfigError } from './errors';

/** In `DEPLOYOMAT_AMI_OWNERS`: the account Deployomat runs in (read from its bus ARN). */
export const INSTALLATION_ACCOUNT_OWNER = 'deployomat-account';

/**
 * The AMI owners when none are configured, here and in the CDK construct (`amiOwners`): the
 * workload account, and Deployomat's own account — where the original's `$name-prefix:` looks by
 * default (its `ami_owner_account_ids` defaults to the account it is installed in), since AMIs are
 * usually built there and shared with the workload accounts.
 */
export const DEFAULT_AMI_OWNERS: readonly string[] = ['self', INSTALLATION_ACCOUNT_OWNER];

/** `sts:ExternalId` values STS accepts: 2-1224 characters of `[\w+=,.@:/-]`. */
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

/** The handlers' configuration, from environment variables set by the CDK stack or the local runtime. */
const Env = z.object({
  DEPLOYOMAT_BUS_NAME: z.string().min(1),
  DEPLOYOMAT_TABLE_NAME: z.string().min(1),
  DEPLOYOMAT_TIMER_QUEUE_URL: z.string().min(1),
  /** The timer queue's ARN: long timers' schedules hand their event to it (domain/emit.ts). */
  DEPLOYOMAT_TIMER_QUEUE_ARN: z.string().min(1),
  DEPLOYOMAT_BUS_ARN: z.string().min(1),
  DEPLOYOMAT_SCHEDULE_GROUP: z.string().min(1),
  DEPLOYOMAT_SCHEDULER_ROLE_ARN: z.string().min(1),
  /** Role in the meta/config account that can read the SSM registry; unset = use own credentials. */
  DEPLOYOMAT_META_ROLE_ARN: z.string().min(1).optional(),
  /**
   * The installation's environment (e.g. `production`): passed as the transitive `Environment`
   * session tag when assuming the meta role, which scopes what it may read by it.
   */
  DEPLOYOMAT_ENVIRONMENT: z.string().min(1).optional(),
  /**
   * The external id the handlers pass when they assume the meta and workload roles (the original's
   * `ROLE_EXTERNAL_ID`), for roles whose trust requires one (`externalId` of MetaAccessRole and
   * DeployAccessRole). Unset: none is passed.
   */
  DEPLOYOMAT_ROLE_EXTERNAL_ID: z.string().regex(EXTERNAL_ID_PATTERN).optional(),
  /** The name under which workload roles are registered and resources are tagged `Managed`. */
  DEPLOYOMAT_SERVICE_NAME: z.string().min(1).default('deployomat'),
  /**
   * Owners an AMI must have to be deployed, explicit ids included, and those searched by
   * `$name-prefix:` (comma-separated: account ids, `self` = the workload account, `amazon`,
   * `deployomat-account` = the account Deployomat runs in).
   */
  DEPLOYOMAT_AMI_OWNERS: z.string().min(1).default(DEFAULT_AMI_OWNERS.join(',')),
  /**
   * `true`: a service's launch template and instance roles must carry its owner tag
   * (`DeployomatService=<account slug>/<service>`), checked before a deploy creates anything.
   * `false`: any instance role under `/<org>/service-role/` and any launch template, as the original.
   */
  DEPLOYOMAT_REQUIRE_OWNER_TAGS: z.enum(['true', 'false']).default('true'),
  /** Seconds between health counts while waiting for new instances. */
  DEPLOYOMAT_HEALTH_CHECK_INTERVAL: z.coerce.number().positive().default(15),
  /** Seconds between alarm checks during a bake with RollbackAlarms (traffic steps check before each step). */
  DEPLOYOMAT_ALARM_CHECK_INTERVAL: z.coerce.number().positive().default(30),
  /** Seconds to let in-flight requests drain after traffic is restored, before deleting a rolled-back deploy. */
  DEPLOYOMAT_DRAIN_SECONDS: z.coerce.number().nonnegative().default(15),
  /** Slack added to a deploy's expected duration before the watchdog rolls it back. */
  DEPLOYOMAT_DEADLINE_MARGIN_SECONDS: z.coerce.number().nonnegative().default(600),
  /**
   * A long timer's schedule fires this many seconds before the due time and hands the event to
   * the timer queue, which waits out the rest precisely. Must exceed Scheduler's 60 s precision.
   */
  DEPLOYOMAT_SCHEDULER_LEAD_SECONDS: z.coerce.number().int().positive().max(600).default(120),
  /** A failed message is retried after base × 2^(attempt−1) seconds (not the full visibility timeout). */
  DEPLOYOMAT_RETRY_BASE_SECONDS: z.coerce.number().int().positive().default(2),
  /**
   * At most one dry run per service is planned in this many seconds (0: no limit). Each one reads
   * the workload account, whose API quotas every team deploying there shares. Within the window an
   * identical request is dropped and any other is rejected with when to retry (domain/dry-run.ts).
   */
  DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS: z.coerce.number().nonnegative().max(3600).default(10),
  /**
   * A paused rollout without a PauseTimeout of its own rolls back after this many seconds, and a
   * longer PauseTimeout is rejected: a forgotten pause would hold a second fleet, and the service,
   * forever (domain/pause.ts).
   */
  DEPLOYOMAT_MAX_PAUSE_SECONDS: z.coerce.number().positive().max(365 * 86400).default(86400),
});

export interface Config {
  busName: string;
  busArn: string;
  tableName: string;
  timerQueueUrl: string;
  timerQueueArn: string;
  scheduleGroup: string;
  schedulerRoleArn: string;
  metaRoleArn?: string;
  environment?: string;
  roleExternalId?: string;
  serviceName: string;
  amiOwners: string[];
  requireOwnerTags: boolean;
  healthCheckIntervalSeconds: number;
  alarmCheckIntervalSeconds: number;
  drainSeconds: number;
  deadlineMarginSeconds: number;
  retryBaseSeconds: number;
  schedulerLeadSeconds: number;
  dryRunIntervalSeconds: number;
  maxPauseSeconds: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ConfigError(`Deployomat is misconfigured: check environment variable(s) ${missing}`);
  }
  const e = parsed.data;
  return {
    busName: e.DEPLOYOMAT_BUS_NAME,
    busArn: e.DEPLOYOMAT_BUS_ARN,
    tableName: e.DEPLOYOMAT_TABLE_NAME,
    timerQueueUrl: e.DEPLOYOMAT_TIMER_QUEUE_URL,
    timerQueueArn: e.DEPLOYOMAT_TIMER_QUEUE_ARN,
    scheduleGroup: e.DEPLOYOMAT_SCHEDULE_GROUP,
    schedulerRoleArn: e.DEPLOYOMAT_SCHEDULER_ROLE_ARN,
    metaRoleArn: e.DEPLOYOMAT_META_ROLE_ARN,
    environment: e.DEPLOYOMAT_ENVIRONMENT,
    roleExternalId: e.DEPLOYOMAT_ROLE_EXTERNAL_ID,
    serviceName: e.DEPLOYOMAT_SERVICE_NAME,
    amiOwners: e.DEPLOYOMAT_AMI_OWNERS.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((owner) => (owner === INSTALLATION_ACCOUNT_OWNER ? e.DEPLOYOMAT_BUS_ARN.split(':')[4] ?? owner : owner)),
    requireOwnerTags: e.DEPLOYOMAT_REQUIRE_OWNER_TAGS === 'true',
    healthCheckIntervalSeconds: e.DEPLOYOMAT_HEALTH_CHECK_INTERVAL,
    alarmCheckIntervalSeconds: e.DEPLOYOMAT_ALARM_CHECK_INTERVAL,
    drainSeconds: e.DEPLOYOMAT_DRAIN_SECONDS,
    deadlineMarginSeconds: e.DEPLOYOMAT_DEADLINE_MARGIN_SECONDS,
    retryBaseSeconds: e.DEPLOYOMAT_RETRY_BASE_SECONDS,
    schedulerLeadSeconds: e.DEPLOYOMAT_SCHEDULER_LEAD_SECONDS,
    dryRunIntervalSeconds: e.DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS,
    maxPauseSeconds: e.DEPLOYOMAT_MAX_PAUSE_SECONDS,
  };
}
