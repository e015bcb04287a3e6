import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { EventEnvelope } from '../events/envelope';
import { AccountSlug, DeployId, ServiceName } from '../events/names';
import { expiresAt } from './ledger';

/**
 * The audit history: every event on the bus, stored under its service in the ledger table as
 * `EVENT#<time>#<seq>#<content hash>` (EventBridge times have one-second precision; the deploy's
 * ledger position orders a deploy's events within a second, its request coming first). The key is made of what an archive replay preserves (the
 * event's time and content — a replay gets a new event id), so replaying the archive over an
 * emptied history writes exactly the same items, and a duplicate delivery overwrites its twin.
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
 * The audit item of any event, whatever its detail holds: the detail is kept as JSON text (a
 * hostile request may carry numbers, keys or nesting DynamoDB cannot store as a map), clipped,
 * and only valid names go into the key — so recording never fails and never dead-letters.
 */
export function historyItem(envelope: EventEnvelope) {
  const d = (typeof envelope.detail === 'object' && envelope.detail ? envelope.detail : {}) as Record<string, unknown>;
  const slug = AccountSlug.safeParse(d.AccountCanonicalSlug).success ? (d.AccountCanonicalSlug as string) : undefined;
  const service = ServiceName.safeParse(d.ServiceName).success ? (d.ServiceName as string) : undefined;
  const id = typeof d.DeployId === 'string' ? d.DeployId : typeof d.UndeployId === 'string' ? d.UndeployId : undefined;
  const json = JSON.stringify(envelope.detail) ?? 'null';
  const content = canonical({ source: envelope.source, detailType: envelope['detail-type'], detail: envelope.detail });
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 16);
  return {
    // Events that name no service (a request too malformed to say) are kept together.
    pk: slug && service ? `${slug}#${service}` : 'AUDIT#unattributed',
    sk: `EVENT#${envelope.time.slice(0, 40)}#${String(Number.isSafeInteger(d.Seq) && (d.Seq as number) >= 0 ? d.Seq : 0).padStart(6, '0')}#${hash}`,
    Time: envelope.time,
    Source: envelope.source,
    DetailType: envelope['detail-type'],
    Detail: json.length > MAX_DETAIL_CHARS ? `${json.slice(0, MAX_DETAIL_CHARS)}…(clipped)` : json,
    DeployId: id && DeployId.safeParse(id).success ? id : undefined,
    ExpiresAt: expiresAt(envelope.time),
  };
}

export async function recordEvent(db: DynamoDBDocumentClient, table: string, envelope: EventEnvelope): Promise<void> {
  await db.send(new PutCommand({ TableName: table, Item: historyItem(envelope) }));
}
