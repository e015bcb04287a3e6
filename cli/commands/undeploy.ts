import { UndeployRequested } from '../../events/client';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { follow, withSubscription, type FollowEvent } from '../follow';
import { KEY_FLAGS, defined, validate } from '../options';
import { Renderer } from '../render';

export interface UndeployOptions {
  account?: string;
  service?: string;
  onConcurrentDeploy?: string;
  wait?: boolean;
}

const FLAGS = { ...KEY_FLAGS, 'UndeployConfig.OnConcurrentDeploy': '--on-concurrent-deploy' };

/** undeploy: publish UndeployRequested; its EventBridge event id is the undeploy id. --wait follows it. */
export async function undeploy(ctx: Context, o: UndeployOptions): Promise<number> {
  const request = validate(
    UndeployRequested,
    { AccountCanonicalSlug: o.account, ServiceName: o.service, UndeployConfig: defined({ OnConcurrentDeploy: o.onConcurrentDeploy }) },
    FLAGS,
  );
  const key = { account: request.AccountCanonicalSlug, service: request.ServiceName };
  const publish = () => ctx.aws.publishCommand({ DetailType: 'UndeployRequested', Detail: request });

  if (!o.wait) {
    println(ctx.stdout, await publish());
    return EXIT.ok;
  }
  return withSubscription(ctx.aws, key, ctx.stderr, async (sub) => {
    const undeployId = await publish();
    const renderer = new Renderer(ctx.stdout);
    renderer.line(`undeploy ${undeployId} of ${key.service} in ${key.account} requested`);
    let failure: string[] = [];
    const onEvent = (e: FollowEvent): number | undefined => {
      renderer.event(e);
      if (e.detail.UndeployId !== undeployId) return undefined;
      if (e.detailType === 'UndeployCompleted') return EXIT.ok;
      if (e.detailType === 'UndeployRejected' || e.detailType === 'UndeployFailed') {
        const reasons = (e.detail.Reasons ?? e.detail.Errors ?? []) as string[];
        failure = [`undeploy ${undeployId} ${e.detailType === 'UndeployRejected' ? 'was rejected' : 'failed'}:`, ...reasons.map((r) => `  - ${r}`)];
        return EXIT.failed;
      }
      return undefined;
    };
    const code = await follow(sub, { onEvent });
    renderer.close();
    for (const line of code === EXIT.failed ? failure : []) println(ctx.stderr, line);
    return code;
  });
}
