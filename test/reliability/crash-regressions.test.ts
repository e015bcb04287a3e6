import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashInjector } from '../../infra/local/crash';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * Regressions: bugs found by crash.test.ts (issue #7), each reproduced on its own here, fixed since
 * (late duplicate cancels are recognised by the command ids kept on the service item; a retried
 * restore-traffic always drains). The tests describe the correct behaviour.
 *
 * 1. A CancelRequested that comes back after its rollback has moved on is not recognised as the
 *    same request.
 *
 * `cancelDeploy` (domain/steps/rollback.ts) recognises a redelivered CancelRequested only while
 * the service's `OutboxCause` is still that cancel's event id, i.e. until restore-traffic takes the
 * next transition. start-rollback publishing RollbackStarted and then dying before SQS is told
 * (a crash, a timeout, or simply an SQS duplicate) brings the cancel back a visibility timeout
 * later (90 s in AWS); by then the rollback has advanced or finished, and the old cancel is
 * handled as a new one: it restarts a running rollback, answers CancelRejected for a cancel that
 * worked, or — if the user has deployed again meanwhile — cancels the *new* deploy.
 *
 * Reproduced with the crash injector: start-rollback dies right after its PutEvents, and the
 * message comes back 10 s later (a shortened visibility timeout).
 *
 * 2. restore-traffic retried after it had already put the rules back (it died after ModifyRule,
 *    before its ledger write) finds no rule forwarding to the deploy, concludes there is nothing
 *    to drain (`drain = restored + deleted ? DrainSeconds : 0`), and finish-rollback deletes the
 *    deploy's ASG and target group right away, while requests routed to them may still be in flight.
 */
const injector = crashInjector();
const SLUG = 'acme-ghost';
const SHIFTING = { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 3 };
const REDELIVER_AFTER_SECONDS = 10;

describe('Regressions found by crash injection (emulator)', () => {
  let t: TestDeployomat;
  const services: Record<string, SeededService> = {};

  beforeAll(async () => {
    injector.redeliverAfterSeconds = REDELIVER_AFTER_SECONDS;
    t = await startTestDeployomat({ slug: SLUG, runtime: { crashes: injector }, env: { DEPLOYOMAT_RETRY_BASE_SECONDS: '1' } });
    for (const [i, service] of ['ghost-a', 'ghost-b', 'ghost-c'].entries()) {
      services[service] = await seedService(t.account, { service, web: true, priority: 10 + i, amis: ['v1', 'v2', 'v3'].map((v) => `${service}-${v}`) });
    }
  });
  afterAll(async () => t?.stop());

  const deploy = async (service: string, id: string, ami: string, config: object) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: SLUG, ServiceName: service, AmiId: services[service]!.amis[`${service}-${ami}`], DeployId: id, DeployConfig: config });
  };

  /** v1 in production, v2 cancelled mid-shift while start-rollback dies right after publishing RollbackStarted. */
  async function cancelWithCrash(service: string): Promise<number> {
    await deploy(service, `${service}-1`, 'v1', FAST);
    expect((await t.observer.outcome(`${service}-1`, 60_000)).detailType).toBe('DeployCompleted');
    await deploy(service, `${service}-2`, 'v2', SHIFTING);
    await t.observer.waitFor((e) => e.detail.DeployId === `${service}-2` && e.detailType === 'TrafficShifted', 60_000);
    const watch = injector.watch(`${SLUG}/${service}`, { crashAt: { handler: 'start-rollback', operation: 'PutEvents', occurrence: 1 } });
    await t.send('CancelRequested', { AccountCanonicalSlug: SLUG, ServiceName: service });
    expect((await t.observer.outcome(`${service}-2`, 60_000)).detailType).toBe('DeployCancelled');
    expect(watch.fired, 'start-rollback crashed after publishing RollbackStarted').toBeDefined();
    return watch.fired!.at;
  }

  it('bug 1: a redelivered CancelRequested does not answer CancelRejected to a cancel that worked', async () => {
    const crashedAt = await cancelWithCrash('ghost-a');
    // The cancel comes back (redelivered) and must be recognised as already handled.
    await new Promise((r) => setTimeout(r, Math.max(0, crashedAt + (REDELIVER_AFTER_SECONDS + 3) * 1000 - Date.now())));
    expect(t.local.runtime.invocations['start-rollback']).toBeGreaterThanOrEqual(2);
    expect(t.observer.events.filter((e) => e.detailType === 'CancelRejected' && e.detail.ServiceName === 'ghost-a')).toEqual([]);
  }, 90_000);

  it('bug 1: a redelivered CancelRequested does not cancel the deploy started after the cancelled one', async () => {
    await cancelWithCrash('ghost-b');
    // The user deploys again right away; the old cancel comes back while this deploy shifts.
    await deploy('ghost-b', 'ghost-b-3', 'v3', SHIFTING);
    const outcome = await t.observer.outcome('ghost-b-3', 90_000);
    expect(outcome.detailType, `ghost-b-3 ended ${outcome.detailType}: ${JSON.stringify(outcome.detail)}`).toBe('DeployCompleted');
  }, 120_000);

  it('bug 2: restore-traffic retried after a crash still lets the traffic drain before the rollback deletes', async () => {
    const service = 'ghost-c';
    await deploy(service, `${service}-1`, 'v1', FAST);
    expect((await t.observer.outcome(`${service}-1`, 60_000)).detailType).toBe('DeployCompleted');
    await deploy(service, `${service}-2`, 'v2', SHIFTING);
    await t.observer.waitFor((e) => e.detail.DeployId === `${service}-2` && e.detailType === 'TrafficShifted', 60_000);
    const watch = injector.watch(`${SLUG}/${service}`, { crashAt: { handler: 'restore-traffic', operation: 'ModifyRule', occurrence: 1 } });
    await t.send('CancelRequested', { AccountCanonicalSlug: SLUG, ServiceName: service });
    expect((await t.observer.outcome(`${service}-2`, 60_000)).detailType).toBe('DeployCancelled');
    expect(watch.fired).toBeDefined();
    const restored = t.observer.of(`${service}-2`).filter((e) => e.detailType === 'TrafficRestored');
    // DEPLOYOMAT_DRAIN_SECONDS is 1 in tests; the retried step reports 0 and restored no rule.
    expect(restored.map((e) => e.detail.DrainSeconds)).toEqual([1]);
  }, 90_000);
});
