import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, WORKLOAD_ACCOUNT, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * Hung calls: an AWS call that gets no answer must not hold a step (and its queue) until the
 * Lambda times out. Each client gives an attempt DEPLOYOMAT_AWS_REQUEST_TIMEOUT_SECONDS of
 * silence (2 s here), then the SDK retries it. The emulator answers the chosen calls 60 s late.
 */
const HANG_SECONDS = 60;
process.env.DEPLOYOMAT_AWS_REQUEST_TIMEOUT_SECONDS = '2';

describe('Hung AWS calls (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  const slug = 'acme-hung';

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['v01', 'v02'] });
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis.v01, DeployId: 'hung-1', DeployConfig: FAST });
    expect((await t.observer.outcome('hung-1', 60_000)).detailType).toBe('DeployCompleted');
  }, 90_000);
  afterAll(async () => {
    await t?.emulator.configure({ faults: [] }).catch(() => {});
    await t?.stop();
  });

  it('completes a blue/green deploy whose ledger read and health check hang, long before the hung calls would answer', async () => {
    // A control-plane read (the ledger) and a workload read (target health) hang once each.
    await t.emulator.configure({
      faults: [
        { action: 'GetItem', count: 1, delaySeconds: HANG_SECONDS },
        { action: 'DescribeTargetHealth', count: 1, delaySeconds: HANG_SECONDS, account: WORKLOAD_ACCOUNT },
      ],
    });
    const started = Date.now();

    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis.v02, DeployId: 'hung-2', DeployConfig: FAST });
    const outcome = await t.observer.outcome('hung-2', 45_000);

    expect(outcome.detailType).toBe('DeployCompleted');
    // Both hangs happened, and the deploy did not wait for either answer.
    expect((await t.emulator.readConfig()).faults.map((f) => [f.action, f.count])).toEqual([
      ['GetItem', 0],
      ['DescribeTargetHealth', 0],
    ]);
    expect(Date.now() - started).toBeLessThan(HANG_SECONDS * 1000);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  }, 60_000);
});
