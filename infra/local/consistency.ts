import { paginateDescribeAutoScalingGroups, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { controlPlaneClients } from '../../domain/aws/clients';
import { forwardTargets, listRules } from '../../domain/aws/listener-rules';
import { DEPLOY_ID_TAG, MANAGED_TAG, tagValue } from '../../domain/aws/tags';
import { ServiceState } from '../../domain/ledger';
import { allPages } from './pages';
import type { LocalInstallation } from './provision';
import { workloadClients } from './seed';

/**
 * Does the ledger tell the truth about AWS? For every service item: what it names as production
 * exists, runs the launch template version and AMI its last completed deploy recorded, carries
 * that deploy's target groups, and is what the service's live rules forward to (all of them, at
 * 100 %); no other ASG of the service is left; the last finished deploy in the history agrees
 * with the service's phase. Use with findLeftovers (which checks that nothing is unaccounted for).
 * Returns the mismatches (none = consistent).
 */
export async function ledgerMismatches(install: LocalInstallation, listenerArns: string[]): Promise<string[]> {
  const problems: string[] = [];
  const cp = controlPlaneClients();
  const items = await allPages(paginateScan({ client: cp.dynamo }, { TableName: install.tableName, ConsistentRead: true }), (p) => p.Items);
  const services = items.filter((i) => i.sk === 'SERVICE').map((i) => ServiceState.parse(i));
  const { autoscaling, ec2, elb } = await workloadClients();
  const asgs: AutoScalingGroup[] = await allPages(paginateDescribeAutoScalingGroups({ client: autoscaling }, {}), (p) => p.AutoScalingGroups);
  const rules = (await Promise.all(listenerArns.map((l) => listRules(elb, l)))).flat();

  for (const s of services) {
    const name = `${s.AccountCanonicalSlug}/${s.ServiceName}`;
    const own = asgs.filter((g) => tagValue(g.Tags, MANAGED_TAG) && g.AutoScalingGroupName?.startsWith(`${s.ServiceName}-`) && g.AutoScalingGroupName !== `${s.ServiceName}-template`);
    const others = own.filter((g) => g.AutoScalingGroupName !== s.ProductionAsgName);
    if (others.length) problems.push(`${name}: ASGs besides production: ${others.map((g) => g.AutoScalingGroupName).join(', ')}`);

    const history = await allPages(
      paginateQuery(
        { client: cp.dynamo },
        {
          TableName: install.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :deploy)',
          ExpressionAttributeValues: { ':pk': `${s.AccountCanonicalSlug}#${s.ServiceName}`, ':deploy': 'DEPLOY#' },
          ConsistentRead: true,
        },
      ),
      (p) => p.Items,
    );
    const completed = history.filter((d) => d.Result === 'Completed').sort((a, b) => String(a.FinishedAt).localeCompare(String(b.FinishedAt)));
    const last = completed.at(-1);

    if (!s.ProductionAsgName) {
      if (s.Phase !== 'Undeployed' && completed.length) problems.push(`${name}: ${completed.length} completed deploy(s) in the history but no production`);
      continue;
    }
    const production = own.find((g) => g.AutoScalingGroupName === s.ProductionAsgName);
    if (!production) {
      problems.push(`${name}: production ASG ${s.ProductionAsgName} does not exist`);
      continue;
    }
    const owner = tagValue(production.Tags, DEPLOY_ID_TAG);
    if (!last) problems.push(`${name}: production ${s.ProductionAsgName} but no completed deploy in the history`);
    else if (last.DeployId !== owner) problems.push(`${name}: production was made by ${owner}, the last completed deploy is ${last.DeployId}`);
    if (last && last.AsgName !== s.ProductionAsgName) problems.push(`${name}: history says production is ${last.AsgName}, the service item says ${s.ProductionAsgName}`);

    // The launch template version production runs, and the AMI in it, are what its deploy resolved.
    const lt = production.LaunchTemplate;
    if (lt?.LaunchTemplateId && lt.Version && last?.ResolvedAmiId) {
      const versions = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: [lt.Version] }))).LaunchTemplateVersions ?? [];
      const ami = versions[0]?.LaunchTemplateData?.ImageId;
      if (ami !== last.ResolvedAmiId) problems.push(`${name}: production runs ${ami}, its deploy resolved ${last.ResolvedAmiId}`);
    }

    // Live rules of the service forward to production's target groups only, at 100 %.
    const productionTgs = new Set(production.TargetGroupARNs ?? []);
    const recorded = s.Plan?.AsgName === s.ProductionAsgName ? s.Plan.TargetGroups.map((t) => t.Arn) : [];
    for (const arn of recorded) if (!productionTgs.has(arn)) problems.push(`${name}: recorded target group ${arn} is not attached to production`);
    for (const rule of rules.filter((r) => !r.IsDefault && Number(r.Priority) < 40000)) {
      const targets = forwardTargets(rule.Actions?.find((a) => a.Type === 'forward'));
      const ours = targets.filter((t) => productionTgs.has(t.arn));
      if (ours.length && (targets.length !== 1 || !(targets[0]!.weight === 100 || targets[0]!.weight === 1))) {
        problems.push(`${name}: live rule ${rule.Priority} is not at 100 % on production`);
      }
    }
  }
  return problems;
}
