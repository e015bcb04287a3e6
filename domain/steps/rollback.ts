import type { Detail } from '../../events/catalog';
import { CancelRequested, parseCommand } from '../../events/client';
import type { EventEnvelope } from '../../events/envelope';
import { publish } from '../../events/publish';
import { deleteOwnedAsg, describeAsg, setMinSize } from '../aws/auto-scaling';
import { workloadAs, type WorkloadClients } from '../aws/clients';
import { restoreRules, ruleCreatedBy } from '../aws/listener-rules';
import { deleteTargetGroup, findOwnedTargetGroup } from '../aws/target-groups';
import { interrupt, refOf, runStep, type StepContext, type StepOutcome } from '../advance';
import { deadlineTimer, decideDeadline } from '../deadline';
import { pauseExpiredReason } from '../pause';
import { dueAt, emit, withdrawTimer } from '../emit';
import { isActiveDeploy, withRelease, type ServiceState } from '../ledger';
import { asgName, MAX_TARGET_GROUPS, targetGroupName } from '../naming';
import { echoFields } from './echo';
import { restoredMinSize, sizeTags } from '../sizes';

/**
 * Rollback (the original's cancel): the deploy is interrupted (its ledger position moves, so its
 * own pending steps and timers go stale), traffic goes back to production, and after a drain
 * period the deploy's ASG and target group are deleted and production's min size restored.
 * It ends with DeployCancelled (cancel, superseded) or DeployFailed (failure, deadline).
 */

/** CancelRequested → RollbackStarted (or CancelRejected when nothing is deploying). */
export async function cancelDeploy(ctx: StepContext, envelope: EventEnvelope): Promise<void> {
  const parsed = parseCommand(CancelRequested, envelope.detail);
  if (!parsed.ok) return rejectCancel(ctx, envelope.detail, parsed.reasons);
  const { AccountCanonicalSlug, ServiceName, Reason } = parsed.value;
  const key = { AccountCanonicalSlug, ServiceName };
  ctx.log.appendKeys({ account: AccountCanonicalSlug, serviceName: ServiceName });

  const state = await ctx.ledger.getService(key);
  if (state?.Commands?.includes(envelope.id) && state.OutboxCause !== envelope.id) {
    // A late duplicate of a cancel that was applied: the rollback (or a newer deploy) is not its business.
    ctx.log.info('Late duplicate of a cancel already applied: dropping it');
    return;
  }
  if (state?.OutboxCause === envelope.id) {
    // Redelivered after its rollback began (perhaps before its events went out): publish them again.
    ctx.log.info('Redelivered CancelRequested already handled: publishing its outcome again');
    await emit(ctx.cp, ctx.cfg, state.Outbox);
    return;
  }
  if (!state || !(isActiveDeploy(state.Phase) || state.Phase === 'RollingBack')) {
    return rejectCancel(ctx, envelope.detail, [`No deployment of ${ServiceName} in ${AccountCanonicalSlug} active`]);
  }
  ctx.log.appendKeys({ deployId: state.ActiveDeployId });
  // Cancelling a rollback that is already running restarts it: the way to retry a stuck one.
  const acted = await interrupt(ctx, key, state.ActiveDeployId, 'cancel', Reason ?? 'cancelled by request', { restart: true, commandId: envelope.id });
  if (!acted) return rejectCancel(ctx, envelope.detail, [`No deployment of ${ServiceName} in ${AccountCanonicalSlug} active`]);
}

/**
 * DeployDeadlinePassed → roll the deploy back if it is still running (domain/deadline.ts decides:
 * time it stood still does not count, and a pause past its limit is rolled back here too).
 */
export async function deadlinePassed(ctx: StepContext, d: Detail<'DeployDeadlinePassed'>): Promise<void> {
  const key = { AccountCanonicalSlug: d.AccountCanonicalSlug, ServiceName: d.ServiceName };
  const state = await ctx.ledger.getService(key);
  const decision = decideDeadline(state, d, Date.now(), ctx.cfg.maxPauseSeconds);
  switch (decision.kind) {
    case 'drop':
      ctx.log.info('Deadline passed for a deploy that is no longer running');
      return;
    case 'rearm':
      ctx.log.info('Deadline extended by the time the rollout stood still', { stoodSeconds: Math.round(decision.stoodSeconds), delay: decision.delaySeconds });
      await emit(ctx.cp, ctx.cfg, [
        { DetailType: 'DeployDeadlinePassed', Detail: { ...key, DeployId: d.DeployId, Seq: state!.Seq, DeadlineSeconds: d.DeadlineSeconds }, DelaySeconds: decision.delaySeconds },
      ]);
      return;
    case 'rollback':
      if (!(await interrupt(ctx, key, d.DeployId, decision.cause, decision.reason))) ctx.log.info('Deadline passed for a deploy that is no longer running');
      return;
  }
}

/** PauseTimeoutDue → a rollout still paused at that position rolls back (DeployFailed). */
export async function pauseTimedOut(ctx: StepContext, d: Detail<'PauseTimeoutDue'>): Promise<void> {
  const key = { AccountCanonicalSlug: d.AccountCanonicalSlug, ServiceName: d.ServiceName };
  const state = await ctx.ledger.getService(key);
  if (state?.ActiveDeployId !== d.DeployId || state.Seq !== d.Seq || state.Phase !== 'Paused') {
    ctx.log.info('Pause timeout of a rollout that is no longer paused there: dropping');
    return;
  }
  const reason = pauseExpiredReason(state.Progress?.Percent ?? 0, { seconds: d.PauseTimeout, by: d.Limit ?? 'PauseTimeout' });
  await interrupt(ctx, key, d.DeployId, 'failure', reason);
}

async function rejectCancel(ctx: StepContext, detail: unknown, reasons: string[]) {
  const { AccountCanonicalSlug, ServiceName } = echoFields(detail);
  ctx.log.warn('Cancel rejected', { reasons });
  await publish(ctx.cp.events, ctx.cfg.busName, [{ DetailType: 'CancelRejected', Detail: { AccountCanonicalSlug, ServiceName, Reasons: reasons } }]);
}

/**
 * The deploy's target groups, whether or not it got as far as recording them (clones are created
 * in order under deterministic names, so the first name not found ends the search).
 */
async function targetGroupsOf(w: WorkloadClients, state: ServiceState) {
  if (state.Plan) return state.Plan.TargetGroups;
  const found: { Arn: string; Production?: string }[] = [];
  for (let index = 0; index < MAX_TARGET_GROUPS; index++) {
    const arn = await findOwnedTargetGroup(w.elb, targetGroupName(state.ServiceName, state.Request.Timestamp, index), state.ActiveDeployId);
    if (!arn) break;
    found.push({ Arn: arn });
  }
  return found;
}

/** Every rule forwarding to one of the deploy's target groups goes back to production (or is deleted on a first deploy). */
async function restoreAll(w: WorkloadClients, state: ServiceState, groups: { Arn: string; Production?: string }[]) {
  if (!groups.length) return { restored: [], deleted: [] };
  const productionOf = new Map(groups.map((g) => [g.Arn, g.Production]));
  // Rules this deploy created (recorded in its plan, or tagged with its id if it stopped before the plan was written).
  const created = new Set((state.Plan?.Rules ?? []).filter((r) => !r.productionTargetGroupArn).map((r) => r.ruleArn));
  return restoreRules(w.elb, {
    listenerArns: state.Request.ListenerArns,
    deployingTargetGroupArns: groups.map((g) => g.Arn),
    productionOf: (arn) => productionOf.get(arn),
    createdByDeploy: async (ruleArn) => created.has(ruleArn) || (await ruleCreatedBy(w.elb, ruleArn, state.ActiveDeployId)),
    recordedCreated: [...created],
  });
}

/** RollbackStarted → every rule back on production → TrafficRestored, and the drain timer. */
export async function restoreTraffic(ctx: StepContext, d: Detail<'RollbackStarted'>): Promise<void> {
  await runStep(ctx, d, async (state): Promise<StepOutcome> => {
    const w = await workloadAs(state.Request.RoleArn, state.ActiveDeployId, state, ctx.cfg.roleExternalId);
    const groups = await targetGroupsOf(w, state);
    const result = await restoreAll(w, state, groups);
    // ALB rule changes take a moment everywhere, and requests in flight should finish first. A
    // deploy with target groups always drains: a retried step finds its rules already restored.
    const drain = groups.length || result.restored.length + result.deleted.length ? ctx.cfg.drainSeconds : 0;
    const next = { ...refOf(d), Seq: d.Seq + 1 };
    ctx.log.info('Traffic restored', { restored: result.restored.length, deleted: result.deleted.length, drain });
    return {
      phase: 'RollingBack',
      emit: [
        { DetailType: 'TrafficRestored', Detail: { ...next, RestoredRuleArns: result.restored, DeletedRuleArns: result.deleted, DrainSeconds: drain } },
        dueAt(Date.now() + drain * 1000, { DetailType: 'DrainElapsed', Detail: next }),
      ],
    };
  });
}

/**
 * DrainElapsed → restore the rules once more (a step that was mid-flight when the rollback began
 * may have re-weighted one), delete the deploy's ASG and target group, restore production's min
 * size → DeployCancelled / DeployFailed; wake a deploy or undeploy waiting for this rollback.
 */
export async function finishRollback(ctx: StepContext, d: Detail<'DrainElapsed'>): Promise<void> {
  await runStep(ctx, d, async (state): Promise<StepOutcome> => {
    const w = await workloadAs(state.Request.RoleArn, state.ActiveDeployId, state, ctx.cfg.roleExternalId);
    const groups = await targetGroupsOf(w, state);
    await restoreAll(w, state, groups);
    await deleteOwnedAsg(w.autoscaling, state.Plan?.AsgName ?? asgName(state.ServiceName, state.Request.Timestamp), state.ActiveDeployId, {
      created: Boolean(state.Plan?.AsgName),
      // The plan records the group once it exists, and a rollback starts after that.
      existedBy: state.Rollback ? new Date(state.Rollback.StartedAt) : undefined,
    });
    for (const group of groups) await deleteTargetGroup(w.elb, group.Arn);
    if (state.ProductionAsgName) {
      const production = await describeAsg(w.autoscaling, state.ProductionAsgName);
      const hold = state.ProductionHold?.AsgName === state.ProductionAsgName ? state.ProductionHold : undefined;
      const restored = production && restoredMinSize(sizeTags(production.Tags, state.Request.Org), hold?.MinSizeBefore);
      if (restored !== undefined) await setMinSize(w.autoscaling, state.ProductionAsgName, restored);
    }
    await withdrawTimer(ctx.cp, ctx.cfg, deadlineTimer(ctx, state));

    const rollback = state.Rollback!;
    const cancelled = rollback.Cause === 'cancel' || rollback.Cause === 'superseded';
    const finishedAt = new Date();
    const duration = Math.round((finishedAt.getTime() - Date.parse(state.Request.StartedAt)) / 100) / 10;
    const next = { ...refOf(d), Seq: d.Seq + 1 };
    const waiting = state.Waiting;
    ctx.log.info('Rollback finished', { cause: rollback.Cause, waiting: waiting?.Id });
    return {
      phase: cancelled ? 'Cancelled' : 'RolledBack',
      set: { DeployAsgName: '', ...(waiting ? { Released: withRelease(state, waiting) } : {}) },
      remove: waiting ? ['Waiting', 'LastError'] : ['LastError'],
      expectWaiting: waiting?.Id ?? null,
      history: { Result: cancelled ? 'Cancelled' : 'Failed', FinishedAt: finishedAt.toISOString(), DurationSeconds: duration },
      emit: [
        cancelled
          ? { DetailType: 'DeployCancelled', Detail: { ...next, Reason: rollback.Reason, FromPhase: rollback.FromPhase, DurationSeconds: duration } }
          : { DetailType: 'DeployFailed', Detail: { ...next, Phase: rollback.FromPhase, Errors: [rollback.Reason] } },
        ...(waiting?.Kind === 'deploy' ? [{ DetailType: 'QueuedDeployReady' as const, Detail: { DeployId: waiting.Id, Request: waiting.Request } }] : []),
        ...(waiting?.Kind === 'undeploy'
          ? [{ DetailType: 'QueuedUndeployReady' as const, Detail: { UndeployId: waiting.Id, Request: waiting.Request } }]
          : []),
      ],
    };
  });
}
