import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { Logger } from '@aws-lambda-powertools/logger';
import { controlRollout } from '../../domain/steps/control-rollout';
import { CLIENT_SOURCE } from '../../events/client';
import { stepContext } from '../../handlers/sqs-handler';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, type SeededService } from '../../infra/local/seed';
import type { ObservedEvent } from '../../infra/local/observer';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';

/** Pause, resume, promote: a running rollout steered by client commands (and PauseAtPercent / PauseTimeout). */
describe('Pause, resume and promote (emulator)', () => {
  let t: TestDeployomat;
  let shop: SeededService;
  const slug = 'acme-control';
  const service = 'shop';
  const key = { AccountCanonicalSlug: slug, ServiceName: service };
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
  const snapshot = async () => shape(await snapshotService(service, t.account.listenerArn, shop.launchTemplateId));
  const of = (deployId: string, type: string) => t.observer.of(deployId).filter((e) => e.detailType === type);
  const waitFor = (deployId: string, type: string, match: (e: ObservedEvent) => boolean = () => true) =>
    t.observer.waitFor((e) => e.detail.DeployId === deployId && e.detailType === type && match(e), 30_000, `${type} of ${deployId}`);

  beforeAll(async () => {
    // A 1 s deadline margin: a deploy's deadline is its expected duration + 1 s, so pauses outlast it.
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_DEADLINE_MARGIN_SECONDS: '1' } });
    shop = await seedService(t.account, { service, web: true, amis: ['v01', 'v02', 'v03', 'v04', 'v05'] });
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v01, DeployId: 'prod', DeployConfig: FAST });
    expect((await t.observer.outcome('prod', 60_000)).detailType).toBe('DeployCompleted');
  });
  afterAll(async () => t?.stop());

  it('pauses at 25 % (PauseAtPercent), stays there, and carries on when resumed', async () => {
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v02, DeployId: 'paused', DeployConfig: { ...FAST, TrafficShiftPerStep: 25, PauseAtPercent: [25] } });
    const paused = await waitFor('paused', 'RolloutPaused');
    expect(paused.detail).toMatchObject({ Step: 1, Percent: 25, By: 'PauseAtPercent' });
    // No PauseTimeout: it rolls back after the installation's maximum pause (a day) unless resumed.
    expect(Date.parse(String(paused.detail.RollbackAt)) - paused.receivedAt).toBeGreaterThan(86_400_000 - 10_000);

    // Several WaitPerSteps later nothing has moved: the step timer went stale with the pause.
    await new Promise((r) => setTimeout(r, 3000));
    expect(of('paused', 'TrafficShifted').map((e) => e.detail.Percent)).toEqual([25]);
    expect(await ledger().getService(key)).toMatchObject({ Phase: 'Paused', Paused: { FromPhase: 'Shifting', NextStep: 2 } });
    const live = (await snapshot()).rules.find((r) => r.priority === '10')!;
    expect(live.forwards.map((f) => f.weight).sort((a, b) => a - b)).toEqual([25, 75]);

    // A second pause is refused; a resume carries on from step 2.
    await t.send('PauseRequested', { ...key });
    const refused = await t.observer.waitFor((e) => e.detailType === 'RolloutCommandRejected' && e.detail.Command === 'PauseRequested', 30_000);
    expect(refused.detail.Reasons).toEqual(['The rollout is already paused (PauseAtPercent 25 % reached)']);
    await t.send('ResumeRequested', { ...key, DeployId: 'paused', Reason: 'metrics look fine' });
    const resumed = await waitFor('paused', 'RolloutResumed');
    expect(resumed.detail.PausedSeconds).toBeGreaterThanOrEqual(3);
    expect(resumed.detail.Reason).toBe('metrics look fine');

    const outcome = await t.observer.outcome('paused', 60_000);
    expect(outcome.detailType).toBe('DeployCompleted');
    expect(of('paused', 'TrafficShifted').map((e) => e.detail.Percent)).toEqual([25, 50, 75, 100]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('rolls back a rollout left paused longer than PauseTimeout', async () => {
    const before = await snapshot();
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v03, DeployId: 'abandoned', DeployConfig: { ...FAST, PauseAtPercent: [50], PauseTimeout: 2 } });
    const paused = await waitFor('abandoned', 'RolloutPaused');
    expect(Date.parse(String(paused.detail.RollbackAt)) - paused.receivedAt).toBeLessThan(2500);

    const outcome = await t.observer.outcome('abandoned', 60_000);

    expect(outcome.detailType).toBe('DeployFailed');
    expect(outcome.detail.Phase).toBe('Paused');
    expect((outcome.detail.Errors as string[])[0]).toBe('the rollout stayed paused at 50 % for longer than PauseTimeout (2 s) without ResumeRequested');
    const after = await snapshot();
    expect({ asgs: after.asgs, rules: after.rules }).toEqual({ asgs: before.asgs, rules: before.rules });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('withdraws the day-long timer of a pause that is cancelled: no schedule is left behind', async () => {
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v03, DeployId: 'paused-cancel', DeployConfig: { ...FAST, PauseAtPercent: [50] } });
    await waitFor('paused-cancel', 'RolloutPaused');
    await t.send('CancelRequested', { ...key, Reason: 'not today' });

    const outcome = await t.observer.outcome('paused-cancel', 30_000);

    expect(outcome.detailType).toBe('DeployCancelled');
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('promotes from 10 %: straight to 100 %, no bake, deploy completed', async () => {
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v04, DeployId: 'promoted', DeployConfig: { ...FAST, TrafficShiftPerStep: 10, WaitPerStep: 30, BakeTime: 600 } });
    await waitFor('promoted', 'TrafficShifted', (e) => e.detail.Percent === 10);
    // A promote for another deploy id is refused and changes nothing.
    await t.send('PromoteRequested', { ...key, DeployId: 'someone-else' });
    const refused = await t.observer.waitFor((e) => e.detailType === 'RolloutCommandRejected' && e.detail.DeployId === 'someone-else', 30_000);
    expect(refused.detail.Reasons).toEqual([`Deploy someone-else is not the one running for ${service} in ${slug} (promoted is)`]);

    const sent = Date.now();
    await t.send('PromoteRequested', { ...key, Reason: 'hotfix' });
    const outcome = await t.observer.outcome('promoted', 30_000);

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(outcome.receivedAt - sent).toBeLessThan(10_000); // not after 9 × 30 s steps and a 10-minute bake
    expect((await waitFor('promoted', 'RolloutPromoted')).detail).toMatchObject({ FromPhase: 'Shifting', FromPercent: 10, Reason: 'hotfix' });
    expect(of('promoted', 'TrafficShifted').map((e) => e.detail.Percent)).toEqual([10, 100]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('pauses a bake by request and resumes it with the bake time that was left', async () => {
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v05, DeployId: 'bake-pause', DeployConfig: { ...FAST, BakeTime: 4 } });
    await waitFor('bake-pause', 'TrafficShifted', (e) => e.detail.Percent === 100);
    await t.send('PauseRequested', { ...key, Reason: 'looking at a dashboard' });
    const paused = await waitFor('bake-pause', 'RolloutPaused');
    expect(paused.detail).toMatchObject({ By: 'request', Reason: 'looking at a dashboard', Percent: 100 });
    // What resuming continues with: the part of the 4 s bake that was left, not a whole new bake.
    const left = (await ledger().getService(key))?.Paused?.BakeRemainingMs;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(4000);
    await new Promise((r) => setTimeout(r, 5000)); // longer than the whole bake
    expect(of('bake-pause', 'DeployCompleted')).toEqual([]);

    await t.send('ResumeRequested', { ...key });
    const resumed = await waitFor('bake-pause', 'RolloutResumed');
    const outcome = await t.observer.outcome('bake-pause', 30_000);

    expect(outcome.detailType).toBe('DeployCompleted');
    // The rest of the bake ran after the resume (an upper bound would time the machine, not Deployomat).
    expect(outcome.receivedAt - resumed.receivedAt).toBeGreaterThan(500);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('does not count paused time against the deadline: a pause longer than the deadline, then resume, completes', async () => {
    // Deadline: HealthTimeout 2 + 2 steps × 1 s + BakeTime 1 + margin 1 = 6 s after the clone.
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v02, DeployId: 'long-pause', DeployConfig: { ...FAST, HealthTimeout: 2, PauseAtPercent: [50] } });
    await waitFor('long-pause', 'RolloutPaused');
    await new Promise((r) => setTimeout(r, 8000));
    expect(of('long-pause', 'RollbackStarted')).toEqual([]);
    await t.send('ResumeRequested', { ...key });

    const outcome = await t.observer.outcome('long-pause', 30_000);

    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    expect((await ledger().getService(key))!.PausedSeconds).toBeGreaterThan(7);
  });

  it('applies a command once: a late duplicate of a pause that was resumed since does not pause again', async () => {
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v03, DeployId: 'dup', DeployConfig: { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 2 } });
    await waitFor('dup', 'TrafficShifted');
    const detail = { ...key, DeployId: 'dup' };
    const pauseId = await t.send('PauseRequested', detail);
    await waitFor('dup', 'RolloutPaused');
    await t.send('ResumeRequested', detail);
    await waitFor('dup', 'RolloutResumed');

    // The same PauseRequested (same event id) arrives again, late.
    const envelope = { id: pauseId, 'detail-type': 'PauseRequested', source: CLIENT_SOURCE, time: new Date().toISOString(), detail };
    await controlRollout(stepContext(new Logger({ logLevel: 'SILENT' }), pauseId), envelope);

    const outcome = await t.observer.outcome('dup', 30_000);
    expect(outcome.detailType).toBe('DeployCompleted');
    expect(of('dup', 'RolloutPaused')).toHaveLength(1);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('refuses commands when nothing is deploying, or the command is invalid', async () => {
    await t.send('ResumeRequested', { ...key });
    await t.send('PromoteRequested', { AccountCanonicalSlug: slug, ServiceName: 'nope', Extra: 1 });
    const idle = await t.observer.waitFor((e) => e.detailType === 'RolloutCommandRejected' && e.detail.Command === 'ResumeRequested' && e.detail.ServiceName === service && (e.detail.Reasons as string[])[0]!.startsWith('No deployment'), 30_000);
    const invalid = await t.observer.waitFor((e) => e.detailType === 'RolloutCommandRejected' && e.detail.ServiceName === 'nope', 30_000);
    expect(idle.detail.Reasons).toEqual([`No deployment of ${service} in ${slug} active`]);
    expect(invalid.detail.Reasons).toEqual(['unknown field(s) "Extra" (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)']);
  });
});
