import { hostname } from 'node:os';
import { DeployRequested } from '../../events/client';
import { println, type Context } from '../context';
import { withSubscription } from '../follow';
import { defined, KEY_FLAGS, toBoolean, toNumber, validate } from '../options';
import { DeployView, Renderer } from '../render';
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
};

/** `<service>-<yyyymmddThhmmss>-<4 random>` (UTC), within the DeployId charset and 64 characters. */
export function generateDeployId(service: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const random = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
  const head = service.replace(/[^A-Za-z0-9+=,.@_-]/g, '-').slice(0, 64 - stamp.length - random.length - 2) || 'deploy';
  return `${head}-${stamp}-${random}`;
}

/** Who is asking, for the history: CI's own identity where there is one, else user@host. */
export function requester(env: NodeJS.ProcessEnv = process.env): string {
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
      }),
    },
    FLAGS,
  );
  const deployId = request.DeployId!;
  const publish = () => ctx.aws.publishCommand({ DetailType: 'DeployRequested', Detail: request });

  if (!o.wait) {
    await publish();
    println(ctx.stdout, deployId);
    println(ctx.stderr, `Follow it with: deployomat watch ${deployId} --account ${request.AccountCanonicalSlug} --service ${request.ServiceName}`);
    return 0;
  }
  const key = { account: request.AccountCanonicalSlug, service: request.ServiceName };
  const renderer = new Renderer(ctx.stdout, new DeployView(deployId, request.DeployConfig.BakeTime));
  // Subscribed before publishing: not even the fastest rejection can be missed.
  return withSubscription(ctx.aws, key, ctx.stderr, async (sub) => {
    await publish();
    println(ctx.stdout, `deploy ${deployId}: ${request.AmiId} to ${request.ServiceName} in ${request.AccountCanonicalSlug}`);
    return followDeploy(ctx, sub, renderer, key, deployId);
  });
}
