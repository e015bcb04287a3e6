import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { AsgCloned, DeployPlanned } from '../../events/lifecycle';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';

/**
 * A service whose template ASG has two target groups (HTTP on 8080 and gRPC on 50051), each with
 * its exemplar rule: both are cloned and both live rules shift in lock-step. And the dry run.
 */
describe('Multiple target groups and dry run (emulator)', () => {
  let t: TestDeployomat;
  let api: SeededService;
  const slug = 'acme-multi';
  const service = 'api';
  const key = { AccountCanonicalSlug: slug, ServiceName: service };
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
  const snapshot = async () => shape(await snapshotService(service, t.account.listenerArn, api.launchTemplateId));
  const ledgerItems = async () =>
    (
      await controlPlaneClients().dynamo.send(
        new QueryCommand({ TableName: t.local.install.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${slug}#${service}` } }),
      )
    ).Items?.filter((i) => !String(i.sk).startsWith('EVENT#') && i.sk !== 'DRYRUN') ?? []; // history and the dry-run window are not deploy state
  /** Both live rules: priority → weights by target group name. */
  const liveRules = async () => (await snapshot()).rules.filter((r) => Number(r.priority) < 40000);

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    api = await seedService(t.account, { service, web: true, grpc: true, amis: ['v01', 'v02', 'v03', 'v04'] });
  });
  afterAll(async () => t?.stop());

  async function deploy(deployId: string, ami: string, config: Record<string, unknown> = FAST) {
    await t.send('DeployRequested', { ...key, AmiId: api.amis[ami], DeployId: deployId, DeployConfig: config });
    return t.observer.outcome(deployId, 60_000);
  }

  it('first deploy: clones both target groups and creates both live rules from their exemplars', async () => {
    expect((await deploy('first', 'v01')).detailType).toBe('DeployCompleted');

    const s = await snapshot();
    expect(s.targetGroups).toHaveLength(2);
    const [http, grpc] = [s.targetGroups.find((n) => !/-1-/.test(n))!, s.targetGroups.find((n) => /-1-/.test(n))!];
    expect(await liveRules()).toEqual([
      { priority: '10', forwards: [{ targetGroup: http, weight: 100 }] },
      { priority: '11', forwards: [{ targetGroup: grpc, weight: 100 }] },
    ]);
    expect(s.asgs.map((g) => g.tgs)).toEqual([2]);
  });

  it('dry run: reports the plan and changes nothing; the deploy that follows does what it said', async () => {
    const before = { service: await snapshot(), ledger: await ledgerItems() };

    const planned = await deploy('dry', 'v02', { ...FAST, TrafficShiftPerStep: 50, DryRun: true });

    expect(planned.detailType, JSON.stringify(planned.detail)).toBe('DeployPlanned');
    expect({ service: await snapshot(), ledger: await ledgerItems() }).toEqual(before);
    const plan = DeployPlanned.parse(planned.detail);
    expect(plan).toMatchObject({ Rollout: 'web', Steps: 2, LaunchTemplate: { Action: 'create' }, ResolvedAmiId: api.amis.v02, Warnings: [] });
    expect(plan.Rules.map((r) => [r.Priority, r.Action])).toEqual([[10, 'shift'], [11, 'shift']]);

    await deploy('real', 'v02');
    const cloned = AsgCloned.parse(t.observer.of('real').find((e) => e.detailType === 'AsgCloned')!.detail);
    const state = (await ledger().getService(key))!;
    const noTimestamp = (name: string) => name.replace(/\d{8}T\d{6}Z$/, '<ts>');
    expect({
      ami: plan.ResolvedAmiId,
      asg: noTimestamp(plan.AsgName),
      min: plan.MinSize,
      max: plan.MaxSize,
      production: plan.ProductionAsgName,
      productionTargetGroups: plan.ProductionTargetGroupArns,
      rules: plan.Rules.map((r) => ({ rule: r.LiveRuleArn, production: r.ProductionTargetGroupArn })),
      rollout: plan.Rollout,
    }).toEqual({
      ami: cloned.AmiId,
      asg: noTimestamp(cloned.AsgName),
      min: cloned.MinSize,
      max: cloned.MaxSize,
      production: cloned.ProductionAsgName,
      productionTargetGroups: state.Plan!.ProductionTargetGroupArns,
      rules: state.Plan!.Rules.map((r) => ({ rule: r.ruleArn, production: r.productionTargetGroupArn })),
      rollout: cloned.Rollout,
    });
    expect(plan.TargetGroups.map((g) => noTimestamp(g.Name)).sort()).toEqual((await snapshot()).targetGroups.map(noTimestamp).sort());
  });

  it('shifts both live rules in lock-step and removes both old target groups', async () => {
    const outcome = await deploy('lockstep', 'v03', { ...FAST, TrafficShiftPerStep: 25 });

    expect(outcome.detailType).toBe('DeployCompleted');
    for (const e of t.observer.of('lockstep').filter((x) => x.detailType === 'TrafficShifted')) {
      const weights = e.detail.RuleWeights as { NewPercent: number }[];
      expect(weights).toHaveLength(2);
      expect(weights.map((w) => w.NewPercent)).toEqual([e.detail.Percent, e.detail.Percent]);
    }
    const s = await snapshot();
    expect(s.targetGroups).toHaveLength(2);
    expect(s.targetGroups.every((n) => n.endsWith(String(t.observer.of('lockstep')[0]!.detail.AsgName).slice(-16)))).toBe(true);
    expect((await liveRules()).map((r) => r.forwards.length)).toEqual([1, 1]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('cancel mid-shift puts both rules back on production and deletes both new target groups', async () => {
    const before = await snapshot();
    await t.send('DeployRequested', { ...key, AmiId: api.amis.v04, DeployId: 'cancelled', DeployConfig: { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 3 } });
    await t.observer.waitFor((e) => e.detail.DeployId === 'cancelled' && e.detailType === 'TrafficShifted' && e.detail.Percent === 50, 30_000);
    const during = await liveRules();
    expect(during.map((r) => r.forwards.map((f) => f.weight).sort((a, b) => a - b))).toEqual([[50, 50], [50, 50]]);
    await t.send('CancelRequested', { ...key });

    const outcome = await t.observer.outcome('cancelled', 60_000);

    expect(outcome.detailType).toBe('DeployCancelled');
    const after = await snapshot();
    expect({ asgs: after.asgs, targetGroups: after.targetGroups, rules: after.rules }).toEqual({ asgs: before.asgs, targetGroups: before.targetGroups, rules: before.rules });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('undeploy deletes the production ASG, both target groups and both live rules', async () => {
    const id = await t.send('UndeployRequested', { ...key });
    const outcome = await t.observer.undeployOutcome(id, 60_000);

    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('UndeployCompleted');
    expect(outcome.detail.DeletedTargetGroupArns).toHaveLength(2);
    expect(outcome.detail.DeletedRuleArns).toHaveLength(2);
    const s = await snapshot();
    expect({ asgs: s.asgs, targetGroups: s.targetGroups, live: await liveRules() }).toEqual({ asgs: [], targetGroups: [], live: [] });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });
});
