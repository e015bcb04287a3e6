import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  ResourceInUseException,
  TargetGroupNotFoundException,
  type ElasticLoadBalancingV2Client,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeployFailure } from '../errors';
import { elbTagsOfOne } from './elb-tags';
import { DEPLOY_ID_TAG, mergeTags, tagValue, type Tag } from './tags';

export async function describeTargetGroup(elb: ElasticLoadBalancingV2Client, arn: string): Promise<TargetGroup> {
  const out = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }));
  const tg = out.TargetGroups?.[0];
  if (!tg) throw new DeployFailure(`Target group ${arn} does not exist`);
  return tg;
}

async function findByName(elb: ElasticLoadBalancingV2Client, name: string): Promise<TargetGroup | undefined> {
  try {
    return (await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0];
  } catch (err) {
    if (err instanceof TargetGroupNotFoundException) return undefined;
    throw err;
  }
}

/**
 * Copies the template target group (settings, attributes such as deregistration delay,
 * stickiness and algorithm, and tags) under a new name. Adopts the group if this deploy
 * already created it; refuses one that belongs to someone else.
 */
export async function cloneTargetGroup(
  elb: ElasticLoadBalancingV2Client,
  args: { templateArn: string; name: string; deployId: string; tags: Tag[] },
): Promise<string> {
  const existing = await findByName(elb, args.name);
  if (existing?.TargetGroupArn) {
    const owner = tagValue(await elbTagsOfOne(elb, existing.TargetGroupArn), DEPLOY_ID_TAG);
    if (owner === args.deployId) return existing.TargetGroupArn;
    throw new DeployFailure(`Target group ${args.name} already exists and belongs to ${owner ? `deploy ${owner}` : 'something else'}`);
  }
  const t = await describeTargetGroup(elb, args.templateArn);
  const created = await elb.send(
    new CreateTargetGroupCommand({
      Name: args.name,
      Protocol: t.Protocol,
      ProtocolVersion: t.ProtocolVersion,
      Port: t.Port,
      VpcId: t.VpcId,
      TargetType: t.TargetType,
      IpAddressType: t.IpAddressType,
      HealthCheckEnabled: t.HealthCheckEnabled,
      HealthCheckProtocol: t.HealthCheckProtocol,
      HealthCheckPort: t.HealthCheckPort,
      HealthCheckPath: t.HealthCheckPath,
      HealthCheckIntervalSeconds: t.HealthCheckIntervalSeconds,
      HealthCheckTimeoutSeconds: t.HealthCheckTimeoutSeconds,
      HealthyThresholdCount: t.HealthyThresholdCount,
      UnhealthyThresholdCount: t.UnhealthyThresholdCount,
      Matcher: t.Matcher,
      Tags: mergeTags(await elbTagsOfOne(elb, args.templateArn), args.tags),
    }),
  );
  const arn = created.TargetGroups?.[0]?.TargetGroupArn;
  if (!arn) throw new Error(`CreateTargetGroup ${args.name} returned no ARN`);
  const attrs = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: args.templateArn }));
  if (attrs.Attributes?.length) {
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: attrs.Attributes }));
  }
  return arn;
}

/** The target group named `name` if this deploy created it (by its deploy-id tag). */
export async function findOwnedTargetGroup(elb: ElasticLoadBalancingV2Client, name: string, deployId: string): Promise<string | undefined> {
  const tg = await findByName(elb, name);
  if (!tg?.TargetGroupArn) return undefined;
  return tagValue(await elbTagsOfOne(elb, tg.TargetGroupArn), DEPLOY_ID_TAG) === deployId ? tg.TargetGroupArn : undefined;
}

/**
 * ELB is eventually consistent: right after a rule stops forwarding to a group, DeleteTargetGroup
 * may still find the group in use (ResourceInUse) until the change has propagated.
 */
const IN_USE_BACKOFF_MS = [250, 500, 1000, 2000];

/** Deletes a target group; one that is already gone counts as deleted. */
export async function deleteTargetGroup(elb: ElasticLoadBalancingV2Client, arn: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
      return;
    } catch (err) {
      if (err instanceof TargetGroupNotFoundException) return;
      if (!(err instanceof ResourceInUseException) || attempt >= IN_USE_BACKOFF_MS.length) throw err;
      await new Promise((r) => setTimeout(r, IN_USE_BACKOFF_MS[attempt]));
    }
  }
}

export async function countHealthyTargets(elb: ElasticLoadBalancingV2Client, arn: string): Promise<number> {
  const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  return (out.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').length;
}
