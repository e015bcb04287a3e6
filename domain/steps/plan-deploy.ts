import type { DetailInput } from '../../events/catalog';
import type { DeployRequested } from '../../events/client';
import { describeAsg, inServiceCount, productionCapacity } from '../aws/auto-scaling';
import { planRules } from '../aws/listener-rules';
import { isActiveDeploy, recordedProduction, type ServiceState } from '../ledger';
import { asgName, nextDeployTimestamp, targetGroupName } from '../naming';
import { deployMinSize, productionHoldSize, serviceSizes } from '../sizes';
import { stepCount } from '../weights';
import type { Resolved } from './start-deploy';

/**
 * The plan of a deploy, computed by reading only: the dry run's answer. It decides exactly as
 * the deploy's first step does (domain/steps/start-deploy.ts: cloneService), from the same
 * helpers, so a deploy started right after does what the plan says; the names carry the
 * timestamp of the request (a deploy started then would get it).
 */
export async function planDeploy(
  input: DeployRequested,
  deployId: string,
  r: Resolved,
  state: ServiceState | undefined,
  /** When the request was made: names are derived from it, so a redelivered request plans the same names. */
  requestedAt: Date,
): Promise<DetailInput<'DeployPlanned'>> {
  const { autoscaling, elb } = r.workload;
  const timestamp = nextDeployTimestamp(requestedAt, state?.Request.Timestamp);
  const templateTargetGroups = r.listeners.length ? (r.template.TargetGroupARNs ?? []) : [];
  const production = state?.ProductionAsgName ? await describeAsg(autoscaling, state.ProductionAsgName) : undefined;
  const sizes = serviceSizes(r.template, r.account.org);
  const changes = templateTargetGroups.length ? await planRules(elb, { listenerArns: r.listeners, templateTargetGroupArns: templateTargetGroups }) : [];
  const rollout = !templateTargetGroups.length ? 'non-web' : changes.some((c) => c.productionTargetGroupArn) ? 'web' : 'first-web';

  const warnings: string[] = [];
  if (state && isActiveDeploy(state.Phase)) {
    const policy = input.DeployConfig.OnConcurrentDeploy;
    warnings.push(
      `Deploy ${state.ActiveDeployId} is running (${state.Phase}): with OnConcurrentDeploy "${policy}" this deploy would ${policy === 'fail' ? 'fail' : 'roll it back first, then start'}`,
    );
  }
  if (state?.Phase === 'Undeploying') warnings.push(`The service is being undeployed (${state.ActiveDeployId}): this deploy would fail`);
  for (const alarm of r.alarms.filter((a) => a.state === 'ALARM')) {
    warnings.push(`Alarm "${alarm.name}" is in ALARM now: the deploy would roll back at its first traffic step`);
  }

  return {
    DeployId: deployId,
    AccountCanonicalSlug: input.AccountCanonicalSlug,
    ServiceName: input.ServiceName,
    AmiId: input.AmiId,
    ResolvedAmiId: r.amiId,
    Environment: r.account.environment,
    LaunchTemplate: {
      LaunchTemplateId: r.launchTemplateId,
      Action: r.existingVersion !== undefined ? 'reuse' : 'create',
      Version: r.existingVersion,
    },
    AsgName: asgName(input.ServiceName, timestamp),
    MinSize: deployMinSize(sizes, productionCapacity(production)),
    MaxSize: sizes.maxSize,
    TargetGroups: templateTargetGroups.map((template, index) => ({ Template: template, Name: targetGroupName(input.ServiceName, timestamp, index) })),
    Rules: changes.map((c) => ({
      ListenerArn: c.listenerArn,
      ExemplarRuleArn: c.exemplarRuleArn,
      Priority: c.priority,
      Action: c.action,
      LiveRuleArn: c.liveRuleArn,
      ProductionTargetGroupArn: c.productionTargetGroupArn,
    })),
    Rollout: rollout,
    Steps: rollout === 'web' ? stepCount(input.DeployConfig.TrafficShiftPerStep) : 0,
    ProductionAsgName: production?.AutoScalingGroupName,
    ProductionTargetGroupArns: production ? (recordedProduction(state)?.TargetGroupArns ?? []) : [],
    ProductionMinSizeDuringDeploy: production
      ? productionHoldSize(sizes, { inService: inServiceCount(production), minSizeBeforeHold: production.MinSize, maxSize: production.MaxSize })
      : undefined,
    RollbackAlarms: r.alarms.map((a) => ({ Name: a.name, State: a.state })),
    AllowUndeploy: r.allowUndeploy,
    Warnings: warnings,
  };
}
