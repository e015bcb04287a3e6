import type { Detail } from '../../events/catalog';
import { workloadAs } from '../aws/clients';
import { coalesceRule, setRuleWeights } from '../aws/listener-rules';
import { refOf, runStep, type Guard, type StepContext, type StepOutcome } from '../advance';
import type { ServiceState } from '../ledger';
import { dueAt, dueTimeOf } from '../emit';
import { percentAtStep } from '../weights';

/**
 * InstancesHealthy / TrafficShiftDue → set the absolute weights of `step` on every live rule →
 * TrafficShifted, and the next step after WaitPerStep. At 100 % the rules are coalesced onto the
 * new target group and the bake starts. First deploys and non-web services go straight to bake.
 */
export async function shiftTraffic(ctx: StepContext, event: Detail<'InstancesHealthy'> | Detail<'TrafficShiftDue'>, step: number) {
  await runStep(ctx, event, (state, guard) => shift(ctx, state, event.Seq, step, dueTimeOf('DueAt' in event ? event : {}), guard));
}

/** `due`: when this step was due; the next step and the bake are counted from it. */
async function shift(ctx: StepContext, state: ServiceState, seq: number, step: number, due: number, guard: Guard): Promise<StepOutcome> {
  const plan = state.Plan!;
  const config = state.Request.Config;
  const ref = { AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName, DeployId: state.ActiveDeployId, Seq: seq };
  const next = { ...refOf(ref), Seq: seq + 1 };
  const bake = dueAt(due + config.BakeTime * 1000, { DetailType: 'BakeElapsed', Detail: { ...next, BakeTime: config.BakeTime } });

  if (plan.Rollout !== 'web') {
    ctx.log.info('No gradual rollout for this deploy: baking', { rollout: plan.Rollout });
    return { phase: 'Baking', emit: [bake] };
  }

  const { elb } = await workloadAs(plan.RoleArn, state.ActiveDeployId);
  const percent = percentAtStep(step, config.TrafficShiftPerStep);
  for (const rule of plan.Rules) {
    await guard();
    if (percent === 100) await coalesceRule(elb, rule, plan.TargetGroupArn!);
    else await setRuleWeights(elb, rule, plan.TargetGroupArn!, percent);
  }
  ctx.log.info('Shifted traffic', { step, steps: plan.Steps, percent });
  const shifted = { DetailType: 'TrafficShifted', Detail: { ...next, Step: step, Steps: plan.Steps, Percent: percent } } as const;
  if (percent === 100) {
    return { phase: 'Baking', history: { ShiftedAt: new Date().toISOString() }, emit: [shifted, bake] };
  }
  return {
    phase: 'Shifting',
    emit: [shifted, dueAt(due + config.WaitPerStep * 1000, { DetailType: 'TrafficShiftDue', Detail: { ...next, Step: step + 1 } })],
  };
}
