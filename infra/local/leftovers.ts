import { paginateDescribeAutoScalingGroups, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeTagsCommand, paginateDescribeTargetGroups } from '@aws-sdk/client-elastic-load-balancing-v2';
import { paginateListSchedules } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { controlPlaneClients } from '../../domain/aws/clients';
import { forwardTargets, listRules } from '../../domain/aws/listener-rules';
import { MANAGED_TAG, tagValue } from '../../domain/aws/tags';
import { isFinished, ServiceState } from '../../domain/ledger';
import { templateAsgName } from '../../domain/naming';
import { sizeTags } from '../../domain/sizes';
import { automaticUndeployName } from '../../domain/undeploy-schedule';
import { allPages } from './pages';
import type { LocalInstallation } from './provision';
import { ORG, workloadClients } from './seed';

/**
 * The leftover check (used by the demo and every rollback/cancel/undeploy test): everything Deployomat tagged
 * `Managed` in the workload account must be accounted for by the ledger, every service must be at
 * rest with its production ASG at its own min size, live rules must forward 100 % to production,
 * and no timer or dead letter may be left behind. Returns the problems found (none = clean).
 */
export async function findLeftovers(install: LocalInstallation, listenerArns: string[]): Promise<string[]> {
  const problems: string[] = [];
  const cp = controlPlaneClients();
  const items = await allPages(paginateScan({ client: cp.dynamo }, { TableName: install.tableName, ConsistentRead: true }), (p) => p.Items);
  const services = items.filter((i) => i.sk === 'SERVICE').map((i) => ServiceState.parse(i));
  const { autoscaling, elb } = await workloadClients();

  for (const s of services) {
    const name = `${s.AccountCanonicalSlug}/${s.ServiceName}`;
    if (!isFinished(s.Phase)) problems.push(`${name}: still in phase ${s.Phase}`);
    if (s.DeployAsgName) problems.push(`${name}: ledger still names a deploying ASG ${s.DeployAsgName}`);
    if (s.Waiting) problems.push(`${name}: request ${s.Waiting.Id} still waiting`);
  }
  const production = new Set(services.map((s) => s.ProductionAsgName).filter(Boolean));
  const serviceOf = new Map(services.map((s) => [s.ProductionAsgName, s.ServiceName]));

  const asgs: AutoScalingGroup[] = await allPages(paginateDescribeAutoScalingGroups({ client: autoscaling }, {}), (p) => p.AutoScalingGroups);
  const managedAsgs = asgs.filter((g) => tagValue(g.Tags, MANAGED_TAG));
  for (const g of managedAsgs) {
    if (!production.has(g.AutoScalingGroupName!)) {
      problems.push(`ASG ${g.AutoScalingGroupName} is not any service's production`);
      continue;
    }
    // At rest: its min_size tag, else its template's min size (no deploy raised or held it).
    const tagged = sizeTags(g.Tags, ORG).minSize;
    const template = asgs.find((t) => t.AutoScalingGroupName === templateAsgName(serviceOf.get(g.AutoScalingGroupName!) ?? ''));
    const min = tagged ?? template?.MinSize;
    if (g.MinSize !== min) {
      const source = tagged !== undefined ? `its ${ORG}:min_size` : `without ${ORG}:min_size, its template's min size`;
      problems.push(`ASG ${g.AutoScalingGroupName} has min size ${g.MinSize}, ${source} is ${min}`);
    }
  }
  for (const p of production) {
    if (!asgs.some((g) => g.AutoScalingGroupName === p)) problems.push(`production ASG ${p} is missing`);
  }
  const productionTgs = new Set(managedAsgs.filter((g) => production.has(g.AutoScalingGroupName!)).flatMap((g) => g.TargetGroupARNs ?? []));

  const tgs = await allPages(paginateDescribeTargetGroups({ client: elb }, {}), (p) => p.TargetGroups);
  const tgNames = new Map(tgs.map((t) => [t.TargetGroupArn!, t.TargetGroupName!]));
  for (let i = 0; i < tgs.length; i += 20) {
    const batch = tgs.slice(i, i + 20).map((t) => t.TargetGroupArn!);
    const tags = (await elb.send(new DescribeTagsCommand({ ResourceArns: batch }))).TagDescriptions ?? [];
    for (const d of tags) {
      if (tagValue(d.Tags, MANAGED_TAG) && !productionTgs.has(d.ResourceArn!)) {
        problems.push(`target group ${tgNames.get(d.ResourceArn!)} is not any production ASG's`);
      }
    }
  }

  for (const listenerArn of listenerArns) {
    const rules = await listRules(elb, listenerArn);
    for (const r of rules.filter((x) => !x.IsDefault)) {
      const targets = forwardTargets(r.Actions?.find((a) => a.Type === 'forward'));
      const missing = targets.filter((t) => !tgNames.has(t.arn));
      if (missing.length) problems.push(`rule ${r.Priority} forwards to a target group that no longer exists`);
      const toProduction = targets.filter((t) => productionTgs.has(t.arn));
      if (toProduction.length && (targets.length !== 1 || (targets[0]!.weight !== 100 && targets[0]!.weight !== 1))) {
        problems.push(`rule ${r.Priority} is not at 100 % on production: ${JSON.stringify(targets.map((t) => [tgNames.get(t.arn), t.weight]))}`);
      }
      if (Number(r.Priority) < 40000 && targets.length && !toProduction.length) {
        problems.push(`live rule ${r.Priority} forwards to no production target group`);
      }
    }
  }

  const allowedSchedules = new Set(services.map((s) => automaticUndeployName(s)));
  const schedules = await allPages(paginateListSchedules({ client: cp.scheduler }, { GroupName: install.scheduleGroup }), (p) => p.Schedules);
  for (const s of schedules) {
    if (!allowedSchedules.has(s.Name!)) problems.push(`schedule ${s.Name} left behind`);
  }

  for (const [handler, url] of Object.entries(install.deadLetterQueueUrls)) {
    const a = await cp.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    const n = Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (n) problems.push(`${n} message(s) in the dead-letter queue of ${handler}`);
  }
  return problems;
}
