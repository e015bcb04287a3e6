import type { SQSRecord } from 'aws-lambda';
import { EventEnvelope } from '../../events/envelope';
import { AccountSlug, ServiceName } from '../../events/names';
import { publish } from '../../events/publish';
import { interrupt, type StepContext } from '../advance';
import { isActiveDeploy } from '../ledger';

/** What a dead-lettered message was about. */
interface Subject {
  detailType: string;
  detail: Record<string, unknown>;
  eventId: string;
}

const ROLLOUT_COMMANDS = ['PauseRequested', 'ResumeRequested', 'PromoteRequested'] as const;
const isRolloutCommand = (type: string): type is (typeof ROLLOUT_COMMANDS)[number] => (ROLLOUT_COMMANDS as readonly string[]).includes(type);

/** A DLQ message is an EventBridge event (rule → queue) or a timer message (timer queue). */
function subjectOf(body: string): Subject | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const envelope = EventEnvelope.safeParse(json);
  if (envelope.success && typeof envelope.data.detail === 'object' && envelope.data.detail) {
    return { detailType: envelope.data['detail-type'], detail: envelope.data.detail as Record<string, unknown>, eventId: envelope.data.id };
  }
  const timer = json as { Event?: { DetailType?: string; Detail?: Record<string, unknown> } };
  if (timer.Event?.DetailType && timer.Event.Detail) return { detailType: timer.Event.DetailType, detail: timer.Event.Detail, eventId: '' };
  return undefined;
}

/**
 * A message that exhausted its retries must not leave a deploy hanging: the deploy it belongs to
 * is rolled back and ends with DeployFailed naming the step and its last error. A dead-lettered
 * rollback or undeploy step is reported (RollbackFailed / UndeployFailed) for an operator.
 */
export async function deadLetter(ctx: StepContext, record: SQSRecord): Promise<void> {
  const queue = record.eventSourceARN.split(':').pop() ?? '?';
  const subject = subjectOf(record.body);
  if (!subject) {
    ctx.log.error('Dead-lettered message is not a Deployomat event; leaving it alone', { queue, body: record.body.slice(0, 500) });
    return;
  }
  const d = subject.detail;
  // Only names that could be a service's: anything else never reached the ledger (and could not be published).
  const slug = AccountSlug.safeParse(d.AccountCanonicalSlug).success ? (d.AccountCanonicalSlug as string) : undefined;
  const service = ServiceName.safeParse(d.ServiceName).success ? (d.ServiceName as string) : undefined;
  const id = typeof d.DeployId === 'string' ? d.DeployId : typeof d.UndeployId === 'string' ? d.UndeployId : subject.eventId;
  ctx.log.appendKeys({ deployId: id, account: slug, serviceName: service, deadLetterQueue: queue });
  if (!slug || !service) {
    ctx.log.error('Dead-lettered event names no service; nothing to roll back', { detailType: subject.detailType });
    return;
  }
  const key = { AccountCanonicalSlug: slug, ServiceName: service };
  const state = await ctx.ledger.getService(key);
  const attempts = record.attributes.ApproximateReceiveCount;
  const reason = `${subject.detailType} could not be handled (dead-lettered from ${queue} after ${attempts} receives)${state?.LastError ? `: ${state.LastError}` : ''}`;

  if (isRolloutCommand(subject.detailType)) {
    // A pause/resume/promote that could not be applied must not roll the deploy back: say so.
    await publish(ctx.cp.events, ctx.cfg.busName, [
      {
        DetailType: 'RolloutCommandRejected',
        Detail: { ...key, Command: subject.detailType, DeployId: typeof d.DeployId === 'string' ? d.DeployId : undefined, Reasons: [`${reason}; publish it again to retry`] },
      },
    ]);
  } else if (state?.ActiveDeployId === id && isActiveDeploy(state.Phase)) {
    await interrupt(ctx, key, id, 'failure', reason);
  } else if (state?.ActiveDeployId === id && state.Phase === 'RollingBack') {
    await publish(ctx.cp.events, ctx.cfg.busName, [
      { DetailType: 'RollbackFailed', Detail: { ...key, DeployId: id, Seq: state.Seq, Errors: [`${reason}; publish CancelRequested to retry the rollback`] } },
    ]);
  } else if (state?.ActiveDeployId === id && state.Phase === 'Undeploying') {
    await publish(ctx.cp.events, ctx.cfg.busName, [
      { DetailType: 'UndeployFailed', Detail: { ...key, UndeployId: id, Errors: [`${reason}; publish UndeployRequested again to retry`] } },
    ]);
  } else if (subject.detailType === 'DeployRequested' && !(await ctx.ledger.getDeployment(key, id))) {
    // It never got as far as taking the service: nothing to undo, but the deployer must hear of it.
    await publish(ctx.cp.events, ctx.cfg.busName, [{ DetailType: 'DeployFailed', Detail: { ...key, DeployId: id, Seq: 0, Phase: 'Starting', Errors: [reason] } }]);
  } else {
    ctx.log.info('Dead-lettered event belongs to nothing in flight; dropping it', { detailType: subject.detailType, holder: state?.ActiveDeployId });
  }
}
