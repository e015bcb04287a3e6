import { parseCommand, UndeployRequested } from '../../events/client';
import type { EventEnvelope } from '../../events/envelope';
import { QueuedUndeployReady } from '../../events/lifecycle';
import { publish } from '../../events/publish';
import { deleteAsg } from '../aws/auto-scaling';
import { workloadAs } from '../aws/clients';
import { deleteRecordedRules } from '../aws/listener-rules';
import { deleteTargetGroup } from '../aws/target-groups';
import { interrupt, runStep, type StepContext, type StepOutcome } from '../advance';
import { isActiveDeploy, isFinished, recordedProduction, wasReleased, type ServiceKey } from '../ledger';
import { clearAutomaticUndeploy } from '../undeploy-schedule';
import { echoFields } from './echo';
import { supersedeWaiting } from './waiting';

/**
 * UndeployRequested → delete everything of the service Deployomat manages, as the ledger recorded
 * it: production's listener rules (those still forwarding to its target groups only), the
 * production ASG and its target groups, the automatic-undeploy schedule; the service's ledger state is cleared → UndeployCompleted.
 * "Lift the safety, then press the button": allowed only if the last deploy allowed it.
 */
export async function startUndeploy(ctx: StepContext, envelope: EventEnvelope): Promise<void> {
  // An undeploy that waited for a rollback it caused arrives again as QueuedUndeployReady.
  const queued = envelope['detail-type'] === 'QueuedUndeployReady';
  if (queued && !QueuedUndeployReady.safeParse(envelope.detail).success) {
    ctx.log.error('Dropping a QueuedUndeployReady that does not match its schema');
    return;
  }
  const body = envelope.detail as { Request?: unknown; UndeployId?: string };
  const request = queued ? body.Request : envelope.detail;
  const parsed = parseCommand(UndeployRequested, request);
  const undeployId = queued && body.UndeployId ? body.UndeployId : envelope.id;
  if (!parsed.ok) return rejectUndeploy(ctx, request, undeployId, parsed.reasons);
  const input = parsed.value;
  const key: ServiceKey = { AccountCanonicalSlug: input.AccountCanonicalSlug, ServiceName: input.ServiceName };
  const where = `${key.ServiceName} in ${key.AccountCanonicalSlug}`;
  ctx.log.appendKeys({ deployId: undeployId, account: key.AccountCanonicalSlug, serviceName: key.ServiceName });

  for (let attempt = 1; attempt <= 5; attempt++) {
    const state = await ctx.ledger.getService(key);
    if (queued && !wasReleased(state, 'undeploy', undeployId, request)) {
      // Only the rollback that queued it publishes QueuedUndeployReady, with the request the ledger kept.
      ctx.log.error('Dropping a QueuedUndeployReady the ledger did not release (not this id, or not this request)', { released: state?.Released?.map((r) => r.Id) });
      return;
    }
    if (state?.ActiveDeployId === undeployId) return undeploy(ctx, key, undeployId);
    if (await ctx.ledger.getUndeploy(key, undeployId)) {
      ctx.log.info('Dropping UndeployRequested: this undeploy already ran');
      return;
    }
    if (state && (isActiveDeploy(state.Phase) || state.Phase === 'RollingBack')) {
      if (input.UndeployConfig.OnConcurrentDeploy === 'fail') {
        return rejectUndeploy(ctx, request, undeployId, [
          `A deploy (${state.ActiveDeployId}, ${state.Phase}) of ${where} is in progress; cancel it first or set UndeployConfig.OnConcurrentDeploy to "rollback"`,
        ]);
      }
      if (isActiveDeploy(state.Phase)) await interrupt(ctx, key, state.ActiveDeployId, 'superseded', `superseded by undeploy ${undeployId}`);
      const q = await ctx.ledger.enqueue(key, state.ActiveDeployId, { Kind: 'undeploy', Id: undeployId, Request: input });
      if (!q) continue;
      if (q.replaced) await supersedeWaiting(ctx, key, q.replaced, undeployId);
      ctx.log.info('Undeploy waiting for the running deploy to roll back', { holder: state.ActiveDeployId });
      return;
    }
    if (state?.Phase === 'Undeploying') {
      return rejectUndeploy(ctx, request, undeployId, [`${where} is already being undeployed (${state.ActiveDeployId})`]);
    }
    if (!state || !state.ProductionAsgName) {
      return rejectUndeploy(ctx, request, undeployId, [`Nothing to undeploy: ${where} has no production deploy`]);
    }
    if (state.UndeployState !== 'allow' && state.UndeployState !== 'undeploying') {
      return rejectUndeploy(ctx, request, undeployId, [
        `Undeploy of ${where} is not allowed: its last deploy (${state.Request.DeployId}) did not allow it (DeployConfig.AllowUndeploy is false, or the account's environment is production). Deploy with DeployConfig.AllowUndeploy: true first`,
      ]);
    }
    if (!recordedProduction(state)) {
      return rejectUndeploy(ctx, request, undeployId, [
        `The ledger does not record which target groups and rules are ${where}'s production (${state.ProductionAsgName}; its last deploy was rolled back before Deployomat 0.2 recorded them), and an undeploy deletes only what it records. Deploy ${key.ServiceName} once more, then undeploy`,
      ]);
    }
    if (isFinished(state.Phase) && (await ctx.ledger.takeForUndeploy(key, undeployId, envelope.id, input))) {
      return undeploy(ctx, key, undeployId);
    }
  }
  throw new Error(`Could not take ${where} for undeploy: its ledger kept changing`);
}

async function undeploy(ctx: StepContext, key: ServiceKey, undeployId: string) {
  await runStep(ctx, { ...key, DeployId: undeployId, Seq: 0 }, async (state): Promise<StepOutcome> => {
    // The last deploy recorded the workload role and listeners: no lookups needed.
    const w = await workloadAs(state.Request.RoleArn, undeployId, state, ctx.cfg.roleExternalId);
    // Only what the ledger recorded as production is deleted, never what happens to be attached now.
    const recorded = recordedProduction(state);
    const targetGroups = recorded?.TargetGroupArns ?? [];
    const rules = targetGroups.length
      ? await deleteRecordedRules(w.elb, { listenerArns: state.Request.ListenerArns, ruleArns: recorded!.RuleArns, targetGroupArns: targetGroups })
      : { deleted: [], kept: [] };
    if (rules.kept.length) ctx.log.warn('Left recorded rules that forward elsewhere now', { kept: rules.kept });
    const deletedRules = rules.deleted;
    await deleteAsg(w.autoscaling, state.ProductionAsgName);
    for (const arn of targetGroups) await deleteTargetGroup(w.elb, arn);
    await clearAutomaticUndeploy(ctx.cp, ctx.cfg, key);
    const startedAt = Date.parse(state.UpdatedAt);
    const duration = Math.round((Date.now() - startedAt) / 100) / 10;
    ctx.log.info('Undeployed', { asg: state.ProductionAsgName, targetGroups: targetGroups.length, rules: deletedRules.length });
    return {
      phase: 'Undeployed',
      set: { ProductionAsgName: '', DeployAsgName: '', UndeployState: '' },
      historyOf: 'undeploy',
      history: { Result: 'Completed', AsgName: state.ProductionAsgName, FinishedAt: new Date().toISOString() },
      emit: [
        {
          DetailType: 'UndeployCompleted',
          Detail: { ...key, UndeployId: undeployId, AsgName: state.ProductionAsgName, DeletedTargetGroupArns: targetGroups, DeletedRuleArns: deletedRules, DurationSeconds: duration },
        },
      ],
    };
  });
}

async function rejectUndeploy(ctx: StepContext, detail: unknown, undeployId: string, reasons: string[]) {
  const { AccountCanonicalSlug, ServiceName } = echoFields(detail);
  ctx.log.warn('Undeploy rejected', { reasons });
  await publish(ctx.cp.events, ctx.cfg.busName, [{ DetailType: 'UndeployRejected', Detail: { UndeployId: undeployId, AccountCanonicalSlug, ServiceName, Reasons: reasons } }]);
}
