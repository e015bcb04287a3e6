import { GetScheduleCommand, ListSchedulesCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { atExpression } from '../../domain/emit';
import { Ledger } from '../../domain/ledger';
import { automaticUndeployName } from '../../domain/undeploy-schedule';
import { seedAccount, seedService, WORKLOAD_ACCOUNT, type SeededAccount, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { findLeftovers } from '../../infra/local/leftovers';
import { shape, snapshotService } from '../helpers/workload';

describe('Undeploy (emulator)', () => {
  let t: TestDeployomat;
  let prodAccount: SeededAccount;
  let svc: Record<string, SeededService>;
  const slug = 'acme-undeploy';
  const prodSlug = 'acme-undeploy-prod';
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
  const listeners = () => [t.account.listenerArn, prodAccount.listenerArn];

  beforeAll(async () => {
    // A production installation: only it may deploy to the production account too (MetaAccessRole).
    t = await startTestDeployomat({ slug, installationEnvironment: 'production', env: { DEPLOYOMAT_RETRY_BASE_SECONDS: '1' } });
    prodAccount = await seedAccount({ slug: prodSlug, environment: 'production' });
    svc = {
      web: await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2'] }),
      locked: await seedService(t.account, { service: 'locked', web: true, priority: 20, amis: ['locked-v1'] }),
      busy: await seedService(t.account, { service: 'busy', web: true, priority: 30, amis: ['busy-v1', 'busy-v2'] }),
      auto: await seedService(t.account, { service: 'auto', web: false, amis: ['auto-v1'] }),
      shop: await seedService(prodAccount, { service: 'shop', web: true, amis: ['shop-v1'] }),
    };
  });
  afterAll(async () => t?.stop());

  async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function deploy(account: string, service: string, deployId: string, config: Record<string, unknown> = FAST) {
    const ami = Object.values(svc[service]!.amis)[0]!;
    await t.send('DeployRequested', { AccountCanonicalSlug: account, ServiceName: service, AmiId: ami, DeployId: deployId, DeployConfig: config });
    const outcome = await t.observer.outcome(deployId, 60_000);
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    return outcome;
  }
  async function undeploy(account: string, service: string, config?: Record<string, unknown>) {
    const id = await t.send('UndeployRequested', { AccountCanonicalSlug: account, ServiceName: service, ...(config ? { UndeployConfig: config } : {}) });
    return t.observer.undeployOutcome(id, 60_000);
  }

  it('deletes the production ASG, its target group and live rule, and clears the ledger', async () => {
    await deploy(slug, 'web', 'web-1');

    const outcome = await undeploy(slug, 'web');

    expect(outcome.detailType).toBe('UndeployCompleted');
    expect((outcome.detail.DeletedRuleArns as string[]).length).toBe(1);
    const s = await snapshotService('web', t.account.listenerArn, svc.web!.launchTemplateId);
    expect(s.asgs).toEqual([]);
    expect(s.targetGroups).toEqual([]);
    expect(s.rules.filter((r) => Number(r.priority) < 40000)).toEqual([]); // the live rule is gone
    expect(s.rules.map((r) => r.priority)).toContain('40010'); // the exemplar stays: it is the user's
    expect(await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' })).toMatchObject({
      Phase: 'Undeployed',
      ProductionAsgName: '',
      UndeployState: '',
    });
    expect(await findLeftovers(t.local.install, listeners())).toEqual([]);
  });

  it('deploys again after an undeploy, as a first deploy', async () => {
    const outcome = await deploy(slug, 'web', 'web-2');
    expect(t.observer.of('web-2').find((e) => e.detailType === 'AsgCloned')!.detail.Rollout).toBe('first-web');
    expect(outcome.detail.PreviousAsgName).toBeUndefined();
  });

  it.each([
    ['in a production account without AllowUndeploy', prodSlug, 'shop', 'shop-1', FAST],
    ['after a deploy with AllowUndeploy: false', slug, 'locked', 'locked-1', { ...FAST, AllowUndeploy: false }],
  ])('refuses to undeploy %s, and touches nothing', async (_why, account, service, deployId, config) => {
    await deploy(account, service, deployId, config);
    const listener = account === prodSlug ? prodAccount.listenerArn : t.account.listenerArn;
    const before = shape(await snapshotService(service, listener, svc[service]!.launchTemplateId));

    const outcome = await undeploy(account, service);

    expect(outcome.detailType).toBe('UndeployRejected');
    expect((outcome.detail.Reasons as string[])[0]).toMatch(/is not allowed: its last deploy .* Deploy with DeployConfig.AllowUndeploy: true first$/);
    expect(shape(await snapshotService(service, listener, svc[service]!.launchTemplateId))).toEqual(before);
  });

  it('undeploys in a production account once a deploy lifted the safety', async () => {
    await deploy(prodSlug, 'shop', 'shop-2', { ...FAST, AllowUndeploy: true });

    expect((await undeploy(prodSlug, 'shop')).detailType).toBe('UndeployCompleted');
    expect(await findLeftovers(t.local.install, listeners())).toEqual([]);
  });

  it('refuses while a deploy is in progress, or rolls it back first with OnConcurrentDeploy "rollback"', async () => {
    await deploy(slug, 'busy', 'busy-1');
    const ami = svc.busy!.amis['busy-v2'];
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'busy', AmiId: ami, DeployId: 'busy-2', DeployConfig: { ...FAST, BakeTime: 60 } });
    await t.observer.waitFor((e) => e.detail.DeployId === 'busy-2' && e.detailType === 'InstancesHealthy', 30_000);

    const refused = await undeploy(slug, 'busy');
    expect(refused.detailType).toBe('UndeployRejected');
    expect((refused.detail.Reasons as string[])[0]).toContain('A deploy (busy-2, ');

    const done = await undeploy(slug, 'busy', { OnConcurrentDeploy: 'rollback' });
    expect(done.detailType).toBe('UndeployCompleted');
    expect((await t.observer.outcome('busy-2', 30_000)).detailType).toBe('DeployCancelled');
    expect(await findLeftovers(t.local.install, listeners())).toEqual([]);
  });

  it('fails a deploy requested while an undeploy runs, and finishes the undeploy', async () => {
    await deploy(slug, 'web', 'web-3');
    // Hold the undeploy in flight: deleting the ASG fails until the fault is cleared.
    await t.emulator.configure({ faults: [{ action: 'DeleteAutoScalingGroup', account: WORKLOAD_ACCOUNT, code: 'ScalingActivityInProgress' }] });
    let undeployId: string;
    try {
      undeployId = await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web' });
      await waitFor(async () => (await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: 'web' }))?.Phase === 'Undeploying');
      await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: svc.web!.amis['web-v2'], DeployId: 'web-4', DeployConfig: FAST });
      const refused = await t.observer.outcome('web-4', 30_000);

      expect(refused.detailType).toBe('DeployFailed');
      expect((refused.detail.Errors as string[])[0]).toMatch(/^web in acme-undeploy is being undeployed/);
    } finally {
      await t.emulator.configure({ faults: [] });
    }
    expect((await t.observer.undeployOutcome(undeployId, 60_000)).detailType).toBe('UndeployCompleted');
    expect(await findLeftovers(t.local.install, listeners())).toEqual([]);
  });

  it('refuses to undeploy a service with nothing deployed', async () => {
    const outcome = await undeploy(slug, 'nothing-here');
    expect(outcome.detail.Reasons).toEqual([`Nothing to undeploy: nothing-here in ${slug} has no production deploy`]);
  });

  it('undeploys automatically when AutomaticUndeployMinutes pass, with one schedule per service', async () => {
    const { scheduler } = controlPlaneClients();
    const group = t.local.install.scheduleGroup;
    const name = automaticUndeployName({ AccountCanonicalSlug: slug, ServiceName: 'auto' });
    await deploy(slug, 'auto', 'auto-1', { ...FAST, AutomaticUndeployMinutes: 60 });
    await deploy(slug, 'auto', 'auto-2', { ...FAST, AutomaticUndeployMinutes: 30 });

    // One schedule for the service, moved by the later deploy to 30 minutes from it.
    const listed = (await scheduler.send(new ListSchedulesCommand({ GroupName: group }))).Schedules!.map((s) => s.Name);
    expect(listed).toEqual([name]);
    const s = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: group }));
    const due = Date.parse(`${s.ScheduleExpression!.slice(3, -1)}Z`);
    expect(Math.abs(due - (Date.now() + 30 * 60_000))).toBeLessThan(60_000);
    expect(JSON.parse(s.Target!.Input!)).toMatchObject({ AccountCanonicalSlug: slug, ServiceName: 'auto' });

    // Let the half hour pass: the local clock fires the schedule.
    await scheduler.send(
      new UpdateScheduleCommand({ ...s, Name: name, GroupName: group, ScheduleExpression: atExpression(new Date(Date.now() - 1000)), FlexibleTimeWindow: s.FlexibleTimeWindow, Target: s.Target }),
    );
    const done = await t.observer.waitFor((e) => e.detailType === 'UndeployCompleted' && e.detail.ServiceName === 'auto', 30_000);

    expect(done.detail.AccountCanonicalSlug).toBe(slug);
    expect((await scheduler.send(new ListSchedulesCommand({ GroupName: group }))).Schedules).toEqual([]);
    expect(await findLeftovers(t.local.install, listeners())).toEqual([]);
  });

  it('removes the automatic undeploy when a later deploy does not ask for it', async () => {
    const { scheduler } = controlPlaneClients();
    await deploy(slug, 'auto', 'auto-3', { ...FAST, AutomaticUndeployMinutes: 30 });
    expect((await scheduler.send(new ListSchedulesCommand({ GroupName: t.local.install.scheduleGroup }))).Schedules).toHaveLength(1);

    await deploy(slug, 'auto', 'auto-4', FAST);

    expect((await scheduler.send(new ListSchedulesCommand({ GroupName: t.local.install.scheduleGroup }))).Schedules).toEqual([]);
  });
});
