import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SdkCallLog, type SdkCall } from '../../bench/sdk-calls';
import { CLIENT_SOURCE } from '../../events/client';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/** Deployomat's own services; every other call a dry run makes costs the quota of the workload (or meta) account. */
const OWN_SERVICES = new Set(['DynamoDB', 'EventBridge', 'SQS', 'Scheduler']);
const outsideCalls = (calls: SdkCall[]) => calls.filter((c) => c.caller === 'deployomat' && !OWN_SERVICES.has(c.service));

/** Flooding (issue #12, finding 10): dry runs are limited per service. */
describe('Flooding (emulator)', () => {
  let t: TestDeployomat;
  let shop: SeededService;
  let cart: SeededService;
  const calls = SdkCallLog.install();
  const slug = 'acme-flood';
  const INTERVAL = 20;
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
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS: String(INTERVAL) } });
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
});
