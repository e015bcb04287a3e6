import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { EventEnvelope } from '../events/envelope';
import { AccountSlug, DeployId, ServiceName } from '../events/names';
import { expiresAt, HISTORY_RETENTION_DAYS } from './ledger';

/**
 * The audit history: every event on the bus, stored under its service in the ledger table as
 * `EVENT#<time>#<seq>#<content hash>` (EventBridge times have one-second precision; the deploy's
 * ledger position orders a deploy's events within a second, its request coming first). The key is
 * made of what an archive replay preserves (the event's time and content — a replay gets a new
 * event id), so replaying the archive over an emptied history writes exactly the same items, and a
 * duplicate delivery overwrites its twin.
 *
 * The time is the event's own only when it is plausible: a publisher chooses it (PutEvents `Time`),
 * and it sets the item's expiry and place. Otherwise the event is filed under the time its queue
 * received it (SQS `SentTimestamp`, set by SQS) and the claimed time is kept as `PublishedTime`.
 */

/** Key-sorted JSON, so equal content always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An audit item holds at most this much of an event's detail (DynamoDB items are limited to 400 KB). */
export const MAX_DETAIL_CHARS = 100_000;

/**
 * How far a live event's time may be from its receipt: EventBridge delivers to SQS within seconds
 * and stamps events itself unless the publisher gives a time; five minutes covers clocks and retries.
 */
export const MAX_TIME_SKEW_SECONDS = 300;

/** EventBridge's own format: ISO 8601 to the second (`…T20:00:07Z`), so filed times sort as one. */
const toSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The time an event is filed under, and the time it claimed if that was not plausible. A live
 * event must be within the skew of its receipt; a replay re-delivers old events, so its time may
 * be as old as the history keeps items, never later than its receipt.
 */
export function filedTime(envelope: EventEnvelope, receivedAt: Date): { time: string; published?: string } {
  const claimed = Date.parse(envelope.time);
  const received = Math.floor(receivedAt.getTime() / 1000) * 1000; // to the second, as event times are
  const oldest = received - (envelope['replay-name'] !== undefined ? HISTORY_RETENTION_DAYS * 86_400 : MAX_TIME_SKEW_SECONDS) * 1000;
  if (claimed >= oldest && claimed <= received + MAX_TIME_SKEW_SECONDS * 1000) return { time: toSecond(claimed) };
  return { time: toSecond(received), published: envelope.time.slice(0, 40) };
}

/**
 * The audit item of any event, whatever its detail holds: the detail is kept as JSON text (a
 * hostile request may carry numbers, keys or nesting DynamoDB cannot store as a map), clipped,
 * and only valid names go into the key — so recording never fails and never dead-letters.
 * `receivedAt`: when its queue received it (see {@link filedTime}).
 */
export function historyItem(envelope: EventEnvelope, receivedAt: Date) {
  const d = (typeof envelope.detail === 'object' && envelope.detail ? envelope.detail : {}) as Record<string, unknown>;
  const slug = AccountSlug.safeParse(d.AccountCanonicalSlug).success ? (d.AccountCanonicalSlug as string) : undefined;
  const service = ServiceName.safeParse(d.ServiceName).success ? (d.ServiceName as string) : undefined;
  const id = typeof d.DeployId === 'string' ? d.DeployId : typeof d.UndeployId === 'string' ? d.UndeployId : undefined;
  const json = JSON.stringify(envelope.detail) ?? 'null';
  const content = canonical({ source: envelope.source, detailType: envelope['detail-type'], detail: envelope.detail });
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 16);
  const { time, published } = filedTime(envelope, receivedAt);
  return {
    // Events that name no service (a request too malformed to say) are kept together.
    pk: slug && service ? `${slug}#${service}` : 'AUDIT#unattributed',
    sk: `EVENT#${time}#${String(Number.isSafeInteger(d.Seq) && (d.Seq as number) >= 0 ? d.Seq : 0).padStart(6, '0')}#${hash}`,
    Time: time,
    PublishedTime: published,
    Source: envelope.source,
    DetailType: envelope['detail-type'],
    Detail: json.length > MAX_DETAIL_CHARS ? `${json.slice(0, MAX_DETAIL_CHARS)}…(clipped)` : json,
    DeployId: id && DeployId.safeParse(id).success ? id : undefined,
    ExpiresAt: expiresAt(time),
  };
}

export async function recordEvent(db: DynamoDBDocumentClient, table: string, envelope: EventEnvelope, receivedAt: Date): Promise<void> {
  await db.send(new PutCommand({ TableName: table, Item: historyItem(envelope, receivedAt) }));
}
