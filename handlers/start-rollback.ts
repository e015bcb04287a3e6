import { cancelDeploy, deadlinePassed } from '../domain/steps/rollback';
import { DeployDeadlinePassed } from '../events/timers';
import { envelopeHandler } from './sqs-handler';

/** CancelRequested / DeployDeadlinePassed → RollbackStarted (or CancelRejected). */
export const handler = envelopeHandler('start-rollback', async (envelope, ctx) => {
  if (envelope['detail-type'] === 'DeployDeadlinePassed') {
    const parsed = DeployDeadlinePassed.safeParse(envelope.detail);
    if (!parsed.success) {
      ctx.log.error('Dropping a DeployDeadlinePassed that does not match its schema', { issues: parsed.error.issues });
      return;
    }
    return deadlinePassed(ctx, parsed.data);
  }
  return cancelDeploy(ctx, envelope);
});
