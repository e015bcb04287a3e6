import { expect, it } from 'vitest';
import { seedService, type SeededAccount, type SeededService } from '../../infra/local/seed';
import { FAST, type TestDeployomat } from './deployomat';
import { snapshotService } from './workload';

/**
 * The core scenarios — first and blue/green deploys of a web and a non-web service, a cancel
 * mid-shift, an undeploy — each ending with zero leftovers, for files that run them under another
 * mode of the emulator or the runtime (eventual consistency, the shipped bundles). Each file has
 * its own installation; these register its `it`s in order, sharing it.
 */
export interface CoreServices {
  web: SeededService;
  worker: SeededService;
}

/** A web service with three AMIs and a non-web one with two. */
export async function seedCoreServices(account: SeededAccount): Promise<CoreServices> {
  return {
    web: await seedService(account, { service: 'web', web: true, amis: ['web-v1', 'web-v2', 'web-v3'] }),
    worker: await seedService(account, { service: 'worker', web: false, amis: ['worker-v1', 'worker-v2'] }),
  };
}

export interface CoreScenarioSetup {
  /** The file's installation and services (available once its beforeAll has run). */
  get(): { t: TestDeployomat; services: CoreServices };
  /** Leftovers and ledger mismatches after a scenario: must be none. */
  clean(): Promise<unknown[]>;
}

/** Requests a deploy and waits for its outcome. */
export async function deploy(t: TestDeployomat, service: string, deployId: string, amiId: string, config: Record<string, unknown> = FAST) {
  await t.send('DeployRequested', { AccountCanonicalSlug: t.account.slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: config });
  return t.observer.outcome(deployId, 90_000);
}

/** First web deploy, blue/green web deploy, first and blue/green non-web deploys, cancel mid-shift. */
export function coreDeployScenarios(setup: CoreScenarioSetup): void {
  it('completes a first web deploy', async () => {
    const { t, services } = setup.get();
    const outcome = await deploy(t, 'web', 'web-1', services.web.amis['web-v1']!);

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(await setup.clean()).toEqual([]);
  });

  it('completes a blue/green web deploy', async () => {
    const { t, services } = setup.get();
    const outcome = await deploy(t, 'web', 'web-2', services.web.amis['web-v2']!);

    expect(outcome.detailType).toBe('DeployCompleted');
    const shifted = t.observer.of('web-2').filter((e) => e.detailType === 'TrafficShifted');
    expect([...new Set(shifted.map((e) => e.detail.Percent))]).toEqual([50, 100]);
    // What the load balancer reports is read back once the change is visible, not the old weights.
    expect(shifted.map((e) => [e.detail.Percent, e.detail.ActualPercent])).toEqual(shifted.map((e) => [e.detail.Percent, e.detail.Percent]));
    expect(await setup.clean()).toEqual([]);
  });

  it('completes first and blue/green deploys of a non-web service', async () => {
    const { t, services } = setup.get();
    expect((await deploy(t, 'worker', 'worker-1', services.worker.amis['worker-v1']!)).detailType).toBe('DeployCompleted');
    const outcome = await deploy(t, 'worker', 'worker-2', services.worker.amis['worker-v2']!);

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(await setup.clean()).toEqual([]);
  });

  it('cancels mid-shift back to production', async () => {
    const { t, services } = setup.get();
    const { web } = services;
    const before = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    await t.send('DeployRequested', {
      AccountCanonicalSlug: t.account.slug,
      ServiceName: 'web',
      AmiId: web.amis['web-v3'],
      DeployId: 'web-3',
      DeployConfig: { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 2 },
    });
    await t.observer.waitFor((e) => e.detail.DeployId === 'web-3' && e.detailType === 'TrafficShifted', 60_000);

    await t.send('CancelRequested', { AccountCanonicalSlug: t.account.slug, ServiceName: 'web' });
    const outcome = await t.observer.outcome('web-3', 90_000);

    expect(outcome.detailType).toBe('DeployCancelled');
    expect(await setup.clean()).toEqual([]);
    const after = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(after.asgs.map((g) => g.AutoScalingGroupName)).toEqual(before.asgs.map((g) => g.AutoScalingGroupName));
    expect(after.rules).toEqual(before.rules);
  });
}

/** Undeploys the non-web service: nothing of it is left. */
export function undeployScenario(setup: CoreScenarioSetup): void {
  it('undeploys', async () => {
    const { t, services } = setup.get();
    const id = await t.send('UndeployRequested', { AccountCanonicalSlug: t.account.slug, ServiceName: 'worker' });
    const outcome = await t.observer.undeployOutcome(id, 90_000);

    expect(outcome.detailType).toBe('UndeployCompleted');
    expect(await setup.clean()).toEqual([]);
    expect((await snapshotService('worker', t.account.listenerArn, services.worker.launchTemplateId)).asgs).toEqual([]);
  });
}
