/**
 * Proves the emulator's test controls (infra/local/emulator/moto_server.py):
 *  a. ELBv2 targets report `initial` for initialHealthSeconds after registration, then `healthy`;
 *  b. instances from an AMI tagged deployomat-emulator:health=unhealthy are unhealthy targets
 *     and `Unhealthy` in Auto Scaling;
 *  c. settings change at runtime through /_emulator/config;
 *  h. `faults` make chosen AWS API actions fail with errors the AWS SDK parses like AWS's;
 *  q. an AMI shared with another account is visible there (and only there), as on AWS.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import { createImageVersion } from '../../domain/aws/launch-template';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { startEmulator, type Emulator } from '../../infra/local/emulator';

const INITIAL_SECONDS = 1.5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let emulator: Emulator;
let clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
let ec2: EC2Client;
let asg: AutoScalingClient;
let elb: ElasticLoadBalancingV2Client;
let vpcId: string;
let subnetId: string;
let goodAmi: string;
let badAmi: string;

beforeAll(async () => {
  emulator = await startEmulator({ initialHealthSeconds: INITIAL_SECONDS });
  clientConfig = {
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  ec2 = new EC2Client(clientConfig);
  asg = new AutoScalingClient(clientConfig);
  elb = new ElasticLoadBalancingV2Client(clientConfig);

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

async function createLaunchTemplate(name: string, ami: string): Promise<string> {
  return (
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `lt-${name}`,
        LaunchTemplateData: { ImageId: ami, InstanceType: 't3.micro' },
      }),
    )
  ).LaunchTemplate!.LaunchTemplateId!;
}

/** Creates a target group and an ASG (capacity 2) from `ami` attached to it. */
async function deployGroup(name: string, ami: string): Promise<{ targetGroupArn: string; asgName: string }> {
  const targetGroupArn = (
    await elb.send(
      new CreateTargetGroupCommand({ Name: `tg-${name}`, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'instance' }),
    )
  ).TargetGroups![0]!.TargetGroupArn!;
  const launchTemplateId = await createLaunchTemplate(name, ami);
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
    expect(await read.json()).toEqual({ initialHealthSeconds: 0, faults: [], consistency: { maxLagMs: 0, minLagMs: 0, seed: 0 } });
    // The window is evaluated when health is read, so the young targets are healthy at once.
    expect((await targetStates(targetGroupArn)).map((t) => t.state)).toEqual(['healthy', 'healthy']);

    await emulator.configure({ initialHealthSeconds: 60 });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: asgName, DesiredCapacity: 3 }));
    expect((await targetStates(targetGroupArn)).map((t) => t.state)).toEqual(['initial', 'initial', 'initial']);

    await emulator.configure({ initialHealthSeconds: INITIAL_SECONDS });
    await expect(emulator.configure({ initialHealthSeconds: -1 })).rejects.toThrow(/HTTP 400/);
  }, 15_000);

  describe('fault injection', () => {
    // maxAttempts: 1 wherever fail counts are checked: the SDK retries 5xx and throttling
    // errors itself (ServiceUnavailable/503 three times by default), which would silently
    // use up the fault's count.
    const once = () => ({ ...clientConfig, maxAttempts: 1 });

    afterEach(async () => {
      await emulator.configure({ faults: [] });
    });

    it('fails a query-protocol action `count` times with the configured code, then lets it through', async () => {
      const asgOnce = new AutoScalingClient(once());
      try {
        const launchTemplateId = await createLaunchTemplate('fault', goodAmi);
        const create = () =>
          asgOnce.send(
            new CreateAutoScalingGroupCommand({
              AutoScalingGroupName: 'asg-fault',
              LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
              MinSize: 0,
              MaxSize: 1,
              DesiredCapacity: 0,
              VPCZoneIdentifier: subnetId,
            }),
          );
        await emulator.configure({
          faults: [
            { action: 'CreateAutoScalingGroup', count: 2, code: 'ServiceUnavailable', status: 503, message: 'injected' },
          ],
        });

        for (const remaining of [1, 0]) {
          const err = await create().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toMatchObject({
            name: 'ServiceUnavailable',
            message: 'injected',
            $fault: 'server',
            $metadata: { httpStatusCode: 503 },
          });
          // GET shows the remaining count; the other setting is left as it was.
          expect(await emulator.readConfig()).toEqual({
            initialHealthSeconds: INITIAL_SECONDS,
            consistency: { maxLagMs: 0, minLagMs: 0, seed: 0 },
            faults: [
              { action: 'CreateAutoScalingGroup', count: remaining, code: 'ServiceUnavailable', status: 503, message: 'injected' },
            ],
          });
        }
        expect(
          (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg-fault'] })))
            .AutoScalingGroups,
        ).toEqual([]);

        await create(); // the fault is used up
        const groups = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg-fault'] }));
        expect(groups.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['asg-fault']);

        // Setting only initialHealthSeconds keeps the faults list.
        await emulator.configure({ initialHealthSeconds: INITIAL_SECONDS });
        expect((await emulator.readConfig()).faults.map((f) => f.count)).toEqual([0]);
      } finally {
        asgOnce.destroy();
      }
    }, 15_000);

    it('fails a JSON-protocol action with an error the SDK parses', async () => {
      const ssm = new SSMClient(once());
      try {
        await ssm.send(new PutParameterCommand({ Name: '/fault/p', Value: 'v', Type: 'String' }));
        await emulator.configure({ faults: [{ action: 'GetParameter', count: 1, code: 'AccessDeniedException' }] });

        await expect(ssm.send(new GetParameterCommand({ Name: '/fault/p' }))).rejects.toMatchObject({
          name: 'AccessDeniedException',
          message: 'Fault injected by the Deployomat emulator',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
        expect((await ssm.send(new GetParameterCommand({ Name: '/fault/p' }))).Parameter?.Value).toBe('v');
      } finally {
        ssm.destroy();
      }
    });

    it('matches `account` against the account of the request credentials', async () => {
      const sts = new STSClient(clientConfig);
      const creds = (
        await sts.send(
          new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/x', RoleSessionName: 'fault-test' }),
        )
      ).Credentials!;
      sts.destroy();
      const asgOther = new AutoScalingClient({
        ...once(),
        credentials: {
          accessKeyId: creds.AccessKeyId!,
          secretAccessKey: creds.SecretAccessKey!,
          sessionToken: creds.SessionToken!,
        },
      });
      try {
        const { asgName } = await deployGroup('account', goodAmi);
        await emulator.configure({ faults: [{ action: 'DescribeAutoScalingGroups', account: '222222222222' }] });

        // The default account is unaffected; moto still gets the whole (re-injected) body.
        const mine = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] }));
        expect(mine.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual([asgName]);
        for (let i = 0; i < 2; i++) {
          await expect(asgOther.send(new DescribeAutoScalingGroupsCommand({}))).rejects.toMatchObject({
            name: 'DeployomatEmulatorFault',
            $metadata: { httpStatusCode: 400 },
          });
        }
        expect((await emulator.readConfig()).faults).toEqual([
          {
            action: 'DescribeAutoScalingGroups',
            account: '222222222222',
            count: -1,
            code: 'DeployomatEmulatorFault',
            status: 400,
            message: 'Fault injected by the Deployomat emulator',
          },
        ]);
      } finally {
        asgOther.destroy();
      }
    }, 15_000);

    it('fails a share of calls by probability and rejects invalid faults', async () => {
      await emulator.configure({ faults: [{ action: 'DescribeVpcs', probability: 0 }] });
      await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
      await emulator.configure({ faults: [{ action: 'DescribeVpcs', probability: 1, count: 1, code: 'Throttling' }] });
      const ec2Once = new EC2Client(once());
      try {
        // EC2's <Response><Errors> shape is parsed too.
        await expect(ec2Once.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).rejects.toMatchObject({
          name: 'Throttling',
        });
      } finally {
        ec2Once.destroy();
      }
      expect((await emulator.readConfig()).faults.map((f) => f.count)).toEqual([0]);

      for (const fault of [
        { action: '' },
        { action: 'X', count: -2 },
        { action: 'X', status: 200 },
        { action: 'X', probability: 2 },
        { action: 'X', account: 'abc' },
        { action: 'X', delaySeconds: 0 },
        { action: 'X', delaySeconds: 901 },
        { action: 'X', typo: 1 },
      ]) {
        await expect(emulator.configure({ faults: [fault as never] })).rejects.toThrow(/HTTP 400/);
      }
    });
  });

  it('lets exactly one of many concurrent conditional writes to an item succeed, as DynamoDB does', async () => {
    const db = new DynamoDBClient(clientConfig);
    try {
      await db.send(
        new CreateTableCommand({
          TableName: 'race',
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        }),
      );
      for (let round = 0; round < 5; round++) {
        await db.send(new PutItemCommand({ TableName: 'race', Item: { pk: { S: 'svc' }, Seq: { N: '0' } } }));
        // Other items make moto's whole-table backup (taken by every transaction) slow, as the ledger's history does.
        if (round === 0) {
          for (let i = 0; i < 200; i++) await db.send(new PutItemCommand({ TableName: 'race', Item: { pk: { S: `history-${i}` }, Body: { S: 'x'.repeat(500) } } }));
        }
        // Twelve writers all try to move the item from Seq 0 to Seq 1 (as a step and a cancel do).
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) =>
            db.send(
              new TransactWriteItemsCommand({
                TransactItems: [
                  {
                    Update: {
                      TableName: 'race',
                      Key: { pk: { S: 'svc' } },
                      ConditionExpression: 'Seq = :from',
                      UpdateExpression: 'SET Seq = :to, Writer = :me',
                      ExpressionAttributeValues: { ':from': { N: '0' }, ':to': { N: '1' }, ':me': { N: String(i) } },
                    },
                  },
                ],
              }),
            ),
          ),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        // ...and its write stays: a losing transaction must not roll the table back over it.
        const item = (await db.send(new GetItemCommand({ TableName: 'race', Key: { pk: { S: 'svc' } }, ConsistentRead: true }))).Item;
        expect(item).toMatchObject({ Seq: { N: '1' }, Writer: { N: String(winners[0]) } });
      }
    } finally {
      db.destroy();
    }
  });

  it('undoes exactly the writes of a cancelled transaction, and keeps the rest of the table', async () => {
    const db = new DynamoDBClient(clientConfig);
    const item = (pk: string, sk: string, extra: Record<string, { S: string } | { N: string }> = {}) => ({ pk: { S: pk }, sk: { S: sk }, ...extra });
    const table = async () =>
      ((await db.send(new ScanCommand({ TableName: 'ledger', ConsistentRead: true }))).Items ?? [])
        .map((i) => JSON.stringify(Object.entries(i).sort(([a], [b]) => a.localeCompare(b))))
        .sort();
    try {
      await db.send(
        new CreateTableCommand({
          TableName: 'ledger',
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
        }),
      );
      await db.send(new PutItemCommand({ TableName: 'ledger', Item: item('svc', 'service', { Seq: { N: '3' } }) }));
      await db.send(new PutItemCommand({ TableName: 'ledger', Item: item('svc', 'deploy#old', { Result: { S: 'Completed' } }) }));
      await db.send(new PutItemCommand({ TableName: 'ledger', Item: item('svc', 'gate', { Open: { S: 'no' } }) }));
      const before = await table();

      // Writes an item, updates another, deletes a third, then a condition fails: all must be undone.
      const transaction = () =>
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'ledger', Item: item('svc', 'deploy#new', { Result: { S: 'Starting' } }) } },
            { Update: { TableName: 'ledger', Key: item('svc', 'service'), UpdateExpression: 'SET Seq = :four', ExpressionAttributeValues: { ':four': { N: '4' } } } },
            { Delete: { TableName: 'ledger', Key: item('svc', 'deploy#old') } },
            { ConditionCheck: { TableName: 'ledger', Key: item('svc', 'gate'), ConditionExpression: '#o = :yes', ExpressionAttributeNames: { '#o': 'Open' }, ExpressionAttributeValues: { ':yes': { S: 'yes' } } } },
          ],
        });
      const cancelled = db.send(transaction());
      await expect(cancelled).rejects.toBeInstanceOf(TransactionCanceledException);
      expect(await table()).toEqual(before);

      // The same writes with the gate open all land.
      await db.send(new PutItemCommand({ TableName: 'ledger', Item: item('svc', 'gate', { Open: { S: 'yes' } }) }));
      await db.send(transaction());
      const after = (await db.send(new ScanCommand({ TableName: 'ledger', ConsistentRead: true }))).Items ?? [];
      expect(after.map((i) => i.sk!.S).sort()).toEqual(['deploy#new', 'gate', 'service']);
      expect(after.find((i) => i.sk!.S === 'service')).toMatchObject({ Seq: { N: '4' } });
    } finally {
      db.destroy();
    }
  });

  it("shows an AMI shared with another account to that account only, by id, by owner and by filter, as EC2 does", async () => {
    // Prepare: an AMI of the default account shared with 222222222222, another not shared.
    const shared = (await ec2.send(new RegisterImageCommand({ Name: 'share-me-1' }))).ImageId!;
    const kept = (await ec2.send(new RegisterImageCommand({ Name: 'share-me-2' }))).ImageId!;
    await ec2.send(new ModifyImageAttributeCommand({ ImageId: shared, LaunchPermission: { Add: [{ UserId: '222222222222' }] } }));
    const owner = (await ec2.send(new DescribeImagesCommand({ ImageIds: [shared] }))).Images![0]!.OwnerId!;
    const inAccount = async (account: string) => {
      const c = (await new STSClient(clientConfig).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/x`, RoleSessionName: 'share' }))).Credentials!;
      return new EC2Client({ ...clientConfig, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken } });
    };
    const names = { Filters: [{ Name: 'name', Values: ['share-me-*'] }] };
    const [workload, other] = [await inAccount('222222222222'), await inAccount('333333333333')];

    // Act
    const byOwner = (await workload.send(new DescribeImagesCommand({ Owners: [owner], ...names }))).Images!.map((i) => i.ImageId);
    const ownOnly = (await workload.send(new DescribeImagesCommand({ Owners: ['self'], ...names }))).Images!;
    const byId = (await workload.send(new DescribeImagesCommand({ ImageIds: [shared] }))).Images!.map((i) => [i.ImageId, i.OwnerId]);
    const notShared = await workload.send(new DescribeImagesCommand({ ImageIds: [kept] })).catch((e: Error) => e.name);
    const elsewhere = (await other.send(new DescribeImagesCommand({ Owners: [owner], ...names }))).Images!;

    // Assess
    expect(byOwner).toEqual([shared]);
    expect(ownOnly).toEqual([]);
    expect(byId).toEqual([[shared, owner]]);
    expect(notShared).toBe('InvalidAMIID.NotFound');
    expect(elsewhere).toEqual([]);
  });

  it('returns the same launch template version for a repeated ClientToken, as EC2 does', async () => {
    // Prepare
    const lt = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'token-lt', LaunchTemplateData: { ImageId: 'ami-12c6146b', InstanceType: 't3.micro' } }));
    const id = lt.LaunchTemplate!.LaunchTemplateId!;
    const create = (token: string) =>
      ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, ClientToken: token, SourceVersion: '$Latest', LaunchTemplateData: { ImageId: 'ami-1234abcd' } }));

    // Act: one token three times (two at once), another token once; then a deploy's step run twice at once.
    const [a, b] = await Promise.all([create('token-1'), create('token-1')]);
    const c = await create('token-1');
    const d = await create('token-2');
    const [e, f] = await Promise.all([
      createImageVersion(ec2, { launchTemplateId: id, amiId: 'ami-5678abcd', deployId: 'twin-deploy', sourceVersion: 3 }),
      createImageVersion(ec2, { launchTemplateId: id, amiId: 'ami-5678abcd', deployId: 'twin-deploy', sourceVersion: 3 }),
    ]);

    // Assess
    const numbers = [a, b, c, d].map((r) => r.LaunchTemplateVersion!.VersionNumber);
    expect(numbers).toEqual([2, 2, 2, 3]);
    expect([e, f]).toEqual([4, 4]);
    const versions = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }))).LaunchTemplateVersions!;
    expect(versions.map((v) => v.VersionNumber).sort()).toEqual([1, 2, 3, 4]);
  });
});
