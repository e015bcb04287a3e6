/**
 * Proves the strict emulator (moto_server.py "n.", strict_api.py): each request is checked
 * against botocore's model of its operation, plus the documented quotas the models do not carry,
 * and a mistake is refused as AWS refuses it, with the member named. Each case seeds one mistake
 * our code could make; the last one shows plain moto (strict off) letting the same mistakes in.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  PutLifecycleHookCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type CreateTargetGroupCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startEmulator, type Emulator } from '../../infra/local/emulator';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

/** What a rejected call threw: the SDK error's name (AWS's code) and message. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e as { name: string; message: string; $metadata?: { httpStatusCode?: number } },
  );
  if (!err) throw new Error('expected the call to be refused, and it succeeded');
  return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
}

/** Adds `extra` (e.g. `&Bogus=1`) to a query-protocol request body, as a hand-built request could. */
function withExtraParam<C extends ElasticLoadBalancingV2Client | EC2Client>(client: C, extra: string): C {
  const stack = client.middlewareStack as ElasticLoadBalancingV2Client['middlewareStack'];
  stack.add(
    (next) => async (args) => {
      const request = args.request as { body?: string };
      request.body = `${request.body ?? ''}${extra}`;
      return next(args);
    },
    // Before the content length is computed and the request signed.
    { step: 'build', priority: 'high', name: 'seededUnknownParameter' },
  );
  return client;
}

function tags(n: number, prefix = 'k'): { Key: string; Value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: 'v' }));
}

const TG = (name: string, vpcId: string): CreateTargetGroupCommandInput => ({
  Name: name,
  Protocol: 'HTTP',
  Port: 80,
  VpcId: vpcId,
  TargetType: 'instance',
});

describe('Strict emulator: requests checked against AWS API models and quotas', () => {
  let emulator: Emulator;
  const lines: string[] = [];
  let config: { endpoint: string; region: string; credentials: typeof credentials; maxAttempts: number };
  let ec2: EC2Client;
  let elb: ElasticLoadBalancingV2Client;
  let asg: AutoScalingClient;
  let vpcId: string;
  let subnetId: string;
  let listenerArn: string;
  let targetGroupArns: string[];
  let launchTemplateId: string;

  beforeAll(async () => {
    // Prepare: an emulator with the default settings (strict), a load balancer with a listener,
    // six target groups and a launch template.
    emulator = await startEmulator({ log: (line) => lines.push(line) });
    config = { endpoint: emulator.endpoint, region, credentials, maxAttempts: 1 };
    ec2 = new EC2Client(config);
    elb = new ElasticLoadBalancingV2Client(config);
    asg = new AutoScalingClient(config);

    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    const subnets: string[] = [];
    for (const [i, az] of ['us-east-1a', 'us-east-1b'].entries()) {
      const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: az }));
      subnets.push(subnet.Subnet!.SubnetId!);
    }
    subnetId = subnets[0]!;
    const lb = await elb.send(new CreateLoadBalancerCommand({ Name: 'strict-alb', Subnets: subnets, Type: 'application' }));
    targetGroupArns = [];
    for (let i = 0; i < 6; i++) {
      const tg = await elb.send(new CreateTargetGroupCommand(TG(`strict-tg-${i}`, vpcId)));
      targetGroupArns.push(tg.TargetGroups![0]!.TargetGroupArn!);
    }
    listenerArn = (
      await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
          Protocol: 'HTTP',
          Port: 80,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArns[0] }],
        }),
      )
    ).Listeners![0]!.ListenerArn!;
    launchTemplateId = (
      await ec2.send(
        new CreateLaunchTemplateCommand({ LaunchTemplateName: 'strict-lt', LaunchTemplateData: { ImageId: 'ami-12c6146b', InstanceType: 't3.micro' } }),
      )
    ).LaunchTemplate!.LaunchTemplateId!;
  }, 60_000);

  afterAll(async () => {
    ec2?.destroy();
    elb?.destroy();
    asg?.destroy();
    await emulator?.stop();
  });

  const forward = (arns: string[], weight = (_i: number) => 1) => [
    { Type: 'forward' as const, ForwardConfig: { TargetGroups: arns.map((arn, i) => ({ TargetGroupArn: arn, Weight: weight(i) })) } },
  ];

  describe('Method: model checks', () => {
    it('refuses a 40-character target group name, as CreateTargetGroup does (max 32)', async () => {
      // Act
      const err = await refusal(elb.send(new CreateTargetGroupCommand(TG('a'.repeat(40), vpcId))));

      // Assess: AWS's own message; the strict check (not moto) refused it, and said so in its log.
      expect(err).toEqual({
        name: 'ValidationError',
        message: `Target group name '${'a'.repeat(40)}' cannot be longer than '32' characters`,
        status: 400,
      });
      const report = await emulator.strictReport();
      expect(report.violations).toContainEqual({
        service: 'elbv2',
        operation: 'CreateTargetGroup',
        code: 'ValidationError',
        message: `Target group name '${'a'.repeat(40)}' cannot be longer than '32' characters`,
      });
      expect(lines.some((l) => l.includes('strict API: refused elbv2 CreateTargetGroup'))).toBe(true);
    });

    it('refuses a member the operation does not have', async () => {
      // Prepare
      const elbWithTypo = withExtraParam(new ElasticLoadBalancingV2Client(config), '&PageSiz=5');
      const ec2WithTypo = withExtraParam(new EC2Client(config), '&Filters.1.Name=vpc-id');
      try {
        // Act + Assess: query protocol (ELBv2) and EC2's protocol, each as that service answers.
        expect(await refusal(elbWithTypo.send(new DescribeTargetGroupsCommand({})))).toMatchObject({
          name: 'ValidationError',
          message: expect.stringContaining('PageSiz'),
        });
        // EC2's list members are `Filter.N`, not the SDK's `Filters`.
        expect(await refusal(ec2WithTypo.send(new DescribeVpcsCommand({})))).toEqual({
          name: 'UnknownParameter',
          message: 'The parameter Filters.1.Name is not recognized',
          status: 400,
        });
      } finally {
        elbWithTypo.destroy();
        ec2WithTypo.destroy();
      }
    });

    it('refuses a request without a required member, in each protocol', async () => {
      // Prepare
      const db = new DynamoDBClient(config);
      try {
        // Act + Assess
        const { Name: _omitted, ...noName } = TG('x', vpcId);
        expect(await refusal(elb.send(new CreateTargetGroupCommand(noName as CreateTargetGroupCommandInput)))).toEqual({
          name: 'ValidationError',
          message: "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
          status: 400,
        });
        expect(await refusal(ec2.send(new CreateTagsCommand({ Resources: undefined as never, Tags: [{ Key: 'a', Value: 'b' }] })))).toEqual({
          name: 'MissingParameter',
          message: 'The request must contain the parameter ResourceId',
          status: 400,
        });
        expect(await refusal(db.send(new GetItemCommand({ TableName: 'ledger', Key: undefined as never })))).toEqual({
          name: 'ValidationException',
          message: "1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null",
          status: 400,
        });
      } finally {
        db.destroy();
      }
    });

    it('refuses a value outside the enum', async () => {
      // Act
      const err = await refusal(elb.send(new CreateTargetGroupCommand({ ...TG('strict-enum', vpcId), Protocol: 'HTTP2' as never })));

      // Assess
      expect(err.name).toBe('ValidationError');
      expect(err.message).toMatch(
        /^1 validation error detected: Value 'HTTP2' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: \[HTTP, HTTPS, /,
      );
    });

    it('refuses a number out of range, in the query and JSON protocols', async () => {
      // Prepare
      const ssm = new SSMClient(config);
      try {
        // Act + Assess: the model says 5-300 seconds, and at most 10 parameters per page.
        expect(
          await refusal(elb.send(new CreateTargetGroupCommand({ ...TG('strict-range', vpcId), HealthCheckIntervalSeconds: 1 }))),
        ).toMatchObject({
          name: 'ValidationError',
          message:
            "1 validation error detected: Value '1' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5",
        });
        expect(await refusal(ssm.send(new GetParametersByPathCommand({ Path: '/deployomat', MaxResults: 11 })))).toEqual({
          name: 'ValidationException',
          message: "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10",
          status: 400,
        });
      } finally {
        ssm.destroy();
      }
    });
  });

  describe('Method: documented limits and quotas', () => {
    it('takes 5 target groups in a forward action and refuses a 6th', async () => {
      // Act
      const rule = await elb.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: 1,
          Conditions: [{ Field: 'path-pattern', Values: ['/five/*'] }],
          Actions: forward(targetGroupArns.slice(0, 5)),
        }),
      );
      const err = await refusal(elb.send(new ModifyRuleCommand({ RuleArn: rule.Rules![0]!.RuleArn!, Actions: forward(targetGroupArns) })));

      // Assess
      expect(err.name).toBe('ValidationError');
      expect(err.message).toMatch(
        /^1 validation error detected: Value '\[\{TargetGroupArn=arn:.*' at 'actions\.1\.member\.forwardConfig\.targetGroups' failed to satisfy constraint: Member must have length less than or equal to 5$/,
      );
    });

    it('takes weights 0 to 999 and refuses 1000', async () => {
      // Prepare
      const rule = await elb.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: 2,
          Conditions: [{ Field: 'path-pattern', Values: ['/weights/*'] }],
          Actions: forward(targetGroupArns.slice(0, 2), (i) => (i === 0 ? 999 : 0)),
        }),
      );

      // Act
      const err = await refusal(
        elb.send(new ModifyRuleCommand({ RuleArn: rule.Rules![0]!.RuleArn!, Actions: forward(targetGroupArns.slice(0, 2), (i) => (i === 0 ? 1000 : 0)) })),
      );

      // Assess
      expect(err).toEqual({
        name: 'ValidationError',
        message:
          "1 validation error detected: Value '1000' at 'actions.1.member.forwardConfig.targetGroups.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 999",
        status: 400,
      });
    });

    it('takes 50 tags on an Auto Scaling group and refuses the 51st', async () => {
      // Prepare
      const group = (name: string, count: number) =>
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
          MinSize: 0,
          MaxSize: 1,
          DesiredCapacity: 0,
          VPCZoneIdentifier: subnetId,
          Tags: tags(count).map((t) => ({ ...t, PropagateAtLaunch: false })),
        });
      await asg.send(group('strict-asg', 50));
      const tagOf = (key: string) => ({ ResourceId: 'strict-asg', ResourceType: 'auto-scaling-group', Key: key, Value: 'w', PropagateAtLaunch: false });

      // Act + Assess: a changed value is no new tag; a new key is the 51st.
      await asg.send(new CreateOrUpdateTagsCommand({ Tags: [tagOf('k0')] }));
      expect(await refusal(asg.send(new CreateOrUpdateTagsCommand({ Tags: [tagOf('k50')] })))).toEqual({
        name: 'LimitExceededFault', // the SDK names the error by its shape; AWS's code is LimitExceeded
        message: 'The quota of 50 tags per Auto Scaling group has been reached: strict-asg would have 51.',
        status: 400,
      });
      expect(await refusal(asg.send(group('strict-asg-51', 51)))).toMatchObject({ name: 'LimitExceededFault' });
    });

    it('takes 50 lifecycle hooks on an Auto Scaling group and refuses the 51st', async () => {
      // Prepare
      await asg.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: 'strict-hooks',
          LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
          MinSize: 0,
          MaxSize: 1,
          VPCZoneIdentifier: subnetId,
        }),
      );
      const hook = (i: number) =>
        new PutLifecycleHookCommand({ AutoScalingGroupName: 'strict-hooks', LifecycleHookName: `hook-${i}`, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' });
      for (let i = 0; i < 50; i++) await asg.send(hook(i));

      // Act + Assess
      await asg.send(hook(0)); // updating one is fine
      expect(await refusal(asg.send(hook(50)))).toEqual({
        name: 'LimitExceededFault',
        message: 'The quota of 50 lifecycle hooks per Auto Scaling group has been reached: strict-hooks would have 51.',
        status: 400,
      });
    });

    it('takes 50 tags on an ELBv2 resource (moto refused the 11th) and refuses the 51st', async () => {
      // Act + Assess
      await elb.send(new AddTagsCommand({ ResourceArns: [targetGroupArns[5]!], Tags: tags(50) }));
      expect(await refusal(elb.send(new AddTagsCommand({ ResourceArns: [targetGroupArns[5]!], Tags: tags(1, 'extra') })))).toMatchObject({
        name: 'TooManyTagsException',
        status: 400,
      });
    });

    it('refuses the 101st rule of a load balancer', async () => {
      // Prepare: two rules exist (the tests above); 98 more make 100, not counting the default.
      for (let priority = 3; priority <= 100; priority++) {
        await elb.send(
          new CreateRuleCommand({
            ListenerArn: listenerArn,
            Priority: priority,
            Conditions: [{ Field: 'path-pattern', Values: [`/r${priority}/*`] }],
            Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArns[0] }],
          }),
        );
      }

      // Act
      const err = await refusal(
        elb.send(
          new CreateRuleCommand({
            ListenerArn: listenerArn,
            Priority: 101,
            Conditions: [{ Field: 'path-pattern', Values: ['/r101/*'] }],
            Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArns[0] }],
          }),
        ),
      );

      // Assess
      expect(err).toMatchObject({ name: 'TooManyRulesException', status: 400 });
    }, 60_000);
  });

  it('counts the calls it checked and the ones it refused', async () => {
    // Act
    const report = await emulator.strictReport();

    // Assess: every call above was checked; the refusals are the seeded mistakes.
    expect(report.enabled).toBe(true);
    expect(report.validated).toBe(183); // 12 to prepare, 171 in the tests above
    expect(report.byOperation['autoscaling.PutLifecycleHook']).toBe(52);
    expect(report.byOperation['elbv2.CreateRule']).toBe(101);
    expect(report.rejected).toBe(11);
    expect(report.quotaRejected).toBe(5);
    expect(report.unchecked).toEqual({});
  });
});

describe('Strict emulator: off', () => {
  it('lets plain moto accept the mistakes the strict check refuses', async () => {
    // Prepare
    const emulator = await startEmulator({ strict: false });
    const config = { endpoint: emulator.endpoint, region, credentials, maxAttempts: 1 };
    const ec2 = new EC2Client(config);
    const elb = withExtraParam(new ElasticLoadBalancingV2Client(config), '&PageSiz=5');
    try {
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;

      // Act: an unknown member, a healthy threshold over 10, an IP address type outside the enum.
      await elb.send(new DescribeTargetGroupsCommand({}));
      await elb.send(new CreateTargetGroupCommand({ ...TG('loose-range', vpcId), HealthyThresholdCount: 11 }));
      await elb.send(new CreateTargetGroupCommand({ ...TG('loose-enum', vpcId), IpAddressType: 'ipv5' as never }));

      // Assess
      const report = await emulator.strictReport();
      expect(report).toMatchObject({ enabled: false, validated: 0, rejected: 0 });
    } finally {
      ec2.destroy();
      elb.destroy();
      await emulator.stop();
    }
  });
});
