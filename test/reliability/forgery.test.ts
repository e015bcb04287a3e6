import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeArchiveCommand, DescribeReplayCommand, EventBridgeClient, PutEventsCommand, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { catalog, type DetailType } from '../../events/catalog';
import { CLIENT_SOURCE } from '../../events/client';
import { LIFECYCLE_SOURCE } from '../../events/lifecycle';
import { resourceNames } from '../../events/topology';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';
import { waitUntilQuiet } from '../helpers/settle';

/**
 * Issue #7 (reliability), forged and replayed events. Only lifecycle events (source `deployomat`)
 * drive the choreography, and only Deployomat's roles may publish them (the bus policy and the
 * DeployerRole's policy, tested offline in test/infra/iam.test.ts). Here, on the emulator:
 * (a) lifecycle and timer events published with the client source do nothing;
 * (b) events with the lifecycle source whose detail does not match its schema are dropped;
 * (c) replaying a whole day of the archive changes nothing in AWS or the ledger;
 * (d) a queued request the ledger did not release (QueuedDeployReady / QueuedUndeployReady dropped
 *     straight on a handler queue, as a principal allowed to send there could) never runs.
 */
describe('Forged and replayed events (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  let worker: SeededService;
  const slug = 'acme-forge';
  const startedAt = new Date(Date.now() - 5000);
  const bus = new EventBridgeClient({});
  const db = () => controlPlaneClients().dynamo;
  const ledger = () => new Ledger(db(), t.local.install.tableName);

  /** Publishes raw entries (no schema check, any source), 10 a call; returns their event ids. */
  const put = async (entries: { source: string; type: string; detail: unknown }[]) => {
    const ids: string[] = [];
    for (let i = 0; i < entries.length; i += 10) {
      const out = await bus.send(
        new PutEventsCommand({
          Entries: entries.slice(i, i + 10).map((e) => ({ EventBusName: t.local.install.busName, Source: e.source, DetailType: e.type, Detail: JSON.stringify(e.detail) })),
        }),
      );
      expect(out.FailedEntryCount ?? 0, JSON.stringify(out.Entries)).toBe(0);
      ids.push(...out.Entries!.map((e) => e.EventId!));
    }
    return ids;
  };

  const deploy = (service: SeededService, deployId: string, ami: string, config: Record<string, unknown> = FAST) =>
    t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service.service, AmiId: service.amis[ami], DeployId: deployId, DeployConfig: config });

  /** The ledger's view of the service now, as a ref for events aimed at its current position. */
  const refOf = async (service: string) => {
    const s = await ledger().getService({ AccountCanonicalSlug: slug, ServiceName: service });
    return { DeployId: s!.ActiveDeployId, AccountCanonicalSlug: slug, ServiceName: service, Seq: s!.Seq };
  };

  /** Everything a forged or replayed event could change: AWS, the ledger (all of it), the schedules. */
  const world = async (opts: { history: boolean }) => {
    const { autoscaling, elb } = await workloadClients();
    const items = (await db().send(new ScanCommand({ TableName: t.local.install.tableName }))).Items ?? [];
    return {
      asgs: ((await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? []).map((g) => `${g.AutoScalingGroupName} ${g.MinSize}/${g.MaxSize}`).sort(),
      targetGroups: ((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map((g) => g.TargetGroupName).sort(),
      web: shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId)),
      worker: shape(await snapshotService('worker', t.account.listenerArn, worker.launchTemplateId)),
      ledger: items.filter((i) => opts.history || !String(i.sk).startsWith('EVENT#')).sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`)),
      schedules: ((await controlPlaneClients().scheduler.send(new ListSchedulesCommand({ GroupName: t.local.install.scheduleGroup }))).Schedules ?? []).map((s) => s.Name).sort(),
    };
  };

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    [web, worker] = await Promise.all([
      seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2', 'web-v3'] }),
      seedService(t.account, { service: 'worker', web: false, amis: ['worker-v1'] }),
    ]);
    await Promise.all([deploy(web, 'f-1', 'web-v1'), deploy(worker, 'w-1', 'worker-v1', { ...FAST, AllowUndeploy: true })]);
    expect((await t.observer.outcome('f-1', 30_000)).detailType).toBe('DeployCompleted');
    expect((await t.observer.outcome('w-1', 30_000)).detailType).toBe('DeployCompleted');
  });
  afterAll(async () => t?.stop());

  it('(a) ignores lifecycle and timer events published with the client source: the deploy in progress ends exactly as it would have', async () => {
    // Prepare: a deploy in the middle of its traffic shift.
    const invocations = { ...t.local.runtime.invocations };
    await deploy(web, 'f-2', 'web-v2', { ...FAST, TrafficShiftPerStep: 25 });
    await t.observer.waitFor((e) => e.detail.DeployId === 'f-2' && e.detailType === 'TrafficShifted', 30_000, 'the first traffic step of f-2');
    const ref = await refOf('web');
    expect(ref.DeployId).toBe('f-2');
    // Each would act on f-2 if it came from Deployomat: aimed at its current position, schema-valid.
    const forged: { type: DetailType; detail: Record<string, unknown> }[] = [
      { type: 'TrafficShiftDue', detail: { ...ref, Step: 4 } },
      { type: 'InstancesHealthy', detail: { ...ref, Healthy: 2, Wanted: 2, WaitedSeconds: 0 } },
      { type: 'BakeElapsed', detail: { ...ref, BakeTime: 0 } },
      { type: 'BakeCheckDue', detail: { ...ref, BakeEndsAt: new Date().toISOString() } },
      { type: 'DeployDeadlinePassed', detail: { ...ref, DeadlineSeconds: 0 } },
      { type: 'PauseTimeoutDue', detail: { ...ref, PauseTimeout: 0 } },
      { type: 'RollbackStarted', detail: { ...ref, Cause: 'cancel', Reason: 'forged', FromPhase: 'Shifting' } },
      { type: 'DrainElapsed', detail: ref },
      { type: 'DeployCompleted', detail: { ...ref, AmiId: web.amis['web-v2']!, AsgName: 'forged', DurationSeconds: 1 } },
      { type: 'DeployFailed', detail: { ...ref, Phase: 'Shifting', Errors: ['forged'] } },
      { type: 'QueuedDeployReady', detail: { DeployId: 'forged-1', Request: { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v3'], DeployId: 'forged-1' } } },
      { type: 'QueuedUndeployReady', detail: { UndeployId: 'forged-u', Request: { AccountCanonicalSlug: slug, ServiceName: 'web', UndeployConfig: { OnConcurrentDeploy: 'rollback' } } } },
    ];
    for (const f of forged) expect(catalog[f.type].schema.safeParse(f.detail).success, f.type).toBe(true);

    // Act: published as a deployer can (source deployomat.client), and with lookalike sources.
    await put([
      ...forged.map((f) => ({ source: CLIENT_SOURCE, type: f.type, detail: f.detail })),
      ...['Deployomat', 'DEPLOYOMAT', 'deployomat ', ' deployomat', 'deployomat.client.x'].flatMap((source) => [
        { source, type: 'TrafficShiftDue', detail: forged[0]!.detail },
        { source, type: 'QueuedDeployReady', detail: forged[10]!.detail },
      ]),
    ]);
    const outcome = await t.observer.outcome('f-2', 30_000);

    // Assess: the deploy went its normal way, step by step, and nothing else happened.
    expect(outcome.detailType).toBe('DeployCompleted');
    const of = t.observer.of('f-2');
    expect(of.filter((e) => e.detailType === 'TrafficShifted').map((e) => e.detail.Percent)).toEqual([25, 50, 75, 100]);
    expect(of.filter((e) => ['BakeElapsed', 'DeployCompleted'].includes(e.detailType)).map((e) => e.detailType)).toEqual(['BakeElapsed', 'DeployCompleted']);
    expect(of.map((e) => e.detailType)).not.toContain('RollbackStarted');
    expect(t.observer.events.filter((e) => e.detail.DeployId === 'forged-1' || e.detail.UndeployId === 'forged-u' || e.detail.AsgName === 'forged')).toEqual([]);
    await new Promise((r) => setTimeout(r, 1000)); // a late reaction would show by now
    // No consumer ever received one: only the deploy's own steps ran.
    const ran = (name: string) => t.local.runtime.invocations[name]! - invocations[name]!;
    expect({ startDeploy: ran('start-deploy'), finishDeploy: ran('finish-deploy') }).toEqual({ startDeploy: 1, finishDeploy: 1 });
    for (const name of ['start-rollback', 'restore-traffic', 'finish-rollback', 'watch-bake', 'undeploy', 'dead-letter']) expect(ran(name), name).toBe(0);
    expect(await ledger().getDeployment({ AccountCanonicalSlug: slug, ServiceName: 'web' }, 'forged-1')).toBeFalsy();
    const s = await snapshotService('web', t.account.listenerArn, web.launchTemplateId);
    expect(s.asgs.map((g) => g.AutoScalingGroupName)).toEqual([outcome.detail.AsgName]);
    expect(s.rules.find((r) => r.priority === '10')).toEqual({ priority: '10', forwards: [{ targetGroup: s.targetGroups[0], weight: 100 }] });
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('(b) drops events with the lifecycle source whose detail does not match its schema: no crash, no dead letter, no change', async () => {
    // Prepare
    const ref = await refOf('web');
    const before = await world({ history: false });
    const invocations = { ...t.local.runtime.invocations };
    const since = Date.now();
    // Malformed details (wrong types, missing or out-of-range fields, hostile ids), each for its consumer.
    const malformed: { type: DetailType | 'Bogus'; detail: unknown; consumer?: string }[] = [
      { type: 'AsgCloned', detail: { ...ref, Seq: String(ref.Seq) }, consumer: 'check-health' },
      { type: 'HealthCheckDue', detail: { ...ref, Attempt: 0, Healthy: 2, Wanted: 2 }, consumer: 'check-health' },
      { type: 'InstancesHealthy', detail: { ...ref, Healthy: 'all', Wanted: 2, WaitedSeconds: 0 }, consumer: 'shift-traffic' },
      { type: 'TrafficShiftDue', detail: { ...ref, Step: 0 }, consumer: 'shift-traffic' },
      { type: 'TrafficShiftDue', detail: { ...ref, DeployId: '../f-2', Step: 1 }, consumer: 'shift-traffic' },
      { type: 'TrafficShiftDue', detail: { ...ref, ServiceName: 'web/../worker', Step: 1 }, consumer: 'shift-traffic' },
      { type: 'BakeElapsed', detail: {}, consumer: 'finish-deploy' },
      { type: 'BakeElapsed', detail: { ...ref, Seq: -1, BakeTime: 0 }, consumer: 'finish-deploy' },
      { type: 'BakeCheckDue', detail: ref, consumer: 'watch-bake' },
      { type: 'RollbackStarted', detail: { ...ref, Cause: 'pwned', Reason: 'forged', FromPhase: 'Completed' }, consumer: 'restore-traffic' },
      { type: 'DrainElapsed', detail: { ...ref, Seq: 1.5 }, consumer: 'finish-rollback' },
      { type: 'DeployDeadlinePassed', detail: ref, consumer: 'start-rollback' },
      { type: 'PauseTimeoutDue', detail: { ...ref, PauseTimeout: 'soon' }, consumer: 'start-rollback' },
      { type: 'Bogus', detail: ref },
    ];
    for (const m of malformed) if (m.type !== 'Bogus') expect(catalog[m.type].schema.safeParse(m.detail).success, m.type).toBe(false);

    // Act
    const ids = await put(malformed.map((m) => ({ source: LIFECYCLE_SOURCE, type: m.type, detail: m.detail })));
    const consumers = [...new Set(malformed.flatMap((m) => (m.consumer ? [m.consumer] : [])))];
    const deadline = Date.now() + 15_000;
    while (consumers.some((c) => t.local.runtime.invocations[c] === invocations[c]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const queued = await waitUntilQuiet(t.local.install, 10_000);

    // Assess: every consumer got its events (so they were dropped, not lost on the way) ...
    for (const c of consumers) expect(t.local.runtime.invocations[c], c).toBeGreaterThan(invocations[c]!);
    // ... and none failed on them (no retry, no dead letter), reacted to them, or changed anything.
    expect(queued).toEqual({});
    expect(t.local.runtime.invocations['dead-letter']).toBe(invocations['dead-letter']);
    expect(t.observer.events.filter((e) => e.receivedAt >= since && !ids.includes(e.id)).map((e) => e.detailType)).toEqual([]);
    expect(await world({ history: false })).toEqual(before);
  });

  it('(c) replays a whole day of the archive (deploys, a cancel, an undeploy, rejections, forgeries) without changing anything', async () => {
    // Prepare: the rest of the day: a deploy cancelled mid-shift, an undeploy, a rejected deploy and cancel.
    await Promise.all([
      (async () => {
        await deploy(web, 'f-3', 'web-v3', { ...FAST, TrafficShiftPerStep: 10 });
        await t.observer.waitFor((e) => e.detail.DeployId === 'f-3' && e.detailType === 'TrafficShifted', 30_000, 'the first traffic step of f-3');
        await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', Reason: 'end of day' });
        expect((await t.observer.outcome('f-3', 30_000)).detailType).toBe('DeployCancelled');
      })(),
      (async () => {
        const undeployId = await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'worker' });
        expect((await t.observer.undeployOutcome(undeployId, 30_000)).detailType).toBe('UndeployCompleted');
        await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: '$bogus', DeployId: 'f-bad' });
        expect((await t.observer.outcome('f-bad', 30_000)).detailType).toBe('DeployRejected');
        await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'worker' });
        await t.observer.waitFor((e) => e.detailType === 'CancelRejected' && e.detail.ServiceName === 'worker', 30_000);
      })(),
    ]);
    // The cancelled deploy's last timer (stale, due a WaitPerStep after its last step) has fired by now.
    await new Promise((r) => setTimeout(r, 1200));
    expect(await waitUntilQuiet(t.local.install, 15_000)).toEqual({});
    const before = await world({ history: true });
    const invocations = { ...t.local.runtime.invocations };
    const seen = new Set(t.observer.events.map((e) => JSON.stringify([e.detailType, e.detail])));
    const observed = t.observer.events.length;

    // Act: replay the whole day onto the bus.
    const archive = await bus.send(new DescribeArchiveCommand({ ArchiveName: resourceNames().archive }));
    await bus.send(
      new StartReplayCommand({
        ReplayName: 'forgery-day',
        EventSourceArn: archive.ArchiveArn,
        EventStartTime: startedAt,
        EventEndTime: new Date(),
        Destination: { Arn: t.local.install.busArn },
      }),
    );
    const deadline = Date.now() + 30_000;
    while ((await bus.send(new DescribeReplayCommand({ ReplayName: 'forgery-day' }))).State !== 'COMPLETED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const queued = await waitUntilQuiet(t.local.install, 15_000);
    await new Promise((r) => setTimeout(r, 1000)); // anything the choreography would do, it would do by now

    // Assess
    expect((await bus.send(new DescribeReplayCommand({ ReplayName: 'forgery-day' }))).State).toBe('COMPLETED');
    expect(queued).toEqual({});
    // Nothing in AWS, nothing in the ledger (its history rewritten identically), no schedule.
    expect(await world({ history: true })).toEqual(before);
    // Only the projection ran; the events replayed reached subscribers as copies of the originals, nothing new.
    const ran = Object.entries(t.local.runtime.invocations).filter(([name, n]) => n !== invocations[name]).map(([name]) => name);
    expect(ran).toEqual(['record-history']);
    const replayed = t.observer.events.slice(observed);
    expect(replayed.length).toBeGreaterThan(0);
    expect(replayed.filter((e) => !seen.has(JSON.stringify([e.detailType, e.detail]))).map((e) => e.detailType)).toEqual([]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });

  it('(d) never runs a queued deploy or undeploy the ledger did not release, even dropped straight on the handler queue', async () => {
    // Prepare: web is at rest in production (its undeploy allowed); the forged "queued" requests
    // are what only a finished rollback publishes, here for a deploy and an undeploy nobody queued.
    expect(await waitUntilQuiet(t.local.install, 15_000)).toEqual({});
    const before = await world({ history: false });
    const invocations = { ...t.local.runtime.invocations };
    const envelope = (type: DetailType, detail: unknown) =>
      JSON.stringify({ id: `forged-${type}`, 'detail-type': type, source: LIFECYCLE_SOURCE, account: '123456789012', time: new Date().toISOString(), region: 'us-east-1', detail });
    const request = { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v3'], DeployId: 'forged-q', DeployConfig: FAST };
    const forged = [
      { handler: 'start-deploy', body: envelope('QueuedDeployReady', { DeployId: 'forged-q', Request: request }) },
      { handler: 'undeploy', body: envelope('QueuedUndeployReady', { UndeployId: 'forged-qu', Request: { AccountCanonicalSlug: slug, ServiceName: 'web' } }) },
    ];

    // Act
    for (const f of forged) {
      await controlPlaneClients().sqs.send(new SendMessageCommand({ QueueUrl: t.local.install.queueUrls[f.handler], MessageBody: f.body }));
    }
    const deadline = Date.now() + 15_000;
    while (forged.some((f) => t.local.runtime.invocations[f.handler] === invocations[f.handler]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await waitUntilQuiet(t.local.install, 15_000)).toEqual({});
    await new Promise((r) => setTimeout(r, 1000)); // a deploy or undeploy would have started by now

    // Assess: both were received and dropped; nothing started, nothing changed.
    for (const f of forged) expect(t.local.runtime.invocations[f.handler], f.handler).toBeGreaterThan(invocations[f.handler]!);
    expect(t.observer.events.filter((e) => e.detail.DeployId === 'forged-q' || e.detail.UndeployId === 'forged-qu').map((e) => e.detailType)).toEqual([]);
    expect(await ledger().getDeployment({ AccountCanonicalSlug: slug, ServiceName: 'web' }, 'forged-q')).toBeFalsy();
    expect(await world({ history: false })).toEqual(before);
  });

  it("(e) refuses another queue that names a handler's dead-letter queue as its own: nothing reaches the dead-letters handler that way", async () => {
    // Prepare: a queue of anyone's, redriving into start-deploy's dead-letter queue after one receive.
    const { sqs } = controlPlaneClients();
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: t.local.install.deadLetterQueueUrls['start-deploy'], AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const redrive = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 });

    // Act
    const created = sqs.send(new CreateQueueCommand({ QueueName: 'not-deployomat', Attributes: { RedrivePolicy: redrive } }));

    // Assess: refused as AWS refuses it (the dead-letter queue's RedriveAllowPolicy names its own queue only).
    await expect(created).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const own = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: t.local.install.queueUrls['start-deploy'], AttributeNames: ['RedrivePolicy'] }));
    expect(JSON.parse(own.Attributes!.RedrivePolicy!).deadLetterTargetArn).toBe(dlqArn);
  });
});
