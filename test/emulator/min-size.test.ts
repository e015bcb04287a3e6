import { DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { crashInjector } from '../../infra/local/crash';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * Issue #14, item 3a: a service whose template has no `<org>:min_size` tag keeps its min size
 * across deploys and cancels (it used to drop to 0). The template here has min size 2 and no tag:
 * the new production keeps min 2 (not the capacity the deploy raised it to, as the original
 * would), and a cancel gives production back the min size it had before the deploy held it (not
 * the held one, as the original would) — even when the step that held it crashed and ran again.
 */
const injector = crashInjector();
const slug = 'acme-min-size';
const key = { AccountCanonicalSlug: slug, ServiceName: 'plain' };

describe('Min size without the min_size tag (emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);

  beforeAll(async () => {
    injector.redeliverAfterSeconds = 2;
    t = await startTestDeployomat({ slug, runtime: { crashes: injector }, env: { DEPLOYOMAT_RETRY_BASE_SECONDS: '1' } });
    svc = await seedService(t.account, { service: 'plain', web: true, minSize: null, templateMinSize: 2, amis: ['plain-v1', 'plain-v2', 'plain-v3'] });
  });
  afterAll(async () => t?.stop());

  const deploy = async (deployId: string, ami: string, config: Record<string, unknown> = FAST) => {
    await t.send('DeployRequested', { ...key, AmiId: svc.amis[ami]!, DeployId: deployId, DeployConfig: config });
  };
  const group = async (name: string) => {
    const { autoscaling } = await workloadClients();
    return (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0]!;
  };
  const production = async () => (await ledger().getService(key))!.ProductionAsgName;

  it("keeps the template's min size for the new production, not the capacity the deploy raised it to", async () => {
    // Prepare: v1 in production (a first deploy starts at the service's min size), then scaled out to 3.
    await deploy('plain-1', 'plain-v1');
    expect((await t.observer.outcome('plain-1', 60_000)).detailType).toBe('DeployCompleted');
    const v1 = await production();
    expect((await group(v1)).MinSize).toBe(2);
    const { autoscaling } = await workloadClients();
    await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: v1, DesiredCapacity: 3 }));

    // Act
    await deploy('plain-2', 'plain-v2');
    const outcome = await t.observer.outcome('plain-2', 60_000);

    // Assess: the new group started at production's 3, and was let go to the service's 2.
    expect(outcome.detailType).toBe('DeployCompleted');
    expect(t.observer.of('plain-2').find((e) => e.detailType === 'AsgCloned')!.detail.MinSize).toBe(3);
    expect((await group(await production())).MinSize).toBe(2);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('gives production back the min size it had before the hold when a deploy is cancelled, though the holding step crashed and ran again', async () => {
    // Prepare: an operator raised production's min size to 3; it runs 4 instances.
    const v2 = await production();
    const { autoscaling } = await workloadClients();
    await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: v2, MinSize: 3, DesiredCapacity: 4 }));
    // start-deploy dies right after holding production: its redelivery finds production already held.
    const watch = injector.watch(`${slug}/plain`, { crashAt: { handler: 'start-deploy', operation: 'UpdateAutoScalingGroup', occurrence: 1 } });

    // Act
    await deploy('plain-3', 'plain-v3', { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 30 });
    await t.observer.waitFor((e) => e.detail.DeployId === 'plain-3' && e.detailType === 'TrafficShifted', 60_000);
    const heldMin = (await group(v2)).MinSize;
    await t.send('CancelRequested', { ...key, Reason: 'test' });
    const outcome = await t.observer.outcome('plain-3', 60_000);

    // Assess
    injector.unwatch(`${slug}/plain`);
    expect(watch.fired, 'start-deploy crashed after holding production').toBeDefined();
    expect(t.local.runtime.invocations['start-deploy']).toBeGreaterThanOrEqual(2);
    expect(heldMin).toBe(4); // held at what it served with
    expect(outcome.detailType).toBe('DeployCancelled');
    expect(await production()).toBe(v2);
    expect((await group(v2)).MinSize).toBe(3); // what it was, not the held 4 nor the template's 2
    expect((await ledger().getService(key))!.ProductionHold).toEqual({ AsgName: v2, MinSizeBefore: 3 });
    // The operator's min size is theirs to undo; with it undone, nothing is left over.
    await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: v2, MinSize: 2, DesiredCapacity: 2 }));
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('keeps the first record of the min size before the hold: a later one, or one of a deploy no longer there, changes nothing', async () => {
    // Prepare: the cancelled deploy still holds the service's item at rest, with its record.
    const state = (await ledger().getService(key))!;
    const ref = { ...key, DeployId: state.ActiveDeployId, Seq: state.Seq };

    // Act
    const again = await ledger().recordProductionHold(ref, { AsgName: state.ProductionAsgName, MinSizeBefore: 4 });
    const stale = await ledger().recordProductionHold({ ...ref, Seq: ref.Seq - 1 }, { AsgName: state.ProductionAsgName, MinSizeBefore: 4 });

    // Assess
    expect(again).toEqual({ AsgName: state.ProductionAsgName, MinSizeBefore: 3 });
    expect(stale).toBeUndefined();
    expect((await ledger().getService(key))!.ProductionHold).toEqual({ AsgName: state.ProductionAsgName, MinSizeBefore: 3 });
  });
});
