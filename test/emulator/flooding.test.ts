import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SdkCallLog, type SdkCall } from '../../bench/sdk-calls';
import { CLIENT_SOURCE } from '../../events/client';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';

/** Deployomat's own services; every other call a dry run makes costs the quota of the workload (or meta) account. */
const OWN_SERVICES = new Set(['DynamoDB', 'EventBridge', 'SQS', 'Scheduler']);
const outsideCalls = (calls: SdkCall[]) => calls.filter((c) => c.caller === 'deployomat' && !OWN_SERVICES.has(c.service));

/**
 * Flooding (issue #12, finding 10): dry runs are limited per service, and a rollout paused without
 * PauseTimeout rolls back after the installation's maximum pause (3 s here).
 */
describe('Flooding (emulator)', () => {
  let t: TestDeployomat;
  let shop: SeededService;
  let cart: SeededService;
  const calls = SdkCallLog.install();
  const slug = 'acme-flood';
  // Long enough that the repeats of the winner still fall in its window on a loaded machine (the
  // flood's first test took 33 s once, with 20 s the repeats were planned again).
  const INTERVAL = 45;
  const MAX_PAUSE = 3;
  const key = (service: string) => ({ AccountCanonicalSlug: slug, ServiceName: service });
  const dryRun = (svc: SeededService, name: string, deployId: string) => ({
    ...key(name),
    AmiId: Object.values(svc.amis).at(-1),
    DeployId: deployId,
    DeployConfig: { DryRun: true },
  });
  /** Publishes every request at once, ten to a PutEvents call (as a runaway script would). */
  const flood = async (details: unknown[]) => {
    const events = new EventBridgeClient({});
    for (let i = 0; i < details.length; i += 10) {
      const Entries = details.slice(i, i + 10).map((d) => ({ EventBusName: t.local.install.busName, Source: CLIENT_SOURCE, DetailType: 'DeployRequested', Detail: JSON.stringify(d) }));
      const out = await events.send(new PutEventsCommand({ Entries }));
      expect(out.FailedEntryCount ?? 0).toBe(0);
    }
  };
  const planned = () => t.observer.events.filter((e) => e.detailType === 'DeployPlanned');

  beforeAll(async () => {
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS: String(INTERVAL), DEPLOYOMAT_MAX_PAUSE_SECONDS: String(MAX_PAUSE) } });
    // Two services of the same shape, both in production: a dry run of either costs the same calls.
    shop = await seedService(t.account, { service: 'shop', web: true, amis: ['shop-v1', 'shop-v2', 'shop-v3'] });
    cart = await seedService(t.account, { service: 'cart', web: true, priority: 20, amis: ['cart-v1', 'cart-v2'] });
    await t.send('DeployRequested', { ...key('shop'), AmiId: shop.amis['shop-v1'], DeployId: 'shop-prod', DeployConfig: FAST });
    await t.send('DeployRequested', { ...key('cart'), AmiId: cart.amis['cart-v1'], DeployId: 'cart-prod', DeployConfig: FAST });
    expect((await t.observer.outcome('shop-prod', 60_000)).detailType).toBe('DeployCompleted');
    expect((await t.observer.outcome('cart-prod', 60_000)).detailType).toBe('DeployCompleted');
  });
  afterAll(async () => t?.stop());

  describe('dry runs', () => {
    let winner: string;

    it('plans one of a flood of 20 dry runs of a service, rejects the others saying when to retry, and costs the workload account one plan', async () => {
      // Prepare: what one dry run costs outside Deployomat (cart is shaped like shop).
      let from = performance.now();
      await t.send('DeployRequested', dryRun(cart, 'cart', 'cart-dry'));
      expect((await t.observer.outcome('cart-dry', 30_000)).detailType).toBe('DeployPlanned');
      const onePlan = outsideCalls(calls.between(from)).length;
      expect(onePlan).toBeGreaterThan(3);

      // Act
      from = performance.now();
      const ids = Array.from({ length: 20 }, (_, i) => `shop-dry-${i}`);
      await flood(ids.map((id) => dryRun(shop, 'shop', id)));
      const outcomes = await Promise.all(ids.map((id) => t.observer.outcome(id, 60_000)));

      // Assess
      const plans = outcomes.filter((o) => o.detailType === 'DeployPlanned');
      expect(plans).toHaveLength(1);
      winner = String(plans[0]!.detail.DeployId);
      const rejected = outcomes.filter((o) => o.detailType === 'DeployRejected');
      expect(rejected).toHaveLength(19);
      const retryAt = Date.parse(String(rejected[0]!.detail.RetryAt));
      expect(retryAt - plans[0]!.receivedAt).toBeLessThanOrEqual(INTERVAL * 1000);
      for (const r of rejected) {
        expect(r.detail).toMatchObject({ DryRun: true, RetryAt: new Date(retryAt).toISOString() });
        expect(r.detail.Reasons).toEqual([
          expect.stringMatching(
            new RegExp(`^Too many dry runs: dry run ${winner} of shop in ${slug} was planned at \\S+Z, and one is planned per ${INTERVAL} s \\(DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS\\); retry after \\S+Z$`),
          ),
        ]);
      }
      await calls.quiet('deployomat', 500);
      expect(outsideCalls(calls.between(from)).length).toBeLessThanOrEqual(onePlan);
    });

    it('drops an identical repeat of the dry run planned, and plans another once the window has passed', async () => {
      // Act: the winner's very request three times more, then a different one.
      const plansBefore = planned().length;
      await flood([1, 2, 3].map(() => dryRun(shop, 'shop', winner)));
      await t.send('DeployRequested', dryRun(shop, 'shop', 'shop-later'));
      const later = await t.observer.outcome('shop-later', 30_000);
      await new Promise((r) => setTimeout(r, 1000));

      // Assess: no answer to the repeats (the first one's answers them); the other one waits its turn.
      expect(t.observer.of(winner).map((e) => e.detailType)).toEqual(['DeployPlanned']);
      expect(planned()).toHaveLength(plansBefore);
      expect(later.detailType).toBe('DeployRejected');

      // Once the window has passed, the same dry run is planned.
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(String(later.detail.RetryAt)) - Date.now()) + 200));
      await t.send('DeployRequested', dryRun(shop, 'shop', 'shop-later'));
      await t.observer.waitFor((e) => e.detail.DeployId === 'shop-later' && e.detailType === 'DeployPlanned', 30_000, 'the retried dry run');
      expect(planned()).toHaveLength(plansBefore + 1);
    });
  });

  describe('pauses without PauseTimeout', () => {
    const snapshot = async () => shape(await snapshotService('shop', t.account.listenerArn, shop.launchTemplateId));
    const waitFor = (deployId: string, type: string) =>
      t.observer.waitFor((e) => e.detail.DeployId === deployId && e.detailType === type, 30_000, `${type} of ${deployId}`);
    const capped = (percent: number) =>
      `the rollout stayed paused at ${percent} % for longer than the maximum pause of this installation (${MAX_PAUSE} s, DEPLOYOMAT_MAX_PAUSE_SECONDS) without ResumeRequested`;

    it('rolls back a rollout paused at PauseAtPercent once the maximum pause has passed, and says why', async () => {
      // Prepare
      const before = await snapshot();

      // Act
      await t.send('DeployRequested', { ...key('shop'), AmiId: shop.amis['shop-v2'], DeployId: 'forgotten', DeployConfig: { ...FAST, PauseAtPercent: [50] } });
      const paused = await waitFor('forgotten', 'RolloutPaused');
      const outcome = await t.observer.outcome('forgotten', 30_000);

      // Assess
      expect(paused.detail).toMatchObject({ Percent: 50, By: 'PauseAtPercent' });
      expect(Date.parse(String(paused.detail.RollbackAt)) - paused.receivedAt).toBeLessThan(MAX_PAUSE * 1000 + 500);
      expect(outcome.detailType).toBe('DeployFailed');
      expect(outcome.detail).toMatchObject({ Phase: 'Paused', Errors: [capped(50)] });
      const rollback = await waitFor('forgotten', 'RollbackStarted');
      expect(rollback.receivedAt - paused.receivedAt).toBeGreaterThan(MAX_PAUSE * 1000 - 500);
      const after = await snapshot();
      expect({ asgs: after.asgs, rules: after.rules }).toEqual({ asgs: before.asgs, rules: before.rules });
      expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
    });

    it('rolls back a bake paused by PauseRequested once the maximum pause has passed', async () => {
      await t.send('DeployRequested', { ...key('shop'), AmiId: shop.amis['shop-v3'], DeployId: 'bake-left', DeployConfig: { ...FAST, BakeTime: 120 } });
      await t.observer.waitFor((e) => e.detail.DeployId === 'bake-left' && e.detailType === 'TrafficShifted' && e.detail.Percent === 100, 30_000);
      await t.send('PauseRequested', { ...key('shop'), Reason: 'looking at a dashboard' });
      const paused = await waitFor('bake-left', 'RolloutPaused');

      const outcome = await t.observer.outcome('bake-left', 30_000);

      expect(paused.detail).toMatchObject({ Percent: 100, By: 'request' });
      expect(outcome.detailType).toBe('DeployFailed');
      expect(outcome.detail.Errors).toEqual([capped(100)]);
      expect(outcome.receivedAt - paused.receivedAt).toBeLessThan(30_000); // not after the 120 s bake
      expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
    });

    it('rejects a PauseTimeout longer than the maximum pause before changing anything', async () => {
      const before = await snapshot();
      await t.send('DeployRequested', { ...key('shop'), AmiId: shop.amis['shop-v2'], DeployId: 'too-patient', DeployConfig: { ...FAST, PauseAtPercent: [50], PauseTimeout: 10 } });

      const outcome = await t.observer.outcome('too-patient', 30_000);

      expect(outcome.detailType).toBe('DeployRejected');
      expect(outcome.detail.Reasons).toEqual([
        `DeployConfig.PauseTimeout: must be at most ${MAX_PAUSE} seconds, the longest a rollout may stay paused in this installation (DEPLOYOMAT_MAX_PAUSE_SECONDS); leave it unset to wait that long`,
      ]);
      expect(await snapshot()).toEqual(before);
    });
  });
});
