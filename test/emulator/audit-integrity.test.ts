import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { CLIENT_SOURCE } from '../../events/client';
import { startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * Issue #12, findings 11 and 12, run on the emulator: a deployer dates its request far in the
 * past or the future (PutEvents `Time`) to make its audit record expire at once or never, and
 * sort away from where it happened; a Reason that would rewrite a terminal or reorder a message.
 */
describe('Audit integrity (emulator)', () => {
  let t: TestDeployomat;
  const slug = 'acme-audit';
  const db = () => controlPlaneClients().dynamo;
  const DAY = 86_400;

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
  });
  afterAll(async () => t?.stop());

  /** Publishes as a deployer would, with a `Time` of its choosing. */
  const sendAt = async (time: Date, detailType: string, detail: unknown) => {
    const out = await new EventBridgeClient({}).send(
      new PutEventsCommand({
        Entries: [{ EventBusName: t.local.install.busName, Source: CLIENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), Time: time }],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
  };

  const eventItems = async (deployId: string) => {
    const out = await db().send(
      new QueryCommand({
        TableName: t.local.install.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :event)',
        ExpressionAttributeValues: { ':pk': `${slug}#web`, ':event': 'EVENT#' },
      }),
    );
    return (out.Items ?? []).filter((i) => i.DeployId === deployId);
  };

  it.each([
    ['in 2001 (its record would expire at once)', '2001-01-01T00:00:00Z'],
    ['in 2099 (its record would never expire)', '2099-12-31T23:59:59Z'],
  ])('files a DeployRequested dated %s under the time it was received, and keeps the claimed time', async (_, forged) => {
    // Prepare
    const deployId = `forged-${forged.slice(0, 4)}`;
    const before = Date.now();

    // Act: a request that is rejected (its AMI is no AMI), so nothing else happens.
    await sendAt(new Date(forged), 'DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: '$bogus', DeployId: deployId });
    await t.observer.outcome(deployId, 30_000);
    let items = await eventItems(deployId);
    // The history handler records both events on its own time: wait for the two.
    const recorded = () => ['DeployRequested', 'DeployRejected'].every((type) => items.some((i) => i.DetailType === type));
    for (const deadline = Date.now() + 15_000; !recorded() && Date.now() < deadline; items = await eventItems(deployId)) {
      await new Promise((r) => setTimeout(r, 250));
    }

    // Assess
    const request = items.find((i) => i.DetailType === 'DeployRequested');
    expect(request, 'the request is recorded').toBeDefined();
    const filed = Date.parse(String(request!.Time));
    expect(filed).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(filed).toBeLessThanOrEqual(Date.now());
    expect(String(request!.sk).startsWith(`EVENT#${String(request!.Time)}#`)).toBe(true);
    expect(request!.ExpiresAt).toBe(filed / 1000 + 400 * DAY);
    expect(request!.PublishedTime).toBe(forged);
    // Its rejection (dated by EventBridge) is filed beside it, not decades away.
    const rejection = items.find((i) => i.DetailType === 'DeployRejected');
    expect(Math.abs(Date.parse(String(rejection?.Time)) - filed)).toBeLessThan(60_000);
  });

  it('files a request dated a second ago under its own time (positive control)', async () => {
    const time = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
    await sendAt(time, 'DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: '$bogus', DeployId: 'honest' });
    await t.observer.outcome('honest', 30_000);
    let items = await eventItems('honest');
    for (const deadline = Date.now() + 15_000; !items.some((i) => i.DetailType === 'DeployRequested') && Date.now() < deadline; items = await eventItems('honest')) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const request = items.find((i) => i.DetailType === 'DeployRequested');
    expect(request?.Time).toBe(time.toISOString().replace('.000Z', 'Z'));
    expect(request?.PublishedTime).toBeUndefined();
  });

  it('rejects a CancelRequested whose Reason carries a bidirectional override, saying which character', async () => {
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', Reason: 'rollback approved by \u202eecila' });
    const rejected = await t.observer.waitFor((e) => e.detailType === 'CancelRejected', 30_000);
    expect(rejected.detail.Reasons).toEqual([expect.stringMatching(/^Reason: must be printable text, found U\+202E \(a bidirectional control\) at character 22/)]);
  });
});
