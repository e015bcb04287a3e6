import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { seedService, WORKLOAD_ACCOUNT, workloadClients, type SeededService } from '../../infra/local/seed';
import type { ObservedEvent } from '../../infra/local/observer';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { findLeftovers } from '../../infra/local/leftovers';
import { shape, snapshotService } from '../helpers/workload';

/**
 * Cancel in every phase: production must end at 100 % on the previous version (or, for a first
 * deploy, the service empty), with nothing of the cancelled deploy left anywhere.
 */
describe('Cancel (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  let fresh: SeededService;
  let worker: SeededService;
  const slug = 'acme-cancel';
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);

  beforeAll(async () => {
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_RETRY_BASE_SECONDS: '1' } });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2', 'web-bad'], unhealthy: ['web-bad'] });
    fresh = await seedService(t.account, { service: 'fresh', web: true, priority: 30, amis: ['fresh-v1'] });
    worker = await seedService(t.account, { service: 'worker', web: false, amis: ['worker-v1', 'worker-v2'] });
    // Production for web and worker.
    await deployAndWait('web', 'web-prod', web.amis['web-v1']!, FAST);
    await deployAndWait('worker', 'worker-prod', worker.amis['worker-v1']!, FAST);
  });
  afterAll(async () => t?.stop());

  async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function deployAndWait(service: string, deployId: string, amiId: string, config: Record<string, unknown>) {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: config });
    const outcome = await t.observer.outcome(deployId, 60_000);
    expect(outcome.detailType).toBe('DeployCompleted');
  }

  /** Starts a deploy, cancels it once `when` is seen, and returns its outcome. */
  async function cancelWhen(service: string, deployId: string, amiId: string, config: Record<string, unknown>, when: (e: ObservedEvent) => boolean) {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: config });
    await t.observer.waitFor((e) => e.detail.DeployId === deployId && when(e), 60_000, `the moment to cancel ${deployId}`);
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: service, Reason: `test cancels ${deployId}` });
    return t.observer.outcome(deployId, 60_000);
  }

  it.each([
    ['while waiting for health', 'web-c1', 'web-bad', { ...FAST, HealthTimeout: 120 }, (e: ObservedEvent) => e.detailType === 'HealthCheckDue', 'WaitingHealthy'],
    ['mid-shift', 'web-c2', 'web-v2', { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 3 }, (e: ObservedEvent) => e.detailType === 'TrafficShifted' && e.detail.Percent === 50, 'Shifting'],
    ['during the bake', 'web-c3', 'web-v2', { ...FAST, BakeTime: 60 }, (e: ObservedEvent) => e.detailType === 'TrafficShifted' && e.detail.Percent === 100, 'Baking'],
  ])('cancels a blue/green deploy %s and puts production back at 100 %%', async (_when, deployId, ami, config, when, phase) => {
    const before = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));

    const outcome = await cancelWhen('web', deployId, web.amis[ami]!, config, when);

    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCancelled');
    expect(outcome.detail).toMatchObject({ Reason: `test cancels ${deployId}`, FromPhase: phase });
    const after = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));
    // The same ASG, target group and live rule (100 % on production) as before the deploy.
    expect({ asgs: after.asgs, targetGroups: after.targetGroups, rules: after.rules }).toEqual({
      asgs: before.asgs,
      targetGroups: before.targetGroups,
      rules: before.rules,
    });
    expect(await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' })).toMatchObject({ Phase: 'Cancelled', ActiveDeployId: deployId });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('cancels a deploy stuck starting (its ASG never created): the target group it made is deleted too', async () => {
    // Every CreateAutoScalingGroup in the workload account fails: the deploy is stuck in Starting,
    // retrying, with its launch template version and target group already made.
    await t.emulator.configure({ faults: [{ action: 'CreateAutoScalingGroup', account: WORKLOAD_ACCOUNT, code: 'ServiceLinkedRoleFailure' }] });
    const before = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));
    try {
      await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v2'], DeployId: 'web-c0', DeployConfig: FAST });
      await waitUntil(async () => (await snapshotService('web', t.account.listenerArn, web.launchTemplateId)).targetGroups.length === 2);
      expect(await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' })).toMatchObject({ ActiveDeployId: 'web-c0', Phase: 'Starting' });

      await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web' });
      const outcome = await t.observer.outcome('web-c0', 60_000);

      expect(outcome.detailType).toBe('DeployCancelled');
      expect(outcome.detail).toMatchObject({ FromPhase: 'Starting', Reason: 'cancelled by request' });
    } finally {
      await t.emulator.configure({ faults: [] });
    }
    const after = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));
    expect({ asgs: after.asgs, targetGroups: after.targetGroups, rules: after.rules }).toEqual({ asgs: before.asgs, targetGroups: before.targetGroups, rules: before.rules });
    // The stuck start step, retried after the cancel, finds itself stale and creates nothing.
    await new Promise((r) => setTimeout(r, 3000));
    expect(shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId)).asgs).toEqual(before.asgs);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('cancels a first deploy during its bake: the live rule it created is deleted, nothing is left', async () => {
    const outcome = await cancelWhen('fresh', 'fresh-c1', fresh.amis['fresh-v1']!, { ...FAST, BakeTime: 60 }, (e) => e.detailType === 'InstancesHealthy');

    expect(outcome.detailType).toBe('DeployCancelled');
    const restored = t.observer.of('fresh-c1').find((e) => e.detailType === 'TrafficRestored')!;
    expect((restored.detail.DeletedRuleArns as string[]).length).toBe(1);
    const s = await snapshotService('fresh', t.account.listenerArn, fresh.launchTemplateId);
    expect(s.asgs).toEqual([]);
    expect(s.targetGroups).toEqual([]);
    expect(s.rules.filter((r) => Number(r.priority) < 40000 && r.forwards.some((f) => f.targetGroup.startsWith('fresh')))).toEqual([]);
    expect(await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'fresh' })).toMatchObject({ Phase: 'Cancelled', ProductionAsgName: '' });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('cancels a non-web deploy during its bake: the new group goes, production stays', async () => {
    const { autoscaling } = await workloadClients();
    const production = (await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'worker' }))!.ProductionAsgName;

    const outcome = await cancelWhen('worker', 'worker-c1', worker.amis['worker-v2']!, { ...FAST, BakeTime: 60 }, (e) => e.detailType === 'InstancesHealthy');

    expect(outcome.detailType).toBe('DeployCancelled');
    const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups!.filter((g) => g.AutoScalingGroupName!.startsWith('worker-2'));
    expect(groups.map((g) => [g.AutoScalingGroupName, g.MinSize])).toEqual([[production, 2]]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('answers a cancel with nothing deploying with a reason, and changes nothing', async () => {
    const before = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));
    const state = await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' });

    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web' });
    const rejected = await t.observer.waitFor((e) => e.detailType === 'CancelRejected' && e.detail.ServiceName === 'web', 30_000);

    expect(rejected.detail.Reasons).toEqual([`No deployment of web in ${slug} active`]);
    expect(shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId))).toEqual(before);
    expect(await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' })).toEqual(state);
  });

  it('rejects an invalid cancel with its reasons', async () => {
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: '../x', Extra: 1 });
    const rejected = await t.observer.waitFor((e) => e.detailType === 'CancelRejected' && e.detail.ServiceName === '../x', 30_000);

    expect((rejected.detail.Reasons as string[]).join('\n')).toMatch(/ServiceName: must be .*\n.*unknown field\(s\) "Extra"/);
  });
});
