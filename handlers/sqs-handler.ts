import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { catalog, type Detail, type DetailType } from '../events/catalog';
import { EventEnvelope } from '../events/envelope';
import type { StepContext } from '../domain/advance';
import { controlPlaneClients } from '../domain/aws/clients';
import { loadConfig } from '../domain/config';
import { Ledger } from '../domain/ledger';

/**
 * The shared shape of every Deployomat Lambda: an SQS batch (fed by an EventBridge rule or the
 * timer queue) processed record by record with partial batch failures, so one bad message is
 * retried (and eventually dead-lettered) without holding back the others. Each record gets a
 * logger carrying its deploy id, account and service on every line.
 */
export const logger = new Logger({ serviceName: 'deployomat' });

export type SqsLambda = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

type RecordHandler = (record: SQSRecord, log: Logger) => Promise<void>;

export function sqsHandler(name: string, handle: RecordHandler): SqsLambda {
  const processor = new BatchProcessor(EventType.SQS);
  const processRecord = async (record: SQSRecord) => {
    const log = logger.createChild();
    log.appendKeys({ handler: name, messageId: record.messageId });
    try {
      await handle(record, log);
    } catch (err) {
      const retryIn = await retryLater(record);
      log.error('Handling failed; the message will be retried', { error: err as Error, retryInSeconds: retryIn });
      throw err;
    }
  };
  return middy<SQSEvent, SQSBatchResponse, Error, Context>().handler((event, context) =>
    processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false }),
  );
}

export const MAX_VISIBILITY_SECONDS = 900;
const queueUrls = new Map<string, string>();

/**
 * Exponential backoff for a failed record: instead of waiting out the whole visibility timeout,
 * it becomes visible again after base × 2^(attempt−1) s, so a transient AWS error costs a deploy
 * seconds, and a message that keeps failing reaches its DLQ (and the rollback) in under a minute.
 */
async function retryLater(record: SQSRecord): Promise<number | undefined> {
  try {
    const [, , , , account, name] = record.eventSourceARN.split(":");
    const key = record.eventSourceARN;
    const sqs = controlPlaneClients().sqs;
    let url = queueUrls.get(key);
    if (!url) {
      url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))).QueueUrl!;
      queueUrls.set(key, url);
    }
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    const seconds = Math.min(loadConfig().retryBaseSeconds * 2 ** (attempt - 1), MAX_VISIBILITY_SECONDS);
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }));
    return seconds;
  } catch {
    return undefined; // best effort: the visibility timeout still brings it back
  }
}

export function stepContext(log: Logger, eventId: string): StepContext {
  const cfg = loadConfig();
  const cp = controlPlaneClients();
  return { cfg, cp, ledger: new Ledger(cp.dynamo, cfg.tableName), log, eventId };
}

/** How a record reached its queue, as SQS (not the publisher) tells it. */
export interface Receipt {
  /** When the queue received the message (`SentTimestamp`): the same on every redelivery. */
  receivedAt: Date;
}

/** Parses the EventBridge envelope of each record. A body that is not one is dropped, not retried. */
export function envelopeHandler(
  name: string,
  handle: (envelope: EventEnvelope, ctx: StepContext, receipt: Receipt) => Promise<void>,
): SqsLambda {
  return sqsHandler(name, async (record, log) => {
    const envelope = parseEnvelope(record, log);
    if (!envelope) return;
    log.appendKeys({ eventId: envelope.id, detailType: envelope['detail-type'] });
    const sent = Number(record.attributes.SentTimestamp);
    await handle(envelope, stepContext(log, envelope.id), { receivedAt: new Date(Number.isFinite(sent) && sent > 0 ? sent : Date.now()) });
  });
}

/**
 * For consumers of Deployomat's own events: the detail is validated against the catalog. A detail
 * that does not match (forged or from an incompatible version) is logged and dropped.
 */
export function lifecycleHandler<T extends DetailType>(
  name: string,
  types: readonly T[],
  handle: (type: T, detail: Detail<T>, ctx: StepContext) => Promise<void>,
): SqsLambda {
  return envelopeHandler(name, async (envelope, ctx) => {
    const type = envelope['detail-type'] as T;
    if (!types.includes(type)) {
      ctx.log.error('Dropping event of a type this handler does not consume', { type });
      return;
    }
    const parsed = catalog[type].schema.safeParse(envelope.detail);
    if (!parsed.success) {
      ctx.log.error('Dropping event whose detail does not match its schema', { issues: parsed.error.issues });
      return;
    }
    const detail = parsed.data as Detail<T>;
    const d = detail as { DeployId?: string; AccountCanonicalSlug?: string; ServiceName?: string };
    ctx.log.appendKeys({ deployId: d.DeployId, account: d.AccountCanonicalSlug, serviceName: d.ServiceName });
    await handle(type, detail, ctx);
  });
}

function parseEnvelope(record: SQSRecord, log: Logger): EventEnvelope | undefined {
  try {
    return EventEnvelope.parse(JSON.parse(record.body));
  } catch (err) {
    log.error('Dropping a message that is not an EventBridge event', { error: String(err), body: record.body.slice(0, 500) });
    return undefined;
  }
}

