import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_TAG } from '../../domain/aws/tags';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, workloadClients } from '../../infra/local/seed';
import { startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/** The leftover check every rollback/cancel/undeploy test relies on must see all of AWS, not a first page. */
describe('Leftover check (emulator)', () => {
  let t: TestDeployomat;
  beforeAll(async () => {
    t = await startTestDeployomat({ slug: 'acme-leftovers' });
  });
  afterAll(async () => t?.stop());

  it('reports every stray managed ASG, beyond the first page of 50', async () => {
    // Prepare: 60 empty ASGs tagged as Deployomat's that no service's ledger names.
    const { launchTemplateId } = await seedService(t.account, { service: 'web', web: true, amis: ['v01'] });
    const { autoscaling } = await workloadClients();
    const strays = Array.from({ length: 60 }, (_, i) => `stray-${String(i).padStart(2, '0')}`);
    for (const name of strays) {
      await autoscaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
          MinSize: 0,
          MaxSize: 0,
          VPCZoneIdentifier: t.account.subnetIds.join(','),
          Tags: [{ Key: MANAGED_TAG, Value: 'deployomat', PropagateAtLaunch: true }],
        }),
      );
    }

    // Act
    const problems = await findLeftovers(t.local.install, [t.account.listenerArn]);

    // Assess
    const reported = problems.flatMap((p) => /^ASG (\S+) is not any service's production$/.exec(p)?.[1] ?? []).sort();
    expect(reported).toEqual(strays);
  });
});
