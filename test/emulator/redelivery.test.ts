import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { publish } from '../../events/publish';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { findLeftovers } from '../../infra/local/leftovers';
import { shape, snapshotService } from '../helpers/workload';

/**
 * At-least-once delivery: every handler here receives every message twice (the runtime's
 * deliverTwice shim), and stale events are published on purpose. Deploys must end exactly as
 * with single delivery, and stale events must change nothing.
 */
describe('Duplicate and stale events (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  let worker: SeededService;
  const slug = 'acme-dup';
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);

  beforeAll(async () => {
    t = await startTestDeployomat({ slug, runtime: { deliverTwice: true } });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2'] });
    worker = await seedService(t.account, { service: 'worker', web: false, amis: ['worker-v1', 'worker-v2'] });
  });
  afterAll(async () => t?.stop());

  const deploy = async (service: string, deployId: string, amiId: string) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: FAST });
    return t.observer.outcome(deployId, 60_000);
  };

  it('completes first and blue/green deploys of a web service with every message delivered twice', async () => {
    expect((await deploy('web', 'web-1', web.amis['web-v1']!)).detailType).toBe('DeployCompleted');
    const outcome = await deploy('web', 'web-2', web.amis['web-v2']!);

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(t.local.runtime.invocations['shift-traffic']).toBeGreaterThan(0);
    const percents = t.observer.of('web-2').filter((e) => e.detailType === 'TrafficShifted').map((e) => e.detail.Percent);
    expect([...new Set(percents)]).toEqual([50, 100]);
    const s = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(s.asgs.map((g) => g.AutoScalingGroupName)).toEqual([outcome.detail.AsgName]);
    expect(s.targetGroups).toHaveLength(1);
    expect(s.rules[0]).toEqual({ priority: '10', forwards: [{ targetGroup: s.targetGroups[0], weight: 100 }] });
    // One launch template version per deploy, not per delivery.
    expect(s.launchTemplate).toMatchObject({ latest: 3, default: 3, versions: 3 });
  });

  it('completes a non-web deploy with every message delivered twice', async () => {
    expect((await deploy('worker', 'worker-1', worker.amis['worker-v1']!)).detailType).toBe('DeployCompleted');
    const outcome = await deploy('worker', 'worker-2', worker.amis['worker-v2']!);

    expect(outcome.detailType).toBe('DeployCompleted');
    const s = await snapshotService('worker', t.account.listenerArn, worker.launchTemplateId);
    expect(s.asgs.map((g) => g.AutoScalingGroupName)).toEqual([outcome.detail.AsgName]);
  });

  it('starts one deploy when the same DeployRequested is published twice', async () => {
    const detail = { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v1']!, DeployId: 'web-3', DeployConfig: FAST };
    await Promise.all([t.send('DeployRequested', detail), t.send('DeployRequested', detail)]);
    const outcome = await t.observer.outcome('web-3', 60_000);

    expect(outcome.detailType).toBe('DeployCompleted');
    const s = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(s.asgs.map((g) => g.AutoScalingGroupName)).toEqual([outcome.detail.AsgName]);
    expect(s.targetGroups).toHaveLength(1);
    expect(s.launchTemplate.versions).toBe(4);
    // Give any straggling duplicate time to act, then check nothing failed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(t.observer.of('web-3').filter((e) => e.detailType === 'DeployFailed')).toEqual([]);
  });

  it('drops stale events: a superseded deploy, and an old position of the current one', async () => {
    const key = { AccountCanonicalSlug: slug, ServiceName: 'web' };
    const before = { service: shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId)), ledger: await ledger().getService(key) };
    const cp = controlPlaneClients();

    await publish(cp.events, t.local.install.busName, [
      // web-1 was superseded long ago.
      { DetailType: 'TrafficShiftDue', Detail: { ...key, DeployId: 'web-1', Seq: 3, Step: 1 } },
      { DetailType: 'BakeElapsed', Detail: { ...key, DeployId: 'web-1', Seq: 3, BakeTime: 0 } },
      // web-3 holds the service, but it is long past these positions.
      { DetailType: 'InstancesHealthy', Detail: { ...key, DeployId: 'web-3', Seq: 2, Healthy: 2, Wanted: 2, WaitedSeconds: 0 } },
      { DetailType: 'AsgCloned', Detail: { ...key, DeployId: 'web-3', Seq: 1, AmiId: 'ami-00000000', AsgName: 'x', TargetGroupArns: [], LaunchTemplate: { LaunchTemplateId: 'lt', Version: 1 }, MinSize: 0, MaxSize: 0, Rollout: 'web', RuleArns: [] } },
    ]);
    await new Promise((r) => setTimeout(r, 3000));

    expect(shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId))).toEqual(before.service);
    expect(await ledger().getService(key)).toEqual(before.ledger);
    const reactions = t.observer.events.filter((e) => ['TrafficShifted', 'DeployCompleted', 'DeployFailed', 'HealthCheckDue'].includes(e.detailType) && e.receivedAt > Date.now() - 3000);
    expect(reactions).toEqual([]);
  });

  it('cancels mid-shift with every message delivered twice, the cancel included', async () => {
    const before = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));
    await t.send('DeployRequested', {
      AccountCanonicalSlug: slug,
      ServiceName: 'web',
      AmiId: web.amis['web-v2'],
      DeployId: 'web-4',
      DeployConfig: { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 2 },
    });
    await t.observer.waitFor((e) => e.detail.DeployId === 'web-4' && e.detailType === 'TrafficShifted', 30_000);

    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web' });
    const outcome = await t.observer.outcome('web-4', 60_000);

    expect(outcome.detailType).toBe('DeployCancelled');
    const after = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));
    expect({ asgs: after.asgs, targetGroups: after.targetGroups, rules: after.rules }).toEqual({
      asgs: before.asgs,
      targetGroups: before.targetGroups,
      rules: before.rules,
    });
    // The duplicate cancel found the rollback already under way and did not start another.
    expect(t.observer.of('web-4').filter((e) => e.detailType === 'RollbackStarted').length).toBeGreaterThanOrEqual(1);
    expect(t.observer.events.filter((e) => e.detailType === 'CancelRejected')).toEqual([]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('undeploys with every message delivered twice', async () => {
    const id = await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'worker' });
    const outcome = await t.observer.undeployOutcome(id, 60_000);

    expect(outcome.detailType).toBe('UndeployCompleted');
    await new Promise((r) => setTimeout(r, 1000));
    expect(t.observer.events.filter((e) => e.detailType === 'UndeployRejected')).toEqual([]);
    expect((await snapshotService('worker', t.account.listenerArn, worker.launchTemplateId)).asgs).toEqual([]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });
});
