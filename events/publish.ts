import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { catalog, type DomainEvent } from './catalog';

export class PublishError extends Error {
  override name = 'PublishError';
  constructor(
    message: string,
    readonly failures: { detailType: string; code?: string; message?: string }[],
  ) {
    super(message);
  }
}

/** PutEvents accepts at most 10 entries per call. */
const MAX_ENTRIES = 10;

/**
 * Validates each event against its schema (a bad event is our bug: fail loudly before it reaches
 * subscribers) and publishes it on the bus with the source the catalog assigns to its type.
 */
export async function publish(client: EventBridgeClient, busName: string, events: DomainEvent[]): Promise<void> {
  const entries: PutEventsRequestEntry[] = events.map((event) => {
    const { source, schema } = catalog[event.DetailType];
    const detail = schema.parse(event.Detail);
    return { EventBusName: busName, Source: source, DetailType: event.DetailType, Detail: JSON.stringify(detail) };
  });
  for (let i = 0; i < entries.length; i += MAX_ENTRIES) {
    const batch = entries.slice(i, i + MAX_ENTRIES);
    const out = await client.send(new PutEventsCommand({ Entries: batch }));
    if (out.FailedEntryCount) {
      const failures = (out.Entries ?? [])
        .map((e, j) => ({ detailType: batch[j]?.DetailType ?? '?', code: e.ErrorCode, message: e.ErrorMessage }))
        .filter((f) => f.code);
      throw new PublishError(`EventBridge rejected ${out.FailedEntryCount} event(s) on bus ${busName}`, failures);
    }
  }
}
