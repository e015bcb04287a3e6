import {
  AlreadyExistsFault,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  DescribePoliciesCommand,
  DescribeWarmPoolCommand,
  EnableMetricsCollectionCommand,
  paginateDescribeAutoScalingGroups,
  PutScalingPolicyCommand,
  PutWarmPoolCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DeployFailure } from '../errors';
import { isDeployAsgName } from '../original';
import { DEPLOY_ID_TAG, MANAGED_TAG, mergeTags, tagValue, type Tag } from './tags';

export async function describeAsg(autoscaling: AutoScalingClient, name: string): Promise<AutoScalingGroup | undefined> {
  const out = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups?.[0];
}

/**
 * Deploy groups of `service` that the original Deployomat left running: named `<service>-<UTC
 * timestamp>` and tagged `Managed=<deployomat service name>` as it tags them, without the deploy
 * id every group of ours carries.
 */
export async function originalDeployGroups(autoscaling: AutoScalingClient, service: string, managed: string): Promise<AutoScalingGroup[]> {
  const found: AutoScalingGroup[] = [];
  for await (const page of paginateDescribeAutoScalingGroups({ client: autoscaling }, { Filters: [{ Name: `tag:${MANAGED_TAG}`, Values: [managed] }] })) {
    for (const g of page.AutoScalingGroups ?? []) {
      if (isDeployAsgName(service, g.AutoScalingGroupName ?? '') && tagValue(g.Tags, DEPLOY_ID_TAG) === undefined) found.push(g);
    }
  }
  return found;
}

export interface CloneAsgArgs {
  template: AutoScalingGroup;
  name: string;
  deployId: string;
  launchTemplateId: string;
  launchTemplateVersion: number;
  targetGroupArns: string[];
  minSize: number;
  maxSize: number;
  tags: Tag[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Clones the template ASG: subnets, service-linked role, lifecycle hooks, health checks,
 * lifetime, termination policies, tags, capacity type, placement group, then enabled metrics,
 * warm pool and scaling policies. Looks first: CreateAutoScalingGroup on an existing name is not
 * safe to repeat, so a retry adopts the group this deploy created and refuses anyone else's.
 */
export async function cloneAsg(autoscaling: AutoScalingClient, a: CloneAsgArgs): Promise<void> {
  const existing = await describeAsg(autoscaling, a.name);
  if (existing) {
    const owner = tagValue(existing.Tags, DEPLOY_ID_TAG);
    if (owner !== a.deployId) {
      throw new DeployFailure(`Auto Scaling group ${a.name} already exists and belongs to ${owner ? `deploy ${owner}` : 'something else'}`);
    }
  } else {
    await createWithRetry(autoscaling, a);
  }
  await copyAddOns(autoscaling, a.template.AutoScalingGroupName!, a.name, a.template);
}

async function createWithRetry(autoscaling: AutoScalingClient, a: CloneAsgArgs): Promise<void> {
  const t = a.template;
  const hooks = (await autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: t.AutoScalingGroupName })))
    .LifecycleHooks ?? [];
  const command = new CreateAutoScalingGroupCommand({
    AutoScalingGroupName: a.name,
    LaunchTemplate: { LaunchTemplateId: a.launchTemplateId, Version: String(a.launchTemplateVersion) },
    MinSize: a.minSize,
    MaxSize: a.maxSize,
    DesiredCapacity: a.minSize,
    VPCZoneIdentifier: t.VPCZoneIdentifier,
    AvailabilityZones: t.VPCZoneIdentifier ? undefined : t.AvailabilityZones,
    TargetGroupARNs: a.targetGroupArns.length ? a.targetGroupArns : undefined,
    HealthCheckType: t.HealthCheckType,
    HealthCheckGracePeriod: t.HealthCheckGracePeriod,
    MaxInstanceLifetime: t.MaxInstanceLifetime,
    TerminationPolicies: t.TerminationPolicies,
    ServiceLinkedRoleARN: t.ServiceLinkedRoleARN,
    PlacementGroup: t.PlacementGroup,
    DesiredCapacityType: t.DesiredCapacityType,
    DefaultCooldown: t.DefaultCooldown,
    DefaultInstanceWarmup: t.DefaultInstanceWarmup,
    CapacityRebalance: t.CapacityRebalance,
    NewInstancesProtectedFromScaleIn: t.NewInstancesProtectedFromScaleIn,
    LifecycleHookSpecificationList: hooks.map((h) => ({
      LifecycleHookName: h.LifecycleHookName!,
      LifecycleTransition: h.LifecycleTransition!,
      NotificationMetadata: h.NotificationMetadata,
      HeartbeatTimeout: h.HeartbeatTimeout,
      DefaultResult: h.DefaultResult,
      NotificationTargetARN: h.NotificationTargetARN,
      RoleARN: h.RoleARN,
    })),
    Tags: mergeTags(
      t.Tags?.map((tag) => ({ Key: tag.Key, Value: tag.Value })),
      a.tags,
    ).map((tag) => ({
      ...tag,
      PropagateAtLaunch: t.Tags?.find((x) => x.Key === tag.Key)?.PropagateAtLaunch ?? false,
    })),
  });
  // A just-created target group is eventually consistent: the original retried 3 times.
  for (let attempt = 1; ; attempt++) {
    try {
      await autoscaling.send(command);
      return;
    } catch (err) {
      if (err instanceof AlreadyExistsFault && attempt > 1) return; // our earlier attempt succeeded
      if (attempt >= 3 || !(err as { name?: string }).name?.includes('Validation')) throw err;
      await sleep(500 * 2 ** attempt);
    }
  }
}

async function copyAddOns(autoscaling: AutoScalingClient, from: string, to: string, template: AutoScalingGroup) {
  const metrics = (template.EnabledMetrics ?? []).map((m) => m.Metric!).filter(Boolean);
  if (metrics.length) {
    await autoscaling.send(
      new EnableMetricsCollectionCommand({
        AutoScalingGroupName: to,
        Metrics: metrics,
        Granularity: template.EnabledMetrics?.[0]?.Granularity ?? '1Minute',
      }),
    );
  }
  if (template.WarmPoolConfiguration) {
    const pool = (await autoscaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: from }))).WarmPoolConfiguration;
    if (pool) {
      await autoscaling.send(
        new PutWarmPoolCommand({
          AutoScalingGroupName: to,
          MaxGroupPreparedCapacity: pool.MaxGroupPreparedCapacity,
          MinSize: pool.MinSize,
          PoolState: pool.PoolState,
          InstanceReusePolicy: pool.InstanceReusePolicy,
        }),
      );
    }
  }
  const policies = (await autoscaling.send(new DescribePoliciesCommand({ AutoScalingGroupName: from }))).ScalingPolicies ?? [];
  for (const p of policies) {
    const targetTracking = p.PolicyType === 'TargetTrackingScaling';
    // PutScalingPolicy is an upsert keyed by name, so repeating it is safe.
    await autoscaling.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: to,
        PolicyName: p.PolicyName!,
        PolicyType: p.PolicyType,
        AdjustmentType: p.AdjustmentType,
        MinAdjustmentMagnitude: p.MinAdjustmentMagnitude,
        ScalingAdjustment: p.ScalingAdjustment,
        Cooldown: p.Cooldown,
        MetricAggregationType: p.MetricAggregationType,
        // Target tracking rejects step adjustments (AWS returns [] for them).
        StepAdjustments: targetTracking || !p.StepAdjustments?.length ? undefined : p.StepAdjustments,
        EstimatedInstanceWarmup: p.EstimatedInstanceWarmup,
        TargetTrackingConfiguration: p.TargetTrackingConfiguration,
        PredictiveScalingConfiguration: p.PolicyType === 'PredictiveScaling' ? p.PredictiveScalingConfiguration : undefined,
        Enabled: p.Enabled,
      }),
    );
  }
}

export function inServiceCount(asg: AutoScalingGroup | undefined): number {
  return (asg?.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length;
}

/**
 * The capacity production serves with now: its desired capacity (what scaling asked for), or its
 * in-service count if more instances are running than that.
 */
export function productionCapacity(asg: AutoScalingGroup | undefined): number {
  return Math.max(asg?.DesiredCapacity ?? 0, inServiceCount(asg));
}

export function healthyInServiceCount(asg: AutoScalingGroup | undefined): number {
  return (asg?.Instances ?? []).filter((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy').length;
}

/** Sets the min size (and raises desired capacity with it, as AWS requires desired ≥ min). */
export async function setMinSize(autoscaling: AutoScalingClient, name: string, minSize: number): Promise<void> {
  await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: minSize }));
}

/**
 * Auto Scaling reads are eventually consistent: a group created a moment ago may not be listed
 * yet. A group known to exist is looked for again, with backoff, before it counts as gone.
 */
const FIND_CREATED_BACKOFF_MS = [250, 500, 1000, 2000, 4000];
/** How long after its creation a group may still be unlisted, as far as the backoff above looks. */
const FIND_CREATED_WINDOW_MS = FIND_CREATED_BACKOFF_MS.reduce((a, b) => a + b, 0);

/**
 * Deletes the group named `name` only if this deploy created it (by its deploy-id tag).
 * `created`: the deploy recorded creating it, so a group not found yet is looked for again.
 * `existedBy`: when the group existed at the latest (e.g. when the rollback started, after the
 * plan recorded it): a read made longer than the backoff after that is as late as the backoff's
 * last, so the group is not looked for again (a retried rollback, whose earlier attempt deleted
 * it, would otherwise wait out the whole backoff on every attempt).
 */
export async function deleteOwnedAsg(
  autoscaling: AutoScalingClient,
  name: string,
  deployId: string,
  opts: { created?: boolean; existedBy?: Date } = {},
): Promise<boolean> {
  const oldEnough = (readAt: number) => opts.existedBy !== undefined && readAt - opts.existedBy.getTime() >= FIND_CREATED_WINDOW_MS;
  let readAt = Date.now();
  let asg = await describeAsg(autoscaling, name);
  for (const ms of opts.created ? FIND_CREATED_BACKOFF_MS : []) {
    if (asg || oldEnough(readAt)) break;
    await sleep(ms);
    readAt = Date.now();
    asg = await describeAsg(autoscaling, name);
  }
  if (!asg || tagValue(asg.Tags, DEPLOY_ID_TAG) !== deployId) return false;
  await deleteAsg(autoscaling, name);
  return true;
}

/** Deletes a group and its instances; a group that is already gone counts as deleted. */
export async function deleteAsg(autoscaling: AutoScalingClient, name: string): Promise<void> {
  try {
    await autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }));
  } catch (err) {
    if ((err as { name?: string; message?: string }).message?.includes('not found')) return;
    throw err;
  }
}
