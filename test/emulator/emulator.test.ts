/**
 * Proves the emulator's test controls (infra/local/emulator/moto_server.py):
 *  a. ELBv2 targets report `initial` for initialHealthSeconds after registration, then `healthy`;
 *  b. instances from an AMI tagged deployomat-emulator:health=unhealthy are unhealthy targets
 *     and `Unhealthy` in Auto Scaling;
 *  c. settings change at runtime through /_emulator/config.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startEmulator, type Emulator } from '../../infra/local/emulator';

const INITIAL_SECONDS = 1.5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let emulator: Emulator;
let ec2: EC2Client;
let asg: AutoScalingClient;
let elb: ElasticLoadBalancingV2Client;
let vpcId: string;
let subnetId: string;
let goodAmi: string;
let badAmi: string;

beforeAll(async () => {
  emulator = await startEmulator({ initialHealthSeconds: INITIAL_SECONDS });
  const config = {
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  ec2 = new EC2Client(config);
  asg = new AutoScalingClient(config);
  elb = new ElasticLoadBalancingV2Client(config);

  vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  subnetId = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' }),
    )
  ).Subnet!.SubnetId!;
  const images = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images ?? [];
  expect(images.length).toBeGreaterThanOrEqual(2);
  goodAmi = images[0]!.ImageId!;
  badAmi = images[1]!.ImageId!;
  await ec2.send(
    new CreateTagsCommand({
      Resources: [badAmi],
      Tags: [{ Key: 'deployomat-emulator:health', Value: 'unhealthy' }],
    }),
  );
}, 30_000);

afterAll(async () => {
  asg?.destroy();
  ec2?.destroy();
  elb?.destroy();
  await emulator?.stop();
});

/** Creates a target group and an ASG (capacity 2) from `ami` attached to it. */
async function deployGroup(name: string, ami: string): Promise<{ targetGroupArn: string; asgName: string }> {
  const targetGroupArn = (
    await elb.send(
      new CreateTargetGroupCommand({ Name: `tg-${name}`, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'instance' }),
    )
  ).TargetGroups![0]!.TargetGroupArn!;
  const launchTemplateId = (
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `lt-${name}`,
        LaunchTemplateData: { ImageId: ami, InstanceType: 't3.micro' },
      }),
    )
  ).LaunchTemplate!.LaunchTemplateId!;
  const asgName = `asg-${name}`;
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: asgName,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 2,
      VPCZoneIdentifier: subnetId,
      TargetGroupARNs: [targetGroupArn],
      HealthCheckType: 'ELB',
    }),
  );
  return { targetGroupArn, asgName };
}

async function targetStates(targetGroupArn: string): Promise<{ state?: string; reason?: string }[]> {
  const res = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (res.TargetHealthDescriptions ?? []).map((d) => ({
    state: d.TargetHealth?.State,
    reason: d.TargetHealth?.Reason,
  }));
}

async function asgHealth(asgName: string): Promise<{ fromGroups: string[]; fromInstances: string[] }> {
  const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] })))
    .AutoScalingGroups![0]!;
  const instances = group.Instances ?? [];
  const detail = await asg.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: instances.map((i) => i.InstanceId!) }),
  );
  return {
    fromGroups: instances.map((i) => i.HealthStatus!),
    fromInstances: (detail.AutoScalingInstances ?? []).map((i) => i.HealthStatus!),
  };
}

describe('local AWS emulator', () => {
  it('reports new targets as initial, then healthy after initialHealthSeconds', async () => {
    const { targetGroupArn, asgName } = await deployGroup('good', goodAmi);
    const registeredAt = Date.now();

    const early = await targetStates(targetGroupArn);
    expect(Date.now() - registeredAt).toBeLessThan(INITIAL_SECONDS * 1000); // else the check below is moot
    expect(early).toEqual([
      { state: 'initial', reason: 'Elb.RegistrationInProgress' },
      { state: 'initial', reason: 'Elb.RegistrationInProgress' },
    ]);

    await sleep(INITIAL_SECONDS * 1000 + 300);
    expect((await targetStates(targetGroupArn)).map((t) => t.state)).toEqual(['healthy', 'healthy']);
    expect(await asgHealth(asgName)).toEqual({
      fromGroups: ['Healthy', 'Healthy'],
      fromInstances: ['Healthy', 'Healthy'],
    });
  }, 15_000);

  it('fails health checks for instances launched from an AMI tagged unhealthy', async () => {
    const { targetGroupArn, asgName } = await deployGroup('bad', badAmi);

    // Auto Scaling sees the failure at once (so non-web health counting fails too)...
    expect(await asgHealth(asgName)).toEqual({
      fromGroups: ['Unhealthy', 'Unhealthy'],
      fromInstances: ['Unhealthy', 'Unhealthy'],
    });
    // ...while the load balancer first goes through `initial`, then stays unhealthy.
    expect((await targetStates(targetGroupArn)).map((t) => t.state)).toEqual(['initial', 'initial']);
    await sleep(INITIAL_SECONDS * 1000 + 300);
    for (let i = 0; i < 2; i++) {
      expect(await targetStates(targetGroupArn)).toEqual([
        { state: 'unhealthy', reason: 'Target.FailedHealthChecks' },
        { state: 'unhealthy', reason: 'Target.FailedHealthChecks' },
      ]);
      await sleep(200);
    }
  }, 15_000);

  it('changes settings at runtime through /_emulator/config', async () => {
    const { targetGroupArn, asgName } = await deployGroup('runtime', goodAmi);

    await emulator.configure({ initialHealthSeconds: 0 });
    const read = await fetch(`${emulator.endpoint}/_emulator/config`);
    expect(await read.json()).toEqual({ initialHealthSeconds: 0 });
    // The window is evaluated when health is read, so the young targets are healthy at once.
    expect((await targetStates(targetGroupArn)).map((t) => t.state)).toEqual(['healthy', 'healthy']);

    await emulator.configure({ initialHealthSeconds: 60 });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: asgName, DesiredCapacity: 3 }));
    expect((await targetStates(targetGroupArn)).map((t) => t.state)).toEqual(['initial', 'initial', 'initial']);

    await emulator.configure({ initialHealthSeconds: INITIAL_SECONDS });
    await expect(emulator.configure({ initialHealthSeconds: -1 })).rejects.toThrow(/HTTP 400/);
  }, 15_000);
});
