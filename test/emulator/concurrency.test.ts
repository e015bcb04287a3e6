import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { findLeftovers } from '../../infra/local/leftovers';
import { snapshotService } from '../helpers/workload';

describe('Concurrent deploys (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  const slug = 'acme-conc';
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
  const request = (deployId: string, ami: string, config: Record<string, unknown>) => ({
    AccountCanonicalSlug: slug,
    ServiceName: 'web',
    AmiId: web.amis[ami],
    DeployId: deployId,
    DeployConfig: config,
  });

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2', 'web-v3'] });
    await t.send('DeployRequested', request('base', 'web-v1', FAST));
    expect((await t.observer.outcome('base', 60_000)).detailType).toBe('DeployCompleted');
  });
  afterAll(async () => t?.stop());

  it('fails the new deploy and leaves the running one alone with OnConcurrentDeploy "fail"', async () => {
    await t.send('DeployRequested', request('running-1', 'web-v2', { ...FAST, BakeTime: 4 }));
    await t.observer.waitFor((e) => e.detail.DeployId === 'running-1' && e.detailType === 'AsgCloned', 30_000);

    await t.send('DeployRequested', request('second-1', 'web-v3', { ...FAST, OnConcurrentDeploy: 'fail' }));
    const second = await t.observer.outcome('second-1', 30_000);
    const first = await t.observer.outcome('running-1', 60_000);

    expect(second.detailType).toBe('DeployFailed');
    expect((second.detail.Errors as string[])[0]).toMatch(/^a different deploy \(running-1, \w+\) is running for web in acme-conc; OnConcurrentDeploy is "fail"$/);
    expect(first.detailType).toBe('DeployCompleted');
    expect(t.observer.of('running-1').some((e) => e.detailType === 'RollbackStarted')).toBe(false);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('rolls the running deploy back, then starts the new one, with OnConcurrentDeploy "rollback"', async () => {
    await t.send('DeployRequested', request('running-2', 'web-v1', { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 2 }));
    await t.observer.waitFor((e) => e.detail.DeployId === 'running-2' && e.detailType === 'TrafficShifted', 30_000);

    await t.send('DeployRequested', request('second-2', 'web-v3', FAST));
    const first = await t.observer.outcome('running-2', 60_000);
    const second = await t.observer.outcome('second-2', 60_000);

    expect(first.detailType).toBe('DeployCancelled');
    expect(first.detail.Reason).toBe('superseded by deploy second-2');
    expect(second.detailType).toBe('DeployCompleted');
    // The new deploy started only once the rollback was over (woken by it, not by polling).
    const cancelledAt = first.receivedAt;
    const started = t.observer.of('second-2').find((e) => e.detailType === 'AsgCloned')!;
    expect(started.receivedAt).toBeGreaterThanOrEqual(cancelledAt);
    expect(t.observer.events.some((e) => e.detailType === 'QueuedDeployReady' && e.detail.DeployId === 'second-2')).toBe(true);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('ends ten simultaneous deploys with exactly one in production and nothing left over', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `storm-${i}`);
    await Promise.all(ids.map((id, i) => t.send('DeployRequested', request(id, i % 2 ? 'web-v2' : 'web-v3', FAST))));
    const outcomes = await Promise.all(ids.map((id) => t.observer.outcome(id, 120_000)));

    const completed = outcomes.filter((o) => o.detailType === 'DeployCompleted');
    expect(completed).toHaveLength(1);
    expect(outcomes.filter((o) => o.detailType !== 'DeployCompleted').map((o) => o.detailType)).toEqual(Array(9).fill('DeployCancelled'));
    const state = await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' });
    expect(state).toMatchObject({ Phase: 'Completed', ActiveDeployId: completed[0]!.detail.DeployId, ProductionAsgName: completed[0]!.detail.AsgName });
    const s = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(s.asgs.map((g) => g.AutoScalingGroupName)).toEqual([completed[0]!.detail.AsgName]);
    expect(s.targetGroups).toHaveLength(1);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });
});
