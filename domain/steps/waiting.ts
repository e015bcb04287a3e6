import { DeployConfig } from '../../events/client';
import { publish } from '../../events/publish';
import type { StepContext } from '../advance';
import type { ServiceKey, Waiting } from '../ledger';

/** A request that was waiting has been replaced by a newer one: it will never start. */
export async function supersedeWaiting(ctx: StepContext, key: ServiceKey, waiting: Waiting, by: string): Promise<void> {
  const why = `superseded by ${by} while waiting for a rollback`;
  if (waiting.Kind === 'undeploy') {
    await publish(ctx.cp.events, ctx.cfg.busName, [{ DetailType: 'UndeployRejected', Detail: { ...key, UndeployId: waiting.Id, Reasons: [why] } }]);
    return;
  }
  const r = waiting.Request as { AmiId?: string };
  await ctx.ledger.recordUnstarted(
    key,
    { DeployId: waiting.Id, AmiId: String(r.AmiId ?? ''), Config: DeployConfig.parse({}), StartedAt: new Date().toISOString(), Timestamp: '', RoleArn: '', Org: '', ListenerArns: [] },
    'Cancelled',
    { Result: 'Cancelled', CancelReason: why, FinishedAt: new Date().toISOString() },
  );
  await publish(ctx.cp.events, ctx.cfg.busName, [
    { DetailType: 'DeployCancelled', Detail: { ...key, DeployId: waiting.Id, Seq: 0, Reason: why, FromPhase: 'Waiting', DurationSeconds: 0 } },
  ]);
}

