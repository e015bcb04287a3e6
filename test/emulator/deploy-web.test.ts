import { DescribeAutoScalingGroupsCommand, DescribePoliciesCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardTargets } from '../../domain/aws/listener-rules';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { snapshotService } from '../helpers/workload';

describe('Deploy of a web service (emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const service = 'shop';
  const slug = 'acme-web';

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    svc = await seedService(t.account, {
      service,
      web: true,
      amis: ['shop-base', 'shop-v1', 'shop-v2', 'shop-app-2026.01', 'shop-app-2026.02'],
    });
  });
  afterAll(async () => t?.stop());

  const deploy = async (deployId: string, amiId: string, config: Record<string, unknown> = FAST) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: config });
    return t.observer.outcome(deployId, 60_000);
  };
  const snapshot = () => snapshotService(service, t.account.listenerArn, svc.launchTemplateId);

  it('creates the live rule from the exemplar on a first deploy and goes straight to bake', async () => {
    const outcome = await deploy('shop-1', svc.amis['shop-v1']!);

    expect(outcome.detailType).toBe('DeployCompleted');
    const types = t.observer.of('shop-1').map((e) => e.detailType);
    expect(types).toEqual(['AsgCloned', 'InstancesHealthy', 'BakeElapsed', 'DeployCompleted']);
    expect(t.observer.of('shop-1')[0]!.detail.Rollout).toBe('first-web');

    const s = await snapshot();
    expect(s.asgs).toHaveLength(1);
    const asg = s.asgs[0]!;
    expect(asg.MinSize).toBe(2); // acme:min_size
    expect(asg.MaxSize).toBe(4); // acme:max_size
    expect(asg.LaunchTemplate?.Version).toBe('2');
    expect(asg.Tags?.map((x) => `${x.Key}=${x.Value}`)).toEqual(expect.arrayContaining(['Managed=deployomat', 'team=platform', 'deployomat:deploy-id=shop-1']));
    expect(s.targetGroups).toHaveLength(1);
    expect(s.rules).toEqual([
      { priority: '10', forwards: [{ targetGroup: s.targetGroups[0], weight: 100 }] },
      { priority: '40010', forwards: [{ targetGroup: 'shop-template', weight: 1 }] },
    ]);
    expect(s.launchTemplate).toMatchObject({ latest: 2, default: 2 });
  });

  it('copies the template target group settings, attributes and tags', async () => {
    const { elb, autoscaling } = await workloadClients();
    const name = (await snapshot()).targetGroups[0]!;
    const tg = (await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups![0]!;
    expect(tg).toMatchObject({ Port: 8080, Protocol: 'HTTP', HealthCheckPath: '/health', HealthCheckIntervalSeconds: 5, VpcId: t.account.vpcId });
    const attrs = (await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }))).Attributes ?? [];
    expect(attrs).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '30' });
    const tags = (await elb.send(new DescribeTagsCommand({ ResourceArns: [tg.TargetGroupArn!] }))).TagDescriptions![0]!.Tags;
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'Managed', Value: 'deployomat' }, { Key: 'team', Value: 'platform' }]));

    const asgName = (await snapshot()).asgs[0]!.AutoScalingGroupName!;
    const policies = (await autoscaling.send(new DescribePoliciesCommand({ AutoScalingGroupName: asgName }))).ScalingPolicies ?? [];
    expect(policies.map((p) => [p.PolicyName, p.PolicyType, p.TargetTrackingConfiguration?.TargetValue])).toEqual([
      ['target-cpu', 'TargetTrackingScaling', 50],
    ]);
  });

  it('shifts traffic blue/green in the configured steps, then removes the previous version', async () => {
    const before = await snapshot();
    const previousAsg = before.asgs[0]!.AutoScalingGroupName!;
    const previousTg = before.targetGroups[0]!;
    const { autoscaling, elb } = await workloadClients();
    // Production scaled out to 3: the new group must start at 3 and production must not shrink.
    await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: previousAsg, DesiredCapacity: 3 }));
    const weightsSeen: number[][] = [];
    let productionMinDuringShift: number | undefined;
    t.observer.onEvent((e) => {
      if (e.detailType !== 'TrafficShifted' || e.detail.DeployId !== 'shop-2') return;
      if (e.detail.Step === 1) {
        void autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [previousAsg] })).then((out) => {
          productionMinDuringShift = out.AutoScalingGroups?.[0]?.MinSize;
        });
      }
      void elb.send(new DescribeRulesCommand({ ListenerArn: t.account.listenerArn })).then((out) => {
        const live = out.Rules!.find((r) => r.Priority === '10')!;
        weightsSeen.push(forwardTargets(live.Actions!.find((a) => a.Type === 'forward')).map((x) => x.weight));
      });
    });

    const outcome = await deploy('shop-2', svc.amis['shop-v2']!, { ...FAST, TrafficShiftPerStep: 25 });

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(outcome.detail.PreviousAsgName).toBe(previousAsg);
    const events = t.observer.of('shop-2');
    const cloned = events.find((e) => e.detailType === 'AsgCloned')!;
    expect(cloned.detail).toMatchObject({ Rollout: 'web', MinSize: 3, ProductionAsgName: previousAsg });
    const shifted = events.filter((e) => e.detailType === 'TrafficShifted').map((e) => [e.detail.Step, e.detail.Percent]);
    expect(shifted).toEqual([[1, 25], [2, 50], [3, 75], [4, 100]]);
    // Every re-weighting sums to 100, and the last one forwards only to the new group.
    expect(weightsSeen.slice(0, 3)).toEqual([[75, 25], [50, 50], [25, 75]]);
    expect(weightsSeen[3]).toEqual([100]);

    const after = await snapshot();
    expect(after.asgs.map((g) => g.AutoScalingGroupName)).toEqual([cloned.detail.AsgName]);
    expect(after.asgs[0]!.MinSize).toBe(2); // back to acme:min_size once in production
    expect(productionMinDuringShift).toBe(3); // production could not scale in while traffic might fall back to it
    expect(after.targetGroups).toHaveLength(1);
    expect(after.targetGroups).not.toContain(previousTg);
    expect(after.rules[0]).toEqual({ priority: '10', forwards: [{ targetGroup: after.targetGroups[0], weight: 100 }] });
    expect(after.launchTemplate).toMatchObject({ latest: 3, default: 3 });
    const gone = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [previousAsg] }));
    expect(gone.AutoScalingGroups).toEqual([]);

    const ledger = new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
    const state = await ledger.getService({ AccountCanonicalSlug: slug, ServiceName: service });
    expect(state).toMatchObject({ Phase: 'Completed', ProductionAsgName: cloned.detail.AsgName, DeployAsgName: '', UndeployState: 'allow' });
    const history = await ledger.getDeployment({ AccountCanonicalSlug: slug, ServiceName: service }, 'shop-2');
    expect(history).toMatchObject({ Result: 'Completed', ResolvedAmiId: svc.amis['shop-v2'] });
  });

  it('resolves $name-prefix: to the newest matching AMI', async () => {
    const outcome = await deploy('shop-3', '$name-prefix:shop-app-');

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(outcome.detail.AmiId).toBe(svc.amis['shop-app-2026.02']);
    expect((await snapshot()).launchTemplate).toMatchObject({ latest: 4, default: 4 });
  });

  it('reuses an existing launch template version for $launchtemplate: without creating one', async () => {
    const outcome = await deploy('shop-4', '$launchtemplate:2');

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(outcome.detail.AmiId).toBe(svc.amis['shop-v1']);
    const s = await snapshot();
    expect(s.launchTemplate).toMatchObject({ latest: 4, default: 2, versions: 4 });
    expect(s.asgs[0]!.LaunchTemplate?.Version).toBe('2');
  });

  it('resolves $launchtemplate:$LatestMinus:k relative to the latest version', async () => {
    const outcome = await deploy('shop-5', '$launchtemplate:$LatestMinus:1');

    expect(outcome.detailType).toBe('DeployCompleted');
    expect(outcome.detail.AmiId).toBe(svc.amis['shop-v2']); // version 3
    expect((await snapshot()).asgs[0]!.LaunchTemplate?.Version).toBe('3');
  });
});
