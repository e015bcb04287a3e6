import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { snapshotService } from '../helpers/workload';

/**
 * Issue #12, finding 6: every AMI a deploy would launch — an explicit id and a launch template
 * version's included, not only `$name-prefix:` — must be owned by an allowed owner. Here the
 * installation allows other owners only, so the workload account's own AMIs are refused.
 */
describe('AMI owners (emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const slug = 'acme-owners';

  beforeAll(async () => {
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_AMI_OWNERS: '999999999999,amazon' } });
    svc = await seedService(t.account, { service: 'shop', web: true, amis: ['shop-v1'] });
  });
  afterAll(async () => t?.stop());

  it.each([
    ['an explicit AMI id', () => svc.amis['shop-v1']!],
    ['a launch template version', () => '$launchtemplate:1'],
  ])('rejects %s owned by an account that is not an allowed owner, before changing anything', async (_what, ami) => {
    // Prepare
    const before = await snapshotService('shop', t.account.listenerArn, svc.launchTemplateId);

    // Act
    const eventId = await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'shop', AmiId: ami(), DeployConfig: FAST });
    const outcome = await t.observer.outcome(eventId, 30_000);

    // Assess
    expect(outcome.detailType).toBe('DeployRejected');
    expect((outcome.detail.Reasons as string[]).join('\n')).toMatch(
      new RegExp(`AMI ${svc.amis['shop-v1']} is owned by \\d{12}, which is not an allowed AMI owner \\(999999999999, amazon\\)`),
    );
    expect(await snapshotService('shop', t.account.listenerArn, svc.launchTemplateId)).toEqual(before);
  });
});
