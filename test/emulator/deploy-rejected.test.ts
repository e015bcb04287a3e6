import { CreateOrUpdateTagsCommand, DeleteTagsCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { AddTagsCommand, DescribeTagsCommand, DescribeTargetGroupsCommand, RemoveTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { META_ROLE_ARN, metaSsm, seedAccount, seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';

/** Everything in the workload account and the ledger, to prove a rejection changed nothing. */
async function everything(t: TestDeployomat, svc: SeededService) {
  const { autoscaling, elb } = await workloadClients();
  const asgs = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups!.map((g) => g.AutoScalingGroupName).sort();
  const tgs = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups!.map((g) => g.TargetGroupName).sort();
  const ledger = await controlPlaneClients().dynamo.send(new ScanCommand({ TableName: t.local.install.tableName }));
  // The audit history records every request (that is its job); deploy state must not change.
  const state = (ledger.Items ?? []).filter((i) => !String(i.sk).startsWith('EVENT#'));
  return { asgs, tgs, ledger: state, service: shape(await snapshotService('cart', t.account.listenerArn, svc.launchTemplateId)) };
}

describe('Rejected deploys (emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const slug = 'acme-rej';

  beforeAll(async () => {
    // A production installation: only it may deploy to acme-prod too (MetaAccessRole).
    t = await startTestDeployomat({ slug, installationEnvironment: 'production' });
    await seedAccount({ slug: 'acme-prod', environment: 'production' });
    // Issue #12, finding 12: the registry says 222222222222, its role parameter names another account's role.
    const mixed = await seedAccount({ slug: 'acme-mixed', name: 'mixed' });
    await (await metaSsm()).send(new PutParameterCommand({ Name: `${mixed.prefix}/roles/deployomat`, Value: META_ROLE_ARN, Type: 'String', Overwrite: true }));
    svc = await seedService(t.account, { service: 'cart', web: true, amis: ['cart-v1'] });
  });
  afterAll(async () => t?.stop());

  const base = () => ({ AccountCanonicalSlug: slug, ServiceName: 'cart', AmiId: svc.amis['cart-v1'] });

  it.each([
    ['a negative time', () => ({ ...base(), DeployConfig: { BakeTime: -5 } }), 'DeployConfig.BakeTime: must not be negative'],
    ['a shift outside 1-100', () => ({ ...base(), DeployConfig: { TrafficShiftPerStep: 150 } }), 'DeployConfig.TrafficShiftPerStep: must be between 1 and 100'],
    ['an unknown $ command', () => ({ ...base(), AmiId: '$newest' }), 'AmiId: unknown AmiId command "$newest"'],
    ['a service name escaping its path', () => ({ ...base(), ServiceName: '../../roles' }), 'ServiceName: must be 1-191 characters'],
    ['an unknown option', () => ({ ...base(), DeployConfig: { BakeTme: 5 } }), 'DeployConfig: unknown field(s) "BakeTme" (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)'],
    ['a missing AmiId', () => ({ AccountCanonicalSlug: slug, ServiceName: 'cart' }), 'AmiId is required'],
    ['an unknown account', () => ({ ...base(), AccountCanonicalSlug: 'nope' }), 'Unable to locate account information for nope'],
    ['an unknown service', () => ({ ...base(), ServiceName: 'nosuch' }), 'Could not load nosuch-template. Is ServiceName correct?'],
    [
      "a registered role outside the registry's account",
      () => ({ ...base(), AccountCanonicalSlug: 'acme-mixed' }),
      'names a role in account 111111111111, but /omat/account_registry/acme-mixed says acme-mixed is account 222222222222',
    ],
    ['an AMI that does not exist', () => ({ ...base(), AmiId: 'ami-0000000000000dead' }), 'AMI ami-0000000000000dead does not exist'],
    ['a name prefix matching nothing', () => ({ ...base(), AmiId: '$name-prefix:zzz-none' }), 'No available AMI named "zzz-none*"'],
    ['a launch template version that does not exist', () => ({ ...base(), AmiId: '$launchtemplate:99' }), 'has no version 99'],
    [
      'automatic undeploy where undeploys are not allowed',
      () => ({ ...base(), AccountCanonicalSlug: 'acme-prod', ServiceName: 'nosuch', DeployConfig: { AutomaticUndeployMinutes: 60 } }),
      'DeployConfig.AutomaticUndeployMinutes needs undeploys to be allowed',
    ],
  ])('rejects %s with a reason, before changing anything', async (_what, detail, reason) => {
    // Prepare
    const before = await everything(t, svc);

    // Act
    const eventId = await t.send('DeployRequested', detail());
    const outcome = await t.observer.outcome(eventId, 30_000);

    // Assess
    expect(outcome.detailType).toBe('DeployRejected');
    expect((outcome.detail.Reasons as string[]).join('\n')).toContain(reason);
    expect(await everything(t, svc)).toEqual(before);
  });

  it('lists every problem of a request in one rejection', async () => {
    const eventId = await t.send('DeployRequested', { ...base(), AmiId: '$x', DeployConfig: { WaitPerStep: -1, HealthTimeout: 'soon' } });
    const outcome = await t.observer.outcome(eventId, 30_000);

    expect(outcome.detail.Reasons).toEqual([
      'AmiId: unknown AmiId command "$x"; use $name-prefix:<prefix> or $launchtemplate:<N|$Latest|$Default|$LatestMinus:k>',
      'DeployConfig.WaitPerStep: must not be negative',
      'DeployConfig.HealthTimeout: must be a number of seconds',
    ]);
  });

  it('rejects a template whose copy would be over the tag quota (50), before changing anything', async () => {
    // Prepare: the template ASG and its target group at AWS's 50 tags (valid for them), so their
    // copies, with Deployomat's 3 tags, would have 53: AWS refuses them (strict emulator).
    const { autoscaling, elb } = await workloadClients();
    const asgName = 'cart-template';
    const tgArn = svc.templateTargetGroupArn!;
    const asgHas = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] }))).AutoScalingGroups![0]!.Tags!.length;
    const tgHas = (await elb.send(new DescribeTagsCommand({ ResourceArns: [tgArn] }))).TagDescriptions![0]!.Tags!.length;
    const extra = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `team:${i}`, Value: 'x' }));
    const asgExtra = extra(50 - asgHas).map((tag) => ({ ...tag, ResourceId: asgName, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false }));
    for (let i = 0; i < asgExtra.length; i += 20) await autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: asgExtra.slice(i, i + 20) }));
    await elb.send(new AddTagsCommand({ ResourceArns: [tgArn], Tags: extra(50 - tgHas) }));
    const before = await everything(t, svc);
    try {
      // Act
      const eventId = await t.send('DeployRequested', base());
      const outcome = await t.observer.outcome(eventId, 30_000);

      // Assess
      expect(outcome.detailType).toBe('DeployRejected');
      expect(outcome.detail.Reasons).toEqual([
        "cart-template has 50 tags to copy; with Deployomat's 3 its copy would have 53, and AWS allows 50: remove at least 3",
        `Target group ${tgArn} has 50 tags to copy; with Deployomat's 3 its copy would have 53, and AWS allows 50: remove at least 3`,
      ]);
      expect(await everything(t, svc)).toEqual(before);
    } finally {
      await autoscaling.send(new DeleteTagsCommand({ Tags: asgExtra.map(({ Key, ResourceId, ResourceType }) => ({ Key, ResourceId, ResourceType })) }));
      await elb.send(new RemoveTagsCommand({ ResourceArns: [tgArn], TagKeys: extra(50 - tgHas).map((tag) => tag.Key) }));
    }
  });

  it('also lists both template and undeploy problems together', async () => {
    const eventId = await t.send('DeployRequested', { ...base(), AccountCanonicalSlug: 'acme-prod', ServiceName: 'ghost', DeployConfig: { AutomaticUndeployMinutes: 5 } });
    const outcome = await t.observer.outcome(eventId, 30_000);

    expect(outcome.detail.Reasons).toHaveLength(2);
  });
});
