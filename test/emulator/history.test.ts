import { DescribeArchiveCommand, DescribeReplayCommand, EventBridgeClient, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import { BatchWriteCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { resourceNames } from '../../events/topology';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';

/**
 * The audit history is a projection of every event. Replaying the archive over an emptied
 * history rebuilds it identically, while the choreography does not run again.
 */
describe('Audit history and archive replay (emulator)', () => {
  let t: TestDeployomat;
  let web: SeededService;
  const slug = 'acme-history';
  const startedAt = new Date(Date.now() - 5000);
  const db = () => controlPlaneClients().dynamo;

  const historyItems = async () => {
    const out = await db().send(new ScanCommand({ TableName: t.local.install.tableName }));
    return (out.Items ?? []).filter((i) => String(i.sk).startsWith('EVENT#')).sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`));
  };
  const serviceItems = async () => {
    const out = await db().send(new ScanCommand({ TableName: t.local.install.tableName }));
    return (out.Items ?? []).filter((i) => !String(i.sk).startsWith('EVENT#'));
  };

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2'] });
    for (const [id, ami] of [['h-1', 'web-v1'], ['h-2', 'web-v2']] as const) {
      await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis[ami], DeployId: id, DeployConfig: FAST });
      expect((await t.observer.outcome(id, 60_000)).detailType).toBe('DeployCompleted');
    }
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: '$bogus', DeployId: 'h-3' });
    await t.observer.outcome('h-3', 30_000);
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web' });
    await t.observer.waitFor((e) => e.detailType === 'CancelRejected', 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // let the projection catch up
  });
  afterAll(async () => t?.stop());

  it('records every event of a deploy, client commands included, in order under its service', async () => {
    const out = await db().send(
      new QueryCommand({
        TableName: t.local.install.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :event)',
        ExpressionAttributeValues: { ':pk': `${slug}#web`, ':event': 'EVENT#' },
      }),
    );
    const ofH2 = (out.Items ?? []).filter((i) => i.DeployId === 'h-2').map((i) => i.DetailType);

    expect(ofH2[0]).toBe('DeployRequested');
    expect(ofH2).toEqual(expect.arrayContaining(['AsgCloned', 'InstancesHealthy', 'TrafficShifted', 'BakeElapsed', 'DeployCompleted']));
    expect(ofH2.at(-1)).toBe('DeployCompleted');
    expect((out.Items ?? []).some((i) => i.DetailType === 'DeployRejected' && i.DeployId === 'h-3')).toBe(true);
    expect((out.Items ?? []).some((i) => i.DetailType === 'CancelRequested')).toBe(true);
  });

  it('rebuilds the emptied history identically from the archive, without re-running anything', async () => {
    // Prepare: what the history and the world look like now; then empty the history.
    const before = await historyItems();
    const world = { service: shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId)), ledger: await serviceItems() };
    const invocations = { ...t.local.runtime.invocations };
    for (let i = 0; i < before.length; i += 25) {
      await db().send(
        new BatchWriteCommand({
          RequestItems: { [t.local.install.tableName]: before.slice(i, i + 25).map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })) },
        }),
      );
    }
    expect(await historyItems()).toEqual([]);

    // Act: replay the whole archive onto the bus.
    const events = new EventBridgeClient({});
    const archive = await events.send(new DescribeArchiveCommand({ ArchiveName: resourceNames().archive }));
    await events.send(
      new StartReplayCommand({
        ReplayName: 'rebuild-history',
        EventSourceArn: archive.ArchiveArn,
        EventStartTime: startedAt,
        EventEndTime: new Date(),
        Destination: { Arn: t.local.install.busArn },
      }),
    );
    const deadline = Date.now() + 60_000;
    while ((await historyItems()).length < before.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1500)); // anything the choreography would do, it would do by now

    // Assess
    expect((await events.send(new DescribeReplayCommand({ ReplayName: 'rebuild-history' }))).State).toBe('COMPLETED');
    expect(await historyItems()).toEqual(before);
    expect({ service: shape(await snapshotService('web', t.account.listenerArn, web.launchTemplateId)), ledger: await serviceItems() }).toEqual(world);
    // No choreography handler ran during the replay: only the projection (and nothing it triggers).
    const ran = Object.entries(t.local.runtime.invocations).filter(([name, n]) => n !== invocations[name]).map(([name]) => name);
    expect(ran).toEqual(['record-history']);
  });
});
