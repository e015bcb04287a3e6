import { DescribeLaunchTemplateVersionsCommand, EC2Client, ModifyImageAttributeCommand, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedService, WORKLOAD_ACCOUNT, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * Issue #14, item 3b: by default `$name-prefix:` also searches Deployomat's own account, where the
 * original looks by default (AMIs are usually built there and shared with the workload accounts).
 * The installation here sets no AMI owners: the default (domain/config.ts DEFAULT_AMI_OWNERS) applies.
 */
describe('AMI owners by default (emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const slug = 'acme-built';

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    svc = await seedService(t.account, { service: 'built', web: true, amis: ['built-v1'] });
  });
  afterAll(async () => t?.stop());

  it("deploys `$name-prefix:` from an AMI the installation's account built and shared, with none in the workload account", async () => {
    // Prepare: built in Deployomat's account (the process's own credentials) and shared with the
    // workload account; a newer one there is not shared, so it is not the workload account's to launch.
    const builder = new EC2Client({});
    const shared = (await builder.send(new RegisterImageCommand({ Name: 'built-app-2026.03' }))).ImageId!;
    await builder.send(new ModifyImageAttributeCommand({ ImageId: shared, LaunchPermission: { Add: [{ UserId: WORKLOAD_ACCOUNT }] } }));
    await builder.send(new RegisterImageCommand({ Name: 'built-app-2026.04' }));

    // Act
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'built', AmiId: '$name-prefix:built-app-', DeployId: 'built-1', DeployConfig: FAST });
    const outcome = await t.observer.outcome('built-1', 60_000);

    // Assess
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    expect(outcome.detail.AmiId).toBe(shared);
    const { ec2 } = await workloadClients();
    const versions = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: svc.launchTemplateId, Versions: ['$Default'] }))).LaunchTemplateVersions!;
    expect(versions[0]!.LaunchTemplateData!.ImageId).toBe(shared);
  });
});
