import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardTargets } from '../../domain/aws/listener-rules';
import { ledgerMismatches } from '../../infra/local/consistency';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { coreDeployScenarios, seedCoreServices, undeployScenario, type CoreServices } from '../helpers/core-scenarios';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { snapshotService } from '../helpers/workload';

/** Reads of ELBv2, Auto Scaling and EC2 lag behind writes by up to this much (moto_server.py "p."). */
const LAG = { maxLagMs: Number(process.env.LAG_MAX_MS ?? 1500), minLagMs: 200, seed: Number(process.env.LAG_SEED ?? 13) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Eventual consistency: the core scenarios with every target group, rule, Auto Scaling group and
 * launch template version written seen late by reads (AWS documents this for EC2 and ELB), each
 * ending as it does on a consistent emulator, with zero leftovers.
 */
describe('Eventual consistency (emulator)', () => {
  let t: TestDeployomat;
  let services: CoreServices;
  let web: SeededService;
  let fresh: SeededService;
  const slug = 'acme-lag';

  beforeAll(async () => {
    t = await startTestDeployomat({ slug, consistency: LAG });
    expect((await t.emulator.readConfig()).consistency).toEqual(LAG);
    // The services were set up long ago (by Serviceomat): their seed is seen at once.
    await t.emulator.configure({ consistency: { maxLagMs: 0 } });
    services = await seedCoreServices(t.account);
    web = services.web;
    fresh = await seedService(t.account, { service: 'fresh', web: true, priority: 20, amis: ['fresh-v1'] });
    await t.emulator.configure({ consistency: LAG });
  });
  afterAll(async () => t?.stop());

  /** Leftovers and ledger checks, once what the scenario wrote is visible to every reader. */
  const clean = async () => {
    await sleep(LAG.maxLagMs);
    const listeners = [t.account.listenerArn];
    return [...(await findLeftovers(t.local.install, listeners)), ...(await ledgerMismatches(t.local.install, listeners))];
  };

  describe('Mode: the emulator lags', () => {
    it('hides a new target group, Auto Scaling group and launch template version, and shows a modified rule as it was', async () => {
      // Prepare
      await t.emulator.configure({ consistency: { maxLagMs: 3000, minLagMs: 2000, seed: 1 } });
      const { elb, autoscaling, ec2 } = await workloadClients();
      try {
        // Act + Assess: a read right after its write misses it.
        const tg = (
          await elb.send(new CreateTargetGroupCommand({ Name: 'lag-probe', Protocol: 'HTTP', Port: 80, VpcId: t.account.vpcId }))
        ).TargetGroups![0]!;
        await expect(elb.send(new DescribeTargetGroupsCommand({ Names: ['lag-probe'] }))).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
        const listed = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
        expect(listed.map((g) => g.TargetGroupName)).not.toContain('lag-probe');

        const version = (
          await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: web.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { ImageId: web.amis['web-v1'] } }))
        ).LaunchTemplateVersion!.VersionNumber!;
        await expect(
          ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: web.launchTemplateId, Versions: [String(version)] })),
        ).rejects.toMatchObject({ name: 'InvalidLaunchTemplateId.VersionNotFound' });
        const latest = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: web.launchTemplateId, Versions: ['$Latest'] })))
          .LaunchTemplateVersions![0]!;
        expect(latest.VersionNumber).toBe(version - 1);
        await expect(
          autoscaling.send(
            new CreateAutoScalingGroupCommand({
              AutoScalingGroupName: 'lag-probe',
              LaunchTemplate: { LaunchTemplateId: web.launchTemplateId, Version: String(version) },
              MinSize: 0,
              MaxSize: 0,
              VPCZoneIdentifier: t.account.subnetIds.join(','),
            }),
          ),
        ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('does not exist') });

        const rule = ((await elb.send(new DescribeRulesCommand({ ListenerArn: t.account.listenerArn }))).Rules ?? []).find((r) => !r.IsDefault)!;
        const before = forwardTargets(rule.Actions?.find((a) => a.Type === 'forward'));
        await elb.send(
          new ModifyRuleCommand({
            RuleArn: rule.RuleArn,
            Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
          }),
        );
        const seen = (await elb.send(new DescribeRulesCommand({ RuleArns: [rule.RuleArn!] }))).Rules![0]!;
        expect(forwardTargets(seen.Actions?.find((a) => a.Type === 'forward'))).toEqual(before);

        // Once the lag has passed, every read sees the writes.
        await sleep(3100);
        expect((await elb.send(new DescribeTargetGroupsCommand({ Names: ['lag-probe'] }))).TargetGroups).toHaveLength(1);
        const after = (await elb.send(new DescribeRulesCommand({ RuleArns: [rule.RuleArn!] }))).Rules![0]!;
        expect(after.Actions?.[0]?.Type).toBe('fixed-response');

        // Put everything back as it was.
        await elb.send(new ModifyRuleCommand({ RuleArn: rule.RuleArn, Actions: rule.Actions }));
        await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
        expect((await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['lag-probe'] }))).AutoScalingGroups).toEqual([]);
      } finally {
        await t.emulator.configure({ consistency: LAG });
      }
      await sleep(3100);
    });
  });

  describe('Scenario: core deploys under lag', () => {
    const setup = { get: () => ({ t, services }), clean };
    /** Reads that missed a write, per kind, before the scenarios. */
    let before: Record<string, number> = {};
    beforeAll(async () => {
      before = (await t.emulator.consistencyReport()).laggedReads;
    });
    coreDeployScenarios(setup);

    it('cancels a first deploy whose new live rule is not listed yet: the rule is deleted all the same', async () => {
      // Every write of this deploy stays unseen for 3-4 s: the cancel comes while its rule is new.
      await t.emulator.configure({ consistency: { maxLagMs: 4000, minLagMs: 3000, seed: LAG.seed } });
      try {
        await t.send('DeployRequested', {
          AccountCanonicalSlug: slug,
          ServiceName: 'fresh',
          AmiId: fresh.amis['fresh-v1'],
          DeployId: 'fresh-1',
          DeployConfig: { ...FAST, BakeTime: 60 },
        });
        await t.observer.waitFor((e) => e.detail.DeployId === 'fresh-1' && e.detailType === 'AsgCloned', 60_000);
        await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'fresh' });
        const outcome = await t.observer.outcome('fresh-1', 90_000);

        expect(outcome.detailType).toBe('DeployCancelled');
        const restored = t.observer.of('fresh-1').find((e) => e.detailType === 'TrafficRestored')!;
        expect((restored.detail.DeletedRuleArns as string[]).length).toBe(1);
      } finally {
        await t.emulator.configure({ consistency: LAG });
      }
      await sleep(4000);
      expect(await clean()).toEqual([]);
      const s = await snapshotService('fresh', t.account.listenerArn, fresh.launchTemplateId);
      expect(s.rules.filter((r) => Number(r.priority) < 40000 && r.forwards.some((f) => f.targetGroup.startsWith('fresh')))).toEqual([]);
    });

    it('met the lag on the way: reads that missed a write of each kind', async () => {
      const { laggedReads } = await t.emulator.consistencyReport();
      const during = Object.fromEntries(Object.entries(laggedReads).map(([kind, n]) => [kind, n - (before[kind] ?? 0)]));
      console.log('reads that missed a write during the scenarios', during);
      for (const kind of ['FakeListenerRule', 'LaunchTemplateVersion']) expect(during[kind]).toBeGreaterThan(0);
    });

    undeployScenario(setup);
  });
});
