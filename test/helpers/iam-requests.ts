import type { RecordedCall } from './iam-calls';

/**
 * What IAM authorizes for one recorded AWS call: the action(s), the resource, the condition keys —
 * including what AWS documents it checks implicitly (Auto Scaling launching from a launch
 * template with the caller's permissions, ELB authorizing a create's tags as AddTags, KMS for
 * encrypted queues and tables, PassRole of a schedule's role, TagSession for session tags).
 * Resource ARNs are written in the accounts of the synthesized templates (`accounts`).
 */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  /** Which resource policy also decides: a queue's (by name), the bus's, a role's trust. */
  resourcePolicy?: { kind: 'queue'; name: string } | { kind: 'bus' } | { kind: 'trust'; role: 'deploy' | 'meta' };
  /** Why AWS asks for it, for the permission table. */
  why: string;
}

export interface Accounts {
  region: string;
  /** The CI/CD account of the templates (the local installation's account is rewritten to it). */
  cicd: string;
  localAccount: string;
  workload: string;
  meta: string;
  /** The installation's KMS key ARN in the template, if its stores use one. */
  keyArn?: string;
  /** Role ARNs of the local installation → the template's roles. */
  deployRoleArn: string;
  metaRoleArn: string;
  /** Other local ARNs → the template's (the scheduler role, whose CDK name is generated). */
  arnMap: Record<string, string>;
}

const tagContext = (kind: 'RequestTag' | 'ResourceTag', tags: Record<string, string>) => {
  const ctx: Record<string, string | string[]> = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:${kind}/${k}`, v]));
  if (kind === 'RequestTag' && Object.keys(tags).length) ctx['aws:TagKeys'] = Object.keys(tags);
  return ctx;
};
const listTags = (v: unknown): Record<string, string> =>
  Object.fromEntries(((v as { Key?: string; Value?: string }[] | undefined) ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

export function iamRequests(call: RecordedCall, a: Accounts): IamRequest[] {
  const i = call.input;
  const region = a.region;
  const local = (arn: string) => a.arnMap[arn] ?? arn.replace(`:${a.localAccount}:`, `:${a.cicd}:`);
  const queueName = (url: unknown) => String(url).split('/').pop()!;
  const queueArn = (url: unknown) => `arn:aws:sqs:${region}:${a.cicd}:${queueName(url)}`;
  const table = (name: unknown) => `arn:aws:dynamodb:${region}:${a.cicd}:table/${String(name)}`;
  const kms = (actions: string[], service: string, why: string): IamRequest[] =>
    a.keyArn ? actions.map((action) => ({ action, resource: a.keyArn!, context: { 'kms:ViaService': `${service}.${region}.amazonaws.com` }, why })) : [];
  const one = (action: string, resource: string, why: string, context: Record<string, string | string[]> = {}): IamRequest => ({ action, resource, context, why });
  const w = a.workload;
  const asg = (name: unknown) => `arn:aws:autoscaling:${region}:${w}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${String(name)}`;
  const resourceTags = (key: string) => tagContext('ResourceTag', call.resourceTags[key] ?? {});
  const deployer = call.principal === 'deployer';
  const busArn = (bus: unknown) => {
    const name = String(bus ?? 'default');
    return name.startsWith('arn:') ? local(name) : `arn:aws:events:${region}:${a.cicd}:event-bus/${name}`;
  };
  const rule = (bus: unknown, name: unknown) => `arn:aws:events:${region}:${a.cicd}:rule/${String(bus ?? 'default').split('/').pop()}/${String(name)}`;

  switch (`${call.service}:${call.operation}`) {
    // --- the control plane (handlers' role, Scheduler's role, the event source mappings)
    case 'DynamoDB:GetItem':
    case 'DynamoDB:PutItem':
    case 'DynamoDB:UpdateItem':
    case 'DynamoDB:DeleteItem':
    case 'DynamoDB:Query':
    case 'DynamoDB:Scan':
      return [one(`dynamodb:${call.operation}`, table(i.TableName), deployer ? 'the CLI reads the ledger (status, history, following)' : 'the ledger'), ...kms(['kms:Decrypt'], 'dynamodb', 'the ledger is encrypted with the installation key')];
    case 'DynamoDB:TransactWriteItems': {
      const items = (i.TransactItems as Record<string, { TableName: string }>[]) ?? [];
      const kinds: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };
      return [
        ...items.flatMap((item) => Object.entries(item).map(([kind, op]) => one(`dynamodb:${kinds[kind]}`, table(op.TableName), 'a ledger transition (each item of the transaction)'))),
        ...kms(['kms:Decrypt'], 'dynamodb', 'the ledger is encrypted with the installation key'),
      ];
    }
    case 'SQS:SendMessage':
    case 'SQS:SendMessageBatch':
      return [
        { ...one('sqs:SendMessage', queueArn(i.QueueUrl), call.principal === 'scheduler' ? 'Scheduler delivers a timer' : 'a timer'), resourcePolicy: { kind: 'queue', name: queueName(i.QueueUrl) } },
        ...kms(['kms:GenerateDataKey', 'kms:Decrypt'], 'sqs', 'the queue is encrypted with the installation key'),
      ];
    case 'SQS:ReceiveMessage':
      return [
        one('sqs:ReceiveMessage', queueArn(i.QueueUrl), deployer ? 'the CLI follows a deploy through its temporary queue' : 'the event source mapping reads the queue'),
        ...(deployer ? [] : kms(['kms:Decrypt'], 'sqs', 'the queue is encrypted')),
      ];
    case 'SQS:DeleteMessage':
    case 'SQS:DeleteMessageBatch':
      return [one('sqs:DeleteMessage', queueArn(i.QueueUrl), deployer ? 'the CLI deletes what it has shown' : 'the event source mapping deletes handled messages')];
    case 'SQS:ChangeMessageVisibility':
    case 'SQS:ChangeMessageVisibilityBatch':
      return [one('sqs:ChangeMessageVisibility', queueArn(i.QueueUrl), 'a failed message is retried sooner (backoff)')];
    // --- the CLI's temporary subscription (DeployerRole): a rule on the bus feeding a queue of its own
    case 'SQS:CreateQueue':
      return [one('sqs:CreateQueue', `arn:aws:sqs:${region}:${a.cicd}:${String(i.QueueName)}`, 'the CLI subscribes before it publishes (--wait, watch)')];
    case 'SQS:GetQueueAttributes':
    case 'SQS:SetQueueAttributes':
    case 'SQS:DeleteQueue':
      return [one(`sqs:${call.operation}`, queueArn(i.QueueUrl), "the CLI's temporary queue (its ARN, the rule's permission to send, its age; deleted on exit)")];
    case 'SQS:ListQueues':
      return [one('sqs:ListQueues', '*', 'the CLI finds temporary queues killed CLIs left')];
    case 'EventBridge:PutRule':
    case 'EventBridge:RemoveTargets':
    case 'EventBridge:DeleteRule':
      return [one(`events:${call.operation}`, rule(i.EventBusName, i.Name ?? i.Rule), "the CLI's temporary rule (created, renewed, removed on exit; or a killed CLI's)")];
    case 'EventBridge:PutTargets': {
      const targets = ((i.Targets as { Arn?: string }[] | undefined) ?? []).map((t) => local(String(t.Arn)));
      return [one('events:PutTargets', rule(i.EventBusName, i.Rule), "the CLI's temporary rule feeds its own queue", { 'events:TargetArn': targets })];
    }
    case 'EventBridge:ListRules':
      return [one('events:ListRules', '*', 'the CLI finds temporary rules killed CLIs left')];
    case 'EventBridge:DescribeEventBus':
      return [one('events:DescribeEventBus', busArn(i.Name), 'replay: the bus to replay onto')];
    case 'EventBridge:DescribeArchive':
      return [one('events:DescribeArchive', `arn:aws:events:${region}:${a.cicd}:archive/${String(i.ArchiveName)}`, 'replay: the archive')];
    case 'EventBridge:StartReplay':
    case 'EventBridge:DescribeReplay':
      return [one(`events:${call.operation}`, `arn:aws:events:${region}:${a.cicd}:replay/${String(i.ReplayName)}`, 'replay: re-sends the archive onto the bus')];
    case 'SQS:GetQueueUrl':
      return [one('sqs:GetQueueUrl', `arn:aws:sqs:${region}:${a.cicd}:${String(i.QueueName)}`, 'finds a queue by name')];
    case 'EventBridge:PutEvents': {
      const entries = (i.Entries as { EventBusName?: string; Source?: string; DetailType?: string }[]) ?? [];
      const bus = entries[0]?.EventBusName;
      const why = { scheduler: 'Scheduler publishes an automatic undeploy', deployer: 'the CLI publishes a client command' }[call.principal as string] ?? 'publishes lifecycle events';
      return [
        {
          ...one('events:PutEvents', busArn(bus), why, {
            'events:source': [...new Set(entries.map((e) => e.Source ?? ''))],
            'events:detail-type': [...new Set(entries.map((e) => e.DetailType ?? ''))],
          }),
          resourcePolicy: { kind: 'bus' },
        },
      ];
    }
    case 'Scheduler:CreateSchedule':
    case 'Scheduler:UpdateSchedule':
    case 'Scheduler:DeleteSchedule': {
      const arn = `arn:aws:scheduler:${region}:${a.cicd}:schedule/${String(i.GroupName ?? 'default')}/${String(i.Name)}`;
      const target = i.Target as { RoleArn?: string } | undefined;
      return [
        one(`scheduler:${call.operation}`, arn, 'a long timer or an automatic undeploy'),
        ...(target?.RoleArn ? [one('iam:PassRole', local(target.RoleArn), 'the schedule runs as the scheduler role', { 'iam:PassedToService': 'scheduler.amazonaws.com' })] : []),
      ];
    }
    case 'STS:AssumeRole': {
      const target = String(i.RoleArn) === a.metaRoleArn ? 'meta' : 'deploy';
      const tags = listTags(i.Tags);
      const context = {
        ...tagContext('RequestTag', tags),
        ...(i.TransitiveTagKeys ? { 'sts:TransitiveTagKeys': i.TransitiveTagKeys as string[] } : {}),
        ...(i.ExternalId !== undefined ? { 'sts:ExternalId': String(i.ExternalId) } : {}),
      };
      const requests: IamRequest[] = [{ ...one('sts:AssumeRole', target, `the ${target === 'meta' ? 'registry' : 'workload'} role`, context), resourcePolicy: { kind: 'trust', role: target } }];
      if (Object.keys(tags).length) requests.push({ ...one('sts:TagSession', target, 'session tags (the service deployed; the environment)', context), resourcePolicy: { kind: 'trust', role: target } });
      return requests;
    }
    case 'SSM:GetParameter': {
      // A `:<version>` or `:<label>` selector is not part of the ARN; AWS's public parameters have no account.
      const name = String(i.Name).replace(/:[^/]*$/, '').replace(/^(?!\/)/, '/');
      if (call.principal === 'deploy') {
        const account = name.startsWith('/aws/service/') ? '' : w;
        return [one('ssm:GetParameter', `arn:aws:ssm:${region}:${account}:parameter${name}`, 'AmiId resolve:ssm:<parameter>: the AMI id it holds, checked before anything changes')];
      }
      return [one('ssm:GetParameter', `arn:aws:ssm:${region}:${call.principal === 'meta' ? a.meta : a.cicd}:parameter${name}`, 'the account registry')];
    }

    // --- the workload account (DeployAccessRole, one service per session)
    case 'Auto Scaling:DescribeAutoScalingGroups':
    case 'Auto Scaling:DescribeLifecycleHooks':
    case 'Auto Scaling:DescribePolicies':
    case 'Auto Scaling:DescribeWarmPool':
    case 'Auto Scaling:DescribeTags':
    case 'EC2:DescribeImages':
    case 'EC2:DescribeLaunchTemplates':
    case 'EC2:DescribeLaunchTemplateVersions':
    case 'Elastic Load Balancing v2:DescribeListeners':
    case 'Elastic Load Balancing v2:DescribeRules':
    case 'Elastic Load Balancing v2:DescribeTags':
    case 'Elastic Load Balancing v2:DescribeTargetGroups':
    case 'Elastic Load Balancing v2:DescribeTargetGroupAttributes':
    case 'Elastic Load Balancing v2:DescribeTargetHealth':
    case 'CloudWatch:DescribeAlarms':
      return [one(`${prefixOf(call.service)}:${call.operation}`, '*', 'reads the service')];
    case 'Auto Scaling:CreateAutoScalingGroup': {
      const tags = listTags(i.Tags);
      const requests = [one('autoscaling:CreateAutoScalingGroup', asg(i.AutoScalingGroupName), 'clones the template ASG', tagContext('RequestTag', tags))];
      const via = { 'aws:ViaAWSService': 'true' };
      requests.push(one('ec2:RunInstances', `arn:aws:ec2:${region}:${w}:instance/*`, 'Auto Scaling launches from the launch template with the caller\'s permissions', via));
      for (const role of call.launch?.instanceRoles ?? []) {
        requests.push(one('iam:PassRole', role.arn, 'the launch template\'s instance profile role, passed to EC2', { ...via, 'iam:PassedToService': 'ec2.amazonaws.com', ...tagContext('ResourceTag', role.tags) }));
      }
      if (call.launch?.tagsInstances) {
        for (const resource of ['instance', 'volume']) {
          requests.push(one('ec2:CreateTags', `arn:aws:ec2:${region}:${w}:${resource}/*`, 'the launch template tags the instances and volumes it launches', { ...via, 'ec2:CreateAction': 'RunInstances' }));
        }
      }
      if (i.ServiceLinkedRoleARN) requests.push(one('iam:PassRole', String(i.ServiceLinkedRoleARN), 'the template ASG\'s service-linked role', { 'iam:PassedToService': 'autoscaling.amazonaws.com' }));
      return requests;
    }
    case 'Auto Scaling:UpdateAutoScalingGroup':
    case 'Auto Scaling:DeleteAutoScalingGroup':
    case 'Auto Scaling:PutScalingPolicy':
    case 'Auto Scaling:PutWarmPool':
    case 'Auto Scaling:EnableMetricsCollection':
      return [one(`autoscaling:${call.operation}`, asg(i.AutoScalingGroupName), 'changes a group of this service', resourceTags(String(i.AutoScalingGroupName)))];
    case 'Elastic Load Balancing v2:CreateTargetGroup': {
      const tags = listTags(i.Tags);
      const arn = `arn:aws:elasticloadbalancing:${region}:${w}:targetgroup/${String(i.Name)}/0123456789abcdef`;
      return [
        one('elasticloadbalancing:CreateTargetGroup', arn, 'clones the template target group', tagContext('RequestTag', tags)),
        ...(Object.keys(tags).length ? [one('elasticloadbalancing:AddTags', addTagsResource(region, w), 'ELB authorizes a create\'s tags as AddTags', { ...tagContext('RequestTag', tags), 'elasticloadbalancing:CreateAction': 'CreateTargetGroup' })] : []),
      ];
    }
    case 'Elastic Load Balancing v2:CreateRule': {
      const tags = listTags(i.Tags);
      return [
        one('elasticloadbalancing:CreateRule', String(i.ListenerArn), 'a first deploy creates the live rule', tagContext('RequestTag', tags)),
        ...(Object.keys(tags).length ? [one('elasticloadbalancing:AddTags', addTagsResource(region, w), 'ELB authorizes a create\'s tags as AddTags', { ...tagContext('RequestTag', tags), 'elasticloadbalancing:CreateAction': 'CreateRule' })] : []),
      ];
    }
    case 'Elastic Load Balancing v2:ModifyRule':
    case 'Elastic Load Balancing v2:DeleteRule':
      return [one(`elasticloadbalancing:${call.operation}`, String(i.RuleArn), 'shifts or restores traffic; deletes a rule of this service', resourceTags(String(i.RuleArn)))];
    case 'Elastic Load Balancing v2:ModifyTargetGroupAttributes':
    case 'Elastic Load Balancing v2:DeleteTargetGroup':
      return [one(`elasticloadbalancing:${call.operation}`, String(i.TargetGroupArn), 'a target group of this service', resourceTags(String(i.TargetGroupArn)))];
    case 'EC2:CreateLaunchTemplateVersion':
    case 'EC2:ModifyLaunchTemplate': {
      const id = String(i.LaunchTemplateId);
      return [one(`ec2:${call.operation}`, `arn:aws:ec2:${region}:${w}:launch-template/${id}`, 'a version of the service\'s launch template with the new AMI', resourceTags(id))];
    }
    case 'IAM:GetInstanceProfile':
      return [one('iam:GetInstanceProfile', `arn:aws:iam::${w}:instance-profile/${String(i.InstanceProfileName)}`, 'start-deploy checks the instance roles')];
    case 'IAM:ListRoleTags':
      return [one('iam:ListRoleTags', call.roleArn ?? `arn:aws:iam::${w}:role/${String(i.RoleName)}`, 'start-deploy checks the instance roles\' owner tag')];
  }
  throw new Error(`no IAM mapping for ${call.service}:${call.operation} (add it to test/helpers/iam-requests.ts)`);
}

/**
 * The simulator's action data lists only ELB v1's resource type (`loadbalancer/<name>`) for
 * AddTags, though v2 authorizes it on the target group or rule: the policy grants it on `*`, so any
 * resource of the account decides the same.
 */
const addTagsResource = (region: string, account: string) => `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/created-resource`;

function prefixOf(service: string): string {
  const prefixes: Record<string, string> = {
    'Auto Scaling': 'autoscaling',
    EC2: 'ec2',
    'Elastic Load Balancing v2': 'elasticloadbalancing',
    CloudWatch: 'cloudwatch',
  };
  const p = prefixes[service];
  if (!p) throw new Error(`no IAM prefix for ${service}`);
  return p;
}
