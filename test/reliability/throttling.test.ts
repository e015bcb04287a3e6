import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SOURCE } from '../../events/client';
import type { EmulatorFault } from '../../infra/local/emulator';
import { findLeftovers } from '../../infra/local/leftovers';
import type { ObservedEvent } from '../../infra/local/observer';
import { LOCAL_ACCOUNT } from '../../infra/local/local-env';
import { META_ACCOUNT, seedService, WORKLOAD_ACCOUNT, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService, type ServiceSnapshot } from '../helpers/workload';

/**
 * Issue #7 (reliability), throttling: AWS throttles a share of the calls, as it does under load
 * (each service with the error code it really sends). Deployomat's SDK clients retry with
 * backoff (maxAttempts 6), and a step that still fails is retried by SQS: every deploy must end
 * as it would without throttling, in bounded time, leaving nothing behind.
 *
 * Not throttled: the SQS calls of the Lambda event source mapping (ReceiveMessage,
 * DeleteMessageBatch), which the local runtime plays for AWS and which are not Deployomat's code.
 */
describe('Throttled AWS APIs (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  let shop: SeededService;
  let worker: SeededService;
  const slug = 'acme-throttle';
  /** Throttle this share of every listed call. */
  const PROBABILITY = 0.2;
  /** "Forever" in practice, but finite: the emulator counts it down, which tells how many faults fired. */
  const BUDGET = 1_000_000;
  /** A correctness bound (a deploy that retries forever must fail this), not a performance target. */
  const BOUND_MS = 60_000;

  const throttle = (account: string, code: string, status: number, actions: string[]): EmulatorFault[] =>
    actions.map((action) => ({ action, account, code, status, probability: PROBABILITY, count: BUDGET, message: 'Rate exceeded' }));

  /** Workload account: EC2, Auto Scaling, ELBv2, with the codes these services really use. */
  const workloadFaults = [
    ...throttle(WORKLOAD_ACCOUNT, 'RequestLimitExceeded', 503, [
      'DescribeImages',
      'DescribeLaunchTemplates',
      'DescribeLaunchTemplateVersions',
      'CreateLaunchTemplateVersion',
      'ModifyLaunchTemplate',
    ]),
    ...throttle(WORKLOAD_ACCOUNT, 'Throttling', 400, [
      'DescribeAutoScalingGroups',
      'CreateAutoScalingGroup',
      'UpdateAutoScalingGroup',
      'DeleteAutoScalingGroup',
      'DescribeLifecycleHooks',
      'DescribePolicies',
      'PutScalingPolicy',
      'DescribeWarmPool',
      'EnableMetricsCollection',
    ]),
    ...throttle(WORKLOAD_ACCOUNT, 'Throttling', 400, [
      'DescribeTargetGroups',
      'DescribeTargetGroupAttributes',
      'CreateTargetGroup',
      'ModifyTargetGroupAttributes',
      'DeleteTargetGroup',
      'DescribeTargetHealth',
      'DescribeRules',
      'CreateRule',
      'ModifyRule',
      'DeleteRule',
      'DescribeTags',
    ]),
  ];
  /** Deployomat's own account (ledger, bus, timer queue, STS, Scheduler) and the meta account's registry. */
  const controlPlaneFaults = [
    ...throttle(LOCAL_ACCOUNT, 'ThrottlingException', 400, ['GetItem', 'PutItem', 'UpdateItem', 'TransactWriteItems', 'Query']),
    ...throttle(LOCAL_ACCOUNT, 'ThrottlingException', 400, ['PutEvents']),
    ...throttle(LOCAL_ACCOUNT, 'ThrottlingException', 400, ['SendMessage', 'ChangeMessageVisibility', 'GetQueueUrl']),
    ...throttle(LOCAL_ACCOUNT, 'Throttling', 400, ['AssumeRole']),
    ...throttle(LOCAL_ACCOUNT, 'ThrottlingException', 429, ['CreateSchedule', 'DeleteSchedule']),
    ...throttle(META_ACCOUNT, 'ThrottlingException', 400, ['GetParameter']),
  ];
  const allFaults = [...workloadFaults, ...controlPlaneFaults];

  /** Switches throttling off; returns how many faults fired, per account. */
  const throttleOff = async () => {
    const { faults } = await t.emulator.readConfig();
    await t.emulator.configure({ faults: [] });
    const fired = { workload: 0, controlPlane: 0, actions: new Set<string>() };
    for (const f of faults) {
      const n = BUDGET - f.count;
      if (!n) continue;
      fired.actions.add(f.action);
      if (f.account === WORKLOAD_ACCOUNT) fired.workload += n;
      else fired.controlPlane += n;
    }
    return fired;
  };

  // The test's own publisher is throttled too (PutEvents): like any AWS client, it retries.
  const events = new EventBridgeClient({ maxAttempts: 10 });
  const send = async (detailType: string, detail: unknown) => {
    const out = await events.send(
      new PutEventsCommand({ Entries: [{ EventBusName: t.local.install.busName, Source: CLIENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }] }),
    );
    if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
  };

  const deploy = (service: SeededService, deployId: string, ami: string, config: Record<string, unknown> = FAST) =>
    send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service.service, AmiId: service.amis[ami], DeployId: deployId, DeployConfig: config });

  const eventsOf = (deployId: string) => t.observer.of(deployId).map((e) => e.detailType);
  const snapshot = (service: SeededService) => snapshotService(service.service, t.account.listenerArn, service.launchTemplateId);
  let shopBefore: ServiceSnapshot;
  const outcomes: Record<string, ObservedEvent> = {};

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    [web, shop, worker] = await Promise.all([
      seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2'] }),
      seedService(t.account, { service: 'shop', web: true, priority: 20, amis: ['shop-v1', 'shop-v2'] }),
      seedService(t.account, { service: 'worker', web: false, amis: ['worker-v1', 'worker-v2'] }),
    ]);
    // Production versions, unthrottled: the throttled deploys below are blue/green.
    await Promise.all([deploy(web, 'web-1', 'web-v1'), deploy(shop, 'shop-1', 'shop-v1'), deploy(worker, 'worker-1', 'worker-v1')]);
    for (const id of ['web-1', 'shop-1', 'worker-1']) expect((await t.observer.outcome(id, 30_000)).detailType).toBe('DeployCompleted');
    shopBefore = await snapshot(shop);
    // From here until the last test, a share of the calls is throttled.
    await t.emulator.configure({ faults: allFaults });
  });
  afterAll(async () => {
    await t?.emulator.configure({ faults: [] }).catch(() => {});
    await t?.stop();
  });

  // The three run at the same time, on three services, sharing the throttled APIs and the SDK
  // clients' retry quotas. Each is timed from its own request.
  it.concurrent('completes a blue/green deploy of a web service, every step once', async ({ expect }) => {
    const started = Date.now();
    await deploy(web, 'web-2', 'web-v2');
    const outcome = (outcomes['web-2'] = await t.observer.outcome('web-2', BOUND_MS));

    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    expect(eventsOf('web-2')).not.toContain('RollbackStarted');
    // Every step once, in order: a retried call never skipped or repeated a step.
    expect(t.observer.of('web-2').filter((e) => e.detailType === 'TrafficShifted').map((e) => e.detail.Percent)).toEqual([50, 100]);
  });

  it.concurrent('cancels a web deploy mid-shift', async ({ expect }) => {
    const started = Date.now();
    await deploy(shop, 'shop-2', 'shop-v2', { ...FAST, TrafficShiftPerStep: 20, WaitPerStep: 2 });
    await t.observer.waitFor((e) => e.detail.DeployId === 'shop-2' && e.detailType === 'TrafficShifted', BOUND_MS, 'the first traffic step of shop-2');
    await send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'shop', Reason: 'throttled cancel' });
    const outcome = (outcomes['shop-2'] = await t.observer.outcome('shop-2', BOUND_MS));

    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCancelled');
    expect(outcome.detail.Reason).toBe('throttled cancel');
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    expect(t.observer.events.filter((e) => ['CancelRejected', 'RollbackFailed'].includes(e.detailType))).toEqual([]);
  });

  it.concurrent('completes a non-web deploy', async ({ expect }) => {
    const started = Date.now();
    await deploy(worker, 'worker-2', 'worker-v2');
    const outcome = (outcomes['worker-2'] = await t.observer.outcome('worker-2', BOUND_MS));

    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    expect(eventsOf('worker-2')).not.toContain('RollbackStarted');
  });

  it('was throttled in both accounts, and left exactly production behind', async () => {
    // Throttling off first: the checks below use plain clients.
    const fired = await throttleOff();

    // The faults really fired (if injection silently stopped, this fails).
    const summary = JSON.stringify({ workload: fired.workload, controlPlane: fired.controlPlane, actions: [...fired.actions].sort() });
    expect(fired.workload, summary).toBeGreaterThan(0);
    expect(fired.controlPlane, summary).toBeGreaterThan(0);
    expect(Object.keys(outcomes).sort()).toEqual(['shop-2', 'web-2', 'worker-2']);
    const [w, s, k] = await Promise.all([snapshot(web), snapshot(shop), snapshot(worker)]);
    // web: the new version alone, 100 % on its one target group; one launch template version per deploy.
    expect(w.asgs.map((g) => g.AutoScalingGroupName)).toEqual([outcomes['web-2']!.detail.AsgName]);
    expect(w.targetGroups).toHaveLength(1);
    expect(w.rules.find((r) => r.priority === '10')).toEqual({ priority: '10', forwards: [{ targetGroup: w.targetGroups[0], weight: 100 }] });
    expect(w.launchTemplate).toMatchObject({ latest: 3, default: 3, versions: 3 });
    // shop: exactly as before the cancelled deploy (the listener's rules of shop only: web's share it).
    const shopRules = (x: ServiceSnapshot) => x.rules.filter((r) => ['20', '40020'].includes(r.priority));
    expect({ asgs: shape(s).asgs, targetGroups: s.targetGroups, rules: shopRules(s) }).toEqual({
      asgs: shape(shopBefore).asgs,
      targetGroups: shopBefore.targetGroups,
      rules: shopRules(shopBefore),
    });
    // worker: the new version alone.
    expect(k.asgs.map((g) => g.AutoScalingGroupName)).toEqual([outcomes['worker-2']!.detail.AsgName]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });
});
