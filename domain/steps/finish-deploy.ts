import type { Detail } from '../../events/catalog';
import { deleteAsg, setMinSize } from '../aws/auto-scaling';
import { workloadAs } from '../aws/clients';
import { setDefaultVersion } from '../aws/launch-template';
import { deleteTargetGroup } from '../aws/target-groups';
import { refOf, runStep, type Guard, type StepContext, type StepOutcome } from '../advance';
import { withdrawTimer } from '../emit';
import type { ServiceState } from '../ledger';
import { clearAutomaticUndeploy, scheduleAutomaticUndeploy } from '../undeploy-schedule';
import { deadlineTimer } from '../deadline';
import { assertNoAlarms } from '../gates';

/**
 * BakeElapsed → the new group becomes production: its min size returns to the service's
 * (`<org>:min_size`, else the template's min size: domain/sizes.ts), the deployed launch template version becomes the default, the previous
 * production ASG and its target group are deleted, and the automatic undeploy is (re)scheduled
 * or removed → DeployCompleted.
 */
export async function finishDeploy(ctx: StepContext, event: Detail<'BakeElapsed'>) {
  await runStep(ctx, event, (state, guard) => finish(ctx, state, event.Seq, guard));
}

async function finish(ctx: StepContext, state: ServiceState, seq: number, guard: Guard): Promise<StepOutcome> {
  const plan = state.Plan!;
  const key = { AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName };
  const w = await workloadAs(plan.RoleArn, state.ActiveDeployId, state, ctx.cfg.roleExternalId);
  const { ec2, autoscaling, elb } = w;
  // The last look at the alarms before the previous version is deleted for good.
  await assertNoAlarms(w, state.Request.Config, 'At the end of the bake');
  await setMinSize(autoscaling, plan.AsgName, plan.SteadyMinSize);
  await setDefaultVersion(ec2, plan.LaunchTemplateId, plan.LaunchTemplateVersion);
  // Past this point production is gone: never do it for a deploy that was cancelled meanwhile.
  await guard();
  if (plan.ProductionAsgName) await deleteAsg(autoscaling, plan.ProductionAsgName);
  for (const arn of plan.ProductionTargetGroupArns) await deleteTargetGroup(elb, arn);
  await withdrawTimer(ctx.cp, ctx.cfg, deadlineTimer(ctx, state));
  const minutes = state.Request.Config.AutomaticUndeployMinutes;
  if (minutes !== undefined && plan.AllowUndeploy) await scheduleAutomaticUndeploy(ctx.cp, ctx.cfg, key, minutes);
  else await clearAutomaticUndeploy(ctx.cp, ctx.cfg, key);

  const finishedAt = new Date();
  const duration = Math.round((finishedAt.getTime() - Date.parse(state.Request.StartedAt)) / 100) / 10;
  const ref = { ...key, DeployId: state.ActiveDeployId, Seq: seq };
  ctx.log.info('Deploy completed', { asg: plan.AsgName, previous: plan.ProductionAsgName, durationSeconds: duration });
  return {
    phase: 'Completed',
    set: { ProductionAsgName: plan.AsgName, DeployAsgName: '', UndeployState: plan.AllowUndeploy ? 'allow' : '' },
    history: { Result: 'Completed', FinishedAt: finishedAt.toISOString(), DurationSeconds: duration },
    emit: [
      {
        DetailType: 'DeployCompleted',
        Detail: {
          ...refOf(ref),
          Seq: seq + 1,
          AmiId: plan.ResolvedAmiId,
          AsgName: plan.AsgName,
          PreviousAsgName: plan.ProductionAsgName,
          DurationSeconds: duration,
        },
      },
    ],
  };
}
