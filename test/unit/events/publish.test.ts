import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_SOURCE, LIFECYCLE_SOURCE, type DomainEvent } from '../../../events/catalog';
import { publish, PublishError } from '../../../events/publish';

const BUS = 'deployomat-bus';
const ref = { DeployId: 'deploy-1', AccountCanonicalSlug: 'acme-prod', ServiceName: 'web' };

const shifted = (seq: number): DomainEvent => ({
  DetailType: 'TrafficShifted',
  Detail: { ...ref, Seq: seq, Step: 1, Steps: 20, Percent: 5, ActualPercent: 5, RuleWeights: [] },
});

const requested: DomainEvent = {
  DetailType: 'DeployRequested',
  Detail: { AccountCanonicalSlug: 'acme-prod', ServiceName: 'web', AmiId: 'ami-12345678' },
};

const sentEntries = (mock: ReturnType<typeof mockClient>) =>
  mock.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

describe('Function: publish', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const client = new EventBridgeClient({ region: 'us-east-1' });

  afterEach(() => {
    eventBridge.reset();
  });

  it('sends each event with the source and detail-type of its catalog entry', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }, { EventId: '2' }] });

    // Act
    await publish(client, BUS, [requested, shifted(1)]);

    // Assess
    expect(sentEntries(eventBridge)).toStrictEqual([
      [
        {
          EventBusName: BUS,
          Source: CLIENT_SOURCE,
          DetailType: 'DeployRequested',
          Detail: expect.any(String),
        },
        {
          EventBusName: BUS,
          Source: LIFECYCLE_SOURCE,
          DetailType: 'TrafficShifted',
          Detail: JSON.stringify({ ...ref, Seq: 1, Step: 1, Steps: 20, Percent: 5, ActualPercent: 5, RuleWeights: [] }),
        },
      ],
    ]);
  });

  it('publishes the parsed detail, with defaults applied', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });

    // Act
    await publish(client, BUS, [requested]);

    // Assess
    const [[entry]] = sentEntries(eventBridge) as [[{ Detail: string }]];
    expect(JSON.parse(entry.Detail)).toMatchObject({
      AmiId: 'ami-12345678',
      DeployConfig: { BakeTime: 60, TrafficShiftPerStep: 5, OnConcurrentDeploy: 'rollback' },
    });
  });

  it.each([
    [1, [1]],
    [10, [10]],
    [11, [10, 1]],
    [25, [10, 10, 5]],
  ])('sends %i events in batches of %j', async (count, batchSizes) => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const events = Array.from({ length: count }, (_, i) => shifted(i));

    // Act
    await publish(client, BUS, events);

    // Assess
    const batches = sentEntries(eventBridge);
    expect(batches.map((batch) => batch.length)).toStrictEqual(batchSizes);
    expect(batches.flat().map((entry) => JSON.parse(entry.Detail ?? '{}').Seq)).toStrictEqual(events.map((_, i) => i));
  });

  it('sends nothing for no events', async () => {
    // Act
    await publish(client, BUS, []);

    // Assess
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('throws on an invalid detail before sending any batch', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const invalid = { DetailType: 'TrafficShifted', Detail: { ...ref, Seq: 12, Step: 1, Steps: 20, Percent: 101 } } as DomainEvent;
    const events = [...Array.from({ length: 12 }, (_, i) => shifted(i)), invalid];

    // Act & Assess
    await expect(publish(client, BUS, events)).rejects.toThrow(/Percent/);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('throws a PublishError with the failure codes when entries are rejected', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 2,
      Entries: [
        { EventId: 'ok' },
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
      ],
    });

    // Act
    const error = await publish(client, BUS, [requested, shifted(1), shifted(2)]).catch((err: unknown) => err);

    // Assess
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({
      name: 'PublishError',
      message: `EventBridge rejected 2 event(s) on bus ${BUS}`,
      failures: [
        { detailType: 'TrafficShifted', code: 'ThrottlingException', message: 'slow down' },
        { detailType: 'TrafficShifted', code: 'InternalFailure', message: 'oops' },
      ],
    });
    expect((error as PublishError).failures).toHaveLength(2);
  });

  it('stops at the first batch with failures', async () => {
    // Prepare
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'oops' }] })
      .resolves({ FailedEntryCount: 0 });

    // Act & Assess
    await expect(publish(client, BUS, Array.from({ length: 15 }, (_, i) => shifted(i)))).rejects.toBeInstanceOf(PublishError);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('propagates an error from the client', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).rejects(new Error('network down'));

    // Act & Assess
    await expect(publish(client, BUS, [shifted(1)])).rejects.toThrow('network down');
  });
});
