import type { Detail } from '../../events/catalog';
import { workloadAs } from '../aws/clients';
import { countHealthy } from '../gates';
import { dueAt, dueTimeOf } from '../emit';
import { refOf, runStep, type StepContext, type StepOutcome } from '../advance';
import { DeployFailure } from '../errors';
import type { ServiceState } from '../ledger';

/**
 * AsgCloned / HealthCheckDue → count healthy instances of the new group: healthy targets in all
 * its target groups (web) or InService + Healthy instances (non-web). Enough → InstancesHealthy;
 * not yet → check again after the interval; past HealthTimeout → the deploy fails.
 */
export async function checkHealth(ctx: StepContext, event: Detail<'AsgCloned'> | Detail<'HealthCheckDue'>, attempt: number) {
  await runStep(ctx, event, (state) => countAndDecide(ctx, state, event, attempt));
}

async function countAndDecide(ctx: StepContext, state: ServiceState, event: { Seq: number; DueAt?: string }, attempt: number): Promise<StepOutcome> {
  const plan = state.Plan!;
  const healthy = await countHealthy(await workloadAs(plan.RoleArn, state.ActiveDeployId, state, ctx.cfg.roleExternalId), plan);
  const ref = { AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName, DeployId: state.ActiveDeployId, Seq: event.Seq };
  const next = { ...refOf(ref), Seq: event.Seq + 1 };
  const waited = (Date.now() - Date.parse(state.Request.StartedAt)) / 1000;
  ctx.log.info('Counted healthy instances', { healthy, wanted: plan.MinSize, attempt });

  if (healthy >= plan.MinSize) {
    return {
      phase: plan.Rollout === 'web' ? 'Shifting' : 'Baking',
      history: { HealthyAt: new Date().toISOString() },
      emit: [{ DetailType: 'InstancesHealthy', Detail: { ...next, Healthy: healthy, Wanted: plan.MinSize, WaitedSeconds: Math.round(waited) } }],
    };
  }
  const remainingMs = Date.parse(plan.HealthDeadline) - Date.now();
  if (remainingMs <= 0) {
    throw new DeployFailure(
      `Only ${healthy} of ${plan.MinSize} instances of ${plan.AsgName} became healthy within HealthTimeout (${state.Request.Config.HealthTimeout} s)`,
    );
  }
  // Every interval from the previous check's due time; never past the deadline: the last check is at it.
  const due = Math.min(dueTimeOf(event) + ctx.cfg.healthCheckIntervalSeconds * 1000, Date.parse(plan.HealthDeadline));
  return {
    phase: 'WaitingHealthy',
    emit: [dueAt(due, { DetailType: 'HealthCheckDue', Detail: { ...next, Attempt: attempt + 1, Healthy: healthy, Wanted: plan.MinSize } })],
  };
}
