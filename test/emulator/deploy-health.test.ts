import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { findLeftovers } from '../../infra/local/leftovers';
import { snapshotService } from '../helpers/workload';

describe('Non-web deploys and health gating (emulator)', () => {
  let t: TestDeployomat;
  let worker: SeededService;
  let api: SeededService;
  const slug = 'acme-health';

  beforeAll(async () => {
    // New targets report `initial` for 2 s, as a real ALB does while health checks warm up.
    t = await startTestDeployomat({ slug, initialHealthSeconds: 2 });
    worker = await seedService(t.account, { service: 'worker', web: false, minSize: 1, amis: ['worker-v1', 'worker-v2', 'worker-bad'], unhealthy: ['worker-bad'] });
    api = await seedService(t.account, { service: 'api', web: true, priority: 20, amis: ['api-v1', 'api-bad'], unhealthy: ['api-bad'] });
  });
  afterAll(async () => t?.stop());

  const deploy = async (service: string, deployId: string, amiId: string, config: Record<string, unknown> = FAST) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: config });
    return t.observer.outcome(deployId, 60_000);
  };

  it('runs old and new side by side through the bake for a non-web service, then removes the old group', async () => {
    await deploy('worker', 'worker-1', worker.amis['worker-v1']!);
    const first = (await snapshotService('worker', t.account.listenerArn, worker.launchTemplateId)).asgs[0]!.AutoScalingGroupName!;
    const { autoscaling } = await workloadClients();
    let groupsDuringBake: string[] = [];
    t.observer.onEvent((e) => {
      if (e.detailType === 'InstancesHealthy' && e.detail.DeployId === 'worker-2') {
        void autoscaling.send(new DescribeAutoScalingGroupsCommand({})).then((out) => {
          groupsDuringBake = out.AutoScalingGroups!.map((g) => g.AutoScalingGroupName!).filter((n) => n.startsWith('worker-2'));
        });
      }
    });

    const outcome = await deploy('worker', 'worker-2', worker.amis['worker-v2']!, { ...FAST, BakeTime: 2 });

    expect(outcome.detailType).toBe('DeployCompleted');
    const types = t.observer.of('worker-2').map((e) => e.detailType);
    expect(types).toEqual(['AsgCloned', 'InstancesHealthy', 'BakeElapsed', 'DeployCompleted']);
    expect(t.observer.of('worker-2')[0]!.detail).toMatchObject({ Rollout: 'non-web', RuleArns: [] });
    expect(groupsDuringBake).toHaveLength(2); // previous and new, side by side
    const after = await snapshotService('worker', t.account.listenerArn, worker.launchTemplateId);
    expect(after.asgs.map((g) => g.AutoScalingGroupName)).toEqual([outcome.detail.AsgName]);
    expect(after.asgs[0]!.AutoScalingGroupName).not.toBe(first);
    expect(after.targetGroups).toEqual([]);
  });

  it('waits while new targets are still initial, and continues once they are healthy', async () => {
    const outcome = await deploy('api', 'api-1', api.amis['api-v1']!);

    expect(outcome.detailType).toBe('DeployCompleted');
    const healthy = t.observer.of('api-1').find((e) => e.detailType === 'InstancesHealthy')!;
    expect(healthy.detail).toMatchObject({ Healthy: 2, Wanted: 2 });
    expect(healthy.detail.WaitedSeconds as number).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['a web service', 'api', 'api-bad', 'api-bad-1'],
    ['a non-web service', 'worker', 'worker-bad', 'worker-bad-1'],
  ])('rolls back the deploy of %s whose instances never become healthy, naming the cause', async (_kind, service, ami, deployId) => {
    const amis = service === 'api' ? api.amis : worker.amis;
    const before = await snapshotService(service, t.account.listenerArn, (service === 'api' ? api : worker).launchTemplateId);
    const outcome = await deploy(service, deployId, amis[ami]!, { ...FAST, HealthTimeout: 4 });

    expect(outcome.detailType).toBe('DeployFailed');
    expect(outcome.detail.Phase).toBe('WaitingHealthy');
    expect((outcome.detail.Errors as string[])[0]).toMatch(/^Only 0 of \d+ instances of .* became healthy within HealthTimeout \(4 s\)$/);
    const checks = t.observer.of(deployId).filter((e) => e.detailType === 'HealthCheckDue');
    expect(checks.length).toBeGreaterThanOrEqual(2); // re-checked on the timer until the deadline
    const types = t.observer.of(deployId).map((e) => e.detailType);
    expect(types.slice(-4)).toEqual(['RollbackStarted', 'TrafficRestored', 'DrainElapsed', 'DeployFailed']);
    expect(t.observer.of(deployId).find((e) => e.detailType === 'RollbackStarted')!.detail).toMatchObject({ Cause: 'failure', FromPhase: 'WaitingHealthy' });
    const ledger = new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
    const state = await ledger.getService({ AccountCanonicalSlug: slug, ServiceName: service });
    expect(state).toMatchObject({ Phase: 'RolledBack', ActiveDeployId: deployId, DeployAsgName: '' });
    // Production is the previous deploy, untouched; the failed deploy left nothing behind.
    expect(state!.ProductionAsgName).toBe(before.asgs[0]!.AutoScalingGroupName);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });
});
