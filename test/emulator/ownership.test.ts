import { UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, ModifyLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_TAG } from '../../domain/aws/tags';
import { ORG, seedService, workloadClients, WORKLOAD_ACCOUNT, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { snapshotService } from '../helpers/workload';

/**
 * Issue #12, findings 3 and 7: a team that can edit its own launch template or template ASG must
 * not make a deploy hand another service's instance role (or any other role) to EC2 or Auto
 * Scaling. start-deploy checks what the deployed version would launch with before creating
 * anything; the workload role's policy enforces the same on AWS (test/infra/ownership.test.ts).
 */
describe('Launch ownership (emulator)', () => {
  const slug = 'acme-own';

  /** shop's launch template now launches with `profile` (a version written by shop's team, made the default). */
  async function launchWith(svc: SeededService, profile: string) {
    const { ec2 } = await workloadClients();
    const v = await ec2.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: svc.launchTemplateId, SourceVersion: '$Latest', LaunchTemplateData: { IamInstanceProfile: { Name: profile } } }),
    );
    await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: svc.launchTemplateId, DefaultVersion: String(v.LaunchTemplateVersion!.VersionNumber) }));
  }

  async function deploy(t: TestDeployomat, svc: SeededService) {
    const eventId = await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: svc.service, AmiId: svc.amis[`${svc.service}-v1`]!, DeployConfig: FAST });
    const outcome = await t.observer.outcome(eventId, 60_000);
    return { outcome, reasons: ((outcome.detail.Reasons as string[] | undefined) ?? []).join('\n') };
  }

  describe('with owner tags required (the default)', () => {
    let t: TestDeployomat;
    let shop: SeededService;
    let billing: SeededService;
    beforeAll(async () => {
      t = await startTestDeployomat({ slug });
      shop = await seedService(t.account, { service: 'shop', web: true, amis: ['shop-v1'] });
      billing = await seedService(t.account, { service: 'billing', web: false, amis: ['billing-v1'] });
    });
    afterAll(async () => t?.stop());

    it("rejects a launch template naming another service's instance role, before changing anything", async () => {
      // Prepare: shop's team points its launch template at billing's instance profile.
      const before = await snapshotService('shop', t.account.listenerArn, shop.launchTemplateId);
      await launchWith(shop, 'billing-instance');

      // Act
      const { outcome, reasons } = await deploy(t, shop);

      // Assess
      expect(outcome.detailType).toBe('DeployRejected');
      expect(reasons).toContain(
        `Instance role arn:aws:iam::${WORKLOAD_ACCOUNT}:role/${ORG}/service-role/billing-instance (instance profile billing-instance) belongs to ${slug}/billing (${OWNER_TAG} tag)`,
      );
      const after = await snapshotService('shop', t.account.listenerArn, shop.launchTemplateId);
      expect({ asgs: after.asgs, targetGroups: after.targetGroups, rules: after.rules }).toEqual({ asgs: before.asgs, targetGroups: before.targetGroups, rules: before.rules });
      await launchWith(shop, 'shop-instance');
    });

    it('rejects an instance role outside /<org>/service-role/', async () => {
      // Prepare
      const { iam } = await workloadClients();
      await iam.send(new CreateRoleCommand({ RoleName: 'Admin', AssumeRolePolicyDocument: '{}', Tags: [{ Key: OWNER_TAG, Value: `${slug}/shop` }] }));
      await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'admin-profile' }));
      await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'admin-profile', RoleName: 'Admin' }));
      await launchWith(shop, 'admin-profile');

      // Act
      const { outcome, reasons } = await deploy(t, shop);

      // Assess: tagged as shop's or not, an administrator role is no instance role.
      expect(outcome.detailType).toBe('DeployRejected');
      expect(reasons).toContain(`carries the role arn:aws:iam::${WORKLOAD_ACCOUNT}:role/Admin; instance roles must live under /${ORG}/service-role/`);
      await launchWith(shop, 'shop-instance');
    });

    it("rejects a template ASG naming another service's launch template (its version is never made)", async () => {
      // Prepare: shop's template ASG now launches from billing's launch template.
      const { autoscaling } = await workloadClients();
      await autoscaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'shop-template', LaunchTemplate: { LaunchTemplateId: billing.launchTemplateId, Version: '$Default' } }),
      );
      const before = await snapshotService('billing', t.account.listenerArn, billing.launchTemplateId);

      // Act
      const { outcome, reasons } = await deploy(t, shop);

      // Assess
      expect(outcome.detailType).toBe('DeployRejected');
      expect(reasons).toContain(`Launch template ${billing.launchTemplateId} belongs to ${slug}/billing (${OWNER_TAG} tag): tag it ${OWNER_TAG}=${slug}/shop if it belongs to this service`);
      expect((await snapshotService('billing', t.account.listenerArn, billing.launchTemplateId)).launchTemplate).toEqual(before.launchTemplate);
      await autoscaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'shop-template', LaunchTemplate: { LaunchTemplateId: shop.launchTemplateId, Version: '$Default' } }),
      );
    });

    it('rejects a template ASG naming a role that is not an Auto Scaling service-linked role', async () => {
      // Prepare
      const { autoscaling } = await workloadClients();
      const foreign = `arn:aws:iam::${WORKLOAD_ACCOUNT}:role/${ORG}/service-role/shop-instance`;
      await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'billing-template', ServiceLinkedRoleARN: foreign }));

      // Act
      const { outcome, reasons } = await deploy(t, billing);

      // Assess
      expect(outcome.detailType).toBe('DeployRejected');
      expect(reasons).toContain(`billing-template names the service-linked role ${foreign}`);
    });
  });
});
