import { EventBridgeClient, ListTargetsByRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { resourceNames } from '../../events/topology';
import { seedService, WORKLOAD_ACCOUNT, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { findLeftovers } from '../../infra/local/leftovers';
import { snapshotService } from '../helpers/workload';

/** Deploys that stop moving must not stay "in progress": the watchdog and the DLQ roll them back. */
describe('Deploys that stop moving (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  const slug = 'acme-fail';
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);

  beforeAll(async () => {
    // A 1 s margin on top of each deploy's expected duration, and fast retries.
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_DEADLINE_MARGIN_SECONDS: '1', DEPLOYOMAT_RETRY_BASE_SECONDS: '1' } });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2'] });
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v1'], DeployId: 'base', DeployConfig: { ...FAST, HealthTimeout: 3 } });
    expect((await t.observer.outcome('base', 60_000)).detailType).toBe('DeployCompleted');
  });
  afterAll(async () => t?.stop());

  it('rolls back a deploy whose next event was lost, once its deadline passes', async () => {
    // Lose every BakeElapsed: detach the finish-deploy handler's queue from its rule.
    const events = new EventBridgeClient({});
    const rule = resourceNames().rule('finish-deploy');
    const bus = t.local.install.busName;
    const targets = (await events.send(new ListTargetsByRuleCommand({ Rule: rule, EventBusName: bus }))).Targets!;
    await events.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: targets.map((x) => x.Id!) }));
    const before = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    try {
      await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v2'], DeployId: 'lost', DeployConfig: { ...FAST, HealthTimeout: 3 } });
      const outcome = await t.observer.outcome('lost', 60_000);

      expect(outcome.detailType).toBe('DeployFailed');
      expect(outcome.detail.Phase).toBe('Baking');
      // HealthTimeout 3 + 2 steps × 1 s + BakeTime 1 + margin 1
      expect(outcome.detail.Errors).toEqual(['the deploy did not finish within its deadline of 7 s (stuck in Baking)']);
    } finally {
      await events.send(new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: targets }));
    }
    const after = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(after.asgs.map((g) => g.AutoScalingGroupName)).toEqual(before.asgs.map((g) => g.AutoScalingGroupName));
    expect(after.rules).toEqual(before.rules);
    expect(await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' })).toMatchObject({ Phase: 'RolledBack' });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('rolls back a deploy whose step keeps failing: the message is dead-lettered and turned into DeployFailed', async () => {
    // Every health count in the workload account fails, as if the role lost a permission.
    await t.emulator.configure({ faults: [{ action: 'DescribeTargetHealth', account: WORKLOAD_ACCOUNT, code: 'AccessDenied', message: 'not allowed' }] });
    const before = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    try {
      await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v1'], DeployId: 'poison', DeployConfig: { ...FAST, HealthTimeout: 300 } });
      const outcome = await t.observer.outcome('poison', 90_000);

      expect(outcome.detailType).toBe('DeployFailed');
      expect(outcome.detail.Phase).toBe('WaitingHealthy');
      expect((outcome.detail.Errors as string[])[0]).toMatch(/^AsgCloned could not be handled \(dead-lettered from .*check-health-dlq after \d+ receives\): AccessDenied: not allowed$/);
    } finally {
      await t.emulator.configure({ faults: [] });
    }
    const after = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(after.asgs.map((g) => g.AutoScalingGroupName)).toEqual(before.asgs.map((g) => g.AutoScalingGroupName));
    expect(after.rules).toEqual(before.rules);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('reports a rollback that cannot finish (RollbackFailed), and a new cancel retries it', async () => {
    // The deploy fails its health check; its rollback then cannot delete the target group.
    await t.emulator.configure({ faults: [{ action: 'DeleteTargetGroup', account: WORKLOAD_ACCOUNT, code: 'ResourceInUse', message: 'in use' }] });
    const before = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    try {
      await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v2'], DeployId: 'stuck', DeployConfig: { ...FAST, BakeTime: 60 } });
      await t.observer.waitFor((e) => e.detail.DeployId === 'stuck' && e.detailType === 'InstancesHealthy', 30_000);
      await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web' });
      // Five receives of DrainElapsed, each retrying the in-use delete with backoff (ELB's propagation) first.
      const stuck = await t.observer.waitFor((e) => e.detail.DeployId === 'stuck' && e.detailType === 'RollbackFailed', 150_000);
      expect((stuck.detail.Errors as string[])[0], String((stuck.detail.Errors as string[])[0])).toMatch(/^DrainElapsed could not be handled .*: ResourceInUse\w*: in use; publish CancelRequested to retry the rollback$/);
      expect(await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' })).toMatchObject({ Phase: 'RollingBack' });
    } finally {
      await t.emulator.configure({ faults: [] });
    }

    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web' });
    const outcome = await t.observer.outcome('stuck', 60_000);

    expect(outcome.detailType).toBe('DeployCancelled');
    const after = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(after.asgs.map((g) => g.AutoScalingGroupName)).toEqual(before.asgs.map((g) => g.AutoScalingGroupName));
    expect(after.targetGroups).toEqual(before.targetGroups);
    expect(after.rules).toEqual(before.rules);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  }, 240_000);
});
