import { cancelDeploy, deadlinePassed, pauseTimedOut } from '../domain/steps/rollback';
import { DeployDeadlinePassed, PauseTimeoutDue } from '../events/timers';
import { envelopeHandler } from './sqs-handler';

/** CancelRequested / DeployDeadlinePassed / PauseTimeoutDue → RollbackStarted (or CancelRejected). */
export const handler = envelopeHandler('start-rollback', async (envelope, ctx) => {
  const type = envelope['detail-type'];
  if (type === 'DeployDeadlinePassed' || type === 'PauseTimeoutDue') {
    const parsed = (type === 'DeployDeadlinePassed' ? DeployDeadlinePassed : PauseTimeoutDue).safeParse(envelope.detail);
    if (!parsed.success) {
      ctx.log.error(`Dropping a ${type} that does not match its schema`, { issues: parsed.error.issues });
      return;
    }
    return type === 'DeployDeadlinePassed'
      ? deadlinePassed(ctx, parsed.data as Parameters<typeof deadlinePassed>[1])
      : pauseTimedOut(ctx, parsed.data as Parameters<typeof pauseTimedOut>[1]);
  }
  return cancelDeploy(ctx, envelope);
});
