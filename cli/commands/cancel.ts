import { CancelRequested } from '../../events/client';
import { isActiveDeploy } from '../../domain/ledger';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { follow, withSubscription, type FollowEvent } from '../follow';
import { getService } from '../ledger';
import { KEY_FLAGS, validate } from '../options';
import { Renderer } from '../render';

export interface CancelOptions {
  account?: string;
  service?: string;
  reason?: string;
  wait?: boolean;
}

/**
 * cancel: publish CancelRequested. --wait follows the rollback of the deploy that was running to
 * DeployCancelled (or DeployFailed), or stops at a CancelRejected for this service (it carries no
 * id: any that arrives after publishing is the answer).
 */
export async function cancel(ctx: Context, o: CancelOptions): Promise<number> {
  const request = validate(CancelRequested, { AccountCanonicalSlug: o.account, ServiceName: o.service, Reason: o.reason }, { ...KEY_FLAGS, Reason: '--reason' });
  const key = { account: request.AccountCanonicalSlug, service: request.ServiceName };
  // Best effort (the answer comes from Deployomat anyway): which deploy is running now.
  const service = await getService(ctx.aws, key).catch(() => undefined);
  const state = service?.ok ? service.state : undefined;
  let target = state && (isActiveDeploy(state.Phase) || state.Phase === 'RollingBack') ? state.ActiveDeployId : undefined;
  const what = target ? `deploy ${target} (${state!.Phase})` : `the running deploy of ${key.service} in ${key.account}`;
  const publish = () => ctx.aws.publishCommand({ DetailType: 'CancelRequested', Detail: request });

  if (!o.wait) {
    const eventId = await publish();
    println(ctx.stdout, `Cancel of ${what} requested (event ${eventId}).`);
    return EXIT.ok;
  }
  return withSubscription(ctx.aws, key, ctx.stderr, async (sub) => {
    const publishedAt = Date.now();
    const eventId = await publish();
    const renderer = new Renderer(ctx.stdout);
    renderer.line(`cancel of ${what} requested (event ${eventId})`);
    let failure: string[] = [];
    const onEvent = (e: FollowEvent): number | undefined => {
      renderer.event(e);
      const id = e.detail.DeployId;
      if (e.detailType === 'CancelRejected' && e.receivedAt >= publishedAt) {
        failure = ['cancel rejected:', ...((e.detail.Reasons as string[] | undefined) ?? []).map((r) => `  - ${r}`)];
        return EXIT.failed;
      }
      if (e.detailType === 'RollbackStarted' && e.detail.Cause === 'cancel' && (!target || id === target)) target = String(id);
      if (!target || id !== target) return undefined;
      if (e.detailType === 'DeployCancelled' || e.detailType === 'DeployFailed') return EXIT.ok;
      if (e.detailType === 'DeployCompleted') {
        failure = [`deploy ${target} completed before the cancel reached it`];
        return undefined; // the CancelRejected follows
      }
      if (e.detailType === 'RollbackFailed') {
        failure = [`the rollback of ${target} is stuck: run deployomat cancel again to retry it`, ...((e.detail.Errors as string[]) ?? []).map((r) => `  - ${r}`)];
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
