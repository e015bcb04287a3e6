import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  PutScalingPolicyCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { OWNER_TAG, ownerOf } from '../../domain/aws/tags';

/**
 * A realistic multi-account setup in the emulator, as a user's Terraform/CDK (Accountomat,
 * Serviceomat) would leave it: the meta account's SSM registry, and in the workload account a
 * VPC, an ALB and listener, the service's template target group, exemplar rule, launch template
 * and template ASG. Used by the demo and the emulator tests.
 */
export const META_ACCOUNT = '111111111111';
export const WORKLOAD_ACCOUNT = '222222222222';
export const ORG = 'acme';
export const META_ROLE_ARN = `arn:aws:iam::${META_ACCOUNT}:role/${ORG}/deployomat-meta-access`;
export const DEPLOY_ROLE_ARN = `arn:aws:iam::${WORKLOAD_ACCOUNT}:role/${ORG}/deployomat-deploy-access`;
/** Tag that makes the emulator report instances of an AMI as unhealthy (see infra/local/emulator). */
export const UNHEALTHY_AMI_TAG = 'deployomat-emulator:health';

async function credentialsFor(roleArn: string, session: string): Promise<AwsCredentialIdentity> {
  const out = await new STSClient({}).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session }));
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
}

/**
 * Where the sample lives: the registry in a meta account (through a role) or in Deployomat's own
 * account, and the workload role the registry names. The original's README allows both.
 */
export interface SeedLayout {
  /** The registry's account, through this role; undefined: the account Deployomat runs in. */
  metaRoleArn?: string;
  /** The role `<prefix>/roles/deployomat` names: its account is the workload account. */
  deployRoleArn: string;
}
export const MULTI_ACCOUNT: SeedLayout = { metaRoleArn: META_ROLE_ARN, deployRoleArn: DEPLOY_ROLE_ARN };
/** Everything in Deployomat's own account (the emulator's default credentials, 123456789012). */
export const SINGLE_ACCOUNT: SeedLayout = { deployRoleArn: `arn:aws:iam::123456789012:role/${ORG}/deployomat-deploy-access` };

/** The layout's account ids, as `npm run local` prints them. */
export const accountOf = (roleArn: string) => roleArn.split(':')[4]!;

export async function workloadClients(layout: SeedLayout = MULTI_ACCOUNT) {
  const credentials = await credentialsFor(layout.deployRoleArn, 'seed');
  return {
    ec2: new EC2Client({ credentials }),
    autoscaling: new AutoScalingClient({ credentials }),
    elb: new ElasticLoadBalancingV2Client({ credentials }),
    cloudwatch: new CloudWatchClient({ credentials }),
    iam: new IAMClient({ credentials }),
  };
}

export async function metaSsm(layout: SeedLayout = MULTI_ACCOUNT) {
  return layout.metaRoleArn ? new SSMClient({ credentials: await credentialsFor(layout.metaRoleArn, 'seed') }) : new SSMClient({});
}

export interface SeededAccount {
  slug: string;
  prefix: string;
  vpcId: string;
  subnetIds: string[];
  listenerArn: string;
  loadBalancerArn: string;
  layout: SeedLayout;
}

/** Registers the workload account in the meta account's registry and builds its network and ALB. */
export async function seedAccount(opts: { slug: string; environment?: string; name?: string; layout?: SeedLayout }): Promise<SeededAccount> {
  const layout = opts.layout ?? MULTI_ACCOUNT;
  const environment = opts.environment ?? 'development';
  const name = opts.name ?? opts.slug;
  const prefix = `/${ORG}/${environment}/${name}`;
  const ssm = await metaSsm(layout);
  const put = (Name: string, Value: string, Type: 'String' | 'StringList' = 'String') =>
    ssm.send(new PutParameterCommand({ Name, Value, Type, Overwrite: true }));
  await put(`/omat/account_registry/${opts.slug}`, JSON.stringify({ prefix, name, environment, account_id: accountOf(layout.deployRoleArn) }));
  await put(`${prefix}/roles/deployomat`, layout.deployRoleArn);

  const { ec2, elb } = await workloadClients(layout);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  const subnetIds: string[] = [];
  for (const [i, az] of ['us-east-1a', 'us-east-1b'].entries()) {
    const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: az }));
    subnetIds.push(s.Subnet!.SubnetId!);
  }
  const lbName = `${opts.slug}-alb`.slice(0, 32);
  const lb = await elb.send(new CreateLoadBalancerCommand({ Name: lbName, Subnets: subnetIds, Type: 'application' }));
  const loadBalancerArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
  const listener = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no route' } }],
    }),
  );
  return { slug: opts.slug, prefix, vpcId, subnetIds, listenerArn: listener.Listeners![0]!.ListenerArn!, loadBalancerArn, layout };
}

export interface SeededService {
  service: string;
  launchTemplateId: string;
  templateTargetGroupArn?: string;
  exemplarRuleArn?: string;
  /** With `grpc`: the second template target group and its exemplar rule. */
  grpcTemplateTargetGroupArn?: string;
  grpcExemplarRuleArn?: string;
  amis: Record<string, string>;
}

/**
 * A service as Serviceomat would set it up. `web` adds the template target group, the exemplar
 * rule at priority + 40000 and `listener_arns`; `grpc` a second template target group (gRPC on
 * port 50051, paths `/grpc.*`) with its exemplar at priority + 1 + 40000. AMIs are registered for each name in `amis`;
 * names in `unhealthy` get the emulator's unhealthy tag.
 */
export async function seedService(
  account: SeededAccount,
  opts: {
    service: string;
    web: boolean;
    grpc?: boolean;
    priority?: number;
    /** The `<org>:min_size` tag's value; `null`: no such tag. @default 2 */
    minSize?: number | null;
    maxSize?: number;
    /** The template group's own min size (and desired capacity: it then runs instances). @default 0 */
    templateMinSize?: number;
    amis: string[];
    unhealthy?: string[];
  },
): Promise<SeededService> {
  const { ec2, autoscaling, elb, iam } = await workloadClients(account.layout);
  const ownerTag = { Key: OWNER_TAG, Value: ownerOf({ AccountCanonicalSlug: account.slug, ServiceName: opts.service }) };
  const instanceProfile = await seedInstanceProfile(iam, opts.service, [ownerTag]);
  const amis: Record<string, string> = {};
  for (const amiName of opts.amis) {
    const img = await ec2.send(new RegisterImageCommand({ Name: amiName, Description: `${opts.service} ${amiName}` }));
    amis[amiName] = img.ImageId!;
    if (opts.unhealthy?.includes(amiName)) {
      await ec2.send(new CreateTagsCommand({ Resources: [img.ImageId!], Tags: [{ Key: UNHEALTHY_AMI_TAG, Value: 'unhealthy' }] }));
    }
  }
  const firstAmi = amis[opts.amis[0]!]!;
  const lt = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${opts.service.slice(0, 120)}-lt`,
      LaunchTemplateData: {
        ImageId: firstAmi,
        InstanceType: 't3.micro',
        MetadataOptions: { HttpTokens: 'required' },
        IamInstanceProfile: { Name: instanceProfile },
        // As most launch templates do: Auto Scaling then tags what it launches with the caller's permissions.
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'service', Value: opts.service }] }],
      },
      // The service owner marks its launch template (and instance role) as the service's.
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: [ownerTag] }],
    }),
  );
  const launchTemplateId = lt.LaunchTemplate!.LaunchTemplateId!;

  let templateTargetGroupArn: string | undefined;
  let exemplarRuleArn: string | undefined;
  let grpcTemplateTargetGroupArn: string | undefined;
  let grpcExemplarRuleArn: string | undefined;
  if (opts.web) {
    const tg = await elb.send(
      new CreateTargetGroupCommand({
        Name: `${opts.service}-template`.slice(0, 32),
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: account.vpcId,
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 4,
        HealthyThresholdCount: 2,
        Matcher: { HttpCode: '200-299' },
        Tags: [{ Key: 'team', Value: 'platform' }],
      }),
    );
    templateTargetGroupArn = tg.TargetGroups![0]!.TargetGroupArn!;
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: templateTargetGroupArn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
      }),
    );
    const rule = await elb.send(
      new CreateRuleCommand({
        ListenerArn: account.listenerArn,
        Priority: (opts.priority ?? 10) + 40000,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`${opts.service.slice(0, 100)}.example.com`] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: templateTargetGroupArn }],
      }),
    );
    exemplarRuleArn = rule.Rules![0]!.RuleArn!;
    if (opts.grpc) {
      const grpc = await elb.send(
        new CreateTargetGroupCommand({
          Name: `${opts.service}-grpc-template`.slice(0, 32),
          Protocol: 'HTTP',
          Port: 50051,
          VpcId: account.vpcId,
          HealthCheckPath: '/grpc.health.v1.Health/Check',
          Matcher: { HttpCode: '200-299' },
        }),
      );
      grpcTemplateTargetGroupArn = grpc.TargetGroups![0]!.TargetGroupArn!;
      const grpcRule = await elb.send(
        new CreateRuleCommand({
          ListenerArn: account.listenerArn,
          Priority: (opts.priority ?? 10) + 1 + 40000,
          Conditions: [
            { Field: 'host-header', HostHeaderConfig: { Values: [`${opts.service.slice(0, 100)}.example.com`] } },
            { Field: 'path-pattern', PathPatternConfig: { Values: ['/grpc.*'] } },
          ],
          Actions: [{ Type: 'forward', TargetGroupArn: grpcTemplateTargetGroupArn }],
        }),
      );
      grpcExemplarRuleArn = grpcRule.Rules![0]!.RuleArn!;
    }
    const ssm = await metaSsm(account.layout);
    await ssm.send(
      new PutParameterCommand({ Name: `${account.prefix}/config/${opts.service}/listener_arns`, Value: account.listenerArn, Type: 'StringList', Overwrite: true }),
    );
  }

  const asgName = `${opts.service}-template`;
  // Under the emulator's eventual consistency (moto_server.py "p.") Auto Scaling may not see the
  // target groups just created yet: retry as the AWS docs advise.
  await untilVisible(() =>
    autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: asgName,
      MinSize: opts.templateMinSize ?? 0,
      MaxSize: opts.templateMinSize ?? 0,
      DesiredCapacity: opts.templateMinSize ?? 0,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Default' },
      VPCZoneIdentifier: account.subnetIds.join(','),
      TargetGroupARNs: templateTargetGroupArn ? [templateTargetGroupArn, ...(grpcTemplateTargetGroupArn ? [grpcTemplateTargetGroupArn] : [])] : undefined,
      HealthCheckType: opts.web ? 'ELB' : 'EC2',
      HealthCheckGracePeriod: 60,
      TerminationPolicies: ['OldestInstance'],
      Tags: [
        ...(opts.minSize === null ? [] : [{ Key: `${ORG}:min_size`, Value: String(opts.minSize ?? 2), PropagateAtLaunch: false }]),
        { Key: `${ORG}:max_size`, Value: String(opts.maxSize ?? 4), PropagateAtLaunch: false },
        { Key: 'team', Value: 'platform', PropagateAtLaunch: true },
      ],
    }),
    ),
  );
  await autoscaling.send(
    new PutScalingPolicyCommand({
      AutoScalingGroupName: asgName,
      PolicyName: 'target-cpu',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 50 },
    }),
  );
  // Serviceomat set the service up long before its first deploy: wait until every read sees it.
  await untilVisible(async () => {
    const found = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] }))).AutoScalingGroups ?? [];
    await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: ['1'] }));
    if (!found.length) throw Object.assign(new Error(`${asgName} not visible yet`), { name: 'NotVisible' });
    if (exemplarRuleArn) await elb.send(new DescribeRulesCommand({ RuleArns: [exemplarRuleArn, ...(grpcExemplarRuleArn ? [grpcExemplarRuleArn] : [])] }));
    for (const arn of [templateTargetGroupArn, grpcTemplateTargetGroupArn].filter(Boolean)) await elb.send(new DescribeTagsCommand({ ResourceArns: [arn!] }));
  });
  return { service: opts.service, launchTemplateId, templateTargetGroupArn, exemplarRuleArn, grpcTemplateTargetGroupArn, grpcExemplarRuleArn, amis };
}

/** The service's instance role under `/<org>/service-role/`, in an instance profile of the same name. */
export async function seedInstanceProfile(iam: IAMClient, service: string, tags: { Key: string; Value: string }[]): Promise<string> {
  // IAM role names are at most 64 characters; service names may be longer.
  const name = `${service.slice(0, 55)}-instance`;
  await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      Path: `/${ORG}/service-role/`,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
      Tags: tags,
    }),
  );
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name, Path: `/${ORG}/service-role/` }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }));
  return name;
}

/** A CloudWatch metric alarm in the workload account (state INSUFFICIENT_DATA until set), for RollbackAlarms. */
export async function seedAlarm(name: string, loadBalancer = 'app/acme/0123456789abcdef'): Promise<void> {
  const { cloudwatch } = await workloadClients();
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancer }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
}

/** Repeats `attempt` while it fails as a read that has not caught up fails (at most ~10 s). */
async function untilVisible<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (i >= 40 || !/NotVisible|NotFound|ValidationError/.test(name)) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
