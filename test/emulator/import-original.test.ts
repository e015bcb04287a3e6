import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeRuleCommand, EventBridgeClient, ResourceNotFoundException } from '@aws-sdk/client-eventbridge';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { IMPORT_FENCE, importCommand, originalUndeployRuleName } from '../../domain/original';
import { automaticUndeployName } from '../../domain/undeploy-schedule';
import { findLeftovers } from '../../infra/local/leftovers';
import { DEPLOY_ROLE_ARN, META_ROLE_ARN, seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { cli, globals } from '../cli/run-cli';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { originalItem, seedOriginalService, type OriginalService } from '../helpers/original';
import { shape, snapshotService } from '../helpers/workload';

/**
 * Issue #14, item 1: services the original Deployomat deployed are adopted, never deployed
 * beside. Each is left exactly as the original leaves it (test/helpers/original.ts).
 */
describe('Switching from the original Deployomat: import (emulator)', () => {
  const slug = 'acme-orig';
  let t: TestDeployomat;
  let web: SeededService;
  let original: OriginalService;
  const undeployAt = new Date(Date.now() + 3 * 86400_000);
  undeployAt.setUTCSeconds(0, 0);
  const key = (service: string) => ({ AccountCanonicalSlug: slug, ServiceName: service });
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
  const importArgs = () => [
    ...globals(t),
    'import',
    '--meta-role-arn',
    META_ROLE_ARN,
    '--workload-role-arn',
    DEPLOY_ROLE_ARN,
    '--scheduler-role-arn',
    t.local.install.schedulerRoleArn,
  ];

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v01', 'web-v02'] });
    original = await seedOriginalService(t.account, web, { timestamp: '20260101T100000Z', capacity: 3, automaticUndeployAt: undeployAt });
  });
  afterAll(async () => t?.stop());

  it('rejects a deploy of a service the original still runs, with the import command, and changes nothing', async () => {
    // Prepare
    const before = shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId));

    // Act
    await t.send('DeployRequested', { ...key('web'), AmiId: web.amis['web-v02'], DeployId: 'beside', DeployConfig: FAST });
    const outcome = await t.observer.outcome('beside', 60_000);

    // Assess
    expect(outcome.detailType).toBe('DeployRejected');
    const reasons = outcome.detail.Reasons as string[];
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain(`still deployed by the original Deployomat: Auto Scaling group ${original.asgName}; live rule ${original.ruleArn}`);
    expect(reasons[0]).toContain(`\`${importCommand(key('web'))}\``);
    expect(shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId))).toEqual(before);
    expect(await ledger().getService(key('web'))).toBeUndefined();
  });

  it('prints what it would import with --dry-run and changes nothing', async () => {
    // Act
    const out = await cli([...importArgs(), '--dry-run', '--account', slug, '--service', 'web']);

    // Assess
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`would import ${slug}.web: production ${original.asgName}; target group(s) ${original.targetGroupArn}; live rule(s) ${original.ruleArn}; undeploy allowed; automatic undeploy at ${undeployAt.toISOString()}`);
    expect(await originalItem(`${slug}.web`)).toEqual(original.item);
    expect(await ledger().getService(key('web'))).toBeUndefined();
  });

  it('refuses a deploy in progress, an undeploy in progress, a group that is gone and a rule split between two groups, each with its reason', async () => {
    // Prepare
    const api = await seedService(t.account, { service: 'api', web: true, priority: 20, amis: ['api-v01'] });
    await seedOriginalService(t.account, api, { timestamp: '20260101T110000Z', capacity: 2, item: { deploy_asg_name: 'api-20260102T090000Z' } });
    const job = await seedService(t.account, { service: 'job', web: false, amis: ['job-v01'] });
    await seedOriginalService(t.account, job, { timestamp: '20260101T120000Z', capacity: 1, item: { undeploy_state: 'undeploying' } });
    const gone = await seedService(t.account, { service: 'gone', web: false, amis: ['gone-v01'] });
    await seedOriginalService(t.account, gone, { timestamp: '20260101T130000Z', capacity: 1, item: { production_asg_name: 'gone-20251201T000000Z' } });
    const split = await seedService(t.account, { service: 'split', web: true, priority: 30, amis: ['split-v01'] });
    await seedOriginalService(t.account, split, { timestamp: '20260101T140000Z', capacity: 1, splitWith: split.templateTargetGroupArn });

    // Act: every item of the table, as an operator would run it first
    const out = await cli([...importArgs(), '--dry-run']);

    // Assess
    expect(out.code).toBe(1);
    const line = (id: string) => out.stdout.split('\n').find((l) => l.includes(` ${slug}.${id}:`));
    expect(line('api')).toMatch(/^refused .*a deploy is in progress in the original Deployomat \(api-20260102T090000Z\)/);
    expect(line('job')).toMatch(/^refused .*an undeploy is in progress in the original Deployomat/);
    expect(line('gone')).toMatch(/^refused .*its production ASG gone-20251201T000000Z is gone/);
    expect(line('split')).toMatch(/^refused .*is split between .* \(a deploy left half way\)/);
    expect(line('web')).toMatch(/^would import /);
    expect(out.stderr).toContain('4 service(s) refused');
  });

  it('adopts the service: fences the original, tags production, writes the ledger, moves the automatic undeploy', async () => {
    // Act
    const out = await cli([...importArgs(), '--account', slug, '--service', 'web']);

    // Assess
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain(`imported ${slug}.web: production ${original.asgName}`);
    expect(await originalItem(`${slug}.web`)).toMatchObject({ deploy_asg_name: IMPORT_FENCE, production_asg_name: '', imported_production_asg_name: original.asgName });
    expect(await ledger().getService(key('web'))).toMatchObject({
      Phase: 'Completed',
      ProductionAsgName: original.asgName,
      UndeployState: 'allow',
      Request: { Production: { AsgName: original.asgName, TargetGroupArns: [original.targetGroupArn], RuleArns: [original.ruleArn] } },
    });
    const schedule = await new SchedulerClient({}).send(new GetScheduleCommand({ Name: automaticUndeployName(key('web')), GroupName: t.local.install.busName }));
    expect(schedule.ScheduleExpression).toBe(`at(${undeployAt.toISOString().slice(0, 19)})`);
    await expect(new EventBridgeClient({}).send(new DescribeRuleCommand({ Name: originalUndeployRuleName(key('web')) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    // Run again: nothing left to do, nothing changed.
    const again = await cli([...importArgs(), '--account', slug, '--service', 'web']);
    expect(again.stdout).toContain('carried on from an earlier import');
  });

  it('then deploys blue/green from that production: its capacity honoured, the old group and target group deleted after the bake', async () => {
    // Act
    await t.send('DeployRequested', { ...key('web'), AmiId: web.amis['web-v02'], DeployId: 'after-import', DeployConfig: FAST });
    const started = await t.observer.waitFor((e) => e.detail.DeployId === 'after-import' && e.detailType === 'AsgCloned', 60_000);
    const outcome = await t.observer.outcome('after-import', 90_000);

    // Assess
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    expect(started.detail).toMatchObject({ MinSize: 3 });
    const { autoscaling, elb } = await workloadClients();
    const groups = ((await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName).filter((n) => n?.startsWith('web-') && n !== 'web-template');
    expect(groups).toHaveLength(1);
    expect(groups[0]).not.toBe(original.asgName);
    const tgs = ((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map((g) => g.TargetGroupArn);
    expect(tgs).not.toContain(original.targetGroupArn);
    // Nothing left but the services the import refused, which the original still runs (priorities 20, 30).
    const stillTheOriginals = /^(ASG|target group) (api|job|gone|split)-20260101T|^live rule (20|30) /;
    expect((await findLeftovers(t.local.install, [t.account.listenerArn])).filter((l) => !stillTheOriginals.test(l))).toEqual([]);
  });

  it('undeploys a service imported with the undeploy allowed: its ASG, target group and live rule deleted', async () => {
    // Prepare
    const legacy = await seedService(t.account, { service: 'legacy', web: true, priority: 40, amis: ['legacy-v01'] });
    const left = await seedOriginalService(t.account, legacy, { timestamp: '20260101T160000Z', capacity: 1 });
    expect((await cli([...importArgs(), '--account', slug, '--service', 'legacy'])).code).toBe(0);

    // Act
    const id = await t.send('UndeployRequested', key('legacy'));
    const outcome = await t.observer.undeployOutcome(id, 60_000);

    // Assess
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('UndeployCompleted');
    const after = await snapshotService('legacy', t.account.listenerArn, legacy.launchTemplateId);
    expect(after.asgs.map((g) => g.AutoScalingGroupName)).not.toContain(left.asgName);
    expect(after.targetGroups).toEqual([]);
    expect(after.rules.map((r) => r.priority)).not.toContain('40');
  });

  it("respects the original's undeploy safety: a service imported without it is not undeployed", async () => {
    // Prepare: a non-web service the original deployed to production without AllowUndeploy.
    const worker = await seedService(t.account, { service: 'worker', web: false, amis: ['worker-v01'] });
    const left = await seedOriginalService(t.account, worker, { timestamp: '20260101T150000Z', capacity: 1, item: { undeploy_state: '' } });
    expect((await cli([...importArgs(), '--account', slug, '--service', 'worker'])).code).toBe(0);

    // Act
    const id = await t.send('UndeployRequested', key('worker'));
    const outcome = await t.observer.undeployOutcome(id, 60_000);

    // Assess
    expect(outcome.detailType).toBe('UndeployRejected');
    const { autoscaling } = await workloadClients();
    expect((await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [left.asgName] }))).AutoScalingGroups).toHaveLength(1);
  });
});
