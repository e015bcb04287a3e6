import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import { CreateRuleCommand, CreateTargetGroupCommand, DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { targetGroupName } from '../../domain/naming';
import { ORIGINAL_TABLE, originalId, originalUndeployRuleName, type OriginalItem } from '../../domain/original';
import { ORG, workloadClients, type SeededAccount, type SeededService } from '../../infra/local/seed';

/**
 * A service exactly as the original Deployomat (v0.3.10) leaves it after a completed deploy: its
 * item in the original's table (`id = "<slug>.<service>"`), the ASG `<service>-<timestamp>` with the
 * template's tags plus `Managed`, the target group `<service[0,15]>-<timestamp>`, the live rule at
 * the service's priority forwarding to it, and (optionally) its automatic-undeploy rule.
 */
export interface OriginalService {
  asgName: string;
  targetGroupArn?: string;
  ruleArn?: string;
  item: OriginalItem;
}

export async function seedOriginalService(
  account: SeededAccount,
  service: SeededService,
  opts: {
    timestamp: string;
    capacity: number;
    /** The item as the original would have it (defaults: at rest, undeploy allowed). */
    item?: Partial<OriginalItem>;
    /** Where the live rule forwards: the new group alone (default), or split with another group. */
    splitWith?: string;
    automaticUndeployAt?: Date;
    priority?: number;
  },
): Promise<OriginalService> {
  const { autoscaling, elb, ec2 } = await workloadClients();
  const name = service.service;
  const asgName = `${name}-${opts.timestamp}`;
  const version = await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: service.launchTemplateId, SourceVersion: '$Latest', LaunchTemplateData: { ImageId: Object.values(service.amis)[0] } }));
  const managed = { Key: 'Managed', Value: 'deployomat' };

  let targetGroupArn: string | undefined;
  let ruleArn: string | undefined;
  if (service.templateTargetGroupArn) {
    const tg = await elb.send(
      new CreateTargetGroupCommand({
        Name: targetGroupName(name, opts.timestamp),
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: account.vpcId,
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 4,
        HealthyThresholdCount: 2,
        Tags: [{ Key: 'team', Value: 'platform' }, managed],
      }),
    );
    targetGroupArn = tg.TargetGroups![0]!.TargetGroupArn!;
    const exemplar = (await elb.send(new DescribeRulesCommand({ RuleArns: [service.exemplarRuleArn!] }))).Rules![0]!;
    const targets = opts.splitWith
      ? [
          { TargetGroupArn: targetGroupArn, Weight: 50 },
          { TargetGroupArn: opts.splitWith, Weight: 50 },
        ]
      : [{ TargetGroupArn: targetGroupArn, Weight: 100 }];
    const rule = await elb.send(
      new CreateRuleCommand({
        ListenerArn: account.listenerArn,
        Priority: Number(exemplar.Priority) - 40000,
        Conditions: exemplar.Conditions!.map((c) => ({ Field: c.Field, HostHeaderConfig: c.HostHeaderConfig, PathPatternConfig: c.PathPatternConfig })),
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: targets } }],
        Tags: [managed],
      }),
    );
    ruleArn = rule.Rules![0]!.RuleArn!;
  }
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: asgName,
      MinSize: opts.capacity,
      MaxSize: 4,
      DesiredCapacity: opts.capacity,
      LaunchTemplate: { LaunchTemplateId: service.launchTemplateId, Version: String(version.LaunchTemplateVersion!.VersionNumber) },
      VPCZoneIdentifier: account.subnetIds.join(','),
      TargetGroupARNs: targetGroupArn ? [targetGroupArn] : undefined,
      HealthCheckType: targetGroupArn ? 'ELB' : 'EC2',
      HealthCheckGracePeriod: 60,
      Tags: [
        { Key: `${ORG}:min_size`, Value: '2', PropagateAtLaunch: false },
        { Key: `${ORG}:max_size`, Value: '4', PropagateAtLaunch: false },
        { Key: 'team', Value: 'platform', PropagateAtLaunch: true },
        { ...managed, PropagateAtLaunch: true },
      ],
    }),
  );
  for (let i = 0; i < 50 && !(await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] }))).AutoScalingGroups?.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }

  const key = { AccountCanonicalSlug: account.slug, ServiceName: name };
  const item: OriginalItem = {
    id: originalId(key),
    deploy_id: `deploy-${opts.timestamp}`,
    deploy_asg_name: '',
    production_asg_name: asgName,
    undeploy_state: 'allow',
    ...opts.item,
  };
  const doc = await originalTable();
  await doc.send(new PutCommand({ TableName: ORIGINAL_TABLE, Item: item }));
  if (opts.automaticUndeployAt) {
    const at = opts.automaticUndeployAt;
    const events = new EventBridgeClient({});
    const rule = originalUndeployRuleName(key);
    await events.send(
      new PutRuleCommand({
        Name: rule,
        ScheduleExpression: `cron(${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} ? ${at.getUTCFullYear()})`,
        State: 'ENABLED',
        Description: `Trigger for automatic undeploy of ${name} in ${account.slug}`,
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: rule,
        Targets: [{ Id: 'RunUndeploy', Arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:DeployomatUndeploy', RoleArn: 'arn:aws:iam::123456789012:role/deployomat-AutomaticUndeployer' }],
      }),
    );
  }
  return { asgName, targetGroupArn, ruleArn, item };
}

/** The original's table (created on first use) in the account the tests run in, as its Terraform creates it. */
export async function originalTable(): Promise<DynamoDBDocumentClient> {
  const db = new DynamoDBClient({});
  try {
    await db.send(
      new CreateTableCommand({
        TableName: ORIGINAL_TABLE,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  return DynamoDBDocumentClient.from(db);
}

export async function originalItem(id: string): Promise<Record<string, unknown> | undefined> {
  return (await (await originalTable()).send(new GetCommand({ TableName: ORIGINAL_TABLE, Key: { id }, ConsistentRead: true }))).Item;
}
