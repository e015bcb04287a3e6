import { z } from 'zod';
import { AccountSlug, DeployId, ServiceName } from '../../events/names';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { withSubscription } from '../follow';
import { getDeploy, getService, heldOf, pausedOf, type ServiceKey } from '../ledger';
import { KEY_FLAGS, validate } from '../options';
import { DeployView, Renderer } from '../render';
import { followDeploy, historyOutcome } from '../track';

const WatchArgs = z.object({ AccountCanonicalSlug: AccountSlug, ServiceName, DeployId });

/** watch: follow a deploy that is already running (the same output as deploy --wait). */
export async function watch(ctx: Context, deployId: string, o: { account?: string; service?: string }): Promise<number> {
  const args = validate(WatchArgs, { AccountCanonicalSlug: o.account, ServiceName: o.service, DeployId: deployId }, { ...KEY_FLAGS, DeployId: 'DEPLOY_ID' });
  const key: ServiceKey = { account: args.AccountCanonicalSlug, service: args.ServiceName };

  // Subscribe first, then read the ledger: whatever happens after the read arrives as an event.
  return withSubscription(ctx.aws, key, ctx.stderr, async (sub) => {
    const [item, service] = await Promise.all([getDeploy(ctx.aws, key, deployId), getService(ctx.aws, key)]);
    const state = service?.ok ? service.state : undefined;
    const queued = state?.Waiting?.Id === deployId;
    if (!item && !queued) {
      println(ctx.stderr, `No deploy ${deployId} of ${key.service} in ${key.account} in the ledger (see deployomat history; a deploy started a moment ago may not be recorded yet).`);
      return EXIT.failed;
    }
    const finished = historyOutcome(item, deployId);
    if (finished) {
      println(ctx.stdout, `deploy ${deployId} already ended: ${String(item?.Result)} (finished ${String(item?.FinishedAt ?? '?')})`);
      for (const line of finished.lines) println(ctx.stderr, line);
      return finished.code;
    }

    const config = (item?.Config ?? {}) as { BakeTime?: number };
    const view = new DeployView(deployId, config.BakeTime);
    const holding = state?.ActiveDeployId === deployId ? state : undefined;
    view.phase = queued ? 'Queued' : holding ? holding.Phase : String(item?.Phase ?? 'Unknown');
    view.rollout = holding?.Plan?.Rollout;
    view.promoted = Boolean(holding?.Promoted);
    if (holding?.Progress && view.rollout && view.rollout !== 'non-web') view.percent = holding.Progress.Percent;
    if (view.phase === 'Baking') {
      const ends = Date.parse(holding?.Progress?.BakeEndsAt ?? '');
      const since = Date.parse(String(item?.ShiftedAt ?? item?.HealthyAt ?? ''));
      if (!Number.isNaN(ends)) view.bakeUntil = ends;
      else if (!Number.isNaN(since) && config.BakeTime !== undefined) view.bakeUntil = since + config.BakeTime * 1000;
      if (view.rollout && view.rollout !== 'non-web') view.percent = 100;
    }
    const paused = holding && pausedOf(holding);
    if (paused) {
      view.phase = holding.Paused!.FromPhase; // what resuming continues with
      if (view.phase === 'Baking' && holding.Paused!.BakeRemainingMs !== undefined) view.bakeUntil = Date.now() + holding.Paused!.BakeRemainingMs;
      view.pause(paused);
    }
    view.held = holding && heldOf(holding);
    const renderer = new Renderer(ctx.stdout, view);
    const ami = item?.ResolvedAmiId && item.ResolvedAmiId !== item.AmiId ? `${String(item.AmiId)} (${String(item.ResolvedAmiId)})` : String(item?.AmiId ?? '?');
    renderer.line(
      queued
        ? `deploy ${deployId} is queued behind the rollback of ${state?.ActiveDeployId}`
        : `deploy ${deployId} of ${ami}, started ${String(item?.StartedAt ?? '?')}: now ${view.phase}`,
    );
    const standing = view.pausedStatus() ?? view.heldStatus();
    if (standing) renderer.line(standing);
    return followDeploy(ctx, sub, renderer, key, deployId);
  });
}
