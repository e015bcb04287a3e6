import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installedHandlers, type HandlerSpec } from '../../events/topology';
import type { SqsLambda } from '../../handlers/sqs-handler';
import type { LocalInstallation } from './provision';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RuntimeOptions {
  /** Long-poll wait per receive; short keeps stop() quick. */
  waitTimeSeconds?: number;
  log?: (line: string) => void;
  /**
   * Delivery shim for tests: hand every batch to the handler twice (the second time as SQS would
   * redeliver it after a lost acknowledgement), to prove each handler is idempotent.
   */
  deliverTwice?: boolean;
}

export interface Runtime {
  stop(): Promise<void>;
  /** Invocations per handler so far (for tests and progress output). */
  invocations: Record<string, number>;
}

/**
 * What moto does not do, and only that: an event source mapping per handler queue (receive a
 * batch, invoke the exported Lambda handler with a real SQSEvent, delete what succeeded, leave
 * failures to reappear after the visibility timeout and, after maxReceiveCount, go to the DLQ),
 * and EventBridge Scheduler's clock (fire due one-time schedules onto their bus).
 */
export async function startRuntime(install: LocalInstallation, opts: RuntimeOptions = {}): Promise<Runtime> {
  Object.assign(process.env, install.env);
  const sqs = new SQSClient({});
  let running = true;
  const invocations: Record<string, number> = {};
  const loops: Promise<void>[] = [];
  // Core handlers, plus those of the features provisioned (e.g. `slack`: DEPLOYOMAT_SLACK_CHANNEL set).
  const specs = installedHandlers(install.features);
  // The dead-letters handler rolls back the deploy of a dead letter: only the core's, never a feature's
  // (a notifier that cannot post must not roll back a deploy; its DLQ only waits for an operator).
  const coreDeadLetters = specs.filter((h) => !h.feature && install.deadLetterQueueUrls[h.name]).map((h) => install.deadLetterQueueUrls[h.name]!);
  for (const spec of specs) {
    const mod = (await import(pathToFileURL(REPO_ROOT + spec.entry).href)) as { handler: SqsLambda };
    invocations[spec.name] = 0;
    // An event source mapping per queue the handler reads: its own, or every DLQ.
    const queues = spec.trigger.kind === 'dead-letters' ? coreDeadLetters : [install.queueUrls[spec.name]!];
    for (const url of queues) {
      loops.push(pollQueue(sqs, spec, url, mod.handler, install, () => running, () => invocations[spec.name]!++, opts));
    }
  }
  loops.push(schedulerClock(install, () => running, opts.log));
  return {
    invocations,
    async stop() {
      running = false;
      await Promise.allSettled(loops);
    },
  };
}

async function pollQueue(
  sqs: SQSClient,
  spec: HandlerSpec,
  queueUrl: string,
  handler: SqsLambda,
  install: LocalInstallation,
  running: () => boolean,
  counted: () => void,
  opts: RuntimeOptions,
): Promise<void> {
  const queueArn = `arn:aws:sqs:${install.region}:${install.accountId}:${queueUrl.split('/').pop()}`;
  while (running()) {
    let messages: Message[];
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: spec.queue.batchSize,
          WaitTimeSeconds: opts.waitTimeSeconds ?? 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      messages = out.Messages ?? [];
    } catch (err) {
      if (!running()) return;
      opts.log?.(`[${spec.name}] receive failed: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    if (!messages.length) continue;
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn, install.region)) };
    let failed = new Set<string>(messages.map((m) => m.MessageId!));
    try {
      counted();
      const response = await handler(event, lambdaContext(spec));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      if (opts.deliverTwice) {
        counted();
        const again = await handler(redelivered(event), lambdaContext(spec));
        for (const f of again?.batchItemFailures ?? []) failed.add(f.itemIdentifier);
      }
    } catch (err) {
      // A thrown invocation fails the whole batch, as with Lambda.
      opts.log?.(`[${spec.name}] invocation failed: ${String(err)}`);
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
}

function toRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function redelivered(event: SQSEvent): SQSEvent {
  return {
    Records: event.Records.map((r) => ({
      ...r,
      attributes: { ...r.attributes, ApproximateReceiveCount: String(Number(r.attributes.ApproximateReceiveCount) + 1) },
    })),
  };
}

function lambdaContext(spec: HandlerSpec): Context {
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: spec.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${spec.name}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${spec.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** `at(2026-11-26T18:00:00)` (UTC, as Deployomat creates them). */
function dueTime(expression: string | undefined, timezone: string | undefined): number | undefined {
  const m = expression?.match(/^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/);
  if (!m || (timezone && timezone !== 'UTC')) return undefined;
  return Date.parse(`${m[1]}Z`);
}

/** Scheduler's clock: moto stores schedules but never fires them. Checks once a second. */
async function schedulerClock(install: LocalInstallation, running: () => boolean, log?: (line: string) => void): Promise<void> {
  const scheduler = new SchedulerClient({});
  const events = new EventBridgeClient({});
  while (running()) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const list = await scheduler.send(new ListSchedulesCommand({ GroupName: install.scheduleGroup }));
      for (const summary of list.Schedules ?? []) {
        const s = await scheduler.send(new GetScheduleCommand({ Name: summary.Name, GroupName: install.scheduleGroup }));
        const due = dueTime(s.ScheduleExpression, s.ScheduleExpressionTimezone);
        if (due === undefined || due > Date.now() || s.State === 'DISABLED') continue;
        const target = s.Target!;
        await events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: target.Arn,
                Source: target.EventBridgeParameters?.Source,
                DetailType: target.EventBridgeParameters?.DetailType,
                Detail: target.Input ?? '{}',
              },
            ],
          }),
        );
        log?.(`[scheduler] fired ${s.Name} (${target.EventBridgeParameters?.DetailType})`);
        if (s.ActionAfterCompletion === 'DELETE') {
          await scheduler.send(new DeleteScheduleCommand({ Name: s.Name, GroupName: install.scheduleGroup }));
        }
      }
    } catch (err) {
      if (running()) log?.(`[scheduler] ${String(err)}`);
    }
  }
}
