import { DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { SetAlarmStateCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { DeregisterTargetsCommand, DescribeTargetHealthCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedAlarm, seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';

/**
 * The rollout's gates: RollbackAlarms (before every traffic step and through the bake) and
 * capacity (a step waits until the new group has the healthy targets its share of traffic needs).
 */
describe('Alarm gates and capacity-safe shifting (emulator)', () => {
  let t: TestDeployomat;
  let shop: SeededService;
  const slug = 'acme-gates';
  const service = 'shop';
  const key = { AccountCanonicalSlug: slug, ServiceName: service };
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
  const snapshot = async () => shape(await snapshotService(service, t.account.listenerArn, shop.launchTemplateId));
  const setAlarm = async (name: string, state: StateValue) =>
    (await workloadClients()).cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `test sets ${state}` }));

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    shop = await seedService(t.account, { service, web: true, amis: ['v01', 'v02', 'v03', 'v04', 'v05', 'v06', 'v07'] });
    await seedAlarm('shop-5xx');
    await seedAlarm('shop-latency');
    await setAlarm('shop-5xx', 'OK');
    await setAlarm('shop-latency', 'OK');
    await deploy('prod', 'v01', FAST);
  });
  afterAll(async () => t?.stop());

  async function deploy(deployId: string, ami: string, config: Record<string, unknown>, expected = 'DeployCompleted') {
    await t.send('DeployRequested', { ...key, AmiId: shop.amis[ami], DeployId: deployId, DeployConfig: config });
    const outcome = await t.observer.outcome(deployId, 60_000);
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe(expected);
    return outcome;
  }

  it('rolls back when an alarm trips mid-shift, naming the alarm; production stays at 100 %', async () => {
    const before = await snapshot();
    const config = { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 2, RollbackAlarms: ['shop-5xx', 'shop-latency'] };
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v02, DeployId: 'alarm-mid', DeployConfig: config });
    await t.observer.waitFor((e) => e.detail.DeployId === 'alarm-mid' && e.detailType === 'TrafficShifted' && e.detail.Percent === 25, 30_000);
    await setAlarm('shop-5xx', 'ALARM');

    const outcome = await t.observer.outcome('alarm-mid', 60_000);
    await setAlarm('shop-5xx', 'OK');

    expect(outcome.detailType).toBe('DeployFailed');
    expect(outcome.detail.Phase).toBe('Shifting');
    expect(String((outcome.detail.Errors as string[])[0])).toMatch(/Before traffic step 2 \(50 %\): alarm "shop-5xx" is in ALARM/);
    // No step went past the one before the alarm.
    const shifted = t.observer.of('alarm-mid').filter((e) => e.detailType === 'TrafficShifted').map((e) => e.detail.Percent);
    expect(shifted).toEqual([25]);
    const after = await snapshot();
    expect({ asgs: after.asgs, targetGroups: after.targetGroups, rules: after.rules }).toEqual({ asgs: before.asgs, targetGroups: before.targetGroups, rules: before.rules });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('rolls back when an alarm trips during the bake, before the previous version is deleted', async () => {
    const before = await snapshot();
    const config = { ...FAST, BakeTime: 30, RollbackAlarms: ['shop-latency'] };
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v03, DeployId: 'alarm-bake', DeployConfig: config });
    await t.observer.waitFor((e) => e.detail.DeployId === 'alarm-bake' && e.detailType === 'TrafficShifted' && e.detail.Percent === 100, 30_000);
    await setAlarm('shop-latency', 'ALARM');

    const outcome = await t.observer.outcome('alarm-bake', 60_000);
    await setAlarm('shop-latency', 'OK');

    expect(outcome.detailType).toBe('DeployFailed');
    expect(outcome.detail.Phase).toBe('Baking');
    expect(String((outcome.detail.Errors as string[])[0])).toMatch(/During the bake: alarm "shop-latency" is in ALARM/);
    // It rolled back within a few alarm checks, not at the end of the 30 s bake.
    const shiftedAt = t.observer.of('alarm-bake').find((e) => e.detailType === 'TrafficShifted' && e.detail.Percent === 100)!.receivedAt;
    const rollbackAt = t.observer.of('alarm-bake').find((e) => e.detailType === 'RollbackStarted')!.receivedAt;
    expect(rollbackAt - shiftedAt).toBeLessThan(15_000);
    const after = await snapshot();
    expect({ asgs: after.asgs, targetGroups: after.targetGroups, rules: after.rules }).toEqual({ asgs: before.asgs, targetGroups: before.targetGroups, rules: before.rules });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('lets a deploy through an alarm that has not been in ALARM for AlarmGracePeriod', async () => {
    await setAlarm('shop-latency', 'ALARM');
    try {
      await deploy('alarm-grace', 'v03', { ...FAST, RollbackAlarms: ['shop-latency'], AlarmGracePeriod: 3600 });
    } finally {
      await setAlarm('shop-latency', 'OK');
    }
  });

  it('rejects a deploy naming an alarm that does not exist, before changing anything', async () => {
    const before = await snapshot();
    const outcome = await deploy('alarm-missing', 'v04', { ...FAST, RollbackAlarms: ['shop-5xx', 'no-such-alarm'] }, 'DeployRejected');
    expect(outcome.detail.Reasons).toEqual([`DeployConfig.RollbackAlarms: there is no CloudWatch alarm "no-such-alarm" in ${slug}`]);
    expect(await snapshot()).toEqual(before);
  });

  it("starts the new group at production's desired capacity, reports read-back weights, and holds a step the new group cannot carry", async () => {
    const { autoscaling, elb } = await workloadClients();
    const production = (await ledger().getService(key))!.ProductionAsgName;
    // Scaling raised production to 3 instances: the new group must start with 3, not min_size 2.
    await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: production, DesiredCapacity: 3 }));

    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v05, DeployId: 'capacity', DeployConfig: { ...FAST, WaitPerStep: 1 } });
    const cloned = await t.observer.waitFor((e) => e.detail.DeployId === 'capacity' && e.detailType === 'AsgCloned', 30_000);
    expect(cloned.detail.MinSize).toBe(3);
    const half = await t.observer.waitFor((e) => e.detail.DeployId === 'capacity' && e.detailType === 'TrafficShifted', 30_000);
    expect(half.detail).toMatchObject({ Percent: 50, ActualPercent: 50, Healthy: 3, Needed: 2 });

    // Two of the new group's three targets drop out: 100 % needs 3 healthy targets, so the step waits.
    const tgArn = (cloned.detail.TargetGroupArns as string[])[0]!;
    const targets = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions!.map((d) => ({ Id: d.Target!.Id!, Port: d.Target!.Port }));
    await t.emulator.configure({ initialHealthSeconds: 3 });
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tgArn, Targets: targets.slice(0, 2) }));
    const held = await t.observer.waitFor((e) => e.detail.DeployId === 'capacity' && e.detailType === 'TrafficShiftHeld', 30_000);
    expect(held.detail).toMatchObject({ Step: 2, Percent: 100, Needed: 3 });
    expect(held.detail.Healthy).toBeLessThan(3);
    expect((await ledger().getService(key))!.Progress?.Percent).toBe(50);
    // Back in the group (initial for 3 s, then healthy): the step goes on and the deploy completes.
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: targets.slice(0, 2) }));
    const outcome = await t.observer.outcome('capacity', 60_000);
    await t.emulator.configure({ initialHealthSeconds: 0 });

    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    const full = t.observer.of('capacity').find((e) => e.detailType === 'TrafficShifted' && e.detail.Percent === 100)!;
    expect(full.detail).toMatchObject({ ActualPercent: 100, Healthy: 3, Needed: 3 });
    expect(full.receivedAt).toBeGreaterThan(held.receivedAt);
    const asg = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [String(cloned.detail.AsgName)] }))).AutoScalingGroups![0]!;
    expect(asg.MinSize).toBe(2); // back to min_size once production
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('rolls back a step held for longer than HealthTimeout', async () => {
    const { elb } = await workloadClients();
    await t.send('DeployRequested', { ...key, AmiId: shop.amis.v06, DeployId: 'starved', DeployConfig: { ...FAST, HealthTimeout: 4 } });
    const cloned = await t.observer.waitFor((e) => e.detail.DeployId === 'starved' && e.detailType === 'AsgCloned', 30_000);
    await t.observer.waitFor((e) => e.detail.DeployId === 'starved' && e.detailType === 'TrafficShifted', 30_000);
    const tgArn = (cloned.detail.TargetGroupArns as string[])[0]!;
    const targets = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions!.map((d) => ({ Id: d.Target!.Id!, Port: d.Target!.Port }));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tgArn, Targets: targets }));

    const outcome = await t.observer.outcome('starved', 60_000);

    expect(outcome.detailType).toBe('DeployFailed');
    expect(String((outcome.detail.Errors as string[])[0])).toMatch(/Traffic step 2 \(100 %\) needs \d+ healthy targets in shop-\S+; only 0 were healthy for 4 s \(HealthTimeout\)/);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });
});
