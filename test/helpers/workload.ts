import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { DescribeRulesCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { forwardTargets } from '../../domain/aws/listener-rules';
import { workloadClients } from '../../infra/local/seed';

/** Everything of a service in the workload account, to compare before/after and check leftovers. */
export interface ServiceSnapshot {
  /** Deploy ASGs (not the template), by name. */
  asgs: AutoScalingGroup[];
  targetGroups: string[];
  /** Rules on the listener other than the default, with their forward weights by target group name. */
  rules: { priority: string; forwards: { targetGroup: string; weight: number }[] }[];
  launchTemplate: { latest?: number; default?: number; versions: number };
}

export async function snapshotService(service: string, listenerArn: string, launchTemplateId: string): Promise<ServiceSnapshot> {
  const { autoscaling, elb, ec2 } = await workloadClients();
  const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
  const asgs = groups
    .filter((g) => g.AutoScalingGroupName?.startsWith(`${service}-`) && g.AutoScalingGroupName !== `${service}-template`)
    .sort((a, b) => a.AutoScalingGroupName!.localeCompare(b.AutoScalingGroupName!));
  const tgs = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  const nameOf = (arn: string) => tgs.find((t) => t.TargetGroupArn === arn)?.TargetGroupName ?? `missing:${arn}`;
  const targetGroups = tgs
    .map((t) => t.TargetGroupName!)
    .filter((n) => n.startsWith(`${service.slice(0, 15)}-`) && !n.endsWith('-template'))
    .sort();
  const rules = ((await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules ?? [])
    .filter((r) => !r.IsDefault)
    .map((r) => ({
      priority: r.Priority!,
      forwards: forwardTargets(r.Actions?.find((a) => a.Type === 'forward')).map((t) => ({ targetGroup: nameOf(t.arn), weight: t.weight })),
    }))
    .sort((a, b) => Number(a.priority) - Number(b.priority));
  const lt = (await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [launchTemplateId] }))).LaunchTemplates?.[0];
  const versions = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId }))).LaunchTemplateVersions ?? [];
  return {
    asgs,
    targetGroups,
    rules,
    launchTemplate: { latest: lt?.LatestVersionNumber, default: lt?.DefaultVersionNumber, versions: versions.length },
  };
}

/** The comparable part of a snapshot (ASG instance lists change as moto launches instances). */
export function shape(s: ServiceSnapshot) {
  return {
    asgs: s.asgs.map((g) => ({ name: g.AutoScalingGroupName, min: g.MinSize, max: g.MaxSize, tgs: g.TargetGroupARNs?.length ?? 0 })),
    targetGroups: s.targetGroups,
    rules: s.rules,
    launchTemplate: s.launchTemplate,
  };
}
