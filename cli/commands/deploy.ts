import { hostname } from 'node:os';
import { DeployRequested } from '../../events/client';
import { DeployPlanned } from '../../events/lifecycle';
import { stripUnprintable } from '../../events/text';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { follow, withSubscription, type FollowEvent } from '../follow';
import { defined, KEY_FLAGS, toBoolean, toNumber, validate } from '../options';
import { DeployView, Renderer, renderPlan } from '../render';
import { followDeploy } from '../track';

export interface DeployOptions {
  account?: string;
  service?: string;
  ami?: string;
  bakeTime?: string;
  trafficShiftPerStep?: string;
  waitPerStep?: string;
  healthTimeout?: string;
  onConcurrentDeploy?: string;
  allowUndeploy?: string;
  automaticUndeployMinutes?: string;
  skipNotifications?: boolean;
  rollbackAlarm?: string[];
  alarmGracePeriod?: string;
  pauseAt?: string[];
  pauseTimeout?: string;
  dryRun?: boolean;
  deployId?: string;
  requestedBy?: string;
  wait?: boolean;
}

const FLAGS = {
  ...KEY_FLAGS,
  AmiId: '--ami',
  DeployId: '--deploy-id',
  RequestedBy: '--requested-by',
  'DeployConfig.BakeTime': '--bake-time',
  'DeployConfig.TrafficShiftPerStep': '--traffic-shift-per-step',
  'DeployConfig.WaitPerStep': '--wait-per-step',
  'DeployConfig.HealthTimeout': '--health-timeout',
  'DeployConfig.OnConcurrentDeploy': '--on-concurrent-deploy',
  'DeployConfig.AllowUndeploy': '--allow-undeploy',
  'DeployConfig.AutomaticUndeployMinutes': '--automatic-undeploy-minutes',
  'DeployConfig.SkipNotifications': '--skip-notifications',
  'DeployConfig.RollbackAlarms': '--rollback-alarm',
  'DeployConfig.AlarmGracePeriod': '--alarm-grace-period',
  'DeployConfig.PauseAtPercent': '--pause-at',
  'DeployConfig.PauseTimeout': '--pause-timeout',
  'DeployConfig.DryRun': '--dry-run',
};

/** `<service>-<yyyymmddThhmmss>-<4 random>` (UTC), within the DeployId charset and 64 characters. */
export function generateDeployId(service: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const random = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
  const head = service.replace(/[^A-Za-z0-9+=,.@_-]/g, '-').slice(0, 64 - stamp.length - random.length - 2) || 'deploy';
  return `${head}-${stamp}-${random}`;
}

/** Who is asking, for the history: CI's own identity where there is one, else user@host (printable, as the schema requires). */
export function requester(env: NodeJS.ProcessEnv = process.env): string {
  return stripUnprintable(describeRequester(env));
}

function describeRequester(env: NodeJS.ProcessEnv): string {
  if (env.GITHUB_ACTIONS) return `ci:github/${env.GITHUB_REPOSITORY ?? '?'}#${env.GITHUB_RUN_ID ?? '?'} (${env.GITHUB_ACTOR ?? '?'})`;
  if (env.GITLAB_CI) return `ci:gitlab/${env.CI_PROJECT_PATH ?? '?'}#${env.CI_PIPELINE_ID ?? '?'} (${env.GITLAB_USER_LOGIN ?? '?'})`;
  if (env.CI) return `ci:${env.CI_NAME ?? 'unknown'}`;
  return `${env.USER ?? env.USERNAME ?? 'someone'}@${hostname()} (deployomat CLI)`;
}

/** deploy: validate, publish DeployRequested with a generated id, print it; --wait follows it. */
export async function deploy(ctx: Context, o: DeployOptions): Promise<number> {
  const request = validate(
    DeployRequested,
    {
      AccountCanonicalSlug: o.account,
      ServiceName: o.service,
      AmiId: o.ami,
      DeployId: o.deployId ?? generateDeployId(o.service ?? 'deploy'),
      RequestedBy: o.requestedBy ?? requester(),
      DeployConfig: defined({
        BakeTime: toNumber(o.bakeTime),
        TrafficShiftPerStep: toNumber(o.trafficShiftPerStep),
        WaitPerStep: toNumber(o.waitPerStep),
        HealthTimeout: toNumber(o.healthTimeout),
        OnConcurrentDeploy: o.onConcurrentDeploy,
        AllowUndeploy: toBoolean(o.allowUndeploy),
        AutomaticUndeployMinutes: toNumber(o.automaticUndeployMinutes),
        SkipNotifications: o.skipNotifications || undefined,
        RollbackAlarms: o.rollbackAlarm?.length ? o.rollbackAlarm : undefined,
        AlarmGracePeriod: toNumber(o.alarmGracePeriod),
        PauseAtPercent: o.pauseAt?.length ? o.pauseAt.map((p) => toNumber(p)) : undefined,
        PauseTimeout: toNumber(o.pauseTimeout),
        DryRun: o.dryRun || undefined,
      }),
    },
    FLAGS,
  );
  const deployId = request.DeployId!;
  const publish = () => ctx.aws.publishCommand({ DetailType: 'DeployRequested', Detail: request });
  const key = { account: request.AccountCanonicalSlug, service: request.ServiceName };
  if (request.DeployConfig.DryRun) return dryRun(ctx, key, deployId, publish);

  if (!o.wait) {
    await publish();
    println(ctx.stdout, deployId);
    println(ctx.stderr, `Follow it with: deployomat watch ${deployId} --account ${request.AccountCanonicalSlug} --service ${request.ServiceName}`);
    return 0;
  }
  const renderer = new Renderer(ctx.stdout, new DeployView(deployId, request.DeployConfig.BakeTime));
  // Subscribed before publishing: not even the fastest rejection can be missed.
  return withSubscription(ctx.aws, key, ctx.stderr, async (sub) => {
    await publish();
    println(ctx.stdout, `deploy ${deployId}: ${request.AmiId} to ${request.ServiceName} in ${request.AccountCanonicalSlug}`);
    return followDeploy(ctx, sub, renderer, key, deployId);
  });
}

/**
 * deploy --dry-run: Deployomat resolves and plans by reading only and answers DeployPlanned (or
 * DeployRejected); nothing is created or changed. Always waits for that answer and prints the plan.
 */
async function dryRun(ctx: Context, key: { account: string; service: string }, deployId: string, publish: () => Promise<string>): Promise<number> {
  return withSubscription(ctx.aws, key, ctx.stderr, async (sub) => {
    await publish();
    let lines: string[] = [];
    const onEvent = (e: FollowEvent): number | undefined => {
      if (e.detail.DeployId !== deployId) return undefined; // other deploys of the service are not the answer
      if (e.detailType === 'DeployRejected') {
        // RetryAt: turned away by the dry-run limit before anything was looked at, not a verdict on the deploy.
        const verdict = typeof e.detail.RetryAt === 'string' ? 'was not planned' : 'was rejected (a deploy would be too; nothing was changed)';
        lines = [`dry run ${deployId} ${verdict}:`, ...(e.detail.Reasons as string[]).map((r) => `  - ${r}`)];
        return EXIT.failed;
      }
      if (e.detailType !== 'DeployPlanned') return undefined;
      const plan = DeployPlanned.safeParse(e.detail);
      if (plan.success) for (const line of renderPlan(plan.data)) println(ctx.stdout, line);
      else for (const line of JSON.stringify(e.detail, null, 2).split('\n')) println(ctx.stdout, line); // a newer Deployomat's plan: shown as is
      return EXIT.ok;
    };
    const code = await follow(sub, { onEvent });
    for (const line of lines) println(ctx.stderr, line);
    return code;
  });
}
