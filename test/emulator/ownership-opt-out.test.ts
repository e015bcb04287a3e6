import { CreateLaunchTemplateVersionCommand, ModifyLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedInstanceProfile, seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * The opt-out of issue #12 findings 3 and 7 (`requireOwnerTags: false`): the original's rule, any
 * instance role under `/<org>/service-role/`, tagged or not. (The path rule itself still holds:
 * test/emulator/ownership.test.ts.)
 */
describe('Launch ownership with requireOwnerTags off (emulator)', () => {
  const slug = 'acme-own-off';
  let t: TestDeployomat;
  let shop: SeededService;
  beforeAll(async () => {
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_REQUIRE_OWNER_TAGS: 'false' } });
    shop = await seedService(t.account, { service: 'shop', web: true, amis: ['shop-v1'] });
    await seedInstanceProfile((await workloadClients()).iam, 'untagged', []);
  });
  afterAll(async () => t?.stop());

  it('deploys with an untagged instance role under /<org>/service-role/', async () => {
    // Prepare
    const { ec2 } = await workloadClients();
    const v = await ec2.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: shop.launchTemplateId, SourceVersion: '$Latest', LaunchTemplateData: { IamInstanceProfile: { Name: 'untagged-instance' } } }),
    );
    await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: shop.launchTemplateId, DefaultVersion: String(v.LaunchTemplateVersion!.VersionNumber) }));

    // Act
    const eventId = await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'shop', AmiId: shop.amis['shop-v1']!, DeployConfig: FAST });
    const outcome = await t.observer.outcome(eventId, 60_000);

    // Assess
    expect(outcome.detail.Reasons).toBeUndefined();
    expect(outcome.detailType).toBe('DeployCompleted');
  });
});
